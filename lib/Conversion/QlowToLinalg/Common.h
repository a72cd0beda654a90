//===- Common.h - shared pieces of the qlow-to-linalg lowering --*- C++ -*-===//
//
// Quantization parameters as the lowering sees them, and builders for the
// scalar arithmetic inside linalg.generic bodies (saturation, fixed-point
// multiply, round-to-quantized) that several op families share.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_LIB_CONVERSION_QLOWTOLINALG_COMMON_H
#define QLOW_LIB_CONVERSION_QLOWTOLINALG_COMMON_H

#include "qlow/Reference/Arithmetic.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

namespace mlir::qlow::lowering {

/// The reference library (no MLIR dependency) lives in ::qlow::ref.
namespace ref = ::qlow::ref;

/// The parameters of a per-tensor or per-axis quantized tensor type.
struct QuantInfo {
  unsigned bits = 8;
  bool isSigned = true;
  int64_t qmin = 0, qmax = 0;
  /// -1 for per tensor; otherwise the quantized dimension.
  int64_t axis = -1;
  /// One entry per tensor, or one per index along `axis`; for a sub-channel
  /// (blocked) type, one per block, row-major over `blockCounts`.
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;
  /// Sub-channel types only: per tensor dimension, the size of a block and
  /// the number of blocks (the scales' shape). Empty otherwise.
  SmallVector<int64_t> blockSizes, blockCounts;

  double scale(int64_t index) const { return scales[axis < 0 ? 0 : index]; }
  int64_t zeroPoint(int64_t index) const {
    return zeroPoints[axis < 0 ? 0 : index];
  }
  bool zeroPointsAllZero() const {
    return llvm::all_of(zeroPoints, [](int64_t z) { return z == 0; });
  }
};

/// Reads the parameters of a tensor of a per-tensor or per-axis uniform
/// quantized type; fails (without a diagnostic) for anything else. With
/// `allowBlocks`, a ranked tensor of a sub-channel (blocked) type is read too
/// (`blockSizes` set): only for users that index the parameters by block
/// (addScaleAndZeroPoint), never through `scale(i)` or `zeroPoint(i)`.
FailureOr<QuantInfo> getQuantInfo(Type tensorType, bool allowBlocks = false);

/// Collects the per-element parameters of a linalg.generic: a parameter that
/// is the same everywhere becomes an arith.constant in the body; one that
/// varies along loops becomes a constant tensor input indexed by those loops.
class GenericParams {
public:
  GenericParams(OpBuilder &builder, Location loc, unsigned numLoops)
      : builder(builder), loc(loc), numLoops(numLoops) {}

  /// Adds a parameter of element type `type` (i32, i64 or f32) with `values`
  /// laid out row-major over `shape`, indexed by loops `loopDims` (one per
  /// shape dimension; empty for a scalar). With `blocks` (one per shape
  /// dimension), dimension i is indexed by `loopDims[i] floordiv blocks[i]`.
  /// Returns a handle for `get`.
  unsigned add(Type type, ArrayRef<double> values, ArrayRef<int64_t> shape,
               ArrayRef<unsigned> loopDims, ArrayRef<int64_t> blocks = {});

  /// The constant tensor inputs to append to the generic's inputs.
  ArrayRef<Value> inputs() const { return tensors; }
  /// Their indexing maps, to append after the data inputs' maps.
  ArrayRef<AffineMap> maps() const { return indexingMaps; }

  /// Inside the body: the value of parameter `handle`, given the block
  /// arguments and the number of data inputs before the parameter inputs.
  Value get(OpBuilder &body, Location loc, unsigned handle, ValueRange args,
            unsigned numDataInputs) const;

private:
  struct Param {
    Type type;
    double scalar = 0.0;
    int64_t tensorIndex = -1;
  };
  OpBuilder &builder;
  Location loc;
  unsigned numLoops;
  SmallVector<Param> params;
  SmallVector<Value> tensors;
  SmallVector<AffineMap> indexingMaps;
};

/// Scalar constant of integer or float `type`.
Value scalarConstant(OpBuilder &b, Location loc, Type type, double value);

/// Extends a storage integer to i32 (or i64) with the storage's signedness.
Value extendStorage(OpBuilder &b, Location loc, Value value, bool isSigned,
                    Type to);

/// `f32(q - zeroPoint)` for a storage integer `q` of `info` and an i64
/// `zeroPoint`. For 8- and 16-bit storage with zero points below 2^16 the
/// difference is taken in i32: the same integer (below 2^17 in magnitude),
/// and the same f32 after sitofp (exactly representable), at half the vector
/// width of i64.
Value storageMinusZeroPointF32(OpBuilder &b, Location loc, Value q,
                               Value zeroPoint, const QuantInfo &info);

/// Clamps an integer to [qmin, qmax] and truncates it to the storage width.
Value saturateToStorage(OpBuilder &b, Location loc, Value value, int64_t qmin,
                        int64_t qmax, unsigned bits);

/// gemmlowp/TFLite MultiplyByQuantizedMultiplier on i32 values, exactly as
/// lib/Reference computes it: saturating left shift, saturating rounding
/// doubling high multiply, rounding (half away from zero) right shift.
/// `mayShiftLeft` false promises that no shift is positive (every multiplier
/// below 1), which drops the left-shift step.
Value multiplyByQuantizedMultiplier(OpBuilder &b, Location loc, Value x,
                                    Value multiplier, Value shift,
                                    bool mayShiftLeft = true);

/// `saturate(roundeven(v) + zeroPoint)` for an f32 `v` and an i64
/// `zeroPoint`, NaN to the zero point (lib/Reference's roundToQuantized),
/// truncated to `bits`.
/// `mayBeNaN` false promises that `v` is never NaN (an integer times a finite
/// scale), which drops the NaN test.
Value roundToQuantized(OpBuilder &b, Location loc, Value v, Value zeroPoint,
                       int64_t qmin, int64_t qmax, unsigned bits,
                       bool mayBeNaN = true);

} // namespace mlir::qlow::lowering

#endif // QLOW_LIB_CONVERSION_QLOWTOLINALG_COMMON_H
