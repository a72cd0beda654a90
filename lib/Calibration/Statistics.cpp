//===- Statistics.cpp - calibration statistics of observed tensors --------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Min/max and exact histograms of observed tensors, in two passes over the
// calibration batches (see Statistics.h and docs/Calibration.md).
//
//===----------------------------------------------------------------------===//

#include "qlow/Calibration/Statistics.h"

#include "qlow/Reference/Ops.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

using namespace qlow;
using namespace qlow::calib;

//===----------------------------------------------------------------------===//
// Histogram
//===----------------------------------------------------------------------===//

const char *calib::histogramKindName(HistogramKind kind) {
  switch (kind) {
  case HistogramKind::None:
    return "none";
  case HistogramKind::Absolute:
    return "absolute";
  case HistogramKind::Signed:
    return "signed";
  }
  return "none";
}

double Histogram::binWidth() const {
  return counts.empty() ? 0.0 : (hi - lo) / static_cast<double>(counts.size());
}

double Histogram::edge(size_t i) const {
  size_t n = counts.size();
  if (n == 0 || i >= n)
    return hi;
  return lo + (hi - lo) * (static_cast<double>(i) / static_cast<double>(n));
}

size_t Histogram::binOf(double v) const {
  size_t n = counts.size();
  if (n == 0 || !(hi > lo))
    return 0;
  double position = (v - lo) / (hi - lo) * static_cast<double>(n);
  if (!(position > 0.0))
    return 0;
  if (position >= static_cast<double>(n))
    return n - 1;
  return static_cast<size_t>(position);
}

uint64_t Histogram::total() const {
  uint64_t sum = 0;
  for (uint64_t c : counts)
    sum += c;
  return sum;
}

float ValueStats::absMax() const {
  if (count == 0)
    return 0.0f;
  return std::max(std::fabs(min), std::fabs(max));
}

//===----------------------------------------------------------------------===//
// TensorObserver
//===----------------------------------------------------------------------===//

namespace {
/// Folds finite `v` into the min/max of `stats`.
inline void addToRange(ValueStats &stats, float v) {
  if (!std::isfinite(v)) {
    ++stats.nonFinite;
    return;
  }
  if (stats.count == 0) {
    stats.min = stats.max = v;
  } else {
    stats.min = std::min(stats.min, v);
    stats.max = std::max(stats.max, v);
  }
  ++stats.count;
}

/// Sets up the histogram of `stats` over the range pass 1 saw.
void startHistogram(ValueStats &stats, HistogramKind kind, int64_t numBins) {
  Histogram &h = stats.histogram;
  h.kind = kind;
  h.counts.assign(static_cast<size_t>(numBins), 0);
  if (stats.count == 0) {
    h.lo = h.hi = 0.0;
  } else if (kind == HistogramKind::Absolute) {
    h.lo = 0.0;
    h.hi = static_cast<double>(stats.absMax());
  } else {
    h.lo = static_cast<double>(stats.min);
    h.hi = static_cast<double>(stats.max);
  }
}

/// Bins finite `v` into the histogram of `stats`; false when `v` lies outside
/// the range pass 1 recorded.
inline bool addToHistogram(ValueStats &stats, float v) {
  if (!std::isfinite(v))
    return true;
  if (stats.count == 0 || v < stats.min || v > stats.max)
    return false;
  Histogram &h = stats.histogram;
  double x = h.kind == HistogramKind::Absolute
                 ? std::fabs(static_cast<double>(v))
                 : static_cast<double>(v);
  ++h.counts[h.binOf(x)];
  return true;
}

std::string describe(float v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}
} // namespace

TensorObserver::TensorObserver(ObserverOptions options)
    : opts(std::move(options)) {}

ref::Status TensorObserver::fail(ref::Status status) {
  phase = Phase::Failed;
  return status;
}

ref::Status TensorObserver::prepare(const ref::Tensor &tensor,
                                    std::vector<float> &storage,
                                    const float *&values, int64_t &outer,
                                    int64_t &numCh, int64_t &inner) {
  if (opts.numBins < 1 && needsHistogramPass())
    return fail(ref::Status::error("a histogram needs at least one bin, not " +
                                   std::to_string(opts.numBins)));
  ref::Status valid = ref::verifyTensor(tensor);
  if (!valid.ok())
    return fail(valid);
  if (tensor.type.isFloat()) {
    values = tensor.f.data();
  } else if (tensor.type.isQuant()) {
    ref::Expected<std::vector<float>> dequantized = ref::toFloatValues(tensor);
    if (!dequantized.ok())
      return fail(dequantized.status);
    storage = std::move(dequantized.value);
    values = storage.data();
  } else {
    return fail(ref::Status::error(
        "calibration observes f32 (or quantized) tensors, not " +
        tensor.type.str()));
  }

  const std::vector<int64_t> &shape = tensor.shape();
  if (observed == 0 && phase == Phase::Range)
    firstShape = shape;
  outer = 1;
  numCh = 1;
  inner = tensor.numElements();
  if (!opts.channelAxis)
    return ref::Status::success();

  int64_t rank = static_cast<int64_t>(shape.size());
  int64_t a =
      *opts.channelAxis < 0 ? *opts.channelAxis + rank : *opts.channelAxis;
  if (a < 0 || a >= rank)
    return fail(ref::Status::error(
        "channel axis " + std::to_string(*opts.channelAxis) +
        " is out of range for a tensor of shape " + ref::shapeToString(shape)));
  if (axis >= 0 &&
      (a != axis || shape[a] != static_cast<int64_t>(channels.size())))
    return fail(ref::Status::error(
        "a tensor of shape " + ref::shapeToString(shape) + " has " +
        std::to_string(shape[a]) + " channels along axis " + std::to_string(a) +
        ", but earlier tensors had " + std::to_string(channels.size()) +
        " along axis " + std::to_string(axis)));
  if (axis < 0) {
    axis = a;
    channels.assign(static_cast<size_t>(shape[a]), ValueStats());
  }
  numCh = shape[a];
  inner = 1;
  for (int64_t d = a + 1; d < rank; ++d)
    inner *= shape[d];
  outer = 1;
  for (int64_t d = 0; d < a; ++d)
    outer *= shape[d];
  return ref::Status::success();
}

ref::Status TensorObserver::observeRange(const ref::Tensor &tensor) {
  if (phase != Phase::Range)
    return fail(
        ref::Status::error("observeRange called after the range pass ended"));
  std::vector<float> storage;
  const float *values = nullptr;
  int64_t outer = 0, numCh = 0, inner = 0;
  QLOW_REF_RETURN_IF_ERROR(
      prepare(tensor, storage, values, outer, numCh, inner));
  int64_t n = tensor.numElements();
  for (int64_t k = 0; k < n; ++k)
    addToRange(whole, values[k]);
  if (opts.channelAxis) {
    const float *v = values;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < numCh; ++c) {
        ValueStats &ch = channels[static_cast<size_t>(c)];
        for (int64_t i = 0; i < inner; ++i)
          addToRange(ch, *v++);
      }
  }
  ++observed;
  return ref::Status::success();
}

ref::Status TensorObserver::startHistogramPass() {
  if (phase != Phase::Range)
    return fail(ref::Status::error(
        "startHistogramPass called twice or after an error"));
  if (!needsHistogramPass())
    return fail(ref::Status::error(
        "startHistogramPass: this observer was asked for no histogram"));
  if (opts.numBins < 1)
    return fail(ref::Status::error("a histogram needs at least one bin, not " +
                                   std::to_string(opts.numBins)));
  startHistogram(whole, opts.histogram, opts.numBins);
  for (ValueStats &ch : channels)
    startHistogram(ch, opts.histogram, opts.numBins);
  phase = Phase::Histogram;
  return ref::Status::success();
}

ref::Status TensorObserver::observeHistogram(const ref::Tensor &tensor) {
  if (phase != Phase::Histogram)
    return fail(ref::Status::error(
        "observeHistogram called outside the histogram pass"));
  std::vector<float> storage;
  const float *values = nullptr;
  int64_t outer = 0, numCh = 0, inner = 0;
  QLOW_REF_RETURN_IF_ERROR(
      prepare(tensor, storage, values, outer, numCh, inner));
  auto outside = [&](float v, const ValueStats &stats) {
    return fail(ref::Status::error(
        "the histogram pass saw the value " + describe(v) +
        ", outside the range [" + describe(stats.min) + ", " +
        describe(stats.max) +
        "] of the range pass: both passes must see the same data"));
  };
  int64_t n = tensor.numElements();
  for (int64_t k = 0; k < n; ++k)
    if (!addToHistogram(whole, values[k]))
      return outside(values[k], whole);
  if (opts.channelAxis) {
    const float *v = values;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < numCh; ++c) {
        ValueStats &ch = channels[static_cast<size_t>(c)];
        for (int64_t i = 0; i < inner; ++i, ++v)
          if (!addToHistogram(ch, *v))
            return outside(*v, ch);
      }
  }
  return ref::Status::success();
}

ref::Status TensorObserver::finishHistogramPass() {
  if (phase != Phase::Histogram)
    return fail(ref::Status::error(
        "finishHistogramPass called outside the histogram pass"));
  auto check = [&](const ValueStats &stats) {
    uint64_t binned = stats.histogram.total();
    if (binned == static_cast<uint64_t>(stats.count))
      return ref::Status::success();
    return fail(ref::Status::error(
        "the histogram pass binned " + std::to_string(binned) +
        " finite values but the range pass counted " +
        std::to_string(stats.count) + ": both passes must see the same data"));
  };
  QLOW_REF_RETURN_IF_ERROR(check(whole));
  for (const ValueStats &ch : channels)
    QLOW_REF_RETURN_IF_ERROR(check(ch));
  phase = Phase::Done;
  return ref::Status::success();
}
