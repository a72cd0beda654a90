//===- SetTargetCpu.cpp - the CPU each function is compiled for -----------===//
//
// qlow-set-target-cpu: records the target CPU on every function, which
// convert-func-to-llvm carries to llvm.func and LLVM's code generator obeys.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMAttrs.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/TargetParser/Host.h"

#define DEBUG_TYPE "qlow-set-target-cpu"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWSETTARGETCPUPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {
/// Sets `target_cpu` (and `target_features` when given) on every function
/// definition; `host` is resolved here.
struct QlowSetTargetCpuPass
    : qlow::impl::QlowSetTargetCpuPassBase<QlowSetTargetCpuPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    std::string name = cpu == "host" ? llvm::sys::getHostCPUName().str()
                                     : static_cast<std::string>(cpu);
    if (name.empty()) {
      func.emitError() << "qlow-set-target-cpu needs a CPU name (or host)";
      return signalPassFailure();
    }
    func->setAttr("target_cpu", StringAttr::get(&getContext(), name));
    if (features.empty())
      return;
    SmallVector<StringRef> list;
    StringRef(features).split(list, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
    for (StringRef feature : list)
      if (!feature.starts_with("+") && !feature.starts_with("-")) {
        func.emitError() << "qlow-set-target-cpu: feature '" << feature
                         << "' must start with '+' or '-'";
        return signalPassFailure();
      }
    func->setAttr("target_features",
                  LLVM::TargetFeaturesAttr::get(&getContext(), list));
  }
};
} // namespace
