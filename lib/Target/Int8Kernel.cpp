//===- Int8Kernel.cpp - target-neutral pieces of the int8 matmul kernels --===//
//
// What qlow-x86-int8-matmul and qlow-aarch64-int8-matmul share: recognising
// the integer contraction and its elementwise epilogue as
// convert-qlow-to-linalg emits them, and applying that epilogue lane-wise to
// accumulator vectors. The kernels themselves (register tiles, weight
// layouts, instructions) stay with their targets.
//
//===----------------------------------------------------------------------===//

#include "qlow/Target/Int8Kernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::qlow;

namespace {
/// How an epilogue input is indexed by the (m, n) loops.
enum class EpilogueIndexing { Acc, Row, Column, RowColumn, Scalar };

/// An input's indexing, and whether its indices start with the batch loops.
struct EpilogueInputIndexing {
  EpilogueIndexing kind;
  bool batched = false;
};

/// Classifies an epilogue input's map over (b_0, ..., b_{batchDims-1}, m, n):
/// (b..., m, n), (b..., m), (b..., n), or the same without the batch
/// dimensions, or () (a 0-d input).
std::optional<EpilogueInputIndexing> classifyEpilogueMap(AffineMap map,
                                                         unsigned batchDims) {
  if (map.getNumDims() != batchDims + 2 || map.getNumSymbols() != 0)
    return std::nullopt;
  ArrayRef<AffineExpr> results = map.getResults();
  if (results.empty())
    return EpilogueInputIndexing{EpilogueIndexing::Scalar};
  bool batched = batchDims > 0 && results.size() > batchDims;
  for (unsigned d = 0; batched && d < batchDims; ++d)
    if (results[d] != getAffineDimExpr(d, map.getContext()))
      batched = false;
  if (batched)
    results = results.drop_front(batchDims);
  MLIRContext *ctx = map.getContext();
  AffineExpr m = getAffineDimExpr(batchDims, ctx),
             n = getAffineDimExpr(batchDims + 1, ctx);
  if (results.size() == 2 && results[0] == m && results[1] == n)
    return EpilogueInputIndexing{EpilogueIndexing::RowColumn, batched};
  if (results.size() == 1 && results[0] == n)
    return EpilogueInputIndexing{EpilogueIndexing::Column, batched};
  if (results.size() == 1 && results[0] == m)
    return EpilogueInputIndexing{EpilogueIndexing::Row, batched};
  return std::nullopt;
}

/// A lookup in a 1-D table defined outside the epilogue (the table of a
/// quantized gelu or silu): a gather on the lanes' indices.
bool isTableLookup(Operation &op) {
  auto extract = dyn_cast<tensor::ExtractOp>(op);
  if (!extract || extract.getTensor().getType().getRank() != 1)
    return false;
  Operation *table = extract.getTensor().getDefiningOp();
  return table && !op.getParentRegion()->isAncestor(table->getParentRegion());
}

/// The lanes of `extract`'s table at `indices` (vector<lanes x index>). A
/// constant table of narrower integers is widened to i32 at compile time so
/// that the gather is one vpgatherdd on x86 (no byte gather; AArch64 gathers
/// lane by lane either way); the values are truncated back.
Value gatherFromTable(OpBuilder &b, Location loc, tensor::ExtractOp extract,
                      Value indices, int64_t lanes) {
  Value table = extract.getTensor();
  Type element = extract.getType();
  DenseIntElementsAttr values;
  bool widen = element.isInteger() && element.getIntOrFloatBitWidth() < 32 &&
               matchPattern(table, m_Constant(&values));
  Type gathered = element;
  if (widen) {
    SmallVector<int32_t> wide;
    for (const APInt &v : values.getValues<APInt>())
      wide.push_back(static_cast<int32_t>(v.getSExtValue()));
    gathered = b.getI32Type();
    table = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({static_cast<int64_t>(wide.size())},
                                  gathered),
            ArrayRef<int32_t>(wide)));
  }
  // i32 indices (the table's index is a cast of an i32 value) make one
  // 16-lane vpgatherdd instead of two 8-lane vpgatherqd.
  if (auto cast = indices.getDefiningOp<arith::IndexCastOp>())
    if (getElementTypeOrSelf(cast.getIn().getType()).isInteger(32))
      indices = cast.getIn();
  auto resultType = VectorType::get({lanes}, gathered);
  Value mask = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({lanes}, b.getI1Type()), true));
  Value passThru = arith::ConstantOp::create(b, loc, b.getZeroAttr(resultType));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value result =
      vector::GatherOp::create(b, loc, resultType, table, ValueRange{zero},
                               indices, mask, passThru, IntegerAttr());
  if (widen)
    result = arith::TruncIOp::create(b, loc, VectorType::get({lanes}, element),
                                     result);
  return result;
}

/// The lanes of `extract`'s table at `indices` (vector<lanes x index>) by
/// the target's `byteLookup`, for a constant table of at most 256 i8 values;
/// null where that does not apply. The lookup takes the indices' low bytes:
/// the i8 an index was zero-extended from (a quantized value, as
/// convert-qlow-to-linalg writes the lookup), or its truncation.
Value lookupByteTable(OpBuilder &b, Location loc, tensor::ExtractOp extract,
                      Value indices, int64_t lanes,
                      ByteTableLookup byteLookup) {
  DenseIntElementsAttr values;
  if (!byteLookup || !extract.getType().isInteger(8) ||
      !matchPattern(extract.getTensor(), m_Constant(&values)) ||
      values.getNumElements() > 256)
    return Value();
  SmallVector<uint8_t> table;
  for (const APInt &v : values.getValues<APInt>())
    table.push_back(static_cast<uint8_t>(v.getZExtValue()));
  auto bytesType = VectorType::get({lanes}, b.getI8Type());
  if (auto cast = indices.getDefiningOp<arith::IndexCastOp>())
    indices = cast.getIn();
  else if (auto cast = indices.getDefiningOp<arith::IndexCastUIOp>())
    indices = cast.getIn();
  else
    indices = arith::IndexCastOp::create(
        b, loc, VectorType::get({lanes}, b.getI32Type()), indices);
  if (auto ext = indices.getDefiningOp<arith::ExtUIOp>())
    if (ext.getIn().getType() == bytesType)
      indices = ext.getIn();
  if (indices.getType() != bytesType)
    indices = arith::TruncIOp::create(b, loc, bytesType, indices);
  return byteLookup(b, loc, table, indices);
}

} // namespace

std::optional<unsigned> mlir::qlow::matchMatmulLoops(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() < 3 || op->getNumResults() != 1)
    return std::nullopt;
  const unsigned batch = op.getNumLoops() - 3;
  MLIRContext *ctx = op.getContext();
  auto dims = [&](ArrayRef<unsigned> rest) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d = 0; d < batch; ++d)
      exprs.push_back(getAffineDimExpr(d, ctx));
    for (unsigned d : rest)
      exprs.push_back(getAffineDimExpr(batch + d, ctx));
    return AffineMap::get(batch + 3, 0, exprs, ctx);
  };
  // Loops (b..., m, n, k).
  SmallVector<AffineMap> expected = {dims({0, 2}), dims({2, 1}), dims({0, 1})};
  if (op.getIndexingMapsArray() != expected)
    return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  for (unsigned d = 0; d < batch + 2; ++d)
    if (iterators[d] != utils::IteratorType::parallel)
      return std::nullopt;
  if (iterators[batch + 2] != utils::IteratorType::reduction)
    return std::nullopt;
  return batch;
}

Value mlir::qlow::asThreeD(OpBuilder &b, Location loc, Value value,
                           ArrayRef<int64_t> batchShape) {
  auto type = cast<RankedTensorType>(value.getType());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rank = type.getRank();
  if (batchShape.size() == 1)
    return value;
  int64_t batches = 1;
  for (int64_t d : batchShape)
    batches *= d;
  auto threeD = RankedTensorType::get(
      {batches, shape[rank - 2], shape[rank - 1]}, type.getElementType());
  if (batchShape.empty())
    return tensor::ExpandShapeOp::create(
        b, loc, threeD, value,
        SmallVector<ReassociationIndices>{{0, 1}, {2}});
  ReassociationIndices leading;
  for (int64_t d = 0; d < rank - 2; ++d)
    leading.push_back(d);
  return tensor::CollapseShapeOp::create(
      b, loc, threeD, value,
      SmallVector<ReassociationIndices>{leading, {rank - 2}, {rank - 1}});
}

Value mlir::qlow::fromThreeD(OpBuilder &b, Location loc, Value value,
                             ArrayRef<int64_t> batchShape) {
  auto type = cast<RankedTensorType>(value.getType());
  if (batchShape.size() == 1 || type.getRank() != 3)
    return value;
  int64_t m = type.getDimSize(1), n = type.getDimSize(2);
  if (batchShape.empty())
    return tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({m, n}, type.getElementType()), value,
        SmallVector<ReassociationIndices>{{0, 1}, {2}});
  SmallVector<int64_t> shape(batchShape.begin(), batchShape.end());
  shape.append({m, n});
  ReassociationIndices leading;
  for (int64_t d = 0; d < static_cast<int64_t>(batchShape.size()); ++d)
    leading.push_back(d);
  int64_t rank = shape.size();
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      SmallVector<ReassociationIndices>{leading, {rank - 2}, {rank - 1}});
}

/// Recognises the 2-D i8 x i8 -> i32 contraction with constant s8 weights and
/// a zero-filled accumulator, exactly as convert-qlow-to-linalg builds it;
/// with `runtimeWeights` also run-time and batched weights.
std::optional<Int8Contraction>
mlir::qlow::matchInt8Contraction(linalg::GenericOp op, bool runtimeWeights) {
  std::optional<unsigned> loops = matchMatmulLoops(op);
  if (!loops)
    return std::nullopt;
  const unsigned batch = *loops;
  if (batch > 0 && !runtimeWeights)
    return std::nullopt;
  auto lhsType = dyn_cast<RankedTensorType>(op.getDpsInputs()[0].getType());
  auto rhsType = dyn_cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  auto outType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!lhsType || !rhsType || !outType || !lhsType.hasStaticShape() ||
      !rhsType.hasStaticShape() ||
      !rhsType.getElementType().isInteger(8) ||
      !lhsType.getElementType().isInteger(8) ||
      !outType.getElementType().isInteger(32))
    return std::nullopt;

  // Body: yield(out + ext(a) * extsi(w)).
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddIOp>();
  if (!add || body.getOperations().size() != 5)
    return std::nullopt;
  Value outArg = body.getArgument(2);
  Value productValue = add.getLhs() == outArg ? add.getRhs() : add.getLhs();
  auto mul = productValue.getDefiningOp<arith::MulIOp>();
  if (!mul)
    return std::nullopt;
  auto isExtOf = [](Value v, Value arg) -> std::optional<bool> {
    if (auto e = v.getDefiningOp<arith::ExtSIOp>(); e && e.getIn() == arg)
      return true;
    if (auto e = v.getDefiningOp<arith::ExtUIOp>(); e && e.getIn() == arg)
      return false;
    return std::nullopt;
  };
  Value aArg = body.getArgument(0), wArg = body.getArgument(1);
  std::optional<bool> lhsSigned = isExtOf(mul.getLhs(), aArg);
  std::optional<bool> rhsSigned = isExtOf(mul.getRhs(), wArg);
  if (!lhsSigned || !rhsSigned || !*rhsSigned)
    return std::nullopt; // vpdpbusd needs s8 weights.

  // The accumulator starts at zero.
  auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  if (!fill || !matchPattern(fill.getInputs()[0], m_Zero()))
    return std::nullopt;
  DenseIntElementsAttr weights;
  if (batch > 0 || !matchPattern(op.getDpsInputs()[1], m_Constant(&weights))) {
    // Run-time weights have no compile-time column sums for the shift of s8
    // activations: convert-qlow-to-linalg gives them u8 activations.
    if (!runtimeWeights || *lhsSigned)
      return std::nullopt;
    weights = nullptr;
  }
  return Int8Contraction{op,
                         op.getDpsInputs()[0],
                         weights,
                         op.getDpsInputs()[1],
                         *lhsSigned,
                         lhsType.getDimSize(batch),
                         rhsType.getDimSize(batch + 1),
                         lhsType.getDimSize(batch + 1),
                         SmallVector<int64_t>(
                             lhsType.getShape().take_front(batch))};
}

/// Finds the epilogue that convert-qlow-to-linalg puts after a contraction:
/// the contraction's only user, elementwise over (m, n), whose other inputs
/// are indexed by row, column or both, and whose body maps lane by lane onto
/// vectors (constants and elementwise-mappable arith/math ops only).
std::optional<FusedEpilogue>
mlir::qlow::matchEpilogue(linalg::GenericOp contraction, unsigned batchDims) {
  Value acc = contraction->getResult(0);
  if (!acc.hasOneUse())
    return std::nullopt;
  auto op = dyn_cast<linalg::GenericOp>(*acc.getUsers().begin());
  if (!op || op.getNumLoops() != batchDims + 2 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || op.getNumReductionLoops() != 0)
    return std::nullopt;
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType || !resultType.hasStaticShape())
    return std::nullopt;
  Type element = resultType.getElementType();
  if (!element.isInteger(8) && !element.isInteger(16) &&
      !element.isInteger(32) && !element.isF32())
    return std::nullopt;
  std::optional<unsigned> accInput;
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto indexing =
        classifyEpilogueMap(op.getMatchingIndexingMap(input), batchDims);
    if (!indexing)
      return std::nullopt;
    if (input->get() == acc) {
      if (indexing->kind != EpilogueIndexing::RowColumn ||
          indexing->batched != (batchDims > 0) || accInput)
        return std::nullopt;
      accInput = input->getOperandNumber();
    }
  }
  if (!accInput ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity())
    return std::nullopt;
  Block &body = op.getRegion().front();
  if (!body.getArgument(body.getNumArguments() - 1).use_empty())
    return std::nullopt; // The init value is read: not elementwise.
  for (Operation &inner : body.without_terminator())
    if (!isa<arith::ConstantOp>(inner) &&
        !inner.hasTrait<OpTrait::Elementwise>() && !isTableLookup(inner))
      return std::nullopt;
  return FusedEpilogue{op, *accInput, std::nullopt, batchDims};
}

/// The sibling must be a recognised contraction in its own right, read by
/// the epilogue once, at (m, n), and nowhere else (its kernel is the shared
/// one; a second reader would need its accumulators in memory after all).
std::optional<std::pair<Int8Contraction, unsigned>>
mlir::qlow::matchSiblingContraction(const Int8Contraction &c,
                                    const FusedEpilogue &epilogue) {
  linalg::GenericOp op = epilogue.op;
  Value lhs = linalg::GenericOp(c.op).getDpsInputs()[0];
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (input->getOperandNumber() == epilogue.accInput)
      continue;
    auto producer = input->get().getDefiningOp<linalg::GenericOp>();
    if (!producer || producer == c.op || !input->get().hasOneUse() ||
        classifyEpilogueMap(op.getMatchingIndexingMap(input),
                            epilogue.batchDims)
                ->kind != EpilogueIndexing::RowColumn)
      continue;
    std::optional<Int8Contraction> sibling = matchInt8Contraction(producer);
    if (!sibling || producer.getDpsInputs()[0] != lhs ||
        sibling->lhsSigned != c.lhsSigned || sibling->m != c.m ||
        sibling->n != c.n || sibling->k != c.k)
      continue;
    sibling->lhs = lhs;
    return std::make_pair(*sibling, input->getOperandNumber());
  }
  return std::nullopt;
}

/// Sign- or zero-extends `value` to `type`.
Value mlir::qlow::extendStorage(OpBuilder &b, Location loc, Value value,
                                bool isSigned, Type type) {
  if (isSigned)
    return arith::ExtSIOp::create(b, loc, type, value);
  return arith::ExtUIOp::create(b, loc, type, value);
}

int64_t mlir::qlow::roundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

/// Computes `epilogue` on one accumulator vector: the lanes are columns
/// [col, col + lanes) of row `row`. Row-indexed inputs are read at the row
/// (clamped to the last real one: padded rows are discarded), column-indexed
/// ones with a masked read (the last panel runs past N), and the body is
/// cloned lane-wise onto vectors.
Value mlir::qlow::applyEpilogue(OpBuilder &b, Location loc,
                                const FusedEpilogue &epilogue, Value acc,
                                Value row, Value col, int64_t m, int64_t lanes,
                                function_ref<Value(int64_t)> idx,
                                Value siblingAcc, ByteTableLookup byteLookup,
                                ValueRange batchIndices) {
  assert(batchIndices.size() == epilogue.batchDims &&
         "one batch index per batch loop");
  linalg::GenericOp op = epilogue.op;
  Block &body = op.getRegion().front();
  IRMapping mapping;
  Value lastRow = idx(m - 1);
  Value clampedRow = arith::MinSIOp::create(b, loc, row, lastRow);
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument arg = body.getArgument(input->getOperandNumber());
    if (input->getOperandNumber() == epilogue.accInput) {
      mapping.map(arg, acc);
      continue;
    }
    if (siblingAcc && input->getOperandNumber() == epilogue.siblingInput) {
      mapping.map(arg, siblingAcc);
      continue;
    }
    auto vectorType = VectorType::get({lanes}, arg.getType());
    Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(arg.getType()));
    EpilogueInputIndexing indexing = *classifyEpilogueMap(
        op.getMatchingIndexingMap(input), epilogue.batchDims);
    // The indices of a batched input start with the batch's.
    auto at = [&](std::initializer_list<Value> rest) {
      SmallVector<Value> indices;
      if (indexing.batched)
        llvm::append_range(indices, batchIndices);
      indices.append(rest.begin(), rest.end());
      return indices;
    };
    switch (indexing.kind) {
    case EpilogueIndexing::Scalar: {
      Value scalar =
          tensor::ExtractOp::create(b, loc, input->get(), ValueRange{});
      mapping.map(arg, vector::BroadcastOp::create(b, loc, vectorType, scalar));
      break;
    }
    case EpilogueIndexing::Row: {
      Value scalar =
          tensor::ExtractOp::create(b, loc, input->get(), at({clampedRow}));
      mapping.map(arg, vector::BroadcastOp::create(b, loc, vectorType, scalar));
      break;
    }
    case EpilogueIndexing::Column: {
      mapping.map(arg, vector::TransferReadOp::create(
                           b, loc, vectorType, input->get(), at({col}), pad,
                           SmallVector<bool>{false}));
      break;
    }
    case EpilogueIndexing::RowColumn:
    case EpilogueIndexing::Acc: {
      mapping.map(
          arg, vector::TransferReadOp::create(b, loc, vectorType, input->get(),
                                              at({clampedRow, col}), pad,
                                              SmallVector<bool>{false}));
      break;
    }
    }
  }
  for (Operation &inner : body.without_terminator()) {
    if (auto extract = dyn_cast<tensor::ExtractOp>(inner)) {
      Value indices = mapping.lookup(extract.getIndices()[0]);
      Value looked =
          lookupByteTable(b, loc, extract, indices, lanes, byteLookup);
      if (!looked)
        looked = gatherFromTable(b, loc, extract, indices, lanes);
      mapping.map(extract.getResult(), looked);
      continue;
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(inner)) {
      auto vectorType = VectorType::get({lanes}, constant.getType());
      mapping.map(
          constant.getResult(),
          arith::ConstantOp::create(
              b, loc, DenseElementsAttr::get(vectorType, constant.getValue())));
      continue;
    }
    // Values from outside the body (constants the canonicalizer hoisted) are
    // the same in every lane.
    for (Value operand : inner.getOperands()) {
      if (mapping.contains(operand))
        continue;
      auto vectorType = VectorType::get({lanes}, operand.getType());
      Attribute value;
      if (matchPattern(operand, m_Constant(&value)))
        mapping.map(operand,
                    arith::ConstantOp::create(
                        b, loc, DenseElementsAttr::get(vectorType, value)));
      else
        mapping.map(operand,
                    vector::BroadcastOp::create(b, loc, vectorType, operand));
    }
    Operation *clone = b.clone(inner, mapping);
    for (Value result : clone->getResults())
      result.setType(VectorType::get({lanes}, result.getType()));
  }
  return mapping.lookup(body.getTerminator()->getOperand(0));
}

Operation *mlir::qlow::kernelInsertionAnchor(
    const Int8Contraction &c, const std::optional<FusedEpilogue> &epilogue) {
  return kernelInsertionAnchor(c.op, epilogue);
}

Operation *mlir::qlow::kernelInsertionAnchor(
    linalg::GenericOp contraction,
    const std::optional<FusedEpilogue> &epilogue) {
  Operation *anchor = contraction;
  if (epilogue)
    for (Value input : linalg::GenericOp(epilogue->op).getDpsInputs())
      if (Operation *def = input.getDefiningOp();
          def && def != contraction.getOperation() &&
          def->getBlock() == anchor->getBlock() &&
          anchor->isBeforeInBlock(def))
        anchor = def;
  return anchor;
}

Value mlir::qlow::buildInt8KernelScaffold(OpBuilder &b, Location loc, Value out,
                                          int64_t m, int64_t n, int64_t nr,
                                          int64_t rowBlock, int64_t rows,
                                          OpBuilder &constants,
                                          function_ref<Value(int64_t)> idx,
                                          Int8RowTileBuilder buildRowTile,
                                          bool mergeRest) {
  return buildBatchedInt8KernelScaffold(
      b, loc, out, /*batches=*/0, m, n, nr, rowBlock, rows, constants, idx,
      [&](OpBuilder &rb, Location rl, Value, Value row,
          function_ref<Value()> localRow, Value p, Value col0,
          int64_t tileRows, Value tile) {
        return buildRowTile(rb, rl, row, localRow, p, col0, tileRows, tile);
      },
      mergeRest);
}

Value mlir::qlow::buildBatchedInt8KernelScaffold(
    OpBuilder &b, Location loc, Value out, int64_t batches, int64_t m,
    int64_t n, int64_t nr, int64_t rowBlock, int64_t rows,
    OpBuilder &constants, function_ref<Value(int64_t)> idx,
    Int8BatchedRowTileBuilder buildRowTile, bool mergeRest) {
  auto outType = cast<RankedTensorType>(out.getType());
  Type outElement = outType.getElementType();
  const bool batched = batches > 0;
  const int64_t np = outType.getShape().back(), panels = np / nr;
  // Rows are not padded: the last, partial row tile is a second, smaller
  // tile (padding M would cost a copy of the activations and of the whole
  // result, 4 MB each way at 1024 x 1024).
  int64_t mainRows = m / rows * rows, restRows = m - mainRows;
  // The rest joins the last full tile (which only a single block can do:
  // blocks end at multiples of `rows`).
  if (mergeRest && rowBlock >= m && mainRows >= rows && restRows > 0) {
    mainRows -= rows;
    restRows += rows;
  }

  // One column panel (and, with several row blocks, one block of rows; and
  // with batches, one batch) per iteration of an scf.forall: these are
  // independent and become the threads' work items (scf-forall-to-parallel,
  // then OpenMP), each writing its own slice of the output. Row blocks come
  // first, so that a thread's contiguous share of the iterations keeps to
  // few blocks of activations.
  const int64_t rowBlocks = (m + rowBlock - 1) / rowBlock;
  SmallVector<OpFoldResult> forallSizes;
  if (batched)
    forallSizes.push_back(b.getIndexAttr(batches));
  if (rowBlocks > 1)
    forallSizes.push_back(b.getIndexAttr(rowBlocks));
  forallSizes.push_back(b.getIndexAttr(panels));
  auto forall =
      scf::ForallOp::create(b, loc, forallSizes, ValueRange{out}, std::nullopt);
  // Index constants go before the kernel's outermost loop, which every use
  // is nested in.
  constants.setInsertionPoint(forall);

  OpBuilder pb = OpBuilder::atBlockBegin(forall.getBody());
  Value p = forall.getInductionVars().back();
  Value batch = batched ? forall.getInductionVars().front() : Value();
  Value shared = forall.getRegionIterArgs()[0];
  Value col0 = arith::MulIOp::create(pb, loc, p, idx(nr));
  // This iteration's rows: [row0, rowEnd).
  Value row0 = idx(0), rowEnd = idx(m);
  OpFoldResult blockRows = pb.getIndexAttr(m);
  RankedTensorType panelType = RankedTensorType::get({m, nr}, outElement);
  if (rowBlocks > 1) {
    row0 = arith::MulIOp::create(
        pb, loc, forall.getInductionVars()[batched ? 1 : 0], idx(rowBlock));
    rowEnd = arith::MinSIOp::create(
        pb, loc, arith::AddIOp::create(pb, loc, row0, idx(rowBlock)), idx(m));
    blockRows = arith::SubIOp::create(pb, loc, rowEnd, row0).getResult();
    panelType = RankedTensorType::get({ShapedType::kDynamic, nr}, outElement);
  }
  // A batch's panel is a rank-reduced [1, rows, nr] slice.
  SmallVector<OpFoldResult> panelOffsets = {row0, col0};
  SmallVector<OpFoldResult> panelSizes = {blockRows, pb.getIndexAttr(nr)};
  SmallVector<OpFoldResult> unitStrides(batched ? 3 : 2, pb.getIndexAttr(1));
  if (batched) {
    panelOffsets.insert(panelOffsets.begin(), batch);
    panelSizes.insert(panelSizes.begin(), pb.getIndexAttr(1));
  }
  Value panel = tensor::ExtractSliceOp::create(
      pb, loc, panelType, shared, panelOffsets, panelSizes, unitStrides);

  // Row tiles of `tileRows` rows over [begin, end); row i of the matmul is
  // row i - row0 of the panel.
  auto buildRowLoop = [&](Value panelIn, Value begin, Value end,
                          int64_t tileRows) {
    return scf::ForOp::create(
               pb, loc, begin, end, idx(tileRows), ValueRange{panelIn},
               [&](OpBuilder &rb, Location rl, Value i, ValueRange rArgs) {
                 auto localRow = [&]() -> Value {
                   return rowBlocks > 1 ? arith::SubIOp::create(rb, rl, i, row0)
                                              .getResult()
                                        : i;
                 };
                 Value tileOut = buildRowTile(rb, rl, batch, i, localRow, p,
                                              col0, tileRows, rArgs[0]);
                 scf::YieldOp::create(rb, rl, tileOut);
               })
        .getResult(0);
  };
  // The full row tiles of this block, then the partial one, which only the
  // last block holds (a block is a multiple of `rows` rows): its loop is
  // empty in the others.
  Value tiled = panel;
  if (mainRows > 0)
    tiled = buildRowLoop(
        tiled, row0,
        rowBlocks > 1
            ? arith::MinSIOp::create(pb, loc, rowEnd, idx(mainRows)).getResult()
            : idx(mainRows),
        rows);
  if (restRows > 0)
    tiled = buildRowLoop(
        tiled,
        rowBlocks > 1
            ? arith::MaxSIOp::create(pb, loc, row0, idx(mainRows)).getResult()
            : idx(mainRows),
        rowEnd, restRows);
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(tb, loc, tiled, shared, panelOffsets,
                                        panelSizes, unitStrides);

  Value result = forall.getResult(0);
  if (np != n) {
    SmallVector<int64_t> shape = {m, n};
    if (batched)
      shape.insert(shape.begin(), batches);
    SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes;
    for (int64_t d : shape)
      sizes.push_back(b.getIndexAttr(d));
    SmallVector<OpFoldResult> strides(shape.size(), b.getIndexAttr(1));
    result = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(shape, outElement), result, offsets,
        sizes, strides);
  }
  return result;
}
