//===- Quantization.cpp - quantize, dequantize, requantize, observe -------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Arithmetic.h"
#include "qlow/Reference/Ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

using namespace qlow::ref;

namespace {
// i64 storage makes q - zp overflow int64; 128 bits keeps it exact.
__extension__ typedef __int128 Int128;

/// (float)(q - zp) * (float)scale, the dequantization every op shares.
float dequantizeScalar(int64_t q, int64_t zeroPoint, double scale) {
  Int128 diff = static_cast<Int128>(q) - zeroPoint;
  return static_cast<float>(diff) * static_cast<float>(scale);
}

Status checkSameShape(const char *op, const TensorType &in,
                      const TensorType &result) {
  if (in.shape != result.shape)
    return Status::error(
        std::string(op) + ": result shape " + shapeToString(result.shape) +
        " differs from the input shape " + shapeToString(in.shape));
  return Status::success();
}
} // namespace

//===----------------------------------------------------------------------===//
// Float <-> tensor helpers
//===----------------------------------------------------------------------===//

Expected<std::vector<float>> qlow::ref::toFloatValues(const Tensor &tensor) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(tensor));
  switch (tensor.type.kind) {
  case ElemKind::Float:
    return tensor.f;
  case ElemKind::Quant: {
    Expected<Tensor> f = dequantize(tensor);
    if (!f)
      return f.status;
    return std::move(f->f);
  }
  case ElemKind::Int:
    break;
  }
  return Status::error("expected an f32 or quantized tensor, got " +
                       tensor.type.str());
}

Expected<Tensor> qlow::ref::fromFloatValues(std::vector<float> values,
                                            const TensorType &resultType) {
  QLOW_REF_RETURN_IF_ERROR(
      verifyTensorType(resultType).withContext("result type"));
  if (static_cast<int64_t>(values.size()) != resultType.numElements())
    return Status::error("result type " + resultType.str() + " has " +
                         std::to_string(resultType.numElements()) +
                         " elements but " + std::to_string(values.size()) +
                         " values were computed");
  Tensor f = Tensor::makeFloat(resultType.shape, std::move(values));
  switch (resultType.kind) {
  case ElemKind::Float:
    return f;
  case ElemKind::Quant:
    return quantize(f, resultType);
  case ElemKind::Int:
    break;
  }
  return Status::error("result type " + resultType.str() +
                       " must be f32 or quantized");
}

//===----------------------------------------------------------------------===//
// quantize / dequantize / requantize / fake_quant
//===----------------------------------------------------------------------===//

Expected<Tensor> qlow::ref::quantize(const Tensor &x,
                                     const TensorType &resultType) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(x).withContext("quantize: input"));
  QLOW_REF_RETURN_IF_ERROR(
      verifyTensorType(resultType).withContext("quantize: result type"));
  if (!x.type.isFloat())
    return Status::error("quantize: input must be f32, got " + x.type.str());
  if (!resultType.isQuant())
    return Status::error("quantize: result type must be quantized, got " +
                         resultType.str());
  QLOW_REF_RETURN_IF_ERROR(checkSameShape("quantize", x.type, resultType));

  const QuantParams &p = resultType.quant;
  Tensor out = Tensor::zeros(resultType);
  for (int64_t e = 0, n = out.numElements(); e < n; ++e) {
    int64_t pi = p.paramIndexOfFlat(resultType.shape, e);
    out.i[e] = quantizeScalar(x.f[e], static_cast<float>(p.scales[pi]),
                              p.zeroPoints[pi], p.qmin(), p.qmax());
  }
  return out;
}

Expected<Tensor> qlow::ref::dynamicQuantize(const Tensor &x,
                                            const DynamicQuant &dq) {
  QLOW_REF_RETURN_IF_ERROR(
      verifyTensor(x).withContext("dynamic quantization: input"));
  if (!x.type.isFloat())
    return Status::error("dynamic quantization: input must be f32, got " +
                         x.type.str());
  const std::vector<int64_t> &shape = x.shape();
  if (shape.size() < 2)
    return Status::error("dynamic quantization: input must be [..., M, K], "
                         "got shape " +
                         shapeToString(shape));
  if (dq.storage != IntType::i8() && dq.storage != IntType::u8())
    return Status::error("dynamic quantization: storage must be i8 or u8, "
                         "got " +
                         dq.storage.str());
  if (dq.symmetric && !dq.storage.isSigned)
    return Status::error("dynamic quantization: symmetric needs signed "
                         "storage, got " +
                         dq.storage.str());
  const int64_t total = x.numElements();
  const int64_t k = shape.back();
  const bool perRow = dq.granularity == DynamicQuant::Granularity::PerRow;
  const int64_t setSize = perRow ? k : total;
  const int64_t sets = setSize == 0 ? 0 : total / setSize;
  const int64_t qmin = dq.storage.min(), qmax = dq.storage.max();

  std::vector<int64_t> scaleShape(shape.size(), 1);
  if (perRow)
    scaleShape.assign(shape.begin(), shape.end() - 1), scaleShape.push_back(1);
  std::vector<double> scales;
  std::vector<int64_t> zeroPoints;
  std::vector<int64_t> values(static_cast<size_t>(total));
  for (int64_t s = 0; s < sets; ++s) {
    const float *v = x.f.data() + s * setSize;
    float lo = 0.0f, hi = 0.0f;
    for (int64_t e = 0; e < setSize; ++e) {
      if (!std::isfinite(v[e]))
        return Status::error("dynamic quantization: non-finite input " +
                             std::to_string(v[e]) + " at flat position " +
                             std::to_string(s * setSize + e));
      lo = std::min(lo, v[e]);
      hi = std::max(hi, v[e]);
    }
    float scale;
    int64_t zp = 0;
    if (dq.symmetric) {
      scale = std::max(-lo, hi) / static_cast<float>(qmax);
    } else {
      scale = (hi - lo) / static_cast<float>(qmax - qmin);
    }
    if (scale == 0.0f)
      scale = 1.0f;
    if (!std::isfinite(scale))
      return Status::error("dynamic quantization: the range [" +
                           std::to_string(lo) + ", " + std::to_string(hi) +
                           "] gives a non-finite scale");
    if (!dq.symmetric)
      zp = saturate(static_cast<int64_t>(roundHalfEven(
                        static_cast<float>(qmin) - lo / scale)),
                    qmin, qmax);
    scales.push_back(scale);
    zeroPoints.push_back(zp);
    for (int64_t e = 0; e < setSize; ++e)
      values[s * setSize + e] = quantizeScalar(v[e], scale, zp, qmin, qmax);
  }
  QuantParams params =
      QuantParams::subChannel(dq.storage, std::move(scaleShape),
                              std::move(scales), std::move(zeroPoints));
  return Tensor::makeQuant(shape, std::move(params), std::move(values));
}

Expected<Tensor> qlow::ref::dequantize(const Tensor &q) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(q).withContext("dequantize: input"));
  if (!q.type.isQuant())
    return Status::error("dequantize: input must be quantized, got " +
                         q.type.str());
  const QuantParams &p = q.type.quant;
  Tensor out = Tensor::zeros(TensorType::f32(q.shape()));
  for (int64_t e = 0, n = out.numElements(); e < n; ++e) {
    int64_t pi = p.paramIndexOfFlat(q.shape(), e);
    out.f[e] = dequantizeScalar(q.i[e], p.zeroPoints[pi], p.scales[pi]);
  }
  return out;
}

Expected<Tensor> qlow::ref::requantize(const Tensor &q,
                                       const TensorType &resultType,
                                       Rounding rounding) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(q).withContext("requantize: input"));
  QLOW_REF_RETURN_IF_ERROR(
      verifyTensorType(resultType).withContext("requantize: result type"));
  if (!q.type.isQuant() || !resultType.isQuant())
    return Status::error("requantize: input and result must be quantized, "
                         "got " +
                         q.type.str() + " -> " + resultType.str());
  QLOW_REF_RETURN_IF_ERROR(checkSameShape("requantize", q.type, resultType));

  const QuantParams &in = q.type.quant;
  const QuantParams &outP = resultType.quant;
  const std::vector<int64_t> &shape = resultType.shape;
  Tensor out = Tensor::zeros(resultType);
  for (int64_t e = 0, n = out.numElements(); e < n; ++e) {
    int64_t pin = in.paramIndexOfFlat(shape, e);
    int64_t pout = outP.paramIndexOfFlat(shape, e);
    const double m = in.scales[pin] / outP.scales[pout];
    const int64_t zOut = outP.zeroPoints[pout];
    const Int128 diff = static_cast<Int128>(q.i[e]) - in.zeroPoints[pin];
    if (rounding == Rounding::Float) {
      float v = static_cast<float>(diff) * static_cast<float>(m);
      out.i[e] = roundToQuantized(v, zOut, outP.qmin(), outP.qmax());
      continue;
    }
    if (diff < std::numeric_limits<int32_t>::min() ||
        diff > std::numeric_limits<int32_t>::max())
      return Status::error("requantize: q - zero point at flat index " +
                           std::to_string(e) +
                           " does not fit int32, which fixed-point "
                           "rounding needs");
    Expected<FixedPointMultiplier> qm = quantizeMultiplier(m);
    if (!qm)
      return qm.status.withContext("requantize");
    Int128 v = static_cast<Int128>(zOut) +
               multiplyByQuantizedMultiplier(static_cast<int32_t>(diff), *qm);
    out.i[e] = static_cast<int64_t>(
        v < outP.qmin() ? outP.qmin() : (v > outP.qmax() ? outP.qmax() : v));
  }
  return out;
}

Expected<Tensor> qlow::ref::fakeQuant(const Tensor &x,
                                      const QuantParams &params) {
  Expected<Tensor> q = quantize(x, TensorType::quantized(x.shape(), params));
  if (!q)
    return q.status.withContext("fake_quant");
  return dequantize(*q);
}

//===----------------------------------------------------------------------===//
// observe
//===----------------------------------------------------------------------===//

void RangeStats::update(const std::vector<float> &values) {
  for (float v : values) {
    if (std::isnan(v))
      continue;
    if (count == 0) {
      min = max = v;
    } else {
      min = v < min ? v : min;
      max = v > max ? v : max;
    }
    ++count;
  }
}

Status RangeStats::update(const Tensor &tensor) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(tensor).withContext("observe"));
  if (tensor.type.isInt()) {
    std::vector<float> values(tensor.i.begin(), tensor.i.end());
    update(values);
    return Status::success();
  }
  Expected<std::vector<float>> values = toFloatValues(tensor);
  if (!values)
    return values.status.withContext("observe");
  update(*values);
  return Status::success();
}

Expected<Tensor> qlow::ref::observe(const Tensor &x, RangeStats *stats) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(x).withContext("observe: input"));
  if (stats)
    QLOW_REF_RETURN_IF_ERROR(stats->update(x));
  return x;
}
