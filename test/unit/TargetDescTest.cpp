//===- TargetDescTest.cpp - the CPU target registry -----------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// lookupTargetDesc for both architectures, registry keys that name their own
// architecture, and the register tiles of the AArch64 families against the
// register file they must fit.
//
//===----------------------------------------------------------------------===//

#include "qlow/Target/TargetDesc.h"

#include "llvm/Support/CommandLine.h"

#include <gtest/gtest.h>

#include <tuple>

using namespace mlir;
using namespace mlir::qlow;

namespace {

TEST(TargetDescTest, AArch64Families) {
  FailureOr<TargetDesc> a57 = lookupTargetDesc("aarch64", "cortex-a57");
  FailureOr<TargetDesc> n1 = lookupTargetDesc("aarch64", "neoverse-n1");
  FailureOr<TargetDesc> n2 = lookupTargetDesc("aarch64", "neoverse-n2");
  ASSERT_TRUE(succeeded(a57) && succeeded(n1) && succeeded(n2));
  EXPECT_EQ(a57->int8Dot, Int8DotKind::None);
  EXPECT_EQ(n1->int8Dot, Int8DotKind::NeonSdot);
  EXPECT_EQ(n2->int8Dot, Int8DotKind::NeonI8mm);
  for (const TargetDesc *desc : {&*a57, &*n1, &*n2}) {
    EXPECT_TRUE(desc->isAArch64());
    EXPECT_FALSE(desc->isX86());
    EXPECT_EQ(desc->triple, "aarch64-unknown-linux-gnu");
    EXPECT_EQ(desc->vectorBits, 128u);
    EXPECT_EQ(desc->vectorRegisters, 32u);
    EXPECT_EQ(desc->i32Lanes(), 4);
  }
  EXPECT_EQ(n2->name, "aarch64-neoverse-n2");
  EXPECT_NE(n2->features.find("+i8mm"), std::string::npos);
  EXPECT_NE(n1->features.find("+dotprod"), std::string::npos);
  EXPECT_EQ(n1->features.find("+i8mm"), std::string::npos);
}

TEST(TargetDescTest, Avx512VbmiFromLLVMsCpuTable) {
  // The AVX-512 VNNI family shares one TargetDesc shape; VBMI (vpermi2b, the
  // epilogue's register table lookups) is per CPU, as LLVM describes it.
  for (const char *cpu : {"znver4", "znver5", "sapphirerapids",
                          "icelake-server", "tigerlake"}) {
    TargetDesc desc = *lookupTargetDesc("x86_64", cpu);
    EXPECT_TRUE(desc.avx512Vbmi) << cpu;
    EXPECT_NE(desc.features.find("+avx512vbmi"), std::string::npos) << cpu;
  }
  // Cascade Lake has AVX-512 VNNI but no VBMI; the AVX2 and AVX-VNNI
  // families' kernels have no zmm to use it on.
  for (const char *cpu : {"cascadelake", "alderlake", "haswell", "znver3"}) {
    TargetDesc desc = *lookupTargetDesc("x86_64", cpu);
    EXPECT_FALSE(desc.avx512Vbmi) << cpu;
    EXPECT_EQ(desc.features.find("vbmi"), std::string::npos) << cpu;
  }
  EXPECT_FALSE(lookupTargetDesc("aarch64", "neoverse-n2")->avx512Vbmi);
}

TEST(TargetDescTest, Int4WeightPrefetchOnX86) {
  // The x86 int4 decode kernel's weight prefetch: prefetchnta 8 KB ahead on
  // the vpdpbusd CPUs (zmm or ymm), 4 KB on the AVX2 (vpmaddubsw) ones; none
  // on AArch64, whose int4 matmuls another pass builds.
  for (const char *cpu : {"znver4", "znver5", "cascadelake", "alderlake"}) {
    TargetDesc desc = *lookupTargetDesc("x86_64", cpu);
    EXPECT_EQ(desc.int4PrefetchBytes, 8192) << cpu;
    EXPECT_EQ(desc.int4PrefetchLocality, 0u) << cpu;
  }
  for (const char *cpu : {"haswell", "znver3"}) {
    TargetDesc desc = *lookupTargetDesc("x86_64", cpu);
    EXPECT_EQ(desc.int4PrefetchBytes, 4096) << cpu;
    EXPECT_EQ(desc.int4PrefetchLocality, 0u) << cpu;
  }
  EXPECT_EQ(lookupTargetDesc("aarch64", "neoverse-n2")->int4PrefetchBytes, 0);
}

TEST(TargetDescTest, TilesFitTheRegisterFile) {
  // sdot: accumulators + one weight register per vector + two 16-byte
  // activation registers per row (32 bytes of K, one ldp); smmla:
  // accumulators + two weight registers per vector + one register per row
  // pair. All within 32.
  for (const char *cpu : {"neoverse-n1", "cortex-a76"}) {
    TargetDesc desc = *lookupTargetDesc("aarch64", cpu);
    for (const MicroKernelShape &tile : desc.int8Tiles) {
      EXPECT_EQ(tile.kStep, 4);
      EXPECT_LE(tile.rows * tile.vectors + tile.vectors + 2 * tile.rows, 32)
          << cpu << " " << tile.rows << "x" << tile.vectors;
    }
  }
  TargetDesc n2 = *lookupTargetDesc("aarch64", "neoverse-v1");
  for (const MicroKernelShape &tile : n2.int8Tiles) {
    EXPECT_EQ(tile.kStep, 8);
    EXPECT_EQ(tile.rows % 2, 0) << "smmla takes rows in pairs";
    EXPECT_LE(tile.rows * tile.vectors + 2 * tile.vectors + tile.rows / 2, 32);
  }
}

TEST(TargetDescTest, AttentionTileAmortizesSoftmaxOverKeyBlocks) {
  // AVX-512 (32 zmm, 16 lanes): key blocks of 4 vectors (64 keys), so the
  // row maximum and the rescale come once per 64 keys; the scores of a
  // block take half the register file, and P * V (accumulators, a value
  // row and a broadcast per row) all of it.
  for (const char *cpu : {"znver4", "znver5", "haswell"}) {
    TargetDesc desc = *lookupTargetDesc("x86_64", cpu);
    const int64_t lanes = desc.vectorBits / 32;
    const int64_t registers = desc.vectorRegisters;
    for (int64_t dv : {1, 8, 20, 64, 128, 256}) {
      AttentionTile tile = desc.chooseAttentionTile(128, dv);
      const int64_t keyVectors = tile.keyBlock / lanes;
      const int64_t valueVectors = (dv + lanes - 1) / lanes;
      EXPECT_EQ(tile.valueLanes, lanes) << cpu;
      EXPECT_EQ(tile.keyBlock % lanes, 0) << cpu;
      // On 16 ymm, a value row of 8 or more vectors leaves room for 1 x 2
      // only: 4 rows x 2 key vectors instead (8 independent FMA chains in
      // Q K^T, each K^T vector used 4 times), and P * V in passes of 2
      // vectors (8 accumulators).
      if (registers == 16 && valueVectors >= 8 && dv % lanes == 0) {
        EXPECT_EQ(tile.queryRows, 4) << cpu;
        EXPECT_EQ(keyVectors, 2) << cpu;
        EXPECT_EQ(tile.valueGroup, 2) << cpu << " dv=" << dv;
        continue;
      }
      // Elsewhere P * V fits the registers (or the passes would be too
      // narrow): one pass.
      EXPECT_EQ(tile.valueGroup, valueVectors) << cpu << " dv=" << dv;
      EXPECT_EQ(keyVectors, std::max<int64_t>(1, registers / 8)) << cpu;
      EXPECT_GE(tile.queryRows, 1) << cpu << " dv=" << dv;
      if (tile.queryRows > 1) {
        EXPECT_LE(tile.queryRows * keyVectors, registers / 2)
            << cpu << " dv=" << dv;
        EXPECT_LE(tile.queryRows * (valueVectors + 1) + valueVectors, registers)
            << cpu << " dv=" << dv;
      }
    }
    // Never more rows than the queries have.
    EXPECT_EQ(desc.chooseAttentionTile(1, 64).queryRows, 1) << cpu;
    EXPECT_LE(desc.chooseAttentionTile(3, 8).queryRows, 3) << cpu;
  }
  AttentionTile zmm =
      lookupTargetDesc("x86_64", "znver4")->chooseAttentionTile(128, 64);
  EXPECT_EQ(zmm.keyBlock, 64);
  EXPECT_EQ(zmm.queryRows, 4);
  const TargetDesc &haswell = *lookupTargetDesc("x86_64", "haswell");
  AttentionTile ymm = haswell.chooseAttentionTile(128, 64);
  EXPECT_EQ(ymm.keyBlock, 16);
  EXPECT_EQ(ymm.queryRows, 4);
  // 10 value vectors (D = 80): passes of 2 as well (at 2 rows no pass of
  // 8 accumulators divided them: one pass, spilled).
  AttentionTile d80 = haswell.chooseAttentionTile(128, 80);
  EXPECT_EQ(d80.queryRows, 4);
  EXPECT_EQ(d80.valueGroup, 2);
  // Fewer than 4 queries: 2 rows x 4 key vectors, as before.
  AttentionTile three = haswell.chooseAttentionTile(3, 64);
  EXPECT_EQ(three.queryRows, 2);
  EXPECT_EQ(three.keyBlock, 32);
  EXPECT_EQ(three.valueGroup, 4);
}

/// An option for ScopedLLVMOptions to set (LLVM's own may not be linked in).
static llvm::cl::opt<int> scopedTestOption("qlow-test-scoped-option",
                                           llvm::cl::init(3));

TEST(TargetDescTest, ScopedLLVMOptionsSetAndRestore) {
  // The i8mm kernels need post-indexed ld4s and top-down scheduling; the
  // dotprod family post-indexed ld4s only (the int4 kernel's transposed
  // tiles), with LLVM's default scheduling.
  TargetDesc n2 = *lookupTargetDesc("aarch64", "neoverse-n2");
  EXPECT_TRUE(llvm::is_contained(n2.llvmOptions,
                                 "lsr-preferred-addressing-mode=postindexed"));
  EXPECT_TRUE(llvm::is_contained(n2.llvmOptions,
                                 "misched-prera-direction=topdown"));
  TargetDesc n1 = *lookupTargetDesc("aarch64", "neoverse-n1");
  ASSERT_EQ(n1.llvmOptions.size(), 1u);
  EXPECT_EQ(n1.llvmOptions[0], "lsr-preferred-addressing-mode=postindexed");
  EXPECT_TRUE(lookupTargetDesc("x86_64", "znver4")->llvmOptions.empty());
  {
    ScopedLLVMOptions scoped(
        {"qlow-test-scoped-option=7", "qlow-no-such-option=1"});
    EXPECT_EQ(scopedTestOption, 7);
  }
  EXPECT_EQ(scopedTestOption, 3);
  EXPECT_EQ(scopedTestOption.getNumOccurrences(), 0);
}

TEST(TargetDescTest, RegistryKeysNameTheirArchitecture) {
  // Passes that only take a cpu look it up as x86_64; a registry key reaches
  // the AArch64 description anyway, and the x86 one the other way round.
  FailureOr<TargetDesc> arm = lookupTargetDesc("x86_64", "aarch64-neoverse-n1");
  ASSERT_TRUE(succeeded(arm));
  EXPECT_TRUE(arm->isAArch64());
  EXPECT_EQ(arm->cpu, "neoverse-n1");
  FailureOr<TargetDesc> x86 = lookupTargetDesc("aarch64", "x86_64-znver4");
  ASSERT_TRUE(succeeded(x86));
  EXPECT_TRUE(x86->isX86());
  EXPECT_EQ(x86->int8Dot, Int8DotKind::Avx512Vnni);
  // Not a key: an unknown CPU of the architecture asked for.
  std::string error;
  EXPECT_TRUE(failed(lookupTargetDesc("aarch64", "aarch64-pentium", &error)));
  EXPECT_NE(error.find("unknown aarch64 CPU 'aarch64-pentium'"),
            std::string::npos);
}

TEST(TargetDescTest, Errors) {
  std::string error;
  EXPECT_TRUE(failed(lookupTargetDesc("aarch64", "znver4", &error)));
  EXPECT_NE(error.find("unknown aarch64 CPU 'znver4'; known: host, "),
            std::string::npos);
  EXPECT_NE(error.find("neoverse-n2"), std::string::npos);
  EXPECT_TRUE(failed(lookupTargetDesc("riscv64", "generic", &error)));
  EXPECT_EQ(error,
            "unknown target architecture 'riscv64'; known: x86_64, aarch64");
  EXPECT_EQ(listTargetDescs("aarch64").find("znver4"), std::string::npos);
  EXPECT_EQ(listTargetDescs("x86_64").find("neoverse"), std::string::npos);
}

TEST(TargetDescTest, AArch64TileChoice) {
  // One row: a one-row-tile candidate wins for sdot (no padded rows); the
  // smmla family's smallest tile has two row pairs (one ld2 of activations).
  TargetDesc n1 = *lookupTargetDesc("aarch64", "neoverse-n1");
  EXPECT_EQ(n1.chooseInt8Tile(1, 4096, 4096).rows, 1);
  TargetDesc n2 = *lookupTargetDesc("aarch64", "neoverse-n2");
  EXPECT_EQ(n2.chooseInt8Tile(1, 4096, 4096).rows, 4);
  // Many rows: a tile of several row pairs.
  EXPECT_GE(n2.chooseInt8Tile(128, 768, 768).rows, 4);
}

TEST(TargetDescTest, MmlaTileModelCountsLoadsAndPartialTiles) {
  // The i8mm family counts instructions (ld4 groups, the partial last row
  // tile, per-tile overheads).
  TargetDesc n2 = *lookupTargetDesc("aarch64", "neoverse-n2");
  TargetDesc n1 = *lookupTargetDesc("aarch64", "neoverse-n1");
  EXPECT_EQ(n2.int8LoadGroup, 4);
  EXPECT_EQ(n1.int8LoadGroup, 0);
  // Per step, 8 x 2 is 16 smmla + 2 ld4 and 4 x 4 16 smmla + ld2 + 2 ld4:
  // 8 x 2 where both fill their tiles.
  EXPECT_EQ(n2.chooseInt8Tile(16, 4096, 4096).rows, 8);
  EXPECT_EQ(n2.chooseInt8Tile(128, 768, 3072).rows, 8);
  // One row past whole tiles: the 8 x 2 tiles' one-pair tail (4 smmla, one
  // ld1 and one ld4 per step) costs less than 4 x 4's (8 smmla + 3 loads)
  // per 8 columns; the cycle model counted a whole tile for it and chose
  // 4 x 4 (qlow-bench aarch64: 17x1000x1000 0.691 -> 0.726, 33x768x768
  // 0.741 -> 0.772).
  EXPECT_EQ(n2.chooseInt8Tile(17, 1000, 1000).rows, 8);
  EXPECT_EQ(n2.chooseInt8Tile(33, 768, 768).rows, 8);
  // The one-pair tail joins the last whole 8 x 2 tile (5 row pairs x 4
  // column pairs: 20 accumulators + 9 loaded registers fit), so that its
  // 4 smmla per step share that tile's weight loads (one ld1 more, not a
  // tile of its own); two pairs more would not fit (24 + 10).
  EXPECT_TRUE(n2.mergesInt8RowRest(17, 1000, {8, 2, 8}));
  EXPECT_TRUE(n2.mergesInt8RowRest(18, 1000, {8, 2, 8}));
  EXPECT_FALSE(n2.mergesInt8RowRest(19, 1000, {8, 2, 8}));
  EXPECT_FALSE(n2.mergesInt8RowRest(16, 1000, {8, 2, 8}));
  EXPECT_FALSE(n2.mergesInt8RowRest(8, 1000, {8, 2, 8}));
  EXPECT_FALSE(n1.mergesInt8RowRest(17, 1000, {4, 4, 4}));
  // M = 10, N = 32: 8 x 2 with the rest merged (one 10-row tile per 8
  // columns) over 4 x 4 (two whole tiles and a one-pair tail per 16
  // columns); int8-matmul-asm.mlir checks its loads.
  MicroKernelShape ten = n2.chooseInt8Tile(10, 32, 128);
  EXPECT_EQ(ten.rows, 8);
  EXPECT_EQ(ten.vectors, 2);
}

TEST(TargetDescTest, SdotTileModelCountsInstructions) {
  // dotprod counts instructions too: at M = 33 the cycle model took 2 x 8
  // (16 two-row tiles and a one-row tail, 10 loads per 16 sdot); counted,
  // 5 x 3 (6 five-row tiles and a three-row tail, 8 loads per 15 sdot)
  // wins; qlow-bench aarch64 sdot_33x768x768 0.749 -> 0.809.
  TargetDesc n1 = *lookupTargetDesc("aarch64", "neoverse-n1");
  EXPECT_TRUE(n1.int8SdotInstructions);
  MicroKernelShape tile = n1.chooseInt8Tile(33, 768, 768);
  EXPECT_EQ(tile.rows, 5);
  EXPECT_EQ(tile.vectors, 3);
  EXPECT_EQ(n1.chooseInt8Tile(16, 4096, 4096).rows, 4);
  // x86 keeps the cycle model.
  EXPECT_FALSE(lookupTargetDesc("x86_64", "znver4")->int8SdotInstructions);
}

TEST(TargetDescTest, Zen5VnniTilesAndL1) {
  // Zen 5 has a 48 KB L1D and prefers 6 x 4 where the cycle model ties it
  // with 12 x 2; Zen 4 keeps 32 KB and its candidates (12 x 2 first, no
  // 6 x 4).
  TargetDesc zen5 = *lookupTargetDesc("x86_64", "znver5");
  TargetDesc zen4 = *lookupTargetDesc("x86_64", "znver4");
  EXPECT_EQ(zen5.l1Bytes, 48u * 1024);
  EXPECT_EQ(zen4.l1Bytes, 32u * 1024);
  for (const TargetDesc *desc : {&zen5, &zen4})
    for (const MicroKernelShape &tile : desc->int8Tiles)
      EXPECT_LE(tile.rows * tile.vectors + tile.vectors + 1, 32)
          << desc->cpu << " " << tile.rows << "x" << tile.vectors;
  auto shape = [](const MicroKernelShape &t) {
    return std::to_string(t.rows) + "x" + std::to_string(t.vectors);
  };
  // M = 1024: 171 tiles of 6 rows x 16 panels < 86 x 32 of 12 x 2 (fewer
  // padded rows); M = 512: a tie (86 x 64 = 43 x 128), 6 x 4 comes first.
  EXPECT_EQ(shape(zen5.chooseInt8Tile(1024, 1024, 1024)), "6x4");
  EXPECT_EQ(shape(zen5.chooseInt8Tile(512, 4096, 4096)), "6x4");
  EXPECT_EQ(shape(zen4.chooseInt8Tile(1024, 1024, 1024)), "12x2");
  EXPECT_EQ(shape(zen4.chooseInt8Tile(512, 4096, 4096)), "12x2");
  // Shapes where 6 x 4 pads more keep their tiles on both.
  for (const TargetDesc *desc : {&zen5, &zen4}) {
    EXPECT_EQ(shape(desc->chooseInt8Tile(16, 4096, 4096)), "8x3");
    EXPECT_EQ(shape(desc->chooseInt8Tile(128, 768, 3072)), "8x3");
    // (M = 1: 2 x 8 and 1 x 8 tie; the earlier candidate, computing one
    // row, as the 1 x 8 would.)
    EXPECT_EQ(shape(desc->chooseInt8Tile(1, 4096, 4096)), "2x8");
  }
  // The 6 x 4 panel at K = 1024 (64 KB) exceeds L1: no row blocks. The
  // 12 x 2 panel (32 KB) fits both L1s, and the activations (1 MB) exceed
  // half of L2: two blocks of 516 rows (a multiple of 12).
  EXPECT_EQ(zen5.chooseInt8RowBlock(1024, 1024, 1024, {6, 4, 4}), 1024);
  EXPECT_EQ(zen4.chooseInt8RowBlock(1024, 1024, 1024, {12, 2, 4}), 516);
  // A 40 KB panel (K = 1280, 32 columns) fits Zen 5's L1 only.
  EXPECT_EQ(zen5.chooseInt8RowBlock(1024, 1024, 1280, {12, 2, 4}), 348);
  EXPECT_EQ(zen4.chooseInt8RowBlock(1024, 1024, 1280, {12, 2, 4}), 1024);
}

TEST(TargetDescTest, Sve256Family) {
  // Neoverse-V1 has 256-bit SVE kernels beside its NEON i8mm description;
  // Neoverse-N2 (128-bit SVE2) and the other CPUs have none.
  TargetDesc v1 = *lookupTargetDesc("aarch64", "neoverse-v1");
  TargetDesc n2 = *lookupTargetDesc("aarch64", "neoverse-n2");
  EXPECT_EQ(v1.sveVectorBits, 256u);
  EXPECT_EQ(v1.int8Dot, Int8DotKind::NeonI8mm);
  EXPECT_NE(v1.features.find("+sve"), std::string::npos);
  EXPECT_EQ(n2.sveVectorBits, 0u);
  EXPECT_TRUE(n2.sveInt8Tiles.empty());
  ASSERT_FALSE(v1.sveInt8Tiles.empty());
  for (const MicroKernelShape &tile : v1.sveInt8Tiles) {
    // 8 bytes of K per 128-bit segment; P row pairs x C column pairs of
    // accumulators, P + C operand registers, within 32 z registers.
    EXPECT_EQ(tile.kStep, 16);
    EXPECT_EQ(tile.rows % 2, 0);
    int64_t pairs = tile.rows / 2, colPairs = 2 * tile.vectors;
    EXPECT_LE(pairs * colPairs + pairs + colPairs, 32)
        << tile.rows << "x" << tile.vectors;
  }
  // One row: a single row pair with the widest column panel; M >= 16 with
  // long K: 4 row pairs x 4 column pairs.
  MicroKernelShape one = v1.chooseSveInt8Tile(1, 4096, 4096);
  EXPECT_EQ(one.rows, 2);
  EXPECT_EQ(one.vectors, 4);
  MicroKernelShape sixteen = v1.chooseSveInt8Tile(16, 4096, 4096);
  EXPECT_EQ(sixteen.rows, 8);
  EXPECT_EQ(sixteen.vectors, 2);
  // The model counts instructions: a whole 8 x 2 tile of 8 x 64 x 8 (4
  // steps) executes 4 x (16 smmla + 2 ld4w + 1) plus its start and stores;
  // an odd M costs more than the even M below it, less than the M above.
  MicroKernelShape tile = v1.sveInt8Tiles.front();
  double whole = v1.sveInt8Instructions(tile, 8, 8, 64);
  EXPECT_GE(whole, 4.0 * 19.0);
  EXPECT_LT(v1.sveInt8Instructions(tile, 16, 8, 64),
            v1.sveInt8Instructions(tile, 17, 8, 64));
  EXPECT_LT(v1.sveInt8Instructions(tile, 17, 8, 64),
            v1.sveInt8Instructions(tile, 24, 8, 64));
  // A partial tile of 3 row pairs (M = 22: 8 + 8 + 6 rows) loads its step's
  // activations with one ld3w: over 64 steps its third pair costs 4 smmla
  // per step and its accumulators' start and stores, no load of its own
  // (an ld2w + ldr would be 64 more).
  const double thirdPair = v1.sveInt8Instructions(tile, 22, 8, 1024) -
                           v1.sveInt8Instructions(tile, 20, 8, 1024);
  EXPECT_GE(thirdPair, 64.0 * 4.0);
  EXPECT_LT(thirdPair, 64.0 * 5.0);
  // A last tile of one row pair (M = 17) loads its row pair's steps 4 at a
  // time: per panel and step 4 smmla, a quarter of an ld4w, the weights'
  // ld4w and loop control, under 7 (an ldr per step); 512 panels, so that
  // the packing (per call) is small beside it.
  const double onePair = (v1.sveInt8Instructions(tile, 17, 4096, 1024) -
                          v1.sveInt8Instructions(tile, 16, 4096, 1024)) /
                         512.0;
  EXPECT_LT(onePair, 64.0 * 7.0);
  EXPECT_GE(onePair, 64.0 * 6.0);
  // Two row pairs (M = 20) load 2 steps of them at once: per panel and step
  // (the difference of K = 2048 and 1024, 64 steps) 8 smmla, half an ld4w,
  // the weights' ld4w and loop control, under 11 (an ld2w per step).
  auto beyond16 = [&](int64_t m, int64_t k) {
    return v1.sveInt8Instructions(tile, m, 4096, k) -
           v1.sveInt8Instructions(tile, 16, 4096, k);
  };
  const double twoPairs = (beyond16(20, 2048) - beyond16(20, 1024)) / 512.0;
  EXPECT_LT(twoPairs, 64.0 * 11.0);
  EXPECT_GE(twoPairs, 64.0 * 10.0);
}

} // namespace

TEST(TargetDescTest, ParallelRegionsForLargeLoopNestsOnly) {
  // The loop nests outside the kernels of a decode step (one token: rows of
  // 768 or 2048 f32) stay on the calling thread; those of a 128-token
  // prefill get a parallel region, down to the smallest (a [128, 768]
  // quantize: f32 in, bytes out).
  const int64_t decodeSiluMul = 3 * 2048 * 4; // two inputs, one result
  const int64_t decodeRmsNormQuantize = 4 * 768 * 4 + 768;
  const int64_t prefillQuantize = 128 * 768 * (4 + 1);
  for (const char *cpu : {"znver4", "znver5", "sapphirerapids", "haswell"}) {
    TargetDesc desc = *lookupTargetDesc("x86_64", cpu);
    EXPECT_GT(desc.parallelMinBytesPerThread, 0) << cpu;
    EXPECT_FALSE(desc.worthParallelRegion(decodeSiluMul)) << cpu;
    EXPECT_FALSE(desc.worthParallelRegion(decodeRmsNormQuantize)) << cpu;
    EXPECT_TRUE(desc.worthParallelRegion(prefillQuantize)) << cpu;
    // Monotonic, and exactly two threads' worth at the boundary.
    const int64_t boundary = 2 * desc.parallelMinBytesPerThread;
    EXPECT_TRUE(desc.worthParallelRegion(boundary)) << cpu;
    EXPECT_FALSE(desc.worthParallelRegion(boundary - 1)) << cpu;
  }
}

TEST(TargetDescTest, WideFormTilesCountTwoBytesPerWeight) {
  // AVX2's wide form packs weights as i16: a 64-column panel of K = 1024 is
  // 128 KB, streamed from L2 by every 1-row tile at one load per vpmaddwd,
  // while 6 x 2 keeps its 64 KB panel's step reads shared by 6 rows. Counted
  // as bytes (weightBytes = 1) the two tie but for M's remainder, and the
  // 1 x 8 tile ran at half the vpmaddubsw form's speed (Zen 3, 1024^3: 97
  // against 188 GOPS); counted as i16 the 6 x 2 tile wins (152 GOPS).
  TargetDesc haswell = *lookupTargetDesc("x86_64", "haswell");
  EXPECT_EQ(haswell.chooseInt8Tile(1024, 1024, 1024, /*weightBytes=*/2).rows,
            6);
  EXPECT_EQ(haswell.chooseInt8Tile(128, 3072, 768, /*weightBytes=*/2).rows, 6);
  EXPECT_EQ(haswell.chooseInt8Tile(16, 4096, 4096, /*weightBytes=*/2).rows, 6);
}

TEST(TargetDescTest, FloatMatmulTilesFitTheRegisters) {
  // AVX2 (16 ymm): 6 x 2; AVX-512 (32 zmm): 8 x 3; NEON (32 q): 8 x 3.
  for (auto [arch, cpu, rows, vectors] :
       {std::tuple<const char *, const char *, int64_t, int64_t>{
            "x86_64", "haswell", 6, 2},
        {"x86_64", "znver4", 8, 3},
        {"aarch64", "neoverse-n1", 8, 3}}) {
    auto desc = lookupTargetDesc(arch, cpu);
    ASSERT_TRUE(succeeded(desc)) << cpu;
    MicroKernelShape tile = desc->chooseFloatMatmulTile(128, 768);
    EXPECT_EQ(tile.rows, rows) << cpu;
    EXPECT_EQ(tile.vectors, vectors) << cpu;
    EXPECT_EQ(tile.kStep, 1);
    // Every tile leaves room for its weight vectors (a one-row tile reads
    // them as FMA memory operands) and a broadcast.
    for (int64_t m : {1, 2, 3, 5, 128})
      for (int64_t n : {1, 8, 20, 768}) {
        MicroKernelShape t = desc->chooseFloatMatmulTile(m, n);
        EXPECT_LE(t.rows, std::max<int64_t>(m, 1)) << cpu << " m=" << m;
        EXPECT_LE(t.rows * t.vectors + (t.rows > 1 ? t.vectors : 0) + 1,
                  int64_t(desc->vectorRegisters))
            << cpu << " m=" << m << " n=" << n;
      }
  }
  // Few rows take more vectors: one row of 8 ymm (its weights are FMA memory
  // operands), two rows of 4.
  auto haswell = lookupTargetDesc("x86_64", "haswell");
  ASSERT_TRUE(succeeded(haswell));
  EXPECT_EQ(haswell->chooseFloatMatmulTile(1, 4096).vectors, 8);
  EXPECT_EQ(haswell->chooseFloatMatmulTile(2, 4096).vectors, 4);
  // N narrower than the tile: no more vectors than columns need.
  EXPECT_EQ(haswell->chooseFloatMatmulTile(1, 20).vectors, 3);
  // Row blocks: one for activations in half of L2, with enough panels.
  MicroKernelShape tile = haswell->chooseFloatMatmulTile(128, 768);
  EXPECT_EQ(haswell->chooseFloatRowBlock(128, 768, 768, tile), 128);
  // 4096 rows of K = 1024 (16 MB) are cut into blocks within half of L2,
  // whole tiles each.
  int64_t block = haswell->chooseFloatRowBlock(4096, 768, 1024, tile);
  EXPECT_LT(block, 4096);
  EXPECT_EQ(block % tile.rows, 0);
  EXPECT_LE(uint64_t(block * 1024 * 4), haswell->l2Bytes / 2 + 1024 * 4 * 6);
  // One panel (N = 16): rows split for 8 work items.
  EXPECT_EQ(haswell->chooseFloatRowBlock(96, 16, 64, tile), 12);
}

TEST(TargetDescTest, FoldedDecodeTiles) {
  // A decode step's G query heads per kv head as one work item's rows: up to
  // 4 rows (a divisor of G), 16 vectors of keys per block (the dot-product
  // key block), and on AVX2 with Dv = 128 P * V in passes of 2 vectors (4
  // rows x 2 = 8 accumulators).
  auto haswell = lookupTargetDesc("x86_64", "haswell");
  ASSERT_TRUE(succeeded(haswell));
  AttentionTile t = haswell->chooseFoldedDecodeTile(4, 128);
  EXPECT_EQ(t.queryRows, 4);
  EXPECT_EQ(t.keyBlock, 128);
  EXPECT_EQ(t.keyBlock, haswell->chooseDotProductKeyBlock());
  EXPECT_EQ(t.valueLanes, 8);
  EXPECT_EQ(t.valueGroup, 2);
  EXPECT_EQ(haswell->chooseFoldedDecodeTile(8, 128).queryRows, 4);
  EXPECT_EQ(haswell->chooseFoldedDecodeTile(6, 64).queryRows, 3);
  EXPECT_EQ(haswell->chooseFoldedDecodeTile(2, 64).queryRows, 2);
  // Dv not a multiple of the lanes: one pass over all value vectors.
  EXPECT_EQ(haswell->chooseFoldedDecodeTile(4, 20).valueGroup, 3);
  // AVX-512: 4 rows x 2 zmm of Dv = 32 fit in one pass.
  auto znver4 = lookupTargetDesc("x86_64", "znver4");
  ASSERT_TRUE(succeeded(znver4));
  AttentionTile z = znver4->chooseFoldedDecodeTile(4, 32);
  EXPECT_EQ(z.keyBlock, 256);
  EXPECT_EQ(z.valueGroup, 2);
}
