//===- LowerStridedCopies.cpp - non-contiguous memref.copy to linalg ------===//
//
// qlow-lower-strided-copies: the copies that finalize-memref-to-llvm would
// turn into calls of the C runner utilities' memrefCopy become linalg.copy,
// hence loops.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "qlow-lower-strided-copies"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWLOWERSTRIDEDCOPIESPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

/// True when finalize-memref-to-llvm lowers a copy from or to `type` with
/// llvm.memcpy: an identity layout, or a static, non-empty, contiguous
/// row-major one. The same test as upstream's MemRefCopyOpLowering, which
/// calls memrefCopy for anything else.
static bool copiesWithMemcpy(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && (memref.getLayout().isIdentity() ||
                    (memref.hasStaticShape() && memref.getNumElements() > 0 &&
                     memref::isStaticShapeAndContiguousRowMajor(memref)));
}

namespace {
struct QlowLowerStridedCopiesPass
    : qlow::impl::QlowLowerStridedCopiesPassBase<QlowLowerStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      if (!copiesWithMemcpy(copy.getSource().getType()) ||
          !copiesWithMemcpy(copy.getTarget().getType()))
        copies.push_back(copy);
    });
    IRRewriter rewriter(&getContext());
    for (memref::CopyOp copy : copies) {
      // linalg.copy needs ranked operands; an unranked copy stays and fails
      // in the LLVM lowering with a diagnostic of its own.
      if (!isa<MemRefType>(copy.getSource().getType()) ||
          !isa<MemRefType>(copy.getTarget().getType()))
        continue;
      rewriter.setInsertionPoint(copy);
      linalg::CopyOp::create(rewriter, copy.getLoc(),
                             ValueRange{copy.getSource()},
                             ValueRange{copy.getTarget()});
      rewriter.eraseOp(copy);
    }
  }
};
} // namespace
