//===- FuseElementwise.cpp - elementwise linalg fusion without reshapes ---===//
//
// qlow-fuse-elementwise: upstream's elementwise producer-consumer fusion,
// restricted to producers with a single use.
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
/// reductions. Upstream's populateElementwiseOpsFusionPatterns would also
/// fold splat constants into any generic, which hides constant weights from
/// the matmul kernels, so only its fusion step (fuseElementwiseOps) is used.
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
