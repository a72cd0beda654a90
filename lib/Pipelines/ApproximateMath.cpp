//===- ApproximateMath.cpp - vectorizable exp and erfc --------------------===//
//
// qlow-approximate-math: polynomial approximations of f32 math.exp
// (upstream's) and math.erfc (qlow's, cheaper than upstream's), so that the
// float activations and softmax stay in vector registers instead of calling
// libm once per lane.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "qlow/Conversion/QlowToLinalg.h"

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

namespace {

/// f32 erfc, scalar or vector, for qlow-approximate-math. Upstream's pattern
/// (a degree-9 polynomial in (x - 2) / (x + 2) times exp(-x^2), with a
/// second division for the sign) costs about 70 vector operations and two
/// divisions per vector on AVX2; the erf form of GELU spent most of its time
/// there. qlow's (buildErfcTail) has one division and about half the
/// operations:
///
///   a = |x|, clamped to 10 (erfc(10) = 2e-45, below the smallest f32), NaN
///   kept; t = 1 / (1 + a / 2); a^2 = hi + lo exactly (lo from an fma);
///   erfc(|x|) = t Q(t) exp(-hi) (1 - lo), so that the rounding of a^2 (half
///   an ulp of up to 100) does not reach the result;
///   erfc(x) = erfc(|x|) for x >= 0, 2 - erfc(|x|) below.
///
/// Relative error 3.7e-7 at most over [-10.5, 10.5] compiled for AVX2
/// (test qlow-approximate-math-erfc-accuracy.test; 3.2e-7 before Q and the
/// exponential were evaluated in fewer dependent steps, see Erfc.cpp).
struct ErfcApproximation : OpRewritePattern<math::ErfcOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::ErfcOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    Location loc = op.getLoc();
    auto cst = [&](float v) { return qlow::f32Splat(rewriter, loc, type, v); };
    Value x = op.getOperand();
    Value a = math::AbsFOp::create(rewriter, loc, x);
    // min(a, 10) that keeps NaN: a < 10 or unordered selects a.
    Value ten = cst(10.0f);
    a = arith::SelectOp::create(
        rewriter, loc,
        arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::ULT, a,
                              ten),
        a, ten);
    Value one = cst(1.0f);
    Value t = arith::DivFOp::create(
        rewriter, loc, one,
        math::FmaOp::create(rewriter, loc, a, cst(0.5f), one));
    Value hi = arith::MulFOp::create(rewriter, loc, a, a);
    Value lo = math::FmaOp::create(rewriter, loc, a, a,
                                   arith::NegFOp::create(rewriter, loc, hi));
    Value tail = qlow::buildErfcTail(rewriter, loc, t, hi, lo);
    Value negative = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::OLT, x, cst(0.0f));
    rewriter.replaceOpWithNewOp<arith::SelectOp>(
        op, negative, arith::SubFOp::create(rewriter, loc, cst(2.0f), tail),
        tail);
    return success();
  }
};

} // namespace

void mlir::qlow::populateQlowApproximateMathPatterns(
    RewritePatternSet &patterns) {
  // Only the functions whose accuracy test/e2e/random_float_ops.py measures
  // against lib/Reference; every other math op keeps its LLVM intrinsic or
  // libm call. exp is upstream's; erfc is ErfcApproximation above, whose
  // exp(-a^2) buildErfcTail computes itself (a shorter dependency chain than
  // upstream's polynomial, for a known range).
  populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
    return name == math::ExpOp::getOperationName();
  });
  patterns.add<ErfcApproximation>(patterns.getContext());
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
