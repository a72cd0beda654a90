//===- FloatOpsToLinalg.cpp - float forms of the float-semantics ops ------===//
//
// Lowers qlow.softmax, qlow.layer_norm, qlow.rms_norm, qlow.gelu (erf and
// tanh forms), qlow.silu and qlow.rope on f32 values ("float inside": the
// partial quantization of a transformer block), and qlow.embedding, to
// linalg.generic ops on tensors: reductions along one axis and elementwise
// maps, so that qlow-vectorize-elementwise vectorizes every all-parallel
// generic and the reductions become loops.
//
// A quantized input is first dequantized (`f32(q - z) * s`, as
// qlow.dequantize) and a quantized result is quantized afterwards
// (`saturate(roundeven(y / s) + z)`, as qlow.quantize), each by an
// elementwise generic that qlow-fuse-elementwise merges with its neighbour.
// Quantized gelu/silu of at most 8 bits per tensor keep the exact table of
// ElementwiseToLinalg.cpp, which is preferred (higher benefit).
//
// Accuracy against lib/Reference (double inside, rounded once to f32),
// measured by test/e2e/random_float_ops.py on random shapes and values
// (magnitudes up to 1e4, and up to 3e38 for the activations):
//  * layer_norm, rms_norm and rope are bit-exact: they compute in f64 in the
//    reference's order of operations (f32 inputs are exact in f64; sums are
//    sequential loops, and no operation is fused or reassociated); so is
//    embedding (a copy, or qlow.dequantize's arithmetic);
//  * softmax, gelu and silu use f32 exp/erfc, which qlow-cpu-pipeline replaces
//    by polynomial approximations (qlow-approximate-math). The
//    tolerance they are tested with is max |compiled - reference| <=
//    2^-20 (about 9.5e-7) * max |reference| over the result (results below
//    2^-64 count as 2^-64: exp flushes results below 2^-126), NaN and
//    infinities at the same places; quantized results differ by at most one
//    step. Measured over 3000 random functions (AVX-512 and AVX2): gelu (erf)
//    1.9e-7, gelu (tanh) 1.4e-7, silu 1.4e-7, softmax 1.5e-7 times
//    max |reference|; on the results above 2^-20 of the largest, at most 19,
//    23, 3 and 10 ulp; quantized results at most one step off. gelu (erf)
//    since it uses qlow's erfc polynomial (3000 gelu functions, AVX2): 3.5e-7
//    times max |reference|, at most 7 ulp.
//
//===----------------------------------------------------------------------===//

#include "Common.h"
#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Conversion/QlowToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::qlow::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Generic builders
//===----------------------------------------------------------------------===//

using BodyBuilder = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// The identity map over `rank` loops without loop `dim`: how a per-row
/// statistic (the input's shape without `dim`) is read inside the loops.
AffineMap dropLoop(MLIRContext *context, unsigned rank, unsigned dim) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d = 0; d < rank; ++d)
    if (d != dim)
      exprs.push_back(getAffineDimExpr(d, context));
  return AffineMap::get(rank, 0, exprs, context);
}

/// `shape` without dimension `dim`.
SmallVector<int64_t> dropDim(ArrayRef<int64_t> shape, unsigned dim) {
  SmallVector<int64_t> result(shape);
  result.erase(result.begin() + dim);
  return result;
}

/// A linalg.generic over the loops of `shape`, all parallel, mapping `inputs`
/// (read through `maps`) to a new tensor of `shape` and `elementType`, or in
/// place into `init` when given (the body then also sees its element last).
Value buildMap(OpBuilder &b, Location loc, ValueRange inputs,
               ArrayRef<AffineMap> maps, ArrayRef<int64_t> shape,
               Type elementType, BodyBuilder body, Value init = {}) {
  unsigned rank = shape.size();
  if (!init)
    init = tensor::EmptyOp::create(b, loc, shape, elementType);
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, allMaps,
      iterators, [&](OpBuilder &nested, Location l, ValueRange args) {
        linalg::YieldOp::create(nested, l, body(nested, l, args));
      });
  return generic.getResult(0);
}

/// Reduces along loop `dim` of `shape`: a tensor of `shape` without `dim`,
/// filled with `initValue` of `accType`, into which `body` folds each
/// element (its arguments: the elements of `inputs`, then the accumulator).
/// The loops run in order, so each sum is sequential as in lib/Reference.
Value buildReduction(OpBuilder &b, Location loc, ValueRange inputs,
                     ArrayRef<AffineMap> maps, ArrayRef<int64_t> shape,
                     unsigned dim, Type accType, double initValue,
                     BodyBuilder body) {
  unsigned rank = shape.size();
  SmallVector<int64_t> outShape = dropDim(shape, dim);
  Value empty = tensor::EmptyOp::create(b, loc, outShape, accType);
  Value init =
      linalg::FillOp::create(
          b, loc, ValueRange{scalarConstant(b, loc, accType, initValue)},
          ValueRange{empty})
          .getResult(0);
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(dropLoop(b.getContext(), rank, dim));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators[dim] = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, allMaps,
      iterators, [&](OpBuilder &nested, Location l, ValueRange args) {
        linalg::YieldOp::create(nested, l, body(nested, l, args));
      });
  return generic.getResult(0);
}

Value toF64(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isF64())
    return v; // A parameter widened at compile time (widenConstant).
  return arith::ExtFOp::create(b, loc, b.getF64Type(), v);
}

/// A constant f32 parameter tensor (gamma, beta) as the f64 constant of the
/// same values (exact), so that the normalization, which computes in f64,
/// reads it as it is instead of widening each element again in every row.
/// Anything else is returned unchanged.
Value widenConstant(OpBuilder &b, Location loc, Value v) {
  DenseFPElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) ||
      !attr.getElementType().isF32())
    return v;
  SmallVector<double> values;
  for (const APFloat &value : attr.getValues<APFloat>())
    values.push_back(value.convertToFloat());
  auto type = RankedTensorType::get(attr.getType().getShape(), b.getF64Type());
  return arith::ConstantOp::create(
      b, loc, DenseFPElementsAttr::get(type, ArrayRef<double>(values)));
}

//===----------------------------------------------------------------------===//
// Quantized operands and results
//===----------------------------------------------------------------------===//

/// Whether values of tensor type `type` can enter or leave the f32
/// computation: f32, or quantized per tensor or per axis.
bool isF32OrSupportedQuant(Type type) {
  return getElementTypeOrSelf(type).isF32() || succeeded(getQuantInfo(type));
}

/// The scale (f32) and zero point (i64) of each element of a quantized
/// tensor of `shape`, as parameters of a generic over its loops.
std::pair<unsigned, unsigned>
addQuantParams(GenericParams &params, OpBuilder &b, const QuantInfo &info) {
  SmallVector<double> scales, zeroPoints;
  for (double s : info.scales)
    scales.push_back(static_cast<float>(s));
  for (int64_t z : info.zeroPoints)
    zeroPoints.push_back(static_cast<double>(z));
  SmallVector<int64_t> shape;
  SmallVector<unsigned> loops;
  if (info.axis >= 0) {
    shape.push_back(info.scales.size());
    loops.push_back(info.axis);
  }
  return {params.add(b.getF32Type(), scales, shape, loops),
          params.add(b.getI64Type(), zeroPoints, shape, loops)};
}

/// `storage` (converted from a tensor of `originalType`) as f32 values: as is
/// for f32, dequantized (`f32(q - z) * s`, qlow.dequantize) for a quantized
/// type that isF32OrSupportedQuant accepts.
Value dequantizeIfQuantized(OpBuilder &b, Location loc, Value storage,
                            Type originalType) {
  auto type = cast<RankedTensorType>(originalType);
  if (type.getElementType().isF32())
    return storage;
  QuantInfo info = *getQuantInfo(type);
  unsigned rank = type.getRank();
  GenericParams params(b, loc, rank);
  std::pair<unsigned, unsigned> handles = addQuantParams(params, b, info);
  unsigned scale = handles.first, zeroPoint = handles.second;
  SmallVector<Value> inputs = {storage};
  llvm::append_range(inputs, params.inputs());
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  llvm::append_range(maps, params.maps());
  return buildMap(
      b, loc, inputs, maps, type.getShape(), b.getF32Type(),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value diff = storageMinusZeroPointF32(
            nb, l, args[0], params.get(nb, l, zeroPoint, args, 1), info);
        return arith::MulFOp::create(nb, l, diff,
                                     params.get(nb, l, scale, args, 1));
      });
}

/// f32 `values` as a tensor of `resultType`: as is for f32, quantized
/// (`saturate(roundeven(y / s) + z)`, NaN to z, qlow.quantize) for a
/// quantized type that isF32OrSupportedQuant accepts.
Value quantizeIfQuantized(OpBuilder &b, Location loc, Value values,
                          Type resultType) {
  auto type = cast<RankedTensorType>(resultType);
  if (type.getElementType().isF32())
    return values;
  QuantInfo info = *getQuantInfo(type);
  unsigned rank = type.getRank();
  GenericParams params(b, loc, rank);
  std::pair<unsigned, unsigned> handles = addQuantParams(params, b, info);
  unsigned scale = handles.first, zeroPoint = handles.second;
  SmallVector<Value> inputs = {values};
  llvm::append_range(inputs, params.inputs());
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  llvm::append_range(maps, params.maps());
  return buildMap(
      b, loc, inputs, maps, type.getShape(), b.getIntegerType(info.bits),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value scaled = arith::DivFOp::create(nb, l, args[0],
                                             params.get(nb, l, scale, args, 1));
        return roundToQuantized(nb, l, scaled,
                                params.get(nb, l, zeroPoint, args, 1),
                                info.qmin, info.qmax, info.bits);
      });
}

//===----------------------------------------------------------------------===//
// The f32 computations
//===----------------------------------------------------------------------===//

/// x * sigmoid(t) for f32 scalars, from e = exp(-|t|) so that exp never
/// overflows: sigmoid(t) = 1 / (1 + e) for t >= 0, e / (1 + e) for t < 0.
/// The second form keeps the relative accuracy of small results (x very
/// negative), where 1 - tanh or 1 + erf would cancel; t = -inf gives
/// sigmoid 0 and x * 0 as the reference's formulas do (NaN for x = -inf).
Value timesSigmoid(OpBuilder &b, Location loc, Value x, Value t) {
  Type f32 = b.getF32Type();
  Value e = math::ExpOp::create(
      b, loc, arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, t)));
  Value one = scalarConstant(b, loc, f32, 1.0);
  Value nonNegative = arith::CmpFOp::create(
      b, loc, arith::CmpFPredicate::OGE, t, scalarConstant(b, loc, f32, 0.0));
  Value numerator = arith::SelectOp::create(b, loc, nonNegative, one, e);
  Value sigmoid = arith::DivFOp::create(b, loc, numerator,
                                        arith::AddFOp::create(b, loc, one, e));
  return arith::MulFOp::create(b, loc, x, sigmoid);
}

/// gelu(x), erf form: x Phi(x) with Phi(x) = 0.5 erfc(-x / sqrt 2), which
/// has no cancellation for negative x. (lib/Reference evaluates 1 + erf in
/// double, which cancels below x = -5: at x = -7.77 its result is 0.3% off
/// and this one is accurate; random_float_ops.py allows for that.)
///
/// Through buildErfcTail (qlow's erfc polynomial) rather than math.erfc of
/// the rounded -x / sqrt 2: its rounding (2^-24 relative) would put
/// x^2 2^-24 of relative error on exp(-x^2 / 2), about 7e-7 at x = -5,
/// where the result can be the largest of its tensor. Here a^2 = x^2 / 2 is
/// split exactly: hi = fl(x^2) / 2, lo = (x^2 - fl(x^2)) / 2 (an fma).
///   h = erfc(|x| / sqrt 2) / 2 (|x| clamped to 10 sqrt 2, NaN kept),
///   gelu(x) = x h for x < 0, x (1 - h) otherwise.
Value geluErf(OpBuilder &b, Location loc, Value x) {
  Type f32 = b.getF32Type();
  auto cst = [&](double v) { return scalarConstant(b, loc, f32, v); };
  Value mag = math::AbsFOp::create(b, loc, x);
  Value limit = cst(10.0 * llvm::numbers::sqrt2);
  mag = arith::SelectOp::create(
      b, loc,
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ULT, mag, limit),
      mag, limit);
  // t = 1 / (1 + a / 2) with a = |x| / sqrt 2.
  Value one = cst(1.0);
  Value t = arith::DivFOp::create(
      b, loc, one,
      math::FmaOp::create(b, loc, mag, cst(0.5 * llvm::numbers::inv_sqrt2),
                          one));
  Value square = arith::MulFOp::create(b, loc, mag, mag);
  Value squareLo = math::FmaOp::create(
      b, loc, mag, mag, arith::NegFOp::create(b, loc, square));
  Value half = cst(0.5);
  Value hi = arith::MulFOp::create(b, loc, square, half);
  Value lo = arith::MulFOp::create(b, loc, squareLo, half);
  Value h = arith::MulFOp::create(b, loc, buildErfcTail(b, loc, t, hi, lo),
                                  half);
  Value negative = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x,
                                         cst(0.0));
  Value phi = arith::SelectOp::create(
      b, loc, negative, h, arith::SubFOp::create(b, loc, one, h));
  return arith::MulFOp::create(b, loc, x, phi);
}

/// gelu(x), tanh form: 0.5 x (1 + tanh(u)) = x sigmoid(2u) with
/// u = sqrt(2/pi) (x + 0.044715 x^3), i.e. 2u = x (c1 + c3 x^2).
Value geluTanh(OpBuilder &b, Location loc, Value x) {
  Type f32 = b.getF32Type();
  const double k = 2.0 * std::sqrt(2.0 / llvm::numbers::pi);
  Value x2 = arith::MulFOp::create(b, loc, x, x);
  Value poly = arith::AddFOp::create(
      b, loc, scalarConstant(b, loc, f32, k),
      arith::MulFOp::create(b, loc, x2,
                            scalarConstant(b, loc, f32, k * 0.044715)));
  return timesSigmoid(b, loc, x, arith::MulFOp::create(b, loc, x, poly));
}

/// An all-parallel generic applying `fn` to each f32 element of `x`.
Value mapF32(OpBuilder &b, Location loc, Value x,
             function_ref<Value(OpBuilder &, Location, Value)> fn) {
  auto type = cast<RankedTensorType>(x.getType());
  return buildMap(b, loc, ValueRange{x},
                  {b.getMultiDimIdentityMap(type.getRank())}, type.getShape(),
                  b.getF32Type(),
                  [&](OpBuilder &nb, Location l, ValueRange args) {
                    return fn(nb, l, args[0]);
                  });
}

/// softmax along `axis`, in the reference's steps: the maximum m (NaN if any
/// element is NaN), e = exp(x - m) in f32, their sum accumulated in f64 in
/// order, and e / f32(sum) computed into e's buffer.
Value buildSoftmax(OpBuilder &b, Location loc, Value x, unsigned axis) {
  auto type = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> shape = type.getShape();
  unsigned rank = type.getRank();
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  AffineMap row = dropLoop(context, rank, axis);

  Value max = buildReduction(
      b, loc, ValueRange{x}, {identity}, shape, axis, f32,
      -std::numeric_limits<double>::infinity(),
      [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return arith::MaximumFOp::create(nb, l, args[1], args[0]);
      });
  Value e =
      buildMap(b, loc, ValueRange{x, max}, {identity, row}, shape, f32,
               [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                 return math::ExpOp::create(
                     nb, l, arith::SubFOp::create(nb, l, args[0], args[1]));
               });
  Value sum = buildReduction(
      b, loc, ValueRange{e}, {identity}, shape, axis, f64, 0.0,
      [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return arith::AddFOp::create(nb, l, args[1], toF64(nb, l, args[0]));
      });
  return buildMap(
      b, loc, ValueRange{sum}, {row}, shape, f32,
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value sum32 = arith::TruncFOp::create(nb, l, f32, args[0]);
        return arith::DivFOp::create(nb, l, args[1], sum32);
      },
      /*init=*/e);
}

/// 1 / sqrt(stat / d + epsilon) per row, in f64.
Value buildInverseRoot(OpBuilder &b, Location loc, Value stat, int64_t d,
                       float epsilon) {
  auto type = cast<RankedTensorType>(stat.getType());
  Type f64 = b.getF64Type();
  return buildMap(
      b, loc, ValueRange{stat}, {b.getMultiDimIdentityMap(type.getRank())},
      type.getShape(), f64,
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value mean = arith::DivFOp::create(
            nb, l, args[0], scalarConstant(nb, l, f64, static_cast<double>(d)));
        Value shifted = arith::AddFOp::create(
            nb, l, mean,
            scalarConstant(nb, l, f64, static_cast<double>(epsilon)));
        return arith::DivFOp::create(nb, l, scalarConstant(nb, l, f64, 1.0),
                                     math::SqrtOp::create(nb, l, shifted));
      });
}

/// layer_norm over the last dimension, in f64 exactly as lib/Reference:
/// mean = (sum x) / D; var = (sum (x - mean)^2) / D (two passes);
/// rstd = 1 / sqrt(var + eps); y = f32((x - mean) * rstd * gamma + beta).
Value buildLayerNorm(OpBuilder &b, Location loc, Value x, Value gamma,
                     Value beta, float epsilon) {
  auto type = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> shape = type.getShape();
  unsigned rank = type.getRank(), last = rank - 1;
  int64_t d = shape.back();
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  AffineMap row = dropLoop(context, rank, last);
  AffineMap feature =
      AffineMap::get(rank, 0, getAffineDimExpr(last, context), context);

  Value sum = buildReduction(
      b, loc, ValueRange{x}, {identity}, shape, last, f64, 0.0,
      [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return arith::AddFOp::create(nb, l, args[1], toF64(nb, l, args[0]));
      });
  SmallVector<int64_t> rowShape = dropDim(shape, last);
  AffineMap rowIdentity = b.getMultiDimIdentityMap(rank - 1);
  Value mean = buildMap(
      b, loc, ValueRange{sum}, {rowIdentity}, rowShape, f64,
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return arith::DivFOp::create(
            nb, l, args[0], scalarConstant(nb, l, f64, static_cast<double>(d)));
      });
  Value squares = buildReduction(
      b, loc, ValueRange{x, mean}, {identity, row}, shape, last, f64, 0.0,
      [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value centered =
            arith::SubFOp::create(nb, l, toF64(nb, l, args[0]), args[1]);
        return arith::AddFOp::create(
            nb, l, args[2], arith::MulFOp::create(nb, l, centered, centered));
      });
  Value rstd = buildInverseRoot(b, loc, squares, d, epsilon);

  SmallVector<Value> inputs = {x, mean, rstd, widenConstant(b, loc, gamma)};
  SmallVector<AffineMap> maps = {identity, row, row, feature};
  if (beta) {
    inputs.push_back(widenConstant(b, loc, beta));
    maps.push_back(feature);
  }
  return buildMap(b, loc, inputs, maps, shape, f32,
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    Value centered = arith::SubFOp::create(
                        nb, l, toF64(nb, l, args[0]), args[1]);
                    Value y = arith::MulFOp::create(
                        nb, l, arith::MulFOp::create(nb, l, centered, args[2]),
                        toF64(nb, l, args[3]));
                    // Without beta the reference adds +0.0, which turns a
                    // -0.0 (x == mean, gamma < 0) into +0.0.
                    Value shift =
                        beta ? toF64(nb, l, args[4])
                             : scalarConstant(nb, l, nb.getF64Type(), 0.0);
                    y = arith::AddFOp::create(nb, l, y, shift);
                    return arith::TruncFOp::create(nb, l, f32, y);
                  });
}

/// rms_norm over the last dimension, in f64 exactly as lib/Reference:
/// rinv = 1 / sqrt((sum x^2) / D + eps); y = f32(x * rinv * gamma).
Value buildRmsNorm(OpBuilder &b, Location loc, Value x, Value gamma,
                   float epsilon) {
  auto type = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> shape = type.getShape();
  unsigned rank = type.getRank(), last = rank - 1;
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  AffineMap row = dropLoop(context, rank, last);
  AffineMap feature =
      AffineMap::get(rank, 0, getAffineDimExpr(last, context), context);

  Value squares =
      buildReduction(b, loc, ValueRange{x}, {identity}, shape, last, f64, 0.0,
                     [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                       Value v = toF64(nb, l, args[0]);
                       return arith::AddFOp::create(
                           nb, l, args[1], arith::MulFOp::create(nb, l, v, v));
                     });
  Value rinv = buildInverseRoot(b, loc, squares, shape.back(), epsilon);
  return buildMap(
      b, loc, ValueRange{x, rinv, widenConstant(b, loc, gamma)},
      {identity, row, feature}, shape, f32,
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value y = arith::MulFOp::create(
            nb, l, arith::MulFOp::create(nb, l, toF64(nb, l, args[0]), args[1]),
            toF64(nb, l, args[2]));
        return arith::TruncFOp::create(nb, l, f32, y);
      });
}

/// One rope element, x cos + partner sin in f64 (both products exact),
/// rounded once to f32.
Value ropeElement(OpBuilder &b, Location loc, Value x, Value partner,
                  Value cos, Value sin) {
  Value y = arith::AddFOp::create(
      b, loc,
      arith::MulFOp::create(b, loc, toF64(b, loc, x), toF64(b, loc, cos)),
      arith::MulFOp::create(b, loc, toF64(b, loc, partner),
                            toF64(b, loc, sin)));
  return arith::TruncFOp::create(b, loc, b.getF32Type(), y);
}

/// rope on x [..., S, D], in f64 as lib/Reference (products exact, one
/// rounding of the sum in f64, then to f32). x is viewed as
/// [..., S, 2, D/2] (rotate-half pairs (i, i + D/2)) or [..., S, D/2, 2]
/// (interleaved pairs (2i, 2i + 1)): out_h = x_h cos + (h == 0 ? -x_1 :
/// x_0) sin. Rotate-half takes one generic per member h on slices of the
/// view; interleaved one generic over the view with h as a loop, reading
/// both members through constant indices.
Value buildRope(OpBuilder &b, Location loc, Value x, Value cos, Value sin,
                bool interleaved) {
  auto type = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> shape = type.getShape();
  unsigned rank = type.getRank();
  int64_t half = shape.back() / 2;
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type();

  // The view: one more dimension; loops (batch..., s, a, c) where the pair
  // member h is `a` (rotate-half) or `c` (interleaved) and the frequency i
  // is the other.
  SmallVector<int64_t> viewShape(shape.drop_back());
  if (interleaved) {
    viewShape.push_back(half);
    viewShape.push_back(2);
  } else {
    viewShape.push_back(2);
    viewShape.push_back(half);
  }
  SmallVector<ReassociationIndices> reassociation;
  for (unsigned d = 0; d + 1 < rank; ++d)
    reassociation.push_back({static_cast<int64_t>(d)});
  reassociation.push_back({rank - 1, rank});
  auto viewType = RankedTensorType::get(viewShape, f32);
  Value view =
      tensor::ExpandShapeOp::create(b, loc, viewType, x, reassociation);

  if (!interleaved) {
    // Rotate-half: one generic per half over [..., S, D/2], both members
    // read as slices of the view and the result written into that half of
    // it, with no index-dependent select, so that the elementwise
    // vectorizer takes them (f64 vectors of 4 lanes on AVX2); the select
    // form stayed scalar with a branch per element (0.107 ms for the
    // decoder's [1, 12, 128, 64] on Zen 3, 1 thread).
    SmallVector<int64_t> halfShape(shape.drop_back());
    halfShape.push_back(half);
    auto halfType = RankedTensorType::get(halfShape, f32);
    SmallVector<OpFoldResult> sizes, strides(rank + 1, b.getIndexAttr(1));
    for (int64_t size : viewShape)
      sizes.push_back(b.getIndexAttr(size));
    sizes[rank - 1] = b.getIndexAttr(1);
    auto offsetsOf = [&](int64_t h) {
      SmallVector<OpFoldResult> offsets(rank + 1, b.getIndexAttr(0));
      offsets[rank - 1] = b.getIndexAttr(h);
      return offsets;
    };
    auto member = [&](Value from, int64_t h) {
      return tensor::ExtractSliceOp::create(b, loc, halfType, from,
                                            offsetsOf(h), sizes, strides)
          .getResult();
    };
    Value x0 = member(view, 0), x1 = member(view, 1);
    AffineMap identity = b.getMultiDimIdentityMap(rank);
    AffineMap table = AffineMap::get(
        rank, 0,
        {getAffineDimExpr(rank - 2, context),
         getAffineDimExpr(rank - 1, context)},
        context);
    Value result = tensor::EmptyOp::create(b, loc, viewShape, f32);
    for (int64_t h = 0; h < 2; ++h) {
      Value own = h == 0 ? x0 : x1, other = h == 0 ? x1 : x0;
      Value rotated = buildMap(
          b, loc, ValueRange{own, other, cos, sin},
          {identity, identity, table, table}, halfShape, f32,
          [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
            // out_h = x_h cos + (h == 0 ? -x_1 : x_0) sin.
            Value partner =
                h == 0 ? arith::NegFOp::create(nb, l, args[1]).getResult()
                       : args[1];
            return ropeElement(nb, l, args[0], partner, args[2], args[3]);
          },
          member(result, h));
      result = tensor::InsertSliceOp::create(b, loc, rotated, result,
                                             offsetsOf(h), sizes, strides);
    }
    return tensor::CollapseShapeOp::create(b, loc, type, result,
                                           reassociation);
  }

  unsigned loops = rank + 1;
  unsigned hLoop = interleaved ? rank : rank - 1;
  unsigned iLoop = interleaved ? rank - 1 : rank;
  auto member = [&](int64_t h) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d = 0; d < loops; ++d)
      exprs.push_back(d == hLoop ? getAffineConstantExpr(h, context)
                                 : getAffineDimExpr(d, context));
    return AffineMap::get(loops, 0, exprs, context);
  };
  AffineMap table = AffineMap::get(
      loops, 0,
      {getAffineDimExpr(rank - 2, context), getAffineDimExpr(iLoop, context)},
      context);
  AffineMap identity = b.getMultiDimIdentityMap(loops);
  Value rotated = buildMap(
      b, loc, ValueRange{view, view, view, cos, sin},
      {identity, member(0), member(1), table, table}, viewShape, f32,
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value isFirst =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq,
                                  linalg::IndexOp::create(nb, l, hLoop),
                                  arith::ConstantIndexOp::create(nb, l, 0));
        Value partner = arith::SelectOp::create(
            nb, l, isFirst, arith::NegFOp::create(nb, l, args[2]), args[1]);
        return ropeElement(nb, l, args[0], partner, args[3], args[4]);
      });
  return tensor::CollapseShapeOp::create(b, loc, type, rotated, reassociation);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Shared frame of the float-op lowerings: static shapes, f32 or per-tensor/
/// per-axis quantized input and result; dequantize, compute in f32 (by
/// `compute`), quantize.
template <typename OpTy> struct FloatOpLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type inType = op.getInput().getType(), outType = op.getType();
    for (Value operand : op->getOperands())
      if (!cast<RankedTensorType>(operand.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic shapes");
    if (!cast<RankedTensorType>(outType).hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    if (!isF32OrSupportedQuant(inType) || !isF32OrSupportedQuant(outType))
      return rewriter.notifyMatchFailure(
          op, "only f32 and per-tensor or per-axis quantized types");
    Location loc = op.getLoc();
    // Row ops over the last axis of a tensor of rank > 2 (ONNX's [1, S, D]
    // layer_norm, [1, H, S, S] softmax) are computed on the [rows, last]
    // matrix: qlow-vectorize-elementwise vectorizes 2-D row reductions and
    // fuses a row's steps into one loop over the rows, which it does not
    // for higher ranks (nor over a leading unit dimension). Same operations
    // on the same elements in the same order per row, so the results are
    // those of the un-collapsed form; per-axis parameters keep the shape.
    auto inTensor = cast<RankedTensorType>(inType);
    auto outTensor = cast<RankedTensorType>(outType);
    int64_t rank = inTensor.getRank();
    auto perTensor = [](RankedTensorType type) {
      if (type.getElementType().isF32())
        return true;
      FailureOr<QuantInfo> info = getQuantInfo(type);
      return succeeded(info) && info->axis < 0;
    };
    Value input = adaptor.getInput();
    SmallVector<ReassociationIndices> rows;
    if (rank > 2 && reducesLastAxis(op, rank) && perTensor(inTensor) &&
        perTensor(outTensor) && outTensor.getShape() == inTensor.getShape()) {
      ReassociationIndices leading;
      for (int64_t d = 0; d + 1 < rank; ++d)
        leading.push_back(d);
      rows = {leading, {rank - 1}};
      int64_t count = 1;
      for (int64_t d = 0; d + 1 < rank; ++d)
        count *= inTensor.getDimSize(d);
      SmallVector<int64_t> matrix = {count, inTensor.getShape().back()};
      inType = RankedTensorType::get(matrix, inTensor.getElementType());
      outType = RankedTensorType::get(matrix, outTensor.getElementType());
      input = tensor::CollapseShapeOp::create(rewriter, loc, input, rows);
    }
    Value x = dequantizeIfQuantized(rewriter, loc, input, inType);
    Value y = compute(rewriter, loc, op, adaptor, x);
    Value result = quantizeIfQuantized(rewriter, loc, y, outType);
    if (!rows.empty())
      result = tensor::ExpandShapeOp::create(
          rewriter, loc,
          cast<RankedTensorType>(
              this->getTypeConverter()->convertType(outTensor)),
          result, rows);
    rewriter.replaceOp(op, result);
    return success();
  }

private:
  /// Whether `op` is a row op over the last axis of its rank-`rank` input
  /// (softmax along it, layer_norm, rms_norm).
  static bool reducesLastAxis(SoftmaxOp op, int64_t rank) {
    int64_t axis = static_cast<int64_t>(op.getAxis());
    return axis == -1 || axis == rank - 1;
  }
  static bool reducesLastAxis(LayerNormOp, int64_t) { return true; }
  static bool reducesLastAxis(RmsNormOp, int64_t) { return true; }
  static bool reducesLastAxis(Operation *, int64_t) { return false; }

  static Value compute(OpBuilder &b, Location loc, GeluOp op, GeluOp::Adaptor,
                       Value x) {
    if (op.getApproximate() == GeluApproximation::Tanh)
      return mapF32(b, loc, x, geluTanh);
    return mapF32(b, loc, x, geluErf);
  }
  static Value compute(OpBuilder &b, Location loc, SiluOp, SiluOp::Adaptor,
                       Value x) {
    return mapF32(b, loc, x, [](OpBuilder &nb, Location l, Value v) {
      return timesSigmoid(nb, l, v, v);
    });
  }
  static Value compute(OpBuilder &b, Location loc, SoftmaxOp op,
                       SoftmaxOp::Adaptor, Value x) {
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    // I64Attr reads back as uint64_t. `x` may be the [rows, last] matrix of
    // a softmax along the last axis (see matchAndRewrite).
    int64_t axis = static_cast<int64_t>(op.getAxis());
    int64_t opRank = cast<RankedTensorType>(op.getInput().getType()).getRank();
    if (axis < 0)
      axis += opRank;
    if (reducesLastAxis(op, opRank))
      axis = rank - 1;
    return buildSoftmax(b, loc, x, static_cast<unsigned>(axis));
  }
  static Value compute(OpBuilder &b, Location loc, LayerNormOp op,
                       LayerNormOp::Adaptor adaptor, Value x) {
    return buildLayerNorm(b, loc, x, adaptor.getGamma(), adaptor.getBeta(),
                          op.getEpsilon().convertToFloat());
  }
  static Value compute(OpBuilder &b, Location loc, RmsNormOp op,
                       RmsNormOp::Adaptor adaptor, Value x) {
    return buildRmsNorm(b, loc, x, adaptor.getGamma(),
                        op.getEpsilon().convertToFloat());
  }
  static Value compute(OpBuilder &b, Location loc, RopeOp op,
                       RopeOp::Adaptor adaptor, Value x) {
    return buildRope(b, loc, x, adaptor.getCos(), adaptor.getSin(),
                     op.getInterleaved());
  }
};

/// qlow.embedding: the rows of `table` [V, D] at `indices`, copied (f32, or
/// the stored values of a per-tensor quantized table) or dequantized with
/// the parameters of each element's row, column or block (f32 result; a
/// sub-channel table's parameters are read at (row floordiv b0, col floordiv
/// b1), so a 4-bit table stays 4-bit and only the gathered rows are
/// dequantized). First every
/// index is checked against [0, V) (a reduction to one flag and a cf.assert:
/// an index out of range aborts, where the reference reports an error), then
/// the rows are gathered by an elementwise generic whose reads along D are
/// contiguous, which linalg::vectorize can make vector loads.
struct EmbeddingLowering : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto tableType = cast<RankedTensorType>(op.getTable().getType());
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    if (!tableType.hasStaticShape() || !indicesType.hasStaticShape() ||
        !outType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    bool dequantize = outType.getElementType() != tableType.getElementType();
    std::optional<QuantInfo> info;
    if (dequantize) {
      FailureOr<QuantInfo> q = getQuantInfo(tableType, /*allowBlocks=*/true);
      if (failed(q) || q->axis > 1)
        return rewriter.notifyMatchFailure(op, "unsupported table type");
      info = *q;
    }

    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Type i64 = rewriter.getI64Type(), index = rewriter.getIndexType();
    int64_t rows = tableType.getDimSize(0), cols = tableType.getDimSize(1);
    unsigned k = indicesType.getRank();
    // One flag for all indices, asserted before the gather. (A check inside
    // the gather, or in an elementwise producer that qlow-fuse-elementwise
    // would fuse into it, would keep the gather from being vectorized.)
    std::string message =
        "qlow.embedding: an index is outside [0, " + std::to_string(rows) + ")";
    // The flag is an i32 (1: all in range), not an i1: vectorized, an i1
    // buffer is read as packed bits where it was stored as bytes (AArch64's
    // 4-lane vectors read the flags of 4 indices from one byte and aborted
    // on indices in range).
    Type i32 = rewriter.getI32Type();
    auto toI64 = [&](OpBuilder &b, Location l, Value v) {
      return extendStorage(b, l, v, /*isSigned=*/true, i64);
    };
    Value allTrue =
        linalg::FillOp::create(rewriter, loc,
                               ValueRange{scalarConstant(rewriter, loc, i32, 1)},
                               ValueRange{tensor::EmptyOp::create(
                                   rewriter, loc, ArrayRef<int64_t>{}, i32)})
            .getResult(0);
    auto inRange = linalg::GenericOp::create(
        rewriter, loc, TypeRange{allTrue.getType()},
        ValueRange{adaptor.getIndices()}, ValueRange{allTrue},
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(k),
                            AffineMap::get(k, 0, {}, context)},
        SmallVector<utils::IteratorType>(k, utils::IteratorType::reduction),
        [&](OpBuilder &b, Location l, ValueRange args) {
          // Unsigned: a negative index compares above V.
          Value ok = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                           toI64(b, l, args[0]),
                                           scalarConstant(b, l, i64, rows));
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::AndIOp::create(
                  b, l, args[1], arith::ExtUIOp::create(b, l, i32, ok))});
        });
    Value flag = tensor::ExtractOp::create(rewriter, loc, inRange.getResult(0),
                                           ValueRange{});
    cf::AssertOp::create(
        rewriter, loc,
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ne, flag,
                              scalarConstant(rewriter, loc, i32, 0)),
        message);

    Value table = adaptor.getTable();
    // Dequantized storage narrower than a byte (i4) is widened to i8 first
    // (a per-tensor copy keeps its type and moves whole rows): LLVM reads
    // a vector of i4 as packed nibbles, but a tensor of i4 keeps one value
    // per byte, so the rows' vector loads need byte elements. A constant
    // table (the usual case: weights) becomes an i8 constant; another is
    // extended by an elementwise generic.
    auto tableStorage =
        cast<RankedTensorType>(table.getType()).getElementType();
    if (info && tableStorage.isInteger() &&
        tableStorage.getIntOrFloatBitWidth() < 8) {
      auto wideType = RankedTensorType::get({rows, cols}, rewriter.getI8Type());
      const bool isSigned = info->isSigned;
      DenseIntElementsAttr narrow;
      if (matchPattern(table, m_Constant(&narrow))) {
        SmallVector<int8_t> wide;
        wide.reserve(rows * cols);
        for (const APInt &v : narrow.getValues<APInt>())
          wide.push_back(static_cast<int8_t>(isSigned ? v.getSExtValue()
                                                      : v.getZExtValue()));
        table = arith::ConstantOp::create(
            rewriter, loc, wideType,
            DenseElementsAttr::get(wideType, ArrayRef<int8_t>(wide)));
      } else {
        AffineMap id = rewriter.getMultiDimIdentityMap(2);
        table = buildMap(rewriter, loc, ValueRange{table}, {id}, {rows, cols},
                         rewriter.getI8Type(),
                         [&](OpBuilder &b, Location l, ValueRange args) {
                           return extendStorage(b, l, args[0], isSigned,
                                                b.getI8Type());
                         });
      }
    }
    // The parameters as a [R, C] grid read at (row floordiv rowBlock, col
    // floordiv colBlock): 1 x 1 per tensor, V x 1 per row, 1 x D per column,
    // the block counts of a sub-channel type. A grid whose values are all
    // equal is a scalar constant instead.
    int64_t gridRows = 1, gridCols = 1, rowBlock = rows, colBlock = cols;
    if (info && !info->blockSizes.empty()) {
      gridRows = info->blockCounts[0];
      gridCols = info->blockCounts[1];
      rowBlock = info->blockSizes[0];
      colBlock = info->blockSizes[1];
    } else if (info && info->axis == 0) {
      gridRows = rows;
      rowBlock = 1;
    } else if (info && info->axis == 1) {
      gridCols = cols;
      colBlock = 1;
    }
    auto grid = [&](Type type, ArrayRef<double> values) -> Value {
      if (llvm::all_equal(values))
        return scalarConstant(rewriter, loc, type, values.front());
      auto gridType = RankedTensorType::get({gridRows, gridCols}, type);
      DenseElementsAttr attr;
      if (type.isF32()) {
        SmallVector<float> v(values.begin(), values.end());
        attr = DenseElementsAttr::get(gridType, ArrayRef<float>(v));
      } else {
        SmallVector<int64_t> v;
        for (double x : values)
          v.push_back(static_cast<int64_t>(x));
        attr = DenseElementsAttr::get(gridType, ArrayRef<int64_t>(v));
      }
      return arith::ConstantOp::create(rewriter, loc, gridType, attr);
    };
    Value scaleGrid, zeroPointGrid;
    if (info) {
      SmallVector<double> scales, zeroPoints;
      for (double sc : info->scales)
        scales.push_back(static_cast<float>(sc));
      for (int64_t z : info->zeroPoints)
        zeroPoints.push_back(static_cast<double>(z));
      scaleGrid = grid(rewriter.getF32Type(), scales);
      zeroPointGrid = grid(i64, zeroPoints);
    }

    // One iteration per index: the row is a slice of the table at an offset
    // known before the row's generic runs, so linalg::vectorize reads it
    // with contiguous vector loads (an index read inside the generic, from
    // its input, would make every element a gather), and so are the row's
    // parameters. With blocks along D, the row's generic runs over (block,
    // element) loops, the block's parameters invariant along the innermost.
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(outType));
    Type outElement = resultType.getElementType();
    const int64_t count = indicesType.getNumElements();
    SmallVector<ReassociationIndices> allInOne(1);
    for (unsigned d = 0; d < k; ++d)
      allInOne[0].push_back(d);
    Value flatIndices = adaptor.getIndices();
    if (k == 0)
      flatIndices = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({1}, indicesType.getElementType()),
          flatIndices, ArrayRef<ReassociationIndices>{});
    else if (k > 1)
      flatIndices = tensor::CollapseShapeOp::create(rewriter, loc, flatIndices,
                                                    allInOne);
    auto c = [&](OpBuilder &b, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    const bool splitColumns = info && gridCols > 1 && colBlock > 1;
    auto rowType = RankedTensorType::get(
        {cols}, cast<RankedTensorType>(table.getType()).getElementType());
    auto outRowType = RankedTensorType::get({cols}, outElement);
    Value init = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{count, cols}, outElement);
    auto loop = scf::ForOp::create(
        rewriter, loc, c(rewriter, 0), c(rewriter, count), c(rewriter, 1),
        ValueRange{init},
        [&](OpBuilder &b, Location l, Value p, ValueRange acc) {
          Value id = arith::IndexCastOp::create(
              b, l, index,
              toI64(b, l,
                    tensor::ExtractOp::create(b, l, flatIndices, ValueRange{p})));
          SmallVector<OpFoldResult> one = {b.getIndexAttr(1),
                                           b.getIndexAttr(1)};
          Value row = tensor::ExtractSliceOp::create(
              b, l, rowType, table, ArrayRef<OpFoldResult>{id, b.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(cols)},
              one);
          Value out = row;
          if (info) {
            // The row of the parameter grid: a [gridCols] slice, or a scalar
            // read once per row when the grid has one column.
            Value gridRow =
                gridRows == 1
                    ? c(b, 0)
                    : (rowBlock == 1
                           ? id
                           : Value(arith::DivUIOp::create(b, l, id,
                                                          c(b, rowBlock))));
            auto rowParams = [&](Value g) -> Value {
              if (!isa<RankedTensorType>(g.getType()))
                return g;
              if (gridCols == 1)
                return tensor::ExtractOp::create(b, l, g,
                                                 ValueRange{gridRow, c(b, 0)});
              auto sliceType = RankedTensorType::get(
                  {gridCols},
                  cast<RankedTensorType>(g.getType()).getElementType());
              return tensor::ExtractSliceOp::create(
                  b, l, sliceType, g,
                  ArrayRef<OpFoldResult>{gridRow, b.getIndexAttr(0)},
                  ArrayRef<OpFoldResult>{b.getIndexAttr(1),
                                         b.getIndexAttr(gridCols)},
                  one);
            };
            Value scale = rowParams(scaleGrid), zero = rowParams(zeroPointGrid);
            // Loops (d) or (block, element); the parameter vectors are
            // indexed by the column or the block.
            SmallVector<int64_t> shape = {cols};
            if (splitColumns)
              shape = {gridCols, colBlock};
            unsigned loops = shape.size();
            MLIRContext *ctx = b.getContext();
            AffineMap all = AffineMap::getMultiDimIdentityMap(loops, ctx);
            AffineMap first = AffineMap::get(loops, 0, {b.getAffineDimExpr(0)},
                                             ctx);
            Value data = row;
            if (splitColumns)
              data = tensor::ExpandShapeOp::create(
                  b, l, RankedTensorType::get(shape, rowType.getElementType()),
                  row, ArrayRef<ReassociationIndices>{{0, 1}});
            SmallVector<Value> inputs = {data};
            SmallVector<AffineMap> maps = {all};
            for (Value param : {scale, zero})
              if (isa<RankedTensorType>(param.getType())) {
                inputs.push_back(param);
                maps.push_back(first);
              }
            Value dequantized = buildMap(
                b, l, inputs, maps, shape, outElement,
                [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                  unsigned next = 1;
                  auto take = [&](Value param) -> Value {
                    return isa<RankedTensorType>(param.getType()) ? args[next++]
                                                                  : param;
                  };
                  Value sc = take(scale);
                  Value z = take(zero);
                  return arith::MulFOp::create(
                      nb, nl, storageMinusZeroPointF32(nb, nl, args[0], z, *info),
                      sc);
                });
            out = dequantized;
            if (splitColumns)
              out = tensor::CollapseShapeOp::create(
                  b, l, outRowType, dequantized,
                  ArrayRef<ReassociationIndices>{{0, 1}});
          }
          Value next = tensor::InsertSliceOp::create(
              b, l, out, acc[0], ArrayRef<OpFoldResult>{p, b.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(cols)},
              one);
          scf::YieldOp::create(b, l, next);
        });
    Value gathered = loop.getResult(0);
    if (k == 0)
      gathered = tensor::CollapseShapeOp::create(
          rewriter, loc, resultType, gathered,
          ArrayRef<ReassociationIndices>{{0, 1}});
    else if (k > 1) {
      SmallVector<ReassociationIndices> groups(allInOne);
      groups.push_back({static_cast<int64_t>(k)});
      gathered = tensor::ExpandShapeOp::create(rewriter, loc, resultType,
                                               gathered, groups);
    }
    rewriter.replaceOp(op, gathered);
    return success();
  }
};

} // namespace

void mlir::qlow::populateFloatOpsToLinalgPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<FloatOpLowering<SoftmaxOp>, FloatOpLowering<LayerNormOp>,
               FloatOpLowering<RmsNormOp>, FloatOpLowering<RopeOp>,
               EmbeddingLowering>(converter, context);
  // Below the exact tables of populateElementwiseToLinalgPatterns, which
  // quantized 8-bit gelu/silu use where they apply.
  patterns.add<FloatOpLowering<GeluOp>, FloatOpLowering<SiluOp>>(
      converter, context, /*benefit=*/0);
}
