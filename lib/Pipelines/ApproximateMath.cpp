//===- ApproximateMath.cpp - vectorizable exp and erfc --------------------===//
//
// qlow-approximate-math: upstream's polynomial approximations of f32 math.exp
// and math.erfc, so that the float activations and softmax stay in vector
// registers instead of calling libm once per lane.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "qlow-approximate-math"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWAPPROXIMATEMATHPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

void mlir::qlow::populateQlowApproximateMathPatterns(
    RewritePatternSet &patterns) {
  // Only the functions whose accuracy test/e2e/random_float_ops.py measures
  // against lib/Reference; every other math op keeps its LLVM intrinsic or
  // libm call.
  populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
    return name == math::ExpOp::getOperationName() ||
           name == math::ErfcOp::getOperationName();
  });
}

namespace {
struct QlowApproximateMathPass
    : qlow::impl::QlowApproximateMathPassBase<QlowApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    qlow::populateQlowApproximateMathPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
