//===- QlowX86Dialect.h - x86 kernel-level ops ------------------*- C++ -*-===//
//
// Declares the qlow_x86 dialect and its ops.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOWX86_IR_QLOWX86DIALECT_H
#define QLOW_DIALECT_QLOWX86_IR_QLOWX86DIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/QlowX86/IR/QlowX86OpsDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/QlowX86/IR/QlowX86Ops.h.inc"

#endif // QLOW_DIALECT_QLOWX86_IR_QLOWX86DIALECT_H
