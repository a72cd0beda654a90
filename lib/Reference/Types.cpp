//===- Types.cpp - Integer, quantized and tensor types of the oracle ------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Types.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>

using namespace qlow::ref;

//===----------------------------------------------------------------------===//
// IntType
//===----------------------------------------------------------------------===//

int64_t IntType::min() const {
  if (!isSigned)
    return 0;
  if (bits >= 64)
    return std::numeric_limits<int64_t>::min();
  return -(int64_t(1) << (bits - 1));
}

int64_t IntType::max() const {
  // u64 is invalid; clamp rather than overflow so that max() stays total.
  if (bits >= 64 || (!isSigned && bits >= 63))
    return std::numeric_limits<int64_t>::max();
  if (isSigned)
    return (int64_t(1) << (bits - 1)) - 1;
  return (int64_t(1) << bits) - 1;
}

bool IntType::isValid() const {
  bool knownWidth = bits == 1 || bits == 4 || bits == 8 || bits == 16 ||
                    bits == 32 || bits == 64;
  return knownWidth && !(bits == 64 && !isSigned);
}

std::string IntType::str() const {
  if (bits == 1)
    return isSigned ? "si1" : "i1";
  return (isSigned ? "i" : "u") + std::to_string(bits);
}

//===----------------------------------------------------------------------===//
// QuantParams
//===----------------------------------------------------------------------===//

bool QuantParams::isPerTensor() const {
  for (int64_t s : scaleShape)
    if (s != 1)
      return false;
  return scales.size() == 1;
}

int64_t QuantParams::paramIndex(const std::vector<int64_t> &shape,
                                const int64_t *index) const {
  int64_t p = 0;
  for (size_t d = 0; d < scaleShape.size(); ++d) {
    int64_t block = shape[d] / scaleShape[d];
    int64_t coord = block > 0 ? index[d] / block : 0;
    p = p * scaleShape[d] + coord;
  }
  return p;
}

int64_t QuantParams::paramIndexOfFlat(const std::vector<int64_t> &shape,
                                      int64_t flat) const {
  if (scales.size() == 1)
    return 0;
  // Peel coordinates off from the innermost dimension, accumulating the
  // parameter index with the matching scaleShape strides.
  int64_t p = 0, pStride = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    int64_t coord = shape[d] > 0 ? flat % shape[d] : 0;
    flat = shape[d] > 0 ? flat / shape[d] : 0;
    int64_t block = shape[d] / scaleShape[d];
    p += (block > 0 ? coord / block : 0) * pStride;
    pStride *= scaleShape[d];
  }
  return p;
}

QuantParams QuantParams::perTensor(IntType storage, double scale,
                                   int64_t zeroPoint, size_t rank) {
  QuantParams p;
  p.storage = storage;
  p.scales = {scale};
  p.zeroPoints = {zeroPoint};
  p.scaleShape.assign(rank, 1);
  return p;
}

QuantParams QuantParams::perAxis(IntType storage, int64_t axis,
                                 std::vector<double> scales,
                                 std::vector<int64_t> zeroPoints, size_t rank) {
  QuantParams p;
  p.storage = storage;
  p.scaleShape.assign(rank, 1);
  if (axis >= 0 && static_cast<size_t>(axis) < rank)
    p.scaleShape[axis] = static_cast<int64_t>(scales.size());
  else
    // An impossible block count, so verifyQuantParams names the bad axis.
    p.scaleShape.assign(rank, 0);
  p.scales = std::move(scales);
  p.zeroPoints = std::move(zeroPoints);
  return p;
}

QuantParams QuantParams::subChannel(IntType storage,
                                    std::vector<int64_t> scaleShape,
                                    std::vector<double> scales,
                                    std::vector<int64_t> zeroPoints) {
  QuantParams p;
  p.storage = storage;
  p.scaleShape = std::move(scaleShape);
  p.scales = std::move(scales);
  p.zeroPoints = std::move(zeroPoints);
  return p;
}

QuantParams QuantParams::withStorageRange(int64_t min, int64_t max) const {
  QuantParams p = *this;
  p.storageMin = min;
  p.storageMax = max;
  return p;
}

bool QuantParams::operator==(const QuantParams &o) const {
  return storage == o.storage && scales == o.scales &&
         zeroPoints == o.zeroPoints && scaleShape == o.scaleShape &&
         qmin() == o.qmin() && qmax() == o.qmax();
}

Status qlow::ref::verifyQuantParams(const QuantParams &params,
                                    const std::vector<int64_t> &shape) {
  if (!params.storage.isValid())
    return Status::error("invalid storage type " + params.storage.str() +
                         " (expected i1/i4/u4/i8/u8/i16/u16/i32/u32/i64)");
  const int64_t lo = params.qmin(), hi = params.qmax();
  if (lo < params.storage.min() || hi > params.storage.max() || lo >= hi)
    return Status::error("storage range [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "] must be a non-empty part of " +
                         params.storage.str() + "'s range");
  if (params.scaleShape.size() != shape.size())
    return Status::error("quantization parameters have rank " +
                         std::to_string(params.scaleShape.size()) +
                         " (scaleShape " + shapeToString(params.scaleShape) +
                         ") but the tensor has rank " +
                         std::to_string(shape.size()));
  int64_t count = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t s = params.scaleShape[d];
    if (s < 1)
      return Status::error("scaleShape[" + std::to_string(d) + "] is " +
                           std::to_string(s) +
                           ", expected >= 1 (is the quantized axis in range?)");
    if (shape[d] % s != 0)
      return Status::error(
          "scaleShape[" + std::to_string(d) + "] = " + std::to_string(s) +
          " does not divide dimension " + std::to_string(d) + " of shape " +
          shapeToString(shape) + " into equal blocks");
    if (count > std::numeric_limits<int64_t>::max() / s)
      return Status::error("scaleShape " + shapeToString(params.scaleShape) +
                           " has too many blocks");
    count *= s;
  }
  if (static_cast<int64_t>(params.scales.size()) != count ||
      static_cast<int64_t>(params.zeroPoints.size()) != count)
    return Status::error(
        "scaleShape " + shapeToString(params.scaleShape) + " needs " +
        std::to_string(count) + " scales and zero points, got " +
        std::to_string(params.scales.size()) + " scales and " +
        std::to_string(params.zeroPoints.size()) + " zero points");
  for (size_t p = 0; p < params.scales.size(); ++p) {
    double s = params.scales[p];
    if (!(s > 0.0) || !std::isfinite(s)) {
      std::ostringstream os;
      os << "scale #" << p << " is " << s << ", expected finite and > 0";
      return Status::error(os.str());
    }
    int64_t z = params.zeroPoints[p];
    if (z < lo || z > hi)
      return Status::error("zero point #" + std::to_string(p) + " is " +
                           std::to_string(z) + ", outside the storage range [" +
                           std::to_string(lo) + ", " + std::to_string(hi) +
                           "]");
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

Expected<int64_t>
qlow::ref::checkedNumElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  bool zero = false;
  for (int64_t d : shape) {
    if (d < 0)
      return Status::error("shape " + shapeToString(shape) +
                           " has a negative dimension");
    if (d == 0)
      zero = true;
    else if (n > std::numeric_limits<int64_t>::max() / d)
      return Status::error("shape " + shapeToString(shape) +
                           " has more elements than fit in int64");
    else
      n *= d;
  }
  return zero ? int64_t(0) : n;
}

std::vector<int64_t>
qlow::ref::rowMajorStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    strides[d - 1] = strides[d] * shape[d];
  return strides;
}

Expected<std::vector<int64_t>>
qlow::ref::broadcastShapes(const std::vector<int64_t> &a,
                           const std::vector<int64_t> &b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t r = 0; r < rank; ++r) {
    // r counts from the innermost dimension.
    int64_t da = r < a.size() ? a[a.size() - 1 - r] : 1;
    int64_t db = r < b.size() ? b[b.size() - 1 - r] : 1;
    if (da != db && da != 1 && db != 1)
      return Status::error("shapes " + shapeToString(a) + " and " +
                           shapeToString(b) + " do not broadcast: dimension -" +
                           std::to_string(r + 1) + " is " + std::to_string(da) +
                           " vs " + std::to_string(db));
    out[rank - 1 - r] = da == 1 ? db : da;
  }
  return out;
}

std::string qlow::ref::shapeToString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d)
      s += ", ";
    s += std::to_string(shape[d]);
  }
  return s + "]";
}

//===----------------------------------------------------------------------===//
// TensorType and Tensor
//===----------------------------------------------------------------------===//

TensorType TensorType::f32(std::vector<int64_t> shape) {
  TensorType t;
  t.shape = std::move(shape);
  t.kind = ElemKind::Float;
  return t;
}

TensorType TensorType::integer(std::vector<int64_t> shape, IntType type) {
  TensorType t;
  t.shape = std::move(shape);
  t.kind = ElemKind::Int;
  t.intType = type;
  return t;
}

TensorType TensorType::quantized(std::vector<int64_t> shape,
                                 QuantParams params) {
  TensorType t;
  t.shape = std::move(shape);
  t.kind = ElemKind::Quant;
  t.intType = params.storage;
  t.quant = std::move(params);
  return t;
}

int64_t TensorType::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string TensorType::str() const {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  switch (kind) {
  case ElemKind::Float:
    s += "f32";
    break;
  case ElemKind::Int:
    s += intType.str();
    break;
  case ElemKind::Quant: {
    s += "!quant<" + quant.storage.str();
    if (quant.isPerTensor()) {
      std::ostringstream os;
      os << ", " << quant.scales[0] << ":" << quant.zeroPoints[0];
      s += os.str();
    } else {
      s += ", blocks " + shapeToString(quant.scaleShape);
    }
    s += ">";
    break;
  }
  }
  return s + ">";
}

Status qlow::ref::verifyTensorType(const TensorType &type) {
  Expected<int64_t> n = checkedNumElements(type.shape);
  if (!n)
    return n.status;
  switch (type.kind) {
  case ElemKind::Float:
    return Status::success();
  case ElemKind::Int:
    if (!type.intType.isValid())
      return Status::error("invalid integer element type " +
                           type.intType.str());
    return Status::success();
  case ElemKind::Quant:
    if (type.intType != type.quant.storage)
      return Status::error("intType " + type.intType.str() +
                           " differs from the quantized storage type " +
                           type.quant.storage.str() +
                           " (build with TensorType::quantized)");
    return verifyQuantParams(type.quant, type.shape);
  }
  return Status::error("unknown element kind");
}

Tensor Tensor::makeFloat(std::vector<int64_t> shape,
                         std::vector<float> values) {
  Tensor t;
  t.type = TensorType::f32(std::move(shape));
  t.f = std::move(values);
  return t;
}

Tensor Tensor::makeInt(std::vector<int64_t> shape, IntType type,
                       std::vector<int64_t> values) {
  Tensor t;
  t.type = TensorType::integer(std::move(shape), type);
  t.i = std::move(values);
  return t;
}

Tensor Tensor::makeQuant(std::vector<int64_t> shape, QuantParams params,
                         std::vector<int64_t> values) {
  Tensor t;
  t.type = TensorType::quantized(std::move(shape), std::move(params));
  t.i = std::move(values);
  return t;
}

Tensor Tensor::zeros(const TensorType &type) {
  Tensor t;
  t.type = type;
  if (type.isFloat())
    t.f.assign(type.numElements(), 0.0f);
  else
    t.i.assign(type.numElements(), 0);
  return t;
}

Status qlow::ref::verifyTensor(const Tensor &tensor) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensorType(tensor.type));
  const int64_t n = tensor.numElements();
  if (tensor.type.isFloat()) {
    if (static_cast<int64_t>(tensor.f.size()) != n)
      return Status::error(tensor.type.str() + " holds " +
                           std::to_string(tensor.f.size()) +
                           " float values, expected " + std::to_string(n));
    return Status::success();
  }
  if (static_cast<int64_t>(tensor.i.size()) != n)
    return Status::error(tensor.type.str() + " holds " +
                         std::to_string(tensor.i.size()) +
                         " integer values, expected " + std::to_string(n));
  const IntType t = tensor.type.intType;
  for (size_t e = 0; e < tensor.i.size(); ++e)
    if (!t.contains(tensor.i[e]))
      return Status::error("value " + std::to_string(tensor.i[e]) +
                           " at flat index " + std::to_string(e) +
                           " is outside the range of " + t.str());
  return Status::success();
}
