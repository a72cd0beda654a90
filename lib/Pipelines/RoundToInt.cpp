//===- RoundToInt.cpp - fptosi(roundeven(x)) as one conversion ------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// qlow-round-to-int: every quantization rounds half to even and converts to
// an integer. LLVM lowers `fptosi (roundeven x)` as two instructions
// (vrndscaleps + vcvttps2dq on x86); `llvm.lrint` is one (vcvtps2dq) and
// gives the same value in the default floating-point environment. Upstream
// has no pattern for it (math has no lrint), so this small one lives here.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWROUNDTOINTPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {
/// arith.fptosi(math.roundeven(x)) -> llvm.intr.lrint(x). The roundeven
/// stays while it has other users (the canonicalizer removes it otherwise).
struct FPToSIOfRoundEven : OpRewritePattern<arith::FPToSIOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::FPToSIOp op,
                                PatternRewriter &rewriter) const override {
    auto round = op.getIn().getDefiningOp<math::RoundEvenOp>();
    if (!round)
      return rewriter.notifyMatchFailure(op, "input is not math.roundeven");
    rewriter.replaceOpWithNewOp<LLVM::LrintOp>(op, op.getType(),
                                               round.getOperand());
    if (round->use_empty())
      rewriter.eraseOp(round);
    return success();
  }
};

struct QlowRoundToIntPass
    : qlow::impl::QlowRoundToIntPassBase<QlowRoundToIntPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FPToSIOfRoundEven>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
