//===- FuseElementwise.cpp - elementwise linalg fusion without reshapes ---===//
//
// qlow-fuse-elementwise: upstream's elementwise producer-consumer fusion,
// restricted to producers with a single use whose every element the
// consumer reads once (no broadcast).
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWFUSEELEMENTWISEPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {
/// Fuses an elementwise producer with a single use into a consumer without
/// reductions that reads each of its elements once. Upstream's
/// populateElementwiseOpsFusionPatterns would also fold splat constants into
/// any generic, which hides constant weights from the matmul kernels, so only
/// its fusion step (fuseElementwiseOps) is used.
struct FuseSingleUseProducer : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    // Fused into a contraction, a producer would be computed once per
    // reduced element.
    if (consumer.getNumReductionLoops() != 0)
      return failure();
    for (OpOperand &operand : consumer->getOpOperands()) {
      Operation *producer = operand.get().getDefiningOp();
      // A producer with other users would be computed twice.
      if (!producer || !producer->hasOneUse() ||
          !linalg::areElementwiseOpsFusable(&operand))
        continue;
      // A producer the consumer reads through a broadcast (its map is not a
      // permutation of the consumer's loops: a row's 1/sqrt(var + eps) read
      // by every element of the row) would be computed once per element of
      // the broadcast dimensions: a layer_norm's f64 division and square
      // root once per 16 elements instead of once per row.
      if (!consumer.getMatchingIndexingMap(&operand).isPermutation())
        continue;
      FailureOr<linalg::ElementwiseOpFusionResult> fused =
          linalg::fuseElementwiseOps(rewriter, &operand);
      if (failed(fused))
        continue;
      // As upstream's pattern: the consumer's results (and any producer
      // result used elsewhere, none here) take the fused op's.
      for (auto [original, replacement] : fused->replacements)
        rewriter.replaceUsesWithIf(original, replacement, [&](OpOperand &use) {
          return use.getOwner() != producer;
        });
      rewriter.eraseOp(consumer);
      if (producer->use_empty())
        rewriter.eraseOp(producer);
      return success();
    }
    return failure();
  }
};

struct QlowFuseElementwisePass
    : qlow::impl::QlowFuseElementwisePassBase<QlowFuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseSingleUseProducer>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
