//===- OneDnnMatmul.h - the oneDNN peer of qlow-bench -----------*- C++ -*-===//
//
// oneDNN 2.6 (Debian libdnnl-dev) int8 matmuls on the same inputs qlow runs.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_BENCH_ONEDNNMATMUL_H
#define QLOW_BENCH_ONEDNNMATMUL_H

#include <cstdint>
#include <memory>
#include <vector>

namespace qlow::bench {

/// One oneDNN int8 matmul primitive with its memory, ready to execute:
/// u8 [M, K] x s8 [K, N] -> s32, or -> s8 with an s32 bias and per-channel
/// output scales (requantization).
class OneDnnMatmul {
public:
  /// `a` and `w` are copied; `scales` (per output channel) and `bias` are used
  /// only when `requantize` is set. With `hugePages` oneDNN's reordered
  /// weights live in a buffer of whole 2 MB pages (madvise, as qlow's JIT
  /// gives its packed weights), else on 4 KB pages.
  OneDnnMatmul(int64_t m, int64_t k, int64_t n, const std::vector<uint8_t> &a,
               const std::vector<int8_t> &w, bool requantize,
               const std::vector<int32_t> &bias,
               const std::vector<float> &scales, bool hugePages);
  ~OneDnnMatmul();
  /// Runs the primitive once (blocking).
  void run();
  /// Writes `a` (M * K bytes) into the primitive's activations again and
  /// zeroes its output, as qlow's CompiledModule::call writes its input and
  /// allocates a zeroed output before each call: the alternating timing
  /// gives both libraries the same cache state.
  void writeInput(const std::vector<uint8_t> &a);
  /// "2m" or "4k": the pages the reordered weights are on (smaps).
  const char *weightPages() const;
  /// The s32 or s8 result of the last run, widened to int32.
  std::vector<int32_t> result() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// oneDNN's f32 matmul (its sgemm kernels), weights reordered once into
/// oneDNN's layout (format_tag::any), as qlow packs constant f32 weights at
/// compile time.
class OneDnnFloatMatmul {
public:
  OneDnnFloatMatmul(int64_t m, int64_t k, int64_t n,
                    const std::vector<float> &a, const std::vector<float> &w);
  ~OneDnnFloatMatmul();
  void run();
  std::vector<float> result() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace qlow::bench

#endif // QLOW_BENCH_ONEDNNMATMUL_H
