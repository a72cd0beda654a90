//===- Attention.cpp - Reference semantics of qlow.attention --------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Scaled dot-product attention with grouped-query heads, an optional additive
// or boolean mask and a causal flag. Computed in double, one row of scores at
// a time, and rounded once to f32.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <limits>

using namespace qlow::ref;

namespace {
/// Sizes and the mask view of one attention, checked.
struct AttentionShape {
  int64_t B, H, S, D, Hkv, T, Dv;
  std::vector<int64_t> maskStrides = std::vector<int64_t>(4, 0);
  std::vector<float> maskF;
  bool boolMask = false;
};
} // namespace

/// Checks the operands of qlow.attention (either precision) and reads the
/// mask's broadcast strides over [B, H, S, T].
static Status checkAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                             const Tensor *mask, const TensorType &resultType,
                             AttentionShape &shape) {
  if (q.type.rank() != 4 || k.type.rank() != 4 || v.type.rank() != 4)
    return Status::error("attention: q, k and v must be rank 4 ([B, H, S, D], "
                         "[B, Hkv, T, D], [B, Hkv, T, Dv]), got " +
                         shapeToString(q.shape()) + ", " +
                         shapeToString(k.shape()) + ", " +
                         shapeToString(v.shape()));
  const int64_t B = q.shape()[0], H = q.shape()[1], S = q.shape()[2],
                D = q.shape()[3];
  const int64_t Hkv = k.shape()[1], T = k.shape()[2], Dv = v.shape()[3];
  shape.B = B, shape.H = H, shape.S = S, shape.D = D, shape.Hkv = Hkv,
  shape.T = T, shape.Dv = Dv;
  if (k.shape()[0] != B || v.shape()[0] != B)
    return Status::error(
        "attention: batch sizes differ: q " + shapeToString(q.shape()) +
        ", k " + shapeToString(k.shape()) + ", v " + shapeToString(v.shape()));
  if (k.shape()[3] != D)
    return Status::error(
        "attention: q and k head sizes differ: " + shapeToString(q.shape()) +
        " vs " + shapeToString(k.shape()));
  if (v.shape()[1] != Hkv || v.shape()[2] != T)
    return Status::error("attention: k " + shapeToString(k.shape()) +
                         " and v " + shapeToString(v.shape()) +
                         " must agree on kv heads and keys");
  if (Hkv == 0 ? H != 0 : H % Hkv != 0)
    return Status::error("attention: " + std::to_string(H) +
                         " query heads are not a multiple of " +
                         std::to_string(Hkv) + " kv heads");
  const std::vector<int64_t> outShape = {B, H, S, Dv};
  if (resultType.shape != outShape)
    return Status::error("attention: result shape " +
                         shapeToString(resultType.shape) + " should be " +
                         shapeToString(outShape));

  // The mask is read through broadcast strides over [B, H, S, T].
  const std::vector<int64_t> scoreShape = {B, H, S, T};
  std::vector<int64_t> &maskStrides = shape.maskStrides;
  std::vector<float> &maskF = shape.maskF;
  bool &boolMask = shape.boolMask;
  if (mask) {
    QLOW_REF_RETURN_IF_ERROR(
        verifyTensor(*mask).withContext("attention: mask"));
    Expected<std::vector<int64_t>> bs =
        broadcastShapes(mask->shape(), scoreShape);
    if (!bs || *bs != scoreShape || mask->type.rank() > 4)
      return Status::error(
          "attention: mask " + shapeToString(mask->shape()) +
          " does not broadcast to [B, H, S, T] = " + shapeToString(scoreShape));
    if (mask->type.isInt()) {
      if (mask->type.intType != IntType::i1())
        return Status::error("attention: an integer mask must be i1 (true = "
                             "keep), got " +
                             mask->type.str());
      boolMask = true;
    } else {
      Expected<std::vector<float>> mv = toFloatValues(*mask);
      if (!mv)
        return mv.status.withContext("attention: mask");
      maskF = std::move(*mv);
    }
    std::vector<int64_t> own = rowMajorStrides(mask->shape());
    size_t offset = 4 - mask->type.rank();
    for (size_t d = 0; d < mask->type.rank(); ++d)
      maskStrides[offset + d] = mask->shape()[d] == 1 ? 0 : own[d];
  }

  return Status::success();
}

Expected<Tensor> qlow::ref::attention(const Tensor &q, const Tensor &k,
                                      const Tensor &v, const Tensor *mask,
                                      bool causal, float scale,
                                      const TensorType &resultType) {
  Expected<std::vector<float>> qv = toFloatValues(q);
  if (!qv)
    return qv.status.withContext("attention: q");
  Expected<std::vector<float>> kv = toFloatValues(k);
  if (!kv)
    return kv.status.withContext("attention: k");
  Expected<std::vector<float>> vv = toFloatValues(v);
  if (!vv)
    return vv.status.withContext("attention: v");
  AttentionShape shape;
  QLOW_REF_RETURN_IF_ERROR(checkAttention(q, k, v, mask, resultType, shape));
  const int64_t B = shape.B, H = shape.H, S = shape.S, D = shape.D,
                Hkv = shape.Hkv, T = shape.T, Dv = shape.Dv;
  const std::vector<int64_t> &maskStrides = shape.maskStrides;
  const std::vector<float> &maskF = shape.maskF;
  const bool boolMask = shape.boolMask;

  const int64_t group = Hkv == 0 ? 1 : H / Hkv;
  std::vector<float> out(static_cast<size_t>(B * H * S * Dv), 0.0f);
  std::vector<double> score(T);
  std::vector<char> keep(T);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t hk = h / group;
      for (int64_t i = 0; i < S; ++i) {
        const float *qRow = qv->data() + ((b * H + h) * S + i) * D;
        double mx = -std::numeric_limits<double>::infinity();
        bool any = false;
        for (int64_t j = 0; j < T; ++j) {
          const float *kRow = kv->data() + ((b * Hkv + hk) * T + j) * D;
          double dot = 0.0;
          for (int64_t d = 0; d < D; ++d)
            dot += static_cast<double>(qRow[d]) * kRow[d];
          double s = static_cast<double>(scale) * dot;
          bool kept = !(causal && j > i + (T - S));
          if (mask) {
            int64_t mi = b * maskStrides[0] + h * maskStrides[1] +
                         i * maskStrides[2] + j * maskStrides[3];
            if (boolMask)
              kept = kept && mask->i[mi] != 0;
            else
              s += maskF[mi];
          }
          // A -inf score (e.g. from an additive mask) counts as masked, so a
          // fully masked row is all zeros rather than 0/0.
          if (s == -std::numeric_limits<double>::infinity())
            kept = false;
          keep[j] = kept;
          score[j] = s;
          if (kept) {
            any = true;
            if (std::isnan(s) || s > mx)
              mx = s;
          }
        }
        float *outRow = out.data() + ((b * H + h) * S + i) * Dv;
        if (!any)
          continue;
        double sum = 0.0;
        for (int64_t j = 0; j < T; ++j) {
          score[j] = keep[j] ? std::exp(score[j] - mx) : 0.0;
          sum += score[j];
        }
        for (int64_t e = 0; e < Dv; ++e) {
          double acc = 0.0;
          for (int64_t j = 0; j < T; ++j)
            if (keep[j])
              acc += score[j] * (*vv)[((b * Hkv + hk) * T + j) * Dv + e];
          outRow[e] = static_cast<float>(acc / sum);
        }
      }
    }
  Expected<Tensor> result = fromFloatValues(std::move(out), resultType);
  if (!result)
    return result.status.withContext("attention");
  return result;
}

//===----------------------------------------------------------------------===//
// int8 attention
//===----------------------------------------------------------------------===//

// Every f32 operation below is one IEEE operation in the stated order: no
// contraction of a * b + c into a fused multiply-add (std::fma is written
// where the semantics fuses), so that compiled kernels can match bit for bit.
#pragma clang fp contract(off)

float qlow::ref::attentionExp(float t) {
  t = std::max(t, -87.0f);
  const float n = std::nearbyint(t * 1.44269504088896341f);
  float r = std::fma(n, -0.693359375f, t);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  const float r2 = r * r;
  p = std::fma(p, r2, r);
  p = p + 1.0f;
  // 2^n for n in [-126, 0]: the exponent field n + 127.
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127)
                        << 23;
  float pow2;
  std::memcpy(&pow2, &bits, sizeof(pow2));
  return p * pow2;
}

namespace {
/// Storage values of a per-tensor 8-bit quantized tensor with its scale and
/// zero point.
struct Int8Operand {
  const std::vector<int64_t> *values;
  double scale;
  int64_t zeroPoint;
};
} // namespace

static Expected<Int8Operand> int8Operand(const Tensor &t, const char *what) {
  if (!t.type.isQuant() || !t.type.quant.isPerTensor() ||
      t.type.quant.storage.bits != 8)
    return Status::error(std::string("int8 attention: ") + what +
                         " must be quantized per tensor with 8-bit storage, "
                         "got " +
                         t.type.str());
  QLOW_REF_RETURN_IF_ERROR(
      verifyTensor(t).withContext(std::string("int8 attention: ") + what));
  return Int8Operand{&t.i, t.type.quant.scales[0], t.type.quant.zeroPoints[0]};
}

Expected<Tensor> qlow::ref::attentionInt8(const Tensor &q, const Tensor &k,
                                          const Tensor &v, const Tensor *mask,
                                          bool causal, float scale,
                                          int64_t keyBlock,
                                          const TensorType &resultType) {
  Expected<Int8Operand> qo = int8Operand(q, "q");
  if (!qo)
    return qo.status;
  Expected<Int8Operand> ko = int8Operand(k, "k");
  if (!ko)
    return ko.status;
  Expected<Int8Operand> vo = int8Operand(v, "v");
  if (!vo)
    return vo.status;
  if (keyBlock <= 0)
    return Status::error("int8 attention: key_block must be positive, got " +
                         std::to_string(keyBlock));
  AttentionShape shape;
  QLOW_REF_RETURN_IF_ERROR(checkAttention(q, k, v, mask, resultType, shape));
  const int64_t B = shape.B, H = shape.H, S = shape.S, D = shape.D,
                Hkv = shape.Hkv, T = shape.T, Dv = shape.Dv;
  const std::vector<int64_t> &ms = shape.maskStrides;

  const float scoreScale = static_cast<float>(static_cast<double>(scale) *
                                              qo->scale * ko->scale);
  const float valueScale = static_cast<float>(vo->scale);
  const float negInf = -std::numeric_limits<float>::infinity();
  const int64_t group = Hkv == 0 ? 1 : H / Hkv;
  std::vector<float> out(static_cast<size_t>(B * H * S * Dv), 0.0f);
  std::vector<float> s(static_cast<size_t>(keyBlock));
  std::vector<char> keep(static_cast<size_t>(keyBlock));
  std::vector<int64_t> u(static_cast<size_t>(keyBlock));
  std::vector<float> acc(static_cast<size_t>(Dv));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t hk = h / group;
      for (int64_t i = 0; i < S; ++i) {
        const int64_t *qRow = qo->values->data() + ((b * H + h) * S + i) * D;
        float m = negInf, l = 0.0f;
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int64_t j0 = 0; j0 < T; j0 += keyBlock) {
          const int64_t width = std::min(keyBlock, T - j0);
          // Scores of the block and its maximum over the kept keys.
          float blockMax = negInf;
          bool any = false;
          for (int64_t c = 0; c < width; ++c) {
            const int64_t j = j0 + c;
            const int64_t *kRow =
                ko->values->data() + ((b * Hkv + hk) * T + j) * D;
            int64_t dot = 0;
            for (int64_t d = 0; d < D; ++d)
              dot += (qRow[d] - qo->zeroPoint) * (kRow[d] - ko->zeroPoint);
            float sc = static_cast<float>(static_cast<int32_t>(dot)) *
                       scoreScale;
            bool kept = !(causal && j > i + (T - S));
            if (mask) {
              int64_t mi =
                  b * ms[0] + h * ms[1] + i * ms[2] + j * ms[3];
              if (shape.boolMask)
                kept = kept && mask->i[mi] != 0;
              else
                sc = sc + shape.maskF[mi];
            }
            if (sc == negInf)
              kept = false;
            s[c] = sc;
            keep[c] = kept;
            if (kept) {
              any = true;
              blockMax = std::max(blockMax, sc);
            }
          }
          if (!any)
            continue;
          const float newMax = std::max(m, blockMax);
          // P in units of 1/255: round half to even of 255 * exp(s - max).
          int64_t rowSum = 0;
          for (int64_t c = 0; c < width; ++c) {
            u[c] = keep[c] ? static_cast<int64_t>(std::nearbyint(
                                 attentionExp(s[c] - newMax) * 255.0f))
                           : 0;
            rowSum += u[c];
          }
          const float alpha = m == negInf ? 0.0f : attentionExp(m - newMax);
          for (int64_t e = 0; e < Dv; ++e) {
            int64_t pv = 0;
            for (int64_t c = 0; c < width; ++c)
              pv += u[c] *
                    ((*vo->values)[((b * Hkv + hk) * T + j0 + c) * Dv + e] -
                     vo->zeroPoint);
            acc[e] = acc[e] * alpha + static_cast<float>(pv);
          }
          l = l * alpha + static_cast<float>(rowSum);
          m = newMax;
        }
        float *outRow = out.data() + ((b * H + h) * S + i) * Dv;
        if (l == 0.0f)
          continue;
        for (int64_t e = 0; e < Dv; ++e)
          outRow[e] = acc[e] / l * valueScale;
      }
    }
  Expected<Tensor> result = fromFloatValues(std::move(out), resultType);
  if (!result)
    return result.status.withContext("int8 attention");
  return result;
}
