//===- NpyTest.cpp - .npy round trips and malformed files -----------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>

using namespace qlow::ref;

namespace {
std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "qlow_npy_test_" + name;
}

bool fileExists(const std::string &path) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (f)
    std::fclose(f);
  return f != nullptr;
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

/// A version 1.0 file with `dict` as its header (padded like NumPy's) and
/// `data` after it.
std::string npyFile(const std::string &dict, const std::string &data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + data;
}

/// Expects parseNpy to fail with a message containing `needle`.
void expectMalformed(const std::string &bytes, const std::string &needle) {
  Expected<NpyArray> a = parseNpy(bytes);
  ASSERT_FALSE(a.ok()) << "accepted a malformed file; expected: " << needle;
  EXPECT_NE(a.status.message().find(needle), std::string::npos)
      << a.status.message();
}

NpyArray intArray(const std::string &dtype, std::vector<int64_t> shape,
                  std::vector<int64_t> values) {
  NpyArray a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.i = std::move(values);
  return a;
}
} // namespace

TEST(NpyTest, RoundTripEveryDtype) {
  const float inf = std::numeric_limits<float>::infinity();
  NpyArray f;
  f.dtype = "<f4";
  f.shape = {2, 3};
  f.f = {1.5f, -0.0f, inf, -inf, std::nanf(""), 1e-45f};
  const std::string path = tempPath("f4.npy");
  ASSERT_TRUE(writeNpy(path, f).ok());
  Expected<NpyArray> back = readNpy(path);
  ASSERT_TRUE(back.ok()) << back.status.message();
  EXPECT_EQ(back->dtype, "<f4");
  EXPECT_EQ(back->shape, f.shape);
  ASSERT_EQ(back->f.size(), 6u);
  // Bit-exact, including -0, NaN and the smallest denormal.
  EXPECT_EQ(std::memcmp(back->f.data(), f.f.data(), 6 * sizeof(float)), 0);
  EXPECT_FALSE(fileExists(path + ".tmp"));

  const std::vector<NpyArray> ints = {
      intArray("|i1", {4}, {-128, -1, 0, 127}),
      intArray("|u1", {2, 2}, {0, 1, 254, 255}),
      intArray("<i2", {3}, {-32768, 12345, 32767}),
      intArray("<u2", {2}, {0, 65535}),
      intArray("<i4", {2}, {std::numeric_limits<int32_t>::min(), 2147483647}),
      intArray("<u4", {1}, {4294967295}),
      intArray("<i8", {2},
               {std::numeric_limits<int64_t>::min(),
                std::numeric_limits<int64_t>::max()}),
      intArray("|b1", {3}, {1, 0, 1}),
      intArray("<i4", {}, {42}),   // scalar
      intArray("<i4", {0, 3}, {}), // empty
  };
  for (const NpyArray &a : ints) {
    Expected<std::string> bytes = serializeNpy(a);
    ASSERT_TRUE(bytes.ok()) << bytes.status.message();
    // The data starts on a 64-byte boundary (dtype "<i4" has 4-byte items).
    const size_t itemSize = static_cast<size_t>(a.dtype[2] - '0');
    EXPECT_EQ((bytes->size() - a.i.size() * itemSize) % 64, 0u) << a.dtype;
    Expected<NpyArray> r = parseNpy(*bytes);
    ASSERT_TRUE(r.ok()) << a.dtype << ": " << r.status.message();
    EXPECT_EQ(r->dtype, a.dtype);
    EXPECT_EQ(r->shape, a.shape);
    EXPECT_EQ(r->i, a.i) << a.dtype;
  }

  // f8 is written from f32 values and read back converted to f32.
  NpyArray d;
  d.dtype = "<f8";
  d.shape = {2};
  d.f = {0.1f, -3.0f};
  Expected<std::string> bytes = serializeNpy(d);
  ASSERT_TRUE(bytes.ok());
  Expected<NpyArray> r = parseNpy(*bytes);
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r->f, d.f);
  EXPECT_TRUE(r->isFloat());
}

TEST(NpyTest, LayoutMatchesNumPy) {
  // np.save of np.array([1.5, -0.25], dtype='<f4') by NumPy 2.3 (whose header
  // has extra padding for in-place growth): the data is 00 00 c0 3f and
  // 00 00 80 be.
  std::string numpy("\x93NUMPY\x01\x00\x76\x00", 10);
  numpy += "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  numpy.resize(127, ' '); // header padded with spaces to 128 bytes in all
  numpy += '\n';
  numpy += std::string("\x00\x00\xc0\x3f\x00\x00\x80\xbe", 8);
  ASSERT_EQ(numpy.size(), 136u);
  Expected<NpyArray> a = parseNpy(numpy);
  ASSERT_TRUE(a.ok()) << a.status.message();
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(a->f, (std::vector<float>{1.5f, -0.25f}));

  // Our own encoding: the magic, version 1.0, a header padded so the data
  // starts at a multiple of 64, the dict NumPy writes, little-endian data.
  Expected<std::string> ours = serializeNpy(*a);
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(ours->substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t headerLen = static_cast<unsigned char>((*ours)[8]) |
                           static_cast<unsigned char>((*ours)[9]) << 8;
  EXPECT_EQ((10 + headerLen) % 64, 0u);
  EXPECT_EQ(ours->substr(10, 57),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }");
  EXPECT_EQ((*ours)[10 + headerLen - 1], '\n');
  EXPECT_EQ(ours->substr(10 + headerLen),
            std::string("\x00\x00\xc0\x3f\x00\x00\x80\xbe", 8));

  // Spacing variants and a 2-D shape: [[1, -2, 3]] as <i2.
  std::string compact =
      npyFile("{'descr':'<i2','fortran_order':False,'shape':(1,3)}",
              std::string("\x01\x00\xfe\xff\x03\x00", 6));
  Expected<NpyArray> c = parseNpy(compact);
  ASSERT_TRUE(c.ok()) << c.status.message();
  EXPECT_EQ(c->shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(c->i, (std::vector<int64_t>{1, -2, 3}));
}

TEST(NpyTest, MalformedFilesAreErrors) {
  const std::string good =
      npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
              std::string(8, '\0'));
  ASSERT_TRUE(parseNpy(good).ok());

  expectMalformed("", "bad magic");
  expectMalformed("\x93NUMPY", "bad magic");
  std::string badMagic = good;
  badMagic[1] = 'X';
  expectMalformed(badMagic, "bad magic");
  std::string badVersion = good;
  badVersion[6] = 9;
  expectMalformed(badVersion, "unsupported .npy format version");
  // Header length claims more bytes than the file has.
  expectMalformed(good.substr(0, 40), "truncated .npy header");
  expectMalformed(good.substr(0, 9), "truncated .npy header");
  // Data shorter and longer than the shape needs.
  expectMalformed(good.substr(0, good.size() - 1), "truncated .npy data");
  expectMalformed(good + "x", "unexpected bytes");
  expectMalformed(
      npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
              std::string(8, '\0')),
      "Fortran");
  expectMalformed(
      npyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
              std::string(8, '\0')),
      "unsupported .npy dtype");
  expectMalformed(
      npyFile("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
              std::string(8, '\0')),
      "big-endian");
  expectMalformed(
      npyFile(
          "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
          std::string(8, '\0')),
      "structured");
  // Absurd shapes: a product that overflows int64, one far beyond the file,
  // a dimension that overflows while parsing, a negative dimension.
  expectMalformed(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': "
                          "(4294967296, 4294967296), }",
                          ""),
                  "int64");
  expectMalformed(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': "
                          "(1000000000000,), }",
                          std::string(8, '\0')),
                  "truncated .npy data");
  expectMalformed(npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': "
                          "(2305843009213693952,), }",
                          ""),
                  "truncated .npy data");
  expectMalformed(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': "
                          "(99999999999999999999,), }",
                          ""),
                  "overflows");
  expectMalformed(
      npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", ""),
      "malformed .npy header");
  // Broken dicts.
  expectMalformed(
      npyFile("{'descr': '<f4', 'shape': (2,), }", std::string(8, '\0')),
      "must have");
  expectMalformed(
      npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
              "'extra': 1, }",
              std::string(8, '\0')),
      "unexpected key");
  expectMalformed(
      npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,",
              std::string(8, '\0')),
      "malformed .npy header");
  expectMalformed(npyFile("{'descr': '<f4, 'fortran_order': False}", ""),
                  "malformed .npy header");
  expectMalformed(npyFile("{'descr': '<f4', 'fortran_order': Maybe, "
                          "'shape': (2,), }",
                          std::string(8, '\0')),
                  "True or False");
  // A version 2.0 header length beyond the 1 MiB limit.
  std::string huge("\x93NUMPY\x02\x00\x00\x00\x00\x10", 12);
  expectMalformed(huge + "{}", "exceeds");
}

TEST(NpyTest, TruncationsAndCorruptionNeverCrash) {
  NpyArray a = intArray("<i4", {3, 5}, {});
  for (int v = 0; v < 15; ++v)
    a.i.push_back(v * 1000 - 7000);
  Expected<std::string> bytes = serializeNpy(a);
  ASSERT_TRUE(bytes.ok());
  // Every proper prefix is an error.
  for (size_t n = 0; n < bytes->size(); ++n)
    EXPECT_FALSE(parseNpy(bytes->substr(0, n)).ok()) << "prefix " << n;
  // Random byte corruption: either a clean error or an array whose size is
  // consistent with the file (run under ASan/UBSan to check for more).
  std::mt19937 rng(99);
  int rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string corrupt = *bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f)
      corrupt[rng() % corrupt.size()] = static_cast<char>(rng() & 0xFF);
    Expected<NpyArray> r = parseNpy(corrupt);
    if (!r.ok()) {
      EXPECT_FALSE(r.status.message().empty());
      ++rejected;
      continue;
    }
    const size_t n = r->isFloat() ? r->f.size() : r->i.size();
    EXPECT_LE(n, corrupt.size());
  }
  EXPECT_GT(rejected, 0);
}

TEST(NpyTest, ReadAndWriteErrors) {
  Expected<NpyArray> missing = readNpy(tempPath("does_not_exist.npy"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status.message().find("cannot open"), std::string::npos);

  // A malformed file on disk is reported with its path.
  const std::string bad = tempPath("bad.npy");
  writeBytes(bad, "not an npy file");
  Expected<NpyArray> r = readNpy(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status.message().find(bad), std::string::npos);

  // A value that does not fit the dtype: nothing is written, and an existing
  // file is left untouched.
  const std::string path = tempPath("atomic.npy");
  ASSERT_TRUE(writeNpy(path, intArray("|u1", {1}, {7})).ok());
  Status s = writeNpy(path, intArray("|u1", {2}, {1, 300}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("300"), std::string::npos);
  EXPECT_FALSE(fileExists(path + ".tmp"));
  r = readNpy(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->i, (std::vector<int64_t>{7}));
  // Count mismatch, unknown dtype, bool out of range, missing directory.
  EXPECT_FALSE(writeNpy(path, intArray("<i4", {3}, {1, 2})).ok());
  EXPECT_FALSE(writeNpy(path, intArray("<c8", {1}, {1})).ok());
  EXPECT_FALSE(writeNpy(path, intArray("|b1", {1}, {2})).ok());
  const std::string noDir = tempPath("no/such/dir/x.npy");
  EXPECT_FALSE(writeNpy(noDir, intArray("<i4", {1}, {1})).ok());
  EXPECT_FALSE(fileExists(noDir + ".tmp"));
}

TEST(NpyTest, TensorConversion) {
  // An i4 quantized tensor is stored unpacked as |i1.
  Tensor q = Tensor::makeQuant(
      {2, 2}, QuantParams::perTensor(IntType::i4(), 0.5, 0, 2), {-8, -1, 0, 7});
  Expected<NpyArray> a = tensorToNpy(q);
  ASSERT_TRUE(a.ok()) << a.status.message();
  EXPECT_EQ(a->dtype, "|i1");
  EXPECT_EQ(a->i, q.i);
  Expected<Tensor> t = npyToTensor(*a);
  ASSERT_TRUE(t.ok()) << t.status.message();
  EXPECT_TRUE(t->type.isInt());
  EXPECT_EQ(t->type.intType, IntType::i8());
  EXPECT_EQ(t->i, q.i);
  // Float and bool tensors.
  a = tensorToNpy(Tensor::makeFloat({1}, {2.5f}));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dtype, "<f4");
  a = tensorToNpy(Tensor::makeInt({2}, IntType::i1(), {1, 0}));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dtype, "|b1");
  t = npyToTensor(*a);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->type.intType, IntType::i1());
  EXPECT_EQ(npyDtypeFor(IntType::u16()).value, "<u2");
  EXPECT_EQ(npyDtypeFor(IntType::i64()).value, "<i8");
  EXPECT_EQ(npyDtypeFor(IntType::u4()).value, "|u1");
}
