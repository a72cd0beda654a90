//===- DistinctResultBuffers.cpp - one buffer per returned result ---------===//
//
// qlow-distinct-result-buffers: a buffer returned more than once is copied
// into a buffer of its own for each repeat, and a returned reshape of an
// allocation becomes an allocation of the result's shape, so that buffer-
// results-to-out-params can compute every result in place.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

#define DEBUG_TYPE "qlow-distinct-result-buffers"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWDISTINCTRESULTBUFFERSPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {
/// A static row-major allocation that `ret` returns only through a
/// memref.expand_shape or memref.collapse_shape (a row op computed on its
/// [rows, last] matrix, reshaped back to the result's shape) is replaced by
/// an allocation of the returned shape, which the allocation's users see
/// through the inverse reshape: the same bytes, but now an allocation that
/// buffer-results-to-out-params hoists into the out-parameter instead of
/// copying the reshape there after the function's last kernel.
void allocateReturnedReshapes(func::ReturnOp ret) {
  auto identityStatic = [](Type type) {
    auto memref = dyn_cast<MemRefType>(type);
    return memref && memref.hasStaticShape() && memref.getLayout().isIdentity();
  };
  for (OpOperand &operand : ret->getOpOperands()) {
    Value value = operand.get();
    if (!identityStatic(value.getType()))
      continue;
    auto expand = value.getDefiningOp<memref::ExpandShapeOp>();
    auto collapse = value.getDefiningOp<memref::CollapseShapeOp>();
    Value source = expand     ? expand.getSrc()
                   : collapse ? collapse.getSrc()
                              : Value();
    auto alloc =
        source ? source.getDefiningOp<memref::AllocOp>() : memref::AllocOp();
    if (!alloc || !identityStatic(alloc.getType()) ||
        !alloc.getDynamicSizes().empty() ||
        !alloc.getSymbolOperands().empty() ||
        llvm::is_contained(ret->getOperands(), source))
      continue;
    OpBuilder builder(alloc);
    auto type = cast<MemRefType>(value.getType());
    auto whole = memref::AllocOp::create(builder, alloc.getLoc(), type,
                                         alloc.getAlignmentAttr());
    Value view;
    if (expand)
      view = memref::CollapseShapeOp::create(builder, alloc.getLoc(),
                                             alloc.getType(), whole,
                                             expand.getReassociationIndices());
    else
      view = memref::ExpandShapeOp::create(builder, alloc.getLoc(),
                                           alloc.getType(), whole,
                                           collapse.getReassociationIndices());
    alloc.getResult().replaceAllUsesWith(view);
    alloc.erase();
    operand.set(whole);
    Operation *reshape = value.getDefiningOp();
    if (reshape->use_empty())
      reshape->erase();
  }
}

struct QlowDistinctResultBuffersPass
    : qlow::impl::QlowDistinctResultBuffersPassBase<
          QlowDistinctResultBuffersPass> {
  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      allocateReturnedReshapes(ret);
      OpBuilder builder(ret);
      llvm::SmallDenseSet<Value> seen;
      for (OpOperand &operand : ret->getOpOperands()) {
        Value value = operand.get();
        auto type = dyn_cast<MemRefType>(value.getType());
        // Only static row-major buffers are computed in place (hoisted); the
        // others are copied to their out-parameters anyway.
        if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
            seen.insert(value).second)
          continue;
        auto copy = memref::AllocOp::create(builder, ret.getLoc(), type,
                                            builder.getI64IntegerAttr(64));
        memref::CopyOp::create(builder, ret.getLoc(), value, copy);
        operand.set(copy);
      }
    });
  }
};
} // namespace
