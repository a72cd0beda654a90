//===- AttentionTest.cpp - attention: causal, GQA, masks ------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Most cases use keys whose scores are 0 and ln 3, so the two softmax weights
// are 1/4 and 3/4, and values 4 and 8, so attending to both gives
// 4/4 + 8 * 3/4 = 7 and attending to the first alone gives 4.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace qlow::ref;

namespace {
const float kLn3 = std::log(3.0f);

/// k [1, 1, 2, 1] = [0, ln 3] and v [1, 1, 2, 1] = [4, 8].
Tensor keys() { return Tensor::makeFloat({1, 1, 2, 1}, {0, kLn3}); }
Tensor values() { return Tensor::makeFloat({1, 1, 2, 1}, {4, 8}); }

std::vector<float> attend(const Tensor &q, const Tensor &k, const Tensor &v,
                          const Tensor *mask, bool causal, float scale) {
  std::vector<int64_t> shape = q.shape();
  shape[3] = v.shape()[3];
  Expected<Tensor> out =
      attention(q, k, v, mask, causal, scale, TensorType::f32(shape));
  EXPECT_TRUE(out.ok()) << out.status.message();
  return out.value.f;
}
} // namespace

TEST(AttentionTest, SingleQueryTwoKeys) {
  Tensor q = Tensor::makeFloat({1, 1, 1, 1}, {1});
  std::vector<float> out = attend(q, keys(), values(), nullptr, false, 1.0f);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0], 7.0f);
  // The scale multiplies the scores: q = 2 with scale 0.5 is the same.
  out = attend(Tensor::makeFloat({1, 1, 1, 1}, {2}), keys(), values(), nullptr,
               false, 0.5f);
  EXPECT_FLOAT_EQ(out[0], 7.0f);
}

TEST(AttentionTest, DotProductOverD) {
  // D = 2: q = [1, 2], k = [[1, 0], [0, 1]] -> scores [1, 2] -> weights
  // [1, e] / (1 + e) = [0.2689414213699951, 0.7310585786300049]; v = I.
  Tensor q = Tensor::makeFloat({1, 1, 1, 2}, {1, 2});
  Tensor k = Tensor::makeFloat({1, 1, 2, 2}, {1, 0, 0, 1});
  Tensor v = Tensor::makeFloat({1, 1, 2, 2}, {1, 0, 0, 1});
  std::vector<float> out = attend(q, k, v, nullptr, false, 1.0f);
  EXPECT_EQ(out[0], static_cast<float>(0.2689414213699951));
  EXPECT_EQ(out[1], static_cast<float>(0.7310585786300049));
}

TEST(AttentionTest, Causal) {
  // S = T = 2: query 0 sees key 0 only (4); query 1 sees both (7).
  Tensor q = Tensor::makeFloat({1, 1, 2, 1}, {1, 1});
  std::vector<float> out = attend(q, keys(), values(), nullptr, true, 1.0f);
  EXPECT_FLOAT_EQ(out[0], 4.0f);
  EXPECT_FLOAT_EQ(out[1], 7.0f);
  // Decode, S = 1 < T = 2: the offset T - S = 1 lets the query see both.
  out = attend(Tensor::makeFloat({1, 1, 1, 1}, {1}), keys(), values(), nullptr,
               true, 1.0f);
  EXPECT_FLOAT_EQ(out[0], 7.0f);
  // S = 3 > T = 2: offset -1, so query 0 sees nothing (zeros), query 1 sees
  // key 0 (4), query 2 sees both (7).
  out = attend(Tensor::makeFloat({1, 1, 3, 1}, {1, 1, 1}), keys(), values(),
               nullptr, true, 1.0f);
  EXPECT_EQ(out, (std::vector<float>{0.0f, 4.0f, 7.0f}));
}

TEST(AttentionTest, GroupedQueryHeads) {
  // H = 2, Hkv = 1: both heads read the single kv head. Head 0 has q = 1
  // (-> 7), head 1 has q = 0 (equal weights -> 6).
  Tensor q = Tensor::makeFloat({1, 2, 1, 1}, {1, 0});
  std::vector<float> out = attend(q, keys(), values(), nullptr, false, 1.0f);
  EXPECT_FLOAT_EQ(out[0], 7.0f);
  EXPECT_FLOAT_EQ(out[1], 6.0f);
  // H = 4, Hkv = 2: heads 0, 1 -> kv 0 (values 4, 8, mean 6); heads 2, 3 ->
  // kv 1 (values 10, 20, mean 15). All keys 0, so weights are equal.
  Tensor q4 = Tensor::makeFloat({1, 4, 1, 1}, {1, 1, 1, 1});
  Tensor k2 = Tensor::makeFloat({1, 2, 2, 1}, {0, 0, 0, 0});
  Tensor v2 = Tensor::makeFloat({1, 2, 2, 1}, {4, 8, 10, 20});
  out = attend(q4, k2, v2, nullptr, false, 1.0f);
  EXPECT_EQ(out, (std::vector<float>{6, 6, 15, 15}));
  // 3 query heads over 2 kv heads is an error.
  Expected<Tensor> bad =
      attention(Tensor::makeFloat({1, 3, 1, 1}, {1, 1, 1}), k2, v2, nullptr,
                false, 1.0f, TensorType::f32({1, 3, 1, 1}));
  EXPECT_FALSE(bad.ok());
}

TEST(AttentionTest, Masks) {
  Tensor q = Tensor::makeFloat({1, 1, 1, 1}, {1});
  const float inf = std::numeric_limits<float>::infinity();
  // Additive mask [0, -inf] broadcast from [T]: only key 0 -> 4.
  Tensor add = Tensor::makeFloat({2}, {0, -inf});
  EXPECT_FLOAT_EQ(attend(q, keys(), values(), &add, false, 1.0f)[0], 4.0f);
  // Additive mask [ln 3, 0] evens out the scores: weights 1/2 -> 6.
  Tensor even = Tensor::makeFloat({1, 1, 1, 2}, {kLn3, 0});
  EXPECT_FLOAT_EQ(attend(q, keys(), values(), &even, false, 1.0f)[0], 6.0f);
  // Boolean mask: true keeps. [true, false] -> 4.
  Tensor keep = Tensor::makeInt({1, 2}, IntType::i1(), {1, 0});
  EXPECT_FLOAT_EQ(attend(q, keys(), values(), &keep, false, 1.0f)[0], 4.0f);
  // Every key masked -> zeros, by either kind of mask.
  Tensor none = Tensor::makeInt({2}, IntType::i1(), {0, 0});
  EXPECT_EQ(attend(q, keys(), values(), &none, false, 1.0f)[0], 0.0f);
  Tensor allInf = Tensor::makeFloat({2}, {-inf, -inf});
  EXPECT_EQ(attend(q, keys(), values(), &allInf, false, 1.0f)[0], 0.0f);
  // A per-query mask [S, T] combined with causal: S = 2, mask row 1 drops
  // key 0, so query 1 sees key 1 alone (8); query 0 sees key 0 (4).
  Tensor q2 = Tensor::makeFloat({1, 1, 2, 1}, {1, 1});
  Tensor rows = Tensor::makeInt({2, 2}, IntType::i1(), {1, 1, 0, 1});
  std::vector<float> out = attend(q2, keys(), values(), &rows, true, 1.0f);
  EXPECT_FLOAT_EQ(out[0], 4.0f);
  EXPECT_FLOAT_EQ(out[1], 8.0f);
  // A mask that does not broadcast, and an integer mask that is not i1.
  Tensor wrong = Tensor::makeFloat({3}, {0, 0, 0});
  EXPECT_FALSE(attention(q, keys(), values(), &wrong, false, 1.0f,
                         TensorType::f32({1, 1, 1, 1}))
                   .ok());
  Tensor i8mask = Tensor::makeInt({2}, IntType::i8(), {1, 0});
  EXPECT_FALSE(attention(q, keys(), values(), &i8mask, false, 1.0f,
                         TensorType::f32({1, 1, 1, 1}))
                   .ok());
}

TEST(AttentionTest, ShapeErrorsAndQuantizedOperands) {
  Tensor q = Tensor::makeFloat({1, 1, 1, 1}, {1});
  // k with a different head size.
  EXPECT_FALSE(attention(q, Tensor::makeFloat({1, 1, 2, 2}, {0, 0, 0, 0}),
                         values(), nullptr, false, 1.0f,
                         TensorType::f32({1, 1, 1, 1}))
                   .ok());
  // Wrong result shape.
  EXPECT_FALSE(attention(q, keys(), values(), nullptr, false, 1.0f,
                         TensorType::f32({1, 1, 1, 2}))
                   .ok());
  // Quantized v: i8 scale 0.5 storing [8, 16] is [4, 8] -> 7; quantized
  // result i8 scale 0.5 -> 14.
  Tensor vq = Tensor::makeQuant(
      {1, 1, 2, 1}, QuantParams::perTensor(IntType::i8(), 0.5, 0, 4), {8, 16});
  Expected<Tensor> out = attention(
      q, keys(), vq, nullptr, false, 1.0f,
      TensorType::quantized({1, 1, 1, 1},
                            QuantParams::perTensor(IntType::i8(), 0.5, 0, 4)));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{14}));
}

//===----------------------------------------------------------------------===//
// int8 attention
//===----------------------------------------------------------------------===//

TEST(AttentionInt8Test, ExponentialOfTheSemantics) {
  // E(0) is exactly 1 (the online rescale of an unchanged maximum is exact).
  EXPECT_EQ(attentionExp(0.0f), 1.0f);
  // Within a few f32 ulps of exp over the range the softmax uses.
  for (float t = -30.0f; t <= 0.0f; t += 0.0137f) {
    double exact = std::exp(static_cast<double>(t));
    EXPECT_NEAR(attentionExp(t), exact, 4e-7 * exact) << "t = " << t;
  }
  // Clamped at -87: a positive normal number, never 0 or a subnormal.
  EXPECT_EQ(attentionExp(-1.0e30f), attentionExp(-87.0f));
  EXPECT_GT(attentionExp(-87.0f), std::numeric_limits<float>::min());
}

namespace {
Tensor quant8(std::vector<int64_t> shape, IntType type, double scale,
              int64_t zeroPoint, std::vector<int64_t> values) {
  return Tensor::makeQuant(
      std::move(shape), QuantParams::perTensor(type, scale, zeroPoint, 4),
      std::move(values));
}
} // namespace

TEST(AttentionInt8Test, TwoKeysInUnitsOf255) {
  // q = 1, k = [0, 1] with scale ln 3: scores [0, ln 3]; P in 1/255ths is
  // [round(255 / 3), 255] = [85, 255], so v = [4, 8] (u8, zero point 10)
  // gives (85 * 4 + 255 * 8) / 340 = 7 exactly, with key blocks of 1 or 2.
  Tensor q = quant8({1, 1, 1, 1}, IntType::i8(), 1.0, 0, {1});
  Tensor k = quant8({1, 1, 2, 1}, IntType::u8(), std::log(3.0), 7, {7, 8});
  Tensor v = quant8({1, 1, 2, 1}, IntType::u8(), 0.5, 10, {18, 26});
  for (int64_t block : {1, 2, 16}) {
    Expected<Tensor> out = attentionInt8(q, k, v, nullptr, false, 1.0f, block,
                                         TensorType::f32({1, 1, 1, 1}));
    ASSERT_TRUE(out.ok()) << out.status.message();
    EXPECT_EQ(out->f[0], 7.0f) << "key_block " << block;
  }
  // Causal with S = T = 2: row 0 sees key 0 alone: exactly v[0] = 4.
  Tensor q2 = quant8({1, 1, 2, 1}, IntType::i8(), 1.0, 0, {1, 1});
  Expected<Tensor> out = attentionInt8(q2, k, v, nullptr, true, 1.0f, 16,
                                       TensorType::f32({1, 1, 2, 1}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{4.0f, 7.0f}));
  // An i1 mask that hides every key of row 0: zeros.
  Tensor mask = Tensor::makeInt({2, 1}, IntType::i1(), {0, 1});
  out = attentionInt8(q2, k, v, &mask, false, 1.0f, 16,
                      TensorType::f32({1, 1, 2, 1}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{0.0f, 7.0f}));
}

TEST(AttentionInt8Test, Errors) {
  Tensor q = quant8({1, 1, 1, 1}, IntType::i8(), 1.0, 0, {1});
  Tensor k = quant8({1, 1, 2, 1}, IntType::u8(), 0.5, 7, {7, 8});
  // A float operand has no stored integers.
  EXPECT_FALSE(attentionInt8(q, keys(), k, nullptr, false, 1.0f, 16,
                             TensorType::f32({1, 1, 1, 1}))
                   .ok());
  // An empty key block.
  EXPECT_FALSE(attentionInt8(q, k, k, nullptr, false, 1.0f, 0,
                             TensorType::f32({1, 1, 1, 1}))
                   .ok());
  // 16-bit storage.
  Tensor k16 = quant8({1, 1, 2, 1}, IntType::i16(), 0.5, 0, {7, 8});
  EXPECT_FALSE(attentionInt8(q, k16, k, nullptr, false, 1.0f, 16,
                             TensorType::f32({1, 1, 1, 1}))
                   .ok());
}
