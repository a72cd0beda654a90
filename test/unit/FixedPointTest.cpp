//===- FixedPointTest.cpp - gemmlowp/TFLite fixed-point arithmetic --------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The fixed-point multiplier is what makes integer kernels bit-exact across
// targets, so it is checked three ways: literal edge cases worked by hand, an
// exact __int128 re-derivation of the two gemmlowp roundings, and closeness to
// the exactly rounded real product.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Arithmetic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

using namespace qlow::ref;

namespace {
__extension__ typedef __int128 Int128;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

/// floor(a / 2^s) for any sign of a.
Int128 floorDivPow2(Int128 a, int s) {
  Int128 d = Int128(1) << s;
  Int128 q = a / d;
  if (a % d != 0 && a < 0)
    --q;
  return q;
}

/// a / 2^s rounded to nearest, ties away from zero.
Int128 roundAwayDivPow2(Int128 a, int s) {
  if (s == 0)
    return a;
  Int128 half = Int128(1) << (s - 1);
  Int128 mag = a < 0 ? -a : a;
  Int128 q = (mag + half) >> s;
  return a < 0 ? -q : q;
}

FixedPointMultiplier qm(double m) {
  Expected<FixedPointMultiplier> r = quantizeMultiplier(m);
  EXPECT_TRUE(r.ok()) << r.status.message();
  return r.value;
}
} // namespace

TEST(FixedPointTest, SaturatingRoundingDoublingHighMulEdgeCases) {
  // The only overflow: (-2^31)^2 * 2 / 2^32 = 2^31, saturated.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kMin), kMax);
  // (2^31-1)^2 / 2^31 = 2^31 - 2 + (1 + 2^30)/2^31 ~ 2147483646.5000000005,
  // and the nudge-then-truncate form gives 2147483646.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMax, kMax), 2147483646);
  // -2^31 * (2^31-1) / 2^31 = -2^31 + 1 exactly.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kMax), -2147483647);
  // -2^31 * 2^30 / 2^31 = -2^30 exactly.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, 1 << 30), -(1 << 30));
  // 3 * 2^30 / 2^31 = 1.5 -> 2; -1.5 -> -1: ties go toward +infinity
  // (nudge 1 - 2^30 for negatives, then truncation toward zero).
  EXPECT_EQ(saturatingRoundingDoublingHighMul(3, 1 << 30), 2);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-3, 1 << 30), -1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-5, 1 << 30), -2);
  // -1.6 -> -2 (not a tie).
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-16, 214748365), -2);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(0, kMin), 0);
}

TEST(FixedPointTest, RoundingDivideByPOTRoundsHalfAwayFromZero) {
  EXPECT_EQ(roundingDivideByPOT(5, 1), 3);   // 2.5 -> 3
  EXPECT_EQ(roundingDivideByPOT(-5, 1), -3); // -2.5 -> -3
  EXPECT_EQ(roundingDivideByPOT(-3, 1), -2); // -1.5 -> -2
  EXPECT_EQ(roundingDivideByPOT(-1, 1), -1); // -0.5 -> -1
  EXPECT_EQ(roundingDivideByPOT(1, 1), 1);   // 0.5 -> 1
  EXPECT_EQ(roundingDivideByPOT(-6, 2), -2); // -1.5 -> -2
  EXPECT_EQ(roundingDivideByPOT(-5, 2), -1); // -1.25 -> -1
  EXPECT_EQ(roundingDivideByPOT(-7, 2), -2); // -1.75 -> -2
  EXPECT_EQ(roundingDivideByPOT(6, 2), 2);   // 1.5 -> 2
  EXPECT_EQ(roundingDivideByPOT(7, 0), 7);
  EXPECT_EQ(roundingDivideByPOT(kMin, 31), -1);         // exactly -1
  EXPECT_EQ(roundingDivideByPOT(kMax, 31), 1);          // 0.99999... -> 1
  EXPECT_EQ(roundingDivideByPOT(-(1 << 30), 31), -1);   // -0.5 -> -1
  EXPECT_EQ(roundingDivideByPOT((1 << 30) - 1, 31), 0); // just below 0.5
  // Beyond gemmlowp's range, the same rule: only -2^31 / 2^32 = -0.5 rounds.
  EXPECT_EQ(roundingDivideByPOT(kMin, 32), -1);
  EXPECT_EQ(roundingDivideByPOT(kMax, 40), 0);
}

TEST(FixedPointTest, QuantizeMultiplierKnownValues) {
  // frexp(0.5) = 0.5 * 2^0 -> 0.5 * 2^31 = 2^30, shift 0.
  EXPECT_EQ(qm(0.5), (FixedPointMultiplier{1 << 30, 0}));
  // frexp(1.0) = 0.5 * 2^1.
  EXPECT_EQ(qm(1.0), (FixedPointMultiplier{1 << 30, 1}));
  // frexp(0.75) = 0.75 * 2^0 -> 0.75 * 2^31 = 1610612736.
  EXPECT_EQ(qm(0.75), (FixedPointMultiplier{1610612736, 0}));
  // frexp(3.0) = 0.75 * 2^2.
  EXPECT_EQ(qm(3.0), (FixedPointMultiplier{1610612736, 2}));
  // frexp(0.1) = 0.8 * 2^-3 -> round(0.8 * 2^31) = round(1717986918.4).
  EXPECT_EQ(qm(0.1), (FixedPointMultiplier{1717986918, -3}));
  // 0.5 - 2^-34 = (1 - 2^-33) * 2^-1: the mantissa rounds up to 2^31, which
  // is halved with the shift incremented back to 0.
  EXPECT_EQ(qm(0.5 - std::ldexp(1.0, -34)), (FixedPointMultiplier{1 << 30, 0}));
  EXPECT_EQ(qm(0.0), (FixedPointMultiplier{0, 0}));
  // 1e-12 ~ 2^-39.9: a shift below -31 flushes to zero.
  EXPECT_EQ(qm(1e-12), (FixedPointMultiplier{0, 0}));
  // 2^-32 = 0.5 * 2^-31: the smallest shift kept.
  EXPECT_EQ(qm(std::ldexp(1.0, -32)), (FixedPointMultiplier{1 << 30, -31}));
  EXPECT_FALSE(quantizeMultiplier(-0.5).ok());
  EXPECT_FALSE(quantizeMultiplier(std::nan("")).ok());
  EXPECT_FALSE(quantizeMultiplier(INFINITY).ok());
}

TEST(FixedPointTest, MultiplyByQuantizedMultiplierHandWorked) {
  // M = 0.5 = {2^30, 0}: SRDHM(x, 2^30) = floor(x/2 + 1/2).
  EXPECT_EQ(multiplyByQuantizedMultiplier(100, qm(0.5)), 50);
  EXPECT_EQ(multiplyByQuantizedMultiplier(5, qm(0.5)), 3);   // 2.5 -> 3
  EXPECT_EQ(multiplyByQuantizedMultiplier(-5, qm(0.5)), -2); // -2.5 -> -2
  // M = 0.25 = {2^30, -1}: SRDHM(-5) = -2, then -2 / 2 = -1 (-1.25 -> -1).
  EXPECT_EQ(multiplyByQuantizedMultiplier(-5, qm(0.25)), -1);
  // 10 * 0.25 = 2.5: SRDHM gives 5 exactly, then 5/2 rounds away -> 3.
  EXPECT_EQ(multiplyByQuantizedMultiplier(10, qm(0.25)), 3);
  EXPECT_EQ(multiplyByQuantizedMultiplier(-10, qm(0.25)), -3);
  // M = 3 = {0.75 * 2^31, 2}: 7 << 2 = 28, 28 * 0.75 = 21.
  EXPECT_EQ(multiplyByQuantizedMultiplier(7, qm(3.0)), 21);
  // The left shift saturates: INT32_MAX << 3 -> INT32_MAX, then * 0.5 (M = 4
  // is {2^30, 3}) = 1073741823.5 -> 1073741824.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMax, qm(4.0)), 1073741824);
  EXPECT_EQ(multiplyByQuantizedMultiplier(12345, qm(0.0)), 0);
}

TEST(FixedPointTest, MultiplyByQuantizedMultiplierMatchesExactOracle) {
  std::mt19937_64 rng(20240601);
  std::uniform_real_distribution<double> logScale(std::log(1e-6),
                                                  std::log(100.0));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int exactRoundingMatches = 0;
  const int kTrials = 20000;
  for (int trial = 0; trial < kTrials; ++trial) {
    const double m = std::exp(logScale(rng));
    const FixedPointMultiplier f = qm(m);
    ASSERT_GE(f.multiplier, 1 << 30);
    const int left = f.shift > 0 ? f.shift : 0;
    const int right = f.shift > 0 ? 0 : -f.shift;
    // Keep |x * M| < 2^30 and x << left inside int32, the range in which the
    // kernels use the multiplier.
    double bound = std::min({2147483647.0, std::ldexp(1.0, 30) / m,
                             std::ldexp(1.0, 31 - left) - 1});
    int64_t maxX = static_cast<int64_t>(bound);
    int64_t x = static_cast<int64_t>((unit(rng) * 2 - 1) * maxX);
    if (trial % 10 == 0) // and the extremes of that range
      x = trial % 20 == 0 ? maxX : -maxX;
    const int32_t got =
        multiplyByQuantizedMultiplier(static_cast<int32_t>(x), f);

    // 1. The same two roundings, exactly, in 128 bits: SRDHM is
    //    floor(a * b / 2^31 + 1/2), RoundingDivideByPOT rounds half away.
    Int128 shifted = static_cast<Int128>(x) * (Int128(1) << left);
    Int128 high = floorDivPow2(shifted * f.multiplier + (Int128(1) << 30), 31);
    Int128 expected = roundAwayDivPow2(high, right);
    ASSERT_EQ(static_cast<Int128>(got), expected)
        << "x = " << x << ", M = " << m << " {" << f.multiplier << ", "
        << f.shift << "}";

    // 2. Within 1 of the exactly rounded real product round(x * M). M is a
    //    double, M = mant * 2^e with a 53-bit integer mant, so x * mant fits
    //    in 128 bits and the rounding is exact.
    int e = 0;
    double frac = std::frexp(m, &e);
    Int128 mant = static_cast<Int128>(std::ldexp(frac, 53));
    Int128 product = static_cast<Int128>(x) * mant;
    Int128 exact = roundAwayDivPow2(product, 53 - e); // 53 - e > 0 here
    Int128 diff = static_cast<Int128>(got) - exact;
    ASSERT_LE(diff < 0 ? -diff : diff, 1)
        << "x = " << x << ", M = " << m << ": got " << got;
    exactRoundingMatches += diff == 0;
  }
  // Off-by-one is the exception (ties and multiplier error), not the rule.
  EXPECT_GT(exactRoundingMatches, kTrials * 9 / 10);
}

TEST(FixedPointTest, SaturatingLeftShift) {
  EXPECT_EQ(saturatingLeftShift(3, 4), 48);
  EXPECT_EQ(saturatingLeftShift(-3, 4), -48);
  EXPECT_EQ(saturatingLeftShift(1 << 30, 1), kMax);
  EXPECT_EQ(saturatingLeftShift(-(1 << 30), 1), kMin);
  EXPECT_EQ(saturatingLeftShift(-1, 40), kMin);
  EXPECT_EQ(saturatingLeftShift(0, 40), 0);
}

TEST(FixedPointTest, RoundHalfEvenAndSaturate) {
  EXPECT_EQ(roundHalfEven(0.5f), 0.0f);
  EXPECT_EQ(roundHalfEven(1.5f), 2.0f);
  EXPECT_EQ(roundHalfEven(2.5f), 2.0f);
  EXPECT_EQ(roundHalfEven(-0.5f), -0.0f);
  EXPECT_EQ(roundHalfEven(-1.5f), -2.0f);
  EXPECT_EQ(roundHalfEven(-2.5f), -2.0f);
  EXPECT_EQ(roundHalfEven(2.4999998f), 2.0f);
  EXPECT_EQ(roundHalfEven(8388609.0f), 8388609.0f); // 2^23 + 1, odd, exact
  EXPECT_EQ(roundHalfEven(-3.5), -4.0);
  EXPECT_TRUE(std::isinf(roundHalfEven(INFINITY)));
  EXPECT_EQ(saturate(300, IntType::u8()), 255);
  EXPECT_EQ(saturate(-300, IntType::i8()), -128);
  EXPECT_EQ(saturate(-9, IntType::i4()), -8);
  // roundToQuantized: saturate(round(v) + zp) without overflow anywhere.
  EXPECT_EQ(roundToQuantized(2.5f, 10, 0, 255), 12);
  EXPECT_EQ(roundToQuantized(1e30f, 0, INT64_MIN, INT64_MAX), INT64_MAX);
  EXPECT_EQ(roundToQuantized(-1e30f, 0, INT64_MIN, INT64_MAX), INT64_MIN);
  EXPECT_EQ(roundToQuantized(std::nanf(""), 7, 0, 255), 7);
  // 2^62 + zp stays exact for i64 storage.
  EXPECT_EQ(roundToQuantized(std::ldexp(1.0f, 62), 5, INT64_MIN, INT64_MAX),
            (int64_t(1) << 62) + 5);
}
