//===- ColumnCorrection.h - an epilogue's per-column correction -*- C++ -*-===//
//
// The constant per-column correction an int8 epilogue subtracts first
// (`acc - za * colsum(w)`), taken out of the epilogue so that an AArch64
// kernel starts its accumulators at `-x[col]` instead: shared by the NEON
// (qlow-aarch64-int8-matmul) and SVE (qlow-aarch64-sve-int8-matmul) kernels.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_AARCH64_COLUMNCORRECTION_H
#define QLOW_TARGET_AARCH64_COLUMNCORRECTION_H

#include "qlow/Target/Int8Kernel.h"

#include <cstdint>
#include <optional>

namespace mlir::qlow {

/// A constant per-column correction that the epilogue subtracts from the
/// accumulator first, `acc - x[col]` (convert-qlow-to-linalg's
/// `za * colsum(w)` for activations with a zero point), taken out of the
/// epilogue: the kernel starts its accumulators at `-x[col]` instead, one
/// vector subtraction per row vector less.
struct ColumnCorrection {
  /// x[col] for col < n.
  SmallVector<int32_t> values;
  /// A copy of the epilogue without the subtraction (null when nothing else
  /// is left and the result is the i32 accumulator itself); the caller
  /// erases it once the kernel is built.
  linalg::GenericOp rest;
};

/// Finds the correction in `epilogue` (of a contraction with `n` columns):
/// the accumulator's only use is `arith.subi %acc, %x`, %x computed from
/// constants and column-indexed constant tensors of i32 by muli/addi/subi.
/// The copy without it is built before the epilogue.
std::optional<ColumnCorrection>
takeColumnCorrection(OpBuilder &b, const FusedEpilogue &epilogue, int64_t n);

/// Writes a register tile of `rows` x `vectors` i32 accumulators (`accs`,
/// row-major; 4 lanes each) into `tileOut` at rows `localRow0 + r` and columns
/// `j * 4`, each through `epilogue` when there is one (applied at the
/// matmul's row `row0 + r` and column `col0 + j * 4`, of `m` rows): the end
/// of every NEON and SVE row tile.
Value storeAArch64RowTile(OpBuilder &b, Location loc,
                          const std::optional<FusedEpilogue> &epilogue,
                          ArrayRef<Value> accs, Value row0, Value localRow0,
                          Value col0, int64_t rows, int64_t vectors, int64_t m,
                          function_ref<Value(int64_t)> idx, Value tileOut);

/// Builds one AArch64 int8 kernel: given the contraction, the epilogue left
/// to apply (without its column correction), the kernel's result element
/// type and the accumulators' start values (empty: zero), returns the
/// kernel's result.
using AArch64Int8KernelBuilder = function_ref<Value(
    IRRewriter &, Int8Contraction &, const std::optional<FusedEpilogue> &,
    Type, ArrayRef<int32_t>)>;

/// The driver the NEON and SVE kernel passes share: every int8 contraction
/// in `root`, with its fused epilogue, is replaced by the kernel `build`
/// makes, the epilogue's column correction taken out as the accumulators'
/// start (takeColumnCorrection).
void rewriteAArch64Int8Contractions(Operation *root,
                                    AArch64Int8KernelBuilder build);

} // namespace mlir::qlow

#endif // QLOW_TARGET_AARCH64_COLUMNCORRECTION_H
