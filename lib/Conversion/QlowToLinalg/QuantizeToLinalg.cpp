//===- QuantizeToLinalg.cpp - quantize, dequantize, requantize ------------===//
//
// Lowers the ops that move between f32 and quantized storage, and between two
// quantized types, to elementwise linalg.generic ops.
//
//===----------------------------------------------------------------------===//

#include "Common.h"
#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Conversion/QlowToLinalg.h"
#include "qlow/Reference/Arithmetic.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::qlow::lowering;

namespace {

/// Builds `linalg.generic` mapping `input` elementwise to a tensor of
/// `resultType`, with the parameter tensors of `params` as extra inputs.
/// `body` receives the input element and the block arguments.
Value buildElementwise(
    OpBuilder &b, Location loc, Value input, RankedTensorType resultType,
    const GenericParams &params,
    function_ref<Value(OpBuilder &, Location, Value, ValueRange)> body) {
  unsigned rank = resultType.getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<Value> inputs = {input};
  llvm::append_range(inputs, params.inputs());
  SmallVector<AffineMap> maps = {identity};
  llvm::append_range(maps, params.maps());
  maps.push_back(identity);
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType());
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args[0], args);
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

/// Adds the scales (as f32) and zero points (as i64) of `info` to `params`.
std::pair<unsigned, unsigned> addScaleAndZeroPoint(GenericParams &params,
                                                   OpBuilder &b,
                                                   const QuantInfo &info) {
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
  if (!info.blockSizes.empty()) {
    // Sub-channel: the parameters of element (i, j, ...) are those of block
    // (i floordiv b_i, j floordiv b_j, ...).
    shape.assign(info.blockCounts.begin(), info.blockCounts.end());
    for (unsigned d = 0; d < info.blockSizes.size(); ++d)
      loops.push_back(d);
  }
  unsigned scale =
      params.add(b.getF32Type(), scales, shape, loops, info.blockSizes);
  unsigned zeroPoint =
      params.add(b.getI64Type(), zeroPoints, shape, loops, info.blockSizes);
  return {scale, zeroPoint};
}

/// Reports an op whose quantized types the lowering does not handle yet.
LogicalResult unsupportedTypes(ConversionPatternRewriter &rewriter,
                               Operation *op) {
  return rewriter.notifyMatchFailure(
      op, "only per-tensor, per-axis and (for quantize, dequantize and "
          "fake_quant) static sub-channel quantized types are lowered");
}

//===----------------------------------------------------------------------===//
// quant.scast
//===----------------------------------------------------------------------===//

/// A storage cast is a no-op once quantized tensors are storage tensors.
struct StorageCastLowering : OpConversionPattern<quant::StorageCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(quant::StorageCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type converted = getTypeConverter()->convertType(op.getType());
    if (converted != adaptor.getInput().getType())
      return rewriter.notifyMatchFailure(op, "storage widths differ");
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// qlow.quantize, qlow.dequantize, qlow.fake_quant
//===----------------------------------------------------------------------===//

/// saturate(roundeven(x / s) + z), NaN to z (lib/Reference quantizeScalar).
Value quantizeScalar(OpBuilder &b, Location loc, Value x, Value scale,
                     Value zeroPoint, const QuantInfo &info) {
  Value divided = arith::DivFOp::create(b, loc, x, scale);
  return roundToQuantized(b, loc, divided, zeroPoint, info.qmin, info.qmax,
                          info.bits);
}

/// f32(q - z) * s, with q extended by its signedness (in i32 for 8- and
/// 16-bit storage: storageMinusZeroPointF32).
Value dequantizeScalar(OpBuilder &b, Location loc, Value q, Value scale,
                       Value zeroPoint, const QuantInfo &info) {
  return arith::MulFOp::create(
      b, loc, storageMinusZeroPointF32(b, loc, q, zeroPoint, info), scale);
}

/// The shape shared by quantize, dequantize and fake_quant: one elementwise
/// generic from `input` to `resultType` whose body sees each element with the
/// scale (f32) and zero point (i64) of its position under `info`.
Value lowerWithScaleAndZeroPoint(
    OpBuilder &b, Location loc, Value input, RankedTensorType resultType,
    const QuantInfo &info,
    function_ref<Value(OpBuilder &, Location, Value, Value, Value)> body) {
  GenericParams params(b, loc, resultType.getRank());
  std::pair<unsigned, unsigned> handles = addScaleAndZeroPoint(params, b, info);
  return buildElementwise(
      b, loc, input, resultType, params,
      [&](OpBuilder &nb, Location l, Value x, ValueRange args) {
        return body(nb, l, x, params.get(nb, l, handles.first, args, 1),
                    params.get(nb, l, handles.second, args, 1));
      });
}

struct QuantizeLowering : OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<QuantInfo> info =
        getQuantInfo(op.getType(), /*allowBlocks=*/true);
    if (failed(info))
      return unsupportedTypes(rewriter, op);
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    rewriter.replaceOp(
        op, lowerWithScaleAndZeroPoint(
                rewriter, op.getLoc(), adaptor.getInput(), resultType, *info,
                [&](OpBuilder &b, Location l, Value x, Value s, Value z) {
                  return quantizeScalar(b, l, x, s, z, *info);
                }));
    return success();
  }
};

struct DequantizeLowering : OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<QuantInfo> info =
        getQuantInfo(op.getInput().getType(), /*allowBlocks=*/true);
    if (failed(info))
      return unsupportedTypes(rewriter, op);
    rewriter.replaceOp(
        op, lowerWithScaleAndZeroPoint(
                rewriter, op.getLoc(), adaptor.getInput(), op.getType(), *info,
                [&](OpBuilder &b, Location l, Value q, Value s, Value z) {
                  return dequantizeScalar(b, l, q, s, z, *info);
                }));
    return success();
  }
};

struct FakeQuantLowering : OpConversionPattern<FakeQuantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FakeQuantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<QuantInfo> info = getQuantInfo(
        RankedTensorType::get(op.getType().getShape(), op.getQuantType()),
        /*allowBlocks=*/true);
    if (failed(info))
      return unsupportedTypes(rewriter, op);
    rewriter.replaceOp(
        op, lowerWithScaleAndZeroPoint(
                rewriter, op.getLoc(), adaptor.getInput(), op.getType(), *info,
                [&](OpBuilder &b, Location l, Value x, Value s, Value z) {
                  Value q = quantizeScalar(b, l, x, s, z, *info);
                  return dequantizeScalar(b, l, q, s, z, *info);
                }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// qlow.requantize
//===----------------------------------------------------------------------===//

struct RequantizeLowering : OpConversionPattern<RequantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<QuantInfo> in = getQuantInfo(op.getInput().getType());
    FailureOr<QuantInfo> out = getQuantInfo(op.getType());
    if (failed(in) || failed(out))
      return unsupportedTypes(rewriter, op);
    if (in->axis >= 0 && out->axis >= 0 && in->axis != out->axis)
      return rewriter.notifyMatchFailure(
          op, "input and result quantized along different axes");
    if (in->bits > 16 && op.getRounding() == RoundingMode::FixedPoint)
      return rewriter.notifyMatchFailure(
          op, "fixed-point requantization of 32-bit storage is not lowered");
    int64_t axis = std::max(in->axis, out->axis);
    int64_t channels = axis < 0 ? 1 : op.getType().getDimSize(axis);

    // Per channel: the multiplier M = s_in / s_out as lib/Reference derives
    // it, as an f32 or as an int32 multiplier and shift.
    SmallVector<double> floatM, multipliers, shifts, zIn, zOut;
    bool mayShiftLeft = false;
    for (int64_t c = 0; c < channels; ++c) {
      double m = in->scale(c) / out->scale(c);
      floatM.push_back(static_cast<float>(m));
      ref::Expected<ref::FixedPointMultiplier> fixed =
          ref::quantizeMultiplier(m);
      if (!fixed.ok())
        return op.emitOpError() << fixed.status.message();
      multipliers.push_back(fixed->multiplier);
      shifts.push_back(fixed->shift);
      mayShiftLeft |= fixed->shift > 0;
      zIn.push_back(in->zeroPoint(c));
      zOut.push_back(out->zeroPoint(c));
    }
    Location loc = op.getLoc();
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    GenericParams params(rewriter, loc, resultType.getRank());
    SmallVector<int64_t> shape;
    SmallVector<unsigned> loops;
    if (axis >= 0) {
      shape.push_back(channels);
      loops.push_back(axis);
    }
    Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
    unsigned hZIn = params.add(i64, zIn, shape, loops);
    unsigned hZOut = params.add(i64, zOut, shape, loops);
    bool fixedPoint = op.getRounding() == RoundingMode::FixedPoint;
    unsigned hM = 0, hMult = 0, hShift = 0;
    if (fixedPoint) {
      hMult = params.add(i32, multipliers, shape, loops);
      hShift = params.add(i32, shifts, shape, loops);
    } else {
      hM = params.add(rewriter.getF32Type(), floatM, shape, loops);
    }
    const QuantInfo &inInfo = *in, &outInfo = *out;
    Value result = buildElementwise(
        rewriter, loc, adaptor.getInput(), resultType, params,
        [&](OpBuilder &b, Location l, Value q, ValueRange args) -> Value {
          auto get = [&](unsigned h) { return params.get(b, l, h, args, 1); };
          Value diff = arith::SubIOp::create(
              b, l, extendStorage(b, l, q, inInfo.isSigned, i64), get(hZIn));
          if (!fixedPoint) {
            Value scaled = arith::MulFOp::create(
                b, l, arith::SIToFPOp::create(b, l, b.getF32Type(), diff),
                get(hM));
            return roundToQuantized(b, l, scaled, get(hZOut), outInfo.qmin,
                                    outInfo.qmax, outInfo.bits);
          }
          Value diff32 = arith::TruncIOp::create(b, l, i32, diff);
          Value product = multiplyByQuantizedMultiplier(
              b, l, diff32, get(hMult), get(hShift), mayShiftLeft);
          Value sum = arith::AddIOp::create(
              b, l, arith::ExtSIOp::create(b, l, i64, product), get(hZOut));
          return saturateToStorage(b, l, sum, outInfo.qmin, outInfo.qmax,
                                   outInfo.bits);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::qlow::populateQuantizeToLinalgPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<StorageCastLowering, QuantizeLowering, DequantizeLowering,
               FakeQuantLowering, RequantizeLowering>(converter,
                                                      patterns.getContext());
}
