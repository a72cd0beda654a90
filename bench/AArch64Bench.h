//===- AArch64Bench.h - qlow-bench aarch64 ----------------------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Instructions per multiply-accumulate of qlow's AArch64 int8 matmul kernels,
// counted under qemu-aarch64 (emulated time means nothing).
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_BENCH_AARCH64BENCH_H
#define QLOW_BENCH_AARCH64BENCH_H

#include <cstdint>
#include <string>
#include <vector>

namespace qlow::bench {

struct AArch64BenchOptions {
  /// (M, K, N) shapes: the x86 matmul benchmark's list (decode M = 1,
  /// prefill and batch shapes), then odd M (a row pair of padding, the rest
  /// of M merged into the last tile) and a short K (8 iterations per tile
  /// against its start and stores).
  std::vector<std::vector<int64_t>> cases = {
      {1, 4096, 4096},    {16, 4096, 4096},    {128, 768, 768},
      {128, 768, 3072},   {128, 3072, 768},    {512, 4096, 4096},
      {1024, 1024, 1024}, {17, 1000, 1000},    {33, 768, 768},
      {16, 256, 256}};
  /// (M, K, N) shapes of int4 weight-only matmuls (groups of `int4Group`
  /// rows, activations quantized per row at run time).
  std::vector<std::vector<int64_t>> int4Cases = {{1, 4096, 4096},
                                                 {16, 4096, 4096}};
  int64_t int4Group = 128;
  /// The weight-only cases' weights: 4 (i4) or 8 (i8 of any range, the
  /// kernel's whole-byte form).
  unsigned weightBits = 4;
  /// qlow-compile CPUs: one with i8mm (smmla) and one with dotprod only
  /// (neoverse-v1: 256-bit SVE smmla, run with that vector length).
  std::vector<std::string> cpus = {"neoverse-n2", "neoverse-n1"};
  /// Where the objects, harnesses and qemu logs go (kept); empty: a
  /// temporary directory, removed afterwards.
  std::string workDir;
  /// Activations: "u8" or "i8".
  std::string activations = "u8";
};

/// For each CPU and shape: compiles an i8 matmul with constant weights for
/// aarch64, links it into a static program with clang-22 and lld, runs it
/// once under `qemu-aarch64 -cpu max -d in_asm,exec,nochain` (with
/// `sve-default-vector-length` set to the length of a CPU's SVE kernels),
/// and counts the
/// guest instructions executed in qlow's functions (the translation blocks'
/// instructions, once per execution). Prints
/// `case=<name> ... insn_per_mac=<x> ideal=<y> ratio=<y/x> dot_share=<d>
/// insns=<n> dots=<k>` per case, where the ideal is one smmla per 32 MACs,
/// one SVE smmla per 64 at 256 bits (`case=sve_smmla_<shape>`) or one sdot
/// per 16, and `dots` the int8 dot products among the instructions.
/// Int4 cases print `case=int4_sdot_<shape>` lines of the same form; their
/// ideal is the sdot inner loop on unpacked nibbles (int4Ideal in the .cpp).
/// Returns the exit code (1 with a message when a tool is missing or a step
/// fails).
int runAArch64Bench(const AArch64BenchOptions &options);

} // namespace qlow::bench

#endif // QLOW_BENCH_AARCH64BENCH_H
