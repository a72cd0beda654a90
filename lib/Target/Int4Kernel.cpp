//===- Int4Kernel.cpp - target-neutral pieces of the int4 matmul kernels --===//
//
// What qlow-x86-int4-matmul and qlow-aarch64-int4-matmul share: the matmuls
// they take, the nibble and scale packing (both read 4 rows of K per dot
// product, column by column), the activations' dynamic quantization, row sums
// and padding, and the rewrite driver. Moved here unchanged from the two
// passes; the IR they build is the same op for op.
//
//===----------------------------------------------------------------------===//

#include "qlow/Target/Int4Kernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <vector>

using namespace mlir;
using namespace mlir::qlow;

namespace {
/// The constant behind `value` (an arith.constant, through quant.scast).
DenseIntElementsAttr constantWeights(Value value) {
  if (auto cast = value.getDefiningOp<quant::StorageCastOp>())
    value = cast.getInput();
  DenseIntElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return {};
  return attr;
}
} // namespace

std::optional<Int4Matmul>
mlir::qlow::matchInt4Matmul(MatmulOp op, int64_t kStep, std::string &why,
                            bool perColumnZeroPoints) {
  auto fail = [&](std::string reason) -> std::optional<Int4Matmul> {
    why = std::move(reason);
    return std::nullopt;
  };
  DynamicQuantAttr dynamic = op.getDynamicAttr();
  if (!dynamic)
    return fail("no dynamic quantization");
  if (dynamic.getScheme() != QuantScheme::Symmetric)
    return fail("asymmetric activations");
  RankedTensorType lhsType = op.getLhs().getType();
  RankedTensorType rhsType = op.getRhs().getType();
  if (lhsType.getRank() != 2 || rhsType.getRank() != 2 ||
      !lhsType.hasStaticShape() || !rhsType.hasStaticShape())
    return fail("not a static 2-D matmul");
  FailureOr<WeightGroups> params = getWeightGroups(rhsType);
  if (failed(params) ||
      !(params->bits == 4 ||
        (perColumnZeroPoints && params->bits == 8 && params->groups > 1)))
    return fail(perColumnZeroPoints
                    ? "weights are neither 4-bit nor 8-bit in groups along K"
                    : "weights are not 4-bit");
  if (params->groupSize % kStep != 0)
    return fail("group size is not a multiple of " + std::to_string(kStep));
  DenseIntElementsAttr attr = constantWeights(op.getRhs());
  if (!attr)
    return fail("weights are not a constant");
  Int4Matmul c;
  c.op = op;
  c.params = *params;
  c.m = lhsType.getDimSize(0);
  c.k = lhsType.getDimSize(1);
  c.n = rhsType.getDimSize(1);
  c.nibbleBase = params->isSigned ? -8 : 0;
  c.zpNibble = params->zeroPoints.front() - c.nibbleBase;
  bool uniform =
      params->bits == 4 && llvm::all_of(params->zeroPoints, [&](int64_t z) {
        return z == params->zeroPoints.front();
      });
  if (!uniform && !perColumnZeroPoints)
    return fail("zero points differ between groups or columns");
  for (const APInt &v : attr.getValues<APInt>())
    c.weights.push_back(params->isSigned
                            ? v.getSExtValue()
                            : static_cast<int64_t>(v.getZExtValue()));
  if (uniform)
    return c;
  // A base per group and column: the storage type's smallest value for
  // 4-bit weights (the nibbles are the stored bits), the smallest stored
  // value of the group and column for 8-bit ones.
  const int64_t groups = params->groups, groupSize = params->groupSize;
  c.nibbleBases.assign(groups * c.n, c.nibbleBase);
  // 8-bit weights with zero point 0 whose groups and columns are each in
  // [-8, 7] or in [-7, 8] (ORT's symmetric MatMulNBits blocks, sign(s) *
  // (q - 8)): the latter negated, with their scales, are i4 with one zero
  // point, and the kernel needs no zero-point table. Exact: negating a
  // scale and the i32 sum it multiplies gives the same f32 product.
  bool signedI4 =
      params->bits == 8 && params->isSigned && params->zeroPointsAllZero();
  SmallVector<int64_t> signs;
  for (int64_t g = 0; g < groups && params->bits == 8; ++g)
    for (int64_t col = 0; col < c.n; ++col) {
      int64_t lo = INT64_MAX, hi = INT64_MIN;
      for (int64_t r = g * groupSize; r < (g + 1) * groupSize; ++r) {
        lo = std::min(lo, c.weights[r * c.n + col]);
        hi = std::max(hi, c.weights[r * c.n + col]);
      }
      if (hi - lo > 15)
        return fail("8-bit weights of group " + std::to_string(g) +
                    ", column " + std::to_string(col) + " span " +
                    std::to_string(hi - lo + 1) + " values, more than 16");
      c.nibbleBases[g * c.n + col] = lo;
      if (lo >= -8 && hi <= 7)
        signs.push_back(1);
      else if (lo >= -7 && hi <= 8)
        signs.push_back(-1);
      else
        signedI4 = false;
    }
  if (signedI4) {
    c.nibbleBases.clear();
    if (llvm::any_of(signs, [](int64_t v) { return v < 0; }))
      c.signs = std::move(signs);
    return c; // nibbleBase -8, zpNibble 8 (i8 storage: zero point 0).
  }
  for (int64_t at = 0; at < groups * c.n; ++at)
    c.zpNibbles.push_back(params->zeroPoints[at] - c.nibbleBases[at]);
  if (llvm::all_of(c.zpNibbles,
                   [&](int64_t z) { return z == c.zpNibbles[0]; }) &&
      llvm::all_of(c.nibbleBases,
                   [&](int64_t v) { return v == c.nibbleBases[0]; })) {
    // One base and zero point after all: the scalar form.
    c.nibbleBase = c.nibbleBases[0];
    c.zpNibble = c.zpNibbles[0];
    c.nibbleBases.clear();
    c.zpNibbles.clear();
  }
  return c;
}

Int4PackedWeights mlir::qlow::packInt4Weights(OpBuilder &b, Location loc,
                                              const Int4Matmul &c, int64_t nr,
                                              int64_t lanes, int64_t kStep,
                                              uint8_t nibbleXor) {
  const int64_t groups = c.params.groups;
  const int64_t panels = (c.n + nr - 1) / nr, kSteps = c.k / kStep;
  const int64_t pairBytes = lanes * kStep; // bytes of one packed load
  SmallVector<uint8_t> packed(panels * kSteps * nr * 2, 0);
  SmallVector<float> scales(panels * groups * nr, 0.0f);
  for (int64_t kk = 0; kk < c.k; ++kk)
    for (int64_t col = 0; col < c.n; ++col) {
      int64_t g = kk / c.params.groupSize;
      int64_t nibble =
          c.signAt(g, col) * c.weights[kk * c.n + col] - c.baseAt(g, col);
      int64_t p = col / nr, inPanel = col % nr;
      int64_t vec = inPanel / lanes, lane = inPanel % lanes;
      int64_t at = (p * kSteps + kk / kStep) * nr * 2 + (vec / 2) * pairBytes +
                   lane * kStep + kk % kStep;
      packed[at] |=
          static_cast<uint8_t>((nibble ^ nibbleXor) << (vec % 2 ? 4 : 0));
    }
  SmallVector<int32_t> zeroPoints;
  if (!c.uniformZeroPoint())
    zeroPoints.assign(panels * groups * nr, 0);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t col = 0; col < c.n; ++col) {
      int64_t at = ((col / nr) * groups + g) * nr + col % nr;
      scales[at] =
          static_cast<float>(c.signAt(g, col) * c.params.scales[g * c.n + col]);
      if (!c.uniformZeroPoint())
        zeroPoints[at] = static_cast<int32_t>(c.zpNibbles[g * c.n + col]);
    }
  auto packedType =
      RankedTensorType::get({panels, kSteps, nr * 2}, b.getI8Type());
  Int4PackedWeights result;
  result.nibbles = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(
          packedType,
          ArrayRef<int8_t>(reinterpret_cast<const int8_t *>(packed.data()),
                           packed.size())));
  auto scalesType = RankedTensorType::get({panels, groups, nr}, b.getF32Type());
  result.scales = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(scalesType, ArrayRef<float>(scales)));
  if (!c.uniformZeroPoint())
    result.zeroPoints = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({panels, groups, nr}, b.getI32Type()),
            ArrayRef<int32_t>(zeroPoints)));
  return result;
}

Int4Activations mlir::qlow::buildInt4Activations(OpBuilder &b, Location loc,
                                                 const Int4Matmul &c,
                                                 int64_t paddedRows,
                                                 int64_t zpOffset) {
  Type i8 = b.getI8Type();
  Int4Activations result;
  MatmulOp op = c.op; // The op's accessors are not const.
  result.quantized =
      buildDynamicQuantize(b, loc, op.getLhs(), op.getDynamicAttr());
  Value q = result.quantized.q;
  if (!c.uniformZeroPoint() || c.zpNibble != zpOffset) {
    const int64_t groups = c.params.groups, groupSize = c.params.groupSize;
    Value grouped = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({c.m, groups, groupSize}, i8), q,
        SmallVector<ReassociationIndices>{{0}, {1, 2}});
    result.rowSums = buildSumOverK(b, loc, grouped, 2, /*isSigned=*/true);
  }
  if (paddedRows != c.m) {
    Value zero = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
    q = tensor::PadOp::create(
        b, loc, RankedTensorType::get({paddedRows, c.k}, i8), q,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(paddedRows - c.m),
                               b.getIndexAttr(0)},
        zero);
  }
  result.padded = q;
  return result;
}

void mlir::qlow::rewriteInt4Matmuls(
    Operation *root, int64_t kStep, bool report,
    function_ref<Value(OpBuilder &, Location, Int4Matmul &)> buildKernel,
    bool perColumnZeroPoints) {
  std::vector<Int4Matmul> found;
  root->walk([&](MatmulOp op) {
    std::string why;
    if (std::optional<Int4Matmul> c =
            matchInt4Matmul(op, kStep, why, perColumnZeroPoints))
      found.push_back(std::move(*c));
    else if (report && op.getDynamicAttr())
      op.emitRemark() << "not an int4 kernel: " << why;
  });
  IRRewriter rewriter(root->getContext());
  for (Int4Matmul &c : found) {
    rewriter.setInsertionPoint(c.op);
    Value result = buildKernel(rewriter, c.op.getLoc(), c);
    Operation *cast = c.op.getRhs().getDefiningOp<quant::StorageCastOp>();
    rewriter.replaceOp(c.op, result);
    if (cast && cast->use_empty())
      rewriter.eraseOp(cast);
  }
}
