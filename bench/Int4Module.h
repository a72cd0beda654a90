//===- Int4Module.h - the int4 weight-only matmul the benches time -*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// One function `name(x: f32[m, k]) -> f32[m, n]`: an int4 weight-only
// qlow.matmul (weights i4 per group of `group` rows and column, symmetric;
// activations quantized per row at run time), as qlow-bench matmul (x86) and
// qlow-bench aarch64 time it; or the same with 8-bit weights (i8 of any
// range, MatMulNBits with bits = 8).
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_BENCH_INT4MODULE_H
#define QLOW_BENCH_INT4MODULE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace qlow::bench {

/// `weights` are the k x n stored values (-8..7 for `bits` = 4, -128..127
/// for 8; row-major), `scales` the (k / group) x n group scales.
mlir::OwningOpRef<mlir::ModuleOp>
buildInt4WeightOnlyModule(mlir::MLIRContext &ctx, llvm::StringRef name,
                          int64_t m, int64_t k, int64_t n, int64_t group,
                          llvm::ArrayRef<int8_t> weights,
                          llvm::ArrayRef<float> scales, unsigned bits = 4);

} // namespace qlow::bench

#endif // QLOW_BENCH_INT4MODULE_H
