//===- Embedding.cpp - embedding (row gather) and rope --------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The token embedding and the rotary position embedding of transformer
// inputs: the first gathers table rows, the second rotates pairs of features.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Ops.h"

#include <cstdint>

using namespace qlow::ref;

Expected<Tensor> qlow::ref::embedding(const Tensor &table,
                                      const Tensor &indices,
                                      const TensorType &resultType) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(table).withContext("embedding: table"));
  QLOW_REF_RETURN_IF_ERROR(
      verifyTensor(indices).withContext("embedding: indices"));
  QLOW_REF_RETURN_IF_ERROR(
      verifyTensorType(resultType).withContext("embedding: result type"));
  if (table.type.rank() != 2 || table.type.isInt())
    return Status::error("embedding: table must be an f32 or quantized [V, D] "
                         "tensor, got " +
                         table.type.str());
  if (!indices.type.isInt())
    return Status::error("embedding: indices must be integers, got " +
                         indices.type.str());
  const int64_t V = table.shape()[0], D = table.shape()[1];
  std::vector<int64_t> outShape = indices.shape();
  outShape.push_back(D);
  if (resultType.shape != outShape)
    return Status::error("embedding: result shape " +
                         shapeToString(resultType.shape) + " should be " +
                         shapeToString(outShape));
  for (size_t p = 0; p < indices.i.size(); ++p)
    if (indices.i[p] < 0 || indices.i[p] >= V)
      return Status::error("embedding: index " + std::to_string(indices.i[p]) +
                           " at position " + std::to_string(p) +
                           " is out of range [0, " + std::to_string(V) + ")");

  const size_t count = indices.i.size();
  if (table.type.isQuant() && resultType.isQuant()) {
    // Copying storage values is only sound when every gathered element keeps
    // its meaning, i.e. one scale and zero point for the whole table.
    const QuantParams &pt = table.type.quant, &po = resultType.quant;
    if (!pt.isPerTensor() || !po.isPerTensor() || pt.storage != po.storage ||
        pt.scales != po.scales || pt.zeroPoints != po.zeroPoints ||
        pt.qmin() != po.qmin() || pt.qmax() != po.qmax())
      return Status::error("embedding: a quantized result must have the "
                           "per-tensor parameters of the table, got table " +
                           table.type.str() + " and result " +
                           resultType.str());
    Tensor out = Tensor::zeros(resultType);
    for (size_t p = 0; p < count; ++p)
      for (int64_t d = 0; d < D; ++d)
        out.i[p * D + d] = table.i[indices.i[p] * D + d];
    return out;
  }
  // Otherwise gather f32 values (dequantizing with the table's parameters at
  // each element) and convert to the result type.
  Expected<std::vector<float>> values = toFloatValues(table);
  if (!values)
    return values.status.withContext("embedding: table");
  std::vector<float> gathered(count * D);
  for (size_t p = 0; p < count; ++p)
    for (int64_t d = 0; d < D; ++d)
      gathered[p * D + d] = (*values)[indices.i[p] * D + d];
  Expected<Tensor> out = fromFloatValues(std::move(gathered), resultType);
  if (!out)
    return out.status.withContext("embedding");
  return out;
}

Expected<Tensor> qlow::ref::rope(const Tensor &x, const Tensor &cos,
                                 const Tensor &sin, bool interleaved,
                                 const TensorType &resultType) {
  Expected<std::vector<float>> xv = toFloatValues(x);
  if (!xv)
    return xv.status.withContext("rope: input");
  Expected<std::vector<float>> cv = toFloatValues(cos);
  if (!cv)
    return cv.status.withContext("rope: cos");
  Expected<std::vector<float>> sv = toFloatValues(sin);
  if (!sv)
    return sv.status.withContext("rope: sin");
  if (x.type.rank() < 2)
    return Status::error("rope: input must be [..., S, D], got " +
                         shapeToString(x.shape()));
  const int64_t S = x.shape()[x.type.rank() - 2], D = x.shape().back();
  if (D % 2 != 0)
    return Status::error("rope: the feature size D = " + std::to_string(D) +
                         " must be even");
  const int64_t half = D / 2;
  const std::vector<int64_t> tableShape = {S, half};
  if (cos.shape() != tableShape || sin.shape() != tableShape)
    return Status::error(
        "rope: cos and sin must be [S, D/2] = " + shapeToString(tableShape) +
        ", got " + shapeToString(cos.shape()) + " and " +
        shapeToString(sin.shape()));
  if (resultType.shape != x.shape())
    return Status::error(
        "rope: result shape " + shapeToString(resultType.shape) +
        " differs from the input shape " + shapeToString(x.shape()));

  std::vector<float> out(xv->size());
  const int64_t rows = D == 0 ? 0 : x.numElements() / D;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t s = S == 0 ? 0 : r % S;
    const float *in = xv->data() + r * D;
    float *o = out.data() + r * D;
    for (int64_t p = 0; p < half; ++p) {
      const double c = (*cv)[s * half + p], sn = (*sv)[s * half + p];
      // The two members of pair p: adjacent features when interleaved,
      // features p and p + D/2 in the rotate_half form.
      const int64_t i1 = interleaved ? 2 * p : p;
      const int64_t i2 = interleaved ? 2 * p + 1 : p + half;
      const double x1 = in[i1], x2 = in[i2];
      o[i1] = static_cast<float>(x1 * c - x2 * sn);
      o[i2] = static_cast<float>(x2 * c + x1 * sn);
    }
  }
  Expected<Tensor> result = fromFloatValues(std::move(out), resultType);
  if (!result)
    return result.status.withContext("rope");
  return result;
}
