//===- QuantTypeUtils.h - checks on upstream quantized types ----*- C++ -*-===//
//
// Helpers that classify tensor element types (f32, integer, quantized) and
// re-verify upstream quantized types against the tensors that carry them.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOW_IR_QUANTTYPEUTILS_H
#define QLOW_DIALECT_QLOW_IR_QUANTTYPEUTILS_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

namespace mlir::qlow {

/// Returns the element type of `type` if it is a quantized type that qlow
/// accepts (uniform per tensor, per axis or sub-channel), else null.
quant::QuantizedType getUniformQuantizedElementType(Type type);

/// True if `type` is a ranked tensor of f32.
bool isF32Tensor(Type type);
/// True if `type` is a ranked tensor of a uniform quantized type.
bool isQuantTensor(Type type);
/// True if `type` is a ranked tensor of signless integers.
bool isIntTensor(Type type);

/// Re-verifies the quantized element type of `tensorType` (if any) against
/// the tensor's shape: scales positive and finite, zero points inside the
/// storage range, expressed type f32, quantized axes inside the rank, one
/// scale per channel or block. Upstream types built with `get` (instead of
/// `getChecked`) skip upstream's checks, so every qlow op re-runs them here.
/// `what` names the value in messages ("operand #0", "result").
LogicalResult
verifyQuantizedTensorType(function_ref<InFlightDiagnostic()> emitError,
                          RankedTensorType tensorType, StringRef what);

/// Returns the per-tensor scale, or failure if `type` is not per tensor.
std::optional<double> getPerTensorScale(Type elementType);

/// True if `qtype` is quantized per axis on dimension `axis`.
bool isPerAxisOn(quant::QuantizedType qtype, int64_t axis);

/// The broadcast shape of two shapes under numpy rules, or failure.
FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                ArrayRef<int64_t> b);

} // namespace mlir::qlow

#endif // QLOW_DIALECT_QLOW_IR_QUANTTYPEUTILS_H
