//===- SinkExpandShapes.cpp - elementwise generics below expand_shapes ----===//
//
// qlow-sink-expand-shapes: an all-parallel generic that reads the
// tensor.expand_shape of another generic's result runs on the collapsed
// shape instead, with the expand_shape after it, so that
// qlow-fuse-elementwise can merge it into its producer (a matmul epilogue).
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWSINKEXPANDSHAPESPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {
/// Whether upstream's collapsing fold may move the expand_shape read by
/// `operand` below its consumer: the consumer is all-parallel (never a
/// contraction, whose form the kernels match), and the expanded value is an
/// all-parallel generic's result used only here (the epilogue the consumer
/// then fuses into; any other expand_shape stays where it is).
bool isEpilogueReshape(OpOperand *operand) {
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!consumer || consumer.getNumLoops() != consumer.getNumParallelLoops())
    return false;
  auto expand = operand->get().getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || !expand->hasOneUse())
    return false;
  auto producer = expand.getSrc().getDefiningOp<linalg::GenericOp>();
  return producer && producer->hasOneUse() &&
         producer.getNumLoops() == producer.getNumParallelLoops();
}

struct QlowSinkExpandShapesPass
    : qlow::impl::QlowSinkExpandShapesPassBase<QlowSinkExpandShapesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateFoldReshapeOpsByCollapsingPatterns(patterns,
                                                       isEpilogueReshape);
    tensor::populateFoldTensorEmptyPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
