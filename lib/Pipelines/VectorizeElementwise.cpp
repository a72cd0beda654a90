//===- VectorizeElementwise.cpp - tile and vectorize elementwise generics -===//
//
// qlow-vectorize-elementwise: upstream tiling (TilingInterface) to one
// vector of the innermost loop, then upstream linalg vectorization; before
// that, row fusion of a row-parallel op with the row-local ops it reads
// (upstream tile-and-fuse), e.g. a layer_norm and its quantize.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"
#include "qlow/Target/TargetDesc.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWVECTORIZEELEMENTWISEPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {
/// Whether `map` reads along `loop` contiguously or not at all: the loop is
/// absent (a broadcast) or only the last result. Otherwise a tile of the
/// loop's vector width would be a strided gather (a transposed read, as a
/// generic with a permuted input map makes), which linalg::vectorize writes
/// as a transfer_read with a permutation map that the LLVM lowering does not
/// take; such a generic is left to the loops.
bool readsContiguouslyAlong(AffineMap map, unsigned loop) {
  for (auto [i, expr] : llvm::enumerate(map.getResults()))
    if (expr.isFunctionOfDim(loop) &&
        (i + 1 != map.getNumResults() || !isa<AffineDimExpr>(expr)))
      return false;
  return true;
}

/// Whether a loop of `op` has no iterations (a dimension of size 0): there is
/// nothing to vectorize, and a tile of width 0 would crash upstream's tiling.
/// linalg-to-loops lowers such an op to loops that do not run.
bool hasEmptyLoop(linalg::GenericOp op) {
  return llvm::is_contained(op.getStaticLoopRanges(), 0);
}

/// Whether `op` reads or writes a tensor of integers narrower than a byte
/// (i1, i4), as an operand or through a tensor.extract in its body. Such a
/// tensor keeps one value per byte in memory (LLVM's alloc size of i4), but
/// LLVM loads and stores a vector of them as packed bits, so a contiguous
/// vector access would read the wrong values (an i4 row of 5 values came out
/// shifted); scalar loops, and gathers of single elements, are correct.
bool touchesSubByteIntegers(linalg::GenericOp op) {
  auto subByte = [](Value v) {
    auto type = dyn_cast<IntegerType>(getElementTypeOrSelf(v.getType()));
    return type && type.getWidth() < 8;
  };
  if (llvm::any_of(op->getOperands(), subByte))
    return true;
  bool found = false;
  op.getRegion().walk([&](tensor::ExtractOp extract) {
    found |= subByte(extract.getTensor());
  });
  return found;
}

/// An all-parallel generic on static tensors with at least one loop, none of
/// them empty, every operand read or written contiguously along the
/// innermost loop, none of sub-byte integers.
bool isVectorizable(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumLoops() == 0 ||
      op.getNumReductionLoops() != 0 || touchesSubByteIntegers(op))
    return false;
  unsigned innermost = op.getNumLoops() - 1;
  if (!llvm::all_of(op.getIndexingMapsArray(), [&](AffineMap map) {
        return readsContiguouslyAlong(map, innermost);
      }))
    return false;
  return llvm::all_of(op->getOperands(),
                      [](Value v) {
                        auto type = dyn_cast<RankedTensorType>(v.getType());
                        return !type || type.hasStaticShape();
                      }) &&
         !hasEmptyLoop(op);
}

/// Tiles `op` to 1 x ... x 1 x `width` (a divisor of its innermost size)
/// and vectorizes each tile at its static shape.
void tileAndVectorize(RewriterBase &rewriter, TilingInterface op,
                      int64_t width) {
  auto linalgOp = cast<linalg::LinalgOp>(op.getOperation());
  unsigned loops = linalgOp.getNumLoops();
  SmallVector<OpFoldResult> tileSizes(loops, rewriter.getIndexAttr(1));
  tileSizes.back() = rewriter.getIndexAttr(width);
  scf::SCFTilingOptions options;
  options.setTileSizes(tileSizes);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled =
      scf::tileUsingSCF(rewriter, op, options);
  if (failed(tiled))
    return; // The op stays for the loops.
  rewriter.replaceOp(op, tiled->replacements);
  for (Operation *tile : tiled->tiledOps) {
    rewriter.setInsertionPoint(tile);
    // Static shapes: no vector sizes and no masks. (Upstream reads one
    // scalable flag per vector size, so none are given either.)
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, tile, /*inputVectorSizes=*/{},
                          /*inputScalableVecDims=*/{},
                          /*vectorizeNDExtract=*/true);
    if (succeeded(vectorized))
      rewriter.replaceOp(tile, vectorized->replacements);
  }
}

/// A generic on static tensors whose only reduction is its innermost loop
/// (a sum, a minimum or a maximum per row), that loop a multiple of `lanes`.
bool isInnerReduction(linalg::GenericOp op, int64_t lanes) {
  if (touchesSubByteIntegers(op))
    return false;
  // Row statistics of an f32 matrix (the range of a dynamic quantization):
  // one input, f32 throughout, at most two loops. Integer row statistics
  // (the max and sums of the integer-only softmax and layer_norm), with any
  // number of inputs: integer addi/maxsi/minsi are associative and
  // commutative (addi modulo 2^n), so partial results give exactly the
  // sequential loop's values. Others (higher ranks) stay loops for now.
  auto isF32 = [](Value v) {
    return getElementTypeOrSelf(v.getType()).isF32();
  };
  auto isInt = [](Value v) {
    return isa<IntegerType>(getElementTypeOrSelf(v.getType()));
  };
  bool f32Row =
      op.getNumDpsInputs() == 1 && llvm::all_of(op->getOperands(), isF32);
  bool intRow = llvm::all_of(op->getOperands(), isInt);
  // Float row sums accumulated in f64 (the float layer_norm's and rms_norm's
  // sums and sums of squares, softmax's denominator): f32 or f64 inputs, one
  // f64 result. Partial sums reassociate the f64 additions: the f64 result
  // may differ from the sequential one by a few f64 ulps (relative 1e-16
  // for D = 768), far inside the float paths' stated tolerances, and the
  // sequential chain of dependent f64 adds (4 cycles each) is gone.
  auto isF32OrF64 = [](Value v) {
    Type t = getElementTypeOrSelf(v.getType());
    return t.isF32() || t.isF64();
  };
  bool f64Sum = op.getNumDpsInits() == 1 &&
                getElementTypeOrSelf(op.getDpsInits()[0].getType()).isF64() &&
                llvm::all_of(op->getOperands(), isF32OrF64) &&
                llvm::all_of(op.getRegion().front().without_terminator(),
                             [](Operation &inner) {
                               return isa<arith::ExtFOp, arith::SubFOp,
                                          arith::MulFOp, arith::AddFOp>(inner);
                             });
  if (!op.hasPureTensorSemantics() || op.getNumLoops() == 0 ||
      op.getNumLoops() > 2 || (!f32Row && !intRow && !f64Sum) ||
      op.getNumReductionLoops() != 1 ||
      !linalg::isReductionIterator(op.getIteratorTypesArray().back()))
    return false;
  if (!llvm::all_of(op->getOperands(),
                    [](Value v) {
                      auto type = dyn_cast<RankedTensorType>(v.getType());
                      return !type || type.hasStaticShape();
                    }) ||
      hasEmptyLoop(op))
    return false;
  // The reduced loop must walk the inputs contiguously (the innermost
  // dimension, or not at all): a reduction over the rows of a [K, N] matrix
  // (the column sums of run-time weights) would read strided vectors, which
  // the LLVM lowering cannot load; it stays a loop.
  unsigned reduced = op.getNumLoops() - 1;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    for (unsigned r = 0; r < map.getNumResults(); ++r)
      if (map.getResult(r).isFunctionOfDim(reduced) &&
          (r + 1 != map.getNumResults() ||
           map.getResult(r) != getAffineDimExpr(reduced, op.getContext())))
        return false;
  }
  int64_t k = op.getStaticLoopRanges().back();
  return k >= lanes && k % lanes == 0;
}

/// Tiles an inner reduction to one row and one vector of partial results
/// (upstream's partial-reduction tiling: the loop accumulates `lanes`
/// partial results elementwise, a final linalg.reduce combines them) and
/// vectorizes both parts. Fails, leaving the op, where upstream cannot (a
/// combiner without a neutral element).
void tileAndVectorizeReduction(RewriterBase &rewriter, linalg::GenericOp op,
                               int64_t lanes) {
  unsigned loops = op.getNumLoops();
  // One row at a time (upstream's partial-reduction tiling does not tile
  // parallel loops itself)...
  Operation *row = op;
  if (loops > 1) {
    SmallVector<OpFoldResult> rowSizes(loops, rewriter.getIndexAttr(1));
    rowSizes.back() = rewriter.getIndexAttr(0);
    scf::SCFTilingOptions rowOptions;
    rowOptions.setTileSizes(rowSizes);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> rows = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), rowOptions);
    if (failed(rows) || rows->tiledOps.size() != 1)
      return;
    rewriter.replaceOp(op, rows->replacements);
    row = rows->tiledOps.front();
  }
  // ...then the row in vectors of partial results.
  SmallVector<OpFoldResult> tileSizes(loops, rewriter.getIndexAttr(0));
  tileSizes.back() = rewriter.getIndexAttr(lanes);
  scf::SCFTilingOptions options;
  options.setTileSizes(tileSizes);
  options.setReductionTilingStrategy(
      ReductionTilingStrategy::PartialReductionOuterReduction);
  options.setReductionDims({loops - 1});
  rewriter.setInsertionPoint(row);
  FailureOr<scf::SCFTilingResult> tiled =
      scf::tileUsingSCF(rewriter, cast<TilingInterface>(row), options);
  if (failed(tiled))
    return; // The row stays a loop.
  rewriter.replaceOp(row, tiled->replacements);
  SmallVector<Operation *> parts(tiled->tiledOps);
  llvm::append_range(parts, tiled->mergeOps);
  for (Operation *part : parts) {
    rewriter.setInsertionPoint(part);
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, part);
    if (succeeded(vectorized))
      rewriter.replaceOp(part, vectorized->replacements);
  }
  // Each iteration reads the partial results from the loop-carried tensor
  // and writes them back (a transfer_read and transfer_write of the same
  // vector): upstream's subset hoisting carries the vector itself, so the
  // partial results stay in registers instead of a buffer that
  // bufferization allocates per row and the loop stores to every iteration.
  // (The vectorizer's constants, indices and padding, are created inside
  // the loop: they are moved out first, or the transfers are not invariant.)
  for (LoopLikeOpInterface loop : tiled->loops) {
    moveLoopInvariantCode(loop);
    hoistLoopInvariantSubsets(rewriter, loop);
  }
}

/// Bytes that `ops` read and write: every tensor operand of every op (static
/// shapes), so an intermediate that one op of a fused chain writes and the
/// next reads counts twice, as the work it is. The parallel-region cost model
/// (TargetDesc::worthParallelRegion) weighs a loop nest by this.
int64_t loopNestBytes(ArrayRef<linalg::GenericOp> ops) {
  int64_t bytes = 0;
  for (linalg::GenericOp op : ops)
    for (Value operand : op->getOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.getType());
      if (!type || !type.hasStaticShape() ||
          !type.getElementType().isIntOrFloat())
        continue;
      int64_t elementBits = type.getElementType().getIntOrFloatBitWidth();
      bytes += type.getNumElements() * std::max<int64_t>(1, elementBits / 8);
    }
  return bytes;
}

/// Whether a loop nest gets a parallel region: the target's cost model, or
/// the pass option's bytes per thread where it is given.
struct ParallelRegionModel {
  const qlow::TargetDesc &desc;
  int64_t minBytesPerThreadOverride; // -1: the TargetDesc's.
  bool worthRegion(ArrayRef<linalg::GenericOp> ops) const {
    int64_t bytes = loopNestBytes(ops);
    if (minBytesPerThreadOverride >= 0)
      return bytes >= 2 * minBytesPerThreadOverride;
    return desc.worthParallelRegion(bytes);
  }
};

/// Distributes the outermost parallel loop of `op` with more than one
/// iteration (not the innermost, which is the vectors') over an scf.forall,
/// one iteration per thread's task, when the cost model gives `op` a
/// parallel region; the pipeline's scf-forall-to-parallel and
/// convert-scf-to-openmp make it an OpenMP loop. Each iteration computes the
/// same elements (and the same row statistics) as before, in the same order,
/// so results are unchanged. Returns the op inside the loop, or `op` where
/// nothing was distributed (it stays on the calling thread).
linalg::GenericOp distributeRows(RewriterBase &rewriter, linalg::GenericOp op,
                                 const ParallelRegionModel &model) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.size() < 2 || !model.worthRegion({op}))
    return op;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  std::optional<unsigned> dim;
  for (unsigned i = 0; i + 1 < ranges.size(); ++i) {
    if (ranges[i] > 1 && linalg::isParallelIterator(iterators[i])) {
      dim = i;
      break;
    }
  }
  if (!dim)
    return op;
  SmallVector<OpFoldResult> sizes(ranges.size(), rewriter.getIndexAttr(0));
  sizes[*dim] = rewriter.getIndexAttr(1);
  scf::SCFTilingOptions options;
  options.setTileSizes(sizes);
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled) || tiled->tiledOps.size() != 1)
    return op;
  auto inner = dyn_cast<linalg::GenericOp>(tiled->tiledOps.front());
  if (!inner)
    return op;
  rewriter.replaceOp(op, tiled->replacements);
  return inner;
}

/// Row fusion: a row-parallel generic (the consumer: its outermost loop
/// parallel, over more than one row) and the generics it reads row by row
/// (its producers, transitively: row statistics, the normalization before a
/// quantize) become one loop over rows, one row per iteration, with
/// upstream's tile-and-fuse (scf::tileConsumerAndFuseProducersUsingSCF):
/// a layer_norm's row sum, mean, variance sum and normalization and the
/// quantize after it are one pass over each row instead of five over the
/// matrix, and, where the chain is worth a parallel region (the cost model
/// weighs the bytes of all its ops), one fork and join instead of four. A
/// producer is fused only where the consumer's row reads the same row of it
/// (the slice it needs is one row: a broadcast operand, a transposed read or a
/// whole-vector parameter computed by a generic stays outside). A fused
/// producer whose result is also used outside (a normalization that feeds a
/// residual add too) yields it from the loop; one whose outside user comes
/// before the consumer is not fused. Every row is computed with the same
/// operations in the same order as before (the reductions' vector partial sums
/// included), so results are bit for bit unchanged. Returns the fused ops
/// inside the loop (to vectorize), or nothing where nothing was fused.
SmallVector<linalg::GenericOp> fuseRows(RewriterBase &rewriter,
                                        linalg::GenericOp consumer,
                                        int64_t lanes,
                                        const ParallelRegionModel &model) {
  auto rowLocalCandidate = [&](linalg::GenericOp op) {
    return op && (isVectorizable(op) || isInnerReduction(op, lanes));
  };
  if (!rowLocalCandidate(consumer) || consumer.getNumLoops() < 2 ||
      consumer.getNumDpsInits() != 1)
    return {};
  SmallVector<int64_t> ranges = consumer.getStaticLoopRanges();
  const int64_t rows = ranges.front();
  if (rows < 2 ||
      !linalg::isParallelIterator(consumer.getIteratorTypesArray().front()))
    return {};
  Block *block = consumer->getBlock();
  // The producers that may be fused: generics of this block that the
  // consumer reads, directly or through other such producers, whose result
  // has `rows` rows.
  llvm::SetVector<Operation *> fusable;
  SmallVector<Operation *> worklist = {consumer};
  while (!worklist.empty()) {
    auto op = cast<linalg::GenericOp>(worklist.pop_back_val());
    for (Value input : op.getDpsInputs()) {
      auto producer = input.getDefiningOp<linalg::GenericOp>();
      if (!rowLocalCandidate(producer) || producer->getBlock() != block ||
          producer->getNumResults() != 1 || fusable.contains(producer))
        continue;
      auto type = cast<RankedTensorType>(producer->getResult(0).getType());
      if (type.getRank() == 0 || type.getDimSize(0) != rows ||
          !linalg::isParallelIterator(producer.getIteratorTypesArray().front()))
        continue;
      fusable.insert(producer);
      worklist.push_back(producer);
    }
  }
  if (fusable.empty())
    return {};
  // Whether a fused producer must also be yielded (used outside the chain),
  // or cannot be fused (used outside before the consumer).
  auto outsideUsers = [&](Operation *producer, Operation *loop, bool &before) {
    bool any = false;
    before = false;
    for (Operation *user : producer->getUsers()) {
      if (user == consumer.getOperation() || fusable.contains(user))
        continue;
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor || ancestor == loop)
        continue; // Inside the new loop.
      any = true;
      before |= !consumer->isBeforeInBlock(ancestor);
    }
    return any;
  };
  scf::SCFTileAndFuseOptions options;
  SmallVector<OpFoldResult> sizes(ranges.size(), rewriter.getIndexAttr(0));
  sizes.front() = rewriter.getIndexAttr(1);
  // The chain's ops (those that will be fused: the fusion control below
  // takes at most these) weigh in together: one region for all of them.
  SmallVector<linalg::GenericOp> chain = {consumer};
  for (Operation *producer : fusable)
    chain.push_back(cast<linalg::GenericOp>(producer));
  options.tilingOptions.setTileSizes(sizes);
  options.tilingOptions.setLoopType(
      model.worthRegion(chain) ? scf::SCFTilingOptions::LoopType::ForallOp
                               : scf::SCFTilingOptions::LoopType::ForOp);
  options.setFusionControlFn(
      [&](tensor::ExtractSliceOp slice, OpResult producer,
          bool isDestinationOperand)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        if (isDestinationOperand || !fusable.contains(producer.getOwner()))
          return std::nullopt;
        // One row of the producer, no more.
        if (slice.getType().getRank() == 0 ||
            slice.getType().getDimSize(0) != 1)
          return std::nullopt;
        bool before = false;
        bool yield = outsideUsers(producer.getOwner(),
                                  block->findAncestorOpInBlock(*slice), before);
        if (before)
          return std::nullopt;
        return scf::SCFTileAndFuseOptions::ControlFnResult{yield};
      });
  rewriter.setInsertionPoint(consumer);
  FailureOr<scf::SCFTileAndFuseResult> result =
      scf::tileConsumerAndFuseProducersUsingSCF(
          rewriter, cast<TilingInterface>(consumer.getOperation()), options);
  if (failed(result))
    return {};
  if (result->loops.empty())
    return {};
  Operation *loop = result->loops.front().getOperation();
  if (result->fusedProducers.empty()) {
    // Nothing was fused: drop the plain tiling (nothing uses it yet); the
    // consumer takes the usual path.
    rewriter.eraseOp(loop);
    return {};
  }
  for (auto [original, replacement] : result->replacements)
    rewriter.replaceUsesWithIf(original, replacement, [&](OpOperand &use) {
      return !loop->isAncestor(use.getOwner());
    });
  // The originals are dead now (fused, and their outside uses replaced).
  SmallVector<Operation *> originals = {consumer};
  llvm::append_range(originals, result->fusedProducers);
  bool erased = true;
  while (erased) {
    erased = false;
    for (Operation *&op : originals)
      if (op && op->use_empty()) {
        rewriter.eraseOp(op);
        op = nullptr;
        erased = true;
      }
  }
  // A producer that two fused ops read (a row's mean: the variance and the
  // normalization) was fused once for each: computed once per row after CSE.
  DominanceInfo dominance;
  eliminateCommonSubExpressions(rewriter, dominance, loop);
  SmallVector<linalg::GenericOp> tiled;
  loop->walk([&](linalg::GenericOp generic) { tiled.push_back(generic); });
  return tiled;
}

/// A transfer_read of a linalg.fill's result is the fill value broadcast:
/// the zero partial sums a reduction loop starts from (after the partial
/// results are carried as a vector) would otherwise be a buffer allocated,
/// filled and read back once per row.
struct FoldTransferReadOfFill : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferReadOp read,
                                PatternRewriter &rewriter) const override {
    // Through slices of the filled tensor too (a row's slice of the [rows]
    // partial sums).
    Value base = read.getBase();
    while (auto slice = base.getDefiningOp<tensor::ExtractSliceOp>())
      base = slice.getSource();
    auto fill = base.getDefiningOp<linalg::FillOp>();
    // In bounds and unmasked: every lane is read from the filled tensor
    // (not the padding).
    if (!fill || read.getMask() ||
        !llvm::all_of(read.getInBoundsValues(), [](bool b) { return b; }))
      return failure();
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(read, read.getVectorType(),
                                                     fill.getInputs().front());
    return success();
  }
};

/// A transfer_read of the single element a transfer_write just wrote (same
/// indices) is that element broadcast. A row's mean and 1/std (layer_norm,
/// rms_norm) are computed as one-element slices of a [rows] tensor made
/// outside the row loop, written once and read back broadcast; the tensor
/// written from inside the parallel loop made One-Shot Bufferize give every
/// row (every iteration of the forall) buffers of its own: two malloc/free
/// pairs per row of each normalization. Folded, the writes are dead.
struct FoldTransferReadOfSingleElementWrite
    : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferReadOp read,
                                PatternRewriter &rewriter) const override {
    auto write = read.getBase().getDefiningOp<vector::TransferWriteOp>();
    if (!write || write.getMask() || read.getMask() ||
        !isa<RankedTensorType>(write.getBase().getType()) ||
        write.getVectorType().getNumElements() != 1 ||
        !llvm::all_of(write.getInBoundsValues(), [](bool b) { return b; }) ||
        write.getIndices() != read.getIndices())
      return failure();
    // Every lane of the read is that element: each of its dimensions is a
    // broadcast or of size 1 (in bounds, being the written element's).
    for (unsigned dim = 0, e = read.getVectorType().getRank(); dim < e; ++dim)
      if (!read.isBroadcastDim(dim) &&
          read.getVectorType().getDimSize(dim) != 1)
        return failure();
    Value element = vector::ExtractOp::create(
        rewriter, read.getLoc(), write.getVector(),
        SmallVector<int64_t>(write.getVectorType().getRank(), 0));
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(read, read.getVectorType(),
                                                     element);
    return success();
  }
};

struct QlowVectorizeElementwisePass
    : qlow::impl::QlowVectorizeElementwisePassBase<
          QlowVectorizeElementwisePass> {
  using QlowVectorizeElementwisePassBase::QlowVectorizeElementwisePassBase;

  void runOnOperation() override {
    std::string error;
    FailureOr<qlow::TargetDesc> desc =
        qlow::lookupTargetDesc("x86_64", cpu, &error);
    if (failed(desc)) {
      getOperation().emitError() << error;
      return signalPassFailure();
    }
    const int64_t minBytesPerThread = parallelMinBytesPerThread;
    if (minBytesPerThread < -1) {
      getOperation().emitError()
          << "qlow-vectorize-elementwise: parallel-min-bytes-per-thread must "
             "be -1 (the target description's, "
          << desc->parallelMinBytesPerThread << " for " << desc->name
          << ") or at least 0; got " << minBytesPerThread;
      return signalPassFailure();
    }
    const ParallelRegionModel model{*desc, minBytesPerThread};
    const int64_t lanes = desc->i32Lanes();
    IRRewriter rewriter(&getContext());
    // Transposes left outside the kernels (a decoder's q and k heads
    // [1, S, H, D] -> [1, H, S, D] before rope) become generics, so that
    // those that keep the innermost dimension are vectorized and their rows
    // spread over the threads like any elementwise op, instead of lowering
    // to a scalar copy on the calling thread. One that moves the innermost
    // dimension stays a loop nest (isVectorizable).
    SmallVector<linalg::TransposeOp> transposes;
    for (Operation &op : getOperation().getBody().getOps())
      if (auto transpose = dyn_cast<linalg::TransposeOp>(op))
        if (transpose.hasPureTensorSemantics())
          transposes.push_back(transpose);
    for (linalg::TransposeOp transpose : transposes) {
      rewriter.setInsertionPoint(transpose);
      (void)linalg::generalizeNamedOp(rewriter, transpose);
    }
    // Row chains first (a consumer before its producers: last ops first).
    // (Fusion erases ops: the candidates are collected again after each.)
    SmallVector<linalg::GenericOp> fusedOps;
    llvm::DenseSet<Operation *> tried;
    for (bool changed = true; changed;) {
      changed = false;
      SmallVector<linalg::GenericOp> consumers;
      for (Operation &op : getOperation().getBody().getOps())
        if (auto generic = dyn_cast<linalg::GenericOp>(op))
          consumers.push_back(generic);
      for (linalg::GenericOp op : llvm::reverse(consumers)) {
        if (!tried.insert(op).second)
          continue;
        SmallVector<linalg::GenericOp> tiled =
            fuseRows(rewriter, op, lanes, model);
        if (tiled.empty())
          continue;
        llvm::append_range(fusedOps, tiled);
        changed = true;
        break;
      }
    }
    llvm::DenseSet<Operation *> fusedSet;
    for (linalg::GenericOp op : fusedOps)
      fusedSet.insert(op);
    SmallVector<linalg::GenericOp> ops, reductions;
    auto collect = [&](linalg::GenericOp op) {
      if (isVectorizable(op))
        ops.push_back(op);
      else if (isInnerReduction(op, lanes))
        reductions.push_back(op);
    };
    getOperation().walk([&](linalg::GenericOp op) {
      // Generics inside the kernels' loops are theirs; fused rows are below.
      if (op->getParentOfType<scf::ForallOp>() || fusedSet.contains(op))
        return;
      collect(op);
    });
    for (linalg::GenericOp op : fusedOps)
      collect(op);
    for (linalg::GenericOp op : ops) {
      op = distributeRows(rewriter, op, model);
      // Full vectors only, so that no masks are needed: the innermost loop
      // is split at the last multiple of the vector width, and the rest is
      // one narrower (static) vector.
      int64_t n = op.getStaticLoopRanges().back();
      unsigned innermost = op.getNumLoops() - 1;
      SmallVector<std::pair<TilingInterface, int64_t>> pieces;
      int64_t main = n / lanes * lanes;
      if (main > 0 && main < n) {
        rewriter.setInsertionPoint(op);
        auto [head, tail] =
            linalg::splitOp(rewriter, cast<TilingInterface>(op.getOperation()),
                            innermost, rewriter.getIndexAttr(main));
        pieces.push_back({head, lanes});
        pieces.push_back({tail, n - main});
      } else {
        pieces.push_back(
            {cast<TilingInterface>(op.getOperation()), std::min(lanes, n)});
      }
      // AArch64: the narrower rest is split further into power-of-two
      // widths (7 = 4 + 2 + 1). LLVM 22's AArch64 instruction selection
      // miscompiles odd-length vectors of i64 truncated and stored as bytes
      // (a <3 x i64> -> <3 x i8> store writes two bytes, the second one from
      // the third lane), which fixed-point requantization produces.
      if (desc->isAArch64() && pieces.back().second != lanes &&
          !llvm::isPowerOf2_64(pieces.back().second)) {
        auto [rest, width] = pieces.pop_back_val();
        while (!llvm::isPowerOf2_64(width)) {
          int64_t head = static_cast<int64_t>(
              llvm::bit_floor(static_cast<uint64_t>(width)));
          rewriter.setInsertionPoint(rest);
          auto [first, second] = linalg::splitOp(rewriter, rest, innermost,
                                                 rewriter.getIndexAttr(head));
          pieces.push_back({first, head});
          rest = second;
          width -= head;
        }
        pieces.push_back({rest, width});
      }
      for (auto [piece, width] : pieces)
        tileAndVectorize(rewriter, piece, width);
    }
    for (linalg::GenericOp op : reductions)
      tileAndVectorizeReduction(rewriter, distributeRows(rewriter, op, model),
                                lanes);
    // The tiles are vector<1x...x1xN>: drop the unit dimensions, and make
    // broadcasting reads (a row's parameter) a read and a broadcast, so that
    // the LLVM lowering sees 1-D loads and stores.
    RewritePatternSet patterns(&getContext());
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    // Row reductions of the partial results: vector.reduction, which the
    // LLVM lowering turns into a horizontal reduction.
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerReduction);
    patterns.add<FoldTransferReadOfFill, FoldTransferReadOfSingleElementWrite>(
        &getContext());
    // The one-trip loops tiling left around a row's mean and 1/std, and their
    // slices, folded here so that the pattern above sees the write next to
    // its reads.
    scf::ForOp::getCanonicalizationPatterns(patterns, &getContext());
    tensor::ExtractSliceOp::getCanonicalizationPatterns(patterns,
                                                        &getContext());
    tensor::InsertSliceOp::getCanonicalizationPatterns(patterns,
                                                       &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
