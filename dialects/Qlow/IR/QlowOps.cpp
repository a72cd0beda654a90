//===- QlowOps.cpp - qlow operations: verifiers and folders ---------------===//
//
// Verifiers say what is wrong and what would be right; folders and
// canonicalizations are the ones that are exact for every input.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/IR/QlowOps.h"
#include "dialects/Qlow/IR/QuantTypeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::quant;

//===----------------------------------------------------------------------===//
// Shared verification helpers
//===----------------------------------------------------------------------===//

/// Prints a shape as [2, 3, ?].
static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      out += ", ";
    out += ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
  }
  return out + "]";
}

static RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Re-verifies every quantized element type among the operands and results:
/// types built in C++ with the unchecked `get` never met upstream's checks.
static LogicalResult verifyQuantizedTypes(Operation *op) {
  auto emitError = [op]() { return op->emitOpError(); };
  for (auto [i, operand] : llvm::enumerate(op->getOperands()))
    if (auto tensor = dyn_cast<RankedTensorType>(operand.getType()))
      if (failed(verifyQuantizedTensorType(
              emitError, tensor, llvm::formatv("operand #{0}", i).str())))
        return failure();
  for (Value result : op->getResults())
    if (failed(verifyQuantizedTensorType(emitError, tensorTypeOf(result),
                                         "result")))
      return failure();
  return success();
}

/// Requires `type` to be a tensor of f32 or of a quantized type.
static LogicalResult verifyFloatOrQuant(Operation *op, Type type,
                                        StringRef what) {
  if (isF32Tensor(type) || isQuantTensor(type))
    return success();
  return op->emitOpError() << what
                           << " must be a tensor of f32 or of a quantized "
                              "type, but has type "
                           << type;
}

/// Requires two shapes to agree (dynamic sizes agree with anything).
static LogicalResult verifySameShape(Operation *op, Type a, Type b,
                                     StringRef whatA, StringRef whatB) {
  auto sa = cast<ShapedType>(a).getShape(), sb = cast<ShapedType>(b).getShape();
  if (succeeded(verifyCompatibleShape(sa, sb)))
    return success();
  return op->emitOpError() << whatB << " shape " << formatShape(sb)
                           << " must equal the " << whatA << " shape "
                           << formatShape(sa);
}

/// Verifies an op whose input and result are f32 or quantized tensors of the
/// same shape (the float-semantics ops).
static LogicalResult verifyUnaryFloatSemantics(Operation *op) {
  if (failed(verifyQuantizedTypes(op)))
    return failure();
  Type in = op->getOperand(0).getType(), out = op->getResult(0).getType();
  if (failed(verifyFloatOrQuant(op, in, "input")) ||
      failed(verifyFloatOrQuant(op, out, "result")))
    return failure();
  return verifySameShape(op, in, out, "input", "result");
}

/// Requires `value` to be an f32 tensor of shape [size] (gamma, beta).
static LogicalResult verifyVectorParam(Operation *op, Value value,
                                       StringRef what, int64_t size) {
  auto type = tensorTypeOf(value);
  if (!type.getElementType().isF32() || type.getRank() != 1)
    return op->emitOpError()
           << what << " must be a 1-D tensor of f32, but has type " << type;
  if (!ShapedType::isDynamic(size) && !type.isDynamicDim(0) &&
      type.getDimSize(0) != size)
    return op->emitOpError() << what << " has " << type.getDimSize(0)
                             << " elements, but the normalized (last) "
                                "dimension has size "
                             << size;
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  if (failed(verifyQuantizedTypes(*this)))
    return failure();
  if (!isF32Tensor(getInput().getType()))
    return emitOpError() << "input must be a tensor of f32, but has type "
                         << getInput().getType();
  if (!isQuantTensor(getOutput().getType()))
    return emitOpError()
           << "result must be a tensor of a quantized type such as "
              "!quant.uniform<i8:f32, 0.1>, but has type "
           << getOutput().getType();
  return verifySameShape(*this, getInput().getType(), getOutput().getType(),
                         "input", "result");
}

/// quantize(dequantize(q)) with the parameters of q is q: dequantize is exact
/// and x / s rounds back to the same integer.
OpFoldResult QuantizeOp::fold(FoldAdaptor) {
  if (auto dequantize = getInput().getDefiningOp<DequantizeOp>())
    if (dequantize.getInput().getType() == getOutput().getType())
      return dequantize.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  if (failed(verifyQuantizedTypes(*this)))
    return failure();
  if (!isQuantTensor(getInput().getType()))
    return emitOpError() << "input must be a tensor of a quantized type, but "
                            "has type "
                         << getInput().getType();
  if (!isF32Tensor(getOutput().getType()))
    return emitOpError() << "result must be a tensor of f32 (the expressed "
                            "type), but has type "
                         << getOutput().getType();
  return verifySameShape(*this, getInput().getType(), getOutput().getType(),
                         "input", "result");
}

namespace {
/// Rewrites dequantize(quantize(x)) into fake_quant(x): same values, and the
/// QAT form that later passes recognize.
struct DequantizeOfQuantizeToFakeQuant : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto quantize = op.getInput().getDefiningOp<QuantizeOp>();
    if (!quantize || quantize.getInput().getType() != op.getType())
      return failure();
    Type quantType = getElementTypeOrSelf(quantize.getOutput().getType());
    rewriter.replaceOpWithNewOp<FakeQuantOp>(
        op, op.getType(), quantize.getInput(), TypeAttr::get(quantType));
    return success();
  }
};
} // namespace

void DequantizeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<DequantizeOfQuantizeToFakeQuant>(context);
}

//===----------------------------------------------------------------------===//
// RequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult RequantizeOp::verify() {
  if (failed(verifyQuantizedTypes(*this)))
    return failure();
  if (!isQuantTensor(getInput().getType()))
    return emitOpError() << "input must be a tensor of a quantized type, but "
                            "has type "
                         << getInput().getType();
  if (!isQuantTensor(getOutput().getType()))
    return emitOpError() << "result must be a tensor of a quantized type, but "
                            "has type "
                         << getOutput().getType()
                         << "; use qlow.dequantize to convert to f32";
  return verifySameShape(*this, getInput().getType(), getOutput().getType(),
                         "input", "result");
}

/// Requantizing to identical parameters is the identity (M = 1 exactly).
OpFoldResult RequantizeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// FakeQuantOp
//===----------------------------------------------------------------------===//

LogicalResult FakeQuantOp::verify() {
  if (failed(verifyQuantizedTypes(*this)))
    return failure();
  auto inputType = tensorTypeOf(getInput());
  if (!inputType.getElementType().isF32())
    return emitOpError() << "input must be a tensor of f32, but has type "
                         << inputType;
  Type quantType = getQuantType();
  if (!getUniformQuantizedElementType(quantType))
    return emitOpError() << "quant_type must be a uniform quantized type such "
                            "as !quant.uniform<i8:f32, 0.1>, but is "
                         << quantType;
  return verifyQuantizedTensorType(
      [this]() { return emitOpError(); },
      RankedTensorType::get(inputType.getShape(), quantType), "quant_type");
}

/// fake_quant is idempotent: the first one's outputs lie on the grid already.
OpFoldResult FakeQuantOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<FakeQuantOp>())
    if (inner.getQuantType() == getQuantType())
      return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// ObserveOp
//===----------------------------------------------------------------------===//

LogicalResult ObserveOp::verify() {
  if (!isF32Tensor(getInput().getType()))
    return emitOpError() << "input must be a tensor of f32 (probes observe "
                            "float graphs before quantization), but has type "
                         << getInput().getType();
  if (getName().empty())
    return emitOpError() << "name must not be empty: it keys the recorded "
                            "range";
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

/// Checks the bias of an integer matmul: i32 in units of s_lhs * s_rhs[n].
static LogicalResult verifyIntegerBias(MatmulOp op, RankedTensorType biasType,
                                       QuantizedType lhsQ, QuantizedType rhsQ) {
  Type element = biasType.getElementType();
  if (element.isSignlessInteger(32))
    return success();
  auto biasQ = getUniformQuantizedElementType(element);
  if (!biasQ || biasQ.getStorageTypeIntegralWidth() != 32)
    return op.emitOpError()
           << "bias of an integer matmul must be i32 or a quantized type with "
              "i32 storage (scale s_lhs * s_rhs, zero point 0), but has type "
           << biasType;
  auto lhsScale = getPerTensorScale(lhsQ);
  if (!lhsScale)
    return success(); // Per-row lhs scales: the bias scale varies by row.
  SmallVector<double> expected;
  if (auto s = getPerTensorScale(rhsQ))
    expected.push_back(*lhsScale * *s);
  else if (auto perAxis = dyn_cast<UniformQuantizedPerAxisType>(rhsQ))
    for (double s : perAxis.getScales())
      expected.push_back(*lhsScale * s);
  SmallVector<double> actual;
  SmallVector<int64_t> zeroPoints;
  if (auto t = dyn_cast<UniformQuantizedType>(biasQ)) {
    actual.assign(expected.size(), t.getScale());
    zeroPoints.push_back(t.getZeroPoint());
  } else if (auto t = dyn_cast<UniformQuantizedPerAxisType>(biasQ)) {
    actual.assign(t.getScales().begin(), t.getScales().end());
    zeroPoints.assign(t.getZeroPoints().begin(), t.getZeroPoints().end());
  }
  if (llvm::any_of(zeroPoints, [](int64_t z) { return z != 0; }))
    return op.emitOpError()
           << "bias must have zero point 0, but has type " << biasType;
  // A per-tensor rhs has one expected scale for every channel of the bias.
  if (expected.size() == 1 && actual.size() > 1)
    expected.assign(actual.size(), expected.front());
  // Blocked rhs or sub-channel bias: there is no one scale per column.
  if (actual.size() != expected.size())
    return success();
  for (auto [i, pair] : llvm::enumerate(llvm::zip(actual, expected))) {
    auto [a, e] = pair;
    if (std::fabs(a - e) > 1e-6 * std::fabs(e))
      return op.emitOpError() << "bias scale " << a << " (channel " << i
                              << ") must equal s_lhs * s_rhs = " << e
                              << " so that it adds to the i32 accumulator";
  }
  return success();
}

/// Checks the quantization of an integer matmul's rhs: per tensor, per output
/// channel, or in blocks along K and N. Returns whether it is blocked.
static std::pair<bool, LogicalResult>
verifyIntegerRhs(MatmulOp op, QuantizedType rhsQ, int64_t rhsRank) {
  if (auto sub = dyn_cast<UniformQuantizedSubChannelType>(rhsQ)) {
    for (auto [dim, size] : sub.getBlockSizeInfo())
      if (dim != rhsRank - 2 && dim != rhsRank - 1)
        return {true, op.emitOpError()
                          << "rhs may be blocked only along K (axis "
                          << rhsRank - 2 << ") and N (axis " << rhsRank - 1
                          << "), but is blocked along axis " << dim};
    return {true, success()};
  }
  if (!isa<UniformQuantizedType>(rhsQ) && !isPerAxisOn(rhsQ, rhsRank - 1))
    return {false, op.emitOpError()
                       << "rhs must be quantized per tensor, per output "
                          "channel (axis "
                       << rhsRank - 1 << ") or in blocks, but has type "
                       << op.getRhs().getType()};
  return {false, success()};
}

LogicalResult MatmulOp::verify() {
  if (failed(verifyQuantizedTypes(*this)))
    return failure();
  auto lhsType = tensorTypeOf(getLhs()), rhsType = tensorTypeOf(getRhs());
  auto outType = tensorTypeOf(getOutput());
  int64_t lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
  if (lhsRank < 2)
    return emitOpError() << "lhs must have rank >= 2 ([..., M, K]), but has "
                            "rank "
                         << lhsRank;
  if (rhsRank != 2 && rhsRank != lhsRank)
    return emitOpError() << "rhs must have rank 2 ([K, N]) or the rank of lhs ("
                         << lhsRank << "), but has rank " << rhsRank;
  ArrayRef<int64_t> ls = lhsType.getShape(), rs = rhsType.getShape();
  int64_t m = ls[lhsRank - 2], k = ls[lhsRank - 1];
  int64_t rk = rs[rhsRank - 2], n = rs[rhsRank - 1];
  if (failed(verifyCompatibleShape({k}, {rk})))
    return emitOpError() << "contraction sizes differ: lhs has K = " << k
                         << " but rhs has K = " << rk;
  if (rhsRank == lhsRank &&
      failed(verifyCompatibleShape(ls.drop_back(2), rs.drop_back(2))))
    return emitOpError() << "batch dimensions differ: lhs "
                         << formatShape(ls.drop_back(2)) << " vs rhs "
                         << formatShape(rs.drop_back(2));
  SmallVector<int64_t> expected(ls.drop_back(2));
  expected.append({m, n});
  if (failed(verifyCompatibleShape(outType.getShape(), expected)))
    return emitOpError() << "result shape " << formatShape(outType.getShape())
                         << " must be " << formatShape(expected)
                         << " ([..., M, N])";

  QuantizedType lhsQ = getUniformQuantizedElementType(lhsType);
  QuantizedType rhsQ = getUniformQuantizedElementType(rhsType);
  Type outElement = outType.getElementType();
  RankedTensorType biasType =
      getBias() ? tensorTypeOf(getBias()) : RankedTensorType();
  if (biasType && (biasType.getRank() != 1 ||
                   failed(verifyCompatibleShape(biasType.getShape(), {n}))))
    return emitOpError() << "bias must have shape [" << n
                         << "] (one value per output column), but has type "
                         << biasType;

  // Dynamic path: f32 lhs quantized at run time, then the integer path with
  // an f32 result.
  if (getDynamic()) {
    if (!lhsType.getElementType().isF32())
      return emitOpError() << "lhs of a matmul with dynamic quantization must "
                              "be f32 (it is quantized at run time), but has "
                              "type "
                           << lhsType;
    if (!rhsQ)
      return emitOpError() << "rhs of a matmul with dynamic quantization must "
                              "be quantized, but has type "
                           << rhsType;
    if (!outElement.isF32())
      return emitOpError() << "result of a matmul with dynamic quantization "
                              "must be f32, but has type "
                           << outType;
    if (biasType && !biasType.getElementType().isF32())
      return emitOpError() << "bias of a matmul with dynamic quantization must "
                              "be f32 (the lhs scale is known only at run "
                              "time), but has type "
                           << biasType;
    return verifyIntegerRhs(*this, rhsQ, rhsRank).second;
  }

  // Float path: f32 lhs, f32 or weight-only quantized rhs.
  if (lhsType.getElementType().isF32()) {
    if (!rhsType.getElementType().isF32() && !rhsQ)
      return emitOpError() << "rhs of a float matmul must be f32 or quantized "
                              "(weight-only), but has type "
                           << rhsType;
    if (!outElement.isF32())
      return emitOpError() << "result of a matmul with f32 lhs must be f32, "
                              "but has type "
                           << outType;
    if (biasType && !biasType.getElementType().isF32())
      return emitOpError() << "bias of a float matmul must be f32, but has "
                              "type "
                           << biasType;
    return success();
  }

  // Integer path.
  if (!lhsQ)
    return emitOpError() << "lhs must be a tensor of f32 or of a quantized "
                            "type, but has type "
                         << lhsType;
  if (!rhsQ)
    return emitOpError() << "rhs must be quantized when lhs is quantized "
                            "(dequantize lhs for a float matmul), but has type "
                         << rhsType;
  if (!isa<UniformQuantizedType>(lhsQ) && !isPerAxisOn(lhsQ, lhsRank - 2))
    return emitOpError() << "lhs must be quantized per tensor or per row (axis "
                         << lhsRank - 2 << "), but has type " << lhsType;
  auto [rhsBlocked, rhsValid] = verifyIntegerRhs(*this, rhsQ, rhsRank);
  if (failed(rhsValid))
    return failure();
  if (auto outQ = getUniformQuantizedElementType(outType)) {
    if (rhsBlocked)
      return emitOpError() << "result of a matmul with blocked (sub-channel) "
                              "rhs must be f32: group scales differ along K";
    if (!isa<UniformQuantizedType>(outQ) && !isPerAxisOn(outQ, lhsRank - 1))
      return emitOpError() << "quantized result must be per tensor or per "
                              "output channel (axis "
                           << lhsRank - 1 << "), but has type " << outType;
  } else if (outElement.isSignlessInteger(32)) {
    if (rhsBlocked)
      return emitOpError() << "result of a matmul with blocked (sub-channel) "
                              "rhs must be f32: group scales differ along K";
  } else if (!outElement.isF32()) {
    return emitOpError() << "result must be i32 (accumulators), f32 or a "
                            "quantized type, but has type "
                         << outType;
  }
  if (biasType)
    return verifyIntegerBias(*this, biasType, lhsQ, rhsQ);
  return success();
}

//===----------------------------------------------------------------------===//
// AddOp, MulOp
//===----------------------------------------------------------------------===//

/// Verifies a broadcasting binary op: operands and result all f32, all the
/// same integer type, or all quantized per tensor.
static LogicalResult verifyBinaryElementwise(Operation *op) {
  if (failed(verifyQuantizedTypes(op)))
    return failure();
  auto lhs = tensorTypeOf(op->getOperand(0)),
       rhs = tensorTypeOf(op->getOperand(1));
  auto out = tensorTypeOf(op->getResult(0));
  auto shape = broadcastShapes(lhs.getShape(), rhs.getShape());
  if (failed(shape))
    return op->emitOpError()
           << "operand shapes " << formatShape(lhs.getShape()) << " and "
           << formatShape(rhs.getShape()) << " do not broadcast";
  if (failed(verifyCompatibleShape(out.getShape(), *shape)))
    return op->emitOpError()
           << "result shape " << formatShape(out.getShape())
           << " must be the broadcast shape " << formatShape(*shape);
  bool allFloat = isF32Tensor(lhs) && isF32Tensor(rhs) && isF32Tensor(out);
  bool allInt = isIntTensor(lhs) &&
                lhs.getElementType() == rhs.getElementType() &&
                lhs.getElementType() == out.getElementType();
  bool allQuant =
      isQuantTensor(lhs) && isQuantTensor(rhs) && isQuantTensor(out);
  if (!allFloat && !allInt && !allQuant)
    return op->emitOpError()
           << "operands and result must be all f32, all the same integer type "
              "or all quantized, but are "
           << lhs.getElementType() << ", " << rhs.getElementType() << " -> "
           << out.getElementType();
  if (allQuant)
    for (auto [what, type] : {std::pair<StringRef, Type>{"lhs", lhs},
                              {"rhs", rhs},
                              {"result", out}})
      if (!getPerTensorScale(getElementTypeOrSelf(type)))
        return op->emitOpError() << what << " must be quantized per tensor, "
                                 << "but has type " << type;
  return success();
}

LogicalResult AddOp::verify() { return verifyBinaryElementwise(*this); }
LogicalResult MulOp::verify() { return verifyBinaryElementwise(*this); }

//===----------------------------------------------------------------------===//
// Float-semantics ops
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::verify() {
  if (failed(verifyUnaryFloatSemantics(*this)))
    return failure();
  int64_t rank = tensorTypeOf(getInput()).getRank();
  // Without this, a scalar would be told to use an axis in [0, -1].
  if (rank == 0)
    return emitOpError() << "input must have rank >= 1: softmax normalizes "
                            "along an axis";
  int64_t axis = getAxis();
  if (axis < -rank || axis >= rank)
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << rank << ": use a value in [" << -rank << ", "
                         << rank - 1 << "]";
  return success();
}

/// Shared checks of layer_norm and rms_norm.
static LogicalResult verifyNormalization(Operation *op, Value gamma, Value beta,
                                         float epsilon) {
  if (failed(verifyUnaryFloatSemantics(op)))
    return failure();
  auto inputType = tensorTypeOf(op->getOperand(0));
  if (inputType.getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  int64_t d = inputType.getShape().back();
  if (failed(verifyVectorParam(op, gamma, "gamma", d)))
    return failure();
  if (beta && failed(verifyVectorParam(op, beta, "beta", d)))
    return failure();
  if (!std::isfinite(epsilon) || epsilon < 0.0f)
    return op->emitOpError()
           << "epsilon must be finite and >= 0, but is " << epsilon;
  return success();
}

LogicalResult LayerNormOp::verify() {
  return verifyNormalization(*this, getGamma(), getBeta(),
                             getEpsilon().convertToFloat());
}

LogicalResult RmsNormOp::verify() {
  return verifyNormalization(*this, getGamma(), Value(),
                             getEpsilon().convertToFloat());
}

LogicalResult GeluOp::verify() { return verifyUnaryFloatSemantics(*this); }
LogicalResult SiluOp::verify() { return verifyUnaryFloatSemantics(*this); }

LogicalResult AttentionOp::verify() {
  if (failed(verifyQuantizedTypes(*this)))
    return failure();
  for (auto [what, value] : {std::pair<StringRef, Value>{"q", getQ()},
                             {"k", getK()},
                             {"v", getV()}}) {
    if (failed(verifyFloatOrQuant(*this, value.getType(), what)))
      return failure();
    if (tensorTypeOf(value).getRank() != 4)
      return emitOpError() << what << " must have rank 4 ([B, heads, seq, "
                           << "head_dim]), but has type " << value.getType();
  }
  if (failed(verifyFloatOrQuant(*this, getOutput().getType(), "result")))
    return failure();
  ArrayRef<int64_t> q = tensorTypeOf(getQ()).getShape();
  ArrayRef<int64_t> k = tensorTypeOf(getK()).getShape();
  ArrayRef<int64_t> v = tensorTypeOf(getV()).getShape();
  if (failed(verifyCompatibleShape({q[0], q[3]}, {k[0], k[3]})))
    return emitOpError() << "k shape " << formatShape(k)
                         << " must match q shape " << formatShape(q)
                         << " in batch and head_dim";
  if (failed(verifyCompatibleShape({k[0], k[1], k[2]}, {v[0], v[1], v[2]})))
    return emitOpError() << "v shape " << formatShape(v)
                         << " must match k shape " << formatShape(k)
                         << " in batch, heads and sequence length";
  if (!ShapedType::isDynamic(q[1]) && !ShapedType::isDynamic(k[1]) &&
      (k[1] == 0 || q[1] % k[1] != 0))
    return emitOpError() << "q has " << q[1] << " heads, which is not a "
                         << "multiple of the " << k[1] << " key/value heads";
  SmallVector<int64_t> expected = {q[0], q[1], q[2], v[3]};
  if (failed(verifyCompatibleShape(tensorTypeOf(getOutput()).getShape(),
                                   expected)))
    return emitOpError() << "result shape "
                         << formatShape(tensorTypeOf(getOutput()).getShape())
                         << " must be " << formatShape(expected)
                         << " ([B, H, S, Dv])";
  if (Value mask = getMask()) {
    auto maskType = tensorTypeOf(mask);
    Type element = maskType.getElementType();
    if (!element.isF32() && !element.isInteger(1))
      return emitOpError() << "mask must be f32 (added to the scores) or i1 "
                              "(true keeps), but has type "
                           << maskType;
    SmallVector<int64_t> scores = {q[0], q[1], q[2], k[2]};
    auto shape = broadcastShapes(maskType.getShape(), scores);
    if (maskType.getRank() > 4 || failed(shape) ||
        failed(verifyCompatibleShape(*shape, scores)))
      return emitOpError() << "mask shape " << formatShape(maskType.getShape())
                           << " does not broadcast to the score shape "
                           << formatShape(scores) << " ([B, H, S, T])";
  }
  if (auto scale = getScale()) {
    float s = scale->convertToFloat();
    if (!std::isfinite(s) || s <= 0.0f)
      return emitOpError() << "scale must be positive and finite, but is " << s;
  }
  if (getKeyBlock() && !getInt8())
    return emitOpError() << "key_block is only meaningful with int8 (the float "
                            "attention does not depend on a block size)";
  if (getInt8()) {
    if (!getKeyBlock())
      return emitOpError() << "int8 attention needs key_block (its softmax is "
                              "rescaled per block of keys, so the block size "
                              "is part of the result), e.g. key_block = 32";
    int64_t block = *getKeyBlock();
    if (block < 1 || block > 4096)
      return emitOpError() << "key_block must be in [1, 4096], but is "
                           << block;
    for (auto [what, value] : {std::pair<StringRef, Value>{"q", getQ()},
                               {"k", getK()},
                               {"v", getV()}}) {
      auto quant = dyn_cast<quant::UniformQuantizedType>(
          tensorTypeOf(value).getElementType());
      if (!quant || quant.getStorageTypeIntegralWidth() != 8)
        return emitOpError()
               << "int8 attention needs " << what
               << " quantized per tensor with 8-bit storage (i8 or u8), but "
                  "it has type "
               << value.getType();
    }
    if (!ShapedType::isDynamic(q[3]) && q[3] > 33025)
      return emitOpError() << "int8 attention: head_dim " << q[3]
                           << " is too large for i32 scores (at most 33025)";
  }
  return success();
}

LogicalResult EmbeddingOp::verify() {
  if (failed(verifyQuantizedTypes(*this)))
    return failure();
  auto table = tensorTypeOf(getTable()), indices = tensorTypeOf(getIndices());
  auto out = tensorTypeOf(getOutput());
  if (table.getRank() != 2)
    return emitOpError() << "table must have rank 2 ([V, D]), but has type "
                         << table;
  if (failed(verifyFloatOrQuant(*this, table, "table")))
    return failure();
  if (!indices.getElementType().isSignlessInteger(32) &&
      !indices.getElementType().isSignlessInteger(64))
    return emitOpError() << "indices must be a tensor of i32 or i64, but has "
                            "type "
                         << indices;
  SmallVector<int64_t> expected(indices.getShape());
  expected.push_back(table.getDimSize(1));
  if (failed(verifyCompatibleShape(out.getShape(), expected)))
    return emitOpError() << "result shape " << formatShape(out.getShape())
                         << " must be " << formatShape(expected)
                         << " (indices shape + [D])";
  QuantizedType tableQ = getUniformQuantizedElementType(table);
  if (out.getElementType() == table.getElementType()) {
    if (tableQ && !isa<UniformQuantizedType>(tableQ))
      return emitOpError() << "a result that keeps the stored values needs a "
                              "per-tensor table; use an f32 result to "
                              "dequantize a per-row table";
    return success();
  }
  // Any granularity dequantizes: per tensor, per row (axis 0), per column
  // (axis 1), or in blocks (a sub-channel type, as 4-bit embedding tables
  // are quantized); verifyQuantizedTypes has checked the parameters' shape.
  if (tableQ && out.getElementType().isF32())
    return success();
  return emitOpError() << "result element type must be the table's ("
                       << table.getElementType()
                       << ") or f32 for a quantized table, but is "
                       << out.getElementType();
}

LogicalResult RopeOp::verify() {
  if (failed(verifyUnaryFloatSemantics(*this)))
    return failure();
  auto input = tensorTypeOf(getInput());
  if (input.getRank() < 2)
    return emitOpError() << "input must have rank >= 2 ([..., S, D]), but has "
                            "type "
                         << input;
  int64_t s = input.getShape()[input.getRank() - 2];
  int64_t d = input.getShape().back();
  if (!ShapedType::isDynamic(d) && d % 2 != 0)
    return emitOpError() << "the last dimension (" << d
                         << ") must be even: rope rotates pairs";
  int64_t half = ShapedType::isDynamic(d) ? d : d / 2;
  for (auto [what, value] :
       {std::pair<StringRef, Value>{"cos", getCos()}, {"sin", getSin()}}) {
    auto type = tensorTypeOf(value);
    if (!type.getElementType().isF32() || type.getRank() != 2 ||
        failed(verifyCompatibleShape(type.getShape(), {s, half})))
      return emitOpError() << what << " must be an f32 tensor of shape [" << s
                           << ", " << half << "] ([S, D/2]), but has type "
                           << type;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Integer-only ops
//===----------------------------------------------------------------------===//

/// Requires `type` to be a tensor quantized per tensor whose storage width is
/// one of `widths` (8 and 16; 32 too for a softmax input).
static LogicalResult verifyIntegerOnlyOperand(Operation *op, Type type,
                                              StringRef what,
                                              ArrayRef<unsigned> widths) {
  auto qtype = getUniformQuantizedElementType(getElementTypeOrSelf(type));
  if (!qtype)
    return op->emitOpError()
           << what << " must be a tensor of a quantized type (integer-only "
           << "ops compute on stored values; use the float form for f32), "
           << "but has type " << type;
  if (!getPerTensorScale(qtype))
    return op->emitOpError() << what << " must be quantized per tensor, but "
                             << "has type " << type;
  unsigned bits = qtype.getStorageTypeIntegralWidth();
  if (!llvm::is_contained(widths, bits)) {
    std::string allowed;
    for (auto [i, w] : llvm::enumerate(widths))
      allowed += (i ? (i + 1 == widths.size() ? " or " : ", ") : "") +
                 std::to_string(w);
    return op->emitOpError() << what << " storage must be " << allowed
                             << " bits wide, but has type " << type;
  }
  return success();
}

/// Shared checks of the integer-only ops: quantized per-tensor input and
/// result of the same shape and rank >= 1, with the storage widths allowed.
static LogicalResult verifyIntegerOnlyUnary(Operation *op,
                                            ArrayRef<unsigned> inputWidths) {
  if (failed(verifyQuantizedTypes(op)))
    return failure();
  Type in = op->getOperand(0).getType(), out = op->getResult(0).getType();
  if (failed(verifyIntegerOnlyOperand(op, in, "input", inputWidths)) ||
      failed(verifyIntegerOnlyOperand(op, out, "result", {8, 16})))
    return failure();
  if (failed(verifySameShape(op, in, out, "input", "result")))
    return failure();
  if (tensorTypeOf(op->getOperand(0)).getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  return success();
}

LogicalResult IntSoftmaxOp::verify() {
  if (failed(verifyIntegerOnlyUnary(*this, {8, 16, 32})))
    return failure();
  auto type = tensorTypeOf(getInput());
  int64_t rank = type.getRank();
  int64_t axis = getAxis();
  if (axis < -rank || axis >= rank)
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << rank << ": use a value in [" << -rank << ", "
                         << rank - 1 << "]";
  int64_t size = type.getDimSize(axis < 0 ? axis + rank : axis);
  if (!ShapedType::isDynamic(size) && size > kIntSoftmaxMaxAxisSize)
    return emitOpError() << "the softmax axis has " << size
                         << " elements; at most " << kIntSoftmaxMaxAxisSize
                         << " keep the i32 sum of i-exp values exact";
  return success();
}

LogicalResult IntLayerNormOp::verify() {
  if (failed(verifyIntegerOnlyUnary(*this, {8, 16})))
    return failure();
  int64_t d = tensorTypeOf(getInput()).getShape().back();
  if (!ShapedType::isDynamic(d) && d > kIntLayerNormMaxDim)
    return emitOpError() << "the normalized (last) dimension has " << d
                         << " elements; at most " << kIntLayerNormMaxDim
                         << " keep the fixed-point normalization in range";
  if (failed(verifyVectorParam(*this, getGamma(), "gamma", d)))
    return failure();
  if (getBeta() && failed(verifyVectorParam(*this, getBeta(), "beta", d)))
    return failure();
  float epsilon = getEpsilon().convertToFloat();
  if (!std::isfinite(epsilon) || epsilon < 0.0f)
    return emitOpError() << "epsilon must be finite and >= 0, but is "
                         << epsilon;
  return success();
}

LogicalResult IntGeluOp::verify() {
  return verifyIntegerOnlyUnary(*this, {8, 16});
}

#define GET_OP_CLASSES
#include "dialects/Qlow/IR/QlowOps.cpp.inc"
