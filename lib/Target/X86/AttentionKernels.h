//===- AttentionKernels.h - Internal interface of the attention kernels ---===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Shared by the f32 kernel (Attention.cpp, which owns the pass) and the int8
// kernel (Int8Attention.cpp). Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_LIB_TARGET_X86_ATTENTIONKERNELS_H
#define QLOW_LIB_TARGET_X86_ATTENTIONKERNELS_H

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Target/TargetDesc.h"

#include <string>

namespace mlir::qlow {

/// The transpose of the L x L tile in `rows` (L vectors of L elements of any
/// type, L a power of two), in registers by vector.shuffle.
SmallVector<Value> transposeVectorTile(OpBuilder &b, Location loc,
                                       SmallVector<Value> rows);

/// Indices of one work item of an attention kernel: its batch, query head,
/// key/value head and first query row.
struct AttentionPosition {
  Value batch, head, kvHead, row0;
};

/// The loop-carried state of a query block: per row its output accumulators
/// (`vectors` vectors), its running maximum and its running sum, flattened in
/// that order (accumulators of all rows first).
struct OnlineSoftmaxState {
  SmallVector<Value> acc; // rows * vectors
  SmallVector<Value> max, sum;
  SmallVector<Value> flat() const;
  static OnlineSoftmaxState unflatten(ValueRange values, int64_t rows,
                                      int64_t vectors);
};

/// scf.forall over (batch, head, block) for `blocks` blocks of `rows` query
/// rows starting at row `firstRow` of a [batch, heads, S, dv] f32 result
/// `out`; `buildBlock` fills the block's [1, 1, rows, dv] tile. Query head h
/// reads key/value head h / (heads / kvHeads). With `seqMajor`, `out` is
/// [batch, S, heads, dv] and the tile [1, rows, 1, dv].
Value buildAttentionForall(
    OpBuilder &b, Location loc, Value out, int64_t batch, int64_t heads,
    int64_t kvHeads, int64_t dv, int64_t rows, int64_t blocks,
    int64_t firstRow,
    function_ref<Value(OpBuilder &, const AttentionPosition &, Value)>
        buildBlock,
    bool seqMajor = false);

/// Why the int8 form of `op` (it has `int8`) cannot be lowered for `desc`,
/// or an empty string.
std::string unsupportedInt8AttentionReason(AttentionOp op,
                                           const TargetDesc &desc);

/// The [B, H, S, Dv] f32 result of the int8 attention `op` (with `int8`),
/// built at the builder's insertion point: q, k, v are read as their stored
/// integers; `mask` is the op's mask viewed as rank 4, or null.
/// Precondition: unsupportedInt8AttentionReason(op, desc) is empty.
Value buildInt8Attention(OpBuilder &b, AttentionOp op, const TargetDesc &desc,
                         Value mask, float scale);

} // namespace mlir::qlow

#endif // QLOW_LIB_TARGET_X86_ATTENTIONKERNELS_H
