//===- LayerBench.h - qlow-bench layer --------------------------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Whole transformer layers compiled by qlow, timed as a whole and kernel by
// kernel, next to oneDNN's int8 matmuls of the same shapes.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_BENCH_LAYERBENCH_H
#define QLOW_BENCH_LAYERBENCH_H

#include <cstdint>
#include <string>
#include <vector>

namespace qlow::bench {

/// The layers to time and their sizes (defaults: issue #5's).
struct LayerBenchOptions {
  /// "encoder", "decoder" (prefill) and "decode" (one step against a cache).
  std::vector<std::string> layers = {"encoder", "decoder", "decode"};
  int64_t seq = 128;
  int64_t cache = 512;
  int64_t dModel = 768;
  int64_t heads = 12;
  int64_t kvHeads = 12;
  int64_t encoderFfn = 3072;
  int64_t decoderFfn = 2048;
  std::vector<int> threads = {1, 2};
  /// At least this many calls per timed batch, and enough for 20 ms (the
  /// best of three batches counts).
  unsigned repeat = 20;
  /// With a key block N > 0, attention is int8 (`{int8, key_block = N}`, q
  /// and k i8, v u8 per tensor; the decode caches hold stored bytes).
  int64_t int8AttentionKeyBlock = 0;
  /// The attention modes to time each layer with, in order: "f32" and
  /// "int8" (key block int8AttentionKeyBlock, 64 when that is 0). Empty:
  /// the one int8AttentionKeyBlock chooses.
  std::vector<std::string> attentionModes;
  /// When not empty, each layer's qlow IR is also written to
  /// `<dir>/<layer>_<f32|int8>.mlir` (function @layer), for qlow-run,
  /// qlow-opt or perf on the layer alone.
  std::string writeLayersDir;
  /// Bits of the i8 weights (the layers' and oneDNN's): 8, or 7 ([-63, 63]
  /// per channel in the layers, [-64, 63] for oneDNN) as ONNX Runtime's
  /// reduce_range, for CPUs without VNNI, where oneDNN's u8 x s8 kernels
  /// saturate full-range weights (qlow-bench's --weight-bits).
  unsigned weightBits = 8;
};

/// Builds, checks and times the layers; prints one `kernel ...` line per
/// kernel and one `layer=... threads=... total_ms=... matmul_ms=...
/// other_share=... onednn_matmul_ms=...` line per layer and thread count.
/// Returns the process exit code.
int runLayerBench(const LayerBenchOptions &options);

} // namespace qlow::bench

#endif // QLOW_BENCH_LAYERBENCH_H
