//===- Statistics.h - statistics of observed tensors ------------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Accumulates, over many calibration batches, the statistics that range
// selection (Methods.h) needs for one observed tensor: the minimum and maximum
// and, for the histogram methods, a histogram with a fixed number of bins, for
// the whole tensor and optionally for each channel along one axis.
//
// Two passes. Pass 1 (observeRange) sees every batch and records min/max.
// Pass 2 (observeHistogram) sees the same batches again and bins every value
// into a histogram whose range is exactly pass 1's: [0, max|x|] (Absolute,
// TensorRT's layout) or [min, max] (Signed). No histogram is ever re-binned,
// so the result is the exact histogram of all the values, and it does not
// depend on the order of the batches. Min/max-only calibration needs pass 1
// alone. docs/Calibration.md describes the algorithms in full.
//
// Plain C++ on lib/Reference (no MLIR); every function is deterministic.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_CALIBRATION_STATISTICS_H
#define QLOW_CALIBRATION_STATISTICS_H

#include "qlow/Reference/Status.h"
#include "qlow/Reference/Types.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace qlow::calib {

//===----------------------------------------------------------------------===//
// Histogram
//===----------------------------------------------------------------------===//

/// What a histogram bins.
enum class HistogramKind {
  /// No histogram: min/max only (one pass).
  None,
  /// |x| over [0, max|x|] (TensorRT's layout: symmetric methods, entropy).
  Absolute,
  /// x over [min, max] (asymmetric percentile and MSE).
  Signed,
};

/// "none", "absolute" or "signed".
const char *histogramKindName(HistogramKind kind);

/// Counts of values in `counts.size()` equal bins over [lo, hi]. Bin k holds
/// the values v with k = floor((v - lo) / (hi - lo) * n), computed in double,
/// the top edge (v == hi) going to bin n - 1. When lo == hi every value is in
/// bin 0 and every edge is lo.
struct Histogram {
  HistogramKind kind = HistogramKind::None;
  double lo = 0.0;
  double hi = 0.0;
  std::vector<uint64_t> counts;

  size_t numBins() const { return counts.size(); }
  /// (hi - lo) / n.
  double binWidth() const;
  /// The lower edge of bin i: lo + (hi - lo) * (i / n); edge(n) == hi exactly.
  double edge(size_t i) const;
  /// The bin that `v` (within [lo, hi]) falls into, as described above.
  size_t binOf(double v) const;
  /// The sum of the counts.
  uint64_t total() const;
};

//===----------------------------------------------------------------------===//
// ValueStats and TensorObserver
//===----------------------------------------------------------------------===//

/// Statistics of one set of values: a whole tensor, or one channel of it.
/// NaN and infinities are counted in `nonFinite` and otherwise skipped.
struct ValueStats {
  /// Finite values seen in pass 1.
  int64_t count = 0;
  /// NaN and +-inf values seen in pass 1 (skipped everywhere).
  int64_t nonFinite = 0;
  /// Smallest and largest finite value; meaningful when count > 0.
  float min = 0.0f;
  float max = 0.0f;
  /// Filled by pass 2 when the observer was asked for a histogram.
  Histogram histogram;

  /// max(|min|, |max|), or 0 when nothing was seen.
  float absMax() const;
};

/// What a TensorObserver collects.
struct ObserverOptions {
  /// Per-channel statistics along this axis as well as per tensor (a negative
  /// axis counts from the end). Unset: per tensor only.
  std::optional<int64_t> channelAxis;
  /// The histogram pass 2 builds (None: pass 1 only).
  HistogramKind histogram = HistogramKind::None;
  /// Bins of each histogram (TensorRT and ONNX Runtime use 2048).
  int64_t numBins = 2048;
};

/// Accumulates the statistics of one observed tensor over calibration
/// batches, per tensor and, when asked, per channel.
///
/// Usage: observeRange on every batch; then, if needsHistogramPass(),
/// startHistogramPass, observeHistogram on the same batches (in any order),
/// finishHistogramPass. Errors (a tensor that is not f32 or quantized, a
/// channel axis the tensor lacks, a channel count that changes between
/// batches, calls out of order, a second pass that sees other values than the
/// first) leave the observer unusable and are reported as Status messages.
class TensorObserver {
public:
  explicit TensorObserver(ObserverOptions options = {});

  const ObserverOptions &options() const { return opts; }

  /// Pass 1: folds `tensor` (Float, or Quant dequantized) into min/max.
  ref::Status observeRange(const ref::Tensor &tensor);
  /// Whether pass 2 is needed (a histogram was asked for).
  bool needsHistogramPass() const {
    return opts.histogram != HistogramKind::None;
  }
  /// Ends pass 1: fixes every histogram's range to the range pass 1 saw.
  ref::Status startHistogramPass();
  /// Pass 2: bins every finite value of `tensor`.
  ref::Status observeHistogram(const ref::Tensor &tensor);
  /// Ends pass 2: checks that it binned exactly the values pass 1 counted.
  ref::Status finishHistogramPass();

  /// Statistics of the whole tensor.
  const ValueStats &tensorStats() const { return whole; }
  /// Statistics of each channel (empty unless options().channelAxis).
  const std::vector<ValueStats> &channelStats() const { return channels; }
  /// The channel axis, made non-negative (-1 before the first tensor or
  /// without per-channel statistics).
  int64_t resolvedChannelAxis() const { return axis; }
  /// The shape of the first tensor observed.
  const std::vector<int64_t> &shape() const { return firstShape; }
  /// Tensors observed in pass 1.
  int64_t numObserved() const { return observed; }

private:
  enum class Phase { Range, Histogram, Done, Failed };

  /// The f32 values of `tensor` and its channel layout (outer, channels,
  /// inner), checking it against what came before.
  ref::Status prepare(const ref::Tensor &tensor, std::vector<float> &storage,
                      const float *&values, int64_t &outer, int64_t &numCh,
                      int64_t &inner);
  ref::Status fail(ref::Status status);

  ObserverOptions opts;
  Phase phase = Phase::Range;
  ValueStats whole;
  std::vector<ValueStats> channels;
  int64_t axis = -1;
  std::vector<int64_t> firstShape;
  int64_t observed = 0;
};

} // namespace qlow::calib

#endif // QLOW_CALIBRATION_STATISTICS_H
