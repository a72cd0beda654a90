//===- QuantizeTest.cpp - quantize, dequantize, requantize, fake_quant ----===//
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
std::vector<int64_t> quantizeValues(const std::vector<float> &x,
                                    const QuantParams &p) {
  std::vector<int64_t> shape = {static_cast<int64_t>(x.size())};
  Expected<Tensor> q =
      quantize(Tensor::makeFloat(shape, x), TensorType::quantized(shape, p));
  EXPECT_TRUE(q.ok()) << q.status.message();
  return q.value.i;
}

std::vector<int64_t> requantizeValues(const std::vector<int64_t> &q,
                                      const QuantParams &in,
                                      const QuantParams &out, Rounding r) {
  std::vector<int64_t> shape = {static_cast<int64_t>(q.size())};
  Expected<Tensor> res = requantize(Tensor::makeQuant(shape, in, q),
                                    TensorType::quantized(shape, out), r);
  EXPECT_TRUE(res.ok()) << res.status.message();
  return res.value.i;
}

QuantParams perTensor(IntType t, double scale, int64_t zp, size_t rank = 1) {
  return QuantParams::perTensor(t, scale, zp, rank);
}
} // namespace

TEST(QuantizeTest, PerTensorHandWorked) {
  // u8, scale 0.5, zp 10: q = saturate(roundHalfEven(x / 0.5) + 10).
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {0.0f,          1.0f,  1.25f, 1.75f, -5.0f,
                          -6.0f,         200.f, 1e30f, -inf,  inf,
                          std::nanf(""), 0.25f, 0.75f, -0.75f};
  // 0->10; 2->12; 2.5->2 (even)->12; 3.5->4->14; -10->0; -12 -> -2 -> 0;
  // 400 -> 255; huge -> 255; -inf -> 0; inf -> 255; NaN -> zp 10;
  // 0.5 -> 0 -> 10; 1.5 -> 2 -> 12; -1.5 -> -2 -> 8.
  EXPECT_EQ(quantizeValues(x, perTensor(IntType::u8(), 0.5, 10)),
            (std::vector<int64_t>{10, 12, 12, 14, 0, 0, 255, 255, 0, 255, 10,
                                  10, 12, 8}));
}

TEST(QuantizeTest, SaturatesAtBothEnds) {
  EXPECT_EQ(quantizeValues({-129, -128, 127, 128, -1000, 1000},
                           perTensor(IntType::i8(), 1.0, 0)),
            (std::vector<int64_t>{-128, -128, 127, 127, -128, 127}));
  EXPECT_EQ(quantizeValues({-1, 0, 255, 256}, perTensor(IntType::u8(), 1.0, 0)),
            (std::vector<int64_t>{0, 0, 255, 255}));
  EXPECT_EQ(quantizeValues({-9, -8, 7, 8}, perTensor(IntType::i4(), 1.0, 0)),
            (std::vector<int64_t>{-8, -8, 7, 7}));
  EXPECT_EQ(quantizeValues({-1, 16}, perTensor(IntType::u4(), 1.0, 0)),
            (std::vector<int64_t>{0, 15}));
  EXPECT_EQ(quantizeValues({-40000, 40000}, perTensor(IntType::i16(), 1.0, 0)),
            (std::vector<int64_t>{-32768, 32767}));
  // Narrow range i8<-127:127>.
  EXPECT_EQ(quantizeValues(
                {-200, 200},
                perTensor(IntType::i8(), 1.0, 0).withStorageRange(-127, 127)),
            (std::vector<int64_t>{-127, 127}));
}

TEST(QuantizeTest, PerAxisAndSubChannel) {
  // Per-axis on dim 0 of [2, 3]: row 0 scale 0.5 zp 0, row 1 scale 2 zp -1.
  // Row 0: 1/0.5 = 2, -2, 0.25/0.5 = 0.5 -> 0. Row 1: 1.5 -> 2, -1 = 1;
  // -2 - 1 = -3; 2.5 -> 2, -1 = 1.
  QuantParams axis0 =
      QuantParams::perAxis(IntType::i8(), 0, {0.5, 2.0}, {0, -1}, 2);
  Tensor x = Tensor::makeFloat({2, 3}, {1, -1, 0.25f, 3, -4, 5});
  Expected<Tensor> q = quantize(x, TensorType::quantized({2, 3}, axis0));
  ASSERT_TRUE(q.ok()) << q.status.message();
  EXPECT_EQ(q->i, (std::vector<int64_t>{2, -2, 0, 1, -3, 1}));
  // Dequantize back: (2 - 0) * 0.5 = 1, ..., (1 + 1) * 2 = 4, (-3 + 1) * 2 =
  // -4, 4.
  Expected<Tensor> d = dequantize(*q);
  ASSERT_TRUE(d.ok()) << d.status.message();
  EXPECT_EQ(d->f, (std::vector<float>{1, -1, 0, 4, -4, 4}));

  // Per-axis on dim 1 with scales 1, 0.5, 0.25: x/scale = 1, 2, 4.
  QuantParams axis1 =
      QuantParams::perAxis(IntType::i8(), 1, {1.0, 0.5, 0.25}, {0, 0, 0}, 2);
  q = quantize(Tensor::makeFloat({2, 3}, {1, 1, 1, -1, -1, -1}),
               TensorType::quantized({2, 3}, axis1));
  ASSERT_TRUE(q.ok()) << q.status.message();
  EXPECT_EQ(q->i, (std::vector<int64_t>{1, 2, 4, -1, -2, -4}));

  // Sub-channel: [4, 2] in blocks of 2 rows (scaleShape [2, 1]): rows 0-1
  // scale 1, rows 2-3 scale 0.25.
  QuantParams rows =
      QuantParams::subChannel(IntType::i8(), {2, 1}, {1.0, 0.25}, {0, 0});
  q = quantize(Tensor::makeFloat({4, 2}, {1, 2, 3, 4, 1, 2, 3, 4}),
               TensorType::quantized({4, 2}, rows));
  ASSERT_TRUE(q.ok()) << q.status.message();
  EXPECT_EQ(q->i, (std::vector<int64_t>{1, 2, 3, 4, 4, 8, 12, 16}));

  // 2-D blocks: [2, 4] with scaleShape [2, 2] (blocks of 1 x 2), scales
  // 1 2 / 4 8, zero points 0 0 / 0 1. x = 8 everywhere:
  // 8/1, 8/1, 8/2, 8/2 / 8/4, 8/4, 8/8 + 1, 8/8 + 1.
  QuantParams blocks = QuantParams::subChannel(IntType::i8(), {2, 2},
                                               {1, 2, 4, 8}, {0, 0, 0, 1});
  q = quantize(Tensor::makeFloat({2, 4}, std::vector<float>(8, 8.0f)),
               TensorType::quantized({2, 4}, blocks));
  ASSERT_TRUE(q.ok()) << q.status.message();
  EXPECT_EQ(q->i, (std::vector<int64_t>{8, 8, 4, 4, 2, 2, 2, 2}));
  d = dequantize(*q);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->f, std::vector<float>(8, 8.0f));
}

TEST(QuantizeTest, DequantizeHandWorked) {
  // (q - 10) * 0.5.
  Expected<Tensor> d = dequantize(
      Tensor::makeQuant({3}, perTensor(IntType::u8(), 0.5, 10), {0, 10, 255}));
  ASSERT_TRUE(d.ok()) << d.status.message();
  EXPECT_EQ(d->f, (std::vector<float>{-5.0f, 0.0f, 122.5f}));
  EXPECT_TRUE(d->type.isFloat());
}

TEST(QuantizeTest, RequantizeRoundHalfDiffers) {
  // M = s_in / s_out = 1 / 2. Fixed point: SRDHM(x, 2^30) = floor(x/2 + 1/2)
  // (ties toward +inf): 5 -> 3, -5 -> -2, 3 -> 2, -3 -> -1, 4 -> 2, 7 -> 4.
  // Float: round half even of x * 0.5: 2.5 -> 2, -2.5 -> -2, 1.5 -> 2,
  // -1.5 -> -2, 2, 3.5 -> 4.
  QuantParams in = perTensor(IntType::i8(), 1.0, 0);
  QuantParams half = perTensor(IntType::i8(), 2.0, 0);
  std::vector<int64_t> q = {5, -5, 3, -3, 4, 7};
  EXPECT_EQ(requantizeValues(q, in, half, Rounding::FixedPoint),
            (std::vector<int64_t>{3, -2, 2, -1, 2, 4}));
  EXPECT_EQ(requantizeValues(q, in, half, Rounding::Float),
            (std::vector<int64_t>{2, -2, 2, -2, 2, 4}));
  // M = 1/4 = {2^30, -1}: SRDHM halves exactly, then RoundingDivideByPOT
  // rounds half away from zero: 10 -> 5 -> 3; -10 -> -5 -> -3; 6 -> 3 -> 2;
  // -6 -> -3 -> -2. Float: 2.5 -> 2, -2.5 -> -2, 1.5 -> 2, -1.5 -> -2.
  QuantParams quarter = perTensor(IntType::i8(), 4.0, 0);
  q = {10, -10, 6, -6};
  EXPECT_EQ(requantizeValues(q, in, quarter, Rounding::FixedPoint),
            (std::vector<int64_t>{3, -3, 2, -2}));
  EXPECT_EQ(requantizeValues(q, in, quarter, Rounding::Float),
            (std::vector<int64_t>{2, -2, 2, -2}));
}

TEST(QuantizeTest, RequantizeWithZeroPoints) {
  // u8 scale 0.5 zp 128 -> i8 scale 1 zp -3: q = 138 is 5.0 -> 5 - 3 = 2;
  // q = 127 is -0.5 -> fixed point SRDHM(-1, 2^30) = 0 -> -3; float -0.5 ->
  // -0 -> -3; q = 125 is -1.5 -> fixed -1, float -2.
  QuantParams in = perTensor(IntType::u8(), 0.5, 128);
  QuantParams out = perTensor(IntType::i8(), 1.0, -3);
  EXPECT_EQ(requantizeValues({138, 127, 125}, in, out, Rounding::FixedPoint),
            (std::vector<int64_t>{2, -3, -4}));
  EXPECT_EQ(requantizeValues({138, 127, 125}, in, out, Rounding::Float),
            (std::vector<int64_t>{2, -3, -5}));
}

TEST(QuantizeTest, RequantizeSaturatesBothRoundings) {
  for (Rounding r : {Rounding::FixedPoint, Rounding::Float}) {
    QuantParams i16 = perTensor(IntType::i16(), 1.0, 0);
    EXPECT_EQ(requantizeValues({-30000, 30000, 127, -128, 128}, i16,
                               perTensor(IntType::i8(), 1.0, 0), r),
              (std::vector<int64_t>{-128, 127, 127, -128, 127}));
    EXPECT_EQ(requantizeValues({-5, 100, 300}, i16,
                               perTensor(IntType::u8(), 1.0, 0), r),
              (std::vector<int64_t>{0, 100, 255}));
    EXPECT_EQ(
        requantizeValues({-9, 8, 3}, i16, perTensor(IntType::i4(), 1.0, 0), r),
        (std::vector<int64_t>{-8, 7, 3}));
    EXPECT_EQ(
        requantizeValues({-1, 16}, i16, perTensor(IntType::u4(), 1.0, 0), r),
        (std::vector<int64_t>{0, 15}));
    EXPECT_EQ(requantizeValues({100000, -100000},
                               perTensor(IntType::i32(), 1.0, 0),
                               perTensor(IntType::i16(), 1.0, 0), r),
              (std::vector<int64_t>{32767, -32768}));
  }
}

TEST(QuantizeTest, RequantizePerAxis) {
  // Input per-axis on dim 1 (scales 1, 2) into per-tensor scale 1.
  QuantParams in =
      QuantParams::perAxis(IntType::i8(), 1, {1.0, 2.0}, {0, 0}, 2);
  Expected<Tensor> r = requantize(
      Tensor::makeQuant({2, 2}, in, {3, 3, -4, -4}),
      TensorType::quantized({2, 2}, perTensor(IntType::i8(), 1.0, 0, 2)),
      Rounding::FixedPoint);
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r->i, (std::vector<int64_t>{3, 6, -4, -8}));
}

TEST(QuantizeTest, RequantizeFixedPointNeedsInt32Difference) {
  // 2147483647 - (-5) does not fit int32.
  QuantParams in = perTensor(IntType::i32(), 1.0, -5);
  Expected<Tensor> r =
      requantize(Tensor::makeQuant({1}, in, {2147483647}),
                 TensorType::quantized({1}, perTensor(IntType::i8(), 1.0, 0)),
                 Rounding::FixedPoint);
  EXPECT_FALSE(r.ok());
  // Float rounding has no such limit: it saturates.
  r = requantize(Tensor::makeQuant({1}, in, {2147483647}),
                 TensorType::quantized({1}, perTensor(IntType::i8(), 1.0, 0)),
                 Rounding::Float);
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r->i, (std::vector<int64_t>{127}));
}

TEST(QuantizeTest, FakeQuantAndObserve) {
  // u8 0.5:10: 1.3 / 0.5 = 2.6 -> 3 -> 13 -> 1.5; -10 -> 0 (saturated) ->
  // -5; 0.2 -> 0.4 -> 0 -> 10 -> 0.
  Expected<Tensor> f = fakeQuant(Tensor::makeFloat({3}, {1.3f, -10.0f, 0.2f}),
                                 perTensor(IntType::u8(), 0.5, 10));
  ASSERT_TRUE(f.ok()) << f.status.message();
  EXPECT_EQ(f->f, (std::vector<float>{1.5f, -5.0f, 0.0f}));

  RangeStats stats;
  Tensor x = Tensor::makeFloat({4}, {1.0f, std::nanf(""), -3.0f, 2.0f});
  Expected<Tensor> o = observe(x, &stats);
  ASSERT_TRUE(o.ok()) << o.status.message();
  EXPECT_EQ(o->f[0], 1.0f);
  EXPECT_TRUE(std::isnan(o->f[1])); // identity, NaN included
  EXPECT_EQ(stats.min, -3.0f);
  EXPECT_EQ(stats.max, 2.0f);
  EXPECT_EQ(stats.count, 3);
  // A quantized tensor is folded in dequantized: (30 - 10) * 0.5 = 10.
  ASSERT_TRUE(stats
                  .update(Tensor::makeQuant(
                      {1}, perTensor(IntType::u8(), 0.5, 10), {30}))
                  .ok());
  EXPECT_EQ(stats.max, 10.0f);
  EXPECT_EQ(stats.count, 4);
}

TEST(QuantizeTest, ErrorsInsteadOfCrashes) {
  Tensor x = Tensor::makeFloat({2}, {1, 2});
  QuantParams p = perTensor(IntType::i8(), 1.0, 0);
  // Result shape differs.
  EXPECT_FALSE(quantize(x, TensorType::quantized({3}, p)).ok());
  // Result not quantized.
  EXPECT_FALSE(quantize(x, TensorType::f32({2})).ok());
  // Input not f32.
  EXPECT_FALSE(quantize(Tensor::makeInt({2}, IntType::i32(), {1, 2}),
                        TensorType::quantized({2}, p))
                   .ok());
  EXPECT_FALSE(dequantize(x).ok());
  // Wrong number of values.
  EXPECT_FALSE(
      quantize(Tensor::makeFloat({2}, {1}), TensorType::quantized({2}, p))
          .ok());
  // Invalid parameters: scale 0, NaN scale, zero point outside storage,
  // blocks that do not divide, wrong count, rank mismatch.
  EXPECT_FALSE(
      quantize(x, TensorType::quantized({2}, perTensor(IntType::i8(), 0.0, 0)))
          .ok());
  EXPECT_FALSE(quantize(x, TensorType::quantized(
                               {2}, perTensor(IntType::i8(), std::nan(""), 0)))
                   .ok());
  EXPECT_FALSE(quantize(x, TensorType::quantized(
                               {2}, perTensor(IntType::u8(), 1.0, 256)))
                   .ok());
  EXPECT_FALSE(verifyQuantParams(QuantParams::subChannel(IntType::i8(), {3},
                                                         {1, 1, 1}, {0, 0, 0}),
                                 {4})
                   .ok());
  EXPECT_FALSE(
      verifyQuantParams(
          QuantParams::perAxis(IntType::i8(), 0, {1, 1}, {0, 0}, 1), {3})
          .ok());
  EXPECT_FALSE(
      verifyQuantParams(perTensor(IntType::i8(), 1.0, 0, 2), {3}).ok());
  // Axis out of range.
  Status s = verifyQuantParams(
      QuantParams::perAxis(IntType::i8(), 5, {1, 1}, {0, 0}, 2), {2, 2});
  EXPECT_FALSE(s.ok());
  // A storage value outside its type.
  EXPECT_FALSE(dequantize(Tensor::makeQuant({1}, p, {200})).ok());
  // A quantized type whose intType disagrees with the storage.
  TensorType bad = TensorType::quantized({2}, p);
  bad.intType = IntType::u8();
  EXPECT_FALSE(verifyTensorType(bad).ok());
  // Invalid integer types.
  EXPECT_FALSE(
      verifyTensorType(TensorType::integer({1}, IntType(64, false))).ok());
  EXPECT_FALSE(
      verifyTensorType(TensorType::integer({1}, IntType(3, true))).ok());
  EXPECT_FALSE(verifyTensorType(TensorType::f32({-1})).ok());
  EXPECT_FALSE(
      verifyTensorType(TensorType::f32({int64_t(1) << 40, int64_t(1) << 40}))
          .ok());
}

TEST(QuantizeTest, IntTypeRanges) {
  EXPECT_EQ(IntType::i8().min(), -128);
  EXPECT_EQ(IntType::i8().max(), 127);
  EXPECT_EQ(IntType::u8().max(), 255);
  EXPECT_EQ(IntType::i4().min(), -8);
  EXPECT_EQ(IntType::i4().max(), 7);
  EXPECT_EQ(IntType::u4().max(), 15);
  EXPECT_EQ(IntType::i1().min(), 0);
  EXPECT_EQ(IntType::i1().max(), 1);
  EXPECT_EQ(IntType::u32().max(), 4294967295);
  EXPECT_EQ(IntType::i64().min(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(IntType::i16().str(), "i16");
  EXPECT_EQ(IntType::u4().str(), "u4");
  EXPECT_EQ(IntType::i1().str(), "i1");
}

// ONNX DynamicQuantizeLinear's own example: x = [0, 2, -3, -2.5, 1.34, 0.5]
// gives scale (2 - -3) / 255, zero point round(0 - -3 / scale) = 153 and
// y = [153, 255, 0, 26, 221, 179].
TEST(DynamicQuantizeTest, OnnxExampleAsymmetricU8) {
  Tensor x = Tensor::makeFloat({1, 6}, {0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f});
  DynamicQuant dq;
  dq.granularity = DynamicQuant::Granularity::PerTensor;
  dq.storage = IntType::u8();
  dq.symmetric = false;
  Expected<Tensor> q = dynamicQuantize(x, dq);
  ASSERT_TRUE(q.ok()) << q.status.message();
  EXPECT_EQ(q.value.i, (std::vector<int64_t>{153, 255, 0, 26, 221, 179}));
  EXPECT_EQ(q.value.type.quant.zeroPoints, (std::vector<int64_t>{153}));
  EXPECT_FLOAT_EQ(static_cast<float>(q.value.type.quant.scales[0]),
                  5.0f / 255.0f);
}

// Symmetric per-row: each row has its own max |x| / 127; an all-zero row gets
// scale 1 rather than a division by zero.
TEST(DynamicQuantizeTest, SymmetricPerRowAndZeroRow) {
  Tensor x = Tensor::makeFloat({3, 3}, {1.0f, -2.54f, 0.5f,  //
                                        0.0f, 0.0f, 0.0f,    //
                                        0.25f, 0.1f, 0.127f});
  DynamicQuant dq; // per row, i8, symmetric
  Expected<Tensor> q = dynamicQuantize(x, dq);
  ASSERT_TRUE(q.ok()) << q.status.message();
  const std::vector<double> &s = q.value.type.quant.scales;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(static_cast<float>(s[0]), 2.54f / 127.0f);
  EXPECT_EQ(s[1], 1.0);
  EXPECT_EQ(static_cast<float>(s[2]), 0.25f / 127.0f);
  EXPECT_EQ(q.value.i[1], -127);
  EXPECT_EQ(q.value.i[3], 0);
  EXPECT_EQ(q.value.i[6], 127);
  EXPECT_EQ(q.value.type.quant.scaleShape, (std::vector<int64_t>{3, 1}));
}

TEST(DynamicQuantizeTest, Errors) {
  DynamicQuant dq;
  Tensor nan = Tensor::makeFloat({1, 2}, {1.0f, std::nanf("")});
  EXPECT_NE(dynamicQuantize(nan, dq).status.message().find("non-finite"),
            std::string::npos);
  Tensor flat = Tensor::makeFloat({2}, {1.0f, 2.0f});
  EXPECT_FALSE(dynamicQuantize(flat, dq).ok());
  dq.storage = IntType::u8(); // symmetric u8
  Tensor ok = Tensor::makeFloat({1, 2}, {1.0f, 2.0f});
  EXPECT_FALSE(dynamicQuantize(ok, dq).ok());
}
