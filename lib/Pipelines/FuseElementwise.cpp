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
struct QlowFuseElementwisePass
    : qlow::impl::QlowFuseElementwisePassBase<QlowFuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // A producer with other users would be computed twice, and one fused
    // into a reduction (a contraction) once per reduced element; upstream
    // would fuse both.
    linalg::ControlFusionFn control = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
      return producer && producer->hasOneUse() && consumer &&
             consumer.getNumReductionLoops() == 0;
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
