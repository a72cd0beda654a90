//===- TargetDesc.cpp - the CPU target registry ---------------------------===//
//
// Register tiles follow from the register file: a tile of R rows x V vectors
// needs R*V accumulators, V weight registers and one broadcast register, and
// enough independent accumulators (>= 8 here) to hide the dot-product
// latency (about 4-5 cycles at one issue per cycle on Zen 4 / Ice Lake).
//
//===----------------------------------------------------------------------===//

#include "qlow/Target/TargetDesc.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace mlir::qlow;

namespace {
/// One family of CPUs with the same vector ISA for int8 matmul.
struct CpuFamily {
  const char *features;
  unsigned vectorBits;
  unsigned vectorRegisters;
  Int8DotKind int8Dot;
  std::initializer_list<MicroKernelShape> tiles;
  double dotsPerCycle;
  double loadsPerCycle;
  /// L1 data cache per core (TargetDesc::l1Bytes).
  uint64_t l1Bytes = 32 * 1024;
  /// SVE kernels: their fixed vector length and register tiles
  /// (TargetDesc::sveVectorBits, sveInt8Tiles); 0 and none without.
  unsigned sveVectorBits = 0;
  std::initializer_list<MicroKernelShape> sveTiles = {};
};

// 32 zmm: up to 24 accumulators + the weight registers + 1 broadcast. Wide
// tiles with fewer rows (6 x 4, 4 x 6) measured slower at M = 1024 on Zen 4
// (qlow-bench), so they are not candidates. Zen 4
// issues two vpdpbusd zmm per cycle (qlow-bench measures the peak).
const CpuFamily kAvx512Vnni = {
    "+avx2,+fma,+avx512f,+avx512bw,+avx512vl,+avx512dq,+avx512vnni",
    512,
    32,
    Int8DotKind::Avx512Vnni,
    {{12, 2, 4}, {8, 3, 4}, {2, 8, 4}, {1, 8, 4}},
    2.0,
    2.0};
// Zen 5 (family 26): the same ISA with a 48 KB, 12-way L1D, two vpdpbusd zmm
// per cycle on a full 512-bit datapath, and 6 x 4 as a candidate, first (ties
// go to it). 6 x 4 and 12 x 2 cost the same per step of K in the model (24
// vpdpbusd), but 6 x 4 broadcasts half as many activation bytes per
// vpdpbusd, from 6 strided rows of A instead of 12 (whose lines all cross at
// the same step of K), and reads its 64 weight columns as one sequential
// stream. Measured on a Zen 5 EPYC (qlow-bench matmul, one thread, median of
// per-run ratios to oneDNN, 8 runs, load 2-3, tile forced): 1024^3 s32 0.965
// / 0.986 (12 x 2) -> 1.013 / 0.996 (6 x 4), s8 requant 0.979 / 0.980 ->
// 0.996 / 0.994; 512x4096x4096 s32 1.022 -> 1.050, s8 1.017 -> 1.036. 8 x 3
// and 4 x 6 pad N = 1024 to 1056 columns (an extra copy of the result) and
// measured 0.91.
const CpuFamily kAvx512VnniZen5 = {
    "+avx2,+fma,+avx512f,+avx512bw,+avx512vl,+avx512dq,+avx512vnni",
    512,
    32,
    Int8DotKind::Avx512Vnni,
    {{6, 4, 4}, {12, 2, 4}, {8, 3, 4}, {2, 8, 4}, {1, 8, 4}},
    2.0,
    2.0,
    48 * 1024};
// 16 ymm: up to 12 accumulators + weights + 1.
const CpuFamily kAvxVnni = {"+avx2,+fma,+avxvnni",
                            256,
                            16,
                            Int8DotKind::AvxVnni,
                            {{6, 2, 4}, {4, 3, 4}, {3, 3, 4}, {1, 8, 4}},
                            1.0,
                            2.0};
const CpuFamily kAvx2 = {"+avx2,+fma",           256, 16, Int8DotKind::Avx2,
                         {{6, 2, 4}, {1, 8, 4}}, 1.0, 2.0};

// AArch64: 32 128-bit NEON registers. The sdot kernel loads 32 activation
// bytes per row and iteration (two 16-byte registers, one ldp, 8 steps of K)
// and uses them lane by lane (sdot by element), so a tile holds rows *
// vectors accumulators + vectors weights + 2 * rows activation registers
// (<= 32; 8 x 2 and 6 x 3 spilled). Cortex-A76 / Neoverse-N1 issue two sdot
// per cycle and two loads.
const CpuFamily kNeonDotprod = {
    "+neon,+dotprod",
    128,
    32,
    Int8DotKind::NeonSdot,
    {{4, 4, 4}, {5, 3, 4}, {6, 2, 4}, {2, 8, 4}, {1, 8, 4}},
    2.0,
    2.0};
// i8mm: a tile of R rows (even) x V vectors of 4 columns holds R * V
// accumulators (2x2 blocks), 2V weight registers (2 columns x 8 bytes of K)
// and R/2 activation registers (2 rows x 8 bytes of K, packed at run time).
// Rows are counted as for sdot; kStep is 8 bytes of K per instruction. The
// registers of a step come in ld4 (ld2) groups, which need consecutive
// registers: 10 x 2 (five row pairs, no group) and 6 x 3 (ld3 + ld4 + ld2
// beside 18 accumulators) measured 7 register moves per 72 smmla, and 2 x 6
// (one row pair) loads 4 registers per 12 smmla, which the cost model does
// not see (it won at M = 17).
// Its CPUs (Neoverse-N2/V2, Cortex-A710/X2) have SVE2 too, which LLVM would
// use for masked loads of fixed-length vectors: -sve keeps the family's code
// NEON, so that it runs wherever the run-time dispatch finds i8mm (HWCAP2),
// SVE or not.
const CpuFamily kNeonI8mm = {
    "+neon,+dotprod,+i8mm,-sve",
    128,
    32,
    Int8DotKind::NeonI8mm,
    {{8, 2, 8}, {4, 4, 8}},
    2.0,
    2.0};
// SVE with 256-bit vectors and i8mm (Neoverse-V1): the NEON i8mm family for
// NEON code, plus SVE smmla kernels compiled for exactly 256 bits
// (qlow-aarch64-sve-int8-matmul). An SVE smmla computes a 2x2 block per
// 128-bit segment; the kernel gives the two segments consecutive 8-byte
// steps of K of the same row pair and column pair (summed after the K loop),
// so every operand register is a whole load and a tile of P row pairs x C
// column pairs holds P * C accumulators and P + C operands of 32 registers:
// 4 x 4 (8 x 2: 16 + 8), 2 x 8 (4 x 4: 16 + 10) and, for one row, 1 x 8
// (2 x 4: 8 + 9). Groups of 4 registers load with one ld4w.
const CpuFamily kSve256I8mm = {"+neon,+dotprod,+i8mm,+sve,+bf16",
                               128,
                               32,
                               Int8DotKind::NeonI8mm,
                               {{8, 2, 8}, {4, 4, 8}},
                               2.0,
                               2.0,
                               32 * 1024,
                               256,
                               {{8, 2, 16}, {4, 4, 16}, {2, 4, 16}}};
// NEON without an int8 dot product (Armv8.0): the generic lowering.
const CpuFamily kNeon = {"+neon",     128, 32, Int8DotKind::None,
                         {{4, 4, 4}}, 1.0, 2.0};

const llvm::StringMap<const CpuFamily *> &aarch64Cpus() {
  static const llvm::StringMap<const CpuFamily *> cpus = {
      {"generic", &kNeon},
      {"cortex-a53", &kNeon},
      {"cortex-a57", &kNeon},
      {"cortex-a72", &kNeon},
      {"cortex-a55", &kNeonDotprod},
      {"cortex-a76", &kNeonDotprod},
      {"cortex-a78", &kNeonDotprod},
      {"cortex-x1", &kNeonDotprod},
      {"neoverse-n1", &kNeonDotprod},
      {"neoverse-n2", &kNeonI8mm},
      {"neoverse-v1", &kSve256I8mm},
      {"neoverse-v2", &kNeonI8mm},
      {"cortex-a710", &kNeonI8mm},
      {"cortex-x2", &kNeonI8mm},
  };
  return cpus;
}

const llvm::StringMap<const CpuFamily *> &x86Cpus() {
  static const llvm::StringMap<const CpuFamily *> cpus = {
      {"znver4", &kAvx512Vnni},
      {"znver5", &kAvx512VnniZen5},
      {"sapphirerapids", &kAvx512Vnni},
      {"icelake-server", &kAvx512Vnni},
      {"cascadelake", &kAvx512Vnni},
      {"tigerlake", &kAvx512Vnni},
      {"alderlake", &kAvxVnni},
      {"raptorlake", &kAvxVnni},
      {"haswell", &kAvx2},
      {"skylake", &kAvx2},
      {"znver2", &kAvx2},
      {"znver3", &kAvx2},
  };
  return cpus;
}

const llvm::StringMap<const CpuFamily *> *cpusOf(StringRef arch) {
  if (arch == "x86_64")
    return &x86Cpus();
  if (arch == "aarch64")
    return &aarch64Cpus();
  return nullptr;
}
} // namespace

FailureOr<TargetDesc> mlir::qlow::lookupTargetDesc(StringRef arch,
                                                   StringRef cpu,
                                                   std::string *errorMessage) {
  // A registry key ("aarch64-neoverse-n1") names its own architecture.
  for (StringRef known : {"x86_64", "aarch64"})
    if (cpu.starts_with(known) && cpu.drop_front(known.size()).starts_with("-"))
      if (cpusOf(known)->contains(cpu.drop_front(known.size() + 1))) {
        arch = known;
        cpu = cpu.drop_front(known.size() + 1);
      }
  const llvm::StringMap<const CpuFamily *> *cpus = cpusOf(arch);
  if (!cpus) {
    if (errorMessage)
      *errorMessage = "unknown target architecture '" + arch.str() +
                      "'; known: x86_64, aarch64";
    return failure();
  }
  std::string cpuName = cpu.str();
  if (cpu == "host")
    cpuName = llvm::sys::getHostCPUName().str();
  auto it = cpus->find(cpuName);
  const CpuFamily *family = it == cpus->end() ? nullptr : it->second;
  if (!family && cpu == "host" && arch == "x86_64") {
    // A CPU the table does not name: classify it by its features.
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    if (features.lookup("avx512vnni") && features.lookup("avx512bw"))
      family = &kAvx512Vnni;
    else if (features.lookup("avxvnni"))
      family = &kAvxVnni;
    else if (features.lookup("avx2"))
      family = &kAvx2;
  }
  if (!family) {
    if (errorMessage)
      *errorMessage = "unknown " + arch.str() + " CPU '" + cpuName +
                      "'; known: " + listTargetDescs(arch);
    return failure();
  }
  TargetDesc desc;
  desc.name = arch.str() + "-" + cpuName;
  desc.arch = arch.str();
  desc.triple = arch == "x86_64" ? "x86_64-unknown-linux-gnu"
                                 : "aarch64-unknown-linux-gnu";
  desc.cpu = cpuName;
  desc.features = family->features;
  desc.vectorBits = family->vectorBits;
  desc.vectorRegisters = family->vectorRegisters;
  desc.int8Dot = family->int8Dot;
  // ISA extensions that only some CPUs of a family have come from LLVM's
  // own CPU table (the features its code generator will assume for that
  // CPU), or from the host's CPUID for "host".
  if (arch == "x86_64" && desc.vectorBits == 512) {
    if (cpu == "host") {
      desc.avx512Vbmi = llvm::sys::getHostCPUFeatures().lookup("avx512vbmi");
    } else {
      SmallVector<StringRef> cpuFeatures;
      llvm::X86::getFeaturesForCPU(cpuName, cpuFeatures, /*NeedPlus=*/false);
      desc.avx512Vbmi = llvm::is_contained(cpuFeatures, "avx512vbmi");
    }
    if (desc.avx512Vbmi)
      desc.features += ",+avx512vbmi";
  }
  desc.int8Tiles.assign(family->tiles.begin(), family->tiles.end());
  desc.dotsPerCycle = family->dotsPerCycle;
  desc.loadsPerCycle = family->loadsPerCycle;
  desc.l1Bytes = family->l1Bytes;
  // The int4 decode kernel's weight prefetch (TargetDesc::int4PrefetchBytes).
  // Zen 5 EPYC, 4 KB pages, M = 1, K = N = 4096, caches evicted, one thread,
  // the kernel's assembly with prefetches added, all in one run against a
  // streaming read of as many bytes: without, 0.37-1.0 of the read from run
  // to run (it varies with where the weights lie in physical memory);
  // prefetchnta 8 KB ahead 0.79-1.02, the best or tied in each run (4 and
  // 16 KB, and prefetcht0 8 KB, at or below it).
  if (desc.hasVnni()) {
    desc.int4PrefetchBytes = 8192;
    desc.int4PrefetchLocality = 0;
  }
  // AVX2 (the vpmaddubsw kernel), measured on a Zen 3 EPYC (2 MB pages, the
  // same protocol, two runs each, share of the same-bytes read at 1 / 2
  // threads): none 0.90-0.91 / 0.83-0.88 (0.76 in an earlier run);
  // prefetchnta 4 KB ahead 1.03-1.05 / 0.95-0.99, 8 KB 0.97-0.99 /
  // 0.92-1.13, 16 KB 1.04 / 0.94; prefetcht0 within the same spread.
  if (family->int8Dot == Int8DotKind::Avx2) {
    desc.int4PrefetchBytes = 4096;
    desc.int4PrefetchLocality = 0;
  }
  desc.sveVectorBits = family->sveVectorBits;
  desc.sveInt8Tiles.assign(family->sveTiles.begin(), family->sveTiles.end());
  // The smmla kernel loads each step's registers with one ld4 per stream,
  // which has no immediate offset; loop strength reduction, left to its
  // default, computes every such address from one induction variable (an
  // add each). Preferring post-indexed addressing gives each stream its own
  // pointer that the ld4 itself advances (qlow-bench aarch64: 19 -> 10
  // non-MAC instructions per 64 smmla). The default pre-RA scheduling
  // (both ways) hoisted all four steps' ld4s of an iteration on Neoverse-V1
  // (32 registers beside the 16 accumulators) and spilled accumulators, and
  // so did bottom-up with the 4 x 4 tile (ld4 and ld2 need consecutive
  // registers); top-down keeps each step's loads next to its smmlas on every
  // CPU of the family (int8-matmul-asm.mlir).
  desc.int8SdotInstructions = family->int8Dot == Int8DotKind::NeonSdot;
  // Post-indexed addressing for every dotprod CPU: the int4 kernel's
  // transposed tiles load each row quad and nibble register with an ld4
  // that has no immediate offset (otherwise an add per ld4).
  if (family->int8Dot == Int8DotKind::NeonSdot)
    desc.llvmOptions.push_back("lsr-preferred-addressing-mode=postindexed");
  if (family->int8Dot == Int8DotKind::NeonI8mm) {
    // The smmla kernel's costs outside its smmla (qlow-aarch64-int8-matmul;
    // measured in qlow-bench aarch64's counts at 16x256x256, 8 x 2 tiles):
    // ld4 groups; per tile about 20 instructions of pointers and loop entry,
    // a movi per accumulator, per row vector a shuffle out of the 2x2
    // blocks (1.5: LLVM copies and inserts for the even rows) and a store;
    // a counter and a branch per iteration of 4 steps (K >= 512); and the
    // run-time packing, a load and a store per 8 bytes of a row.
    desc.int8LoadGroup = 4;
    desc.int8TileOverhead = 20.0;
    desc.int8AccumulatorOverhead = 1.0;
    desc.int8RowVectorOverhead = 2.5;
    desc.int8LoopOverheadPerStep = 0.5;
    desc.int8PackOverheadPerPairStep = 4.0;
    desc.llvmOptions.push_back("lsr-preferred-addressing-mode=postindexed");
    desc.llvmOptions.push_back("misched-prera-direction=topdown");
  }
  return desc;
}

ScopedLLVMOptions::ScopedLLVMOptions(ArrayRef<std::string> options) {
  auto &registered = llvm::cl::getRegisteredOptions();
  for (const std::string &option : options) {
    auto [name, value] = StringRef(option).split('=');
    llvm::cl::Option *opt = registered.lookup(name);
    if (!opt || opt->getNumOccurrences() > 0 || llvm::is_contained(set, opt))
      continue;
    if (!opt->addOccurrence(0, name, value))
      set.push_back(opt);
  }
}

ScopedLLVMOptions::~ScopedLLVMOptions() {
  for (llvm::cl::Option *opt : set)
    opt->reset();
}

std::string mlir::qlow::listTargetDescs(StringRef arch) {
  SmallVector<StringRef> names;
  if (const llvm::StringMap<const CpuFamily *> *cpus = cpusOf(arch))
    for (const auto &entry : *cpus)
      names.push_back(entry.getKey());
  llvm::sort(names);
  std::string list = "host";
  for (StringRef name : names)
    list += ", " + name.str();
  return list;
}

/// Instructions an i8mm kernel with register tile `tile` executes for an
/// M x N x K matmul, as chooseInt8Tile's model counts them. The kernel
/// (qlow-aarch64-int8-matmul) computes R x V tiles as R/2 row pairs x 2V
/// column pairs of smmla per step of kStep bytes of K, loads the row pairs
/// in groups of the largest size up to int8LoadGroup that divides R/2 (a
/// partial last tile whose pairs are fewer than a group: one load of its
/// own size) and the column pairs in groups of int8LoadGroup.
static double mmlaInstructions(const TargetDesc &desc,
                               const MicroKernelShape &tile, int64_t m,
                               int64_t n, int64_t k) {
  const int64_t g = desc.int8LoadGroup;
  const int64_t vectors =
      std::min(tile.vectors, (n + desc.i32Lanes() - 1) / desc.i32Lanes());
  const int64_t columns = vectors * desc.i32Lanes();
  const int64_t panels = (n + columns - 1) / columns;
  const int64_t colPairs = 2 * vectors;
  const int64_t pairs = (tile.rows + 1) / 2;
  int64_t pairGroup = 1;
  for (int64_t size = std::min(g, pairs); size > 1; --size)
    if (pairs % size == 0) {
      pairGroup = size;
      break;
    }
  const double steps = static_cast<double>((k + tile.kStep - 1) / tile.kStep);
  const double colLoads = static_cast<double>((colPairs + g - 1) / g);
  // One row tile of `rowCount` rows (`tilePairs` of its pairs), its K loop
  // and its overheads.
  auto rowTile = [&](int64_t rowCount, int64_t tilePairs, bool ownGroup) {
    double rowLoads =
        ownGroup ? 1.0
                 : static_cast<double>((tilePairs + pairGroup - 1) / pairGroup);
    double perStep = static_cast<double>(tilePairs * colPairs) + rowLoads +
                     colLoads + desc.int8LoopOverheadPerStep;
    return steps * perStep + desc.int8TileOverhead +
           desc.int8AccumulatorOverhead *
               static_cast<double>(tilePairs * colPairs) +
           desc.int8RowVectorOverhead * static_cast<double>(rowCount * vectors);
  };
  const int64_t full = m / tile.rows, rest = m % tile.rows;
  double perPanel =
      static_cast<double>(full) * rowTile(tile.rows, pairs, false);
  if (rest != 0) {
    int64_t restPairs = (rest + 1) / 2;
    bool ownGroup = pairGroup == pairs && restPairs < pairGroup;
    if (desc.mergesInt8RowRest(m, n, tile)) {
      // The last whole tile takes the rest: its groups plus the rest's own
      // load (or whole groups), no second tile.
      double extraLoads =
          ownGroup
              ? 1.0
              : static_cast<double>((restPairs + pairGroup - 1) / pairGroup);
      perPanel +=
          steps * (static_cast<double>(restPairs * colPairs) + extraLoads) +
          desc.int8AccumulatorOverhead *
              static_cast<double>(restPairs * colPairs) +
          desc.int8RowVectorOverhead * static_cast<double>(rest * vectors);
    } else {
      perPanel += rowTile(rest, restPairs, ownGroup);
    }
  }
  // Rows are packed (and padded) to whole groups of pairs.
  const int64_t packedPairs =
      (m + 2 * pairGroup - 1) / (2 * pairGroup) * pairGroup;
  return static_cast<double>(panels) * perPanel +
         desc.int8PackOverheadPerPairStep * static_cast<double>(packedPairs) *
             steps;
}

/// Instructions a dotprod kernel with register tile `tile` executes for an
/// M x N x K matmul, as chooseInt8Tile's model counts them. The kernel
/// (qlow-aarch64-int8-matmul) runs R x V tiles over iterations of 8 steps of
/// 4 bytes of K: R * V * 8 sdot by element, one ldp of 32 activation bytes
/// per row, one ldp per two weight vectors and step, 4 of loop control; per
/// tile, the accumulators' start and stores and about 10 of pointers.
static double sdotInstructions(const TargetDesc &desc,
                               const MicroKernelShape &tile, int64_t m,
                               int64_t n, int64_t k) {
  const int64_t vectors =
      std::min(tile.vectors, (n + desc.i32Lanes() - 1) / desc.i32Lanes());
  const int64_t panels =
      (n + vectors * desc.i32Lanes() - 1) / (vectors * desc.i32Lanes());
  const double iterations = static_cast<double>(k) / 32.0;
  auto rowTile = [&](int64_t rows) {
    double perIteration = static_cast<double>(rows * vectors * 8 + rows) +
                          4.0 * static_cast<double>(vectors) + 4.0;
    return iterations * perIteration +
           2.0 * static_cast<double>(rows * vectors) + 10.0;
  };
  const int64_t full = m / tile.rows, rest = m % tile.rows;
  double perPanel = static_cast<double>(full) * rowTile(tile.rows);
  if (rest != 0)
    perPanel += rowTile(rest);
  return static_cast<double>(panels) * perPanel;
}

bool TargetDesc::mergesInt8RowRest(int64_t m, int64_t n,
                                   const MicroKernelShape &tile) const {
  if (int8LoadGroup == 0 || m <= tile.rows || m % tile.rows == 0)
    return false;
  const int64_t vectors =
      std::min(tile.vectors, (n + i32Lanes() - 1) / i32Lanes());
  const int64_t colPairs = 2 * vectors;
  const int64_t pairs = (tile.rows + m % tile.rows + 1) / 2;
  return pairs * colPairs + pairs + colPairs + 3 <=
         static_cast<int64_t>(vectorRegisters);
}

MicroKernelShape TargetDesc::chooseInt8Tile(int64_t m, int64_t n, int64_t k,
                                            int64_t weightBytes) const {
  if ((int8LoadGroup > 0 || int8SdotInstructions) && m > 1) {
    MicroKernelShape best = int8Tiles.front();
    double fewest = std::numeric_limits<double>::infinity();
    for (const MicroKernelShape &tile : int8Tiles) {
      double count = int8LoadGroup > 0 ? mmlaInstructions(*this, tile, m, n, k)
                                       : sdotInstructions(*this, tile, m, n, k);
      if (count < fewest) {
        fewest = count;
        best = tile;
      }
    }
    return best;
  }
  MicroKernelShape best = int8Tiles.front();
  double bestCycles = std::numeric_limits<double>::infinity();
  for (const MicroKernelShape &tile : int8Tiles) {
    // A narrow N uses fewer column vectors than the tile has.
    int64_t vectors = std::min(tile.vectors, (n + i32Lanes() - 1) / i32Lanes());
    int64_t columns = vectors * i32Lanes();
    double tiles = static_cast<double>((m + tile.rows - 1) / tile.rows) *
                   static_cast<double>((n + columns - 1) / columns);
    double perStep = std::max(tile.rows * vectors / dotsPerCycle,
                              (tile.rows + vectors) / loadsPerCycle);
    // A panel beyond L1 is streamed from L2 by every row tile.
    double stepBytes = static_cast<double>(columns) * tile.kStep * weightBytes;
    if (static_cast<double>(k) * columns * weightBytes >
        static_cast<double>(l1Bytes))
      perStep = std::max(perStep, stepBytes / l2BytesPerCycle);
    if (tiles * perStep < bestCycles) {
      bestCycles = tiles * perStep;
      best = tile;
    }
  }
  return best;
}

int64_t TargetDesc::chooseInt8RowBlock(int64_t m, int64_t n, int64_t k,
                                       const MicroKernelShape &tile) const {
  int64_t vectors = std::min(tile.vectors, (n + i32Lanes() - 1) / i32Lanes());
  int64_t columns = vectors * i32Lanes();
  int64_t kp = (k + tile.kStep - 1) / tile.kStep * tile.kStep;
  uint64_t half = l2Bytes / 2;
  if (static_cast<uint64_t>(kp * columns) > l1Bytes ||
      static_cast<uint64_t>(m * kp) <= half)
    return m;
  int64_t blocks = static_cast<int64_t>((m * kp + half - 1) / half);
  int64_t rows = (m + blocks - 1) / blocks;
  rows = (rows + tile.rows - 1) / tile.rows * tile.rows;
  return std::min(rows, m);
}

AttentionTile TargetDesc::chooseFoldedDecodeTile(int64_t group,
                                                 int64_t dv) const {
  const int64_t lanes = vectorBits / 32;
  const int64_t registers = vectorRegisters;
  const int64_t valueVectors = std::max<int64_t>(1, (dv + lanes - 1) / lanes);
  int64_t rows = std::min<int64_t>(group, 4);
  while (group % rows != 0)
    --rows;
  int64_t valueGroup = valueVectors;
  if (rows * valueVectors + valueVectors + rows > registers &&
      dv % lanes == 0) {
    valueGroup = std::clamp<int64_t>(registers / 2 / rows, 1, valueVectors);
    while (valueVectors % valueGroup != 0)
      --valueGroup;
  }
  return AttentionTile{rows, chooseDotProductKeyBlock(), lanes, valueGroup};
}

int64_t TargetDesc::chooseDotProductKeyBlock() const {
  return 16 * (vectorBits / 32);
}

MicroKernelShape TargetDesc::chooseFloatMatmulTile(int64_t m,
                                                   int64_t n) const {
  const int64_t lanes = vectorBits / 32;
  const int64_t registers = vectorRegisters;
  const int64_t columnVectors = std::max<int64_t>(1, (n + lanes - 1) / lanes);
  int64_t vectors = std::min<int64_t>(registers >= 32 ? 3 : 2, columnVectors);
  int64_t rows = std::clamp<int64_t>((registers - vectors - 1) / vectors, 1, 8);
  rows = std::min(rows, std::max<int64_t>(m, 1));
  if (rows < 4) {
    // Few rows: widen the tile to about 8 accumulators (one row reads its
    // weights as FMA memory operands; more rows hold them in registers).
    while (vectors < 8 && vectors < columnVectors && rows * vectors < 8 &&
           rows * (vectors + 1) + (rows > 1 ? vectors + 1 : 0) + 1 <=
               registers)
      ++vectors;
  }
  return MicroKernelShape{rows, vectors, 1};
}

int64_t TargetDesc::chooseFloatRowBlock(int64_t m, int64_t n, int64_t k,
                                        const MicroKernelShape &tile,
                                        bool allowBlocks) const {
  const int64_t lanes = vectorBits / 32;
  const int64_t nr = tile.vectors * lanes;
  const int64_t panels = (n + nr - 1) / nr;
  const uint64_t half = l2Bytes / 2;
  int64_t blocks = 1;
  if (static_cast<uint64_t>(m * k * 4) > half)
    blocks = static_cast<int64_t>((m * k * 4 + half - 1) / half);
  if (allowBlocks && panels < 8)
    blocks = std::max<int64_t>(blocks, (8 + panels - 1) / panels);
  int64_t rows = (m + blocks - 1) / blocks;
  rows = (rows + tile.rows - 1) / tile.rows * tile.rows;
  return std::min(rows, m);
}

AttentionTile TargetDesc::chooseAttentionTile(int64_t s, int64_t dv) const {
  const int64_t lanes = vectorBits / 32;
  const int64_t valueVectors = std::max<int64_t>(1, (dv + lanes - 1) / lanes);
  const int64_t registers = vectorRegisters;
  // The row maximum, the exponentials' reductions and the rescale of the
  // output accumulators are paid once per key block: a block of
  // registers / 8 vectors (64 keys on AVX-512, 16 on AVX2) makes them small
  // next to its 2 * keys * (D + Dv) / lanes FMAs per row.
  int64_t keyVectors = std::max<int64_t>(1, registers / 8);
  // Q K^T: the block's scores (rows * keyVectors) take half the register
  // file; the rest holds the row of K^T and the broadcasts, and LLVM keeps
  // the output accumulators on the stack around that loop (zmm, Zen 4,
  // S = 128, D = 64: 4 rows 0.351 ms, 3 rows 0.38 ms, 6 rows 0.45 ms).
  // P * V: rows * valueVectors accumulators, one value row and one
  // broadcast per row stay in registers.
  int64_t rows = std::min(registers / 2 / keyVectors,
                          (registers - valueVectors) / (valueVectors + 1));
  rows = std::clamp<int64_t>(rows, 1, 16);
  // Q K^T's scores are rows * keyVectors independent FMA chains; fewer than
  // about 8 (two FMA pipes, 4 cycles of latency) wait on the latency. On
  // AVX2 with D = 64 (8 ymm of value accumulators per row, 16 registers)
  // the P * V bound above leaves one row of two vectors: 2 chains. There the
  // tile takes 2 rows and as many key vectors as make 8 chains, within half
  // the register file (Zen 3, S = T = 128, 12 heads, 1 thread, P * V's
  // accumulators in registers: 1 x 2 2.00 ms, 1 x 8 1.30, 2 x 4 1.01,
  // 2 x 3 1.26, 2 x 5 1.27, 3 x 4 1.32, 4 x 2 1.46; 2 x 4 with P * V in
  // passes, below: 0.90). Measured on 16 registers only: the AVX-512
  // tiles (which make 8 chains but for Dv >= 256) keep the rule above.
  // Dv = 128 on AVX2, with passes: 1 x 2 3.57 ms, 2 x 4 1.57 ms.
  constexpr int64_t fmaChains = 8;
  // P * V in one pass keeps rows * valueVectors accumulators, a value row
  // and a broadcast per row live across the block's keys; where they do not
  // fit (16 ymm with Dv = 64: 16 + 8 + 2), LLVM spills accumulators and
  // each key's FMAs wait on a reload of the one before. In passes of as
  // many vectors as fill half the register file (2 rows x 4), each pass's
  // accumulators stay in registers and the running ones are touched once
  // per block. The passes are one loop of equal passes: the group divides
  // the value vectors, all of full width. A pass of fewer than fmaChains
  // accumulators would wait on the FMA latency: then one pass, spills and
  // all.
  auto valueGroupFor = [&](int64_t rows) -> int64_t {
    if (rows * valueVectors + valueVectors + rows <= registers ||
        dv % lanes != 0)
      return valueVectors;
    int64_t group = std::clamp<int64_t>(registers / 2 / rows, 1, valueVectors);
    while (valueVectors % group != 0)
      --group;
    return rows * group >= fmaChains ? group : valueVectors;
  };
  if (rows * keyVectors < fmaChains && s > 1 && registers <= 16 &&
      (2 * valueVectors <= registers ||
       valueGroupFor(std::max<int64_t>(rows, 2)) < valueVectors)) {
    rows = std::max<int64_t>(rows, 2);
    keyVectors = std::clamp<int64_t>((fmaChains + rows - 1) / rows, keyVectors,
                                     std::max<int64_t>(keyVectors,
                                                       registers / 2 / rows));
  }
  // Where P * V must run in passes on 16 registers (2 rows of Dv >= 64 do
  // not fit with their operands), 4 rows x 2 key vectors instead of 2 x 4,
  // in passes of 2 value vectors: the same 8 chains in both products, but
  // each K^T and V vector loaded feeds 4 FMAs instead of 2. A head's K^T
  // and V (64 KB at T = 128, D = 64) do not stay in Zen 3's 32 KB L1, and 2
  // rows' products streamed them from L2 at about 70-75% of the FMA peak.
  // Zen 3, 1 thread, 12 heads, S = T = 128 (with the lane-wise softmax of
  // Attention.cpp): D = 64 0.90 -> 0.78 ms, causal 0.52 -> 0.46; D = 128
  // 1.39 -> 1.35, causal 1.00 -> 0.83; D = 80 (whose 10 vectors made no
  // pass of 8 chains at 2 rows: one pass, spilled) 2.25 -> 0.91.
  if (registers <= 16 && s >= 4 && dv % lanes == 0 && valueVectors % 2 == 0 &&
      2 * valueVectors + valueVectors + 2 > registers) {
    rows = 4;
    keyVectors = 2;
  }
  rows = std::max<int64_t>(1, std::min(rows, s));
  const int64_t valueGroup = valueGroupFor(rows);
  return AttentionTile{rows, keyVectors * lanes, lanes, valueGroup};
}

FailureOr<TargetDesc> mlir::qlow::lookupKernelPassTarget(Operation *root,
                                                         StringRef pass,
                                                         StringRef arch,
                                                         StringRef cpu) {
  std::string error;
  FailureOr<TargetDesc> desc = lookupTargetDesc(arch, cpu, &error);
  if (failed(desc)) {
    root->emitError() << error;
    return failure();
  }
  if (desc->arch != arch) {
    root->emitError() << pass << " needs an " << arch << " CPU; '"
                      << desc->name << "' is " << desc->arch;
    return failure();
  }
  return desc;
}

//===----------------------------------------------------------------------===//
// SVE int8 kernels
//===----------------------------------------------------------------------===//

double TargetDesc::sveInt8Instructions(const MicroKernelShape &tile,
                                       int64_t m, int64_t n, int64_t k) const {
  // Registers of a step load in groups of 4 (ld4w), the rest in one ld3w,
  // ld2w or ldr.
  auto loads = [](int64_t registers) {
    return static_cast<double>(registers / 4 + (registers % 4 != 0));
  };
  const int64_t vectors = std::min(tile.vectors, (n + 3) / 4);
  const int64_t colPairs = 2 * vectors;
  const int64_t panels = (n + 4 * vectors - 1) / (4 * vectors);
  const int64_t pairs = tile.rows / 2;
  const double steps = static_cast<double>((k + tile.kStep - 1) / tile.kStep);
  // Per tile: about 16 of pointers and loop entry; per accumulator its
  // start and the reduction of its two segments (extract, add: 3); per row
  // vector a shuffle and a store (2.5); per iteration of 4 steps two
  // address adds, a counter and a branch.
  // A last tile of one or two row pairs loads 4 / pairs steps of them at
  // once (its registers packed by groups of steps): pairs / 4 loads per step.
  auto rowTile = [&](int64_t tilePairs, int64_t rows) {
    const double rowLoads = tilePairs <= 2 && rows < tile.rows
                                ? static_cast<double>(tilePairs) / 4.0
                                : loads(tilePairs);
    double perStep = static_cast<double>(tilePairs * colPairs) + rowLoads +
                     loads(colPairs) + 1.0;
    return steps * perStep + 16.0 +
           3.0 * static_cast<double>(tilePairs * colPairs) +
           2.5 * static_cast<double>(rows * vectors);
  };
  const int64_t full = m / tile.rows, rest = m % tile.rows;
  double perPanel = static_cast<double>(full) * rowTile(pairs, tile.rows);
  if (rest != 0)
    perPanel += rowTile((rest + 1) / 2, rest);
  // The packing: per row pair and step, two 16-byte reads, their shuffle
  // and a store (the interleaving store of a group: about 5).
  const double packedPairs =
      static_cast<double>((m + tile.rows - 1) / tile.rows * pairs);
  return static_cast<double>(panels) * perPanel + 5.0 * packedPairs * steps;
}

MicroKernelShape TargetDesc::chooseSveInt8Tile(int64_t m, int64_t n,
                                               int64_t k) const {
  MicroKernelShape best = sveInt8Tiles.front();
  double fewest = std::numeric_limits<double>::infinity();
  for (const MicroKernelShape &tile : sveInt8Tiles) {
    double count = sveInt8Instructions(tile, m, n, k);
    if (count < fewest) {
      fewest = count;
      best = tile;
    }
  }
  return best;
}
