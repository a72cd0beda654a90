//===- QlowOps.h - qlow operations ------------------------------*- C++ -*-===//
//
// Declares the operations of the qlow dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOW_IR_QLOWOPS_H
#define QLOW_DIALECT_QLOW_IR_QLOWOPS_H

#include "dialects/Qlow/IR/QlowDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::qlow {
/// The largest softmax axis of qlow.int_softmax: the i32 sum of its i-exp
/// values (each below 45716) stays exact. lib/Reference checks the same bound.
constexpr int64_t kIntSoftmaxMaxAxisSize = 32768;
/// The largest normalized dimension of qlow.int_layer_norm: |(x - mean) /
/// sd| < 2^10 keeps its i64 fixed-point steps in range.
constexpr int64_t kIntLayerNormMaxDim = 65536;
} // namespace mlir::qlow

#define GET_OP_CLASSES
#include "dialects/Qlow/IR/QlowOps.h.inc"

#endif // QLOW_DIALECT_QLOW_IR_QLOWOPS_H
