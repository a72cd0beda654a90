//===- ElementwiseTest.cpp - add, mul, gelu, silu -------------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace qlow::ref;

namespace {
QuantParams pt(IntType t, double scale, int64_t zp) {
  return QuantParams::perTensor(t, scale, zp, 1);
}

/// Runs add or mul on two 1-D quantized vectors of the same length.
std::vector<int64_t> quantBinary(bool isAdd, const std::vector<int64_t> &a,
                                 const QuantParams &pa,
                                 const std::vector<int64_t> &b,
                                 const QuantParams &pb, const QuantParams &po,
                                 Rounding r) {
  std::vector<int64_t> shape = {static_cast<int64_t>(a.size())};
  Tensor ta = Tensor::makeQuant(shape, pa, a);
  Tensor tb = Tensor::makeQuant(shape, pb, b);
  TensorType result = TensorType::quantized(shape, po);
  Expected<Tensor> out =
      isAdd ? add(ta, tb, result, r) : mul(ta, tb, result, r);
  EXPECT_TRUE(out.ok()) << out.status.message();
  return out.value.i;
}
} // namespace

TEST(ElementwiseTest, FloatBroadcasting) {
  // [2, 3] + [3]: each row plus [10, 20, 30].
  Tensor a = Tensor::makeFloat({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::makeFloat({3}, {10, 20, 30});
  Expected<Tensor> out = add(a, b, TensorType::f32({2, 3}), Rounding::Float);
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{11, 22, 33, 14, 25, 36}));
  // [2, 1] * [1, 3]: the outer product.
  Tensor col = Tensor::makeFloat({2, 1}, {2, 3});
  Tensor row = Tensor::makeFloat({1, 3}, {1, 10, 100});
  out = mul(col, row, TensorType::f32({2, 3}), Rounding::Float);
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{2, 20, 200, 3, 30, 300}));
  // Incompatible shapes and a wrong result shape.
  EXPECT_FALSE(add(a, Tensor::makeFloat({2}, {1, 2}), TensorType::f32({2, 3}),
                   Rounding::Float)
                   .ok());
  EXPECT_FALSE(add(a, b, TensorType::f32({3, 2}), Rounding::Float).ok());
  // Mixed kinds.
  EXPECT_FALSE(add(a, Tensor::makeInt({3}, IntType::i32(), {1, 2, 3}),
                   TensorType::f32({2, 3}), Rounding::Float)
                   .ok());
}

TEST(ElementwiseTest, IntegerExactWithOverflowErrors) {
  Tensor a = Tensor::makeInt({2}, IntType::i32(), {5, -7});
  Tensor b = Tensor::makeInt({2}, IntType::i32(), {2, 3});
  Expected<Tensor> out =
      add(a, b, TensorType::integer({2}, IntType::i32()), Rounding::FixedPoint);
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{7, -4}));
  out =
      mul(a, b, TensorType::integer({2}, IntType::i32()), Rounding::FixedPoint);
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{10, -21}));
  // INT32_MAX + 1 overflows i32; INT64_MAX * 2 overflows i64.
  Tensor big = Tensor::makeInt({1}, IntType::i32(), {2147483647});
  Tensor one = Tensor::makeInt({1}, IntType::i32(), {1});
  out = add(big, one, TensorType::integer({1}, IntType::i32()),
            Rounding::FixedPoint);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status.message().find("overflow"), std::string::npos);
  Tensor big64 = Tensor::makeInt({1}, IntType::i64(),
                                 {std::numeric_limits<int64_t>::max()});
  Tensor two64 = Tensor::makeInt({1}, IntType::i64(), {2});
  EXPECT_FALSE(mul(big64, two64, TensorType::integer({1}, IntType::i64()),
                   Rounding::FixedPoint)
                   .ok());
}

TEST(ElementwiseTest, QuantizedAddHandWorked) {
  // a i8 scale 0.5, b i8 scale 0.25, out i8 scale 1, zero points 0.
  // TFLite form: leftShift 20, twiceMax = 1, ma = QM(0.5) = {2^30, 0},
  // mb = QM(0.25) = {2^30, -1}, mo = QM(2^-20) = {2^30, -19}.
  //   a=1, b=0:  x_a = 2^20 / 2 = 2^19, x_b = 0; out = 2^19 / 2 / 2^19 = 0.5
  //              -> RoundingDivideByPOT rounds half away -> 1.
  //   a=-1,b=0:  -0.5 -> -1.
  //   a=3, b=1:  1.5 + 0.25 = 1.75 -> 2.
  //   a=5, b=0:  2.5 -> 3.
  //   a=127, b=127: 63.5 + 31.75 = 95.25 -> 95 (x_a + x_b = 381 * 2^18,
  //              exact all the way).
  // Float rounding: roundHalfEven((0.5 qa + 0.25 qb) / 1): 0.5 -> 0,
  // -0.5 -> -0, 1.75 -> 2, 2.5 -> 2, 95.25 -> 95.
  QuantParams pa = pt(IntType::i8(), 0.5, 0), pb = pt(IntType::i8(), 0.25, 0),
              po = pt(IntType::i8(), 1.0, 0);
  std::vector<int64_t> a = {1, -1, 3, 5, 127}, b = {0, 0, 1, 0, 127};
  EXPECT_EQ(quantBinary(true, a, pa, b, pb, po, Rounding::FixedPoint),
            (std::vector<int64_t>{1, -1, 2, 3, 95}));
  EXPECT_EQ(quantBinary(true, a, pa, b, pb, po, Rounding::Float),
            (std::vector<int64_t>{0, 0, 2, 2, 95}));
}

TEST(ElementwiseTest, QuantizedAddZeroPointsAndSaturation) {
  // u8 scale 0.5 zp 128 for both inputs, out u8 scale 1 zp 128:
  // 130 -> 1.0, 131 -> 1.5, sum 2.5: fixed point 3 + 128 = 131, float
  // 2 + 128 = 130.
  QuantParams p = pt(IntType::u8(), 0.5, 128);
  QuantParams out1 = pt(IntType::u8(), 1.0, 128);
  EXPECT_EQ(quantBinary(true, {130}, p, {131}, p, out1, Rounding::FixedPoint),
            (std::vector<int64_t>{131}));
  EXPECT_EQ(quantBinary(true, {130}, p, {131}, p, out1, Rounding::Float),
            (std::vector<int64_t>{130}));
  // Out scale 0.5: 255 + 255 is 127 / 0.5 = 254 + 128 -> 255; 0 + 0 is
  // -128 / 0.5 = -256 + 128 -> 0.
  QuantParams outHalf = pt(IntType::u8(), 0.5, 128);
  for (Rounding r : {Rounding::FixedPoint, Rounding::Float})
    EXPECT_EQ(quantBinary(true, {255, 0}, p, {255, 0}, p, outHalf, r),
              (std::vector<int64_t>{255, 0}));
  // i16 storage uses leftShift 15: 1000 * 0.5 + 2000 * 0.5 = 1500.
  QuantParams p16 = pt(IntType::i16(), 0.5, 0);
  EXPECT_EQ(quantBinary(true, {1000}, p16, {2000}, p16,
                        pt(IntType::i16(), 1, 0), Rounding::FixedPoint),
            (std::vector<int64_t>{1500}));
}

TEST(ElementwiseTest, QuantizedAddBroadcastsAndRejectsPerAxis) {
  // [2, 1] + [2]: i8 scale 1 everywhere.
  QuantParams p2 = QuantParams::perTensor(IntType::i8(), 1.0, 0, 2);
  QuantParams p1 = QuantParams::perTensor(IntType::i8(), 1.0, 0, 1);
  Tensor a = Tensor::makeQuant({2, 1}, p2, {1, 2});
  Tensor b = Tensor::makeQuant({2}, p1, {10, 20});
  Expected<Tensor> out =
      add(a, b, TensorType::quantized({2, 2}, p2), Rounding::FixedPoint);
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{11, 21, 12, 22}));
  // Per-axis operands are not supported by the quantized add.
  Tensor axis = Tensor::makeQuant(
      {2}, QuantParams::perAxis(IntType::i8(), 0, {1.0, 2.0}, {0, 0}, 1),
      {1, 1});
  EXPECT_FALSE(
      add(axis, b, TensorType::quantized({2}, p1), Rounding::Float).ok());
  // Fixed-point add of 32-bit storage is not defined.
  QuantParams p32 = pt(IntType::i32(), 1.0, 0);
  Tensor c = Tensor::makeQuant({1}, p32, {1});
  EXPECT_FALSE(
      add(c, c, TensorType::quantized({1}, p32), Rounding::FixedPoint).ok());
  EXPECT_TRUE(add(c, c, TensorType::quantized({1}, p32), Rounding::Float).ok());
}

TEST(ElementwiseTest, QuantizedMulHandWorked) {
  // All i8 scale 0.5 zp 0: M = 0.25 / 0.5 = 0.5 = {2^30, 0}.
  //   3 * 1 = 3 -> 1.5: fixed 2, float 2.
  //   5 * 1 = 5 -> 2.5: fixed 3 (ties up), float 2 (even).
  //   -5 * 1 -> -2.5: fixed -2, float -2.
  //   -3 * 1 -> -1.5: fixed -1, float -2.
  //   20 * 20 = 400 -> 200 -> saturates to 127; -20 * 20 -> -128.
  QuantParams p = pt(IntType::i8(), 0.5, 0);
  std::vector<int64_t> a = {3, 5, -5, -3, 20, -20}, b = {1, 1, 1, 1, 20, 20};
  EXPECT_EQ(quantBinary(false, a, p, b, p, p, Rounding::FixedPoint),
            (std::vector<int64_t>{2, 3, -2, -1, 127, -128}));
  EXPECT_EQ(quantBinary(false, a, p, b, p, p, Rounding::Float),
            (std::vector<int64_t>{2, 2, -2, -2, 127, -128}));
  // Zero points: (13 - 10) * (12 - 10) = 6, M = 1, + zo 5 = 11.
  QuantParams z = pt(IntType::u8(), 1.0, 10);
  for (Rounding r : {Rounding::FixedPoint, Rounding::Float})
    EXPECT_EQ(
        quantBinary(false, {13}, z, {12}, z, pt(IntType::u8(), 1.0, 5), r),
        (std::vector<int64_t>{11}));
  // (-32768 - 32767)^2 does not fit int32: an error for fixed point.
  QuantParams wide = pt(IntType::i16(), 1.0, 32767);
  Tensor w = Tensor::makeQuant({1}, wide, {-32768});
  EXPECT_FALSE(
      mul(w, w, TensorType::quantized({1}, wide), Rounding::FixedPoint).ok());
}

TEST(ElementwiseTest, Gelu) {
  // Closed forms evaluated independently (Python math module):
  //   erf:  0.5 x (1 + erf(x / sqrt 2));  tanh: 0.5 x (1 + tanh(...)).
  Tensor x = Tensor::makeFloat({5}, {0, 1, -1, 2, -3});
  Expected<Tensor> e = gelu(x, GeluApproximation::None, TensorType::f32({5}));
  ASSERT_TRUE(e.ok()) << e.status.message();
  const double erfExpected[] = {0.0, 0.8413447460685429, -0.15865525393145707,
                                1.9544997361036416, -0.00404969409489031};
  Expected<Tensor> t = gelu(x, GeluApproximation::Tanh, TensorType::f32({5}));
  ASSERT_TRUE(t.ok()) << t.status.message();
  const double tanhExpected[] = {0.0, 0.8411919906082768, -0.15880800939172324,
                                 1.954597694087775, -0.0036373920817729943};
  for (int i = 0; i < 5; ++i) {
    // One rounding to f32: exactly the nearest float.
    EXPECT_EQ(e->f[i], static_cast<float>(erfExpected[i])) << i;
    EXPECT_EQ(t->f[i], static_cast<float>(tanhExpected[i])) << i;
  }
  // Quantized in and out: u8 0.5:2 holding {2, 4} is {0, 1}; gelu gives
  // {0, 0.8413}; i8 scale 0.1 gives round(8.41) = 8.
  Tensor q = Tensor::makeQuant({2}, pt(IntType::u8(), 0.5, 2), {2, 4});
  Expected<Tensor> gq =
      gelu(q, GeluApproximation::None,
           TensorType::quantized({2}, pt(IntType::i8(), 0.1, 0)));
  ASSERT_TRUE(gq.ok()) << gq.status.message();
  EXPECT_EQ(gq->i, (std::vector<int64_t>{0, 8}));
  // Integer input is an error.
  EXPECT_FALSE(gelu(Tensor::makeInt({1}, IntType::i32(), {1}),
                    GeluApproximation::None, TensorType::f32({1}))
                   .ok());
}

TEST(ElementwiseTest, Silu) {
  // x / (1 + e^-x), evaluated independently.
  Tensor x = Tensor::makeFloat({5}, {0, 1, -1, 20, -100});
  Expected<Tensor> s = silu(x, TensorType::f32({5}));
  ASSERT_TRUE(s.ok()) << s.status.message();
  const double expected[] = {0.0, 0.7310585786300049, -0.2689414213699951,
                             19.999999958776925, -3.720075976020836e-42};
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(s->f[i], static_cast<float>(expected[i])) << i;
  EXPECT_FALSE(silu(x, TensorType::f32({4})).ok());
}
