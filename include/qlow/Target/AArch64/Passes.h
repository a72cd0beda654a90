//===- Passes.h - AArch64 codegen passes ------------------------*- C++ -*-===//
//
// Declares the AArch64-specific codegen passes.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_AARCH64_PASSES_H
#define QLOW_TARGET_AARCH64_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/ArmSVE/IR/ArmSVEDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::qlow {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "qlow/Target/AArch64/Passes.h.inc"

} // namespace mlir::qlow

#endif // QLOW_TARGET_AARCH64_PASSES_H
