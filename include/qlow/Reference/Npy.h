//===- Npy.h - NumPy .npy reading and writing -------------------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// qlow-run and the end-to-end tests exchange tensors as .npy files. Input
// files come from outside, so the reader treats them as untrusted: every
// malformed header, shape or size is an error Status, and nothing is allocated
// before the file is known to hold the data the header promises.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_REFERENCE_NPY_H
#define QLOW_REFERENCE_NPY_H

#include "qlow/Reference/Status.h"
#include "qlow/Reference/Types.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qlow::ref {

/// The contents of a .npy file (C order). `dtype` is one of the normalized
/// descriptors "<f4", "<f8", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8",
/// "|b1". Float dtypes keep their values in `f` (f8 converted to f32 on read,
/// written from f on write); integer and bool dtypes in `i` (bool as 0/1).
struct NpyArray {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<float> f;
  std::vector<int64_t> i;

  /// True for "<f4" and "<f8".
  bool isFloat() const;
};

/// Parses the bytes of a .npy file (format versions 1.0, 2.0 and 3.0,
/// little-endian or byte-order-free dtypes, C order). Errors on a bad magic,
/// a truncated or malformed header, Fortran order, an unknown or big-endian
/// dtype, a shape whose element count overflows, and data that is shorter or
/// longer than the header promises.
Expected<NpyArray> parseNpy(const std::string &bytes);

/// Reads and parses a .npy file (see parseNpy).
Expected<NpyArray> readNpy(const std::string &path);

/// Encodes `array` as a version 1.0 file (2.0 when the header needs it), the
/// header padded to 64 bytes as NumPy does. Errors on an unknown dtype, a
/// value count that does not match the shape, or an integer that does not fit
/// the dtype.
Expected<std::string> serializeNpy(const NpyArray &array);

/// Writes `array` to `path` atomically: the bytes go to path + ".tmp", which
/// is renamed over `path` only once complete; on failure nothing is left.
Status writeNpy(const std::string &path, const NpyArray &array);

/// The dtype that holds values of an integer type: bits <= 8 -> "|i1"/"|u1"
/// (int4 widened to one byte per value), i1 -> "|b1", 16/32/64 bits ->
/// "<i2"/"<u2"/"<i4"/"<u4"/"<i8". Errors for invalid types.
Expected<std::string> npyDtypeFor(IntType type);

/// A tensor from an array: float dtypes -> Float, bool -> Int i1, integer
/// dtypes -> Int of the matching type.
Expected<Tensor> npyToTensor(const NpyArray &array);

/// An array from a tensor: Float -> "<f4", Int and Quant -> npyDtypeFor of the
/// (storage) type. A quantized tensor's parameters are not stored.
Expected<NpyArray> tensorToNpy(const Tensor &tensor);

} // namespace qlow::ref

#endif // QLOW_REFERENCE_NPY_H
