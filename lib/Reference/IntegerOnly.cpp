//===- IntegerOnly.cpp - I-BERT integer-only softmax, layer_norm, gelu ----===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Plain integer code, written step for step as the op descriptions state it,
// so that it can be read side by side with QlowOps.td and with the lowering
// (lib/Conversion/QlowToLinalg/IntegerOnlyToLinalg.cpp).
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/IntegerOnly.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

using namespace qlow::ref;

namespace {
/// Checks that `type` is Quant per tensor with a storage width in `widths`.
Status checkIntegerOnlyType(const char *name, const char *what,
                            const TensorType &type,
                            std::initializer_list<unsigned> widths) {
  if (!type.isQuant())
    return Status::error(std::string(name) + ": " + what +
                         " must be quantized, got " + type.str());
  if (!type.quant.isPerTensor())
    return Status::error(std::string(name) + ": " + what +
                         " must be quantized per tensor, got " + type.str());
  for (unsigned w : widths)
    if (type.quant.storage.bits == w)
      return Status::success();
  return Status::error(std::string(name) + ": " + what +
                       " has unsupported storage " + type.quant.storage.str());
}

/// The checks every integer-only op shares: input and result types, shapes,
/// rank >= 1.
Status checkIntegerOnlyOp(const char *name, const Tensor &x,
                          const TensorType &resultType,
                          std::initializer_list<unsigned> inputWidths) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(x));
  QLOW_REF_RETURN_IF_ERROR(verifyTensorType(resultType));
  QLOW_REF_RETURN_IF_ERROR(
      checkIntegerOnlyType(name, "input", x.type, inputWidths));
  QLOW_REF_RETURN_IF_ERROR(
      checkIntegerOnlyType(name, "result", resultType, {8, 16}));
  if (resultType.shape != x.shape())
    return Status::error(std::string(name) + ": result shape " +
                         shapeToString(resultType.shape) +
                         " differs from the input shape " +
                         shapeToString(x.shape()));
  if (x.type.rank() < 1)
    return Status::error(std::string(name) + ": input must have rank >= 1");
  return Status::success();
}

/// QM(m), refusing multipliers whose shift would exceed 30 (MBQM would then
/// saturate every nonzero input).
Expected<FixedPointMultiplier> planMultiplier(const char *name,
                                              const char *what, double m) {
  Expected<FixedPointMultiplier> fp = quantizeMultiplier(m);
  if (!fp)
    return fp.status.withContext(std::string(name) + ": " + what);
  if (fp.value.shift > 30)
    return Status::error(std::string(name) + ": " + what + " multiplier " +
                         std::to_string(m) + " is too large");
  return fp;
}

Status checkScales(const char *name, double si, double so) {
  if (!(si > 0.0) || !std::isfinite(si) || !(so > 0.0) || !std::isfinite(so))
    return Status::error(std::string(name) +
                         ": scales must be positive and finite");
  return Status::success();
}

/// Saturates `v` to the result parameters' range after adding its zero point.
int64_t finishQuantized(int64_t v, const QuantParams &out) {
  return saturate(out.zeroPoints[0] + v, out.qmin(), out.qmax());
}
} // namespace

//===----------------------------------------------------------------------===//
// i-exp and int_softmax
//===----------------------------------------------------------------------===//

int32_t qlow::ref::iExp(int32_t x) {
  if (x < kIExpMinX)
    x = kIExpMinX;
  if (x > 0)
    x = 0;
  int32_t z = (-x) / kIExpLn2; // -x >= 0: truncation is floor.
  int32_t p = x + kIExpLn2 * z;
  int32_t t = p + kIExpB;
  int32_t raw = t * t + kIExpC; // < 2^30.
  int shift = z + kIExpFracBits < 31 ? z + kIExpFracBits : 31;
  return raw >> shift;
}

Expected<IntSoftmaxPlan> qlow::ref::planIntSoftmax(double inputScale,
                                                   double outputScale) {
  QLOW_REF_RETURN_IF_ERROR(checkScales("int_softmax", inputScale, outputScale));
  IntSoftmaxPlan plan;
  Expected<FixedPointMultiplier> in = planMultiplier(
      "int_softmax", "input", inputScale * double(1 << kIExpFracBits));
  if (!in)
    return in.status;
  Expected<FixedPointMultiplier> out = planMultiplier(
      "int_softmax", "output", 1.0 / (outputScale * double(1 << 30)));
  if (!out)
    return out.status;
  plan.input = in.value;
  plan.output = out.value;
  return plan;
}

Expected<Tensor> qlow::ref::intSoftmax(const Tensor &x, int64_t axis,
                                       const TensorType &resultType) {
  QLOW_REF_RETURN_IF_ERROR(
      checkIntegerOnlyOp("int_softmax", x, resultType, {8, 16, 32}));
  int64_t rank = static_cast<int64_t>(x.type.rank());
  if (axis < -rank || axis >= rank)
    return Status::error("int_softmax: axis " + std::to_string(axis) +
                         " is out of range for rank " + std::to_string(rank));
  if (axis < 0)
    axis += rank;
  const std::vector<int64_t> &shape = x.shape();
  int64_t n = shape[axis];
  if (n > kIntSoftmaxMaxAxisSize)
    return Status::error("int_softmax: the axis has " + std::to_string(n) +
                         " elements, more than " +
                         std::to_string(kIntSoftmaxMaxAxisSize));
  Expected<IntSoftmaxPlan> plan =
      planIntSoftmax(x.type.quant.scales[0], resultType.quant.scales[0]);
  if (!plan)
    return plan.status;

  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= shape[d];

  Tensor out = Tensor::zeros(resultType);
  std::vector<int32_t> e(n);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
      int64_t m = std::numeric_limits<int64_t>::min();
      for (int64_t j = 0; j < n; ++j)
        m = std::max(m, x.i[at(j)]);
      int32_t sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        int64_t d = std::max<int64_t>(x.i[at(j)] - m,
                                      std::numeric_limits<int32_t>::min());
        int32_t xe = std::max(
            multiplyByQuantizedMultiplier(static_cast<int32_t>(d),
                                          plan.value.input),
            kIExpMinX);
        e[j] = iExp(xe);
        sum += e[j]; // n <= 32768 and e < 45716: no overflow.
      }
      int64_t r = (int64_t(1) << 61) / sum;
      for (int64_t j = 0; j < n; ++j) {
        int64_t p = (int64_t(e[j]) * r + (int64_t(1) << 30)) >> 31;
        int32_t scaled = multiplyByQuantizedMultiplier(static_cast<int32_t>(p),
                                                       plan.value.output);
        out.i[at(j)] = finishQuantized(scaled, resultType.quant);
      }
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// i-sqrt and int_layer_norm
//===----------------------------------------------------------------------===//

/// 2^ceil(bits(v) / 2) for v >= 1.
static int64_t isqrtInitial(int64_t v) {
  int bits = 0;
  for (uint64_t u = static_cast<uint64_t>(v); u; u >>= 1)
    ++bits;
  return int64_t(1) << ((bits + 1) / 2);
}

int64_t qlow::ref::isqrt(int64_t v) {
  if (v <= 0)
    return 0;
  int64_t x = isqrtInitial(v);
  while (true) {
    int64_t y = (x + v / x) >> 1;
    if (y >= x)
      return x;
    x = y;
  }
}

int64_t qlow::ref::isqrtFixedSteps(int64_t v, int steps) {
  if (v < 1)
    v = 1;
  int64_t x = isqrtInitial(v);
  for (int k = 0; k < steps; ++k)
    x = std::min(x, (x + v / x) >> 1);
  return x;
}

Expected<IntLayerNormPlan>
qlow::ref::planIntLayerNorm(double inputScale, double outputScale,
                            const std::vector<float> &gamma,
                            const std::vector<float> *beta, float epsilon) {
  QLOW_REF_RETURN_IF_ERROR(
      checkScales("int_layer_norm", inputScale, outputScale));
  if (!std::isfinite(epsilon) || epsilon < 0.0f)
    return Status::error("int_layer_norm: epsilon must be finite and >= 0");
  IntLayerNormPlan plan;
  plan.gamma.resize(gamma.size());
  plan.beta.assign(gamma.size(), 0);
  for (size_t i = 0; i < gamma.size(); ++i) {
    double g = roundHalfEven(double(gamma[i]) * 65536.0 / outputScale);
    if (!std::isfinite(g) || std::fabs(g) >= 2147483648.0)
      return Status::error("int_layer_norm: gamma[" + std::to_string(i) +
                           "] = " + std::to_string(gamma[i]) +
                           " is not finite or too large for the output scale "
                           "(|gamma / so| must be below 2^15)");
    plan.gamma[i] = static_cast<int64_t>(g);
    if (beta) {
      double b = roundHalfEven(double((*beta)[i]) * 4294967296.0 / outputScale);
      if (!std::isfinite(b) || std::fabs(b) >= 2305843009213693952.0)
        return Status::error("int_layer_norm: beta[" + std::to_string(i) +
                             "] = " + std::to_string((*beta)[i]) +
                             " is not finite or too large for the output "
                             "scale (|beta / so| must be below 2^29)");
      plan.beta[i] = static_cast<int64_t>(b);
    }
  }
  double e = double(epsilon) * 256.0 / (inputScale * inputScale);
  e = std::min(e, 4611686018427387904.0);
  plan.epsilon = static_cast<int64_t>(roundHalfEven(e));
  return plan;
}

Expected<Tensor> qlow::ref::intLayerNorm(const Tensor &x, const Tensor &gamma,
                                         const Tensor *beta, float epsilon,
                                         const TensorType &resultType) {
  QLOW_REF_RETURN_IF_ERROR(
      checkIntegerOnlyOp("int_layer_norm", x, resultType, {8, 16}));
  int64_t d = x.shape().back();
  if (d > kIntLayerNormMaxDim)
    return Status::error("int_layer_norm: the last dimension has " +
                         std::to_string(d) + " elements, more than " +
                         std::to_string(kIntLayerNormMaxDim));
  auto param = [&](const Tensor &t, const char *what)
      -> Expected<std::vector<float>> {
    QLOW_REF_RETURN_IF_ERROR(verifyTensor(t));
    if (!t.type.isFloat() || t.shape() != std::vector<int64_t>{d})
      return Status::error(std::string("int_layer_norm: ") + what +
                           " must be an f32 tensor of shape [" +
                           std::to_string(d) + "], got " + t.type.str());
    return t.f;
  };
  Expected<std::vector<float>> g = param(gamma, "gamma");
  if (!g)
    return g.status;
  std::vector<float> b;
  if (beta) {
    Expected<std::vector<float>> bv = param(*beta, "beta");
    if (!bv)
      return bv.status;
    b = std::move(bv.value);
  }
  Expected<IntLayerNormPlan> plan =
      planIntLayerNorm(x.type.quant.scales[0], resultType.quant.scales[0],
                       g.value, beta ? &b : nullptr, epsilon);
  if (!plan)
    return plan.status;

  Tensor out = Tensor::zeros(resultType);
  if (d == 0)
    return out;
  int64_t rows = x.numElements() / d;
  std::vector<int64_t> c(d);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t *q = x.i.data() + r * d;
    int64_t sum = 0;
    for (int64_t i = 0; i < d; ++i)
      sum += q[i];
    // floor((32 sum + D) / (2 D)): floor division of a possibly negative value.
    int64_t num = 32 * sum + d, den = 2 * d;
    int64_t mu = num / den - ((num % den != 0) && (num < 0) ? 1 : 0);
    int64_t v2 = 0;
    for (int64_t i = 0; i < d; ++i) {
      c[i] = 16 * q[i] - mu;
      v2 += c[i] * c[i];
    }
    int64_t v = v2 / d + plan.value.epsilon;
    int64_t sd = std::max<int64_t>(isqrt(v), 1);
    int64_t rcp = (int64_t(1) << 44) / sd;
    for (int64_t i = 0; i < d; ++i) {
      int64_t n = (c[i] * rcp + (int64_t(1) << 27)) >> 28;
      int64_t y = (n * plan.value.gamma[i] + plan.value.beta[i] +
                   (int64_t(1) << 31)) >>
                  32;
      out.i[r * d + i] = finishQuantized(y, resultType.quant);
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// i-erf and int_gelu
//===----------------------------------------------------------------------===//

int32_t qlow::ref::iErf(int32_t u) {
  int32_t s = std::min(std::max(u, -kIErfClip), kIErfClip);
  int32_t t = (s < 0 ? -s : s) - kIErfClip;
  int32_t v = (1 << 14) - ((((t * t) >> 14) * kIErfA + (1 << 14)) >> 15);
  return s > 0 ? v : (s < 0 ? -v : 0);
}

Expected<IntGeluPlan> qlow::ref::planIntGelu(double inputScale,
                                             double outputScale) {
  QLOW_REF_RETURN_IF_ERROR(checkScales("int_gelu", inputScale, outputScale));
  IntGeluPlan plan;
  Expected<FixedPointMultiplier> in = planMultiplier(
      "int_gelu", "input", inputScale * 16384.0 / std::sqrt(2.0));
  if (!in)
    return in.status;
  Expected<FixedPointMultiplier> out = planMultiplier(
      "int_gelu", "output", inputScale / (outputScale * 32768.0));
  if (!out)
    return out.status;
  plan.input = in.value;
  plan.output = out.value;
  return plan;
}

int32_t qlow::ref::intGeluScalar(int32_t d, const IntGeluPlan &plan) {
  int32_t u = multiplyByQuantizedMultiplier(d, plan.input);
  int32_t w = (1 << 14) + iErf(u);
  return multiplyByQuantizedMultiplier(d * w, plan.output);
}

Expected<Tensor> qlow::ref::intGelu(const Tensor &x,
                                    const TensorType &resultType) {
  QLOW_REF_RETURN_IF_ERROR(checkIntegerOnlyOp("int_gelu", x, resultType, {8, 16}));
  Expected<IntGeluPlan> plan =
      planIntGelu(x.type.quant.scales[0], resultType.quant.scales[0]);
  if (!plan)
    return plan.status;
  Tensor out = Tensor::zeros(resultType);
  int64_t zi = x.type.quant.zeroPoints[0];
  for (int64_t k = 0; k < x.numElements(); ++k) {
    int32_t d = static_cast<int32_t>(x.i[k] - zi);
    out.i[k] =
        finishQuantized(intGeluScalar(d, plan.value), resultType.quant);
  }
  return out;
}
