//===- Arithmetic.h - Exact integer and rounding primitives -----*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The scalar building blocks of every quantized op: saturation, round half to
// even, the gemmlowp/TFLite fixed-point multiplier, choosing quantization
// parameters from a range, and int4 packing. Compiled integer kernels are
// bit-exact against these, so each function states its rounding exactly.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_REFERENCE_ARITHMETIC_H
#define QLOW_REFERENCE_ARITHMETIC_H

#include "qlow/Reference/Status.h"
#include "qlow/Reference/Types.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qlow::ref {

//===----------------------------------------------------------------------===//
// Saturation and rounding
//===----------------------------------------------------------------------===//

/// Clamps `v` to [lo, hi].
inline int64_t saturate(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}
/// Clamps `v` to the full range of `type`.
inline int64_t saturate(int64_t v, IntType type) {
  return saturate(v, type.min(), type.max());
}

/// Rounds to the nearest integer, ties to even, independently of the current
/// floating-point rounding mode. NaN and infinities are returned unchanged.
float roundHalfEven(float x);
/// Double-precision roundHalfEven.
double roundHalfEven(double x);

/// saturate(roundHalfEven(v) + zeroPoint) into [qmin, qmax], computed exactly
/// (no int64 overflow for any finite or infinite v). NaN maps to zeroPoint
/// (clamped). This is the last step of every float-rounding quantized op.
int64_t roundToQuantized(float v, int64_t zeroPoint, int64_t qmin,
                         int64_t qmax);

/// ONNX QuantizeLinear of one value: roundToQuantized(x / scale, ...), the
/// division done in f32. NaN maps to the zero point, +-inf saturate.
int64_t quantizeScalar(float x, float scale, int64_t zeroPoint, int64_t qmin,
                       int64_t qmax);

//===----------------------------------------------------------------------===//
// gemmlowp / TFLite fixed point
//===----------------------------------------------------------------------===//

/// gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b
/// rounded to nearest, i.e. floor(a*b / 2^31 + 1/2) (ties toward +infinity:
/// the nudge is 2^30 for a*b >= 0 and 1 - 2^30 otherwise, then division
/// truncates toward zero). The one overflow case, INT32_MIN * INT32_MIN,
/// saturates to INT32_MAX.
int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b);

/// gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest with
/// ties away from zero (mask/remainder/threshold form). Defined for exponent
/// in [0, 31]; exponent <= 0 returns x and exponent > 31 returns the correctly
/// rounded result of the same rule (0, or -1 for INT32_MIN >> 32).
int32_t roundingDivideByPOT(int32_t x, int exponent);

/// A real multiplier M ~= multiplier * 2^(shift - 31), multiplier in
/// [2^30, 2^31) or 0.
struct FixedPointMultiplier {
  int32_t multiplier = 0;
  int shift = 0;
  bool operator==(const FixedPointMultiplier &o) const {
    return multiplier == o.multiplier && shift == o.shift;
  }
};

/// TFLite's QuantizeMultiplier (QM in the op docs): (q, shift) = frexp(M);
/// multiplier = round(q * 2^31) (round half away from zero); if that is 2^31
/// it is halved and shift incremented; a shift below -31 flushes to {0, 0};
/// M = 0 gives {0, 0}. Negative, NaN or infinite M is an error. Shifts above
/// 30 are kept (multiplyByQuantizedMultiplier saturates the left shift).
Expected<FixedPointMultiplier> quantizeMultiplier(double realMultiplier);

/// x * 2^shift saturated to int32 (shift >= 0).
int32_t saturatingLeftShift(int32_t x, int shift);

/// TFLite's (double-rounding) MultiplyByQuantizedMultiplier (MBQM in the op
/// docs):
///   leftShift = max(shift, 0), rightShift = max(-shift, 0),
///   roundingDivideByPOT(SRDHM(x * 2^leftShift, multiplier), rightShift).
/// The left shift saturates to int32 instead of overflowing (TFLite leaves
/// that case undefined).
int32_t multiplyByQuantizedMultiplier(int32_t x, FixedPointMultiplier m);

//===----------------------------------------------------------------------===//
// Choosing quantization parameters
//===----------------------------------------------------------------------===//

/// A scale, a zero point and the storage range [qmin, qmax] they were chosen
/// for (narrowed by narrowRange).
struct ScaleZeroPoint {
  double scale = 1.0;
  int64_t zeroPoint = 0;
  int64_t qmin = 0;
  int64_t qmax = 0;
};

/// Chooses a scale and zero point for values in [rmin, rmax]:
///  - the range is first extended to include 0;
///  - [qmin, qmax] is the storage range, with qmin + 1 when narrowRange;
///  - asymmetric: scale = (rmax - rmin) / (qmax - qmin) and zero point =
///    qmin - rmin / scale, rounded half away from zero and clamped to
///    [qmin, qmax] (the gemmlowp/TFLite nudge that makes 0.0 exact);
///  - symmetric (PyTorch's rule): amax = max(-rmin, rmax),
///    scale = amax / ((qmax - qmin) / 2); zero point 0 for signed storage and
///    (qmin + qmax + 1) / 2 for unsigned (128 for u8, 8 for u4);
///  - a degenerate range (rmin == rmax == 0 after extension) gets scale 1.0 and
///    the zero point the rule above gives (qmin when asymmetric).
/// All arithmetic is in double. Errors: invalid storage, fewer than 3 levels,
/// non-finite bounds, rmin > rmax.
Expected<ScaleZeroPoint> chooseScaleZeroPoint(float rmin, float rmax,
                                              IntType storage, bool symmetric,
                                              bool narrowRange);

/// Per-tensor parameters from chooseScaleZeroPoint for a tensor of rank
/// `rank`; with narrowRange the result saturates to the narrowed range.
Expected<QuantParams> chooseQuantParams(float rmin, float rmax, IntType storage,
                                        bool symmetric, bool narrowRange,
                                        size_t rank);

/// Per-axis parameters: channel c of dimension `axis` gets
/// chooseScaleZeroPoint(rmins[c], rmaxs[c], ...).
Expected<QuantParams> choosePerAxisQuantParams(const std::vector<float> &rmins,
                                               const std::vector<float> &rmaxs,
                                               IntType storage, bool symmetric,
                                               bool narrowRange, int64_t axis,
                                               size_t rank);

//===----------------------------------------------------------------------===//
// int4 packing
//===----------------------------------------------------------------------===//

/// Packs 4-bit values two per byte, low nibble first: element 2i goes to bits
/// 0-3 of byte i and element 2i+1 to bits 4-7; an odd count leaves the last
/// high nibble 0. Values must be in [-8, 15] (i4 or u4); the low four bits of
/// each are stored.
Expected<std::vector<uint8_t>> packInt4(const std::vector<int64_t> &values);

/// Unpacks `count` 4-bit values (the inverse of packInt4), sign-extending when
/// isSigned. Errors when `bytes` holds fewer than `count` nibbles.
Expected<std::vector<int64_t>> unpackInt4(const std::vector<uint8_t> &bytes,
                                          size_t count, bool isSigned);

} // namespace qlow::ref

#endif // QLOW_REFERENCE_ARITHMETIC_H
