//===- DistinctResultBuffers.cpp - one buffer per returned result ---------===//
//
// qlow-distinct-result-buffers: a buffer returned more than once is copied
// into a buffer of its own for each repeat, so that buffer-results-to-out-
// params can compute every result in place.
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
struct QlowDistinctResultBuffersPass
    : qlow::impl::QlowDistinctResultBuffersPassBase<
          QlowDistinctResultBuffersPass> {
  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
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
