//===- Int8Kernel.h - shared pieces of the int8 matmul kernels --*- C++ -*-===//
//
// Target-neutral parts of the int8 matmul kernel passes (x86, AArch64): the
// contraction and epilogue that convert-qlow-to-linalg emits, recognised as
// such, and the epilogue applied to accumulator vectors in registers.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_INT8KERNEL_H
#define QLOW_TARGET_INT8KERNEL_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cstdint>
#include <optional>
#include <utility>

namespace mlir::qlow {

/// What a kernel needs to know about a recognised contraction
/// `out[m, n] = sum_k ext(a[m, k]) * ext(w[k, n])`.
struct Int8Contraction {
  linalg::GenericOp op;
  Value lhs;
  /// The constant weights, packed at compile time; null for weights known
  /// only at run time (`rhs`), which the kernel packs when it runs.
  DenseIntElementsAttr weights;
  Value rhs;
  bool lhsSigned;
  int64_t m, n, k;
  /// Leading batch dimensions of lhs, rhs and result (weights per batch:
  /// always run-time weights); empty for a 2-D contraction.
  SmallVector<int64_t> batchShape;
};

/// The number of leading batch loops of `op` when it is a (batched) matmul
/// generic: loops (b..., m, n, k), indexing maps (b..., m, k), (b..., k, n)
/// and (b..., m, n), every loop parallel but k, a reduction; two inputs and
/// one init. Element types and the body are the caller's to check.
std::optional<unsigned> matchMatmulLoops(linalg::GenericOp op);

/// `value` ([b..., r, c], or [r, c] when `batchShape` is empty) as a 3-D
/// tensor [B, r, c] with B the product of `batchShape` (1 when empty).
Value asThreeD(OpBuilder &b, Location loc, Value value,
               ArrayRef<int64_t> batchShape);

/// The inverse of asThreeD for a kernel's result: [B, m, n] back to
/// [b..., m, n] (`value` itself for one batch dimension), or, with no batch
/// dimensions, the [m, n] it was given as (a 2-D `value`, returned as is).
Value fromThreeD(OpBuilder &b, Location loc, Value value,
                 ArrayRef<int64_t> batchShape);

/// Recognises the 2-D i8 x i8 -> i32 contraction with constant s8 weights and
/// a zero-filled accumulator, exactly as convert-qlow-to-linalg builds it.
/// With `runtimeWeights`, also s8 weights that are not constants, and the
/// batched form `out[b..., m, n] = sum_k ext(a[b..., m, k]) * w[b..., k, n]`
/// (a product of two activations), both with u8 activations only.
std::optional<Int8Contraction> matchInt8Contraction(linalg::GenericOp op,
                                                    bool runtimeWeights = false);

/// An elementwise linalg.generic consuming the contraction, computed on the
/// accumulators while they are still in registers.
struct FusedEpilogue {
  linalg::GenericOp op;
  /// Which input is the contraction's result.
  unsigned accInput;
  /// Which input is the result of a sibling contraction that the same kernel
  /// computes (see matchSiblingContraction), if any; applyEpilogue then maps
  /// it to the sibling's accumulator registers instead of reading memory.
  std::optional<unsigned> siblingInput = std::nullopt;
  /// The batch loops before (m, n), as many as the batched contraction's
  /// (see matchEpilogue's `batchDims`); applyEpilogue then reads inputs
  /// indexed by them at the batch indices it is given.
  unsigned batchDims = 0;
};

/// Finds the epilogue that convert-qlow-to-linalg puts after a contraction:
/// the contraction's only user, elementwise over (m, n), whose other inputs
/// are indexed by row, column or both, or are 0-d (a scalar), and whose body
/// maps lane by lane onto vectors (constants, elementwise-mappable arith/math
/// ops and lookups in 1-D tables). With `batchDims` (a batched contraction,
/// [b..., m, n]), the epilogue has those batch loops first, and each input's
/// indices either start with all of them, in order, or use none.
std::optional<FusedEpilogue> matchEpilogue(linalg::GenericOp contraction,
                                           unsigned batchDims = 0);

/// A second contraction whose i32 accumulators `epilogue` (of `c`) reads
/// element for element, with the same activations `c` has: SwiGLU's gate and
/// up projections of one input, `silu(x Wg) * (x Wu)`, after
/// qlow-fuse-elementwise made their epilogues, the silu and the mul one
/// generic. One kernel can then compute both: the same activation bytes feed
/// the dot products of both weight panels, and neither set of accumulators
/// goes through memory. Returns the sibling and the epilogue input it is,
/// when the sibling's result has no other use and both contractions have the
/// same activations, signedness and shape.
std::optional<std::pair<Int8Contraction, unsigned>>
matchSiblingContraction(const Int8Contraction &c,
                        const FusedEpilogue &epilogue);

/// A target's lookup of byte lanes in a constant table of at most 256 bytes
/// from registers instead of a gather: `table` holds the table's bytes and
/// `indices` is a vector of i8 lanes, each the low byte of an index below
/// table.size() (as the epilogue's tensor.extract requires). Returns the
/// looked-up bytes (the type of `indices`), or null where the target has no
/// such form for these lanes (the epilogue then gathers).
using ByteTableLookup = function_ref<Value(
    OpBuilder &b, Location loc, ArrayRef<uint8_t> table, Value indices)>;

/// Computes `epilogue` on one accumulator vector of `lanes` i32: the lanes
/// are columns [col, col + lanes) of row `row` of an M = `m` matmul.
/// Row-indexed inputs are read at the row (clamped to the last real one:
/// padded rows are discarded), column-indexed ones with a masked read (the
/// last panel runs past N), table lookups become gathers, and the body is
/// cloned lane-wise onto vectors. `idx` makes index constants. With a
/// sibling contraction (`epilogue.siblingInput`), `siblingAcc` holds its
/// accumulators for the same lanes. With `byteLookup`, lookups of i8 values
/// in constant tables of at most 256 entries are the target's instead of
/// gathers. A batched epilogue (`epilogue.batchDims`) reads its batched
/// inputs at `batchIndices` (one index per batch loop) first.
Value applyEpilogue(OpBuilder &b, Location loc, const FusedEpilogue &epilogue,
                    Value acc, Value row, Value col, int64_t m, int64_t lanes,
                    function_ref<Value(int64_t)> idx,
                    Value siblingAcc = nullptr,
                    ByteTableLookup byteLookup = nullptr,
                    ValueRange batchIndices = {});

/// The last op before which the kernel replacing `c` (and `epilogue`) can be
/// built: `c` itself, or the last definition of an epilogue input that
/// follows it in the same block.
Operation *kernelInsertionAnchor(const Int8Contraction &c,
                                 const std::optional<FusedEpilogue> &epilogue);
/// The same for any contraction generic (the f32 kernel's).
Operation *kernelInsertionAnchor(linalg::GenericOp contraction,
                                 const std::optional<FusedEpilogue> &epilogue);

/// Sign- or zero-extends `value` to `type`.
Value extendStorage(OpBuilder &b, Location loc, Value value, bool isSigned,
                    Type type);

/// `value` rounded up to a multiple of `multiple`.
int64_t roundUp(int64_t value, int64_t multiple);

/// Builds one register tile of a kernel: rows [row, row + rows) of the
/// matmul, columns [col0, col0 + nr) (panel `panelIndex` of the packed
/// weights), stored into `tile`, the iteration's panel of the output; returns
/// the updated tile. `localRow()` builds, at `b`'s insertion point, the index
/// of `row` within `tile` (`row` itself when there is a single row block);
/// it is a callback so that the kernel decides where in the tile's body it
/// goes (after the K loop, next to the stores that use it).
using Int8RowTileBuilder = function_ref<Value(
    OpBuilder &b, Location loc, Value row, function_ref<Value()> localRow,
    Value panelIndex, Value col0, int64_t rows, Value tile)>;
/// The same for a batched kernel: `batch` is the iteration's batch index.
using Int8BatchedRowTileBuilder = function_ref<Value(
    OpBuilder &b, Location loc, Value batch, Value row,
    function_ref<Value()> localRow, Value panelIndex, Value col0, int64_t rows,
    Value tile)>;

/// The scaffold shared by the int8 kernels (x86, AArch64): an scf.forall
/// over row blocks of `rowBlock` rows (when M needs more than one) x column
/// panels of `nr` columns of `out` (a tensor<m x np>, np a multiple of `nr`),
/// in each iteration the panel slice of the output, a loop of register tiles
/// of `rows` rows over the block's full tiles and one over its partial tile,
/// each tile built by `buildRowTile`, the parallel_insert_slice, and the
/// final extract_slice from np to `n` columns. Index constants come from
/// `idx`, which builds them with `constants`: the scaffold points that at the
/// forall, which every use is nested in. With `mergeRest` (and one row
/// block), the partial tile's rows are built as part of the last full tile:
/// one tile of `rows + m % rows` rows.
Value buildInt8KernelScaffold(OpBuilder &b, Location loc, Value out, int64_t m,
                              int64_t n, int64_t nr, int64_t rowBlock,
                              int64_t rows, OpBuilder &constants,
                              function_ref<Value(int64_t)> idx,
                              Int8RowTileBuilder buildRowTile,
                              bool mergeRest = false);

/// The scaffold over `batches` independent matmuls: `out` is a
/// tensor<batches x m x np>, the forall has the batch as its first
/// dimension, and each tile builder gets the batch index. `batches` = 0 is
/// the unbatched scaffold above (`out` 2-D).
Value buildBatchedInt8KernelScaffold(OpBuilder &b, Location loc, Value out,
                                     int64_t batches, int64_t m, int64_t n,
                                     int64_t nr, int64_t rowBlock,
                                     int64_t rows, OpBuilder &constants,
                                     function_ref<Value(int64_t)> idx,
                                     Int8BatchedRowTileBuilder buildRowTile,
                                     bool mergeRest = false);

} // namespace mlir::qlow

#endif // QLOW_TARGET_INT8KERNEL_H
