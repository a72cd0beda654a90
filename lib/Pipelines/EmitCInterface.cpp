//===- EmitCInterface.cpp - C interface wrappers for public functions -----===//
//
// qlow-emit-c-interface: marks public functions so that convert-func-to-llvm
// emits their _mlir_ciface_ wrappers.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#define DEBUG_TYPE "qlow-emit-c-interface"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWEMITCINTERFACEPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {
/// Marks every public function definition with `llvm.emit_c_interface`.
struct QlowEmitCInterfacePass
    : qlow::impl::QlowEmitCInterfacePassBase<QlowEmitCInterfacePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isPublic() && !func.isExternal())
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(&getContext()));
  }
};
} // namespace
