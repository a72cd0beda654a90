//===- Emit.cpp - object, assembly and LLVM IR writers --------------------===//
//
// qlow-cpu-pipeline, translation to LLVM IR, LLVM's optimizer and code
// generator for the CPU of a TargetDesc, in process.
//
//===----------------------------------------------------------------------===//

#include "qlow/Emit/Emit.h"

#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Support/Progress.h"
#include "qlow/Target/TargetDesc.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Linker/Linker.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

#include <cctype>

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

namespace {
using namespace mlir::qlow;

/// What a variant needs from the CPU at run time, as the dispatcher tests it.
enum class HwcapLevel { Baseline = 0, Dotprod = 1, I8mm = 2 };

HwcapLevel requiredLevel(const TargetDesc &desc) {
  switch (desc.int8Dot) {
  case Int8DotKind::NeonI8mm:
    return HwcapLevel::I8mm;
  case Int8DotKind::NeonSdot:
    return HwcapLevel::Dotprod;
  default:
    return HwcapLevel::Baseline;
  }
}

/// `i32 @qlow_aarch64_cpu_level()`: 2 with i8mm (AT_HWCAP2 & HWCAP2_I8MM),
/// 1 with dotprod (AT_HWCAP & HWCAP_ASIMDDP), else 0, from the kernel's
/// auxiliary vector (glibc's getauxval).
llvm::Function *buildCpuLevelFunction(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::FunctionCallee getauxval = module.getOrInsertFunction(
      "getauxval", llvm::FunctionType::get(i64, {i64}, false));
  auto *fn = llvm::Function::Create(llvm::FunctionType::get(i32, false),
                                    llvm::GlobalValue::InternalLinkage,
                                    "qlow_aarch64_cpu_level", module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  const uint64_t atHwcap = 16, atHwcap2 = 26;
  const uint64_t hwcapAsimddp = 1ull << 20, hwcap2I8mm = 1ull << 13;
  llvm::Value *hwcap = b.CreateCall(getauxval, {b.getInt64(atHwcap)});
  llvm::Value *hwcap2 = b.CreateCall(getauxval, {b.getInt64(atHwcap2)});
  llvm::Value *dot = b.CreateICmpNE(
      b.CreateAnd(hwcap, b.getInt64(hwcapAsimddp)), b.getInt64(0));
  llvm::Value *mm = b.CreateICmpNE(b.CreateAnd(hwcap2, b.getInt64(hwcap2I8mm)),
                                   b.getInt64(0));
  llvm::Value *level = b.CreateSelect(
      mm, b.getInt32(2), b.CreateSelect(dot, b.getInt32(1), b.getInt32(0)));
  b.CreateRet(level);
  return fn;
}

/// Writes `module` compiled once per CPU of `cpus` (best first, the last one
/// the baseline every AArch64 CPU runs), with each public entry point
/// `_mlir_ciface_<name>` a dispatcher that calls the first variant the CPU
/// it runs on supports (HWCAP). Each variant's functions keep the CPU as
/// their `target-cpu`, so one TargetMachine for the baseline selects each
/// variant's instructions.
LogicalResult emitAArch64Variants(ModuleOp module, const EmitOptions &options,
                                  ArrayRef<std::string> cpus,
                                  llvm::raw_pwrite_stream &os) {
  std::string error;
  std::vector<TargetDesc> descs;
  for (const std::string &cpu : cpus) {
    FailureOr<TargetDesc> desc = lookupTargetDesc("aarch64", cpu, &error);
    if (failed(desc))
      return module.emitError() << error;
    descs.push_back(*desc);
  }
  if (requiredLevel(descs.back()) != HwcapLevel::Baseline)
    return module.emitError()
           << "the last of several --cpu variants must run on every AArch64 "
              "CPU (no dotprod or i8mm, e.g. generic or cortex-a57); '"
           << cpus.back() << "' needs "
           << (requiredLevel(descs.back()) == HwcapLevel::I8mm ? "i8mm"
                                                               : "dotprod");
  if (options.kind == EmitKind::MLIR)
    return module.emitError()
           << "--emit=mlir shows one variant: give one --cpu";

  SmallVector<std::string> entries;
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isPublic() && !func.isExternal())
      entries.push_back("_mlir_ciface_" + func.getSymName().str());

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> combined;
  for (auto [i, desc] : llvm::enumerate(descs)) {
    OwningOpRef<ModuleOp> copy = module.clone();
    CompileOptions compile;
    compile.optLevel = std::min(options.optLevel, 3u);
    compile.cpu = desc.cpu;
    compile.target = desc.arch;
    PassManager pm(module.getContext());
    buildQlowCpuPipeline(pm, compile);
    if (CompileProgress *progress = CompileProgress::get()) {
      progress->startPhase("lower",
                           llvm::formatv("qlow-cpu-pipeline for {0} (variant "
                                         "{1} of {2})",
                                         desc.cpu, i + 1, descs.size())
                               .str());
      progress->instrument(pm);
    }
    if (failed(pm.run(*copy)))
      return failure();
    std::unique_ptr<llvm::Module> variant =
        translateModuleToLLVMIR(*copy, llvmContext);
    if (!variant)
      return module.emitError() << "cannot translate the module to LLVM IR";
    // Every definition gets the variant's suffix and, but for the entry
    // points the dispatchers call (the linker moves only what they reach;
    // they become internal once the dispatchers call them), internal
    // linkage.
    std::string suffix = "__" + desc.cpu;
    for (char &c : suffix)
      if (!std::isalnum(static_cast<unsigned char>(c)))
        c = '_';
    for (llvm::Function &fn : *variant) {
      if (fn.isDeclaration())
        continue;
      bool entry = llvm::is_contained(entries, fn.getName().str());
      fn.setName(fn.getName() + suffix);
      if (!entry)
        fn.setLinkage(llvm::GlobalValue::InternalLinkage);
    }
    for (llvm::GlobalVariable &global : variant->globals())
      if (!global.isDeclaration()) {
        global.setName(global.getName() + suffix);
        global.setLinkage(llvm::GlobalValue::InternalLinkage);
      }
    if (!combined) {
      combined = std::move(variant);
      continue;
    }
    if (llvm::Linker::linkModules(*combined, std::move(variant)))
      return module.emitError() << "cannot link the " << desc.cpu << " variant";
  }

  // The dispatchers.
  llvm::Function *level = buildCpuLevelFunction(*combined);
  for (const std::string &entry : entries) {
    SmallVector<llvm::Function *> variants;
    for (const TargetDesc &desc : descs) {
      std::string name = entry + "__" + desc.cpu;
      for (char &c : MutableArrayRef<char>(name).drop_front(entry.size()))
        if (!std::isalnum(static_cast<unsigned char>(c)))
          c = '_';
      variants.push_back(combined->getFunction(name));
      if (!variants.back())
        return module.emitError() << "no " << name << " in the variants";
    }
    llvm::Function *first = variants.front();
    auto *dispatcher = llvm::Function::Create(
        first->getFunctionType(), llvm::GlobalValue::ExternalLinkage, entry,
        *combined);
    llvm::LLVMContext &ctx = combined->getContext();
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", dispatcher));
    SmallVector<llvm::Value *> args;
    for (llvm::Argument &arg : dispatcher->args())
      args.push_back(&arg);
    llvm::Value *cpuLevel = b.CreateCall(level);
    for (auto [desc, fn] : llvm::zip(descs, variants)) {
      llvm::BasicBlock *call =
          llvm::BasicBlock::Create(ctx, "call", dispatcher);
      llvm::BasicBlock *next =
          llvm::BasicBlock::Create(ctx, "next", dispatcher);
      b.CreateCondBr(b.CreateICmpSGE(cpuLevel, b.getInt32(static_cast<int>(
                                                   requiredLevel(desc)))),
                     call, next);
      b.SetInsertPoint(call);
      b.CreateCall(fn, args);
      b.CreateRetVoid();
      b.SetInsertPoint(next);
    }
    b.CreateUnreachable();
    for (llvm::Function *fn : variants)
      fn->setLinkage(llvm::GlobalValue::InternalLinkage);
  }

  // One target machine for the baseline; each variant's functions carry
  // their own target-cpu.
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  const TargetDesc &base = descs.back();
  llvm::Triple triple(base.triple);
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError()
           << "no LLVM target for " << base.triple << ": " << error;
  static const llvm::CodeGenOptLevel levels[] = {
      llvm::CodeGenOptLevel::None, llvm::CodeGenOptLevel::Less,
      llvm::CodeGenOptLevel::Default, llvm::CodeGenOptLevel::Aggressive};
  unsigned optLevel = std::min(options.optLevel, 3u);
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, base.cpu, base.features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, levels[optLevel]));
  if (!machine)
    return module.emitError()
           << "cannot create an LLVM target machine for " << base.cpu;
  combined->setDataLayout(machine->createDataLayout());
  combined->setTargetTriple(triple);
  if (CompileProgress *progress = CompileProgress::get())
    progress->startPhase(
        "codegen", llvm::formatv("LLVM -O{0} and machine code for {1} variants",
                                 optLevel, descs.size())
                       .str());
  // The variants' LLVM options, for the optimizer and code generator.
  SmallVector<std::string> llvmOptions;
  for (const TargetDesc &desc : descs)
    llvm::append_range(llvmOptions, desc.llvmOptions);
  ScopedLLVMOptions scopedOptions(llvmOptions);
  defineBufferCache(*combined);
  optimizeLLVMModule(*combined, optLevel, machine.get());
  if (options.kind == EmitKind::LLVMIR) {
    combined->print(os, nullptr);
    return success();
  }
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   options.kind == EmitKind::Assembly
                                       ? llvm::CodeGenFileType::AssemblyFile
                                       : llvm::CodeGenFileType::ObjectFile))
    return module.emitError() << "LLVM cannot emit this file type";
  codegen.run(*combined);
  return success();
}
} // namespace

LogicalResult mlir::qlow::emitModule(ModuleOp module,
                                     const EmitOptions &options,
                                     llvm::raw_pwrite_stream &os) {
  std::string error;
  if (StringRef(options.cpu).contains(',')) {
    if (options.arch != "aarch64")
      return module.emitError()
             << "several CPUs (run-time dispatch) are for aarch64 only";
    SmallVector<StringRef> parts;
    StringRef(options.cpu).split(parts, ',', -1, false);
    SmallVector<std::string> cpus(parts.begin(), parts.end());
    return emitAArch64Variants(module, options, cpus, os);
  }
  FailureOr<TargetDesc> desc =
      lookupTargetDesc(options.arch, options.cpu, &error);
  if (failed(desc))
    return module.emitError() << error;

  CompileOptions compile;
  compile.optLevel = std::min(options.optLevel, 3u);
  compile.cpu = desc->cpu;
  compile.target = desc->arch;
  PassManager pm(module.getContext());
  buildQlowCpuPipeline(pm, compile);
  CompileProgress *progress = CompileProgress::get();
  if (progress) {
    progress->startPhase("lower", "qlow-cpu-pipeline for " + desc->cpu);
    progress->instrument(pm);
  }
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
  if (progress)
    progress->startPhase("codegen",
                         llvm::formatv("LLVM -O{0} and machine code for {1}",
                                       compile.optLevel.getValue(), desc->cpu)
                             .str());
  ScopedLLVMOptions scopedOptions(desc->llvmOptions);
  defineBufferCache(*llvmModule);
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
