//===- CommandLine.cpp - command-line set-up shared by the tools ----------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Support/CommandLine.h"

#include "llvm/Support/CommandLine.h"

void mlir::qlow::hideLLVMThreadsOption() {
  auto &registered = llvm::cl::getRegisteredOptions();
  if (auto it = registered.find("threads"); it != registered.end()) {
    llvm::cl::Option *llvmThreads = it->second;
    llvmThreads->setArgStr("llvm-threads");
    llvmThreads->setHiddenFlag(llvm::cl::ReallyHidden);
  }
}

void mlir::qlow::showOnlyToolOptions(llvm::cl::OptionCategory &tool) {
  static llvm::cl::OptionCategory mlirCategory(
      "MLIR printing and context options");
  for (auto &entry : llvm::cl::getRegisteredOptions())
    if (entry.first.starts_with("mlir-"))
      entry.second->addCategory(mlirCategory);
  llvm::cl::HideUnrelatedOptions({&tool, &mlirCategory});
}
