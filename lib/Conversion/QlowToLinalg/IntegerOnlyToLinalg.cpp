//===- IntegerOnlyToLinalg.cpp - I-BERT integer-only ops to linalg --------===//
//
// Lowers qlow.int_softmax, qlow.int_layer_norm and qlow.int_gelu to
// linalg.generic ops on the stored integers, with integer arith only, step
// for step as lib/Reference/IntegerOnly.cpp computes them (the constants come
// from its plan functions), so compiled code is bit-exact against it:
//
//  * the per-element work is in all-parallel generics that
//    qlow-vectorize-elementwise tiles to the vector width and vectorizes
//    (i-exp's variable shifts become per-lane shifts, the fixed-point
//    multiplies vpmuldq-style i64 products);
//  * the row statistics (max and sum of i-exp values; sum and sum of
//    squares for layer_norm) are linalg reductions along the op's axis;
//  * the per-row scalars (the reciprocal of the i-exp sum, the mean, the
//    integer square root by Newton iteration from 2^ceil(bits/2), unrolled
//    ref::kIsqrtNewtonSteps times) are small parallel generics over the rows.
//
// Shapes must be static; layer_norm's gamma and beta must be constants (they
// are folded into fixed-point multipliers and offsets).
//
//===----------------------------------------------------------------------===//

#include "Common.h"
#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Conversion/QlowToLinalg.h"
#include "qlow/Reference/IntegerOnly.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <limits>

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::qlow::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Generic builders
//===----------------------------------------------------------------------===//

using BodyBuilder = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// The identity map over `rank` loops without loop `dim` (a per-row value).
AffineMap dropLoop(MLIRContext *context, unsigned rank, unsigned dim) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d = 0; d < rank; ++d)
    if (d != dim)
      exprs.push_back(getAffineDimExpr(d, context));
  return AffineMap::get(rank, 0, exprs, context);
}

SmallVector<int64_t> dropDim(ArrayRef<int64_t> shape, unsigned dim) {
  SmallVector<int64_t> result(shape);
  result.erase(result.begin() + dim);
  return result;
}

/// An all-parallel linalg.generic over the loops of `shape` producing a new
/// tensor of `elementType`.
Value buildMap(OpBuilder &b, Location loc, ValueRange inputs,
               ArrayRef<AffineMap> maps, ArrayRef<int64_t> shape,
               Type elementType, BodyBuilder body) {
  unsigned rank = shape.size();
  Value init = tensor::EmptyOp::create(b, loc, shape, elementType);
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
             allMaps, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               linalg::YieldOp::create(nested, l, body(nested, l, args));
             })
      .getResult(0);
}

/// A reduction along loop `dim` of `shape` into `accType` starting from
/// `initValue`; `body` sees the input elements, then the accumulator.
Value buildReduction(OpBuilder &b, Location loc, ValueRange inputs,
                     ArrayRef<AffineMap> maps, ArrayRef<int64_t> shape,
                     unsigned dim, Type accType, int64_t initValue,
                     BodyBuilder body) {
  unsigned rank = shape.size();
  Value empty =
      tensor::EmptyOp::create(b, loc, dropDim(shape, dim), accType);
  Value init = linalg::FillOp::create(
                   b, loc,
                   ValueRange{arith::ConstantOp::create(
                       b, loc, IntegerAttr::get(accType, initValue))},
                   ValueRange{empty})
                   .getResult(0);
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(dropLoop(b.getContext(), rank, dim));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators[dim] = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
             allMaps, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               linalg::YieldOp::create(nested, l, body(nested, l, args));
             })
      .getResult(0);
}

/// Integer constant of `type`.
Value cst(OpBuilder &b, Location loc, Type type, int64_t value) {
  return arith::ConstantOp::create(b, loc, IntegerAttr::get(type, value));
}

/// MBQM(x, m) on i32 with the constant multiplier `m`.
Value mbqm(OpBuilder &b, Location loc, Value x,
           const ref::FixedPointMultiplier &m) {
  Type i32 = b.getI32Type();
  return multiplyByQuantizedMultiplier(b, loc, x, cst(b, loc, i32, m.multiplier),
                                       cst(b, loc, i32, m.shift),
                                       /*mayShiftLeft=*/m.shift > 0);
}

/// The per-tensor parameters of a quantized tensor type (the verifier
/// guarantees them; the pattern checks again rather than assert).
FailureOr<QuantInfo> perTensorInfo(Type type) {
  FailureOr<QuantInfo> info = getQuantInfo(type);
  if (failed(info) || info->axis >= 0)
    return failure();
  return info;
}

/// Reports a lowering precondition as an error at the op; the conversion then
/// fails with this message rather than a bare "failed to legalize".
LogicalResult fail(Operation *op, const Twine &message) {
  op->emitOpError() << message;
  return failure();
}

//===----------------------------------------------------------------------===//
// int_softmax
//===----------------------------------------------------------------------===//

/// qlow.int_softmax: max along the axis (reduction), i-exp of each element
/// (parallel), the sum of the i-exp values (reduction), floor(2^61 / S) per
/// slice (parallel over the slices), then the normalized, requantized output
/// (parallel).
struct IntSoftmaxLowering : OpConversionPattern<IntSoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(IntSoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    if (!inType.hasStaticShape())
      return fail(op, "lowering needs static shapes");
    FailureOr<QuantInfo> in = perTensorInfo(inType);
    FailureOr<QuantInfo> out = perTensorInfo(outType);
    if (failed(in) || failed(out))
      return fail(op, "lowering needs per-tensor quantized types");
    ref::Expected<ref::IntSoftmaxPlan> plan =
        ref::planIntSoftmax(in->scales[0], out->scales[0]);
    if (!plan)
      return fail(op, plan.status.message());

    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    ArrayRef<int64_t> shape = inType.getShape();
    unsigned rank = inType.getRank();
    // The I64Attr accessor returns uint64_t: read it as signed first.
    int64_t signedAxis = static_cast<int64_t>(op.getAxis());
    unsigned axis = signedAxis < 0 ? signedAxis + rank : signedAxis;
    Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap row = dropLoop(context, rank, axis);
    Value x = adaptor.getInput();
    bool isSigned = in->isSigned;
    bool wide = in->bits == 32;

    Value max = buildReduction(
        rewriter, loc, ValueRange{x}, {identity}, shape, axis, i32,
        std::numeric_limits<int32_t>::min(),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::MaxSIOp::create(
              b, l, args[1], extendStorage(b, l, args[0], isSigned, i32));
        });

    // i-exp of x = max(MBQM(q - m, QM(si 2^14)), kIExpMinX).
    Value e = buildMap(
        rewriter, loc, ValueRange{x, max}, {identity, row}, shape, i32,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value d = arith::SubIOp::create(
              b, l, extendStorage(b, l, args[0], isSigned, i32), args[1]);
          if (wide) {
            // q - m <= 0 exactly; a positive i32 difference wrapped around:
            // the exact value is below -2^31, which saturates to -2^31.
            Value wrapped = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::sgt, d, cst(b, l, i32, 0));
            d = arith::SelectOp::create(
                b, l, wrapped,
                cst(b, l, i32, std::numeric_limits<int32_t>::min()), d);
          }
          Value xv = arith::MaxSIOp::create(b, l, mbqm(b, l, d, plan->input),
                                            cst(b, l, i32, ref::kIExpMinX));
          Value ln2 = cst(b, l, i32, ref::kIExpLn2);
          // -x >= 0: signed division truncates, which is floor here.
          Value z = arith::DivSIOp::create(
              b, l, arith::SubIOp::create(b, l, cst(b, l, i32, 0), xv), ln2);
          Value p = arith::AddIOp::create(b, l, xv,
                                          arith::MulIOp::create(b, l, ln2, z));
          Value t =
              arith::AddIOp::create(b, l, p, cst(b, l, i32, ref::kIExpB));
          Value raw = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, t, t),
              cst(b, l, i32, ref::kIExpC));
          Value shift = arith::MinSIOp::create(
              b, l,
              arith::AddIOp::create(b, l, z,
                                    cst(b, l, i32, ref::kIExpFracBits)),
              cst(b, l, i32, 31));
          return arith::ShRSIOp::create(b, l, raw, shift);
        });

    Value sum = buildReduction(
        rewriter, loc, ValueRange{e}, {identity}, shape, axis, i32, 0,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::AddIOp::create(b, l, args[1], args[0]);
        });
    SmallVector<int64_t> rowShape = dropDim(shape, axis);
    Value reciprocal = buildMap(
        rewriter, loc, ValueRange{sum},
        {rewriter.getMultiDimIdentityMap(rank - 1)}, rowShape, i64,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::DivSIOp::create(
              b, l, cst(b, l, i64, int64_t(1) << 61),
              arith::ExtSIOp::create(b, l, i64, args[0]));
        });

    Value result = buildMap(
        rewriter, loc, ValueRange{e, reciprocal}, {identity, row}, shape,
        rewriter.getIntegerType(out->bits),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value prod = arith::MulIOp::create(
              b, l, arith::ExtSIOp::create(b, l, i64, args[0]), args[1]);
          Value p64 = arith::ShRSIOp::create(
              b, l,
              arith::AddIOp::create(b, l, prod,
                                    cst(b, l, i64, int64_t(1) << 30)),
              cst(b, l, i64, 31));
          Value p = arith::TruncIOp::create(b, l, i32, p64);
          Value y = arith::AddIOp::create(b, l, mbqm(b, l, p, plan->output),
                                          cst(b, l, i32, out->zeroPoints[0]));
          return saturateToStorage(b, l, y, out->qmin, out->qmax, out->bits);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// int_layer_norm
//===----------------------------------------------------------------------===//

/// The f32 values of a constant [D] tensor, or failure.
FailureOr<std::vector<float>> constantVector(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) ||
      !attr.getElementType().isF32())
    return failure();
  std::vector<float> values;
  for (const APFloat &v : attr.getValues<APFloat>())
    values.push_back(v.convertToFloat());
  return values;
}

/// floor(sqrt(v)) for v >= 1 (i64): x0 = 2^ceil(bits(v) / 2), then
/// ref::kIsqrtNewtonSteps steps of x = min(x, (x + v / x) >> 1), exactly as
/// ref::isqrtFixedSteps (equal to ref::isqrt for every v >= 1).
Value buildIsqrt(OpBuilder &b, Location loc, Value v) {
  Type i64 = b.getI64Type();
  Value bits = arith::SubIOp::create(b, loc, cst(b, loc, i64, 64),
                                     math::CountLeadingZerosOp::create(b, loc, v));
  Value half = arith::ShRSIOp::create(
      b, loc, arith::AddIOp::create(b, loc, bits, cst(b, loc, i64, 1)),
      cst(b, loc, i64, 1));
  Value x = arith::ShLIOp::create(b, loc, cst(b, loc, i64, 1), half);
  for (int k = 0; k < ref::kIsqrtNewtonSteps; ++k) {
    Value next = arith::ShRSIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc, x, arith::DivSIOp::create(b, loc, v, x)),
        cst(b, loc, i64, 1));
    x = arith::MinSIOp::create(b, loc, x, next);
  }
  return x;
}

/// qlow.int_layer_norm over the last dimension: the row sum (reduction), the
/// rounded mean times 16 (rows), the sum of squared centred values
/// (reduction), floor(2^44 / max(isqrt(V / D + E), 1)) (rows), then the
/// normalized, scaled, shifted and saturated output (parallel).
struct IntLayerNormLowering : OpConversionPattern<IntLayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(IntLayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    if (!inType.hasStaticShape())
      return fail(op, "lowering needs static shapes");
    FailureOr<QuantInfo> in = perTensorInfo(inType);
    FailureOr<QuantInfo> out = perTensorInfo(outType);
    if (failed(in) || failed(out))
      return fail(op, "lowering needs per-tensor quantized types");
    FailureOr<std::vector<float>> gamma = constantVector(op.getGamma());
    if (failed(gamma))
      return fail(op, "lowering needs gamma to be a constant (it is folded "
                      "into fixed-point multipliers)");
    std::optional<std::vector<float>> beta;
    if (op.getBeta()) {
      FailureOr<std::vector<float>> b = constantVector(op.getBeta());
      if (failed(b))
        return fail(op, "lowering needs beta to be a constant (it is folded "
                        "into fixed-point offsets)");
      beta = *b;
    }
    ref::Expected<ref::IntLayerNormPlan> plan = ref::planIntLayerNorm(
        in->scales[0], out->scales[0], *gamma, beta ? &*beta : nullptr,
        op.getEpsilon().convertToFloat());
    if (!plan)
      return fail(op, plan.status.message());

    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    ArrayRef<int64_t> shape = inType.getShape();
    unsigned rank = inType.getRank(), last = rank - 1;
    int64_t d = shape.back();
    if (d == 0) {
      rewriter.replaceOp(op, tensor::EmptyOp::create(
                                 rewriter, loc, shape,
                                 rewriter.getIntegerType(out->bits)));
      return success();
    }
    Type i64 = rewriter.getI64Type();
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap row = dropLoop(context, rank, last);
    AffineMap rowIdentity = rewriter.getMultiDimIdentityMap(rank - 1);
    SmallVector<int64_t> rowShape = dropDim(shape, last);
    Value x = adaptor.getInput();
    bool isSigned = in->isSigned;
    auto q64 = [&](OpBuilder &b, Location l, Value v) {
      return extendStorage(b, l, v, isSigned, i64);
    };

    Value sum = buildReduction(
        rewriter, loc, ValueRange{x}, {identity}, shape, last, i64, 0,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::AddIOp::create(b, l, args[1], q64(b, l, args[0]));
        });
    // mu = floor((32 sum + D) / (2 D)).
    Value mu = buildMap(
        rewriter, loc, ValueRange{sum}, {rowIdentity}, rowShape, i64,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value num = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, args[0], cst(b, l, i64, 32)),
              cst(b, l, i64, d));
          return arith::FloorDivSIOp::create(b, l, num, cst(b, l, i64, 2 * d));
        });
    auto centred = [&](OpBuilder &b, Location l, Value q, Value m) -> Value {
      return arith::SubIOp::create(
          b, l, arith::MulIOp::create(b, l, q64(b, l, q), cst(b, l, i64, 16)),
          m);
    };
    Value squares = buildReduction(
        rewriter, loc, ValueRange{x, mu}, {identity, row}, shape, last, i64, 0,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value c = centred(b, l, args[0], args[1]);
          return arith::AddIOp::create(b, l, args[2],
                                       arith::MulIOp::create(b, l, c, c));
        });
    // R = floor(2^44 / max(isqrt(V / D + E), 1)); isqrt(max(v, 1)) equals
    // max(isqrt(v), 1) and keeps Newton's divisions away from 0.
    Value reciprocal = buildMap(
        rewriter, loc, ValueRange{squares}, {rowIdentity}, rowShape, i64,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value v = arith::AddIOp::create(
              b, l, arith::DivSIOp::create(b, l, args[0], cst(b, l, i64, d)),
              cst(b, l, i64, plan->epsilon));
          v = arith::MaxSIOp::create(b, l, v, cst(b, l, i64, 1));
          return arith::DivSIOp::create(b, l, cst(b, l, i64, int64_t(1) << 44),
                                        buildIsqrt(b, l, v));
        });

    GenericParams params(rewriter, loc, rank);
    SmallVector<double> g(plan->gamma.begin(), plan->gamma.end());
    SmallVector<double> bt(plan->beta.begin(), plan->beta.end());
    unsigned gHandle = params.add(i64, g, {d}, {last});
    unsigned bHandle = params.add(i64, bt, {d}, {last});
    SmallVector<Value> inputs = {x, mu, reciprocal};
    llvm::append_range(inputs, params.inputs());
    SmallVector<AffineMap> maps = {identity, row, row};
    llvm::append_range(maps, params.maps());
    Value result = buildMap(
        rewriter, loc, inputs, maps, shape, rewriter.getIntegerType(out->bits),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value c = centred(b, l, args[0], args[1]);
          Value n = arith::ShRSIOp::create(
              b, l,
              arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, c, args[2]),
                                    cst(b, l, i64, int64_t(1) << 27)),
              cst(b, l, i64, 28));
          Value y = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, n, params.get(b, l, gHandle, args, 3)),
              params.get(b, l, bHandle, args, 3));
          y = arith::ShRSIOp::create(
              b, l,
              arith::AddIOp::create(b, l, y, cst(b, l, i64, int64_t(1) << 31)),
              cst(b, l, i64, 32));
          y = arith::AddIOp::create(b, l, y,
                                    cst(b, l, i64, out->zeroPoints[0]));
          return saturateToStorage(b, l, y, out->qmin, out->qmax, out->bits);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// int_gelu
//===----------------------------------------------------------------------===//

/// qlow.int_gelu: one all-parallel generic (I-BERT's i-erf, then MBQM).
struct IntGeluLowering : OpConversionPattern<IntGeluOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(IntGeluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    if (!inType.hasStaticShape())
      return fail(op, "lowering needs static shapes");
    FailureOr<QuantInfo> in = perTensorInfo(inType);
    FailureOr<QuantInfo> out = perTensorInfo(outType);
    if (failed(in) || failed(out))
      return fail(op, "lowering needs per-tensor quantized types");
    ref::Expected<ref::IntGeluPlan> plan =
        ref::planIntGelu(in->scales[0], out->scales[0]);
    if (!plan)
      return fail(op, plan.status.message());

    Location loc = op.getLoc();
    unsigned rank = inType.getRank();
    Type i32 = rewriter.getI32Type();
    bool isSigned = in->isSigned;
    Value result = buildMap(
        rewriter, loc, ValueRange{adaptor.getInput()},
        {rewriter.getMultiDimIdentityMap(rank)}, inType.getShape(),
        rewriter.getIntegerType(out->bits),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value d = arith::SubIOp::create(
              b, l, extendStorage(b, l, args[0], isSigned, i32),
              cst(b, l, i32, in->zeroPoints[0]));
          Value u = mbqm(b, l, d, plan->input);
          Value clip = cst(b, l, i32, ref::kIErfClip);
          Value s = arith::MinSIOp::create(
              b, l,
              arith::MaxSIOp::create(b, l, u,
                                     cst(b, l, i32, -ref::kIErfClip)),
              clip);
          Value t = arith::SubIOp::create(b, l, math::AbsIOp::create(b, l, s),
                                          clip);
          Value sq = arith::ShRSIOp::create(
              b, l, arith::MulIOp::create(b, l, t, t), cst(b, l, i32, 14));
          Value poly = arith::ShRSIOp::create(
              b, l,
              arith::AddIOp::create(
                  b, l,
                  arith::MulIOp::create(b, l, sq, cst(b, l, i32, ref::kIErfA)),
                  cst(b, l, i32, 1 << 14)),
              cst(b, l, i32, 15));
          Value v = arith::SubIOp::create(b, l, cst(b, l, i32, 1 << 14), poly);
          Value zero = cst(b, l, i32, 0);
          Value positive =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, s, zero);
          Value negative =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, s, zero);
          Value erf = arith::SelectOp::create(
              b, l, positive, v,
              arith::SelectOp::create(b, l, negative,
                                      arith::SubIOp::create(b, l, zero, v),
                                      zero));
          Value w =
              arith::AddIOp::create(b, l, erf, cst(b, l, i32, 1 << 14));
          Value y = arith::AddIOp::create(
              b, l, mbqm(b, l, arith::MulIOp::create(b, l, d, w), plan->output),
              cst(b, l, i32, out->zeroPoints[0]));
          return saturateToStorage(b, l, y, out->qmin, out->qmax, out->bits);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::qlow::populateIntegerOnlyToLinalgPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<IntSoftmaxLowering, IntLayerNormLowering, IntGeluLowering>(
      converter, patterns.getContext());
}
