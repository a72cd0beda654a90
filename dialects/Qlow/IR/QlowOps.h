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

#define GET_OP_CLASSES
#include "dialects/Qlow/IR/QlowOps.h.inc"

#endif // QLOW_DIALECT_QLOW_IR_QLOWOPS_H
