//===- Methods.h - calibration range selection ------------------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Chooses a clip range and quantization parameters for one set of observed
// values (ValueStats, Statistics.h) by one of four methods:
//
//  - minmax:     the observed [min, max];
//  - percentile: the range that keeps p% of the values (TensorRT/pytorch-
//                quantization on |x| when symmetric; ONNX Runtime's two-sided
//                cut of (100 - p)/2 % per tail when asymmetric);
//  - mse:        the clip that minimizes the expected squared quantization
//                error of the histogram, with the real quantizer
//                (ref::chooseScaleZeroPoint) for the storage type and scheme;
//  - entropy:    TensorRT's KL-divergence calibration on the |x| histogram.
//
// The scale and zero point always come from ref::chooseScaleZeroPoint on the
// chosen clip range, so they follow lib/Reference's rules (0 exactly
// representable, PyTorch's symmetric rule, the gemmlowp nudge). Each
// algorithm is stated exactly in docs/Calibration.md.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_CALIBRATION_METHODS_H
#define QLOW_CALIBRATION_METHODS_H

#include "qlow/Calibration/Statistics.h"
#include "qlow/Reference/Arithmetic.h"
#include "qlow/Reference/Status.h"
#include "qlow/Reference/Types.h"

#include <cstdint>
#include <optional>
#include <string>

namespace qlow::calib {

/// How a clip range is chosen from the statistics.
enum class Method { MinMax, Percentile, Mse, Entropy };

/// "minmax", "percentile", "mse" or "entropy".
const char *methodName(Method method);
/// The method named `name` (as methodName spells it), or nothing.
std::optional<Method> parseMethod(const std::string &name);

/// The quantized type the parameters are chosen for.
struct QuantTarget {
  /// i8, u8, i16, u16, i4 or u4 (any valid IntType of at least 2 bits).
  ref::IntType storage = ref::IntType::i8();
  /// Symmetric (PyTorch's rule: zero point 0, or the middle for unsigned
  /// storage) or asymmetric (affine).
  bool symmetric = false;
  /// Leave out the lowest storage value (i8: [-127, 127]).
  bool narrowRange = false;
};

/// The method and its parameters.
struct MethodOptions {
  Method method = Method::MinMax;
  /// percentile: the share of values to keep, in (0, 100].
  double percentile = 99.99;
  /// entropy: quantization levels over [0, threshold]; 0 chooses
  /// entropyLevels(target, stats) (128 for 8 bits).
  int64_t entropyLevels = 0;
};

/// The histogram `options.method` needs for `target`: None for minmax,
/// Absolute for entropy and for symmetric percentile and mse, Signed for
/// asymmetric percentile and mse.
HistogramKind histogramFor(const MethodOptions &options,
                           const QuantTarget &target);

/// The levels the entropy method quantizes [0, threshold] into when
/// MethodOptions::entropyLevels is 0: 2^(bits-1) when symmetric or when
/// `stats` has negative values, else 2^bits (all levels lie on [0, T]).
int64_t entropyLevels(const QuantTarget &target, const ValueStats &stats);

/// A chosen range and the parameters for it.
struct RangeChoice {
  /// The clip range, within [min, max] of the observed values.
  float clipMin = 0.0f;
  float clipMax = 0.0f;
  /// ref::chooseScaleZeroPoint(clipMin, clipMax, target...).
  ref::ScaleZeroPoint params;
};

/// Chooses the clip range of `stats` by `options` and the parameters of
/// `target` for it. Errors: no finite values observed, a percentile outside
/// (0, 100], fewer histogram bins than entropy levels, a missing or wrong
/// histogram for the method, an invalid storage type.
ref::Expected<RangeChoice> chooseRange(const ValueStats &stats,
                                       const MethodOptions &options,
                                       const QuantTarget &target);

//===----------------------------------------------------------------------===//
// The pieces, exposed for tests and for other calibration tools
//===----------------------------------------------------------------------===//

/// The expected squared error of quantizing, with `params`, values
/// distributed as `hist` with the values of each bin spread uniformly over
/// it, summed over the bins (multiply by 1/total for the mean). An Absolute
/// histogram is read as values >= 0 (the positive side of a symmetric
/// quantizer). The quantizer is real = scale * (q - zp) with q clamped to
/// [qmin, qmax] and rounded to nearest; the integral over each bin is exact.
double expectedSquaredError(const Histogram &hist,
                            const ref::ScaleZeroPoint &params);

/// TensorRT's entropy calibration on an Absolute histogram: for each i in
/// [levels, n], the KL divergence between P (bins 0..i-1, the counts of bins
/// i..n-1 added to bin i-1) and Q (bins 0..i-1 merged into `levels` groups,
/// group j holding the bins k with floor(k * levels / i) == j, and spread
/// back evenly over the non-empty bins of each group); returns the i of the
/// smallest divergence (the largest i among equals). The threshold is
/// hist.edge(i). Errors when the histogram has fewer than `levels` bins.
ref::Expected<size_t> entropyThresholdBin(const Histogram &hist,
                                          int64_t levels);

/// The KL divergence the entropy method computes for bin count `i` (see
/// entropyThresholdBin); +infinity where P has mass that Q lacks.
double entropyDivergence(const Histogram &hist, size_t i, int64_t levels);

} // namespace qlow::calib

#endif // QLOW_CALIBRATION_METHODS_H
