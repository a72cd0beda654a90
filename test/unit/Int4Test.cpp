//===- Int4Test.cpp - int4 packing, low nibble first ----------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Arithmetic.h"

#include <gtest/gtest.h>

#include <random>

using namespace qlow::ref;

TEST(Int4Test, NibbleOrderOnLiteralBytes) {
  // Element 0 in bits 0-3, element 1 in bits 4-7: {1, 2} -> 0x21; the odd
  // third element 3 sits in the low nibble of byte 1 with a zero high nibble.
  Expected<std::vector<uint8_t>> p = packInt4({1, 2, 3});
  ASSERT_TRUE(p.ok()) << p.status.message();
  EXPECT_EQ(*p, (std::vector<uint8_t>{0x21, 0x03}));
  // Negative values store their two's complement nibble: -1 = 0xF, -8 = 0x8.
  EXPECT_EQ(packInt4({-1, 7}).value, (std::vector<uint8_t>{0x7F}));
  EXPECT_EQ(packInt4({-8, -1}).value, (std::vector<uint8_t>{0xF8}));
  EXPECT_EQ(packInt4({15, 0}).value, (std::vector<uint8_t>{0x0F}));
  EXPECT_TRUE(packInt4({}).value.empty());
}

TEST(Int4Test, UnpackSignExtendsOnlyWhenSigned) {
  EXPECT_EQ(unpackInt4({0xF8}, 2, true).value, (std::vector<int64_t>{-8, -1}));
  EXPECT_EQ(unpackInt4({0xF8}, 2, false).value, (std::vector<int64_t>{8, 15}));
  EXPECT_EQ(unpackInt4({0x21, 0x03}, 3, true).value,
            (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(unpackInt4({0x7F}, 1, true).value, (std::vector<int64_t>{-1}));
}

TEST(Int4Test, RoundTripIncludingOddCounts) {
  std::mt19937 rng(4);
  for (bool isSigned : {true, false}) {
    std::uniform_int_distribution<int> dist(isSigned ? -8 : 0,
                                            isSigned ? 7 : 15);
    for (size_t count = 0; count <= 33; ++count) {
      std::vector<int64_t> values(count);
      for (int64_t &v : values)
        v = dist(rng);
      Expected<std::vector<uint8_t>> packed = packInt4(values);
      ASSERT_TRUE(packed.ok()) << packed.status.message();
      EXPECT_EQ(packed->size(), (count + 1) / 2);
      if (count % 2) {
        EXPECT_EQ(packed->back() >> 4, 0) << "odd count pads with 0";
      }
      Expected<std::vector<int64_t>> back =
          unpackInt4(*packed, count, isSigned);
      ASSERT_TRUE(back.ok()) << back.status.message();
      EXPECT_EQ(*back, values) << "count " << count;
    }
  }
}

TEST(Int4Test, Errors) {
  EXPECT_FALSE(packInt4({16}).ok());
  EXPECT_FALSE(packInt4({0, -9}).ok());
  EXPECT_FALSE(unpackInt4({0x12}, 3, true).ok());
}
