//===- TargetDesc.h - what codegen knows about a target ---------*- C++ -*-===//
//
// A target is data: ISA features, vector width, register count, cache sizes
// and micro-kernel shapes. Codegen passes read these numbers instead of
// holding tile sizes of their own; adding a CPU means adding an entry here.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_TARGETDESC_H
#define QLOW_TARGET_TARGETDESC_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/LogicalResult.h"

#include <cstdint>
#include <string>

namespace llvm::cl {
class Option;
} // namespace llvm::cl

namespace mlir::qlow {

/// The int8 dot-product instruction family a CPU target has, best first.
enum class Int8DotKind {
  /// vpdpbusd on zmm (AVX-512 VNNI): u8 x s8, 4 products per i32 lane.
  Avx512Vnni,
  /// vpdpbusd on ymm (AVX-VNNI).
  AvxVnni,
  /// vpmaddubsw + vpmaddwd (AVX2).
  Avx2,
  /// AArch64 dotprod `sdot`: s8 x s8, 4 products per i32 lane, on 128-bit
  /// NEON registers (u8 activations are shifted to s8).
  NeonSdot,
  /// AArch64 i8mm `smmla`/`usmmla`: a 2x8 by 8x2 block of s8 (or u8 x s8)
  /// products into a 2x2 block of i32 per instruction (32 MACs).
  NeonI8mm,
  /// No int8 dot product: scalar/auto-vectorized loops.
  None,
};

/// The register tile of an int8 matmul micro-kernel: `rows` rows of the lhs
/// times `vectors` vector registers of output columns, `kStep` reduction
/// elements per instruction (4 for the dot-4 family).
struct MicroKernelShape {
  int64_t rows;
  int64_t vectors;
  int64_t kStep;
};

/// The tile of the flash-attention kernel (qlow-x86-attention).
struct AttentionTile {
  /// Query rows per work item (one scf.forall iteration), whose output
  /// accumulators stay in registers across all key blocks.
  int64_t queryRows;
  /// Keys per block (a multiple of valueLanes): the scores of one row for a
  /// block are keyBlock / valueLanes vectors, and the row maximum and the
  /// rescale of the output accumulators are paid once per block.
  int64_t keyBlock;
  /// f32 lanes per vector of output (value) columns.
  int64_t valueLanes;
  /// Vectors of value columns per pass of P * V over a key block. When a
  /// row's accumulators, a value row and the broadcasts do not fit the
  /// register file, P * V walks the block's keys once per group of this
  /// many vectors, into accumulators of its own that are added to the
  /// (rescaled) running ones after the block; else all of them (one pass).
  /// A group divides the number of value vectors, which are then all full.
  int64_t valueGroup;
};

/// Everything codegen needs to know about a CPU target.
struct TargetDesc {
  /// Registry key: "<arch>-<cpu>", e.g. "x86_64-znver4", "aarch64-neoverse-n1".
  std::string name;
  /// Architecture: "x86_64" or "aarch64".
  std::string arch;
  std::string triple;
  std::string cpu;
  /// LLVM feature string for the TargetMachine ("+avx512vnni,...").
  std::string features;
  /// Width of the vector registers the kernels use, in bits.
  unsigned vectorBits = 128;
  /// Number of architectural vector registers.
  unsigned vectorRegisters = 16;
  uint64_t l1Bytes = 32 * 1024;
  uint64_t l2Bytes = 1024 * 1024;
  uint64_t l3Bytes = 32 * 1024 * 1024;
  Int8DotKind int8Dot = Int8DotKind::None;
  /// AVX-512 VBMI (x86): byte permutes across a whole zmm (vpermb,
  /// vpermi2b), so a 256-byte table is four registers and a lookup of 64
  /// byte indices two vpermi2b and a blend instead of four gathers. Read from
  /// LLVM's description of the CPU (or the host's features), never from its
  /// name; when set, `features` has "+avx512vbmi".
  bool avx512Vbmi = false;
  /// Candidate register tiles of the int8 matmul kernel (each fits the
  /// register file: rows * vectors accumulators + vectors + 1).
  SmallVector<MicroKernelShape> int8Tiles;
  /// Dot-product instructions and vector loads issued per cycle, for the
  /// tile cost model.
  double dotsPerCycle = 1.0;
  double loadsPerCycle = 2.0;

  /// AArch64 i8mm (smmla) kernels: the tile model counts instructions
  /// instead of issue cycles, since the kernel loads a step's registers in
  /// interleaved groups and pays a per-tile cost that the cycle model does
  /// not see. Zero elsewhere (the cycle model). `int8LoadGroup`: registers
  /// one load instruction fills (ld4: 4 row pairs or column pairs; a tile's
  /// row pairs load in groups of the largest size up to it that divides
  /// them, a partial last tile with its own factor).
  int64_t int8LoadGroup = 0;
  /// Instructions outside the K loop: per register tile (pointers, loop
  /// entry), per accumulator register (zeroing) and per row vector of the
  /// result (the shuffle back from 2x2 blocks to rows, the store); and the
  /// loop's counter and branch per step of K.
  double int8TileOverhead = 0.0;
  double int8AccumulatorOverhead = 0.0;
  double int8RowVectorOverhead = 0.0;
  double int8LoopOverheadPerStep = 0.0;
  /// Instructions to pack one row pair x kStep bytes of the activations at
  /// run time (rows padded to whole load groups are packed too).
  double int8PackOverheadPerPairStep = 0.0;
  /// AArch64 dotprod (sdot) kernels: the tile model counts instructions too
  /// (sdot by element, one ldp per row and 8 steps, one ldp per two weight
  /// vectors and step, loop control, and per tile the accumulators' start
  /// and stores), rather than issue cycles, which favoured tiles with more
  /// loads per sdot (2 x 8 at M = 33: 0.75 of the sdot ideal).
  bool int8SdotInstructions = false;

  /// SVE (Arm's Scalable Vector Extension) with i8mm, at a fixed vector
  /// length: the width in bits that this CPU's SVE kernels are compiled for
  /// (LLVM's `vscale_range(bits / 128, bits / 128)` on every function of the
  /// variant), 0 where the target has no SVE kernels. Such a variant runs
  /// only where the vector length is exactly this (the run-time dispatch
  /// reads it); the NEON fields above still describe the CPU's NEON kernels
  /// (a one-row or int4 matmul, and what the SVE kernel does not take).
  unsigned sveVectorBits = 0;
  /// Candidate register tiles of the SVE int8 matmul kernel
  /// (qlow-aarch64-sve-int8-matmul): `rows` rows (pairs of rows, one
  /// register per pair and step) x `vectors` output vectors of 4 columns (2
  /// column pairs each, one register per pair and step), `kStep` bytes of K
  /// per smmla (8 per 128-bit segment: 16 at 256 bits, the two segments
  /// holding consecutive steps of K).
  SmallVector<MicroKernelShape> sveInt8Tiles;

  bool isX86() const { return arch == "x86_64"; }
  /// vpdpbusd on zmm or ymm (AVX-512 VNNI, AVX-VNNI).
  bool hasVnni() const {
    return int8Dot == Int8DotKind::Avx512Vnni ||
           int8Dot == Int8DotKind::AvxVnni;
  }
  /// An x86 int8 dot product: vpdpbusd, or AVX2's vpmaddubsw/vpmaddwd (whose
  /// family is 256 bits wide: ymm only).
  bool hasX86Int8Dot() const {
    return hasVnni() || int8Dot == Int8DotKind::Avx2;
  }
  bool isAArch64() const { return arch == "aarch64"; }

  /// i32 lanes per vector register.
  int64_t i32Lanes() const { return vectorBits / 32; }

  /// Bytes per cycle one core reads from L2 into registers (sustained).
  double l2BytesPerCycle = 32.0;

  /// Software prefetch of the x86 int4 weight-only kernel's packed weights
  /// when each weight byte is read once (one row block: the decode case,
  /// M = 1, where the kernel streams its weights from DRAM): one prefetch
  /// per 64-byte line, `int4PrefetchBytes` ahead of the step's loads along
  /// the contiguous weight stream (0: none), with LLVM's locality hint
  /// `int4PrefetchLocality` (0: prefetchnta ... 3: prefetcht0). The kernel
  /// issues about 4.5 vector instructions per 64 bytes whose results wait
  /// on the load, so the out-of-order window reaches far fewer lines ahead
  /// than a plain streaming read does, and the hardware prefetchers stop at
  /// each 4 KB page.
  int64_t int4PrefetchBytes = 0;
  unsigned int4PrefetchLocality = 0;

  /// LLVM code-generator options ("name=value", as llc spells them without
  /// the dashes) that this target's kernels need, set while its machine code
  /// is generated (ScopedLLVMOptions).
  SmallVector<std::string> llvmOptions;

  /// The least work per thread, in bytes that a loop nest's ops read and
  /// write, for which the loop nests outside the kernels (elementwise ops,
  /// normalizations, quantizes, transposes, rope: qlow-vectorize-elementwise)
  /// get an OpenMP parallel region; below it the nest stays on the calling
  /// thread. A fork and join of two threads costs 0.3-1 us (an empty region,
  /// barrier included) and these loops move 5-10 bytes per ns on one thread.
  /// Measured on the 2-vCPU Zen 5 (qlow-run --threads 2, minimum of 2000,
  /// forced parallel against forced serial, load 4-6): an f32 add of two
  /// [R, 768] inputs breaks even at R = 40-48 (370-440 KB in all), an
  /// rms_norm with its quantize at R = 16-32 (210-420 KB). 128 KiB per thread
  /// keeps every [128, 768] op of the encoder and prefill layers parallel
  /// (the smallest, a quantize of [128, 768] f32 to bytes, moves 491 KB;
  /// 256 KiB would make it serial) and every op of a decode step (at most a
  /// few [1, 2048] rows, under 40 KB) serial. The matmul and attention
  /// kernels are always parallel.
  int64_t parallelMinBytesPerThread = 128 * 1024;

  /// Whether a loop nest outside the kernels whose ops read and write
  /// `bytes` in all gets a parallel region (an scf.forall that becomes
  /// omp.parallel) rather than an scf.for on the calling thread: when two
  /// threads, the fewest that share a region, would each get at least
  /// parallelMinBytesPerThread. (The thread count is the OpenMP runtime's,
  /// chosen at run time; a region with more threads gives each less.)
  bool worthParallelRegion(int64_t bytes) const {
    return bytes >= 2 * parallelMinBytesPerThread;
  }

  /// The register tile for an M x N x K int8 matmul: the candidate with the
  /// fewest estimated cycles per step of K, counting the padded rows and
  /// columns each tile computes. A tile's cost per step is the largest of
  /// its dot-product issue time, its load issue time and, when its packed
  /// weight panel (K x columns bytes) does not fit L1, the time to stream
  /// the step's weights from L2. Ties go to the earlier candidate. With
  /// `int8LoadGroup` set (i8mm), the cost is the instructions the kernel
  /// executes instead: smmla and grouped loads per step of whole tiles and
  /// of the partial last row tile, the per-tile overheads and the packing
  /// of the padded activations.
  /// `weightBytes` is the size of one packed weight element: 1 for the
  /// byte forms, 2 for AVX2's wide form, whose weights are packed as i16 and
  /// whose panels so stream twice the bytes per step of K.
  MicroKernelShape chooseInt8Tile(int64_t m, int64_t n, int64_t k,
                                  int64_t weightBytes = 1) const;

  /// The register tile of the SVE int8 kernel for an M x N x K matmul: the
  /// candidate of `sveInt8Tiles` whose kernel executes the fewest
  /// instructions (sveInt8Instructions). Ties go to the earlier candidate.
  MicroKernelShape chooseSveInt8Tile(int64_t m, int64_t n, int64_t k) const;

  /// Instructions the SVE int8 kernel with register tile `tile` executes for
  /// an M x N x K matmul, as chooseSveInt8Tile counts them: per step of
  /// `kStep` bytes, one smmla per row pair and column pair of each tile and
  /// one load per group of up to 4 registers (ld4w, ld3w, ld2w, ldr; a
  /// last tile of one or two row pairs loads 4 / pairs steps at once); per
  /// iteration of 4 steps, an address add per stream, a counter and a
  /// branch; per tile, its pointers and loop entry, the accumulators' start
  /// and reduction (the two segments' sums added) and the row vectors'
  /// shuffles and stores; and the run-time packing of the activations.
  double sveInt8Instructions(const MicroKernelShape &tile, int64_t m,
                             int64_t n, int64_t k) const;

  /// Whether the int8 kernel with register tile `tile` computes the rows past
  /// M's whole tiles as part of the last whole tile (one tile of tile.rows +
  /// M % tile.rows rows) rather than as a tile of their own: i8mm, when the
  /// larger tile's accumulators, row pairs and column pairs still fit the
  /// register file with three to spare. A tail of one row pair would
  /// otherwise load the whole weight step for 4 smmla (half of them on a
  /// padding row); merged, it adds one load to the last tile's 2.
  bool mergesInt8RowRest(int64_t m, int64_t n,
                         const MicroKernelShape &tile) const;

  /// Rows per cache block of the int8 matmul kernel with register tile
  /// `tile`, or `m` for one block. When the packed weight panel (K x columns
  /// bytes) fits L1 but the activations (m x k bytes) exceed half of L2, the
  /// rows are cut into the fewest equal blocks (a multiple of `tile.rows`
  /// rows each) whose activations fit half of L2: each block then stays in
  /// L2 while every panel passes over it, and the blocks are also work items
  /// for the threads.
  int64_t chooseInt8RowBlock(int64_t m, int64_t n, int64_t k,
                             const MicroKernelShape &tile) const;

  /// The register tile of the f32 matmul kernel (qlow-float-matmul) for M
  /// rows and N columns: `vectors` f32 vectors of columns (2 with 16
  /// registers, 3 with 32; fewer when N is narrower) and as many rows (at
  /// most 8 and M) as fit the registers beside them: rows * vectors
  /// accumulators, the step's weight vectors and a broadcast. A tile of
  /// fewer than 4 rows (M < 4) takes more vectors instead, up to 8 (one row:
  /// the weights are FMA memory operands), so that the K loop still has
  /// about 8 independent FMA chains. `kStep` is 1.
  MicroKernelShape chooseFloatMatmulTile(int64_t m, int64_t n) const;

  /// Rows per block of the f32 matmul kernel: `m` (one block) unless the
  /// activations (m x k x 4 bytes) exceed half of L2, then the fewest equal
  /// blocks (multiples of tile.rows) that fit; and with `allowBlocks`, at
  /// least enough blocks for 8 work items when the column panels are fewer.
  int64_t chooseFloatRowBlock(int64_t m, int64_t n, int64_t k,
                              const MicroKernelShape &tile,
                              bool allowBlocks = true) const;

  /// The attention tile for queries of `s` rows and values of `dv` columns:
  /// key blocks of vectorRegisters / 8 f32 vectors (at least one); as many
  /// query rows (1 to 16, at most `s`) as keep the block's scores in half
  /// of the register file and the P * V step in all of it: rows *
  /// ceil(dv / lanes) accumulators, one value row (ceil(dv / lanes)
  /// vectors) and a broadcast per row.
  AttentionTile chooseAttentionTile(int64_t s, int64_t dv) const;

  /// The tile of a grouped-query decode step whose `group` query heads per
  /// kv head are the rows of one work item (qlow-x86-attention folds them):
  /// rows the largest divisor of `group` up to 4, key blocks of
  /// chooseDotProductKeyBlock() keys (scores as dot products along D, K
  /// read as it is), and P * V in passes of as many value vectors as fill
  /// half the register file (all of them where rows, a value row and the
  /// broadcasts fit). Zen 3, 1 thread, 32 heads, 8 kv heads, 1025 keys,
  /// D = Dv = 128, with key blocks straight-line (rows, keys, vectors per
  /// pass): 2, 32, 4: 0.61 ms; 4, 32, 2: 0.53; 4, 16, 2: 0.49; 4, 8, 2:
  /// 0.45; one head per work item: 0.65.
  AttentionTile chooseFoldedDecodeTile(int64_t group, int64_t dv) const;

  /// Keys per block where an attention kernel's scores are dot products
  /// along D (decode steps, folded or not), whose key blocks are loops over
  /// their keys with the scores in memory: 16 vectors of keys, so that the
  /// block's serial steps (maximum, alpha, rescale) are paid seldom. Zen 3,
  /// 1 thread (keys: ms): 12 heads, 513 keys, D = 64: 16: 0.057, 32: 0.052,
  /// 64: 0.051, 128: 0.0505, 256: 0.051; 32 heads over 8 kv heads, 1025
  /// keys, D = 128: 8: 0.41, 32: 0.37, 128: 0.36, 256: 0.36. (Both read
  /// their K and V from L3 at about 70-80 GB/s by then.)
  int64_t chooseDotProductKeyBlock() const;
};

/// Sets LLVM's command-line options `options` ("name=value") for its
/// lifetime and restores their defaults after; an option the user set on the
/// command line, or that LLVM does not have, is left alone.
class ScopedLLVMOptions {
public:
  explicit ScopedLLVMOptions(ArrayRef<std::string> options);
  ~ScopedLLVMOptions();
  ScopedLLVMOptions(const ScopedLLVMOptions &) = delete;
  ScopedLLVMOptions &operator=(const ScopedLLVMOptions &) = delete;

private:
  SmallVector<llvm::cl::Option *> set;
};

/// Looks up a CPU target by architecture ("x86_64", "aarch64") and LLVM CPU
/// name ("znver4", "sapphirerapids", "alderlake", "haswell", ...;
/// "cortex-a57", "neoverse-n1", "neoverse-n2", ...; "host" asks LLVM for this
/// machine's CPU). A registry key ("aarch64-neoverse-n1", a TargetDesc's
/// `name`) names its architecture itself and is found whatever `arch` says:
/// passes that only take a `cpu` option (and look it up as x86_64) reach
/// every target's description that way. Fails with a message listing the
/// known CPUs.
FailureOr<TargetDesc> lookupTargetDesc(StringRef arch, StringRef cpu,
                                       std::string *errorMessage = nullptr);

/// The description of `cpu` for the kernel pass `pass`, which generates code
/// for `arch` only: an error on `root` (and failure) when the CPU is unknown
/// or of another architecture.
FailureOr<TargetDesc> lookupKernelPassTarget(Operation *root, StringRef pass,
                                             StringRef arch, StringRef cpu);

/// The names of the registered CPU targets of `arch`, for help texts and
/// errors.
std::string listTargetDescs(StringRef arch = "x86_64");

} // namespace mlir::qlow

#endif // QLOW_TARGET_TARGETDESC_H
