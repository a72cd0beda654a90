//===- QlowToLinalg.h - lower qlow to linalg --------------------*- C++ -*-===//
//
// Conversion of qlow ops to linalg/arith on integer and f32 tensors.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_CONVERSION_QLOWTOLINALG_H
#define QLOW_CONVERSION_QLOWTOLINALG_H

#include "dialects/Qlow/IR/QlowOps.h"
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

/// Patterns lowering qlow.matmul.
void populateMatmulToLinalgPatterns(const TypeConverter &converter,
                                    RewritePatternSet &patterns);

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "qlow/Conversion/Passes.h.inc"

} // namespace mlir::qlow

#endif // QLOW_CONVERSION_QLOWTOLINALG_H
