//===- QuantTypeUtils.cpp - checks on upstream quantized types ------------===//
//
// Implements the element-type classification and the re-verification of
// upstream quantized types used by every qlow verifier.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/IR/QuantTypeUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::quant;

namespace mlir::qlow {

QuantizedType getUniformQuantizedElementType(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    type = shaped.getElementType();
  if (isa<UniformQuantizedType, UniformQuantizedPerAxisType,
          UniformQuantizedSubChannelType>(type))
    return cast<QuantizedType>(type);
  return {};
}

bool isF32Tensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getElementType().isF32();
}

bool isQuantTensor(Type type) {
  return isa<RankedTensorType>(type) &&
         static_cast<bool>(getUniformQuantizedElementType(type));
}

bool isIntTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getElementType().isSignlessInteger();
}

/// Names the storage type as the quant dialect spells it (`u8`, `i4`): the
/// storage IntegerType itself is signless and prints as `i8` for `u8`.
static std::string formatStorageType(QuantizedType qtype) {
  return (qtype.isSigned() ? "i" : "u") +
         std::to_string(qtype.getStorageTypeIntegralWidth());
}

/// Checks one (scale, zero point) pair of a quantized type.
static LogicalResult
verifyScaleAndZeroPoint(function_ref<InFlightDiagnostic()> emitError,
                        StringRef what, QuantizedType qtype, double scale,
                        int64_t zeroPoint) {
  if (!std::isfinite(scale) || scale <= 0.0)
    return emitError() << what << " has scale " << scale
                       << ": scales must be positive and finite";
  int64_t lo = qtype.getStorageTypeMin(), hi = qtype.getStorageTypeMax();
  if (zeroPoint < lo || zeroPoint > hi)
    return emitError() << what << " has zero point " << zeroPoint
                       << " outside the storage range [" << lo << ", " << hi
                       << "] of " << formatStorageType(qtype);
  return success();
}

LogicalResult
verifyQuantizedTensorType(function_ref<InFlightDiagnostic()> emitError,
                          RankedTensorType tensorType, StringRef what) {
  Type elementType = tensorType.getElementType();
  auto qtype = dyn_cast<QuantizedType>(elementType);
  if (!qtype)
    return success();
  if (!isa<UniformQuantizedType, UniformQuantizedPerAxisType,
           UniformQuantizedSubChannelType>(qtype))
    return emitError() << what << " has quantized type " << elementType
                       << ", but qlow supports only uniform quantized types "
                          "(per tensor, per axis or sub-channel)";
  if (!qtype.getExpressedType().isF32())
    return emitError() << what << " has expressed type "
                       << qtype.getExpressedType()
                       << ", but qlow expects f32 expressed types";
  unsigned width = qtype.getStorageTypeIntegralWidth();
  if (width != 4 && width != 8 && width != 16 && width != 32)
    return emitError() << what << " has " << width
                       << "-bit storage; qlow supports 4, 8, 16 and 32 bits";
  int64_t lo = qtype.getStorageTypeMin(), hi = qtype.getStorageTypeMax();
  int64_t fullLo =
      QuantizedType::getDefaultMinimumForInteger(qtype.isSigned(), width);
  int64_t fullHi =
      QuantizedType::getDefaultMaximumForInteger(qtype.isSigned(), width);
  if (lo > hi || lo < fullLo || hi > fullHi)
    return emitError() << what << " has storage range [" << lo << ", " << hi
                       << "], which does not fit in "
                       << formatStorageType(qtype);

  ArrayRef<int64_t> shape = tensorType.getShape();
  int64_t rank = tensorType.getRank();

  if (auto perTensor = dyn_cast<UniformQuantizedType>(qtype))
    return verifyScaleAndZeroPoint(emitError, what, qtype, perTensor.getScale(),
                                   perTensor.getZeroPoint());

  if (auto perAxis = dyn_cast<UniformQuantizedPerAxisType>(qtype)) {
    int64_t axis = perAxis.getQuantizedDimension();
    if (axis < 0 || axis >= rank)
      return emitError() << what << " is quantized along axis " << axis
                         << ", which is out of range for a tensor of rank "
                         << rank;
    ArrayRef<double> scales = perAxis.getScales();
    ArrayRef<int64_t> zeroPoints = perAxis.getZeroPoints();
    if (scales.size() != zeroPoints.size())
      return emitError() << what << " has " << scales.size() << " scales but "
                         << zeroPoints.size() << " zero points";
    if (!ShapedType::isDynamic(shape[axis]) &&
        static_cast<int64_t>(scales.size()) != shape[axis])
      return emitError() << what << " has " << scales.size()
                         << " scales along axis " << axis
                         << ", but that dimension has size " << shape[axis]
                         << ": give one scale per channel";
    for (auto [scale, zp] : llvm::zip(scales, zeroPoints))
      if (failed(verifyScaleAndZeroPoint(emitError, what, qtype, scale, zp)))
        return failure();
    return success();
  }

  auto subChannel = cast<UniformQuantizedSubChannelType>(qtype);
  DenseElementsAttr scales = subChannel.getScales();
  DenseElementsAttr zeroPoints = subChannel.getZeroPoints();
  auto scaleShape = scales.getType().getShape();
  if (static_cast<int64_t>(scaleShape.size()) != rank)
    return emitError() << what << " has a scale tensor of rank "
                       << scaleShape.size() << " for a tensor of rank " << rank;
  SmallVector<int64_t> blockSize(shape.begin(), shape.end());
  SmallVector<bool> blocked(rank, false);
  for (auto [dim, size] : subChannel.getBlockSizeInfo()) {
    if (dim < 0 || dim >= rank)
      return emitError() << what << " is blocked along axis " << dim
                         << ", which is out of range for a tensor of rank "
                         << rank;
    // Upstream's parser accepts {0:2, 0:4}; which size applies is ambiguous.
    if (blocked[dim])
      return emitError() << what << " is blocked along axis " << dim
                         << " twice: give each axis one block size";
    blocked[dim] = true;
    blockSize[dim] = size;
  }
  for (int64_t d = 0; d < rank; ++d) {
    if (ShapedType::isDynamic(shape[d]))
      continue;
    if (blockSize[d] <= 0 || shape[d] % blockSize[d] != 0)
      return emitError() << what << " has block size " << blockSize[d]
                         << " along axis " << d
                         << ", which does not divide the dimension size "
                         << shape[d];
    if (scaleShape[d] != shape[d] / blockSize[d])
      return emitError() << what << " has " << scaleShape[d]
                         << " scales along axis " << d << ", expected "
                         << shape[d] / blockSize[d] << " (one per block)";
  }
  auto scaleValues = scales.getValues<APFloat>();
  auto zpValues = zeroPoints.getValues<APInt>();
  for (auto [scale, zp] : llvm::zip(scaleValues, zpValues)) {
    int64_t zeroPoint =
        qtype.isSigned() ? zp.getSExtValue() : zp.getZExtValue();
    if (failed(verifyScaleAndZeroPoint(emitError, what, qtype,
                                       scale.convertToDouble(), zeroPoint)))
      return failure();
  }
  return success();
}

std::optional<double> getPerTensorScale(Type elementType) {
  if (auto perTensor = dyn_cast<UniformQuantizedType>(elementType))
    return perTensor.getScale();
  return std::nullopt;
}

bool isPerAxisOn(QuantizedType qtype, int64_t axis) {
  auto perAxis = dyn_cast_or_null<UniformQuantizedPerAxisType>(qtype);
  return perAxis && perAxis.getQuantizedDimension() == axis;
}

FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1)
      result[i] = da;
    else if (da == 1)
      result[i] = db;
    else if (ShapedType::isDynamic(da) || ShapedType::isDynamic(db))
      result[i] = ShapedType::kDynamic;
    else
      return failure();
  }
  return result;
}

} // namespace mlir::qlow
