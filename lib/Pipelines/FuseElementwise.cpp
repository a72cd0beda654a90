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
    // A producer with other users would be computed twice.
    linalg::ControlFusionFn singleUse = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse();
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, singleUse);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
