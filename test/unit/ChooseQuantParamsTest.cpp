//===- ChooseQuantParamsTest.cpp - scale and zero point from a range ------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Arithmetic.h"
#include "qlow/Reference/Ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace qlow::ref;

namespace {
ScaleZeroPoint choose(float lo, float hi, IntType t, bool symmetric,
                      bool narrow) {
  Expected<ScaleZeroPoint> r =
      chooseScaleZeroPoint(lo, hi, t, symmetric, narrow);
  EXPECT_TRUE(r.ok()) << r.status.message();
  return r.value;
}
} // namespace

TEST(ChooseQuantParamsTest, AsymmetricHandWorked) {
  // u8 [-1, 1]: scale = 2/255, zp = 0 - (-1)/(2/255) = 127.5 -> 128 (half
  // away from zero, as std::round / TfLiteRound).
  ScaleZeroPoint r = choose(-1, 1, IntType::u8(), false, false);
  EXPECT_DOUBLE_EQ(r.scale, 2.0 / 255.0);
  EXPECT_EQ(r.zeroPoint, 128);
  // i8 [-1, 1]: zp = -128 + 127.5 = -0.5 -> -1.
  r = choose(-1, 1, IntType::i8(), false, false);
  EXPECT_DOUBLE_EQ(r.scale, 2.0 / 255.0);
  EXPECT_EQ(r.zeroPoint, -1);
  // i8 [0.5, 6] is extended to [0, 6]: scale 6/255, zp = qmin = -128.
  r = choose(0.5f, 6, IntType::i8(), false, false);
  EXPECT_DOUBLE_EQ(r.scale, 6.0 / 255.0);
  EXPECT_EQ(r.zeroPoint, -128);
  // u8 [-3, -1] is extended to [-3, 0]: zp = 0 + 3 / (3/255) = 255.
  r = choose(-3, -1, IntType::u8(), false, false);
  EXPECT_DOUBLE_EQ(r.scale, 3.0 / 255.0);
  EXPECT_EQ(r.zeroPoint, 255);
  // i4 [-1, 2]: scale 3/15 = 0.2, zp = -8 + 1/0.2 = -3.
  r = choose(-1, 2, IntType::i4(), false, false);
  EXPECT_DOUBLE_EQ(r.scale, 0.2);
  EXPECT_EQ(r.zeroPoint, -3);
  // i16 [-1, 3]: scale 4/65535, zp = -32768 + 65535/4 = -16384.25 -> -16384.
  r = choose(-1, 3, IntType::i16(), false, false);
  EXPECT_DOUBLE_EQ(r.scale, 4.0 / 65535.0);
  EXPECT_EQ(r.zeroPoint, -16384);
  // Narrow u8 [-1, 1]: levels 1..255, scale 2/254, zp = 1 + 127 = 128.
  r = choose(-1, 1, IntType::u8(), false, true);
  EXPECT_DOUBLE_EQ(r.scale, 2.0 / 254.0);
  EXPECT_EQ(r.zeroPoint, 128);
  EXPECT_EQ(r.qmin, 1);
  EXPECT_EQ(r.qmax, 255);
}

TEST(ChooseQuantParamsTest, SymmetricHandWorked) {
  // i8 [-2, 1]: amax 2, scale = 2 / ((127 - -128) / 2) = 2 / 127.5, zp 0.
  ScaleZeroPoint r = choose(-2, 1, IntType::i8(), true, false);
  EXPECT_DOUBLE_EQ(r.scale, 2.0 / 127.5);
  EXPECT_EQ(r.zeroPoint, 0);
  // Narrow i8: levels -127..127, scale 2/127.
  r = choose(-2, 1, IntType::i8(), true, true);
  EXPECT_DOUBLE_EQ(r.scale, 2.0 / 127.0);
  EXPECT_EQ(r.zeroPoint, 0);
  EXPECT_EQ(r.qmin, -127);
  // u8 symmetric [-1, 3]: amax 3, scale 3/127.5, zp (0 + 255 + 1)/2 = 128.
  r = choose(-1, 3, IntType::u8(), true, false);
  EXPECT_DOUBLE_EQ(r.scale, 3.0 / 127.5);
  EXPECT_EQ(r.zeroPoint, 128);
  // u4 symmetric: zp (0 + 15 + 1)/2 = 8, scale 1/7.5.
  r = choose(-1, 1, IntType::u4(), true, false);
  EXPECT_DOUBLE_EQ(r.scale, 1.0 / 7.5);
  EXPECT_EQ(r.zeroPoint, 8);
  // i4 narrow: levels -7..7, amax = 0.7f, scale 0.7f/7.
  r = choose(-0.7f, 0.35f, IntType::i4(), true, true);
  EXPECT_DOUBLE_EQ(r.scale, static_cast<double>(0.7f) / 7.0);
  EXPECT_EQ(r.zeroPoint, 0);
  EXPECT_EQ(r.qmin, -7);
  EXPECT_EQ(r.qmax, 7);
  // i16: scale 1/32767.5.
  r = choose(-1, 1, IntType::i16(), true, false);
  EXPECT_DOUBLE_EQ(r.scale, 1.0 / 32767.5);
}

TEST(ChooseQuantParamsTest, DegenerateRange) {
  ScaleZeroPoint r = choose(0, 0, IntType::u8(), false, false);
  EXPECT_EQ(r.scale, 1.0);
  EXPECT_EQ(r.zeroPoint, 0);
  r = choose(0, 0, IntType::i8(), false, false);
  EXPECT_EQ(r.scale, 1.0);
  EXPECT_EQ(r.zeroPoint, -128); // qmin, as the asymmetric rule gives
  r = choose(0, 0, IntType::i8(), true, false);
  EXPECT_EQ(r.scale, 1.0);
  EXPECT_EQ(r.zeroPoint, 0);
  r = choose(0, 0, IntType::u8(), true, false);
  EXPECT_EQ(r.zeroPoint, 128);
}

TEST(ChooseQuantParamsTest, Errors) {
  EXPECT_FALSE(chooseScaleZeroPoint(1, -1, IntType::i8(), false, false).ok());
  EXPECT_FALSE(
      chooseScaleZeroPoint(std::nanf(""), 1, IntType::i8(), false, false).ok());
  EXPECT_FALSE(
      chooseScaleZeroPoint(-INFINITY, 1, IntType::i8(), false, false).ok());
  EXPECT_FALSE(chooseScaleZeroPoint(-1, 1, IntType::i1(), false, false).ok());
  EXPECT_FALSE(
      chooseScaleZeroPoint(-1, 1, IntType(7, true), false, false).ok());
}

TEST(ChooseQuantParamsTest, ParamsCarryNarrowRange) {
  Expected<QuantParams> p =
      chooseQuantParams(-1, 1, IntType::i8(), true, true, 2);
  ASSERT_TRUE(p.ok()) << p.status.message();
  EXPECT_EQ(p->qmin(), -127);
  EXPECT_EQ(p->qmax(), 127);
  EXPECT_EQ(p->scaleShape, (std::vector<int64_t>{1, 1}));
  // -1.0 would need -127 exactly; -2.0 must saturate to -127, not -128.
  Tensor x = Tensor::makeFloat({1, 2}, {-1.0f, -2.0f});
  Expected<Tensor> q = quantize(x, TensorType::quantized({1, 2}, *p));
  ASSERT_TRUE(q.ok()) << q.status.message();
  EXPECT_EQ(q->i, (std::vector<int64_t>{-127, -127}));
  // Full range parameters carry no narrowing.
  p = chooseQuantParams(-1, 1, IntType::i8(), true, false, 1);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->storageMin.has_value());
}

TEST(ChooseQuantParamsTest, ZeroIsExactOverRandomRanges) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> lo(-100.0f, 10.0f);
  std::uniform_real_distribution<float> width(0.0f, 120.0f);
  const IntType types[] = {IntType::i8(), IntType::u8(),  IntType::i4(),
                           IntType::u4(), IntType::i16(), IntType::u16()};
  int checked = 0;
  for (int trial = 0; trial < 400; ++trial) {
    float rmin = lo(rng);
    float rmax = rmin + (trial % 17 == 0 ? 0.0f : width(rng));
    if (trial % 23 == 0)
      rmin = rmax = 0.0f;
    for (IntType t : types)
      for (bool symmetric : {false, true})
        for (bool narrow : {false, true}) {
          Expected<QuantParams> p =
              chooseQuantParams(rmin, rmax, t, symmetric, narrow, 1);
          ASSERT_TRUE(p.ok()) << p.status.message();
          ASSERT_TRUE(verifyQuantParams(*p, {3}).ok());
          Tensor x = Tensor::makeFloat({3}, {0.0f, rmin, rmax});
          Expected<Tensor> fq = fakeQuant(x, *p);
          ASSERT_TRUE(fq.ok()) << fq.status.message();
          // 0.0 maps to the zero point and back to exactly 0.0.
          EXPECT_EQ(fq->f[0], 0.0f)
              << t.str() << " [" << rmin << ", " << rmax << "]";
          // The ends of the range are within half a step (the zero-point
          // nudge moves the grid by at most half a step, and saturation
          // covers the rest), plus f32 rounding.
          const double s = p->scales[0];
          const double tol =
              0.5 * s * 1.0001 + 1e-5 * (1 + std::fabs(rmin) + std::fabs(rmax));
          EXPECT_LE(std::fabs(fq->f[1] - rmin), tol) << t.str();
          EXPECT_LE(std::fabs(fq->f[2] - rmax), tol) << t.str();
          ++checked;
        }
  }
  EXPECT_EQ(checked, 400 * 6 * 4);
}

TEST(ChooseQuantParamsTest, PerChannel) {
  // Channel ranges on axis 1 of a [2, 3] tensor, symmetric narrow i8:
  // amax 1, 4, 0 -> scales 1/127, 4/127 and 1.0 (degenerate).
  Expected<QuantParams> p = choosePerAxisQuantParams(
      {-1, -2, 0}, {1, 4, 0}, IntType::i8(), true, true, 1, 2);
  ASSERT_TRUE(p.ok()) << p.status.message();
  EXPECT_EQ(p->scaleShape, (std::vector<int64_t>{1, 3}));
  ASSERT_EQ(p->scales.size(), 3u);
  EXPECT_DOUBLE_EQ(p->scales[0], 1.0 / 127.0);
  EXPECT_DOUBLE_EQ(p->scales[1], 4.0 / 127.0);
  EXPECT_DOUBLE_EQ(p->scales[2], 1.0);
  EXPECT_EQ(p->zeroPoints, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(p->qmin(), -127);
  EXPECT_TRUE(verifyQuantParams(*p, {2, 3}).ok());
  // Asymmetric u8 per channel: [-1, 1] -> zp 128, [0, 5] -> zp 0.
  p = choosePerAxisQuantParams({-1, 0}, {1, 5}, IntType::u8(), false, false, 0,
                               2);
  ASSERT_TRUE(p.ok()) << p.status.message();
  EXPECT_EQ(p->zeroPoints, (std::vector<int64_t>{128, 0}));
  EXPECT_DOUBLE_EQ(p->scales[1], 5.0 / 255.0);

  EXPECT_FALSE(
      choosePerAxisQuantParams({-1}, {1, 2}, IntType::i8(), true, false, 0, 2)
          .ok());
  EXPECT_FALSE(
      choosePerAxisQuantParams({-1}, {1}, IntType::i8(), true, false, 2, 2)
          .ok());
  Expected<QuantParams> bad = choosePerAxisQuantParams(
      {-1, 2}, {1, 1}, IntType::i8(), true, false, 0, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status.message().find("channel 1"), std::string::npos)
      << bad.status.message();
}
