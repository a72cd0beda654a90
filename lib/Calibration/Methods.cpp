//===- Methods.cpp - calibration range selection --------------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// minmax, percentile, MSE-optimal clipping and TensorRT's entropy (KL)
// calibration on ValueStats. docs/Calibration.md states each algorithm; the
// comments here say how the code follows it.
//
//===----------------------------------------------------------------------===//

#include "qlow/Calibration/Methods.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

using namespace qlow;
using namespace qlow::calib;

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

const char *calib::methodName(Method method) {
  switch (method) {
  case Method::MinMax:
    return "minmax";
  case Method::Percentile:
    return "percentile";
  case Method::Mse:
    return "mse";
  case Method::Entropy:
    return "entropy";
  }
  return "minmax";
}

std::optional<Method> calib::parseMethod(const std::string &name) {
  for (Method m :
       {Method::MinMax, Method::Percentile, Method::Mse, Method::Entropy})
    if (name == methodName(m))
      return m;
  return std::nullopt;
}

HistogramKind calib::histogramFor(const MethodOptions &options,
                                  const QuantTarget &target) {
  switch (options.method) {
  case Method::MinMax:
    return HistogramKind::None;
  case Method::Entropy:
    return HistogramKind::Absolute;
  case Method::Percentile:
  case Method::Mse:
    return target.symmetric ? HistogramKind::Absolute : HistogramKind::Signed;
  }
  return HistogramKind::None;
}

int64_t calib::entropyLevels(const QuantTarget &target,
                             const ValueStats &stats) {
  unsigned bits = target.storage.bits;
  if (bits < 2 || bits > 32)
    return 0;
  if (target.symmetric || (stats.count > 0 && stats.min < 0.0f))
    return int64_t(1) << (bits - 1);
  return int64_t(1) << bits;
}

//===----------------------------------------------------------------------===//
// Expected quantization error
//===----------------------------------------------------------------------===//

namespace {
/// One non-empty histogram bin [a, b] holding `count` values.
struct Bin {
  double a, b;
  double count;
};

std::vector<Bin> nonEmptyBins(const Histogram &hist) {
  std::vector<Bin> bins;
  for (size_t k = 0; k < hist.numBins(); ++k)
    if (hist.counts[k] != 0)
      bins.push_back({hist.edge(k), hist.edge(k + 1),
                      static_cast<double>(hist.counts[k])});
  return bins;
}

inline double cube(double x) { return x * x * x; }

/// The quantizer real = s * (clamp(round(x / s) + zp) - zp), as the error
/// integrals need it: the grid is the multiples of s between loQ and hiQ.
struct Quantizer {
  double s, loQ, hiQ;
  explicit Quantizer(const ref::ScaleZeroPoint &p)
      : s(p.scale), loQ(static_cast<double>(p.qmin - p.zeroPoint) * p.scale),
        hiQ(static_cast<double>(p.qmax - p.zeroPoint) * p.scale) {}

  /// phi(u) = integral over [0, u] of (v - round(v))^2 dv = n/12 + r^3/3
  /// with n = round(u), r = u - n (continuous at the half-integers).
  static double phi(double u) {
    double n = std::floor(u + 0.5);
    double r = u - n;
    return n / 12.0 + cube(r) / 3.0;
  }

  /// The integral of the squared error over [a, b] (a < b): clipped below
  /// loQ, rounded to the grid between loQ and hiQ, clipped above hiQ.
  double integral(double a, double b) const {
    double sum = 0.0;
    if (a < loQ) {
      double e = std::min(b, loQ);
      sum += (cube(e - loQ) - cube(a - loQ)) / 3.0;
    }
    double m0 = std::max(a, loQ), m1 = std::min(b, hiQ);
    if (m0 < m1)
      sum += cube(s) * (phi(m1 / s) - phi(m0 / s));
    if (b > hiQ) {
      double e = std::max(a, hiQ);
      sum += (cube(b - hiQ) - cube(e - hiQ)) / 3.0;
    }
    return sum;
  }

  /// The squared error of the single value x.
  double pointError(double x) const {
    double e;
    if (x <= loQ)
      e = x - loQ;
    else if (x >= hiQ)
      e = x - hiQ;
    else
      e = x - s * std::floor(x / s + 0.5);
    return e * e;
  }
};

double squaredError(const std::vector<Bin> &bins,
                    const ref::ScaleZeroPoint &params) {
  Quantizer quantizer(params);
  double sum = 0.0;
  for (const Bin &bin : bins) {
    double width = bin.b - bin.a;
    if (width > 0.0)
      sum += bin.count * quantizer.integral(bin.a, bin.b) / width;
    else
      sum += bin.count * quantizer.pointError(bin.a);
  }
  return sum;
}
} // namespace

double calib::expectedSquaredError(const Histogram &hist,
                                   const ref::ScaleZeroPoint &params) {
  return squaredError(nonEmptyBins(hist), params);
}

//===----------------------------------------------------------------------===//
// Entropy (KL divergence)
//===----------------------------------------------------------------------===//

namespace {
/// Scratch space reused across the candidates of one search.
struct KlScratch {
  std::vector<double> groupSum;
  std::vector<int64_t> groupNonEmpty;
};

/// The divergence of candidate i; `kept` is the count of bins 0..i-1.
double divergence(const Histogram &hist, size_t i, int64_t levels,
                  uint64_t total, uint64_t kept, KlScratch &scratch) {
  const std::vector<uint64_t> &c = hist.counts;
  const size_t L = static_cast<size_t>(levels);
  uint64_t outliers = total - kept;
  // Mass in P where Q has none: infinite, whatever the rest.
  if (kept == 0 || (outliers > 0 && c[i - 1] == 0))
    return std::numeric_limits<double>::infinity();

  // Q: bins 0..i-1 merged into L groups (group of bin k: floor(k * L / i)),
  // each group's count spread evenly over its non-empty bins.
  scratch.groupSum.assign(L, 0.0);
  scratch.groupNonEmpty.assign(L, 0);
  for (size_t k = 0; k < i; ++k) {
    size_t g = static_cast<size_t>((static_cast<uint64_t>(k) * L) / i);
    scratch.groupSum[g] += static_cast<double>(c[k]);
    scratch.groupNonEmpty[g] += c[k] != 0;
  }
  // P: bins 0..i-1 with the outliers added to the last one. Both normalized
  // to sum 1: P by the total, Q by the values kept.
  const double sumP = static_cast<double>(total);
  const double sumQ = static_cast<double>(kept);
  double kl = 0.0;
  for (size_t k = 0; k < i; ++k) {
    double p = static_cast<double>(c[k]);
    if (k + 1 == i)
      p += static_cast<double>(outliers);
    if (p == 0.0)
      continue;
    if (c[k] == 0)
      return std::numeric_limits<double>::infinity();
    size_t g = static_cast<size_t>((static_cast<uint64_t>(k) * L) / i);
    double q =
        scratch.groupSum[g] / static_cast<double>(scratch.groupNonEmpty[g]);
    double pn = p / sumP, qn = q / sumQ;
    kl += pn * std::log(pn / qn);
  }
  return kl;
}
} // namespace

double calib::entropyDivergence(const Histogram &hist, size_t i,
                                int64_t levels) {
  if (levels < 1 || i < static_cast<size_t>(levels) || i > hist.numBins())
    return std::numeric_limits<double>::quiet_NaN();
  uint64_t kept = 0;
  for (size_t k = 0; k < i; ++k)
    kept += hist.counts[k];
  KlScratch scratch;
  return divergence(hist, i, levels, hist.total(), kept, scratch);
}

ref::Expected<size_t> calib::entropyThresholdBin(const Histogram &hist,
                                                 int64_t levels) {
  size_t n = hist.numBins();
  if (levels < 1)
    return ref::Status::error("entropy calibration needs at least one "
                              "quantization level");
  if (n < static_cast<size_t>(levels))
    return ref::Status::error(
        "entropy calibration into " + std::to_string(levels) +
        " levels needs a histogram of at least as many bins, not " +
        std::to_string(n));
  uint64_t total = hist.total();
  KlScratch scratch;
  size_t best = n;
  double bestKl = std::numeric_limits<double>::infinity();
  uint64_t kept = 0;
  for (size_t k = 0; k + 1 < static_cast<size_t>(levels); ++k)
    kept += hist.counts[k];
  for (size_t i = static_cast<size_t>(levels); i <= n; ++i) {
    kept += hist.counts[i - 1];
    double kl = divergence(hist, i, levels, total, kept, scratch);
    // The largest i among equal divergences (pytorch-quantization's
    // "last argmin"): the least clipping for the same information loss.
    if (kl <= bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}

//===----------------------------------------------------------------------===//
// chooseRange
//===----------------------------------------------------------------------===//

namespace {
std::string formatNumber(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

/// The clip range of a threshold T on |x|: min and max clamped to [-T, T].
/// Its symmetric parameters are those of [-T, T] whenever T <= max|x|.
std::pair<float, float> clipAt(const ValueStats &stats, float t) {
  return {std::clamp(stats.min, -t, t), std::clamp(stats.max, -t, t)};
}

ref::Expected<ref::ScaleZeroPoint> paramsFor(float lo, float hi,
                                             const QuantTarget &target) {
  return ref::chooseScaleZeroPoint(lo, hi, target.storage, target.symmetric,
                                   target.narrowRange);
}

ref::Status checkHistogram(const ValueStats &stats, HistogramKind kind,
                           Method method) {
  const Histogram &h = stats.histogram;
  if (h.kind == kind && h.numBins() > 0)
    return ref::Status::success();
  return ref::Status::error(std::string(methodName(method)) +
                            " calibration needs the " +
                            histogramKindName(kind) +
                            " histogram of the values, but the statistics "
                            "hold " +
                            (h.numBins() ? histogramKindName(h.kind) : "none"));
}

/// Percentile on |x|: T is the upper edge of the first bin at which the
/// cumulative count reaches p% of all values.
float absolutePercentile(const Histogram &h, double percentile) {
  double target = percentile / 100.0 * static_cast<double>(h.total());
  uint64_t cumulative = 0;
  for (size_t k = 0; k < h.numBins(); ++k) {
    cumulative += h.counts[k];
    if (static_cast<double>(cumulative) >= target)
      return static_cast<float>(h.edge(k + 1));
  }
  return static_cast<float>(h.hi);
}

/// Two-sided percentile on x: cut (100 - p) / 2 % from each tail. The upper
/// bound is the upper edge of the first bin at which the cumulative count
/// from below reaches (1 - q) of the values, the lower bound the lower edge
/// of the last bin at which the count from above does.
std::pair<float, float> signedPercentile(const Histogram &h,
                                         double percentile) {
  double total = static_cast<double>(h.total());
  double keep = (1.0 - (100.0 - percentile) / 200.0) * total;
  size_t n = h.numBins();
  float hi = static_cast<float>(h.hi), lo = static_cast<float>(h.lo);
  uint64_t cumulative = 0;
  for (size_t k = 0; k < n; ++k) {
    cumulative += h.counts[k];
    if (static_cast<double>(cumulative) >= keep) {
      hi = static_cast<float>(h.edge(k + 1));
      break;
    }
  }
  cumulative = 0;
  for (size_t k = n; k-- > 0;) {
    cumulative += h.counts[k];
    if (static_cast<double>(cumulative) >= keep) {
      lo = static_cast<float>(h.edge(k));
      break;
    }
  }
  return {lo, hi};
}

/// Candidates a search looks at exhaustively; longer lists are scanned
/// coarse to fine.
constexpr size_t kExhaustiveCandidates = 128;

/// Finds the candidate of smallest error among `count` candidates, ordered
/// by preference (the lowest index wins among equal errors). Up to
/// kExhaustiveCandidates candidates are all evaluated; longer lists every
/// stride-th one (stride = ceil(count / 128)) and the last, then every
/// candidate within one stride of the best of those.
template <typename ErrorAt>
ref::Expected<std::pair<size_t, double>> searchCandidates(size_t count,
                                                          ErrorAt errorAt) {
  size_t stride =
      count <= kExhaustiveCandidates
          ? 1
          : (count + kExhaustiveCandidates - 1) / kExhaustiveCandidates;
  size_t best = 0;
  double bestError = std::numeric_limits<double>::infinity();
  auto consider = [&](size_t i) -> ref::Status {
    ref::Expected<double> error = errorAt(i);
    if (!error.ok())
      return error.status;
    if (*error < bestError || (*error == bestError && i < best)) {
      bestError = *error;
      best = i;
    }
    return ref::Status::success();
  };
  for (size_t i = 0; i < count; i += stride)
    QLOW_REF_RETURN_IF_ERROR(consider(i));
  if (count > 0)
    QLOW_REF_RETURN_IF_ERROR(consider(count - 1));
  if (stride > 1) {
    size_t center = best;
    size_t first = center >= stride ? center - stride + 1 : 0;
    size_t last = std::min(count, center + stride);
    for (size_t i = first; i < last; ++i)
      QLOW_REF_RETURN_IF_ERROR(consider(i));
  }
  return std::make_pair(best, bestError);
}

/// MSE, symmetric: the thresholds T = edge(i), i = n..1, of the |x|
/// histogram (largest first, so the largest T wins among equal errors),
/// searched by searchCandidates for the smallest expected error.
ref::Expected<float> symmetricMseThreshold(const ValueStats &stats,
                                           const QuantTarget &target) {
  const Histogram &h = stats.histogram;
  std::vector<Bin> bins = nonEmptyBins(h);
  size_t n = h.numBins();
  auto thresholdAt = [&](size_t index) {
    return static_cast<float>(h.edge(n - index));
  };
  auto found = searchCandidates(n, [&](size_t index) -> ref::Expected<double> {
    float t = thresholdAt(index);
    if (!(t > 0.0f))
      return std::numeric_limits<double>::infinity();
    auto [lo, hi] = clipAt(stats, t);
    ref::Expected<ref::ScaleZeroPoint> params = paramsFor(lo, hi, target);
    if (!params.ok())
      return params.status;
    return squaredError(bins, *params);
  });
  if (!found.ok())
    return found.status;
  return thresholdAt(found->first);
}

/// MSE, asymmetric: coordinate descent on the signed histogram. Starting
/// from [min, max], alternately the best upper bound for the current lower
/// one (candidates: the edges >= 0, largest first) and the best lower bound
/// for the current upper one (the edges <= 0, smallest first), each found by
/// searchCandidates and taken only when it strictly lowers the expected
/// error, until a round changes nothing (at most 16 rounds).
ref::Expected<std::pair<float, float>>
asymmetricMseRange(const ValueStats &stats, const QuantTarget &target) {
  const Histogram &h = stats.histogram;
  std::vector<Bin> bins = nonEmptyBins(h);
  std::vector<float> highs, lows; // highs descending, lows ascending
  for (size_t i = h.numBins() + 1; i-- > 0;) {
    float e = static_cast<float>(h.edge(i));
    if (e >= 0.0f && (highs.empty() || e != highs.back()))
      highs.push_back(e);
  }
  for (size_t j = 0; j <= h.numBins(); ++j) {
    float e = static_cast<float>(h.edge(j));
    if (e <= 0.0f && (lows.empty() || e != lows.back()))
      lows.push_back(e);
  }
  if (highs.empty())
    highs.push_back(stats.max);
  if (lows.empty())
    lows.push_back(stats.min);

  auto errorOf = [&](float l, float u) -> ref::Expected<double> {
    ref::Expected<ref::ScaleZeroPoint> params = paramsFor(l, u, target);
    if (!params.ok())
      return params.status;
    return squaredError(bins, *params);
  };
  float lo = stats.min, hi = stats.max;
  ref::Expected<double> start = errorOf(lo, hi);
  if (!start.ok())
    return start.status;
  double best = *start;
  for (int round = 0; round < 16; ++round) {
    bool changed = false;
    auto up = searchCandidates(highs.size(),
                               [&](size_t i) { return errorOf(lo, highs[i]); });
    if (!up.ok())
      return up.status;
    if (up->second < best) {
      best = up->second;
      changed |= highs[up->first] != hi;
      hi = highs[up->first];
    }
    auto down = searchCandidates(
        lows.size(), [&](size_t j) { return errorOf(lows[j], hi); });
    if (!down.ok())
      return down.status;
    if (down->second < best) {
      best = down->second;
      changed |= lows[down->first] != lo;
      lo = lows[down->first];
    }
    if (!changed)
      break;
  }
  return std::make_pair(std::max(lo, stats.min), std::min(hi, stats.max));
}
} // namespace

ref::Expected<RangeChoice> calib::chooseRange(const ValueStats &stats,
                                              const MethodOptions &options,
                                              const QuantTarget &target) {
  if (!target.storage.isValid() || target.storage.bits < 2 ||
      target.storage.bits > 32)
    return ref::Status::error("cannot calibrate for storage type " +
                              target.storage.str());
  if (stats.count == 0)
    return ref::Status::error("no finite values were observed" +
                              (stats.nonFinite
                                   ? " (" + std::to_string(stats.nonFinite) +
                                         " NaN or infinite values)"
                                   : std::string()));
  if (options.method == Method::Percentile &&
      !(options.percentile > 0.0 && options.percentile <= 100.0))
    return ref::Status::error("the percentile must be in (0, 100], not " +
                              formatNumber(options.percentile));

  float lo = stats.min, hi = stats.max;
  HistogramKind kind = histogramFor(options, target);
  // Every method keeps a range of zero width as it is: nothing to clip.
  if (kind != HistogramKind::None && stats.absMax() > 0.0f) {
    ref::Status status = checkHistogram(stats, kind, options.method);
    if (!status.ok())
      return status;
    const Histogram &h = stats.histogram;
    switch (options.method) {
    case Method::MinMax:
      break;
    case Method::Percentile:
      if (kind == HistogramKind::Absolute)
        std::tie(lo, hi) =
            clipAt(stats, absolutePercentile(h, options.percentile));
      else
        std::tie(lo, hi) = signedPercentile(h, options.percentile);
      break;
    case Method::Mse:
      if (kind == HistogramKind::Absolute) {
        ref::Expected<float> t = symmetricMseThreshold(stats, target);
        if (!t.ok())
          return t.status;
        std::tie(lo, hi) = clipAt(stats, *t);
      } else {
        auto range = asymmetricMseRange(stats, target);
        if (!range.ok())
          return range.status;
        std::tie(lo, hi) = *range;
      }
      break;
    case Method::Entropy: {
      int64_t levels = options.entropyLevels > 0 ? options.entropyLevels
                                                 : entropyLevels(target, stats);
      ref::Expected<size_t> bin = entropyThresholdBin(h, levels);
      if (!bin.ok())
        return bin.status;
      std::tie(lo, hi) = clipAt(stats, static_cast<float>(h.edge(*bin)));
      break;
    }
    }
  }
  ref::Expected<ref::ScaleZeroPoint> params = paramsFor(lo, hi, target);
  if (!params.ok())
    return params.status;
  RangeChoice choice;
  choice.clipMin = lo;
  choice.clipMax = hi;
  choice.params = *params;
  return choice;
}
