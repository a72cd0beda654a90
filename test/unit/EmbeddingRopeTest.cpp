//===- EmbeddingRopeTest.cpp - embedding gather and rotary embedding ------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Ops.h"

#include <gtest/gtest.h>

using namespace qlow::ref;

namespace {
/// table [3, 2] = [[0, 1], [2, 3], [4, 5]].
Tensor floatTable() { return Tensor::makeFloat({3, 2}, {0, 1, 2, 3, 4, 5}); }
} // namespace

TEST(EmbeddingTest, GathersRows) {
  // indices [[2, 0], [1, 1]] -> rows 2, 0, 1, 1.
  Tensor idx = Tensor::makeInt({2, 2}, IntType::i32(), {2, 0, 1, 1});
  Expected<Tensor> out =
      embedding(floatTable(), idx, TensorType::f32({2, 2, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{4, 5, 0, 1, 2, 3, 2, 3}));
  // i64 indices and a scalar index.
  Tensor scalar = Tensor::makeInt({}, IntType::i64(), {1});
  out = embedding(floatTable(), scalar, TensorType::f32({2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{2, 3}));
}

TEST(EmbeddingTest, OutOfRangeIndexIsAnErrorNamingIt) {
  Tensor idx = Tensor::makeInt({2}, IntType::i32(), {0, 3});
  Expected<Tensor> out = embedding(floatTable(), idx, TensorType::f32({2, 2}));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status.message().find("index 3"), std::string::npos)
      << out.status.message();
  EXPECT_NE(out.status.message().find("position 1"), std::string::npos);
  idx = Tensor::makeInt({1}, IntType::i32(), {-1});
  out = embedding(floatTable(), idx, TensorType::f32({1, 2}));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status.message().find("index -1"), std::string::npos);
  // Float indices and a wrong result shape.
  EXPECT_FALSE(embedding(floatTable(), Tensor::makeFloat({1}, {0}),
                         TensorType::f32({1, 2}))
                   .ok());
  EXPECT_FALSE(embedding(floatTable(),
                         Tensor::makeInt({1}, IntType::i32(), {0}),
                         TensorType::f32({1, 3}))
                   .ok());
}

TEST(EmbeddingTest, QuantizedTables) {
  // Per-tensor i8 table, scale 0.5 zp 1, storage [[1, 3], [5, 7], [9, 11]].
  QuantParams p = QuantParams::perTensor(IntType::i8(), 0.5, 1, 2);
  Tensor table = Tensor::makeQuant({3, 2}, p, {1, 3, 5, 7, 9, 11});
  Tensor idx = Tensor::makeInt({2}, IntType::i32(), {2, 0});
  // Same parameters: storage is copied.
  Expected<Tensor> out =
      embedding(table, idx, TensorType::quantized({2, 2}, p));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{9, 11, 1, 3}));
  // Float result dequantizes: (9 - 1) * 0.5 = 4, 5, 0, 1.
  out = embedding(table, idx, TensorType::f32({2, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{4, 5, 0, 1}));
  // Different parameters for the result: an error.
  EXPECT_FALSE(
      embedding(table, idx,
                TensorType::quantized(
                    {2, 2}, QuantParams::perTensor(IntType::i8(), 0.25, 1, 2)))
          .ok());

  // Per-row table (per-axis on 0): row scales 1, 2, 4; every row stores
  // [1, 2]. Rows 2, 1 dequantize to [4, 8], [2, 4].
  Tensor rowTable = Tensor::makeQuant(
      {3, 2}, QuantParams::perAxis(IntType::i8(), 0, {1, 2, 4}, {0, 0, 0}, 2),
      {1, 2, 1, 2, 1, 2});
  Tensor idx2 = Tensor::makeInt({2}, IntType::i32(), {2, 1});
  out = embedding(rowTable, idx2, TensorType::f32({2, 2}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{4, 8, 2, 4}));
  // A per-row table cannot produce a quantized result.
  EXPECT_FALSE(
      embedding(rowTable, idx2, TensorType::quantized({2, 2}, p)).ok());
  // A float table with a quantized result quantizes the rows: [4, 5] / 0.5
  // + 1 = [9, 11].
  out = embedding(floatTable(), Tensor::makeInt({1}, IntType::i32(), {2}),
                  TensorType::quantized({1, 2}, p));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->i, (std::vector<int64_t>{9, 11}));
}

TEST(RopeTest, HalfAndInterleavedForms) {
  // x = [1, 2, 3, 4] at one position, cos = [0, 1], sin = [1, 0]: pair 0 is
  // rotated by 90 degrees, pair 1 not at all.
  Tensor x = Tensor::makeFloat({1, 4}, {1, 2, 3, 4});
  Tensor c = Tensor::makeFloat({1, 2}, {0, 1});
  Tensor s = Tensor::makeFloat({1, 2}, {1, 0});
  // Half form: pairs (0, 2) and (1, 3). Pair 0: x1 = 1, x2 = 3 ->
  // (1*0 - 3*1, 3*0 + 1*1) = (-3, 1). Pair 1: (2, 4) unchanged.
  Expected<Tensor> out = rope(x, c, s, false, TensorType::f32({1, 4}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{-3, 2, 1, 4}));
  // Interleaved: pairs (0, 1) and (2, 3). Pair 0: (1, 2) -> (-2, 1); pair 1
  // unchanged.
  out = rope(x, c, s, true, TensorType::f32({1, 4}));
  ASSERT_TRUE(out.ok()) << out.status.message();
  EXPECT_EQ(out->f, (std::vector<float>{-2, 1, 3, 4}));
}

TEST(RopeTest, PositionsAndBatch) {
  // x [2, 2, 2] (batch, S, D): position 0 identity (cos 1, sin 0), position 1
  // a quarter turn (cos 0, sin 1): (x1, x2) -> (-x2, x1). D = 2 makes both
  // forms the same.
  Tensor x = Tensor::makeFloat({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor c = Tensor::makeFloat({2, 1}, {1, 0});
  Tensor s = Tensor::makeFloat({2, 1}, {0, 1});
  for (bool interleaved : {false, true}) {
    Expected<Tensor> out =
        rope(x, c, s, interleaved, TensorType::f32({2, 2, 2}));
    ASSERT_TRUE(out.ok()) << out.status.message();
    EXPECT_EQ(out->f, (std::vector<float>{1, 2, -4, 3, 5, 6, -8, 7}));
  }
  // 45 degrees: (1, 0) -> (cos, sin).
  const float h = 0.70710678f;
  Expected<Tensor> out =
      rope(Tensor::makeFloat({1, 2}, {1, 0}), Tensor::makeFloat({1, 1}, {h}),
           Tensor::makeFloat({1, 1}, {h}), false, TensorType::f32({1, 2}));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->f, (std::vector<float>{h, h}));
}

TEST(RopeTest, Errors) {
  Tensor c = Tensor::makeFloat({1, 1}, {1});
  // Odd D.
  EXPECT_FALSE(rope(Tensor::makeFloat({1, 3}, {1, 2, 3}), c, c, false,
                    TensorType::f32({1, 3}))
                   .ok());
  // cos of the wrong shape ([S, D/2] = [1, 2] expected).
  EXPECT_FALSE(rope(Tensor::makeFloat({1, 4}, {1, 2, 3, 4}), c, c, false,
                    TensorType::f32({1, 4}))
                   .ok());
  // Rank 1.
  EXPECT_FALSE(
      rope(Tensor::makeFloat({2}, {1, 2}), c, c, false, TensorType::f32({2}))
          .ok());
}
