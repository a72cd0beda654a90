//===- HugePageMapperTest.cpp - JIT constants on 2 MB pages ---------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// lib/JIT/HugePageMapper.cpp: large read-only sections get 2 MiB-aligned
// memory that /proc/self/smaps shows on huge pages, also after they are made
// read-only; everything else gets ordinary memory; and a JIT-compiled int4
// matmul whose packed weights (> 2 MB) sit there is still bit-exact.
//
//===----------------------------------------------------------------------===//

#include "qlow/JIT/HugePageMapper.h"
#include "qlow/JIT/CompiledModule.h"
#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Reference/Ops.h"
#include "qlow/Registration.h"

#include "bench/Int4Module.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>

using namespace mlir;
using namespace mlir::qlow;
using Purpose = llvm::SectionMemoryManager::AllocationPurpose;
using llvm::sys::Memory;
using llvm::sys::MemoryBlock;

namespace {

constexpr unsigned kReadWrite = Memory::MF_READ | Memory::MF_WRITE;

uintptr_t address(const MemoryBlock &block) {
  return reinterpret_cast<uintptr_t>(block.base());
}

/// Writes every page of `block`, as the JIT copies a section in.
void touch(const MemoryBlock &block, size_t bytes) {
  std::memset(block.base(), 0x5A, bytes);
}

TEST(HugePageMapperTest, LargeReadOnlySectionIsAlignedAndStaysHuge) {
  if (!transparentHugePagesAvailable())
    GTEST_SKIP() << "no transparent huge pages here (not Linux, or "
                    "/sys/kernel/mm/transparent_hugepage/enabled is never): "
                    "the mapper is a no-op";
  HugePageSectionMapper mapper;
  ASSERT_TRUE(mapper.active());
  // 2.5 MiB: two huge pages, the second only partly used, as a section of
  // packed weights plus scales would be.
  const size_t bytes = 5 * (kHugePageBytes / 4) + 100;
  std::error_code ec;
  MemoryBlock block = mapper.allocateMappedMemory(Purpose::ROData, bytes,
                                                  nullptr, kReadWrite, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_NE(block.base(), nullptr);
  EXPECT_EQ(address(block) % kHugePageBytes, 0u);
  EXPECT_EQ(block.allocatedSize(), bytes);
  auto mappings = mapper.largeMappings();
  ASSERT_EQ(mappings.size(), 1u);
  EXPECT_EQ(mappings[0].base, block.base());
  EXPECT_EQ(mappings[0].size, 2 * kHugePageBytes);
  EXPECT_EQ(mappings[0].requested, bytes);
  EXPECT_TRUE(mappings[0].advised);

  touch(block, bytes);
  size_t huge = residentHugePageBytes(block.base(), 2 * kHugePageBytes);
  // Both pages are huge unless the kernel found no free 2 MB frame.
  EXPECT_GE(huge, kHugePageBytes) << "smaps shows no AnonHugePages";

  // The section memory manager protects the section's own bytes; the mapper
  // must protect the whole mapping, or mprotect splits the second page.
  MemoryBlock section(block.base(), bytes);
  ASSERT_FALSE(mapper.protectMappedMemory(section, Memory::MF_READ));
  EXPECT_EQ(residentHugePageBytes(block.base(), 2 * kHugePageBytes), huge);
  // Still readable, and what was written.
  EXPECT_EQ(static_cast<const unsigned char *>(block.base())[bytes - 1], 0x5A);

  ASSERT_FALSE(mapper.releaseMappedMemory(block));
  EXPECT_TRUE(mapper.largeMappings().empty());
}

TEST(HugePageMapperTest, SmallCodeAndWritableSectionsGetOrdinaryMemory) {
  HugePageSectionMapper mapper;
  struct Request {
    Purpose purpose;
    size_t bytes;
  } requests[] = {{Purpose::ROData, kHugePageBytes - 4096},
                  {Purpose::ROData, 1000},
                  {Purpose::RWData, 2 * kHugePageBytes},
                  {Purpose::Code, 2 * kHugePageBytes}};
  for (const Request &request : requests) {
    std::error_code ec;
    MemoryBlock block = mapper.allocateMappedMemory(
        request.purpose, request.bytes, nullptr, kReadWrite, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_NE(block.base(), nullptr);
    // llvm::sys::Memory's block: whole 4 KB pages, none of them ours.
    EXPECT_GE(block.allocatedSize(), request.bytes);
    EXPECT_EQ(block.allocatedSize() % 4096, 0u);
    EXPECT_TRUE(mapper.largeMappings().empty())
        << request.bytes << " bytes of purpose "
        << static_cast<int>(request.purpose) << " got a huge mapping";
    touch(block, request.bytes);
    ASSERT_FALSE(mapper.protectMappedMemory(block, Memory::MF_READ));
    ASSERT_FALSE(mapper.releaseMappedMemory(block));
  }
}

TEST(HugePageMapperTest, DisabledMapperIsTheDefaultMapper) {
  HugePageSectionMapper mapper(kHugePageBytes, /*enabled=*/false);
  EXPECT_FALSE(mapper.active());
  std::error_code ec;
  MemoryBlock block = mapper.allocateMappedMemory(
      Purpose::ROData, 2 * kHugePageBytes, nullptr, kReadWrite, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(mapper.largeMappings().empty());
  ASSERT_FALSE(mapper.releaseMappedMemory(block));
}

/// Compiles an int4 weight-only matmul of 1 x `k` x `n` (group 128) whose
/// packed weights are k * n / 2 bytes, runs it, and checks it bit-exact
/// against lib/Reference. Returns the JIT's large constant mappings.
std::vector<HugePageSectionMapper::Mapping>
compileAndCheckInt4(const JITMemoryOptions &memory, int64_t k, int64_t n) {
  const int64_t m = 1, group = 128;
  DialectRegistry registry;
  registerQlowDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> s4(-8, 7);
  std::uniform_real_distribution<float> scaleDist(0.005f, 0.02f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<int8_t> w(k * n);
  std::vector<float> scales(k / group * n), x(m * k);
  for (auto &v : w)
    v = static_cast<int8_t>(s4(rng));
  for (auto &v : scales)
    v = scaleDist(rng);
  for (auto &v : x)
    v = normal(rng);
  OwningOpRef<ModuleOp> module = ::qlow::bench::buildInt4WeightOnlyModule(
      ctx, "mm", m, k, n, group, w, scales);
  auto func = module->lookupSymbol<func::FuncOp>("mm");
  FailureOr<EntrySignature> signature = getEntrySignature(func);
  EXPECT_TRUE(succeeded(signature));
  if (failed(signature))
    return {};
  CompileOptions options;
  options.cpu = "host";
  auto compiled =
      CompiledModule::compile(*module, options, {*signature}, memory);
  EXPECT_TRUE(succeeded(compiled));
  if (failed(compiled))
    return {};
  ref::Tensor input = ref::Tensor::zeros(signature->inputs[0]);
  input.f = x;
  auto result = (*compiled)->call(*signature, {input});
  EXPECT_TRUE(succeeded(result));
  if (failed(result))
    return {};
  ref::QuantParams params = ref::QuantParams::subChannel(
      ref::IntType::i4(), {k / group, n},
      std::vector<double>(scales.begin(), scales.end()),
      std::vector<int64_t>(scales.size(), 0));
  ref::Tensor rhs = ref::Tensor::makeQuant(
      {k, n}, params, std::vector<int64_t>(w.begin(), w.end()));
  ref::DynamicQuant dq;
  ref::Expected<ref::Tensor> expected =
      ref::matmul(input, rhs, nullptr, ref::TensorType::f32({m, n}),
                  ref::Rounding::FixedPoint, &dq);
  EXPECT_TRUE(expected.ok());
  if (expected.ok())
    EXPECT_EQ(expected.value.f, (*result)[0].f)
        << "the JIT'd int4 matmul differs from the reference";
  auto mappings = (*compiled)->largeConstantMappings();
  // Checked while the module is alive: smaps of the weights' mappings.
  if (memory.hugePages && transparentHugePagesAvailable()) {
    size_t requested = 0, mapped = 0, huge = 0;
    for (const auto &mapping : mappings) {
      requested += mapping.requested;
      mapped += mapping.size;
      huge += residentHugePageBytes(mapping.base, mapping.size);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(mapping.base) % kHugePageBytes, 0u);
    }
    // The packed weights (k * n / 2 bytes) are in large sections, and those
    // are (nearly all) on huge pages.
    EXPECT_GE(requested, static_cast<size_t>(k * n / 2));
    EXPECT_GE(huge, mapped * 9 / 10)
        << huge << " of " << mapped << " bytes on huge pages";
  }
  return mappings;
}

// 2048 x 2560 int4: 2.5 MiB of packed weights, more than one 2 MB page.
TEST(HugePageMapperTest, JitInt4MatmulWithWeightsOnHugePages) {
  ::unsetenv("QLOW_JIT_HUGE_PAGES");
  JITMemoryOptions memory;
  auto mappings = compileAndCheckInt4(memory, 2048, 2560);
  if (!transparentHugePagesAvailable()) {
    EXPECT_TRUE(mappings.empty());
    GTEST_SKIP() << "no transparent huge pages here: checked the result only";
  }
  EXPECT_FALSE(mappings.empty());
}

TEST(HugePageMapperTest, JitInt4MatmulWithHugePagesOff) {
  ::unsetenv("QLOW_JIT_HUGE_PAGES");
  JITMemoryOptions memory;
  memory.hugePages = false;
  EXPECT_TRUE(compileAndCheckInt4(memory, 2048, 2560).empty());
}

} // namespace
