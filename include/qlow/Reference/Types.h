//===- Types.h - Integer, quantized and tensor types ------------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Plain C++ mirrors of the element and tensor types that the qlow dialect uses
// (f32, iN, !quant.uniform per-tensor / per-axis / sub-channel). They carry no
// MLIR dependency so that the oracle stays independent of the compiler it
// checks; an MLIR interpreter converts its types into these op by op.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_REFERENCE_TYPES_H
#define QLOW_REFERENCE_TYPES_H

#include "qlow/Reference/Status.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qlow::ref {

//===----------------------------------------------------------------------===//
// IntType
//===----------------------------------------------------------------------===//

/// An integer storage type: `bits` in {1, 4, 8, 16, 32, 64}, signed or not.
/// min()/max() give its full range (i8: -128..127, u8: 0..255, i4: -8..7,
/// u4: 0..15). The unsigned 1-bit type is the boolean `i1` (0..1). Values are
/// held in int64_t, so unsigned 64-bit is not a valid IntType.
struct IntType {
  unsigned bits = 8;
  bool isSigned = true;

  constexpr IntType() = default;
  constexpr IntType(unsigned bits, bool isSigned)
      : bits(bits), isSigned(isSigned) {}

  static constexpr IntType i1() { return {1, false}; }
  static constexpr IntType i4() { return {4, true}; }
  static constexpr IntType u4() { return {4, false}; }
  static constexpr IntType i8() { return {8, true}; }
  static constexpr IntType u8() { return {8, false}; }
  static constexpr IntType i16() { return {16, true}; }
  static constexpr IntType u16() { return {16, false}; }
  static constexpr IntType i32() { return {32, true}; }
  static constexpr IntType u32() { return {32, false}; }
  static constexpr IntType i64() { return {64, true}; }

  /// The smallest representable value.
  int64_t min() const;
  /// The largest representable value.
  int64_t max() const;
  /// True when `bits` is supported and the type is not u64.
  bool isValid() const;
  /// True when min() <= v <= max().
  bool contains(int64_t v) const { return v >= min() && v <= max(); }
  /// "i8", "u4", "i1" (unsigned 1-bit) or "si1" (signed 1-bit).
  std::string str() const;

  bool operator==(const IntType &o) const {
    return bits == o.bits && isSigned == o.isSigned;
  }
  bool operator!=(const IntType &o) const { return !(*this == o); }
};

//===----------------------------------------------------------------------===//
// QuantParams
//===----------------------------------------------------------------------===//

/// Uniform quantization parameters, real = scale * (q - zeroPoint), in one
/// general form that covers per-tensor, per-axis and sub-channel (blockwise)
/// quantization.
///
/// `scaleShape` has the tensor's rank and each scaleShape[d] divides shape[d].
/// The element at multi-index idx uses the parameter at multi-index
/// (idx[d] / (shape[d] / scaleShape[d]))_d, flattened row-major in scaleShape.
///   per-tensor:       scaleShape all 1 (one scale);
///   per-axis on a:    scaleShape[a] = shape[a], others 1;
///   sub-channel:      block size b_d = shape[d] / scaleShape[d].
///
/// `storageMin`/`storageMax` narrow the range that results saturate to, as the
/// upstream type `!quant.uniform<i8<-127:127>:f32, ...>` does (narrow range).
/// When unset, qmin()/qmax() are the storage type's full range.
struct QuantParams {
  IntType storage;
  std::vector<double> scales;
  std::vector<int64_t> zeroPoints;
  std::vector<int64_t> scaleShape;
  std::optional<int64_t> storageMin;
  std::optional<int64_t> storageMax;

  /// The lowest value a quantized result saturates to.
  int64_t qmin() const { return storageMin ? *storageMin : storage.min(); }
  /// The highest value a quantized result saturates to.
  int64_t qmax() const { return storageMax ? *storageMax : storage.max(); }
  /// The rank of the tensor these parameters describe.
  size_t rank() const { return scaleShape.size(); }
  /// True when one scale/zero point covers the whole tensor.
  bool isPerTensor() const;
  /// True when the parameters do not change along dimension `dim`.
  bool isConstantAlong(size_t dim) const { return scaleShape[dim] == 1; }

  /// The flat parameter index for the element at multi-index `index` of a
  /// tensor of `shape`. Precondition: verifyQuantParams(*this, shape) is ok
  /// and `index` has shape.size() in-range entries.
  int64_t paramIndex(const std::vector<int64_t> &shape,
                     const int64_t *index) const;
  /// As paramIndex, for the element at row-major flat position `flat`.
  int64_t paramIndexOfFlat(const std::vector<int64_t> &shape,
                           int64_t flat) const;

  /// One scale and zero point for a tensor of rank `rank`.
  static QuantParams perTensor(IntType storage, double scale, int64_t zeroPoint,
                               size_t rank);
  /// One scale and zero point per index of dimension `axis` of a tensor of
  /// rank `rank` (scales.size() must equal that dimension's size; checked by
  /// verifyQuantParams). An `axis` outside [0, rank) yields parameters that
  /// verifyQuantParams rejects.
  static QuantParams perAxis(IntType storage, int64_t axis,
                             std::vector<double> scales,
                             std::vector<int64_t> zeroPoints, size_t rank);
  /// Sub-channel (blockwise) parameters: scales and zero points laid out
  /// row-major in `scaleShape`.
  static QuantParams subChannel(IntType storage,
                                std::vector<int64_t> scaleShape,
                                std::vector<double> scales,
                                std::vector<int64_t> zeroPoints);
  /// The same parameters with results saturating to [min, max] (narrow range).
  QuantParams withStorageRange(int64_t min, int64_t max) const;

  bool operator==(const QuantParams &o) const;
  bool operator!=(const QuantParams &o) const { return !(*this == o); }
};

/// Checks `params` against a tensor of `shape`: a valid storage type, a
/// narrowed range inside it, scaleShape of the tensor's rank whose entries are
/// >= 1 and divide the shape, one scale and zero point per block, every scale
/// finite and > 0, every zero point within [qmin, qmax].
Status verifyQuantParams(const QuantParams &params,
                         const std::vector<int64_t> &shape);

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

/// The number of elements of `shape`, or an error for a negative dimension or
/// a product that overflows int64_t.
Expected<int64_t> checkedNumElements(const std::vector<int64_t> &shape);
/// Row-major strides of `shape` (in elements). Precondition: valid shape.
std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape);
/// The numpy broadcast of two shapes (trailing dimensions aligned, each pair
/// equal or one of them 1), or an error naming the incompatible dimension.
Expected<std::vector<int64_t>> broadcastShapes(const std::vector<int64_t> &a,
                                               const std::vector<int64_t> &b);
/// "[2, 3]" (and "[]" for a scalar), for messages.
std::string shapeToString(const std::vector<int64_t> &shape);

//===----------------------------------------------------------------------===//
// TensorType and Tensor
//===----------------------------------------------------------------------===//

/// What the elements of a tensor are: f32 values, plain integers (i1..i64) or
/// quantized storage values.
enum class ElemKind { Float, Int, Quant };

/// A ranked tensor type. `intType` is the element type of an Int tensor and
/// the storage type of a Quant tensor (where it must equal quant.storage; the
/// quantized() builder sets both). `quant` is used by Quant tensors only.
struct TensorType {
  std::vector<int64_t> shape;
  ElemKind kind = ElemKind::Float;
  IntType intType;
  QuantParams quant;

  /// An f32 tensor type.
  static TensorType f32(std::vector<int64_t> shape);
  /// An integer tensor type.
  static TensorType integer(std::vector<int64_t> shape, IntType type);
  /// A quantized tensor type; its storage type is params.storage.
  static TensorType quantized(std::vector<int64_t> shape, QuantParams params);

  /// The number of elements. Precondition: verifyTensorType is ok.
  int64_t numElements() const;
  size_t rank() const { return shape.size(); }
  bool isFloat() const { return kind == ElemKind::Float; }
  bool isInt() const { return kind == ElemKind::Int; }
  bool isQuant() const { return kind == ElemKind::Quant; }
  /// A short description for messages, e.g. "tensor<2x3xf32>",
  /// "tensor<4xi32>", "tensor<2x8x!quant<i8, per-axis 1>>".
  std::string str() const;
};

/// Checks a tensor type: non-negative dimensions whose product fits int64_t,
/// a valid integer type for Int and Quant, intType == quant.storage and valid
/// quantization parameters for Quant.
Status verifyTensorType(const TensorType &type);

/// A tensor value. Float tensors hold their values in `f`; Int and Quant
/// tensors hold integer (storage) values in `i`, one int64_t per element and
/// unpacked (int4 values are packed only at the byte level, see packInt4).
/// Layout is row-major (C order).
struct Tensor {
  TensorType type;
  std::vector<float> f;
  std::vector<int64_t> i;

  /// The number of elements of the type.
  int64_t numElements() const { return type.numElements(); }
  const std::vector<int64_t> &shape() const { return type.shape; }

  /// An f32 tensor holding `values`.
  static Tensor makeFloat(std::vector<int64_t> shape,
                          std::vector<float> values);
  /// An integer tensor holding `values`.
  static Tensor makeInt(std::vector<int64_t> shape, IntType type,
                        std::vector<int64_t> values);
  /// A quantized tensor holding storage `values`.
  static Tensor makeQuant(std::vector<int64_t> shape, QuantParams params,
                          std::vector<int64_t> values);
  /// A tensor of `type` filled with zeros (0.0f or storage 0).
  /// Precondition: verifyTensorType(type) is ok.
  static Tensor zeros(const TensorType &type);
};

/// Checks a tensor: a valid type, exactly numElements() values in the vector
/// its kind uses, and every integer value inside its (storage) type's range.
Status verifyTensor(const Tensor &tensor);

} // namespace qlow::ref

#endif // QLOW_REFERENCE_TYPES_H
