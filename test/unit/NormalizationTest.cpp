//===- NormalizationTest.cpp - softmax, layer_norm, rms_norm --------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace qlow::ref;

TEST(NormalizationTest, SoftmaxLastAxis) {
  // Row [1, 2, 3]: [e^-2, e^-1, 1] / (e^-2 + e^-1 + 1) =
  // [0.09003057317038046, 0.24472847105479764, 0.6652409557748218];
  // row [0, 0, 0]: 1/3 each.
  Tensor x = Tensor::makeFloat({2, 3}, {1, 2, 3, 0, 0, 0});
  Expected<Tensor> s = softmax(x, -1, TensorType::f32({2, 3}));
  ASSERT_TRUE(s.ok()) << s.status.message();
  const double expected[] = {0.09003057317038046,
                             0.24472847105479764,
                             0.6652409557748218,
                             1.0 / 3,
                             1.0 / 3,
                             1.0 / 3};
  for (int i = 0; i < 6; ++i)
    EXPECT_FLOAT_EQ(s->f[i], static_cast<float>(expected[i])) << i;
  // Axis 1 is the same as -1 here.
  Expected<Tensor> s1 = softmax(x, 1, TensorType::f32({2, 3}));
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->f, s->f);
}

TEST(NormalizationTest, SoftmaxOtherAxisAndStability) {
  // Axis 0 of [[0, ln 3], [0, 0]]: column 0 -> [0.5, 0.5]; column 1:
  // [3, 1] / 4 = [0.75, 0.25].
  Tensor x = Tensor::makeFloat({2, 2}, {0, std::log(3.0f), 0, 0});
  Expected<Tensor> s = softmax(x, 0, TensorType::f32({2, 2}));
  ASSERT_TRUE(s.ok()) << s.status.message();
  EXPECT_FLOAT_EQ(s->f[0], 0.5f);
  EXPECT_FLOAT_EQ(s->f[1], 0.75f);
  EXPECT_FLOAT_EQ(s->f[2], 0.5f);
  EXPECT_FLOAT_EQ(s->f[3], 0.25f);
  // Subtracting the max: exp(1000) alone would overflow.
  const float inf = std::numeric_limits<float>::infinity();
  s = softmax(Tensor::makeFloat({4}, {1000, 1000, -inf, 999}), 0,
              TensorType::f32({4}));
  ASSERT_TRUE(s.ok()) << s.status.message();
  // e^0, e^0, 0, e^-1 over 2 + e^-1.
  const double d = 2 + std::exp(-1.0);
  EXPECT_FLOAT_EQ(s->f[0], static_cast<float>(1 / d));
  EXPECT_EQ(s->f[2], 0.0f);
  EXPECT_FLOAT_EQ(s->f[3], static_cast<float>(std::exp(-1.0) / d));
  // A NaN makes its row NaN.
  s = softmax(Tensor::makeFloat({2}, {std::nanf(""), 1}), 0,
              TensorType::f32({2}));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(std::isnan(s->f[1]));
  // Axis out of range.
  EXPECT_FALSE(softmax(x, 2, TensorType::f32({2, 2})).ok());
  EXPECT_FALSE(softmax(x, -3, TensorType::f32({2, 2})).ok());
}

TEST(NormalizationTest, SoftmaxQuantizedResult) {
  // [0, 0] -> [0.5, 0.5]; u8 scale 1/256 -> 128.
  Expected<Tensor> s =
      softmax(Tensor::makeFloat({2}, {0, 0}), 0,
              TensorType::quantized(
                  {2}, QuantParams::perTensor(IntType::u8(), 1.0 / 256, 0, 1)));
  ASSERT_TRUE(s.ok()) << s.status.message();
  EXPECT_EQ(s->i, (std::vector<int64_t>{128, 128}));
}

TEST(NormalizationTest, LayerNorm) {
  // Row [1, 2, 3, 4]: mean 2.5, population variance (2.25 + 0.25 + 0.25 +
  // 2.25) / 4 = 1.25; normalized = [-1.5, -0.5, 0.5, 1.5] / sqrt(1.25) =
  // [-1.3416407864998738, -0.4472135954999579, ...]. gamma [1, 2, 1, 1],
  // beta [0, 0, 1, -1].
  Tensor x = Tensor::makeFloat({1, 4}, {1, 2, 3, 4});
  Tensor gamma = Tensor::makeFloat({4}, {1, 2, 1, 1});
  Tensor beta = Tensor::makeFloat({4}, {0, 0, 1, -1});
  Expected<Tensor> y =
      layerNorm(x, gamma, &beta, 0.0f, TensorType::f32({1, 4}));
  ASSERT_TRUE(y.ok()) << y.status.message();
  const double n1 = 1.3416407864998738, n2 = 0.4472135954999579;
  EXPECT_EQ(y->f[0], static_cast<float>(-n1));
  EXPECT_EQ(y->f[1], static_cast<float>(-2 * n2));
  EXPECT_EQ(y->f[2], static_cast<float>(n2 + 1));
  EXPECT_EQ(y->f[3], static_cast<float>(n1 - 1));
  // Epsilon enters under the root: row [0, 2] has mean 1 and variance 1;
  // with eps 3 the scale is 1/sqrt(4) = 0.5 -> [-0.5, 0.5]. No beta.
  Tensor x2 = Tensor::makeFloat({2, 2}, {0, 2, 5, 7});
  Tensor g2 = Tensor::makeFloat({2}, {1, 1});
  y = layerNorm(x2, g2, nullptr, 3.0f, TensorType::f32({2, 2}));
  ASSERT_TRUE(y.ok()) << y.status.message();
  EXPECT_EQ(y->f, (std::vector<float>{-0.5f, 0.5f, -0.5f, 0.5f}));
  // Errors: gamma of the wrong size, negative epsilon.
  EXPECT_FALSE(layerNorm(x, g2, nullptr, 0.0f, TensorType::f32({1, 4})).ok());
  EXPECT_FALSE(
      layerNorm(x, gamma, nullptr, -1.0f, TensorType::f32({1, 4})).ok());
}

TEST(NormalizationTest, RmsNorm) {
  // [3, 4]: mean square 12.5, rms 3.5355339059327378: [0.848528137423857,
  // 1.131370849898476] * gamma [1, 2] -> [0.8485..., 2.262741699796952].
  Tensor x = Tensor::makeFloat({1, 2}, {3, 4});
  Tensor gamma = Tensor::makeFloat({2}, {1, 2});
  Expected<Tensor> y = rmsNorm(x, gamma, 0.0f, TensorType::f32({1, 2}));
  ASSERT_TRUE(y.ok()) << y.status.message();
  EXPECT_EQ(y->f[0], static_cast<float>(0.848528137423857));
  EXPECT_EQ(y->f[1], static_cast<float>(2.262741699796952));
  // [1, 1] with eps 3: 1 / sqrt(1 + 3) = 0.5 -> [0.5, 1.0].
  y = rmsNorm(Tensor::makeFloat({1, 2}, {1, 1}), gamma, 3.0f,
              TensorType::f32({1, 2}));
  ASSERT_TRUE(y.ok()) << y.status.message();
  EXPECT_EQ(y->f, (std::vector<float>{0.5f, 1.0f}));
  // Quantized input: i8 scale 0.5 storing [6, 8] is [3, 4].
  Tensor q = Tensor::makeQuant(
      {1, 2}, QuantParams::perTensor(IntType::i8(), 0.5, 0, 2), {6, 8});
  y = rmsNorm(q, gamma, 0.0f, TensorType::f32({1, 2}));
  ASSERT_TRUE(y.ok()) << y.status.message();
  EXPECT_EQ(y->f[1], static_cast<float>(2.262741699796952));
  EXPECT_FALSE(rmsNorm(x, Tensor::makeFloat({3}, {1, 1, 1}), 0.0f,
                       TensorType::f32({1, 2}))
                   .ok());
}
