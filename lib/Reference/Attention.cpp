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

#include <cmath>
#include <cstdint>
#include <limits>

using namespace qlow::ref;

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
  if (q.type.rank() != 4 || k.type.rank() != 4 || v.type.rank() != 4)
    return Status::error("attention: q, k and v must be rank 4 ([B, H, S, D], "
                         "[B, Hkv, T, D], [B, Hkv, T, Dv]), got " +
                         shapeToString(q.shape()) + ", " +
                         shapeToString(k.shape()) + ", " +
                         shapeToString(v.shape()));
  const int64_t B = q.shape()[0], H = q.shape()[1], S = q.shape()[2],
                D = q.shape()[3];
  const int64_t Hkv = k.shape()[1], T = k.shape()[2], Dv = v.shape()[3];
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
  std::vector<int64_t> maskStrides(4, 0);
  std::vector<float> maskF;
  bool boolMask = false;
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
