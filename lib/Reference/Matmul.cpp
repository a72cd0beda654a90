//===- Matmul.cpp - Reference semantics of qlow.matmul --------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The integer path computes sum_k (qa - za) * (qw - zw) exactly and then checks
// it against int32, because compiled kernels accumulate in i32 (with the zero
// points folded into precomputed column sums): when the exact value fits, the
// wrapping i32 arithmetic of any kernel yields it too, and when it does not,
// the kernel's result is meaningless and the oracle says so.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Arithmetic.h"
#include "qlow/Reference/Ops.h"

#include <algorithm>
#include <cstdint>
#include <limits>

using namespace qlow::ref;

namespace {
// Products of two 33-bit differences (i32 storage minus zero point) overflow
// int64; 128 bits keeps the exact sum.
__extension__ typedef __int128 Int128;

bool fitsInt32(Int128 v) {
  return v >= std::numeric_limits<int32_t>::min() &&
         v <= std::numeric_limits<int32_t>::max();
}

std::string int128ToString(Int128 v) {
  if (v == 0)
    return "0";
  bool negative = v < 0;
  std::string digits;
  while (v != 0) {
    int d = static_cast<int>(v % 10);
    digits.insert(digits.begin(), static_cast<char>('0' + (d < 0 ? -d : d)));
    v /= 10;
  }
  return negative ? "-" + digits : digits;
}

/// Shapes and strides of one matmul, shared by the float and integer paths.
struct MatmulGeometry {
  std::vector<int64_t> batchShape;
  int64_t batchCount = 1, m = 0, k = 0, n = 0;
  bool rhsBatched = false;

  int64_t lhsIndex(int64_t b, int64_t i, int64_t kk) const {
    return (b * m + i) * k + kk;
  }
  int64_t rhsIndex(int64_t b, int64_t kk, int64_t j) const {
    return (rhsBatched ? b * k * n : 0) + kk * n + j;
  }
  int64_t outIndex(int64_t b, int64_t i, int64_t j) const {
    return (b * m + i) * n + j;
  }
  /// The coordinates of batch `b` in batchShape.
  std::vector<int64_t> batchCoords(int64_t b) const {
    std::vector<int64_t> c(batchShape.size());
    for (size_t d = batchShape.size(); d-- > 0;) {
      c[d] = b % batchShape[d];
      b /= batchShape[d];
    }
    return c;
  }
};

std::string positionString(const std::vector<int64_t> &batch, int64_t i,
                           int64_t j) {
  std::vector<int64_t> pos = batch;
  pos.push_back(i);
  pos.push_back(j);
  return shapeToString(pos);
}

Expected<MatmulGeometry> checkShapes(const Tensor &lhs, const Tensor &rhs,
                                     const Tensor *bias,
                                     const TensorType &resultType) {
  const std::vector<int64_t> &ls = lhs.shape(), &rs = rhs.shape();
  if (ls.size() < 2)
    return Status::error("matmul: lhs must be [..., M, K], got shape " +
                         shapeToString(ls));
  if (rs.size() != 2 && rs.size() != ls.size())
    return Status::error("matmul: rhs must be [K, N] or [..., K, N] with the "
                         "rank of lhs, got lhs " +
                         shapeToString(ls) + " and rhs " + shapeToString(rs));
  MatmulGeometry g;
  g.batchShape.assign(ls.begin(), ls.end() - 2);
  g.m = ls[ls.size() - 2];
  g.k = ls[ls.size() - 1];
  g.n = rs[rs.size() - 1];
  g.rhsBatched = rs.size() > 2;
  if (rs[rs.size() - 2] != g.k)
    return Status::error("matmul: contraction sizes differ: lhs " +
                         shapeToString(ls) + " has K = " + std::to_string(g.k) +
                         " but rhs " + shapeToString(rs) +
                         " has K = " + std::to_string(rs[rs.size() - 2]));
  if (g.rhsBatched &&
      !std::equal(g.batchShape.begin(), g.batchShape.end(), rs.begin()))
    return Status::error("matmul: batch dimensions differ: lhs " +
                         shapeToString(ls) + ", rhs " + shapeToString(rs) +
                         " (a batched rhs needs lhs's batch dims exactly)");
  for (int64_t d : g.batchShape)
    g.batchCount *= d;
  std::vector<int64_t> expected = g.batchShape;
  expected.push_back(g.m);
  expected.push_back(g.n);
  if (resultType.shape != expected)
    return Status::error("matmul: result shape " +
                         shapeToString(resultType.shape) + " should be " +
                         shapeToString(expected));
  if (bias && bias->shape() != std::vector<int64_t>{g.n})
    return Status::error("matmul: bias must be [N] = [" + std::to_string(g.n) +
                         "], got " + shapeToString(bias->shape()));
  return g;
}

Expected<Tensor> floatMatmul(const MatmulGeometry &g, const Tensor &lhs,
                             const Tensor &rhs, const Tensor *bias,
                             const TensorType &resultType) {
  if (!resultType.isFloat())
    return Status::error("matmul: an f32 lhs gives an f32 result, got result "
                         "type " +
                         resultType.str() + " (quantize the result instead)");
  if (rhs.type.isInt())
    return Status::error("matmul: rhs must be f32 or quantized, got " +
                         rhs.type.str());
  if (bias && !bias->type.isFloat())
    return Status::error("matmul: a float matmul takes an f32 bias, got " +
                         bias->type.str());
  // Weight-only quantization: dequantize the weights, then a float matmul.
  Expected<std::vector<float>> w = toFloatValues(rhs);
  if (!w)
    return w.status.withContext("matmul: rhs");
  Tensor out = Tensor::zeros(resultType);
  for (int64_t b = 0; b < g.batchCount; ++b)
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) {
        float acc = 0.0f;
        for (int64_t kk = 0; kk < g.k; ++kk)
          acc += lhs.f[g.lhsIndex(b, i, kk)] * (*w)[g.rhsIndex(b, kk, j)];
        if (bias)
          acc += bias->f[j];
        out.f[g.outIndex(b, i, j)] = acc;
      }
  return out;
}

/// Which bias the integer path adds, decided once per call.
enum class BiasKind { None, RawInt, Float };

/// `dynamicScales`: lhs was quantized at run time, and the combined scale is
/// (float)sa * (float)sw in f32 rather than (float)(sa * sw).
Expected<Tensor> integerMatmul(const MatmulGeometry &g, const Tensor &lhs,
                               const Tensor &rhs, const Tensor *bias,
                               const TensorType &resultType, Rounding rounding,
                               bool dynamicScales = false) {
  auto combinedScale = [&](double sa, double sw) {
    return dynamicScales ? static_cast<float>(sa) * static_cast<float>(sw)
                         : static_cast<float>(sa * sw);
  };
  const QuantParams &pa = lhs.type.quant, &pw = rhs.type.quant;
  const size_t lr = lhs.type.rank(), rr = rhs.type.rank();
  if (!pa.isConstantAlong(lr - 1))
    return Status::error("matmul: lhs quantization must not vary along K (use "
                         "per-tensor or per-row parameters), got blocks " +
                         shapeToString(pa.scaleShape));
  const int64_t groups = pw.scaleShape[rr - 2];
  const bool blockwise = groups > 1;
  const int64_t groupSize = groups > 0 ? g.k / groups : g.k;

  // Result and bias kinds allowed by this combination.
  if (blockwise && !resultType.isFloat())
    return Status::error("matmul: sub-channel (blockwise along K) weights need "
                         "an f32 result, got " +
                         resultType.str());
  if (resultType.isInt() && resultType.intType != IntType::i32())
    return Status::error("matmul: an integer result must be i32 (the "
                         "accumulator), got " +
                         resultType.str());
  BiasKind biasKind = BiasKind::None;
  if (bias) {
    const TensorType &bt = bias->type;
    if (bt.isFloat()) {
      if (!resultType.isFloat())
        return Status::error("matmul: an f32 bias needs an f32 result; use an "
                             "i32 bias in units of scale_lhs * scale_rhs");
      biasKind = BiasKind::Float;
    } else if (blockwise) {
      if (!bt.isQuant())
        return Status::error("matmul: with sub-channel weights the bias must "
                             "be f32 or quantized, got " +
                             bt.str());
      biasKind = BiasKind::Float; // dequantized below
    } else {
      if (bt.intType != IntType::i32())
        return Status::error("matmul: bias must be i32 (or quantized with i32 "
                             "storage), got " +
                             bt.str());
      if (bt.isQuant())
        for (int64_t z : bt.quant.zeroPoints)
          if (z != 0)
            return Status::error("matmul: a quantized bias must have zero "
                                 "point 0, got " +
                                 std::to_string(z));
      biasKind = BiasKind::RawInt;
    }
  }
  std::vector<float> biasF;
  if (biasKind == BiasKind::Float) {
    Expected<std::vector<float>> v = toFloatValues(*bias);
    if (!v)
      return v.status.withContext("matmul: bias");
    biasF = std::move(*v);
  }

  Tensor out = Tensor::zeros(resultType);
  const std::vector<int64_t> &ls = lhs.shape(), &rs = rhs.shape();
  std::vector<int64_t> lhsIdx(lr, 0), rhsIdx(rr, 0), outIdx(lr, 0);
  for (int64_t b = 0; b < g.batchCount; ++b) {
    std::vector<int64_t> batch = g.batchCoords(b);
    std::copy(batch.begin(), batch.end(), lhsIdx.begin());
    std::copy(batch.begin(), batch.end(), outIdx.begin());
    if (g.rhsBatched)
      std::copy(batch.begin(), batch.end(), rhsIdx.begin());
    for (int64_t i = 0; i < g.m; ++i) {
      lhsIdx[lr - 2] = i;
      lhsIdx[lr - 1] = 0;
      const int64_t ai = pa.paramIndex(ls, lhsIdx.data());
      const double sa = pa.scales[ai];
      const int64_t za = pa.zeroPoints[ai];
      for (int64_t j = 0; j < g.n; ++j) {
        rhsIdx[rr - 1] = j;
        // One group per K block; a single group when not blockwise.
        float accF = 0.0f;
        Int128 acc = 0;
        double sw = 0.0;
        for (int64_t grp = 0; grp < (blockwise ? groups : 1); ++grp) {
          rhsIdx[rr - 2] = grp * groupSize;
          const int64_t wi = pw.paramIndex(rs, rhsIdx.data());
          sw = pw.scales[wi];
          const int64_t zw = pw.zeroPoints[wi];
          Int128 sum = 0;
          const int64_t kBegin = blockwise ? grp * groupSize : 0;
          const int64_t kEnd = blockwise ? kBegin + groupSize : g.k;
          for (int64_t kk = kBegin; kk < kEnd; ++kk) {
            sum += (static_cast<Int128>(lhs.i[g.lhsIndex(b, i, kk)]) - za) *
                   (static_cast<Int128>(rhs.i[g.rhsIndex(b, kk, j)]) - zw);
            if (!fitsInt32(sum))
              return Status::error(
                  "matmul: i32 accumulator overflow at result " +
                  positionString(batch, i, j) +
                  ": the partial sum through k = " + std::to_string(kk) +
                  " is " + int128ToString(sum) +
                  " (reduce K or the operand ranges)");
          }
          if (blockwise)
            accF += combinedScale(sa, sw) * static_cast<float>(sum);
          else
            acc = sum;
        }
        const int64_t o = g.outIndex(b, i, j);
        if (blockwise) {
          out.f[o] = biasKind == BiasKind::Float ? accF + biasF[j] : accF;
          continue;
        }
        if (biasKind == BiasKind::RawInt) {
          acc += bias->i[j];
          if (!fitsInt32(acc))
            return Status::error(
                "matmul: i32 accumulator overflow at result " +
                positionString(batch, i, j) +
                " after adding the bias: " + int128ToString(acc));
        }
        const int32_t acc32 = static_cast<int32_t>(acc);
        switch (resultType.kind) {
        case ElemKind::Int:
          out.i[o] = acc32;
          break;
        case ElemKind::Float:
          if (biasKind == BiasKind::Float)
            out.f[o] =
                static_cast<float>(acc32) * combinedScale(sa, sw) + biasF[j];
          else
            out.f[o] = static_cast<float>(acc32) * combinedScale(sa, sw);
          break;
        case ElemKind::Quant: {
          const QuantParams &po = resultType.quant;
          std::copy(batch.begin(), batch.end(), outIdx.begin());
          outIdx[lr - 2] = i;
          outIdx[lr - 1] = j;
          const int64_t oi = po.paramIndex(resultType.shape, outIdx.data());
          const double mult = sa * sw / po.scales[oi];
          const int64_t zo = po.zeroPoints[oi];
          if (rounding == Rounding::Float) {
            out.i[o] = roundToQuantized(static_cast<float>(acc32) *
                                            static_cast<float>(mult),
                                        zo, po.qmin(), po.qmax());
            break;
          }
          Expected<FixedPointMultiplier> qm = quantizeMultiplier(mult);
          if (!qm)
            return qm.status.withContext("matmul");
          out.i[o] =
              saturate(zo + static_cast<int64_t>(
                                multiplyByQuantizedMultiplier(acc32, *qm)),
                       po.qmin(), po.qmax());
          break;
        }
        }
      }
    }
  }
  return out;
}
} // namespace

Expected<Tensor> qlow::ref::matmul(const Tensor &lhs, const Tensor &rhs,
                                   const Tensor *bias,
                                   const TensorType &resultType,
                                   Rounding rounding,
                                   const DynamicQuant *dynamic) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(lhs).withContext("matmul: lhs"));
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(rhs).withContext("matmul: rhs"));
  if (bias)
    QLOW_REF_RETURN_IF_ERROR(verifyTensor(*bias).withContext("matmul: bias"));
  QLOW_REF_RETURN_IF_ERROR(
      verifyTensorType(resultType).withContext("matmul: result type"));
  Expected<MatmulGeometry> g = checkShapes(lhs, rhs, bias, resultType);
  if (!g)
    return g.status;

  if (dynamic) {
    if (!lhs.type.isFloat())
      return Status::error("matmul: with dynamic quantization lhs must be f32, "
                           "got " +
                           lhs.type.str());
    if (!rhs.type.isQuant())
      return Status::error("matmul: with dynamic quantization rhs must be "
                           "quantized, got " +
                           rhs.type.str());
    if (!resultType.isFloat())
      return Status::error("matmul: with dynamic quantization the result must "
                           "be f32, got " +
                           resultType.str());
    if (bias && !bias->type.isFloat())
      return Status::error("matmul: with dynamic quantization the bias must be "
                           "f32, got " +
                           bias->type.str());
    Expected<Tensor> q = dynamicQuantize(lhs, *dynamic);
    if (!q)
      return q.status.withContext("matmul: lhs");
    return integerMatmul(*g, *q, rhs, bias, resultType, rounding,
                         /*dynamicScales=*/true);
  }

  switch (lhs.type.kind) {
  case ElemKind::Float:
    return floatMatmul(*g, lhs, rhs, bias, resultType);
  case ElemKind::Quant:
    if (!rhs.type.isQuant())
      return Status::error("matmul: a quantized lhs needs a quantized rhs, "
                           "got " +
                           rhs.type.str() +
                           " (dequantize lhs for a float matmul)");
    return integerMatmul(*g, lhs, rhs, bias, resultType, rounding);
  case ElemKind::Int:
    break;
  }
  return Status::error("matmul: lhs must be f32 or quantized, got " +
                       lhs.type.str());
}
