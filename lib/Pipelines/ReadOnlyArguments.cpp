//===- ReadOnlyArguments.cpp - inputs bufferization must not write --------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// qlow-read-only-arguments: marks the tensor arguments of public functions
// `bufferization.writable = false` (unless they say otherwise), so that
// One-Shot Bufferize copies instead of writing into a caller's input. Upstream
// offers the attribute but defaults to writable arguments.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"

#define DEBUG_TYPE "qlow-read-only-arguments"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWREADONLYARGUMENTSPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {
struct QlowReadOnlyArgumentsPass
    : qlow::impl::QlowReadOnlyArgumentsPassBase<QlowReadOnlyArgumentsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func.isPublic())
      return;
    const StringRef name = bufferization::BufferizationDialect::kWritableAttrName;
    auto readOnly = BoolAttr::get(&getContext(), false);
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
      Type type = func.getArgument(i).getType();
      auto given = func.getArgAttrOfType<BoolAttr>(i, name);
      if (given) {
        if (given.getValue() && !isa<TensorType>(type)) {
          func.emitError() << "argument " << i << " of '" << func.getSymName()
                           << "' is marked " << name << " = true but is "
                           << type << ", not a tensor: only a tensor's "
                           << "buffer can be written in place";
          return signalPassFailure();
        }
        continue;
      }
      if (isa<TensorType>(type))
        func.setArgAttr(i, name, readOnly);
    }
  }
};
} // namespace
