//===- AttentionKernels.h - Internal interface of the attention kernels ---===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Shared by the f32 kernel (Attention.cpp, which owns the pass) and the int8
// kernel (Int8Attention.cpp); the int8 matmul's in-place K^T packing
// (Int8Matmul.cpp) uses transposeVectorTile too, and the int8 softmax
// (Int8Softmax.cpp) pairwiseSum. Not installed.
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

/// The lanewise sums of `vectors` (L vectors of L f32 or integers, L a power
/// of two): lane j of the result is the sum of the lanes of vectors[j].
/// log2(L) levels, each adding two shuffles of a pair of vectors (within
/// blocks of 4 lanes first): 2 (L - 1) shuffles and L - 1 adds for L sums,
/// against L reductions of log2(L) steps and L inserts.
Value lanewiseSums(OpBuilder &b, Location loc, SmallVector<Value> vectors);

/// The sum of `parts` (f32 values of one type) by a balanced tree of adds:
/// pairs (0, 1), (2, 3), ..., an odd last one carried to the next level.
Value pairwiseSum(OpBuilder &b, Location loc, SmallVector<Value> parts);

/// `values` after `body` at each i in [0, count) of an scf.for that carries
/// them (no loop when count is 0, the body inline at index 0 when it is 1):
/// the decode kernels' loops over the keys of a block.
SmallVector<Value>
loopOver(OpBuilder &b, Location loc, int64_t count, SmallVector<Value> values,
         function_ref<SmallVector<Value>(OpBuilder &, Value, ValueRange)> body);

/// An attention operand [B, H, S, D] as a kernel reads it: the tensor
/// itself, or, when it is the "split heads" transpose of a projection
/// (linalg.transpose with permutation [0, 2, 1, 3] of a [B, S, H, D]
/// tensor), that tensor read with S and H swapped, so that the transposed
/// copy is never made. A row along D is contiguous in both layouts; only the
/// stride between rows differs. (The int8 kernel's views hold stored i8
/// integers.)
struct HeadsView {
  Value value;
  bool seqMajor = false;
  /// The indices of element (batch, head, position, d) in `value`.
  SmallVector<Value> at(Value batch, Value head, Value position,
                        Value d) const {
    if (seqMajor)
      return {batch, position, head, d};
    return {batch, head, position, d};
  }
  /// The [B, H, S, D] shape of the operand `value` is read as.
  SmallVector<int64_t> headsShape() const {
    auto shape = cast<ShapedType>(value.getType()).getShape();
    SmallVector<int64_t> s(shape.begin(), shape.end());
    if (seqMajor)
      std::swap(s[1], s[2]);
    return s;
  }
};

/// Indices of one work item of an attention kernel: its batch, query head,
/// key/value head and first query row.
struct AttentionPosition {
  Value batch, head, kvHead, row0;
};

/// The loop-carried state of a query block: the output accumulators (per row
/// a number of vectors; or, in the f32 kernel's passes over value columns,
/// one [rows, dv] tensor), then per row its running maximum and its running
/// sum, flattened in that order (accumulators of all rows first).
struct OnlineSoftmaxState {
  SmallVector<Value> acc;
  SmallVector<Value> max, sum;
  SmallVector<Value> flat() const;
  /// The state of `rows` rows: the values before the last 2 * rows are
  /// accumulators.
  static OnlineSoftmaxState unflatten(ValueRange values, int64_t rows);
};

/// scf.forall over (batch, head, block) for `blocks` blocks of `rows` query
/// rows starting at row `firstRow` of a [batch, heads, S, dv] f32 result
/// `out` (or its i8 stored integers); `buildBlock` fills the block's
/// [1, 1, rows, dv] tile. Query head h
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

/// A per-tensor 8-bit quantize of the attention's f32 result done in the
/// kernel's epilogue: q = saturate(roundeven(x / scale) + zeroPoint) to
/// [qmin, qmax], NaN to the zero point, the division in f32 (qlow.quantize's
/// semantics, lib/Reference quantizeScalar), stored as i8.
struct OutputQuantization {
  float scale;
  int64_t zeroPoint, qmin, qmax;
};

/// The [B, H, S, Dv] f32 result of the int8 attention `op` (with `int8`),
/// built at the builder's insertion point ([B, S, H, Dv] with
/// `outSeqMajor`): `q8`, `k8`, `v8` are views of the stored integers (i8
/// tensors) of the op's q, k, v, with the op's quantization parameters;
/// `mask` is the op's mask viewed as rank 4, or null. With `outQuant`, the
/// result is the stored integers (i8) of that quantize of it instead.
/// Precondition: unsupportedInt8AttentionReason(op, desc) is empty.
Value buildInt8Attention(OpBuilder &b, AttentionOp op, const TargetDesc &desc,
                         const HeadsView &q8, const HeadsView &k8,
                         const HeadsView &v8, Value mask, float scale,
                         bool outSeqMajor,
                         const OutputQuantization *outQuant = nullptr);

} // namespace mlir::qlow

#endif // QLOW_LIB_TARGET_X86_ATTENTIONKERNELS_H
