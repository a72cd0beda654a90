//===- Emit.cpp - object, assembly and LLVM IR writers --------------------===//
//
// qlow-cpu-pipeline, translation to LLVM IR, LLVM's optimizer and code
// generator for the CPU of a TargetDesc, in process.
//
//===----------------------------------------------------------------------===//

#include "qlow/Emit/Emit.h"

#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Target/TargetDesc.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;

void mlir::qlow::optimizeLLVMModule(llvm::Module &module, unsigned optLevel,
                                    llvm::TargetMachine *targetMachine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(targetMachine);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  static const llvm::OptimizationLevel levels[] = {
      llvm::OptimizationLevel::O0, llvm::OptimizationLevel::O1,
      llvm::OptimizationLevel::O2, llvm::OptimizationLevel::O3};
  llvm::OptimizationLevel level = levels[std::min(optLevel, 3u)];
  llvm::ModulePassManager passes =
      optLevel == 0 ? builder.buildO0DefaultPipeline(level)
                    : builder.buildPerModuleDefaultPipeline(level);
  passes.run(module, mam);
}

LogicalResult mlir::qlow::emitModule(ModuleOp module,
                                     const EmitOptions &options,
                                     llvm::raw_pwrite_stream &os) {
  std::string error;
  FailureOr<TargetDesc> desc = lookupTargetDesc(options.arch, options.cpu, &error);
  if (failed(desc))
    return module.emitError() << error;

  CompileOptions compile;
  compile.optLevel = std::min(options.optLevel, 3u);
  compile.cpu = desc->cpu;
  compile.target = desc->arch;
  PassManager pm(module.getContext());
  buildQlowCpuPipeline(pm, compile);
  if (failed(pm.run(module)))
    return failure(); // The failing pass reported why.
  if (options.kind == EmitKind::MLIR) {
    module.print(os);
    return success();
  }

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return module.emitError() << "cannot translate the module to LLVM IR";

  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  llvm::Triple triple(desc->triple);
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError()
           << "no LLVM target for " << desc->triple << ": " << error;
  static const llvm::CodeGenOptLevel levels[] = {
      llvm::CodeGenOptLevel::None, llvm::CodeGenOptLevel::Less,
      llvm::CodeGenOptLevel::Default, llvm::CodeGenOptLevel::Aggressive};
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, desc->cpu, desc->features, llvm::TargetOptions(),
      llvm::Reloc::PIC_, std::nullopt, levels[compile.optLevel]));
  if (!machine)
    return module.emitError()
           << "cannot create an LLVM target machine for " << desc->cpu;
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);
  optimizeLLVMModule(*llvmModule, compile.optLevel, machine.get());
  if (options.kind == EmitKind::LLVMIR) {
    llvmModule->print(os, nullptr);
    return success();
  }
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   options.kind == EmitKind::Assembly
                                       ? llvm::CodeGenFileType::AssemblyFile
                                       : llvm::CodeGenFileType::ObjectFile))
    return module.emitError()
           << "LLVM cannot emit this file type for " << desc->cpu;
  codegen.run(*llvmModule);
  return success();
}
