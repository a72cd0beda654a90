//===- Arithmetic.cpp - Exact integer and rounding primitives -------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Arithmetic.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>

using namespace qlow::ref;

namespace {
// A 128-bit integer makes "add the zero point, then saturate" exact for every
// storage width including i64, without overflow reasoning at each call site.
__extension__ typedef __int128 Int128;

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

template <typename F> F roundHalfEvenImpl(F x) {
  if (!std::isfinite(x))
    return x;
  // x - trunc(x) is exact, so the tie test is exact and no rounding mode is
  // involved (std::nearbyint would depend on the current mode).
  F t = std::trunc(x);
  F diff = x - t;
  F away = x > 0 ? F(1) : F(-1);
  if (std::fabs(diff) > F(0.5))
    return t + away;
  if (std::fabs(diff) == F(0.5) && std::fmod(t, F(2)) != 0)
    return t + away;
  return t;
}
} // namespace

//===----------------------------------------------------------------------===//
// Saturation and rounding
//===----------------------------------------------------------------------===//

float qlow::ref::roundHalfEven(float x) { return roundHalfEvenImpl(x); }
double qlow::ref::roundHalfEven(double x) { return roundHalfEvenImpl(x); }

int64_t qlow::ref::roundToQuantized(float v, int64_t zeroPoint, int64_t qmin,
                                    int64_t qmax) {
  if (std::isnan(v))
    return saturate(zeroPoint, qmin, qmax);
  double r = static_cast<double>(roundHalfEven(v));
  // Beyond +-2^64 the sum saturates whatever the zero point is; inside, the
  // rounded value is an exact integer that Int128 holds.
  constexpr double kLimit = 18446744073709551616.0; // 2^64
  if (r >= kLimit)
    return qmax;
  if (r <= -kLimit)
    return qmin;
  Int128 sum = static_cast<Int128>(r) + zeroPoint;
  if (sum < qmin)
    return qmin;
  if (sum > qmax)
    return qmax;
  return static_cast<int64_t>(sum);
}

int64_t qlow::ref::quantizeScalar(float x, float scale, int64_t zeroPoint,
                                  int64_t qmin, int64_t qmax) {
  return roundToQuantized(x / scale, zeroPoint, qmin, qmax);
}

//===----------------------------------------------------------------------===//
// gemmlowp / TFLite fixed point
//===----------------------------------------------------------------------===//

int32_t qlow::ref::saturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  bool overflow = a == b && a == kInt32Min;
  int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  // C++ integer division truncates toward zero, as gemmlowp relies on.
  int32_t high = static_cast<int32_t>((ab + nudge) / (int64_t(1) << 31));
  return overflow ? kInt32Max : high;
}

int32_t qlow::ref::roundingDivideByPOT(int32_t x, int exponent) {
  if (exponent <= 0)
    return x;
  if (exponent > 31)
    // |x| / 2^exponent <= 1/2, reached only by INT32_MIN / 2^32, whose tie
    // rounds away from zero.
    return (exponent == 32 && x == kInt32Min) ? -1 : 0;
  const int32_t mask = static_cast<int32_t>((int64_t(1) << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  // >> of a negative int32 is an arithmetic shift on every compiler qlow
  // supports (and guaranteed from C++20).
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

Expected<FixedPointMultiplier>
qlow::ref::quantizeMultiplier(double realMultiplier) {
  if (!std::isfinite(realMultiplier) || realMultiplier < 0.0) {
    std::ostringstream os;
    os << "cannot quantize multiplier " << realMultiplier
       << ": expected finite and >= 0";
    return Status::error(os.str());
  }
  if (realMultiplier == 0.0)
    return FixedPointMultiplier{0, 0};
  int shift = 0;
  const double q = std::frexp(realMultiplier, &shift);
  // std::round rounds half away from zero, as TfLiteRound does.
  int64_t qFixed =
      static_cast<int64_t>(std::round(q * double(int64_t(1) << 31)));
  if (qFixed == (int64_t(1) << 31)) {
    qFixed /= 2;
    ++shift;
  }
  // Shifting right by more than 31 would shift out every bit; TFLite flushes
  // such tiny multipliers to zero instead.
  if (shift < -31) {
    shift = 0;
    qFixed = 0;
  }
  return FixedPointMultiplier{static_cast<int32_t>(qFixed), shift};
}

int32_t qlow::ref::saturatingLeftShift(int32_t x, int shift) {
  if (x == 0 || shift <= 0)
    return x;
  if (shift >= 32)
    return x > 0 ? kInt32Max : kInt32Min;
  int64_t v = static_cast<int64_t>(x) * (int64_t(1) << shift);
  return static_cast<int32_t>(std::clamp<int64_t>(v, kInt32Min, kInt32Max));
}

int32_t qlow::ref::multiplyByQuantizedMultiplier(int32_t x,
                                                 FixedPointMultiplier m) {
  const int leftShift = m.shift > 0 ? m.shift : 0;
  const int rightShift = m.shift > 0 ? 0 : -m.shift;
  return roundingDivideByPOT(
      saturatingRoundingDoublingHighMul(saturatingLeftShift(x, leftShift),
                                        m.multiplier),
      rightShift);
}

//===----------------------------------------------------------------------===//
// Choosing quantization parameters
//===----------------------------------------------------------------------===//

Expected<ScaleZeroPoint> qlow::ref::chooseScaleZeroPoint(float rmin, float rmax,
                                                         IntType storage,
                                                         bool symmetric,
                                                         bool narrowRange) {
  if (!storage.isValid())
    return Status::error("invalid storage type " + storage.str());
  ScaleZeroPoint r;
  r.qmin = storage.min() + (narrowRange ? 1 : 0);
  r.qmax = storage.max();
  if (static_cast<double>(r.qmax) - static_cast<double>(r.qmin) < 2.0)
    return Status::error("storage type " + storage.str() +
                         " has too few levels to quantize to");
  if (!std::isfinite(rmin) || !std::isfinite(rmax)) {
    std::ostringstream os;
    os << "range [" << rmin << ", " << rmax << "] is not finite";
    return Status::error(os.str());
  }
  if (rmin > rmax) {
    std::ostringstream os;
    os << "range [" << rmin << ", " << rmax << "] has min > max";
    return Status::error(os.str());
  }
  // Quantized kernels pad and accumulate zeros, so 0.0 must be in range and
  // exactly representable.
  const double lo = std::min(static_cast<double>(rmin), 0.0);
  const double hi = std::max(static_cast<double>(rmax), 0.0);
  const double dqmin = static_cast<double>(r.qmin);
  const double dqmax = static_cast<double>(r.qmax);

  if (symmetric) {
    r.zeroPoint = storage.isSigned ? 0 : (r.qmin + r.qmax + 1) / 2;
    const double amax = std::max(-lo, hi);
    r.scale = amax == 0.0 ? 1.0 : amax / ((dqmax - dqmin) / 2.0);
    return r;
  }
  if (lo == hi) {
    r.scale = 1.0;
    r.zeroPoint = r.qmin;
    return r;
  }
  r.scale = (hi - lo) / (dqmax - dqmin);
  const double zp = dqmin - lo / r.scale;
  if (zp <= dqmin)
    r.zeroPoint = r.qmin;
  else if (zp >= dqmax)
    r.zeroPoint = r.qmax;
  else
    r.zeroPoint = static_cast<int64_t>(std::round(zp));
  return r;
}

namespace {
/// Narrows `params` to [qmin, qmax] only where that differs from the full
/// storage range, so that full-range parameters compare equal to plain ones.
QuantParams narrowTo(QuantParams params, int64_t qmin, int64_t qmax) {
  if (qmin != params.storage.min() || qmax != params.storage.max())
    return params.withStorageRange(qmin, qmax);
  return params;
}
} // namespace

Expected<QuantParams>
qlow::ref::chooseQuantParams(float rmin, float rmax, IntType storage,
                             bool symmetric, bool narrowRange, size_t rank) {
  Expected<ScaleZeroPoint> sz =
      chooseScaleZeroPoint(rmin, rmax, storage, symmetric, narrowRange);
  if (!sz)
    return sz.status;
  return narrowTo(
      QuantParams::perTensor(storage, sz->scale, sz->zeroPoint, rank), sz->qmin,
      sz->qmax);
}

Expected<QuantParams> qlow::ref::choosePerAxisQuantParams(
    const std::vector<float> &rmins, const std::vector<float> &rmaxs,
    IntType storage, bool symmetric, bool narrowRange, int64_t axis,
    size_t rank) {
  if (rmins.size() != rmaxs.size())
    return Status::error("per-axis ranges: " + std::to_string(rmins.size()) +
                         " minimums but " + std::to_string(rmaxs.size()) +
                         " maximums");
  if (axis < 0 || static_cast<size_t>(axis) >= rank)
    return Status::error("axis " + std::to_string(axis) +
                         " is out of range for rank " + std::to_string(rank));
  std::vector<double> scales;
  std::vector<int64_t> zeroPoints;
  int64_t qmin = 0, qmax = 0;
  for (size_t c = 0; c < rmins.size(); ++c) {
    Expected<ScaleZeroPoint> sz = chooseScaleZeroPoint(
        rmins[c], rmaxs[c], storage, symmetric, narrowRange);
    if (!sz)
      return sz.status.withContext("channel " + std::to_string(c));
    scales.push_back(sz->scale);
    zeroPoints.push_back(sz->zeroPoint);
    qmin = sz->qmin;
    qmax = sz->qmax;
  }
  if (scales.empty())
    return Status::error("per-axis ranges are empty");
  return narrowTo(QuantParams::perAxis(storage, axis, std::move(scales),
                                       std::move(zeroPoints), rank),
                  qmin, qmax);
}

//===----------------------------------------------------------------------===//
// int4 packing
//===----------------------------------------------------------------------===//

Expected<std::vector<uint8_t>>
qlow::ref::packInt4(const std::vector<int64_t> &values) {
  std::vector<uint8_t> bytes((values.size() + 1) / 2, 0);
  for (size_t e = 0; e < values.size(); ++e) {
    int64_t v = values[e];
    if (v < -8 || v > 15)
      return Status::error("value " + std::to_string(v) + " at index " +
                           std::to_string(e) +
                           " does not fit in 4 bits (i4 or u4)");
    uint8_t nibble = static_cast<uint8_t>(static_cast<uint64_t>(v) & 0xF);
    bytes[e / 2] |= static_cast<uint8_t>(e % 2 ? nibble << 4 : nibble);
  }
  return bytes;
}

Expected<std::vector<int64_t>>
qlow::ref::unpackInt4(const std::vector<uint8_t> &bytes, size_t count,
                      bool isSigned) {
  if (count > bytes.size() * 2)
    return Status::error("cannot unpack " + std::to_string(count) +
                         " int4 values from " + std::to_string(bytes.size()) +
                         " bytes");
  std::vector<int64_t> values(count);
  for (size_t e = 0; e < count; ++e) {
    int64_t nibble = e % 2 ? (bytes[e / 2] >> 4) & 0xF : bytes[e / 2] & 0xF;
    values[e] = isSigned && nibble >= 8 ? nibble - 16 : nibble;
  }
  return values;
}
