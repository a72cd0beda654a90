//===- QlowDialect.h - qlow dialect -----------------------------*- C++ -*-===//
//
// Declares the qlow dialect and its enumerated attributes.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOW_IR_QLOWDIALECT_H
#define QLOW_DIALECT_QLOW_IR_QLOWDIALECT_H

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Dialect.h"

#include "dialects/Qlow/IR/QlowDialect.h.inc"
#include "dialects/Qlow/IR/QlowEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Qlow/IR/QlowAttrs.h.inc"

#endif // QLOW_DIALECT_QLOW_IR_QLOWDIALECT_H
