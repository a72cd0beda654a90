//===- FoldQdq.cpp - the qlow-fold-qdq pass -------------------------------===//
//
// Folds quantize/dequantize pairs and fake_quant ops around float qlow ops
// into the quantized forms of those ops (QDQ import, QAT), and reports each
// op left in float. Passes.td describes every pattern and its numerics.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/Transforms/Passes.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "dialects/Qlow/IR/QuantTypeUtils.h"
#include "qlow/Interpreter/Interpreter.h"
#include "qlow/Reference/Arithmetic.h"
#include "qlow/Reference/Ops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <limits>
#include <thread>
#include <tuple>
#include <variant>

#define DEBUG_TYPE "qlow-fold-qdq"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWFOLDQDQPASS
#include "dialects/Qlow/Transforms/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::quant;
using llvm::formatv;

/// The exhaustive checks evaluate at most this many elements with
/// lib/Reference (per-tensor 8-bit add/mul: 2^16 pairs).
static constexpr int64_t kMaxCheckedEvaluations = int64_t(1) << 22;

/// The largest constant that pattern 2 quantizes at compile time.
static constexpr int64_t kMaxConstantElements = int64_t(1) << 26;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {
/// Collects the diagnostics emitted on this thread while alive, so that a
/// trial verification or type conversion does not reach the user. Other
/// threads' diagnostics (functions processed in parallel) pass through: the
/// engine calls handlers on the emitting thread.
class DiagnosticCapture {
public:
  explicit DiagnosticCapture(MLIRContext *context)
      : handler(context, [this](Diagnostic &diag) -> LogicalResult {
          if (std::this_thread::get_id() != thread)
            return failure();
          if (first.empty())
            first = diag.str();
          return success();
        }) {}
  /// The first message captured, or empty.
  std::string first;

private:
  std::thread::id thread = std::this_thread::get_id();
  ScopedDiagnosticHandler handler;
};
} // namespace

static RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

static QuantizedType quantTypeOf(Value value) {
  return getUniformQuantizedElementType(tensorTypeOf(value));
}

/// The quantized value that `value` is the dequantization of, or null.
static Value getDequantizedSource(Value value) {
  if (auto dequantize = value.getDefiningOp<DequantizeOp>())
    return dequantize.getInput();
  return {};
}

/// Why `value` (named `what`) has no quantized source, for messages.
static std::string notDequantized(Value value, StringRef what) {
  // The bias add that the f32-result form of a matmul leaves behind.
  if (auto matmul = value.getDefiningOp<MatmulOp>())
    if (isQuantTensor(matmul.getLhs().getType()))
      return formatv("{0} is the f32 result of an integer qlow.matmul", what)
          .str();
  if (Operation *producer = value.getDefiningOp())
    return formatv("{0} comes from {1}, not from qlow.dequantize", what,
                   producer->getName())
        .str();
  return formatv("{0} is a block argument, not the result of qlow.dequantize",
                 what)
      .str();
}

/// "per tensor", "per axis 1" or "in blocks", for messages.
static std::string describeGranularity(QuantizedType qtype) {
  if (isa<UniformQuantizedType>(qtype))
    return "per tensor";
  if (auto perAxis = dyn_cast<UniformQuantizedPerAxisType>(qtype))
    return formatv("per axis {0}", perAxis.getQuantizedDimension()).str();
  return "in blocks (sub-channel)";
}

/// The zero points of a uniform quantized type (one per tensor, channel or
/// block).
static SmallVector<int64_t> zeroPointsOf(QuantizedType qtype) {
  if (auto t = dyn_cast<UniformQuantizedType>(qtype))
    return {t.getZeroPoint()};
  if (auto t = dyn_cast<UniformQuantizedPerAxisType>(qtype))
    return SmallVector<int64_t>(t.getZeroPoints());
  SmallVector<int64_t> zeroPoints;
  if (auto t = dyn_cast<UniformQuantizedSubChannelType>(qtype))
    for (const APInt &z : t.getZeroPoints().getValues<APInt>())
      zeroPoints.push_back(qtype.isSigned()
                               ? z.getSExtValue()
                               : static_cast<int64_t>(z.getZExtValue()));
  return zeroPoints;
}

/// The scales of a per-tensor (one) or per-axis (one per channel) type.
static SmallVector<double> scalesOf(QuantizedType qtype) {
  if (auto t = dyn_cast<UniformQuantizedType>(qtype))
    return {t.getScale()};
  if (auto t = dyn_cast<UniformQuantizedPerAxisType>(qtype))
    return SmallVector<double>(t.getScales());
  return {};
}

/// The largest |q - z| over the stored range and every zero point.
static int64_t maxAbsDifference(QuantizedType qtype) {
  int64_t worst = 0;
  for (int64_t z : zeroPointsOf(qtype))
    worst = std::max({worst, std::abs(qtype.getStorageTypeMax() - z),
                      std::abs(qtype.getStorageTypeMin() - z)});
  return worst;
}

/// Which dimensions the parameters of `qtype` vary along, on a tensor of
/// rank `rank`.
static SmallVector<bool> varyingDims(QuantizedType qtype, int64_t rank) {
  SmallVector<bool> vary(rank, false);
  if (auto t = dyn_cast<UniformQuantizedPerAxisType>(qtype)) {
    if (t.getQuantizedDimension() < rank)
      vary[t.getQuantizedDimension()] = true;
  } else if (auto t = dyn_cast<UniformQuantizedSubChannelType>(qtype)) {
    ArrayRef<int64_t> scaleShape = t.getScales().getType().getShape();
    for (int64_t d = 0; d < rank && d < (int64_t)scaleShape.size(); ++d)
      vary[d] = scaleShape[d] > 1;
  }
  return vary;
}

/// The reference description of a static tensor type, or failure (the
/// conversion's message is swallowed: callers give their own reason).
static FailureOr<ref::TensorType> toReferenceType(RankedTensorType type,
                                                  Location loc) {
  DiagnosticCapture capture(type.getContext());
  return convertToReferenceType(type, [&]() { return emitError(loc); });
}

/// Builds the op `state` describes outside the IR, runs its verifier and
/// destroys it. Returns the verifier's message, or std::nullopt when it
/// verifies: a rewrite is made only if its result verifies.
static std::optional<std::string> verifyDetached(const OperationState &state) {
  DiagnosticCapture capture(state.getContext());
  Operation *op = Operation::create(state);
  LogicalResult verified = verify(op, /*verifyRecursively=*/false);
  op->erase();
  if (succeeded(verified))
    return std::nullopt;
  return capture.first.empty() ? std::string("it does not verify")
                               : capture.first;
}

//===----------------------------------------------------------------------===//
// Exhaustive comparison with the float graph (lib/Reference)
//===----------------------------------------------------------------------===//

namespace {
/// The outcome of comparing a rewrite with the float graph it replaces on
/// every stored value (every pair for binary ops).
struct Exactness {
  /// Every input was compared.
  bool checked = false;
  int64_t total = 0;
  int64_t mismatches = 0;
  /// The largest difference, in stored units (quantization steps).
  int64_t maxSteps = 0;
  /// A reference error of the quantized op (e.g. an unsupported rounding).
  std::string error;

  bool exact() const { return checked && error.empty() && mismatches == 0; }
};

/// Counts the differences between two quantized tensors of one shape.
void compareStored(const ref::Tensor &fused, const ref::Tensor &graph,
                   Exactness &result) {
  for (size_t e = 0; e < fused.i.size(); ++e) {
    int64_t diff = std::abs(fused.i[e] - graph.i[e]);
    if (diff != 0)
      ++result.mismatches;
    result.maxSteps = std::max(result.maxSteps, diff);
  }
  result.total += static_cast<int64_t>(fused.i.size());
}

/// The stored values of a quantized type, lowest first.
std::vector<int64_t> storedRange(QuantizedType qtype) {
  std::vector<int64_t> values;
  for (int64_t v = qtype.getStorageTypeMin(); v <= qtype.getStorageTypeMax();
       ++v)
    values.push_back(v);
  return values;
}

int64_t storedCount(QuantizedType qtype) {
  return qtype.getStorageTypeMax() - qtype.getStorageTypeMin() + 1;
}

/// Compares `quantized add/mul(a, b)` with
/// `quantize(add/mul(dequantize(a), dequantize(b)))` on every pair of stored
/// values (per-tensor types).
Exactness checkBinary(bool isAdd, QuantizedType a, QuantizedType b,
                      QuantizedType out, RoundingMode rounding, Location loc) {
  Exactness result;
  int64_t na = storedCount(a), nb = storedCount(b);
  if (na * nb > kMaxCheckedEvaluations)
    return result;
  auto qaType = toReferenceType(RankedTensorType::get({na, 1}, a), loc);
  auto qbType = toReferenceType(RankedTensorType::get({1, nb}, b), loc);
  auto outType = toReferenceType(RankedTensorType::get({na, nb}, out), loc);
  if (failed(qaType) || failed(qbType) || failed(outType))
    return result;
  ref::Tensor qa =
      ref::Tensor::makeQuant({na, 1}, qaType->quant, storedRange(a));
  ref::Tensor qb =
      ref::Tensor::makeQuant({1, nb}, qbType->quant, storedRange(b));
  ref::Rounding r = rounding == RoundingMode::Float ? ref::Rounding::Float
                                                    : ref::Rounding::FixedPoint;
  ref::Expected<ref::Tensor> fused =
      isAdd ? ref::add(qa, qb, *outType, r) : ref::mul(qa, qb, *outType, r);
  if (!fused) {
    result.error = fused.status.message();
    return result;
  }
  ref::Expected<ref::Tensor> fa = ref::dequantize(qa), fb = ref::dequantize(qb);
  if (!fa || !fb)
    return result;
  ref::TensorType f32 = ref::TensorType::f32({na, nb});
  ref::Expected<ref::Tensor> f =
      isAdd ? ref::add(*fa, *fb, f32, r) : ref::mul(*fa, *fb, f32, r);
  if (!f)
    return result;
  ref::Expected<ref::Tensor> graph = ref::quantize(*f, *outType);
  if (!graph)
    return result;
  compareStored(*fused, *graph, result);
  result.checked = true;
  return result;
}

/// Compares `requantize(q)` with `quantize(dequantize(q))` on every stored
/// value of every combination of input and output parameters.
Exactness checkRequantize(RankedTensorType inType, RankedTensorType outType,
                          RoundingMode rounding, Location loc) {
  Exactness result;
  QuantizedType in = getUniformQuantizedElementType(inType);
  QuantizedType out = getUniformQuantizedElementType(outType);
  int64_t rank = inType.getRank();
  SmallVector<bool> vin = varyingDims(in, rank), vout = varyingDims(out, rank);
  // The parameters depend only on the dimensions they vary along: a tensor
  // that keeps those and has size 1 elsewhere meets every combination.
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = (vin[d] || vout[d]) ? inType.getDimSize(d) : 1;
    if (ShapedType::isDynamic(size))
      return result;
    shape.push_back(size);
    count *= size;
  }
  if (count * storedCount(in) > kMaxCheckedEvaluations)
    return result;
  SmallVector<int64_t> mlirShape(shape.begin(), shape.end());
  auto qType = toReferenceType(RankedTensorType::get(mlirShape, in), loc);
  auto oType = toReferenceType(RankedTensorType::get(mlirShape, out), loc);
  if (failed(qType) || failed(oType))
    return result;
  ref::Rounding r = rounding == RoundingMode::Float ? ref::Rounding::Float
                                                    : ref::Rounding::FixedPoint;
  for (int64_t v : storedRange(in)) {
    ref::Tensor q = ref::Tensor::makeQuant(shape, qType->quant,
                                           std::vector<int64_t>(count, v));
    ref::Expected<ref::Tensor> fused = ref::requantize(q, *oType, r);
    if (!fused) {
      result.error = fused.status.message();
      return result;
    }
    ref::Expected<ref::Tensor> f = ref::dequantize(q);
    if (!f)
      return result;
    ref::Expected<ref::Tensor> graph = ref::quantize(*f, *oType);
    if (!graph)
      return result;
    compareStored(*fused, *graph, result);
  }
  result.checked = true;
  return result;
}

/// Memoizes the exhaustive checks: the rewrite driver may look at one op
/// several times, and graphs repeat the same types.
class ExactnessCache {
public:
  const Exactness &binary(bool isAdd, QuantizedType a, QuantizedType b,
                          QuantizedType out, RoundingMode rounding,
                          Location loc) {
    Key key{isAdd ? 1u : 2u, a, b, out, static_cast<unsigned>(rounding)};
    auto it = cache.find(key);
    if (it == cache.end())
      it = cache.try_emplace(key, checkBinary(isAdd, a, b, out, rounding, loc))
               .first;
    return it->second;
  }
  const Exactness &requantize(RankedTensorType in, RankedTensorType out,
                              RoundingMode rounding, Location loc) {
    Key key{3u, in, out, Type(), static_cast<unsigned>(rounding)};
    auto it = cache.find(key);
    if (it == cache.end())
      it =
          cache.try_emplace(key, checkRequantize(in, out, rounding, loc)).first;
    return it->second;
  }

private:
  using Key = std::tuple<unsigned, Type, Type, Type, unsigned>;
  llvm::DenseMap<Key, Exactness> cache;
};
} // namespace

//===----------------------------------------------------------------------===//
// Fold plans: what replaces a float op, or why nothing does
//===----------------------------------------------------------------------===//

namespace {
/// The options and the check cache shared by the patterns of one run.
struct FoldContext {
  explicit FoldContext(const FoldQdqOptions &options) : options(options) {}
  FoldQdqOptions options;
  ExactnessCache exactness;
};

/// The quantized op that replaces a float op.
struct FoldPlan {
  OperationName name;
  SmallVector<Value> operands;
  /// An i32 bias materialized as an arith.constant and appended as the last
  /// operand.
  DenseElementsAttr biasConstant;
  SmallVector<NamedAttribute> attributes;
  Type resultType;
  /// Added to the result in f32 afterwards (a matmul bias that has no i32
  /// form).
  Value floatBias;
  /// The result is dequantized afterwards (the embedding gather).
  bool dequantizeResult = false;
  /// The qlow.quantize users that the new result replaces; when empty, the
  /// new result (or `replacement`) replaces the float op itself.
  SmallVector<Operation *> replacedUsers;
  /// An existing value that replaces the op (no new op).
  Value replacement;
  bool exact = false;

  explicit FoldPlan(OperationName name) : name(name) {}

  /// The op this plan creates, for verification and creation.
  OperationState state(Location loc, Value bias) const {
    SmallVector<Value> allOperands = operands;
    if (bias)
      allOperands.push_back(bias);
    return OperationState(loc, name, allOperands, TypeRange{resultType},
                          attributes);
  }
};

/// A plan, or the reason the op stays in float.
using PlanOrReason = std::variant<FoldPlan, std::string>;

/// Checks a plan by building its op outside the IR; returns the verifier's
/// message as the reason when it fails.
std::optional<std::string> verifyPlan(const FoldPlan &plan, Location loc) {
  if (plan.replacement)
    return std::nullopt;
  MLIRContext *context = loc.getContext();
  OpBuilder builder(context);
  Operation *constant = nullptr;
  if (plan.biasConstant)
    constant = arith::ConstantOp::create(builder, loc, plan.biasConstant);
  std::optional<std::string> message = verifyDetached(
      plan.state(loc, constant ? constant->getResult(0) : Value()));
  if (constant)
    constant->erase();
  if (message)
    return "its quantized form would not verify: " + *message;
  return std::nullopt;
}

/// Every use of `result` as one quantized type: the qlow.quantize users.
struct QuantizedUse {
  SmallVector<Operation *> users;
  RankedTensorType type;
};

FailureOr<QuantizedUse> getQuantizedUse(Value result, std::string &why) {
  QuantizedUse use;
  Operation *floatUser = nullptr;
  // In program order (use lists are not), so that messages are stable.
  SmallVector<Operation *> users(result.getUsers());
  llvm::sort(users, [](Operation *a, Operation *b) {
    if (a->getBlock() != b->getBlock())
      return a->getBlock() < b->getBlock();
    return a != b && a->isBeforeInBlock(b);
  });
  for (Operation *user : users) {
    auto quantize = dyn_cast<QuantizeOp>(user);
    if (!quantize) {
      floatUser = floatUser ? floatUser : user;
      continue;
    }
    if (use.type && quantize.getType() != use.type) {
      why = formatv("its result is quantized to two types, {0} and {1}",
                    use.type, quantize.getType())
                .str();
      return failure();
    }
    use.type = quantize.getType();
    use.users.push_back(user);
  }
  if (use.users.empty()) {
    why = "no qlow.quantize on its result";
    return failure();
  }
  if (floatUser) {
    why = formatv("its result is also used in f32 by {0}", floatUser->getName())
              .str();
    return failure();
  }
  return use;
}

/// Copies `op`'s attributes, with `rounding` set to `mode`.
SmallVector<NamedAttribute> attributesWithRounding(Operation *op,
                                                   RoundingMode mode) {
  NamedAttrList attrs(op->getAttrDictionary());
  attrs.set("rounding", RoundingModeAttr::get(op->getContext(), mode));
  return SmallVector<NamedAttribute>(attrs.begin(), attrs.end());
}

SmallVector<NamedAttribute> attributesOf(Operation *op) {
  return SmallVector<NamedAttribute>(op->getAttrs().begin(),
                                     op->getAttrs().end());
}

//===----------------------------------------------------------------------===//
// Pattern 3: quantize(dequantize(q))
//===----------------------------------------------------------------------===//

/// quantize(dequantize(q)): q itself for the same type, else a requantize.
/// Returns std::nullopt when the quantize's input is not a dequantize.
std::optional<PlanOrReason> planRequantize(QuantizeOp op, FoldContext &ctx) {
  Value source = getDequantizedSource(op.getInput());
  if (!source)
    return std::nullopt;
  FoldPlan plan(
      OperationName(RequantizeOp::getOperationName(), op.getContext()));
  if (source.getType() == op.getType()) {
    plan.replacement = source;
    plan.exact = true;
    return plan;
  }
  RoundingMode rounding = ctx.options.rounding;
  // Fixed-point rounding multiplies q - z as an int32 (lib/Reference errors
  // otherwise); wide storage is not always checked exhaustively below.
  constexpr int64_t int32Max = std::numeric_limits<int32_t>::max();
  if (rounding == RoundingMode::FixedPoint &&
      maxAbsDifference(quantTypeOf(source)) > int32Max)
    return std::string("q - z of the input can leave the int32 range that a "
                       "fixed-point requantize needs");
  const Exactness &check = ctx.exactness.requantize(
      tensorTypeOf(source), op.getType(), rounding, op.getLoc());
  if (!check.error.empty())
    return std::string("the requantize cannot be evaluated: ") + check.error;
  if (check.checked && check.maxSteps > 1)
    return formatv("the requantize would differ from dequantize -> quantize "
                   "by up to {0} steps",
                   check.maxSteps)
        .str();
  if (ctx.options.exactOnly && !check.exact()) {
    if (!check.checked)
      return std::string("the requantize is too large to check exhaustively "
                         "(exact-only)");
    return formatv("the requantize would differ from dequantize -> quantize "
                   "on {0} of {1} stored values (exact-only)",
                   check.mismatches, check.total)
        .str();
  }
  plan.operands = {source};
  plan.attributes = {
      NamedAttribute(StringAttr::get(op.getContext(), "rounding"),
                     RoundingModeAttr::get(op.getContext(), rounding))};
  plan.resultType = op.getType();
  plan.exact = check.exact();
  if (auto why = verifyPlan(plan, op.getLoc()))
    return *why;
  return plan;
}

//===----------------------------------------------------------------------===//
// Pattern 4: matmul
//===----------------------------------------------------------------------===//

/// s_lhs * s_rhs[n], one per column (or a single one when both are per
/// tensor): the unit of an i32 bias. None for a per-row lhs or blocked rhs,
/// whose unit is not one per column.
std::optional<SmallVector<double>> biasUnits(QuantizedType lhs,
                                             QuantizedType rhs) {
  auto lhsScale = getPerTensorScale(lhs);
  if (!lhsScale || isa<UniformQuantizedSubChannelType>(rhs))
    return std::nullopt;
  SmallVector<double> units;
  for (double s : scalesOf(rhs))
    units.push_back(*lhsScale * s);
  return units;
}

/// The i32 source of `bias` when it is the dequantization of an i32 value
/// with zero point 0 in units of `units` (the matmul verifier's tolerance).
Value getMatchingI32Bias(Value bias, ArrayRef<double> units) {
  Value source = getDequantizedSource(bias);
  if (!source)
    return {};
  QuantizedType qtype = quantTypeOf(source);
  if (!qtype || qtype.getStorageTypeIntegralWidth() != 32 ||
      !qtype.isSigned() || isa<UniformQuantizedSubChannelType>(qtype))
    return {};
  if (llvm::any_of(zeroPointsOf(qtype), [](int64_t z) { return z != 0; }))
    return {};
  SmallVector<double> scales = scalesOf(qtype);
  if (scales.size() != 1 && units.size() != 1 && scales.size() != units.size())
    return {};
  for (size_t n = 0, e = std::max(scales.size(), units.size()); n < e; ++n) {
    double s = scales[scales.size() == 1 ? 0 : n];
    double u = units[units.size() == 1 ? 0 : n];
    if (std::fabs(s - u) > 1e-6 * std::fabs(u))
      return {};
  }
  return source;
}

/// An f32 constant bias as i32 in units of s_lhs * s_rhs[n], rounded half to
/// even; failure (with the reason) when it is not a constant or a value is
/// out of the i32 range.
FailureOr<DenseElementsAttr>
convertBiasToI32(Value bias, ArrayRef<double> units, std::string &why) {
  DenseFPElementsAttr attr;
  if (!matchPattern(bias, m_Constant(&attr)) ||
      !attr.getElementType().isF32()) {
    why = "the bias is neither an f32 constant nor dequantized from i32 in "
          "units of s_lhs * s_rhs";
    return failure();
  }
  auto type = cast<RankedTensorType>(attr.getType());
  if (type.getRank() != 1 || !type.hasStaticShape()) {
    why = "the bias is not a static 1-D constant";
    return failure();
  }
  SmallVector<int32_t> values;
  int64_t n = 0;
  for (const APFloat &b : attr.getValues<APFloat>()) {
    double unit = units[units.size() == 1 ? 0 : n];
    double v = ref::roundHalfEven(b.convertToDouble() / unit);
    if (!std::isfinite(v) || v < std::numeric_limits<int32_t>::min() ||
        v > std::numeric_limits<int32_t>::max()) {
      why = formatv("bias[{0}] = {1} is outside the i32 range in units of "
                    "s_lhs * s_rhs = {2}",
                    n, b.convertToDouble(), unit)
                .str();
      return failure();
    }
    values.push_back(static_cast<int32_t>(v));
    ++n;
  }
  auto i32Type = RankedTensorType::get(type.getShape(),
                                       IntegerType::get(bias.getContext(), 32));
  return DenseElementsAttr::get(i32Type, ArrayRef<int32_t>(values));
}

/// The largest |value| of an i32 constant.
int64_t maxAbsOf(DenseElementsAttr attr) {
  int64_t worst = 0;
  for (const APInt &v : attr.getValues<APInt>())
    worst = std::max(worst, std::abs(v.getSExtValue()));
  return worst;
}

/// Form A: the integer matmul with the quantized result its users want.
PlanOrReason planMatmulQuantizedResult(MatmulOp op, Value lhs, Value rhs,
                                       FoldContext &ctx, double worstAcc) {
  std::string why;
  FailureOr<QuantizedUse> use = getQuantizedUse(op.getOutput(), why);
  if (failed(use))
    return why;
  QuantizedType lhsQ = quantTypeOf(lhs), rhsQ = quantTypeOf(rhs);
  QuantizedType outQ = getUniformQuantizedElementType(use->type);
  int64_t rank = use->type.getRank();
  if (!isa<UniformQuantizedType>(outQ) && !isPerAxisOn(outQ, rank - 1))
    return formatv("its result is quantized {0}; a quantized matmul result "
                   "is per tensor or per output channel (axis {1})",
                   describeGranularity(outQ), rank - 1)
        .str();
  FoldPlan plan(op->getName());
  plan.operands = {lhs, rhs};
  if (Value bias = op.getBias()) {
    std::optional<SmallVector<double>> units = biasUnits(lhsQ, rhsQ);
    if (!units)
      return std::string("the bias has no i32 form: with a per-row lhs its "
                         "unit s_lhs * s_rhs varies by row");
    if (Value i32Bias = getMatchingI32Bias(bias, *units)) {
      plan.operands.push_back(i32Bias);
    } else {
      FailureOr<DenseElementsAttr> converted =
          convertBiasToI32(bias, *units, why);
      if (failed(converted))
        return why;
      if (worstAcc + maxAbsOf(*converted) > std::numeric_limits<int32_t>::max())
        return std::string("the i32 accumulator plus the bias can overflow");
      plan.biasConstant = *converted;
    }
  }
  plan.attributes = attributesWithRounding(op, ctx.options.rounding);
  plan.resultType = use->type;
  plan.replacedUsers = use->users;
  if (auto message = verifyPlan(plan, op.getLoc()))
    return *message;
  return plan;
}

/// Form B: the integer matmul with an f32 result; a bias with no i32 form is
/// added afterwards in f32.
PlanOrReason planMatmulFloatResult(MatmulOp op, Value lhs, Value rhs) {
  FoldPlan plan(op->getName());
  plan.operands = {lhs, rhs};
  if (Value bias = op.getBias()) {
    std::optional<SmallVector<double>> units =
        biasUnits(quantTypeOf(lhs), quantTypeOf(rhs));
    Value i32Bias = units ? getMatchingI32Bias(bias, *units) : Value();
    if (i32Bias)
      plan.operands.push_back(i32Bias);
    else
      plan.floatBias = bias;
  }
  plan.attributes = attributesOf(op);
  plan.resultType = op.getType();
  if (auto message = verifyPlan(plan, op.getLoc()))
    return *message;
  return plan;
}

/// A float matmul whose lhs and rhs are dequantized becomes the integer
/// matmul on their quantized sources (form A, else form B).
PlanOrReason planMatmul(MatmulOp op, FoldContext &ctx) {
  Value lhs = getDequantizedSource(op.getLhs());
  if (!lhs)
    return notDequantized(op.getLhs(), "lhs");
  Value rhs = getDequantizedSource(op.getRhs());
  if (!rhs)
    return notDequantized(op.getRhs(), "rhs");
  RankedTensorType lhsType = tensorTypeOf(lhs), rhsType = tensorTypeOf(rhs);
  QuantizedType lhsQ = quantTypeOf(lhs), rhsQ = quantTypeOf(rhs);
  int64_t lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
  if (!isa<UniformQuantizedType>(lhsQ) && !isPerAxisOn(lhsQ, lhsRank - 2))
    return formatv("lhs is quantized {0}; the integer matmul needs lhs per "
                   "tensor or per row (axis {1})",
                   describeGranularity(lhsQ), lhsRank - 2)
        .str();
  if (!isa<UniformQuantizedType, UniformQuantizedSubChannelType>(rhsQ) &&
      !isPerAxisOn(rhsQ, rhsRank - 1))
    return formatv("rhs is quantized {0}; the integer matmul needs rhs per "
                   "tensor, per output channel (axis {1}) or in blocks along "
                   "K",
                   describeGranularity(rhsQ), rhsRank - 1)
        .str();
  int64_t k = lhsType.getDimSize(lhsRank - 1);
  if (ShapedType::isDynamic(k))
    return std::string("K is dynamic, so the i32 accumulator bound cannot be "
                       "checked");
  // convert-qlow-to-linalg's precondition: every partial sum fits in i32.
  double worstAcc =
      static_cast<double>(k) * maxAbsDifference(lhsQ) * maxAbsDifference(rhsQ);
  if (worstAcc > std::numeric_limits<int32_t>::max())
    return formatv("the i32 accumulator can overflow: K * max|q_lhs - z_lhs| "
                   "* max|q_rhs - z_rhs| = {0} > 2^31 - 1",
                   static_cast<int64_t>(worstAcc))
        .str();
  if (ctx.options.exactOnly)
    return std::string("the integer matmul is not bit-exact against the "
                       "f32-accumulated float matmul (exact-only)");
  if (!isa<UniformQuantizedSubChannelType>(rhsQ)) {
    PlanOrReason formA = planMatmulQuantizedResult(op, lhs, rhs, ctx, worstAcc);
    if (std::holds_alternative<FoldPlan>(formA))
      return formA;
  }
  return planMatmulFloatResult(op, lhs, rhs);
}

//===----------------------------------------------------------------------===//
// Pattern 5: add, mul
//===----------------------------------------------------------------------===//

template <typename OpTy> PlanOrReason planBinary(OpTy op, FoldContext &ctx) {
  constexpr bool isAdd = std::is_same_v<OpTy, AddOp>;
  StringRef name = isAdd ? "add" : "mul";
  Value lhs = getDequantizedSource(op.getLhs());
  if (!lhs)
    return notDequantized(op.getLhs(), "lhs");
  Value rhs = getDequantizedSource(op.getRhs());
  if (!rhs)
    return notDequantized(op.getRhs(), "rhs");
  std::string why;
  FailureOr<QuantizedUse> use = getQuantizedUse(op.getOutput(), why);
  if (failed(use))
    return why;
  QuantizedType lhsQ = quantTypeOf(lhs), rhsQ = quantTypeOf(rhs);
  QuantizedType outQ = getUniformQuantizedElementType(use->type);
  for (auto [what, qtype] : {std::pair<StringRef, QuantizedType>{"lhs", lhsQ},
                             {"rhs", rhsQ},
                             {"result", outQ}})
    if (!isa<UniformQuantizedType>(qtype))
      return formatv("the quantized {0} needs per-tensor parameters, but its "
                     "{1} is quantized {2}",
                     name, what, describeGranularity(qtype))
          .str();
  RoundingMode rounding = ctx.options.rounding;
  // What lib/Reference's fixed-point forms accept; wide storage is not always
  // checked exhaustively below.
  if (rounding == RoundingMode::FixedPoint) {
    unsigned bits = std::max({lhsQ.getStorageTypeIntegralWidth(),
                              rhsQ.getStorageTypeIntegralWidth(),
                              outQ.getStorageTypeIntegralWidth()});
    if (isAdd && bits > 16)
      return formatv("the fixed-point quantized add supports storage of at "
                     "most 16 bits, but an operand or the result has {0}",
                     bits)
          .str();
    if (!isAdd && static_cast<double>(maxAbsDifference(lhsQ)) *
                          maxAbsDifference(rhsQ) >
                      std::numeric_limits<int32_t>::max())
      return std::string("the product of two stored values can leave the "
                         "int32 range that a fixed-point mul needs");
  }
  const Exactness &check =
      ctx.exactness.binary(isAdd, lhsQ, rhsQ, outQ, rounding, op.getLoc());
  if (!check.error.empty())
    return formatv("the quantized {0} cannot be evaluated: {1}", name,
                   check.error)
        .str();
  if (check.checked && check.maxSteps > 1)
    return formatv("the quantized {0} would differ from the float graph by "
                   "up to {1} steps",
                   name, check.maxSteps)
        .str();
  // Unchecked (wide types), a float-rounding add is still exact: it performs
  // the float graph's f32 operations in the same order.
  bool exact = check.checked ? check.exact()
                             : (isAdd && rounding == RoundingMode::Float);
  if (ctx.options.exactOnly && !exact) {
    if (!check.checked)
      return formatv("the quantized {0} is too large to check exhaustively "
                     "(exact-only)",
                     name)
          .str();
    return formatv("the quantized {0} would differ from the float graph on "
                   "{1} of {2} stored pairs (exact-only)",
                   name, check.mismatches, check.total)
        .str();
  }
  FoldPlan plan(op->getName());
  plan.operands = {lhs, rhs};
  plan.attributes = attributesWithRounding(op, rounding);
  plan.resultType = use->type;
  plan.replacedUsers = use->users;
  plan.exact = exact;
  if (auto message = verifyPlan(plan, op.getLoc()))
    return *message;
  return plan;
}

//===----------------------------------------------------------------------===//
// Pattern 6: the float-semantics ops
//===----------------------------------------------------------------------===//

/// The data operands of a float-semantics op (the ones that may be
/// quantized), with their names.
SmallVector<std::pair<unsigned, StringRef>> dataOperands(Operation *op) {
  if (isa<AttentionOp>(op))
    return {{0, "q"}, {1, "k"}, {2, "v"}};
  return {{0, "input"}};
}

bool isFloatSemanticsOp(Operation *op) {
  return isa<SoftmaxOp, LayerNormOp, RmsNormOp, GeluOp, SiluOp, RopeOp,
             AttentionOp>(op);
}

/// True if a float-semantics op still has an f32 data operand or result.
bool computesInFloat(Operation *op) {
  if (isF32Tensor(op->getResult(0).getType()))
    return true;
  return llvm::any_of(dataOperands(op), [&](auto operand) {
    return isF32Tensor(op->getOperand(operand.first).getType());
  });
}

/// The op reads the quantized sources of its dequantized data operands and
/// produces the type its qlow.quantize users want. Exact: the reference
/// dequantizes quantized inputs and quantizes a quantized result exactly as
/// the removed ops do.
PlanOrReason planFloatSemantics(Operation *op) {
  FoldPlan plan(op->getName());
  plan.operands = llvm::to_vector(op->getOperands());
  for (auto [index, what] : dataOperands(op)) {
    Value operand = op->getOperand(index);
    if (isQuantTensor(operand.getType()))
      continue;
    Value source = getDequantizedSource(operand);
    if (!source)
      return notDequantized(operand, what);
    plan.operands[index] = source;
  }
  Value result = op->getResult(0);
  plan.resultType = result.getType();
  if (!isQuantTensor(result.getType())) {
    std::string why;
    FailureOr<QuantizedUse> use = getQuantizedUse(result, why);
    if (failed(use))
      return why;
    plan.resultType = use->type;
    plan.replacedUsers = use->users;
  }
  plan.attributes = attributesOf(op);
  plan.exact = true;
  if (auto message = verifyPlan(plan, op->getLoc()))
    return *message;
  return plan;
}

//===----------------------------------------------------------------------===//
// Pattern 7: embedding
//===----------------------------------------------------------------------===//

/// embedding(dequantize(T)) with T per tensor: dequantize(embedding(T)), the
/// gathered rows keeping their stored values. With T per row, per column or
/// in blocks (ONNX's blocked DequantizeLinear of a 4-bit table, then
/// Gather): embedding(T) with an f32 result, which dequantizes only the
/// gathered rows, each element with its own parameters, where the float
/// form dequantizes the whole table.
PlanOrReason planEmbedding(EmbeddingOp op) {
  Value table = getDequantizedSource(op.getTable());
  if (!table)
    return notDequantized(op.getTable(), "table");
  QuantizedType tableQ = quantTypeOf(table);
  FoldPlan plan(op->getName());
  plan.operands = {table, op.getIndices()};
  plan.attributes = attributesOf(op);
  plan.exact = true;
  if (!isa<UniformQuantizedType>(tableQ)) {
    plan.resultType = op.getType();
    if (auto message = verifyPlan(plan, op.getLoc()))
      return *message;
    return plan;
  }
  plan.resultType = RankedTensorType::get(op.getType().getShape(), tableQ);
  plan.dequantizeResult = true;
  plan.exact = true;
  if (auto message = verifyPlan(plan, op.getLoc()))
    return *message;
  return plan;
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

/// The plan for `op` when it is a float op (or a quantize of a dequantize)
/// that the patterns handle; std::nullopt when it is not one.
std::optional<PlanOrReason> planFold(Operation *op, FoldContext &ctx) {
  return llvm::TypeSwitch<Operation *, std::optional<PlanOrReason>>(op)
      .Case([&](QuantizeOp op) { return planRequantize(op, ctx); })
      .Case([&](MatmulOp op) -> std::optional<PlanOrReason> {
        // The dynamic path quantizes lhs at run time: not a float matmul.
        if (op.getDynamic() || !isF32Tensor(op.getLhs().getType()))
          return std::nullopt;
        return planMatmul(op, ctx);
      })
      .Case<AddOp, MulOp>([&](auto op) -> std::optional<PlanOrReason> {
        if (!isF32Tensor(op.getOutput().getType()))
          return std::nullopt;
        return planBinary(op, ctx);
      })
      .Case([&](EmbeddingOp op) -> std::optional<PlanOrReason> {
        if (!isF32Tensor(op.getTable().getType()))
          return std::nullopt;
        return planEmbedding(op);
      })
      .Default([&](Operation *op) -> std::optional<PlanOrReason> {
        if (!isFloatSemanticsOp(op) || !computesInFloat(op))
          return std::nullopt;
        return planFloatSemantics(op);
      });
}

/// Creates what `plan` describes in place of `op`.
void applyPlan(Operation *op, const FoldPlan &plan, PatternRewriter &rewriter) {
  if (plan.replacement) {
    rewriter.replaceOp(op, plan.replacement);
    return;
  }
  Location loc = op->getLoc();
  rewriter.setInsertionPoint(op);
  Value bias;
  if (plan.biasConstant)
    bias = arith::ConstantOp::create(rewriter, loc, plan.biasConstant);
  Value result = rewriter.create(plan.state(loc, bias))->getResult(0);
  if (plan.floatBias)
    result =
        AddOp::create(rewriter, loc, result.getType(), result, plan.floatBias);
  if (plan.dequantizeResult)
    result =
        DequantizeOp::create(rewriter, loc, op->getResult(0).getType(), result);
  if (plan.replacedUsers.empty()) {
    rewriter.replaceOp(op, result);
    return;
  }
  for (Operation *user : plan.replacedUsers)
    rewriter.replaceOp(user, result);
  rewriter.eraseOp(op);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Patterns 3-7: applies the plan of any op that has one.
struct FoldToQuantizedOp : RewritePattern {
  FoldToQuantizedOp(MLIRContext *context, std::shared_ptr<FoldContext> ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context),
        ctx(std::move(ctx)) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa_and_nonnull<QlowDialect>(op->getDialect()))
      return failure();
    std::optional<PlanOrReason> plan = planFold(op, *ctx);
    if (!plan)
      return failure();
    if (auto *why = std::get_if<std::string>(&*plan))
      return rewriter.notifyMatchFailure(op, *why);
    const FoldPlan &fold = std::get<FoldPlan>(*plan);
    LLVM_DEBUG(llvm::dbgs() << DEBUG_TYPE << ": folding " << op->getName()
                            << (fold.exact ? " (exact)\n" : " (inexact)\n"));
    applyPlan(op, fold, rewriter);
    return success();
  }

  std::shared_ptr<FoldContext> ctx;
};

/// The quantized element type that `qtype` becomes on the result of the
/// shape op `op` (a transpose, expand_shape or collapse_shape of a tensor of
/// that type): the same type per tensor; per axis, the axis where the op
/// moves the quantized dimension, when that dimension keeps its size (an
/// expand or collapse that only adds or removes unit dimensions next to it).
/// Failure, with the reason, otherwise.
static FailureOr<QuantizedType>
quantTypeAfterShapeOp(Operation *op, QuantizedType qtype, std::string &why) {
  if (isa<UniformQuantizedType>(qtype))
    return qtype;
  auto perAxis = dyn_cast<UniformQuantizedPerAxisType>(qtype);
  if (!perAxis) {
    why = formatv("the source is quantized {0}; only per-tensor and per-axis "
                  "types move through a reshape or transpose",
                  describeGranularity(qtype))
              .str();
    return failure();
  }
  int64_t axis = perAxis.getQuantizedDimension();
  auto inType = cast<RankedTensorType>(op->getOperand(0).getType());
  auto outType = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t newAxis = -1;
  if (auto transpose = dyn_cast<linalg::TransposeOp>(op)) {
    for (auto [i, from] : llvm::enumerate(transpose.getPermutation()))
      if (from == axis)
        newAxis = i;
  } else {
    // expand_shape: input dim d is the group reassociation[d] of output
    // dims; collapse_shape: output dim d is the group of input dims.
    bool expand = isa<tensor::ExpandShapeOp>(op);
    SmallVector<ReassociationIndices> groups =
        expand ? cast<tensor::ExpandShapeOp>(op).getReassociationIndices()
               : cast<tensor::CollapseShapeOp>(op).getReassociationIndices();
    RankedTensorType wide = expand ? outType : inType;
    for (auto [d, group] : llvm::enumerate(groups)) {
      if (expand ? int64_t(d) != axis : !llvm::is_contained(group, axis))
        continue;
      int64_t channels = inType.getDimSize(axis);
      SmallVector<int64_t> kept;
      for (int64_t g : group)
        if (wide.getDimSize(g) != 1)
          kept.push_back(g);
      if (channels != 1 && !ShapedType::isDynamic(channels) &&
          kept.size() == 1 && wide.getDimSize(kept[0]) == channels)
        newAxis = expand ? kept[0] : int64_t(d);
    }
  }
  if (newAxis < 0) {
    why = formatv("the source is quantized per axis {0}, and {1} splits or "
                  "merges that axis with others",
                  axis, op->getName())
              .str();
    return failure();
  }
  return QuantizedType(UniformQuantizedPerAxisType::get(
      perAxis.getFlags(), perAxis.getStorageType(), perAxis.getExpressedType(),
      perAxis.getScales(), perAxis.getZeroPoints(), newAxis,
      perAxis.getStorageTypeMin(), perAxis.getStorageTypeMax()));
}

/// The linalg.transpose, tensor.expand_shape and tensor.collapse_shape ops
/// between a qlow.quantize's input and a qlow.dequantize, innermost first,
/// and the dequantized source.
struct ShapeChain {
  SmallVector<Operation *> ops;
  Value source;
};

/// The shape chain that `op` quantizes, or std::nullopt when its input is
/// not one (pattern 3 handles a quantize of a dequantize itself).
static std::optional<ShapeChain> findShapeChain(QuantizeOp op) {
  ShapeChain chain;
  Value value = op.getInput();
  while (!getDequantizedSource(value)) {
    Operation *def = value.getDefiningOp();
    if (!isa_and_nonnull<linalg::TransposeOp, tensor::ExpandShapeOp,
                         tensor::CollapseShapeOp>(def))
      return std::nullopt;
    chain.ops.push_back(def);
    value = def->getOperand(0);
  }
  if (chain.ops.empty())
    return std::nullopt;
  std::reverse(chain.ops.begin(), chain.ops.end());
  chain.source = getDequantizedSource(value);
  return chain;
}

/// Why the shape chain that `op` quantizes cannot carry the stored values,
/// or std::nullopt when it can.
static std::optional<std::string> whyShapeChainStays(QuantizeOp op,
                                                     const ShapeChain &chain) {
  QuantizedType qtype = quantTypeOf(chain.source);
  std::string why;
  for (Operation *shapeOp : chain.ops) {
    if (!cast<RankedTensorType>(shapeOp->getResult(0).getType())
             .hasStaticShape())
      return formatv("{0} has a dynamic shape", shapeOp->getName()).str();
    FailureOr<QuantizedType> next = quantTypeAfterShapeOp(shapeOp, qtype, why);
    if (failed(next))
      return why;
    qtype = *next;
  }
  if (qtype != op.getType().getElementType())
    return formatv("the quantize's parameters ({0}) are not those of the "
                   "dequantized source after the reshapes and transposes "
                   "({1})",
                   op.getType().getElementType(), qtype)
        .str();
  return std::nullopt;
}

/// Pattern 8: quantize(shape ops(dequantize(q))), where the shape ops are
/// linalg.transpose, tensor.expand_shape and tensor.collapse_shape and the
/// quantize's type is the one `q`'s parameters have after them, becomes the
/// same shape ops on `q` itself: only the stored bytes move (ONNX QDQ
/// graphs' split and merged attention heads). Exact: every element keeps
/// its stored value and its parameters.
struct FoldShapeOpsOfDequantize : OpRewritePattern<QuantizeOp> {
  FoldShapeOpsOfDequantize(MLIRContext *context,
                           std::shared_ptr<FoldContext> ctx)
      : OpRewritePattern(context, /*benefit=*/2), ctx(std::move(ctx)) {}

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<ShapeChain> chain = findShapeChain(op);
    if (!chain)
      return failure();
    if (std::optional<std::string> why = whyShapeChainStays(op, *chain))
      return rewriter.notifyMatchFailure(op, *why);
    Value source = chain->source;
    std::string why;
    rewriter.setInsertionPoint(op);
    Value current = source;
    for (Operation *shapeOp : chain->ops) {
      Location loc = shapeOp->getLoc();
      auto floatType = cast<RankedTensorType>(shapeOp->getResult(0).getType());
      QuantizedType currentQ = quantTypeOf(current);
      FailureOr<QuantizedType> nextQ =
          quantTypeAfterShapeOp(shapeOp, currentQ, why);
      auto type = RankedTensorType::get(floatType.getShape(), *nextQ);
      // A per-axis type whose axis moves: the op moves the storage integers
      // (quant.scast on either side), since a linalg.transpose or reshape
      // keeps its element type.
      if (*nextQ != currentQ) {
        auto storage = IntegerType::get(op.getContext(),
                                        currentQ.getStorageTypeIntegralWidth());
        Value stored = quant::StorageCastOp::create(
            rewriter, loc,
            RankedTensorType::get(tensorTypeOf(current).getShape(), storage),
            current);
        current = stored;
        type = RankedTensorType::get(floatType.getShape(), storage);
      }
      if (auto transpose = dyn_cast<linalg::TransposeOp>(shapeOp)) {
        Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                             type.getElementType());
        current = linalg::TransposeOp::create(rewriter, loc, current, init,
                                              transpose.getPermutation())
                      ->getResult(0);
      } else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(shapeOp)) {
        current = tensor::ExpandShapeOp::create(
            rewriter, loc, type, current, expand.getReassociationIndices());
      } else {
        current = tensor::CollapseShapeOp::create(
            rewriter, loc, type, current,
            cast<tensor::CollapseShapeOp>(shapeOp).getReassociationIndices());
      }
      if (*nextQ != currentQ)
        current = quant::StorageCastOp::create(
            rewriter, loc, RankedTensorType::get(floatType.getShape(), *nextQ),
            current);
    }
    LLVM_DEBUG(llvm::dbgs() << DEBUG_TYPE << ": moving " << chain->ops.size()
                            << " shape ops onto the quantized source\n");
    rewriter.replaceOp(op, current);
    return success();
  }

  std::shared_ptr<FoldContext> ctx;
};

/// Pattern 1: fake_quant(x) -> dequantize(quantize(x)), its definition.
struct ExpandFakeQuant : OpRewritePattern<FakeQuantOp> {
  ExpandFakeQuant(MLIRContext *context, std::shared_ptr<FoldContext> ctx)
      : OpRewritePattern(context), ctx(std::move(ctx)) {}

  LogicalResult matchAndRewrite(FakeQuantOp op,
                                PatternRewriter &rewriter) const override {
    auto quantType =
        RankedTensorType::get(op.getType().getShape(), op.getQuantType());
    Value quantized =
        QuantizeOp::create(rewriter, op.getLoc(), quantType, op.getInput());
    rewriter.replaceOpWithNewOp<DequantizeOp>(op, op.getType(), quantized);
    return success();
  }

  std::shared_ptr<FoldContext> ctx;
};

/// Pattern 2: quantize(f32 constant) -> quant.scast(integer constant), the
/// integers computed by lib/Reference's quantize.
struct FoldConstantQuantize : OpRewritePattern<QuantizeOp> {
  FoldConstantQuantize(MLIRContext *context, std::shared_ptr<FoldContext> ctx)
      : OpRewritePattern(context), ctx(std::move(ctx)) {}

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    DenseFPElementsAttr attr;
    if (!matchPattern(op.getInput(), m_Constant(&attr)) ||
        !attr.getElementType().isF32())
      return failure();
    RankedTensorType type = op.getType();
    if (!type.hasStaticShape() || type.getNumElements() > kMaxConstantElements)
      return rewriter.notifyMatchFailure(op, "not a static constant of a "
                                             "size quantized at compile time");
    FailureOr<ref::TensorType> refType = toReferenceType(type, op.getLoc());
    if (failed(refType))
      return rewriter.notifyMatchFailure(op, "type has no reference form");
    std::vector<float> values;
    values.reserve(type.getNumElements());
    for (const APFloat &v : attr.getValues<APFloat>())
      values.push_back(v.convertToFloat());
    ref::Expected<ref::Tensor> quantized = ref::quantize(
        ref::Tensor::makeFloat(refType->shape, std::move(values)), *refType);
    if (!quantized)
      return rewriter.notifyMatchFailure(op, quantized.status.message());
    QuantizedType qtype = getUniformQuantizedElementType(type);
    unsigned width = qtype.getStorageTypeIntegralWidth();
    SmallVector<APInt> stored;
    stored.reserve(quantized->i.size());
    for (int64_t v : quantized->i)
      stored.push_back(APInt(width, static_cast<uint64_t>(v),
                             /*isSigned=*/qtype.isSigned()));
    auto storageType = RankedTensorType::get(
        type.getShape(), IntegerType::get(op.getContext(), width));
    Value constant = arith::ConstantOp::create(
        rewriter, op.getLoc(), DenseElementsAttr::get(storageType, stored));
    rewriter.replaceOpWithNewOp<quant::StorageCastOp>(op, type, constant);
    return success();
  }

  std::shared_ptr<FoldContext> ctx;
};
} // namespace

//===----------------------------------------------------------------------===//
// Public entry points
//===----------------------------------------------------------------------===//

void mlir::qlow::populateFoldQdqPreparePatterns(RewritePatternSet &patterns,
                                                const FoldQdqOptions &options) {
  auto ctx = std::make_shared<FoldContext>(options);
  patterns.add<ExpandFakeQuant, FoldConstantQuantize>(patterns.getContext(),
                                                      ctx);
}

void mlir::qlow::populateFoldQdqPatterns(RewritePatternSet &patterns,
                                         const FoldQdqOptions &options) {
  auto ctx = std::make_shared<FoldContext>(options);
  patterns.add<FoldToQuantizedOp, FoldShapeOpsOfDequantize>(
      patterns.getContext(), ctx);
}

std::optional<std::string>
mlir::qlow::explainLeftInFloat(Operation *op, const FoldQdqOptions &options) {
  if (auto quantize = dyn_cast<QuantizeOp>(op))
    if (std::optional<ShapeChain> chain = findShapeChain(quantize))
      return whyShapeChainStays(quantize, *chain);
  FoldContext ctx(options);
  std::optional<PlanOrReason> plan = planFold(op, ctx);
  if (!plan)
    return std::nullopt;
  if (auto *why = std::get_if<std::string>(&*plan))
    return *why;
  return std::string("a rewrite applies but was not made");
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {
struct QlowFoldQdqPass
    : mlir::qlow::impl::QlowFoldQdqPassBase<QlowFoldQdqPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *context = &getContext();
    FoldQdqOptions options;
    options.rounding = rounding;
    options.exactOnly = exactOnly;

    // Two phases: the fold patterns decide on an op's users (form A of a
    // matmul needs its qlow.quantize users), so every fake_quant must be a
    // quantize/dequantize pair before any of them looks.
    RewritePatternSet prepare(context);
    populateFoldQdqPreparePatterns(prepare, options);
    RewritePatternSet fold(context);
    populateFoldQdqPatterns(fold, options);
    if (failed(applyPatternsGreedily(func, std::move(prepare))) ||
        failed(applyPatternsGreedily(func, std::move(fold)))) {
      func.emitError() << "qlow-fold-qdq did not converge";
      return signalPassFailure();
    }

    func.walk([&](Operation *op) {
      std::optional<std::string> why = explainLeftInFloat(op, options);
      if (!why)
        return;
      if (!report)
        return;
      std::string what = op->getName().getStringRef().str();
      if (auto quantize = dyn_cast<QuantizeOp>(op)) {
        what = "qlow.dequantize -> ";
        if (std::optional<ShapeChain> chain = findShapeChain(quantize))
          for (Operation *shapeOp : chain->ops)
            what += shapeOp->getName().getStringRef().str() + " -> ";
        what += "qlow.quantize";
      }
      op->emitRemark() << "left in float: " << what << " (" << *why << ")";
    });
  }
};
} // namespace
