//===- OnnxBench.h - qlow-bench onnx ----------------------------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// ONNX models compiled by qlow, timed next to ONNX Runtime and IREE running
// the same models on the same inputs.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_BENCH_ONNXBENCH_H
#define QLOW_BENCH_ONNXBENCH_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qlow::bench {

/// The models, peers and sizes to measure (defaults: issue #6's).
struct OnnxBenchOptions {
  /// encoder_qdq (quantize_static), decoder_dynamic (quantize_dynamic),
  /// mlp_int4 (MatMulNBits), mlp_int4_qdq (blocked DequantizeLinear),
  /// mlp_int8 (MatMulNBits, 8 bits) and encoder_float_qlow (float;
  /// qlow-quantize).
  std::vector<std::string> models = {"encoder_qdq", "decoder_dynamic",
                                     "mlp_int4", "mlp_int4_qdq", "mlp_int8",
                                     "encoder_float_qlow"};
  /// onnxruntime and iree.
  std::vector<std::string> peers = {"onnxruntime", "iree"};
  std::vector<int> threads = {1, 2};
  int64_t seq = 128;
  int64_t dModel = 768;
  int64_t heads = 12;
  int64_t encoderFfn = 3072;
  int64_t decoderFfn = 2048;
  /// Timed calls per measurement, after one warm-up call; the median counts,
  /// for qlow and the peers alike.
  unsigned repeat = 20;
  /// Where the models, inputs, peers' outputs and logs go (default: a fresh
  /// temporary directory, removed at the end).
  std::string workDir;
  /// The Python that runs bench/onnx_peers.py (default: python3 on PATH).
  std::string python;
  /// The peers' outputs must agree with qlow's: cosine similarity of every
  /// output at least this. Unset: 0.999, and 0.99 for encoder12_qdq (see
  /// defaultMinCosine in OnnxBench.cpp).
  std::optional<double> minCosine;
};

/// Builds the models (bench/onnx_peers.py, with the ONNX tests' generators),
/// compiles and times each with qlow, runs the peers, checks that their
/// outputs agree with qlow's, and prints per model, thread count and peer
/// `model=<m> threads=<t> qlow_ms=<x> peer=<p> peer_ms=<y> ratio=<y/x>`, or
/// `model=<m> threads=<t> peer=<p> status=unsupported reason="..."` where
/// the peer cannot compile or run the model. Returns the exit code: 1 if
/// qlow fails on a model or a peer's output disagrees with qlow's.
int runOnnxBench(const OnnxBenchOptions &options);

} // namespace qlow::bench

#endif // QLOW_BENCH_ONNXBENCH_H
