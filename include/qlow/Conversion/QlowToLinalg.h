//===- QlowToLinalg.h - lower qlow to linalg --------------------*- C++ -*-===//
//
// Conversion of qlow ops to linalg/arith on integer and f32 tensors.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_CONVERSION_QLOWTOLINALG_H
#define QLOW_CONVERSION_QLOWTOLINALG_H

#include "dialects/Qlow/IR/QlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/DialectConversion.h"

#include <memory>

namespace mlir::qlow {

/// Maps tensors of uniform quantized types to tensors of their signless
/// storage integer type; leaves every other type unchanged.
class QuantStorageTypeConverter : public TypeConverter {
public:
  QuantStorageTypeConverter();
};

/// Patterns lowering quantize, dequantize, requantize and quant.scast.
void populateQuantizeToLinalgPatterns(const TypeConverter &converter,
                                      RewritePatternSet &patterns);
/// Checks that the i32 accumulator of an integer matmul cannot overflow for
/// any stored inputs: K * max|a - za| * max|w - zw| <= 2^31 - 1. The
/// lowering computes modulo 2^32, which is exact exactly when this holds.
/// Emits an error on `op` when asked.
LogicalResult checkAccumulatorBound(MatmulOp op, bool emitErrors);

/// An f32 tensor [..., M, K] quantized at run time (#qlow.dynamic): the
/// storage values (signless i8 holding i8 or u8) and, per row [..., M], the
/// f32 scale and i32 zero point (equal across rows for per-tensor).
struct DynamicQuantized {
  Value q, scale, zeroPoint;
  bool isSigned;
  int64_t qmin, qmax;
};

/// Builds #qlow.dynamic's quantization of `x` as linalg.generics (range,
/// parameters, quantization) computing exactly what ref::dynamicQuantize
/// does. Target passes that take over a dynamic matmul reuse it.
DynamicQuantized buildDynamicQuantize(OpBuilder &b, Location loc, Value x,
                                      DynamicQuantAttr attr);

/// The weights of a dynamic matmul as groups along K: `groups` blocks of
/// `groupSize` rows, each with a scale and zero point per column (one group
/// for per-tensor and per-channel weights).
struct WeightGroups {
  unsigned bits = 8;
  bool isSigned = true;
  int64_t groups = 1, groupSize = 0, n = 0;
  /// Row-major [groups, n].
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;

  bool zeroPointsAllZero() const {
    return llvm::all_of(zeroPoints, [](int64_t z) { return z == 0; });
  }
};

/// Reads the parameters of a dynamic matmul's quantized rhs ([K, N], or
/// batched [..., K, N] when not blocked). Fails for blocks that do not divide
/// K and N, and for blocked batched weights.
FailureOr<WeightGroups> getWeightGroups(RankedTensorType rhsType);

/// Sums the stored integers of `operand` (extended to i32 by `isSigned`) over
/// dimension `kDim` as one linalg.generic; the result drops that dimension.
Value buildSumOverK(OpBuilder &b, Location loc, Value operand, unsigned kDim,
                    bool isSigned);

/// Patterns lowering qlow.add and qlow.mul (f32, and quantized per tensor
/// with both roundings, numpy broadcasting) and quantized qlow.gelu and
/// qlow.silu (tables of the reference's values over every stored input).
void populateElementwiseToLinalgPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns);

/// Rewrites every qlow.matmul of activations [B..., M, K] with 2-D weights
/// shared by the batches into a 2-D matmul over the flattened rows between
/// tensor.collapse_shape and tensor.expand_shape (which
/// populateReshapeToStoragePatterns converts). Static per-row activations
/// and per-channel results keep their batch loops.
void flattenSharedWeightMatmuls(Operation *root);

/// tensor.collapse_shape and tensor.expand_shape of quantized tensors as the
/// same reshapes of their storage tensors.
void populateReshapeToStoragePatterns(const TypeConverter &converter,
                                      RewritePatternSet &patterns);

/// Patterns lowering qlow.matmul.
void populateMatmulToLinalgPatterns(const TypeConverter &converter,
                                    RewritePatternSet &patterns);

/// Patterns lowering the float forms of qlow.softmax, qlow.layer_norm,
/// qlow.rms_norm, qlow.gelu, qlow.silu and qlow.rope (f32, or quantized per
/// tensor/per axis around an f32 computation), and qlow.embedding.
void populateFloatOpsToLinalgPatterns(const TypeConverter &converter,
                                      RewritePatternSet &patterns);

/// Patterns lowering the integer-only qlow.int_softmax, qlow.int_layer_norm
/// and qlow.int_gelu (I-BERT) to integer linalg.generic ops, bit-exact with
/// lib/Reference/IntegerOnly.
void populateIntegerOnlyToLinalgPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns);

/// An f32 constant of `type` (f32, or a splat of a shaped type of f32).
Value f32Splat(OpBuilder &b, Location loc, Type type, float value);

/// qlow's f32 erfc(a) for a in [0, 10] (or NaN), scalar or vector: the
/// caller gives t = 1 / (1 + a / 2) and a^2 = hi + lo exactly (hi the f32
/// square, lo its rounding error from an fma); the result is
/// t Q(t) exp(-hi) (1 - lo), Q a degree-8 polynomial (scripts/fit_erfc.py),
/// with relative error within 2^-21 wherever erfc(a) >= 2^-120 and exactly 1
/// at a = 0. Beyond a = 10 erfc is below the smallest f32: callers clamp a
/// there. exp(-hi) is buildExpOfNonPositive's. Used by qlow-approximate-math's
/// math.erfc and by the erf form of qlow.gelu.
Value buildErfcTail(OpBuilder &b, Location loc, Value t, Value hi, Value lo);

/// x > y ? x : y (f32, scalar or vector): y where either is NaN. One
/// `maxps x, y` on x86 (LLVM matches the compare and select), where
/// arith.maximumf, which orders -0 below +0 and keeps NaN from either side,
/// takes a compare and a blend more, and its vector.reduction a scalar chain
/// with branches.
Value selectGreater(OpBuilder &b, Location loc, Value x, Value y);

/// qlow's f32 exp(x) for x <= 0 (scalar or vector): within 2 ulp where the
/// result is normal; 0.0 exactly below about -87.68 (where exp(x) is below
/// 2^-126.5); NaN for NaN. With `clampInput`, x = -inf (a masked score)
/// gives 0.0 too; without it, x must be at least -104. No math.exp: the ops
/// are built here (range reduction, a degree-5 polynomial by Estrin's
/// scheme, 2^n from the exponent bits).
Value buildExpOfNonPositive(OpBuilder &b, Location loc, Value x,
                            bool clampInput);

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "qlow/Conversion/Passes.h.inc"

} // namespace mlir::qlow

#endif // QLOW_CONVERSION_QLOWTOLINALG_H
