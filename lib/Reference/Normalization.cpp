//===- Normalization.cpp - softmax, layer_norm, rms_norm ------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// All three reduce along one axis. They work in double from the f32 inputs
// and round each output once, so that the oracle's own error is far below the
// tolerance that compiled f32 kernels are checked with.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Ops.h"

#include <cmath>
#include <cstdint>
#include <limits>

using namespace qlow::ref;

namespace {
Status checkResultShape(const char *name, const Tensor &x,
                        const TensorType &resultType) {
  if (resultType.shape != x.shape())
    return Status::error(std::string(name) + ": result shape " +
                         shapeToString(resultType.shape) +
                         " differs from the input shape " +
                         shapeToString(x.shape()));
  return Status::success();
}

/// The f32 values of a [D] parameter tensor (gamma, beta).
Expected<std::vector<float>> rowParameter(const char *name, const char *what,
                                          const Tensor &t, int64_t d) {
  Expected<std::vector<float>> v = toFloatValues(t);
  if (!v)
    return v.status.withContext(std::string(name) + ": " + what);
  if (t.shape() != std::vector<int64_t>{d})
    return Status::error(std::string(name) + ": " + what + " must be [" +
                         std::to_string(d) + "] (the last dimension), got " +
                         shapeToString(t.shape()));
  return v;
}

Status checkEpsilon(const char *name, float epsilon) {
  if (!std::isfinite(epsilon) || epsilon < 0.0f)
    return Status::error(std::string(name) + ": epsilon must be finite and " +
                         ">= 0, got " + std::to_string(epsilon));
  return Status::success();
}

/// The input's values and the size of its last dimension (rank >= 1).
Expected<std::vector<float>> lastDimInput(const char *name, const Tensor &x,
                                          const TensorType &resultType,
                                          int64_t &d) {
  Expected<std::vector<float>> v = toFloatValues(x);
  if (!v)
    return v.status.withContext(std::string(name) + ": input");
  if (x.type.rank() < 1)
    return Status::error(std::string(name) + ": input must have rank >= 1");
  QLOW_REF_RETURN_IF_ERROR(checkResultShape(name, x, resultType));
  d = x.shape().back();
  return v;
}

Expected<Tensor> finish(const char *name, std::vector<float> values,
                        const TensorType &resultType) {
  Expected<Tensor> out = fromFloatValues(std::move(values), resultType);
  if (!out)
    return out.status.withContext(name);
  return out;
}
} // namespace

Expected<Tensor> qlow::ref::softmax(const Tensor &x, int64_t axis,
                                    const TensorType &resultType) {
  Expected<std::vector<float>> in = toFloatValues(x);
  if (!in)
    return in.status.withContext("softmax: input");
  QLOW_REF_RETURN_IF_ERROR(checkResultShape("softmax", x, resultType));
  const int64_t rank = static_cast<int64_t>(x.type.rank());
  if (axis < -rank || axis >= rank)
    return Status::error("softmax: axis " + std::to_string(axis) +
                         " is out of range for rank " + std::to_string(rank));
  if (axis < 0)
    axis += rank;
  const std::vector<int64_t> &shape = x.shape();
  const int64_t len = shape[axis];
  const int64_t inner = rowMajorStrides(shape)[axis];
  const int64_t outer = len * inner == 0 ? 0 : x.numElements() / (len * inner);
  std::vector<float> out(in->size());
  std::vector<double> e(len);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in0 = 0; in0 < inner; ++in0) {
      const int64_t base = o * len * inner + in0;
      // Subtracting the row max keeps exp() in range; a NaN anywhere makes the
      // max NaN and so the whole row NaN, as IEEE arithmetic would.
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < len; ++j) {
        double v = (*in)[base + j * inner];
        if (std::isnan(v) || v > mx)
          mx = v;
        if (std::isnan(mx))
          break;
      }
      double sum = 0.0;
      for (int64_t j = 0; j < len; ++j) {
        e[j] = std::exp(static_cast<double>((*in)[base + j * inner]) - mx);
        sum += e[j];
      }
      for (int64_t j = 0; j < len; ++j)
        out[base + j * inner] = static_cast<float>(e[j] / sum);
    }
  return finish("softmax", std::move(out), resultType);
}

Expected<Tensor> qlow::ref::layerNorm(const Tensor &x, const Tensor &gamma,
                                      const Tensor *beta, float epsilon,
                                      const TensorType &resultType) {
  int64_t d = 0;
  Expected<std::vector<float>> in =
      lastDimInput("layer_norm", x, resultType, d);
  if (!in)
    return in.status;
  QLOW_REF_RETURN_IF_ERROR(checkEpsilon("layer_norm", epsilon));
  Expected<std::vector<float>> g =
      rowParameter("layer_norm", "gamma", gamma, d);
  if (!g)
    return g.status;
  std::vector<float> b(d, 0.0f);
  if (beta) {
    Expected<std::vector<float>> bv =
        rowParameter("layer_norm", "beta", *beta, d);
    if (!bv)
      return bv.status;
    b = std::move(*bv);
  }
  std::vector<float> out(in->size());
  const int64_t rows = d == 0 ? 0 : x.numElements() / d;
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = in->data() + r * d;
    double mean = 0.0;
    for (int64_t j = 0; j < d; ++j)
      mean += row[j];
    mean /= static_cast<double>(d);
    // Two passes: the variance around the mean, not E[x^2] - mean^2, which
    // cancels catastrophically for rows with a large mean.
    double var = 0.0;
    for (int64_t j = 0; j < d; ++j)
      var += (row[j] - mean) * (row[j] - mean);
    var /= static_cast<double>(d);
    const double rstd = 1.0 / std::sqrt(var + static_cast<double>(epsilon));
    for (int64_t j = 0; j < d; ++j)
      out[r * d + j] = static_cast<float>((row[j] - mean) * rstd * (*g)[j] +
                                          static_cast<double>(b[j]));
  }
  return finish("layer_norm", std::move(out), resultType);
}

Expected<Tensor> qlow::ref::rmsNorm(const Tensor &x, const Tensor &gamma,
                                    float epsilon,
                                    const TensorType &resultType) {
  int64_t d = 0;
  Expected<std::vector<float>> in = lastDimInput("rms_norm", x, resultType, d);
  if (!in)
    return in.status;
  QLOW_REF_RETURN_IF_ERROR(checkEpsilon("rms_norm", epsilon));
  Expected<std::vector<float>> g = rowParameter("rms_norm", "gamma", gamma, d);
  if (!g)
    return g.status;
  std::vector<float> out(in->size());
  const int64_t rows = d == 0 ? 0 : x.numElements() / d;
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = in->data() + r * d;
    double ms = 0.0;
    for (int64_t j = 0; j < d; ++j)
      ms += static_cast<double>(row[j]) * row[j];
    ms /= static_cast<double>(d);
    const double rinv = 1.0 / std::sqrt(ms + static_cast<double>(epsilon));
    for (int64_t j = 0; j < d; ++j)
      out[r * d + j] = static_cast<float>(row[j] * rinv * (*g)[j]);
  }
  return finish("rms_norm", std::move(out), resultType);
}
