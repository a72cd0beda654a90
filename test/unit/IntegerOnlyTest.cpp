//===- IntegerOnlyTest.cpp - I-BERT integer-only softmax, layer_norm, gelu ===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Hand-worked cases of each integer-only op, the building blocks (i-exp,
// i-sqrt, i-erf) against libm, and the error of each op against the float op
// of lib/Reference (computed in double from the same dequantized input) on
// random inputs with fixed seeds. The bounds are the measured maxima with a
// small margin; the measured numbers are written beside them.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/IntegerOnly.h"
#include "qlow/Reference/Ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

using namespace qlow::ref;

namespace {
TensorType quantType(std::vector<int64_t> shape, IntType storage, double scale,
                     int64_t zeroPoint) {
  size_t rank = shape.size();
  return TensorType::quantized(
      std::move(shape), QuantParams::perTensor(storage, scale, zeroPoint, rank));
}

Tensor randomQuant(std::mt19937 &rng, const TensorType &type, int64_t lo,
                   int64_t hi) {
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  std::vector<int64_t> values(type.numElements());
  for (int64_t &v : values)
    v = dist(rng);
  return Tensor::makeQuant(type.shape, type.quant, values);
}

/// max |dequantize(a) - b| over all elements (a Quant, b Float).
double maxAbsError(const Tensor &a, const Tensor &b) {
  Expected<Tensor> da = dequantize(a);
  EXPECT_TRUE(da.ok()) << da.status.message();
  double err = 0.0;
  for (size_t k = 0; k < b.f.size(); ++k)
    err = std::max(err, std::fabs(double(da->f[k]) - double(b.f[k])));
  return err;
}
} // namespace

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

TEST(IntegerOnlyTest, IExpAgainstExp) {
  // e(0) = (22168^2 + 257578234) >> 14 = 748998458 >> 14 = 45715.
  EXPECT_EQ(iExp(0), 45715);
  // Below the clamp everything is 0; e never increases as x decreases.
  EXPECT_EQ(iExp(kIExpMinX), 0);
  EXPECT_EQ(iExp(std::numeric_limits<int32_t>::min()), 0);
  // exp(x) ~ e * a * 2^-14 with a = 0.3585. Measured over every x down to
  // the clamp (units 2^-14): max relative error on (-ln 2, 0] (the
  // polynomial alone, z = 0) 3.11e-3; max absolute error 2.15e-3; e drops by
  // one unit once as x increases (at one z step).
  double maxRel = 0.0, maxAbs = 0.0;
  int32_t prev = 0, drops = 0;
  for (int32_t x = kIExpMinX; x <= 0; ++x) {
    int32_t e = iExp(x);
    // Non-decreasing in x except by one unit where z steps: the polynomial
    // at p = -ln 2 (0.50010) is a hair below half its value at 0 (0.50015).
    ASSERT_GE(e, prev - 1) << x;
    drops += e < prev;
    prev = e;
    double approx = e * 0.3585 / 16384.0;
    double exact = std::exp(x / 16384.0);
    maxAbs = std::max(maxAbs, std::fabs(approx - exact));
    if (x > -kIExpLn2)
      maxRel = std::max(maxRel, std::fabs(approx - exact) / exact);
  }
  EXPECT_LT(maxRel, 3.2e-3) << maxRel;
  EXPECT_LT(maxAbs, 2.2e-3) << maxAbs;
  EXPECT_LE(drops, 1);
  EXPECT_GT(maxRel, 1.0e-4) << "the polynomial is not exact";
}

TEST(IntegerOnlyTest, IsqrtIsFloorSqrt) {
  for (int64_t v = 0; v <= 300000; ++v) {
    int64_t r = isqrt(v);
    ASSERT_TRUE(r * r <= v && (r + 1) * (r + 1) > v) << v;
  }
  // Around squares and powers of two up to 2^62 (floor sqrt below 2^31.5).
  std::vector<int64_t> values;
  for (int64_t r = 1; r < (int64_t(1) << 31); r = r * 3 + 1)
    for (int64_t delta : {-1, 0, 1})
      values.push_back(r * r + delta);
  for (int b = 1; b < 63; ++b)
    for (int64_t delta : {-1, 0, 1})
      values.push_back((int64_t(1) << b) + delta);
  values.push_back(std::numeric_limits<int64_t>::max());
  std::mt19937_64 rng(7);
  for (int k = 0; k < 200000; ++k)
    values.push_back(static_cast<int64_t>(rng() >> (1 + rng() % 62)));
  int stepsNeeded = 0;
  for (int64_t v : values) {
    if (v < 1)
      continue;
    int64_t r = isqrt(v);
    long double s = std::sqrt(static_cast<long double>(v));
    ASSERT_EQ(r, static_cast<int64_t>(std::floor(s))) << v;
    ASSERT_EQ(isqrtFixedSteps(v, kIsqrtNewtonSteps), r) << v;
    int steps = 0;
    while (isqrtFixedSteps(v, steps) != r)
      ++steps;
    stepsNeeded = std::max(stepsNeeded, steps);
  }
  // Measured: 6 steps suffice from 2^ceil(bits / 2); the lowering runs 7.
  EXPECT_EQ(stepsNeeded, 6);
  EXPECT_LT(stepsNeeded, kIsqrtNewtonSteps + 1);
}

TEST(IntegerOnlyTest, IErfAgainstErf) {
  EXPECT_EQ(iErf(0), 0);
  EXPECT_EQ(iErf(kIErfClip), 16384);
  EXPECT_EQ(iErf(100000), 16384);
  EXPECT_EQ(iErf(-100000), -16384);
  // Odd, and I-BERT's polynomial jumps to 0.0963 next to 0: t = -28982,
  // 16384 - (((28982^2 >> 14) * 9463 + 16384) >> 15) = 16384 - 14805 = 1579.
  EXPECT_EQ(iErf(1), 1579);
  EXPECT_EQ(iErf(-1), -1579);
  // Measured max |iErf(u) / 2^14 - erf(u)| over u in [-4, 4]: 9.63e-2 (the
  // jump at 0); for |u| >= 0.25: 5.74e-2 (I-BERT's polynomial).
  double maxErr = 0.0, maxErrAway = 0.0;
  for (int32_t u = -4 * 16384; u <= 4 * 16384; ++u) {
    ASSERT_EQ(iErf(-u), -iErf(u)) << u;
    double err = std::fabs(iErf(u) / 16384.0 - std::erf(u / 16384.0));
    maxErr = std::max(maxErr, err);
    if (std::abs(u) >= 4096)
      maxErrAway = std::max(maxErrAway, err);
  }
  EXPECT_LT(maxErr, 0.0965) << maxErr;
  EXPECT_LT(maxErrAway, 0.058) << maxErrAway;
}

//===----------------------------------------------------------------------===//
// int_softmax
//===----------------------------------------------------------------------===//

TEST(IntegerOnlyTest, SoftmaxHandWorked) {
  // Four equal values: S = 4 e, P = 2^28, MBQM(2^28, QM(2^-22)) = 64 = 0.25
  // at scale 1/256. A row [0, 127] at scale 1: the max gets 256 -> 255.
  TensorType in = quantType({2, 4}, IntType::i8(), 1.0, 0);
  TensorType out = quantType({2, 4}, IntType::u8(), 1.0 / 256, 0);
  Tensor x = Tensor::makeQuant({2, 4}, in.quant, {5, 5, 5, 5, 0, 0, 0, 127});
  Expected<Tensor> y = intSoftmax(x, -1, out);
  ASSERT_TRUE(y.ok()) << y.status.message();
  EXPECT_EQ(y->i, (std::vector<int64_t>{64, 64, 64, 64, 0, 0, 0, 255}));
  // Along axis 0 of the same data.
  TensorType out0 = quantType({2, 4}, IntType::u8(), 1.0 / 256, 0);
  y = intSoftmax(x, 0, out0);
  ASSERT_TRUE(y.ok()) << y.status.message();
  // Column 3: [5, 127] at scale 1 -> [0, 255]; columns 0-2: e^5 / (1 + e^5)
  // = 0.9933 -> 254 and 0.0067 -> 2.
  EXPECT_EQ(y->i, (std::vector<int64_t>{254, 254, 254, 0, 2, 2, 2, 255}));
}

TEST(IntegerOnlyTest, SoftmaxErrorAgainstFloat) {
  std::mt19937 rng(42);
  struct Case {
    IntType in;
    double inScale;
    IntType out;
    double outScale;
    int64_t outZero;
    double bound; // Measured max abs error (real units) + margin.
  };
  // Measured max abs error (probabilities): i8/0.0625 -> u8 1/256: 2.03e-3;
  // i8/0.02 -> u8: 2.00e-3; u8/0.1 -> i8 1/256 zp -128: 2.45e-3;
  // i16/0.001 -> i16 1/32768: 6.8e-4; i32/1e-4 -> u8: 2.26e-3. Half an
  // output quantum (1.95e-3 for u8) is the floor of any 8-bit result; i-exp's
  // polynomial (3.1e-3 relative) is what the i16 result shows.
  const Case cases[] = {
      {IntType::i8(), 0.0625, IntType::u8(), 1.0 / 256, 0, 2.2e-3},
      {IntType::i8(), 0.02, IntType::u8(), 1.0 / 256, 0, 2.2e-3},
      {IntType::u8(), 0.1, IntType::i8(), 1.0 / 256, -128, 2.6e-3},
      {IntType::i16(), 0.001, IntType::i16(), 1.0 / 32768, 0, 7.5e-4},
      {IntType::i32(), 1e-4, IntType::u8(), 1.0 / 256, 0, 2.4e-3},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.in.str() + " -> " + c.out.str());
    TensorType in = quantType({16, 77}, c.in, c.inScale, 0);
    int64_t lo = c.in.min(), hi = c.in.max();
    if (c.in.bits == 32) {
      lo = -200000;
      hi = 200000;
    }
    Tensor x = randomQuant(rng, in, lo, hi);
    Expected<Tensor> yi =
        intSoftmax(x, -1, quantType({16, 77}, c.out, c.outScale, c.outZero));
    Expected<Tensor> yf = softmax(x, -1, TensorType::f32({16, 77}));
    ASSERT_TRUE(yi.ok()) << yi.status.message();
    ASSERT_TRUE(yf.ok()) << yf.status.message();
    double err = maxAbsError(*yi, *yf);
    EXPECT_LT(err, c.bound) << err;
    // Rows sum to ~1: each element is within its error of the true value.
    for (int64_t r = 0; r < 16; ++r) {
      double sum = 0.0;
      for (int64_t j = 0; j < 77; ++j)
        sum += (yi->i[r * 77 + j] - c.outZero) * c.outScale;
      EXPECT_NEAR(sum, 1.0, 77 * c.bound);
    }
  }
}

TEST(IntegerOnlyTest, SoftmaxErrors) {
  TensorType in = quantType({2, 4}, IntType::i8(), 0.1, 0);
  Tensor x = Tensor::makeQuant({2, 4}, in.quant, std::vector<int64_t>(8, 0));
  TensorType out = quantType({2, 4}, IntType::u8(), 1.0 / 256, 0);
  EXPECT_FALSE(intSoftmax(x, 2, out).ok());
  EXPECT_FALSE(intSoftmax(x, -3, out).ok());
  EXPECT_FALSE(intSoftmax(Tensor::makeFloat({2}, {0, 1}), 0,
                          quantType({2}, IntType::u8(), 1.0 / 256, 0))
                   .ok());
  EXPECT_FALSE(intSoftmax(x, -1, quantType({2, 4}, IntType::i4(), 0.1, 0)).ok());
  EXPECT_FALSE(intSoftmax(x, -1, quantType({4, 2}, IntType::u8(), 0.1, 0)).ok());
  TensorType big = quantType({1, kIntSoftmaxMaxAxisSize + 1}, IntType::i8(),
                             0.1, 0);
  Expected<Tensor> r = intSoftmax(
      Tensor::zeros(big), -1,
      quantType({1, kIntSoftmaxMaxAxisSize + 1}, IntType::u8(), 0.1, 0));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status.message().find("more than 32768"), std::string::npos);
  // The largest axis: S = 32768 * 45715 fits i32, every output is 1/32768.
  TensorType edge = quantType({1, kIntSoftmaxMaxAxisSize}, IntType::i8(), 0.1, 0);
  r = intSoftmax(Tensor::zeros(edge), -1,
                 quantType({1, kIntSoftmaxMaxAxisSize}, IntType::i16(),
                           1.0 / (int64_t(1) << 30), 0));
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r->i[0], 32768 - 1) << "2^30 / 32768 = 32768 saturates to 32767";
}

//===----------------------------------------------------------------------===//
// int_layer_norm
//===----------------------------------------------------------------------===//

TEST(IntegerOnlyTest, LayerNormHandWorked) {
  // Row [1, -1] at scale 1: mean 0, variance 1: c = +-16, V = 512, v = 256,
  // sd = 16, R = 2^40, n = 2^16; G = 2^16 * 64, out = +-64 at scale 1/64.
  // Row [3, 3]: variance 0 -> sd = 1, c = 0 -> out = beta = 0.5 -> 32.
  TensorType in = quantType({2, 2}, IntType::i8(), 1.0, 0);
  Tensor x = Tensor::makeQuant({2, 2}, in.quant, {1, -1, 3, 3});
  Tensor gamma = Tensor::makeFloat({2}, {1.0f, 1.0f});
  Tensor beta = Tensor::makeFloat({2}, {0.0f, 0.5f});
  Expected<Tensor> y = intLayerNorm(x, gamma, nullptr, 0.0f,
                                    quantType({2, 2}, IntType::i8(), 1.0 / 64, 0));
  ASSERT_TRUE(y.ok()) << y.status.message();
  EXPECT_EQ(y->i, (std::vector<int64_t>{64, -64, 0, 0}));
  y = intLayerNorm(x, gamma, &beta, 0.0f,
                   quantType({2, 2}, IntType::i8(), 1.0 / 64, 0));
  ASSERT_TRUE(y.ok()) << y.status.message();
  EXPECT_EQ(y->i, (std::vector<int64_t>{64, -32, 0, 32}));
}

TEST(IntegerOnlyTest, LayerNormErrorAgainstFloat) {
  std::mt19937 rng(43);
  struct Case {
    IntType in;
    double inScale;
    int64_t inZero;
    int64_t d;
    IntType out;
    double outScale;
    int64_t outZero;
    double bound; // In output quanta.
  };
  // Measured max abs error in output quanta: i8 D=768: 0.523; u8 D=77 zp
  // 100: 0.534; i16 D=64 -> i16: 0.533; i8 D=5 -> u8: 0.497. The rounding of
  // the output alone costs 0.5: the integer normalization adds a few
  // hundredths.
  const Case cases[] = {
      {IntType::i8(), 0.05, 0, 768, IntType::i8(), 0.04, 0, 0.6},
      {IntType::u8(), 0.02, 100, 77, IntType::i8(), 0.03, -5, 0.6},
      {IntType::i16(), 0.001, 0, 64, IntType::i16(), 0.0002, 0, 0.6},
      {IntType::i8(), 0.1, 0, 5, IntType::u8(), 0.04, 128, 0.6},
  };
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const Case &c : cases) {
    SCOPED_TRACE(c.in.str() + " D=" + std::to_string(c.d));
    TensorType in = quantType({9, c.d}, c.in, c.inScale, c.inZero);
    Tensor x = randomQuant(rng, in, c.in.min(), c.in.max());
    std::vector<float> g(c.d), b(c.d);
    for (int64_t i = 0; i < c.d; ++i) {
      g[i] = 0.8f + 0.1f * normal(rng);
      b[i] = 0.2f * normal(rng);
    }
    Tensor gamma = Tensor::makeFloat({c.d}, g), beta = Tensor::makeFloat({c.d}, b);
    TensorType outType = quantType({9, c.d}, c.out, c.outScale, c.outZero);
    Expected<Tensor> yi = intLayerNorm(x, gamma, &beta, 1e-5f, outType);
    Expected<Tensor> yf =
        layerNorm(x, gamma, &beta, 1e-5f, TensorType::f32({9, c.d}));
    ASSERT_TRUE(yi.ok()) << yi.status.message();
    ASSERT_TRUE(yf.ok()) << yf.status.message();
    // Compare where the float result is inside the output range (saturated
    // elements are exact on both sides up to the clamp).
    double err = 0.0;
    for (size_t k = 0; k < yf->f.size(); ++k) {
      double q = yf->f[k] / c.outScale + c.outZero;
      if (q < c.out.min() || q > c.out.max())
        continue;
      err = std::max(err, std::fabs(double(yi->i[k]) - q));
    }
    EXPECT_LT(err, c.bound) << err;
    EXPECT_GT(err, 0.45) << "output rounding alone reaches ~0.5";
  }
}

TEST(IntegerOnlyTest, LayerNormErrors) {
  TensorType in = quantType({2, 4}, IntType::i8(), 0.1, 0);
  Tensor x = Tensor::zeros(in);
  TensorType out = quantType({2, 4}, IntType::i8(), 0.1, 0);
  Tensor gamma = Tensor::makeFloat({4}, {1, 1, 1, 1});
  EXPECT_TRUE(intLayerNorm(x, gamma, nullptr, 1e-5f, out).ok());
  EXPECT_FALSE(intLayerNorm(x, Tensor::makeFloat({3}, {1, 1, 1}), nullptr,
                            1e-5f, out)
                   .ok());
  EXPECT_FALSE(intLayerNorm(x, gamma, nullptr, -1.0f, out).ok());
  // gamma / so = 1e5 >= 2^15: not representable.
  Expected<Tensor> r = intLayerNorm(
      x, Tensor::makeFloat({4}, {1, 1, 1e4f, 1}), nullptr, 1e-5f, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status.message().find("gamma[2]"), std::string::npos);
  TensorType i32in = quantType({2, 4}, IntType::i32(), 0.1, 0);
  EXPECT_FALSE(intLayerNorm(Tensor::zeros(i32in), gamma, nullptr, 1e-5f, out).ok());
}

//===----------------------------------------------------------------------===//
// int_gelu
//===----------------------------------------------------------------------===//

TEST(IntegerOnlyTest, GeluHandWorked) {
  // Scale 1 in, 1/16 out: x = 4 -> erf(2.83) clipped to 1: w = 2^15,
  // MBQM(4 * 2^15, 2^-11) = 64 = 4.0. x = -4 -> 0. x = 0 -> 0.
  TensorType in = quantType({3}, IntType::i8(), 1.0, 0);
  Tensor x = Tensor::makeQuant({3}, in.quant, {4, -4, 0});
  Expected<Tensor> y = intGelu(x, quantType({3}, IntType::i8(), 1.0 / 16, 0));
  ASSERT_TRUE(y.ok()) << y.status.message();
  EXPECT_EQ(y->i, (std::vector<int64_t>{64, 0, 0}));
}

TEST(IntegerOnlyTest, GeluErrorAgainstFloat) {
  std::mt19937 rng(44);
  struct Case {
    IntType in;
    double inScale;
    int64_t inZero;
    IntType out;
    double outScale;
    int64_t outZero;
    double bound; // Real units.
  };
  // Measured max abs error (real units): i8/0.05 (x in [-6.4, 6.35]) ->
  // i8/0.05: 0.0375 (output rounding costs 0.025, the rest is i-erf's error
  // times x/2 near |x| ~ 1.5); u8/0.03 zp 128 -> u8/0.02 zp 20: 0.0259;
  // i16/2e-4 (x in [-6.6, 6.6]) -> i16/2e-4: 0.0183 (i-erf alone).
  const Case cases[] = {
      {IntType::i8(), 0.05, 0, IntType::i8(), 0.05, 0, 0.04},
      {IntType::u8(), 0.03, 128, IntType::u8(), 0.02, 20, 0.028},
      {IntType::i16(), 2e-4, 0, IntType::i16(), 2e-4, 0, 0.02},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.in.str() + " -> " + c.out.str());
    TensorType in = quantType({4096}, c.in, c.inScale, c.inZero);
    Tensor x = randomQuant(rng, in, c.in.min(), c.in.max());
    TensorType outType = quantType({4096}, c.out, c.outScale, c.outZero);
    Expected<Tensor> yi = intGelu(x, outType);
    Expected<Tensor> yf = gelu(x, GeluApproximation::None, TensorType::f32({4096}));
    ASSERT_TRUE(yi.ok()) << yi.status.message();
    ASSERT_TRUE(yf.ok()) << yf.status.message();
    double err = 0.0;
    for (size_t k = 0; k < yf->f.size(); ++k) {
      double q = yf->f[k] / c.outScale + c.outZero;
      if (q < c.out.min() || q > c.out.max())
        continue;
      err = std::max(err, std::fabs((yi->i[k] - c.outZero) * c.outScale -
                                    double(yf->f[k])));
    }
    EXPECT_LT(err, c.bound) << err;
  }
}

TEST(IntegerOnlyTest, GeluExtremesStayInRange) {
  // |d| = 65535 (u16 with zero point 0 or 65535): d * w <= 65535 * 2^15 fits
  // i32, and the result saturates correctly.
  QuantParams p = QuantParams::perTensor(IntType::u16(), 0.01, 65535, 1);
  Tensor x = Tensor::makeQuant({2}, p, {0, 65535});
  Expected<Tensor> y = intGelu(x, quantType({2}, IntType::i16(), 0.01, 0));
  ASSERT_TRUE(y.ok()) << y.status.message();
  // x = -655.35 -> 0; x = 0 -> 0.
  EXPECT_EQ(y->i, (std::vector<int64_t>{0, 0}));
  QuantParams p2 = QuantParams::perTensor(IntType::u16(), 0.01, 0, 1);
  x = Tensor::makeQuant({1}, p2, {65535});
  y = intGelu(x, quantType({1}, IntType::i16(), 0.01, 0));
  ASSERT_TRUE(y.ok()) << y.status.message();
  EXPECT_EQ(y->i[0], 32767); // 655.35 saturates.
  EXPECT_EQ(intGeluScalar(65535, *planIntGelu(0.01, 1.0)), 655);
  EXPECT_FALSE(intGelu(x, quantType({1}, IntType::i32(), 0.01, 0)).ok());
}
