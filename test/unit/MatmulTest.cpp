//===- MatmulTest.cpp - integer, blockwise and float matmul ---------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Ops.h"

#include <gtest/gtest.h>

using namespace qlow::ref;

namespace {
/// lhs u8 [2, 3], scale 0.5, zp 2: q = [[3, 4, 5], [2, 0, 6]], so
/// q - zp = [[1, 2, 3], [0, -2, 4]].
Tensor lhsU8() {
  return Tensor::makeQuant({2, 3},
                           QuantParams::perTensor(IntType::u8(), 0.5, 2, 2),
                           {3, 4, 5, 2, 0, 6});
}
/// rhs i8 [3, 2], scale 0.25, zp 0: w = [[1, -1], [2, 0], [3, 1]].
Tensor rhsI8() {
  return Tensor::makeQuant({3, 2},
                           QuantParams::perTensor(IntType::i8(), 0.25, 0, 2),
                           {1, -1, 2, 0, 3, 1});
}
// acc = (q - za) w:
//   row 0: [1*1 + 2*2 + 3*3, -1 + 0 + 3] = [14, 2]
//   row 1: [0 - 4 + 12,       0 + 0 + 4] = [8, 4]

Tensor i32Bias(std::vector<int64_t> v) {
  int64_t n = static_cast<int64_t>(v.size());
  return Tensor::makeInt({n}, IntType::i32(), std::move(v));
}

Expected<Tensor> run(const Tensor &lhs, const Tensor &rhs, const Tensor *bias,
                     const TensorType &result,
                     Rounding r = Rounding::FixedPoint) {
  return matmul(lhs, rhs, bias, result, r);
}
} // namespace

TEST(MatmulTest, IntegerPerTensorI32Result) {
  Expected<Tensor> out = run(lhsU8(), rhsI8(), nullptr,
                             TensorType::integer({2, 2}, IntType::i32()));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{14, 2, 8, 4}));
  // With an i32 bias [10, -20]: [24, -18, 18, -16].
  Tensor bias = i32Bias({10, -20});
  out =
      run(lhsU8(), rhsI8(), &bias, TensorType::integer({2, 2}, IntType::i32()));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{24, -18, 18, -16}));
  // A quantized bias with i32 storage and zero point 0 adds the same raw
  // values.
  Tensor qbias = Tensor::makeQuant(
      {2}, QuantParams::perTensor(IntType::i32(), 0.125, 0, 1), {10, -20});
  out = run(lhsU8(), rhsI8(), &qbias,
            TensorType::integer({2, 2}, IntType::i32()));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{24, -18, 18, -16}));
}

TEST(MatmulTest, IntegerFloatResult) {
  // sa * sw = 0.125: [14, 2, 8, 4] * 0.125.
  Expected<Tensor> out =
      run(lhsU8(), rhsI8(), nullptr, TensorType::f32({2, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{1.75f, 0.25f, 1.0f, 0.5f}));
  // i32 bias [10, -20] in units of 0.125: [24, -18, 18, -16] * 0.125.
  Tensor bias = i32Bias({10, -20});
  out = run(lhsU8(), rhsI8(), &bias, TensorType::f32({2, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{3.0f, -2.25f, 2.25f, -2.0f}));
  // An f32 bias is added after scaling: [1.75 + 1, 0.25 - 1, 1 + 1, 0.5 - 1].
  Tensor fbias = Tensor::makeFloat({2}, {1.0f, -1.0f});
  out = run(lhsU8(), rhsI8(), &fbias, TensorType::f32({2, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{2.75f, -0.75f, 2.0f, -0.5f}));
}

TEST(MatmulTest, IntegerQuantizedResultBothRoundings) {
  // Result i8 scale 0.25 zp 1: M = 0.125 / 0.25 = 0.5. Bias [1, 1] makes
  // acc = [15, 3, 9, 5], so every output is a tie: x.5.
  // Fixed point (ties up): 7.5 -> 8, 1.5 -> 2, 4.5 -> 5, 2.5 -> 3; + 1.
  // Float (ties to even):  7.5 -> 8, 1.5 -> 2, 4.5 -> 4, 2.5 -> 2; + 1.
  TensorType result = TensorType::quantized(
      {2, 2}, QuantParams::perTensor(IntType::i8(), 0.25, 1, 2));
  Tensor bias = i32Bias({1, 1});
  Expected<Tensor> fixed =
      run(lhsU8(), rhsI8(), &bias, result, Rounding::FixedPoint);
  ASSERT_TRUE(fixed.ok()) << fixed.status.message();
  EXPECT_EQ(fixed->i, (std::vector<int64_t>{9, 3, 6, 4}));
  Expected<Tensor> flt = run(lhsU8(), rhsI8(), &bias, result, Rounding::Float);
  ASSERT_TRUE(flt.ok()) << flt.status.message();
  EXPECT_EQ(flt->i, (std::vector<int64_t>{9, 3, 5, 3}));
  // Saturation: result scale 0.001 makes 15 * 0.125 / 0.001 = 1875 -> 127.
  TensorType tiny = TensorType::quantized(
      {2, 2}, QuantParams::perTensor(IntType::i8(), 0.001, 0, 2));
  for (Rounding r : {Rounding::FixedPoint, Rounding::Float}) {
    Expected<Tensor> sat = run(lhsU8(), rhsI8(), &bias, tiny, r);
    ASSERT_TRUE(sat.ok()) << sat.status.message();
    EXPECT_EQ(sat->i, (std::vector<int64_t>{127, 127, 127, 127}));
  }
}

TEST(MatmulTest, PerChannelWeightsAndPerRowActivations) {
  // rhs per-axis on N: column scales 0.25 and 0.5, so the f32 result is
  // [14 * 0.125, 2 * 0.25, 8 * 0.125, 4 * 0.25].
  Tensor rhs = Tensor::makeQuant(
      {3, 2}, QuantParams::perAxis(IntType::i8(), 1, {0.25, 0.5}, {0, 0}, 2),
      {1, -1, 2, 0, 3, 1});
  Expected<Tensor> out = run(lhsU8(), rhs, nullptr, TensorType::f32({2, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{1.75f, 0.5f, 1.0f, 1.0f}));

  // Per-row lhs (per-axis on M): row 1 has scale 1.0 and zp 0, so its
  // q - za = [2, 0, 6] and acc = [2 + 0 + 18, -2 + 0 + 6] = [20, 4]; with the
  // per-tensor rhs (0.25) row 1 becomes [5, 1].
  Tensor lhs = Tensor::makeQuant(
      {2, 3}, QuantParams::perAxis(IntType::u8(), 0, {0.5, 1.0}, {2, 0}, 2),
      {3, 4, 5, 2, 0, 6});
  out = run(lhs, rhsI8(), nullptr, TensorType::f32({2, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{1.75f, 0.25f, 5.0f, 1.0f}));

  // Asymmetric weights: u8 with zp 1 holding w + 1 gives the same acc.
  Tensor rhsU8 = Tensor::makeQuant(
      {3, 2}, QuantParams::perTensor(IntType::u8(), 0.25, 1, 2),
      {2, 0, 3, 1, 4, 2});
  out =
      run(lhsU8(), rhsU8, nullptr, TensorType::integer({2, 2}, IntType::i32()));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{14, 2, 8, 4}));

  // Per-channel requantization to a per-tensor output, fixed point:
  // M = 0.5 * sw / 1.0 -> col 0: 14 * 0.125 = 1.75 -> 2, 8 * 0.125 = 1 -> 1;
  // col 1: 2 * 0.25 = 0.5 -> 1 (tie up), 4 * 0.25 = 1 -> 1.
  out = run(lhsU8(), rhs, nullptr,
            TensorType::quantized(
                {2, 2}, QuantParams::perTensor(IntType::i8(), 1.0, 0, 2)));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{2, 1, 1, 1}));
}

TEST(MatmulTest, Batched) {
  QuantParams p3 = QuantParams::perTensor(IntType::i8(), 1.0, 0, 3);
  // lhs [2, 1, 2]: batch 0 [[1, 2]], batch 1 [[3, 4]].
  Tensor lhs = Tensor::makeQuant({2, 1, 2}, p3, {1, 2, 3, 4});
  // Batched rhs [2, 2, 1]: batch 0 [[1], [1]] -> 3; batch 1 [[2], [-1]] ->
  // 6 - 4 = 2.
  Tensor rhsB = Tensor::makeQuant({2, 2, 1}, p3, {1, 1, 2, -1});
  Expected<Tensor> out =
      run(lhs, rhsB, nullptr, TensorType::integer({2, 1, 1}, IntType::i32()));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{3, 2}));
  // Shared rhs [2, 1] = [[1], [1]]: 1 + 2 = 3, 3 + 4 = 7.
  Tensor rhsS = Tensor::makeQuant(
      {2, 1}, QuantParams::perTensor(IntType::i8(), 1.0, 0, 2), {1, 1});
  out = run(lhs, rhsS, nullptr, TensorType::integer({2, 1, 1}, IntType::i32()));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{3, 7}));
  // Batch dims must match exactly.
  Tensor rhsBad = Tensor::makeQuant({3, 2, 1}, p3, {1, 1, 1, 1, 1, 1});
  EXPECT_FALSE(
      run(lhs, rhsBad, nullptr, TensorType::integer({2, 1, 1}, IntType::i32()))
          .ok());
}

TEST(MatmulTest, BlockwiseWeights) {
  // lhs i8 [1, 4], scale 0.5: a = [1, 2, 3, 4].
  Tensor lhs = Tensor::makeQuant(
      {1, 4}, QuantParams::perTensor(IntType::i8(), 0.5, 0, 2), {1, 2, 3, 4});
  // rhs i4 [4, 2] in K groups of 2, per column: scaleShape [2, 2],
  // sw = [[0.5, 1.0], [0.25, 2.0]]; w = [[1, -1], [1, 2], [2, 0], [-2, 1]].
  Tensor rhs = Tensor::makeQuant({4, 2},
                                 QuantParams::subChannel(IntType::i4(), {2, 2},
                                                         {0.5, 1.0, 0.25, 2.0},
                                                         {0, 0, 0, 0}),
                                 {1, -1, 1, 2, 2, 0, -2, 1});
  // Group sums: g0 = [1 + 2, -1 + 4] = [3, 3]; g1 = [6 - 8, 0 + 4] = [-2, 4].
  // out = sum_g (sa * sw[g, n]) * sum_g:
  //   col 0: 0.25 * 3 + 0.125 * -2 = 0.5;  col 1: 0.5 * 3 + 1.0 * 4 = 5.5.
  Expected<Tensor> out = run(lhs, rhs, nullptr, TensorType::f32({1, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{0.5f, 5.5f}));
  Tensor bias = Tensor::makeFloat({2}, {1.0f, -1.0f});
  out = run(lhs, rhs, &bias, TensorType::f32({1, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{1.5f, 4.5f}));
  // Per-group zero points: u4 with zp 8 in group 1 only, storing w + 8 there.
  Tensor rhsZp = Tensor::makeQuant(
      {4, 2},
      QuantParams::subChannel(IntType::u4(), {2, 2}, {0.5, 1.0, 0.25, 2.0},
                              {1, 1, 8, 8}),
      {2, 0, 2, 3, 10, 8, 6, 9});
  out = run(lhs, rhsZp, nullptr, TensorType::f32({1, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{0.5f, 5.5f}));
  // Blockwise weights cannot produce integers.
  EXPECT_FALSE(
      run(lhs, rhs, nullptr, TensorType::integer({1, 2}, IntType::i32())).ok());
  EXPECT_FALSE(run(lhs, rhs, nullptr,
                   TensorType::quantized(
                       {1, 2}, QuantParams::perTensor(IntType::i8(), 1, 0, 2)))
                   .ok());
}

TEST(MatmulTest, AccumulatorOverflowIsAnError) {
  // i16 operands (-32768)^2 = 2^30 per product: the partial sum reaches 2^31
  // > INT32_MAX at k = 1, even though k = 2 (32767 * -32768) would bring it
  // back into range; i32 kernels accumulate in k order too.
  QuantParams p = QuantParams::perTensor(IntType::i16(), 1.0, 0, 2);
  Tensor lhs = Tensor::makeQuant({1, 3}, p, {-32768, -32768, 32767});
  Tensor rhs = Tensor::makeQuant({3, 1}, p, {-32768, -32768, -32768});
  Expected<Tensor> out =
      run(lhs, rhs, nullptr, TensorType::integer({1, 1}, IntType::i32()));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status.message().find("i32 accumulator overflow"),
            std::string::npos)
      << out.status.message();
  // 2 * 32767^2 = 2147352578 fits, and a bias of 131069 reaches exactly
  // INT32_MAX; one more overflows.
  Tensor lhs2 = Tensor::makeQuant({1, 2}, p, {32767, 32767});
  Tensor rhs2 = Tensor::makeQuant({2, 1}, p, {32767, 32767});
  Tensor bias = i32Bias({2147483647 - 2 * 1073676289 + 1}); // 131070
  out = run(lhs2, rhs2, &bias, TensorType::integer({1, 1}, IntType::i32()));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status.message().find("i32 accumulator overflow"),
            std::string::npos);
  bias = i32Bias({2147483647 - 2 * 1073676289}); // exactly INT32_MAX: fine
  out = run(lhs2, rhs2, &bias, TensorType::integer({1, 1}, IntType::i32()));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{2147483647}));
}

TEST(MatmulTest, FloatAndWeightOnly) {
  // [1.5, 2] x [[1, 2], [3, 4]] = [1.5 + 6, 3 + 8] = [7.5, 11]; + [0.5, -1].
  Tensor lhs = Tensor::makeFloat({1, 2}, {1.5f, 2.0f});
  Tensor rhs = Tensor::makeFloat({2, 2}, {1, 2, 3, 4});
  Tensor bias = Tensor::makeFloat({2}, {0.5f, -1.0f});
  Expected<Tensor> out = run(lhs, rhs, &bias, TensorType::f32({1, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{8.0f, 10.0f}));
  // Weight-only: i8 scale 0.5 storing [[2, 4], [6, 8]] dequantizes to rhs.
  Tensor wq = Tensor::makeQuant(
      {2, 2}, QuantParams::perTensor(IntType::i8(), 0.5, 0, 2), {2, 4, 6, 8});
  out = run(lhs, wq, &bias, TensorType::f32({1, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{8.0f, 10.0f}));
  // f32 accumulation in k order: 1e8 + 1 - 1e8 = 0 in f32 (1e8 + 1 rounds
  // back to 1e8), not 1.
  Tensor big = Tensor::makeFloat({1, 3}, {1e8f, 1.0f, -1e8f});
  Tensor ones = Tensor::makeFloat({3, 1}, {1, 1, 1});
  out = run(big, ones, nullptr, TensorType::f32({1, 1}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f[0], 0.0f);
}

TEST(MatmulTest, ShapeAndKindErrors) {
  Tensor lhsF = Tensor::makeFloat({2, 3}, std::vector<float>(6, 1.0f));
  Tensor rhsF = Tensor::makeFloat({3, 2}, std::vector<float>(6, 1.0f));
  // Quant lhs with f32 rhs.
  EXPECT_FALSE(run(lhsU8(), rhsF, nullptr, TensorType::f32({2, 2})).ok());
  // K mismatch.
  Tensor rhs4 = Tensor::makeFloat({4, 2}, std::vector<float>(8, 1.0f));
  EXPECT_FALSE(run(lhsF, rhs4, nullptr, TensorType::f32({2, 2})).ok());
  // Wrong result shape.
  EXPECT_FALSE(run(lhsF, rhsF, nullptr, TensorType::f32({2, 3})).ok());
  // Bias of the wrong length.
  Tensor bias3 = Tensor::makeFloat({3}, {0, 0, 0});
  EXPECT_FALSE(run(lhsF, rhsF, &bias3, TensorType::f32({2, 2})).ok());
  // Float matmul with a quantized result.
  EXPECT_FALSE(run(lhsF, rhsF, nullptr,
                   TensorType::quantized(
                       {2, 2}, QuantParams::perTensor(IntType::i8(), 1, 0, 2)))
                   .ok());
  // Rank-1 lhs.
  EXPECT_FALSE(run(Tensor::makeFloat({3}, {1, 1, 1}), rhsF, nullptr,
                   TensorType::f32({2}))
                   .ok());
  // Integer result other than i32; f32 bias with an integer result.
  EXPECT_FALSE(run(lhsU8(), rhsI8(), nullptr,
                   TensorType::integer({2, 2}, IntType::i16()))
                   .ok());
  Tensor fbias = Tensor::makeFloat({2}, {0, 0});
  EXPECT_FALSE(
      run(lhsU8(), rhsI8(), &fbias, TensorType::integer({2, 2}, IntType::i32()))
          .ok());
  // Quantized bias with a nonzero zero point.
  Tensor zpBias = Tensor::makeQuant(
      {2}, QuantParams::perTensor(IntType::i32(), 0.125, 3, 1), {0, 0});
  EXPECT_FALSE(run(lhsU8(), rhsI8(), &zpBias,
                   TensorType::integer({2, 2}, IntType::i32()))
                   .ok());
  // lhs parameters that vary along K.
  Tensor lhsK = Tensor::makeQuant(
      {2, 3},
      QuantParams::perAxis(IntType::u8(), 1, {0.5, 0.5, 0.5}, {2, 2, 2}, 2),
      {3, 4, 5, 2, 0, 6});
  EXPECT_FALSE(run(lhsK, rhsI8(), nullptr, TensorType::f32({2, 2})).ok());
}

// The dynamic path quantizes lhs per row, then scales each accumulator by
// (float)sa * (float)sw in f32. Worked by hand: row [1.27, -0.635] -> scale
// 0.01, q = [127, -64]; w = [[2], [3]] with scale 0.5: acc = 254 - 192 = 62,
// out = 62 * (0.01f * 0.5f) + bias 1.
TEST(MatmulTest, DynamicPerRowSymmetric) {
  Tensor lhs = Tensor::makeFloat({1, 2}, {1.27f, -0.635f});
  Tensor rhs = Tensor::makeQuant(
      {2, 1}, QuantParams::perTensor(IntType::i8(), 0.5, 0, 2), {2, 3});
  Tensor bias = Tensor::makeFloat({1}, {1.0f});
  DynamicQuant dq;
  Expected<Tensor> y = matmul(lhs, rhs, &bias, TensorType::f32({1, 1}),
                              Rounding::FixedPoint, &dq);
  ASSERT_TRUE(y.ok()) << y.status.message();
  const float scale = 1.27f / 127.0f;
  EXPECT_EQ(y.value.f[0], 62.0f * (scale * 0.5f) + 1.0f);

  // Not f32 lhs, or an integer bias: errors.
  Tensor intBias = Tensor::makeInt({1}, IntType::i32(), {1});
  EXPECT_FALSE(matmul(lhs, rhs, &intBias, TensorType::f32({1, 1}),
                      Rounding::FixedPoint, &dq)
                   .ok());
  EXPECT_FALSE(matmul(rhs, rhs, nullptr, TensorType::f32({2, 1}),
                      Rounding::FixedPoint, &dq)
                   .ok());
}
