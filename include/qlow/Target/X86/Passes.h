//===- Passes.h - x86 codegen passes ----------------------------*- C++ -*-===//
//
// Declares the x86-specific codegen passes.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_X86_PASSES_H
#define QLOW_TARGET_X86_PASSES_H

#include "dialects/QlowX86/IR/QlowX86Dialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::qlow {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "qlow/Target/X86/Passes.h.inc"

} // namespace mlir::qlow

#endif // QLOW_TARGET_X86_PASSES_H
