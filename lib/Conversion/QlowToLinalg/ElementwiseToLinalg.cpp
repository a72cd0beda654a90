//===- ElementwiseToLinalg.cpp - qlow add/mul/gelu/silu to linalg ---------===//
//
// Lowers the elementwise qlow ops whose integer semantics can be computed
// exactly in linalg:
//  * qlow.add and qlow.mul on quantized per-tensor operands (both roundings)
//    and on f32, with numpy broadcasting expressed by the indexing maps;
//  * qlow.gelu and qlow.silu from a quantized input of at most 8 bits to a
//    quantized result: a table of every stored input value, computed at
//    compile time by lib/Reference itself, so the lowering is exact by
//    construction (TFLite computes its int8 activations the same way).
// The f32 forms of gelu/silu need vector approximations and are left to the
// float lowering.
//
//===----------------------------------------------------------------------===//

#include "Common.h"
#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Conversion/QlowToLinalg.h"
#include "qlow/Interpreter/Interpreter.h"
#include "qlow/Reference/Ops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::qlow::lowering;

namespace {

/// The indexing map of an operand of `operandShape` broadcast (numpy rules,
/// aligned to the trailing dimensions) to a result of rank `rank`.
AffineMap broadcastMap(MLIRContext *context, ArrayRef<int64_t> operandShape,
                       ArrayRef<int64_t> resultShape) {
  unsigned rank = resultShape.size();
  unsigned offset = rank - operandShape.size();
  SmallVector<AffineExpr> exprs;
  for (unsigned d = 0; d < operandShape.size(); ++d)
    exprs.push_back(operandShape[d] == 1 && resultShape[offset + d] != 1
                        ? getAffineConstantExpr(0, context)
                        : getAffineDimExpr(offset + d, context));
  return AffineMap::get(rank, 0, exprs, context);
}

/// The reference's description of a per-tensor quantized type.
FailureOr<ref::QuantParams> referenceParams(Type tensorType) {
  auto type = cast<RankedTensorType>(tensorType);
  FailureOr<ref::TensorType> converted = convertToReferenceType(
      RankedTensorType::get({1}, type.getElementType()),
      [] { return InFlightDiagnostic(); });
  if (failed(converted) || !converted->isQuant())
    return failure();
  return converted->quant;
}

/// roundeven(clamp(v, lo, hi)) as roundToQuantized computes it for a
/// constant zero point (the bounds are qmin - z and qmax - z).
float roundClamped(float v, float lo, float hi) {
  return std::nearbyint(std::min(std::max(v, lo), hi));
}

/// A multiplier `r` with which the float-rounding quantized add may compute
/// `v * r` instead of `v / so` (one vmulps instead of a vdivps, whose
/// throughput is 5 to 10 times lower, in every matmul epilogue with a bias
/// or residual add), or nullopt. `v = f32(sa) * f32(da) + f32(sb) * f32(db)`
/// takes one value per pair of stored inputs, so for 8-bit inputs all 2^16
/// of them are checked here, each step one IEEE f32 operation as in the
/// compiled code: `r` is returned only if roundeven(clamp(v * r)) equals
/// roundeven(clamp(v / so)) on every pair, so the stored results are the
/// reference's bit for bit. Tries RN(1 / so) and its two neighbours.
std::optional<float> exactReciprocal(const QuantInfo &a, int64_t za, float fsa,
                                     const QuantInfo &b, int64_t zb, float fsb,
                                     float fso, const QuantInfo &o,
                                     int64_t zo) {
  if (a.bits > 8 || b.bits > 8 || !(fso > 0.0f) || !std::isfinite(fso))
    return std::nullopt;
  const float lo = static_cast<float>(o.qmin - zo);
  const float hi = static_cast<float>(o.qmax - zo);
  // The 2^16 sums, computed once; separate statements so that the host
  // compiler cannot contract the product and the sum into an fma.
  std::vector<float> sums;
  sums.reserve((a.qmax - a.qmin + 1) * (b.qmax - b.qmin + 1));
  for (int64_t x = a.qmin; x <= a.qmax; ++x) {
    float sx = fsa * static_cast<float>(x - za);
    for (int64_t y = b.qmin; y <= b.qmax; ++y) {
      float sy = fsb * static_cast<float>(y - zb);
      float sum = sx + sy;
      sums.push_back(sum);
    }
  }
  const float nearest = 1.0f / fso;
  for (float r : {nearest, std::nextafter(nearest, 0.0f),
                  std::nextafter(nearest, std::numeric_limits<float>::max())}) {
    bool same = llvm::all_of(sums, [&](float sum) {
      float quotient = sum / fso;
      float product = sum * r;
      return roundClamped(quotient, lo, hi) == roundClamped(product, lo, hi);
    });
    if (same)
      return r;
  }
  return std::nullopt;
}

template <typename OpTy>
struct BinaryLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  static constexpr bool isAdd = std::is_same_v<OpTy, AddOp>;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outType = cast<RankedTensorType>(op.getType());
    auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
    auto rhsType = cast<RankedTensorType>(op.getRhs().getType());
    if (!outType.hasStaticShape() || !lhsType.hasStaticShape() ||
        !rhsType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    unsigned rank = outType.getRank();
    SmallVector<AffineMap> maps = {
        broadcastMap(context, lhsType.getShape(), outType.getShape()),
        broadcastMap(context, rhsType.getShape(), outType.getShape()),
        rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    auto resultType = cast<RankedTensorType>(
        this->getTypeConverter()->convertType(outType));
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType());
    auto build = [&](function_ref<Value(OpBuilder &, Location, Value, Value)>
                         body) {
      auto generic = linalg::GenericOp::create(
          rewriter, loc, TypeRange{resultType},
          ValueRange{adaptor.getLhs(), adaptor.getRhs()}, ValueRange{init},
          maps, parallel, [&](OpBuilder &b, Location l, ValueRange args) {
            linalg::YieldOp::create(b, l, body(b, l, args[0], args[1]));
          });
      rewriter.replaceOp(op, generic.getResult(0));
      return success();
    };

    if (outType.getElementType().isF32()) {
      return build([&](OpBuilder &b, Location l, Value x, Value y) -> Value {
        if (isAdd)
          return arith::AddFOp::create(b, l, x, y);
        return arith::MulFOp::create(b, l, x, y);
      });
    }
    FailureOr<QuantInfo> a = getQuantInfo(lhsType), w = getQuantInfo(rhsType),
                         o = getQuantInfo(outType);
    if (failed(a) || failed(w) || failed(o) || a->axis >= 0 || w->axis >= 0 ||
        o->axis >= 0)
      return rewriter.notifyMatchFailure(
          op, "only f32 and per-tensor quantized operands are lowered");
    int64_t za = a->zeroPoint(0), zb = w->zeroPoint(0), zo = o->zeroPoint(0);
    int64_t qmin = o->qmin, qmax = o->qmax;
    unsigned bits = o->bits;
    Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type(),
         f32 = rewriter.getF32Type();
    // |q - z| < 2^16 for storage of at most 16 bits: the differences fit i32.
    if (a->bits > 16 || w->bits > 16 || o->bits > 16)
      return rewriter.notifyMatchFailure(op, "storage wider than 16 bits");
    auto difference = [&](OpBuilder &b, Location l, Value q,
                          const QuantInfo &info, int64_t z) {
      return arith::SubIOp::create(
          b, l, extendStorage(b, l, q, info.isSigned, i32),
          scalarConstant(b, l, i32, static_cast<double>(z)));
    };

    if (op.getRounding() == RoundingMode::Float) {
      // As the reference: (f32(sa) da + f32(sb) db) / f32(so), or
      // f32(da db) * f32(sa sb / so), then round half to even.
      float fsa = static_cast<float>(a->scale(0)),
            fsb = static_cast<float>(w->scale(0)),
            fso = static_cast<float>(o->scale(0));
      float mulM =
          static_cast<float>(a->scale(0) * w->scale(0) / o->scale(0));
      int64_t worst = std::max(std::abs(a->qmax - za), std::abs(a->qmin - za)) *
                      std::max(std::abs(w->qmax - zb), std::abs(w->qmin - zb));
      if (!isAdd && worst > std::numeric_limits<int32_t>::max())
        return rewriter.notifyMatchFailure(
            op, "the product of two differences can leave int32");
      // Whether v can never be NaN: a finite sum of finite products (an
      // add), or a finite i32 product times mulM (a mul). Then the NaN
      // test of the rounding goes.
      int64_t maxA = std::max(std::abs(a->qmax - za), std::abs(a->qmin - za)),
              maxB = std::max(std::abs(w->qmax - zb), std::abs(w->qmin - zb));
      double bound = isAdd ? std::abs(double(fsa)) * double(maxA) +
                                 std::abs(double(fsb)) * double(maxB)
                           : std::abs(double(mulM)) * double(worst);
      bool neverNaN =
          std::isfinite(bound) &&
          bound < 0.5 * double(std::numeric_limits<float>::max()) &&
          std::isfinite(fso) && fso > 0.0f;
      std::optional<float> reciprocal;
      if (isAdd)
        reciprocal = exactReciprocal(*a, za, fsa, *w, zb, fsb, fso, *o, zo);
      return build([&](OpBuilder &b, Location l, Value x, Value y) -> Value {
        Value da = difference(b, l, x, *a, za), db = difference(b, l, y, *w, zb);
        Value v;
        if (isAdd) {
          Value sx = arith::MulFOp::create(
              b, l, scalarConstant(b, l, f32, fsa),
              arith::SIToFPOp::create(b, l, f32, da));
          Value sy = arith::MulFOp::create(
              b, l, scalarConstant(b, l, f32, fsb),
              arith::SIToFPOp::create(b, l, f32, db));
          Value sum = arith::AddFOp::create(b, l, sx, sy);
          v = reciprocal
                  ? arith::MulFOp::create(b, l, sum,
                                          scalarConstant(b, l, f32,
                                                         *reciprocal))
                        .getResult()
                  : arith::DivFOp::create(b, l, sum,
                                          scalarConstant(b, l, f32, fso))
                        .getResult();
        } else {
          v = arith::MulFOp::create(
              b, l,
              arith::SIToFPOp::create(b, l, f32,
                                      arith::MulIOp::create(b, l, da, db)),
              scalarConstant(b, l, f32, mulM));
        }
        return roundToQuantized(b, l, v, scalarConstant(b, l, i64, zo), qmin,
                                qmax, bits, /*mayBeNaN=*/!neverNaN);
      });
    }

    FailureOr<ref::QuantParams> pa = referenceParams(lhsType),
                                pb = referenceParams(rhsType),
                                po = referenceParams(outType);
    if (failed(pa) || failed(pb) || failed(po))
      return rewriter.notifyMatchFailure(op, "unsupported quantized types");
    ref::Expected<ref::QuantizedBinaryPlan> plan =
        isAdd ? ref::planQuantizedAdd(*pa, *pb, *po)
              : ref::planQuantizedMul(*pa, *pb, *po);
    if (!plan.ok())
      return op.emitOpError() << plan.status.message();
    if (!isAdd) {
      int64_t worst =
          std::max(std::abs(a->qmax - za), std::abs(a->qmin - za)) *
          std::max(std::abs(w->qmax - zb), std::abs(w->qmin - zb));
      if (worst > std::numeric_limits<int32_t>::max())
        return rewriter.notifyMatchFailure(
            op, "the product of two differences can leave int32");
    }
    auto mbqm = [&](OpBuilder &b, Location l, Value x,
                    const ref::FixedPointMultiplier &m) {
      return multiplyByQuantizedMultiplier(
          b, l, x, scalarConstant(b, l, i32, m.multiplier),
          scalarConstant(b, l, i32, m.shift), m.shift > 0);
    };
    return build([&](OpBuilder &b, Location l, Value x, Value y) -> Value {
      Value da = difference(b, l, x, *a, za), db = difference(b, l, y, *w, zb);
      Value raw;
      if (isAdd) {
        Value shift = scalarConstant(b, l, i32, plan->leftShift);
        Value sa = mbqm(b, l, arith::ShLIOp::create(b, l, da, shift), plan->a);
        Value sb = mbqm(b, l, arith::ShLIOp::create(b, l, db, shift), plan->b);
        raw = mbqm(b, l, arith::AddIOp::create(b, l, sa, sb), plan->out);
      } else {
        raw = mbqm(b, l, arith::MulIOp::create(b, l, da, db), plan->out);
      }
      Value sum = arith::AddIOp::create(b, l,
                                        arith::ExtSIOp::create(b, l, i64, raw),
                                        scalarConstant(b, l, i64, zo));
      return saturateToStorage(b, l, sum, qmin, qmax, bits);
    });
  }
};

/// A quantized unary op as a table over every stored input value, filled by
/// the reference implementation of the op itself.
template <typename OpTy>
struct TableLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    FailureOr<QuantInfo> in = getQuantInfo(inType), out = getQuantInfo(outType);
    if (failed(in) || failed(out) || in->axis >= 0 || out->axis >= 0 ||
        in->bits > 8 || !inType.hasStaticShape())
      return rewriter.notifyMatchFailure(
          op, "only per-tensor quantized inputs of at most 8 bits become "
              "tables");
    int64_t count = in->qmax - in->qmin + 1;
    auto elementIn = RankedTensorType::get({count}, inType.getElementType());
    auto elementOut = RankedTensorType::get({count}, outType.getElementType());
    auto emitError = [&] { return op.emitOpError(); };
    FailureOr<ref::TensorType> refIn =
        convertToReferenceType(elementIn, emitError);
    FailureOr<ref::TensorType> refOut =
        convertToReferenceType(elementOut, emitError);
    if (failed(refIn) || failed(refOut))
      return failure();
    ref::Tensor x = ref::Tensor::zeros(*refIn);
    for (int64_t i = 0; i < count; ++i)
      x.i[i] = in->qmin + i;
    ref::Expected<ref::Tensor> y = evaluate(op, x, *refOut);
    if (!y.ok())
      return op.emitOpError() << y.status.message();
    SmallVector<APInt> table;
    for (int64_t v : y.value.i)
      table.push_back(APInt(out->bits, static_cast<uint64_t>(v),
                            /*isSigned=*/true));
    Location loc = op.getLoc();
    Type storageOut = rewriter.getIntegerType(out->bits);
    Value tableValue = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({count}, storageOut),
                               table));
    unsigned rank = inType.getRank();
    auto resultType = cast<RankedTensorType>(
        this->getTypeConverter()->convertType(outType));
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         storageOut);
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    int64_t qmin = in->qmin;
    bool isSigned = in->isSigned;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{adaptor.getInput()},
        ValueRange{init}, ArrayRef<AffineMap>{identity, identity}, parallel,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = extendStorage(b, l, args[0], isSigned, b.getI32Type());
          v = arith::SubIOp::create(
              b, l, v, scalarConstant(b, l, b.getI32Type(), qmin));
          Value index = arith::IndexCastOp::create(b, l, b.getIndexType(), v);
          linalg::YieldOp::create(
              b, l,
              ValueRange{tensor::ExtractOp::create(b, l, tableValue,
                                                   ValueRange{index})});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

private:
  static ref::Expected<ref::Tensor> evaluate(GeluOp op, const ref::Tensor &x,
                                             const ref::TensorType &type) {
    return ref::gelu(x,
                     op.getApproximate() == GeluApproximation::Tanh
                         ? ref::GeluApproximation::Tanh
                         : ref::GeluApproximation::None,
                     type);
  }
  static ref::Expected<ref::Tensor> evaluate(SiluOp, const ref::Tensor &x,
                                             const ref::TensorType &type) {
    return ref::silu(x, type);
  }
};

} // namespace

void mlir::qlow::populateElementwiseToLinalgPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<BinaryLowering<AddOp>, BinaryLowering<MulOp>,
               TableLowering<GeluOp>, TableLowering<SiluOp>>(
      converter, patterns.getContext());
}
