//===- FloatMatmul.cpp - f32 contractions to register-tiled FMA kernels ---===//
//
// qlow-float-matmul: the f32 contraction that convert-qlow-to-linalg emits
// for a float qlow.matmul (out[b..., m, n] = init + sum_k a[b..., m, k] *
// w[b..., k, n], a linalg.generic on a linalg.fill) becomes a register-tiled
// kernel of vector FMAs: rows x vectors accumulators stay in registers for
// the whole of K, each step broadcasting one element of each row against
// the step's weight vectors. Constant weights are packed at compile time into
// column panels ([N / nr][K][nr], zero-padded), run-time ones are read in
// place (padded to whole panels when N needs it). The elementwise generic
// that consumes the result (bias, activation, residual add) is applied to
// the accumulators before they are stored, as the int8 kernels do, and the
// scf.forall over row blocks x column panels is theirs
// (buildBatchedInt8KernelScaffold), so the threads split it the same way.
//
// Before this pass, linalg-to-loops made scalar loops of these contractions:
// 1.3 GFLOPS on a 128 x 768 x 768 matmul (Zen 3, 2 threads). Upstream's
// route (tile, linalg::vectorize, contraction to outer products) gives the
// same FMAs but no packing of constant weights and no fused epilogue; this
// is written out for the same reasons as the int8 kernels (Int8Kernel.h).
//
// Each output element is the sum over k in order, one fused multiply-add
// per step (the reference rounds the product and the sum separately): the
// results are within the float tolerance of lib/Reference, not bit for bit.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"
#include "qlow/Target/Int8Kernel.h"
#include "qlow/Target/TargetDesc.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWFLOATMATMULPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

namespace {

/// `out[b..., m, n] = init + sum_k a[b..., m, k] * w[b..., k, n]` in f32.
struct FloatContraction {
  linalg::GenericOp op;
  /// The compile-time weights of a 2-D contraction, packed by the kernel;
  /// null when they are known only at run time (or batched).
  DenseElementsAttr weights;
  /// The accumulator's start (the linalg.fill's value).
  Value init;
  int64_t m, n, k;
  SmallVector<int64_t> batchShape;
};

/// Recognises the contraction as convert-qlow-to-linalg builds it: loops
/// (b..., m, n, k), maps (b..., m, k), (b..., k, n), (b..., m, n), body
/// `out + a * w` (either order of each), static f32 tensors, init a
/// linalg.fill.
std::optional<FloatContraction> matchFloatContraction(linalg::GenericOp op) {
  std::optional<unsigned> loops = matchMatmulLoops(op);
  if (!loops)
    return std::nullopt;
  const unsigned batch = *loops;
  auto lhsType = dyn_cast<RankedTensorType>(op.getDpsInputs()[0].getType());
  auto rhsType = dyn_cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  auto outType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!lhsType || !rhsType || !outType || !lhsType.hasStaticShape() ||
      !rhsType.hasStaticShape() || !outType.hasStaticShape() ||
      !lhsType.getElementType().isF32() || !rhsType.getElementType().isF32() ||
      !outType.getElementType().isF32())
    return std::nullopt;
  // No work (an empty dimension) is left to the loops.
  if (llvm::is_contained(op.getStaticLoopRanges(), 0))
    return std::nullopt;

  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 3)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value outArg = body.getArgument(2);
  Value product = add.getLhs() == outArg   ? add.getRhs()
                  : add.getRhs() == outArg ? add.getLhs()
                                           : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  Value aArg = body.getArgument(0), wArg = body.getArgument(1);
  if (!mul || !((mul.getLhs() == aArg && mul.getRhs() == wArg) ||
                (mul.getLhs() == wArg && mul.getRhs() == aArg)))
    return std::nullopt;
  // Plain IEEE arithmetic only: fast-math flags would allow other results.
  if (add.getFastmath() != arith::FastMathFlags::none ||
      mul.getFastmath() != arith::FastMathFlags::none)
    return std::nullopt;

  auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  if (!fill)
    return std::nullopt;
  DenseElementsAttr weights;
  if (batch > 0 || !matchPattern(op.getDpsInputs()[1], m_Constant(&weights)))
    weights = nullptr;
  return FloatContraction{op,
                          weights,
                          fill.getInputs()[0],
                          lhsType.getDimSize(batch),
                          rhsType.getDimSize(batch + 1),
                          lhsType.getDimSize(batch + 1),
                          SmallVector<int64_t>(
                              lhsType.getShape().take_front(batch))};
}

/// The constant weights [K, N] as column panels [N / nr][K][nr] (nr
/// divides np, N rounded up to panels; zeros past N).
DenseElementsAttr packWeights(DenseElementsAttr weights, int64_t k, int64_t n,
                              int64_t np, int64_t nr) {
  // f32 values straight from the attribute's storage (a splat repeats one).
  auto values = weights.getValues<float>();
  const int64_t panels = np / nr;
  std::vector<float> packed(panels * k * nr, 0.0f);
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < nr && p * nr + j < n; ++j)
        packed[(p * k + kk) * nr + j] = values[kk * n + p * nr + j];
  auto type = RankedTensorType::get({panels, k, nr},
                                    Float32Type::get(weights.getContext()));
  return DenseElementsAttr::get(type, ArrayRef<float>(packed));
}

/// Builds the kernel of `c` (with `epilogue` applied to its accumulators)
/// and returns its result: the contraction's, or the epilogue's.
Value buildFloatKernel(OpBuilder &b, Location loc, const FloatContraction &c,
                       const std::optional<FusedEpilogue> &epilogue,
                       const MicroKernelShape &tile, int64_t lanes,
                       int64_t rowBlock) {
  const int64_t nr = tile.vectors * lanes;
  const int64_t np = roundUp(c.n, nr);
  const bool batched = !c.batchShape.empty();
  int64_t batches = 1;
  for (int64_t d : c.batchShape)
    batches *= d;
  Type f32 = b.getF32Type();
  auto vectorType = VectorType::get({lanes}, f32);
  linalg::GenericOp op = c.op;
  Value lhs = op.getDpsInputs()[0];
  if (batched)
    lhs = asThreeD(b, loc, lhs, c.batchShape);

  // The weights: compile-time panels, or the run-time [B, K, np] (padded).
  Value weights;
  if (c.weights) {
    weights = arith::ConstantOp::create(
        b, loc, packWeights(c.weights, c.k, c.n, np, nr));
  } else {
    // [B, K, N] when batched, else [K, N].
    weights = batched ? asThreeD(b, loc, op.getDpsInputs()[1], c.batchShape)
                      : op.getDpsInputs()[1];
    if (np != c.n) {
      Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
      SmallVector<int64_t> shape = {c.k, np};
      if (batched)
        shape.insert(shape.begin(), batches);
      auto type = RankedTensorType::get(shape, f32);
      SmallVector<OpFoldResult> low(shape.size(), b.getIndexAttr(0));
      SmallVector<OpFoldResult> high(shape.size(), b.getIndexAttr(0));
      high.back() = b.getIndexAttr(np - c.n);
      weights = tensor::PadOp::create(b, loc, type, weights, low, high, zero);
    }
  }

  OpBuilder constants = b;
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(constants, loc, v).getResult();
  };
  Type outElement =
      epilogue ? cast<RankedTensorType>(epilogue->op->getResult(0).getType())
                     .getElementType()
               : f32;
  SmallVector<int64_t> outShape = {c.m, np};
  if (batched)
    outShape.insert(outShape.begin(), batches);
  Value out = tensor::EmptyOp::create(b, loc, outShape, outElement);
  Value start = vector::BroadcastOp::create(b, loc, vectorType, c.init);
  Value pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  SmallVector<bool> inBounds = {true};

  auto buildRowTile = [&](OpBuilder &rb, Location rl, Value batch, Value i,
                          function_ref<Value()> localRow, Value p, Value col0,
                          int64_t rows, Value tileOut) -> Value {
    auto at = [&](std::initializer_list<Value> rest) {
      SmallVector<Value> indices;
      if (batched)
        indices.push_back(batch);
      indices.append(rest.begin(), rest.end());
      return indices;
    };
    SmallVector<Value> accs(rows * tile.vectors, start);
    SmallVector<Value> rowIndex;
    for (int64_t r = 0; r < rows; ++r)
      rowIndex.push_back(arith::AddIOp::create(rb, rl, i, idx(r)));
    SmallVector<Value> colIndex;
    for (int64_t j = 0; j < tile.vectors; ++j)
      colIndex.push_back(
          arith::AddIOp::create(rb, rl, col0, idx(j * lanes)).getResult());
    auto kLoop = scf::ForOp::create(
        rb, rl, idx(0), idx(c.k), idx(1), accs,
        [&](OpBuilder &kb, Location kl, Value kk, ValueRange acc) {
          SmallVector<Value> w;
          for (int64_t j = 0; j < tile.vectors; ++j) {
            SmallVector<Value> indices =
                c.weights ? SmallVector<Value>{p, kk, idx(j * lanes)}
                          : at({kk, colIndex[j]});
            w.push_back(vector::TransferReadOp::create(
                kb, kl, vectorType, weights, indices, pad, inBounds));
          }
          SmallVector<Value> next(acc.begin(), acc.end());
          for (int64_t r = 0; r < rows; ++r) {
            Value a = tensor::ExtractOp::create(kb, kl, lhs,
                                                at({rowIndex[r], kk}));
            Value broadcast = vector::BroadcastOp::create(kb, kl, vectorType, a);
            for (int64_t j = 0; j < tile.vectors; ++j) {
              Value &slot = next[r * tile.vectors + j];
              slot = vector::FMAOp::create(kb, kl, broadcast, w[j], slot);
            }
          }
          scf::YieldOp::create(kb, kl, next);
        });
    Value local = localRow();
    for (int64_t r = 0; r < rows; ++r) {
      Value tileRow =
          local != i
              ? arith::AddIOp::create(rb, rl, local, idx(r)).getResult()
              : rowIndex[r];
      for (int64_t j = 0; j < tile.vectors; ++j) {
        Value value = kLoop.getResult(r * tile.vectors + j);
        if (epilogue)
          value = applyEpilogue(rb, rl, *epilogue, value, rowIndex[r],
                                colIndex[j], c.m, lanes, idx);
        tileOut = vector::TransferWriteOp::create(
                      rb, rl, value, tileOut,
                      ValueRange{tileRow, idx(j * lanes)}, inBounds)
                      .getResult();
      }
    }
    return tileOut;
  };
  Value result = buildBatchedInt8KernelScaffold(
      b, loc, out, batched ? batches : 0, c.m, c.n, nr, rowBlock, tile.rows,
      constants, idx, buildRowTile);
  return batched ? fromThreeD(b, loc, result, c.batchShape) : result;
}

struct QlowFloatMatmulPass
    : qlow::impl::QlowFloatMatmulPassBase<QlowFloatMatmulPass> {
  using QlowFloatMatmulPassBase::QlowFloatMatmulPassBase;

  void runOnOperation() override {
    std::string error;
    FailureOr<TargetDesc> desc = lookupTargetDesc("x86_64", cpu, &error);
    if (failed(desc)) {
      getOperation().emitError() << "qlow-float-matmul: " << error;
      return signalPassFailure();
    }
    SmallVector<FloatContraction> found;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<FloatContraction> c = matchFloatContraction(op))
        found.push_back(*c);
    });
    IRRewriter rewriter(&getContext());
    const int64_t lanes = desc->vectorBits / 32;
    for (FloatContraction &c : found) {
      std::optional<FusedEpilogue> epilogue;
      if (c.batchShape.empty())
        epilogue = matchEpilogue(c.op);
      MicroKernelShape tile = desc->chooseFloatMatmulTile(c.m, c.n);
      int64_t rowBlock = desc->chooseFloatRowBlock(
          c.m, c.n, c.k, tile, c.batchShape.empty());
      rewriter.setInsertionPointAfter(kernelInsertionAnchor(c.op, epilogue));
      Value result = buildFloatKernel(rewriter, c.op.getLoc(), c, epilogue,
                                      tile, lanes, rowBlock);
      if (epilogue) {
        rewriter.replaceOp(epilogue->op, result);
        rewriter.eraseOp(c.op);
      } else {
        rewriter.replaceOp(c.op, result);
      }
    }
  }
};

} // namespace
