//===- Common.cpp - shared pieces of the qlow-to-linalg lowering ----------===//
//
// Scalar arithmetic of the quantized ops, expanded in arith so that the
// generated code computes bit for bit what lib/Reference computes.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

#include <limits>

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::qlow::lowering;

FailureOr<QuantInfo> lowering::getQuantInfo(Type tensorType,
                                            bool allowBlocks) {
  auto element = getElementTypeOrSelf(tensorType);
  auto qtype = dyn_cast<quant::QuantizedType>(element);
  if (!qtype)
    return failure();
  QuantInfo info;
  info.bits = qtype.getStorageTypeIntegralWidth();
  info.isSigned = qtype.isSigned();
  info.qmin = qtype.getStorageTypeMin();
  info.qmax = qtype.getStorageTypeMax();
  if (auto t = dyn_cast<quant::UniformQuantizedType>(qtype)) {
    info.scales.push_back(t.getScale());
    info.zeroPoints.push_back(t.getZeroPoint());
    return info;
  }
  if (auto t = dyn_cast<quant::UniformQuantizedPerAxisType>(qtype)) {
    info.axis = t.getQuantizedDimension();
    info.scales.assign(t.getScales().begin(), t.getScales().end());
    info.zeroPoints.assign(t.getZeroPoints().begin(), t.getZeroPoints().end());
    return info;
  }
  auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(qtype);
  auto ranked = dyn_cast<RankedTensorType>(tensorType);
  if (!allowBlocks || !sub || !ranked || !ranked.hasStaticShape())
    return failure();
  // The verifier of the type (against the tensor) checks that the scales
  // have the tensor's rank and divide each of its dimensions.
  ArrayRef<int64_t> counts = sub.getScales().getType().getShape();
  if (counts.size() != static_cast<size_t>(ranked.getRank()))
    return failure();
  for (auto [dim, count] : llvm::zip_equal(ranked.getShape(), counts)) {
    if (count <= 0 || dim % count != 0)
      return failure();
    info.blockSizes.push_back(dim / count);
    info.blockCounts.push_back(count);
  }
  for (APFloat s : sub.getScales().getValues<APFloat>())
    info.scales.push_back(s.convertToDouble());
  // Stored in the storage type: extended by its signedness (u4's 8 is 8).
  for (APInt z : sub.getZeroPoints().getValues<APInt>())
    info.zeroPoints.push_back(info.isSigned
                                  ? z.getSExtValue()
                                  : static_cast<int64_t>(z.getZExtValue()));
  return info;
}

Value lowering::scalarConstant(OpBuilder &b, Location loc, Type type,
                               double value) {
  if (auto intType = dyn_cast<IntegerType>(type))
    return arith::ConstantOp::create(
        b, loc, IntegerAttr::get(intType, static_cast<int64_t>(value)));
  return arith::ConstantOp::create(b, loc, FloatAttr::get(type, value));
}

unsigned GenericParams::add(Type type, ArrayRef<double> values,
                            ArrayRef<int64_t> shape,
                            ArrayRef<unsigned> loopDims,
                            ArrayRef<int64_t> blocks) {
  Param param;
  param.type = type;
  bool uniform = llvm::all_of(values, [&](double v) { return v == values[0]; });
  if (uniform) {
    param.scalar = values.front();
    params.push_back(param);
    return params.size() - 1;
  }
  auto tensorType = RankedTensorType::get(shape, type);
  DenseElementsAttr attr;
  if (type.isF32()) {
    SmallVector<float> data(values.begin(), values.end());
    attr = DenseElementsAttr::get(tensorType, ArrayRef<float>(data));
  } else if (type.isInteger(32)) {
    SmallVector<int32_t> data;
    for (double v : values)
      data.push_back(static_cast<int32_t>(v));
    attr = DenseElementsAttr::get(tensorType, ArrayRef<int32_t>(data));
  } else {
    SmallVector<int64_t> data;
    for (double v : values)
      data.push_back(static_cast<int64_t>(v));
    attr = DenseElementsAttr::get(tensorType, ArrayRef<int64_t>(data));
  }
  param.tensorIndex = tensors.size();
  tensors.push_back(arith::ConstantOp::create(builder, loc, attr));
  SmallVector<AffineExpr> exprs;
  for (auto [i, d] : llvm::enumerate(loopDims)) {
    AffineExpr e = builder.getAffineDimExpr(d);
    if (!blocks.empty() && blocks[i] != 1)
      e = shape[i] == 1 ? builder.getAffineConstantExpr(0)
                        : e.floorDiv(blocks[i]);
    exprs.push_back(e);
  }
  indexingMaps.push_back(
      AffineMap::get(numLoops, 0, exprs, builder.getContext()));
  params.push_back(param);
  return params.size() - 1;
}

Value GenericParams::get(OpBuilder &body, Location loc, unsigned handle,
                         ValueRange args, unsigned numDataInputs) const {
  const Param &param = params[handle];
  if (param.tensorIndex < 0)
    return scalarConstant(body, loc, param.type, param.scalar);
  return args[numDataInputs + param.tensorIndex];
}

Value lowering::extendStorage(OpBuilder &b, Location loc, Value value,
                              bool isSigned, Type to) {
  if (value.getType() == to)
    return value;
  if (isSigned)
    return arith::ExtSIOp::create(b, loc, to, value);
  return arith::ExtUIOp::create(b, loc, to, value);
}

Value lowering::storageMinusZeroPointF32(OpBuilder &b, Location loc, Value q,
                                         Value zeroPoint,
                                         const QuantInfo &info) {
  // On AVX-512 the i32 form is one vpmovzxbd, vpsubd and vcvtdq2ps per 16
  // values; the i64 form two each of vpmovzxbq, vpsubq and vcvtqq2ps and a
  // vinsertf64x4 (the f32 epilogues of encoder_qdq's output projection and
  // FFN down, which feed its layer norms).
  bool narrow = info.bits <= 16 && llvm::all_of(info.zeroPoints, [](int64_t z) {
                  return z > -(int64_t(1) << 16) && z < (int64_t(1) << 16);
                });
  Type wide = b.getI64Type();
  if (narrow) {
    wide = b.getI32Type();
    llvm::APInt constant;
    zeroPoint =
        matchPattern(zeroPoint, m_ConstantInt(&constant))
            ? arith::ConstantOp::create(
                  b, loc, b.getI32IntegerAttr(constant.getSExtValue()))
                  .getResult()
            : arith::TruncIOp::create(b, loc, wide, zeroPoint).getResult();
  }
  Value diff = arith::SubIOp::create(
      b, loc, extendStorage(b, loc, q, info.isSigned, wide), zeroPoint);
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), diff);
}

Value lowering::saturateToStorage(OpBuilder &b, Location loc, Value value,
                                  int64_t qmin, int64_t qmax, unsigned bits) {
  Type type = value.getType();
  Value lo = scalarConstant(b, loc, type, static_cast<double>(qmin));
  Value hi = scalarConstant(b, loc, type, static_cast<double>(qmax));
  Value clamped = arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, value, lo), hi);
  Type storage = b.getIntegerType(bits);
  if (type == storage)
    return clamped;
  return arith::TruncIOp::create(b, loc, storage, clamped);
}

Value lowering::multiplyByQuantizedMultiplier(OpBuilder &b, Location loc,
                                              Value x, Value multiplier,
                                              Value shift, bool mayShiftLeft) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto c32 = [&](int64_t v) { return scalarConstant(b, loc, i32, v); };
  auto c64 = [&](int64_t v) { return scalarConstant(b, loc, i64, v); };
  constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();

  // Saturating left shift by max(shift, 0), capped at 32 so the i64 shift
  // cannot overflow; any shift >= 32 of a nonzero value saturates anyway.
  // Multipliers below 1 (the usual case) never shift left: skip it then.
  Value zero32 = c32(0);
  Value rightShift = arith::MaxSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, zero32, shift), zero32);
  Value saturated32 = x;
  if (mayShiftLeft) {
    Value leftShift = arith::MinSIOp::create(
        b, loc, arith::MaxSIOp::create(b, loc, shift, zero32), c32(32));
    Value x64 = arith::ExtSIOp::create(b, loc, i64, x);
    Value shifted = arith::ShLIOp::create(
        b, loc, x64, arith::ExtSIOp::create(b, loc, i64, leftShift));
    Value saturated = arith::MinSIOp::create(
        b, loc, arith::MaxSIOp::create(b, loc, shifted, c64(kMin)), c64(kMax));
    saturated32 = arith::TruncIOp::create(b, loc, i32, saturated);
  }

  // Saturating rounding doubling high multiply (gemmlowp): nudge the i64
  // product by +2^30 (>= 0) or 1 - 2^30 (< 0), then divide by 2^31 truncating.
  // Both cases equal (ab + 2^30) >> 31 with an arithmetic shift: for ab < 0,
  // truncation adds 2^31 - 1 before the floor shift, and
  // 1 - 2^30 + 2^31 - 1 = 2^30. The product of two sign-extended i32 values
  // lets LLVM use vpmuldq rather than a full 64-bit multiply.
  Value ab = arith::MulIOp::create(
      b, loc, arith::ExtSIOp::create(b, loc, i64, saturated32),
      arith::ExtSIOp::create(b, loc, i64, multiplier));
  Value high64 = arith::ShRSIOp::create(
      b, loc, arith::AddIOp::create(b, loc, ab, c64(1 << 30)), c64(31));
  Value high = arith::TruncIOp::create(b, loc, i32, high64);
  // INT32_MIN * INT32_MIN is the one product whose result does not fit.
  Value bothMin = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, saturated32,
                            c32(kMin)),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, multiplier,
                            c32(kMin)));
  Value srdhm = arith::SelectOp::create(b, loc, bothMin, c32(kMax), high);

  // Rounding divide by 2^rightShift, ties away from zero (gemmlowp).
  Value mask = arith::SubIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, c32(1), rightShift), c32(1));
  Value remainder = arith::AndIOp::create(b, loc, srdhm, mask);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, srdhm, zero32);
  Value threshold = arith::AddIOp::create(
      b, loc, arith::ShRSIOp::create(b, loc, mask, c32(1)),
      arith::ExtUIOp::create(b, loc, i32, negative));
  Value roundUp = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                        remainder, threshold);
  return arith::AddIOp::create(
      b, loc, arith::ShRSIOp::create(b, loc, srdhm, rightShift),
      arith::ExtUIOp::create(b, loc, i32, roundUp));
}

Value lowering::roundToQuantized(OpBuilder &b, Location loc, Value v,
                                 Value zeroPoint, int64_t qmin, int64_t qmax,
                                 unsigned bits, bool mayBeNaN) {
  Type f64 = b.getF64Type(), i64 = b.getI64Type();
  llvm::APInt constantZeroPoint;
  if (bits <= 16 && matchPattern(zeroPoint, m_ConstantInt(&constantZeroPoint))) {
    // A constant zero point z: clamp first, to [qmin - z, qmax - z], then
    // round and add z as an integer. Rounding is monotone and keeps integers,
    // so roundeven(clamp(v)) == clamp(roundeven(v)) for integer bounds: the
    // same result as below, in fewer steps (no f32 add of z, none at all for
    // z = 0), and roundeven + fptosi of an in-range value is one conversion
    // where the target has it (qlow-round-to-int: vcvtps2dq on x86).
    //
    // A NaN becomes 0 first, in f32 (and so z): selected after the
    // conversion, the test's mask went through the narrowing to bytes with
    // the result (two packs and a byte blend per 8 lanes on AVX2). Then no
    // operand is NaN, and each clamp is a compare and select (maxps, minps).
    Type f32 = b.getF32Type(), i32 = b.getI32Type();
    int64_t z = constantZeroPoint.getSExtValue();
    if (mayBeNaN)
      v = arith::SelectOp::create(
          b, loc, arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, v, v),
          scalarConstant(b, loc, f32, 0.0), v);
    Value lo = scalarConstant(b, loc, f32, static_cast<double>(qmin - z));
    Value hi = scalarConstant(b, loc, f32, static_cast<double>(qmax - z));
    Value clamped = arith::SelectOp::create(
        b, loc, arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v, lo),
        v, lo);
    clamped = arith::SelectOp::create(
        b, loc,
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, clamped, hi),
        clamped, hi);
    Value result = arith::FPToSIOp::create(
        b, loc, i32, math::RoundEvenOp::create(b, loc, clamped));
    if (z != 0)
      result = arith::AddIOp::create(
          b, loc, result,
          arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(z)));
    return arith::TruncIOp::create(b, loc, b.getIntegerType(bits), result);
  }
  Value rounded = math::RoundEvenOp::create(b, loc, v);
  if (bits <= 16) {
    // In f32: an integer-valued f32 plus a zero point of at most 16 bits is
    // exact below 2^24 - 2^16 and, above, far outside [qmin, qmax] on the
    // same side either way; half the vector work of f64.
    Type f32 = b.getF32Type(), i32 = b.getI32Type();
    Value sum = arith::AddFOp::create(
        b, loc, rounded,
        arith::SIToFPOp::create(b, loc, f32, zeroPoint));
    Value clamped = arith::MinimumFOp::create(
        b, loc,
        arith::MaximumFOp::create(
            b, loc, sum,
            scalarConstant(b, loc, f32, static_cast<double>(qmin))),
        scalarConstant(b, loc, f32, static_cast<double>(qmax)));
    Value result = arith::FPToSIOp::create(b, loc, i32, clamped);
    if (mayBeNaN) {
      Value isNaN =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, v, v);
      result = arith::SelectOp::create(
          b, loc, isNaN, arith::TruncIOp::create(b, loc, i32, zeroPoint),
          result);
    }
    return arith::TruncIOp::create(b, loc, b.getIntegerType(bits), result);
  }
  // In f64 the sum of an integer-valued f32 below 2^53 and a zero point is
  // exact; anything larger saturates either way.
  Value sum =
      arith::AddFOp::create(b, loc, arith::ExtFOp::create(b, loc, f64, rounded),
                            arith::SIToFPOp::create(b, loc, f64, zeroPoint));
  Value clamped = arith::MinimumFOp::create(
      b, loc,
      arith::MaximumFOp::create(
          b, loc, sum, scalarConstant(b, loc, f64, static_cast<double>(qmin))),
      scalarConstant(b, loc, f64, static_cast<double>(qmax)));
  Value asInt = arith::FPToSIOp::create(b, loc, i64, clamped);
  Value isNaN = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, v, v);
  Value result = arith::SelectOp::create(b, loc, isNaN, zeroPoint, asInt);
  return arith::TruncIOp::create(b, loc, b.getIntegerType(bits), result);
}
