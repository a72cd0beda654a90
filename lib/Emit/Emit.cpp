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

/// What a variant needs from the CPU at run time, as the dispatcher tests it
/// (an SVE variant needs i8mm and, besides, SVE with i8mm at exactly its
/// vector length: see sveBytesFunction).
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

/// `i64 @qlow_aarch64_sve_bytes()`: the SVE vector length in bytes where the
/// CPU has SVE (AT_HWCAP & HWCAP_SVE) and SVE's int8 matrix multiplies
/// (AT_HWCAP2 & HWCAP2_SVEI8MM), read with prctl(PR_SVE_GET_VL) (the
/// length this thread runs with, which the kernel may set below the CPU's
/// maximum); 0 otherwise. An SVE variant is compiled for one length
/// (vscale_range) and runs only where this is exactly that length.
llvm::Function *buildSveBytesFunction(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::FunctionCallee getauxval = module.getOrInsertFunction(
      "getauxval", llvm::FunctionType::get(i64, {i64}, false));
  llvm::FunctionCallee prctl = module.getOrInsertFunction(
      "prctl", llvm::FunctionType::get(i32, {i32}, /*isVarArg=*/true));
  auto *fn = llvm::Function::Create(llvm::FunctionType::get(i64, false),
                                    llvm::GlobalValue::InternalLinkage,
                                    "qlow_aarch64_sve_bytes", module);
  llvm::BasicBlock *entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  llvm::BasicBlock *read = llvm::BasicBlock::Create(ctx, "read", fn);
  llvm::BasicBlock *none = llvm::BasicBlock::Create(ctx, "none", fn);
  llvm::IRBuilder<> b(entry);
  const uint64_t atHwcap = 16, atHwcap2 = 26;
  const uint64_t hwcapSve = 1ull << 22, hwcap2SveI8mm = 1ull << 9;
  const int prSveGetVl = 51, prSveVlLenMask = 0xffff;
  llvm::Value *hwcap = b.CreateCall(getauxval, {b.getInt64(atHwcap)});
  llvm::Value *hwcap2 = b.CreateCall(getauxval, {b.getInt64(atHwcap2)});
  llvm::Value *sve =
      b.CreateICmpNE(b.CreateAnd(hwcap, b.getInt64(hwcapSve)), b.getInt64(0));
  llvm::Value *mm = b.CreateICmpNE(
      b.CreateAnd(hwcap2, b.getInt64(hwcap2SveI8mm)), b.getInt64(0));
  b.CreateCondBr(b.CreateAnd(sve, mm), read, none);
  b.SetInsertPoint(read);
  llvm::Value *vl = b.CreateCall(prctl, {b.getInt32(prSveGetVl)});
  // A negative result is an error (no SVE after all): no length.
  llvm::Value *bytes = b.CreateSelect(
      b.CreateICmpSLT(vl, b.getInt32(0)), b.getInt32(0),
      b.CreateAnd(vl, b.getInt32(prSveVlLenMask)));
  b.CreateRet(b.CreateZExt(bytes, i64));
  b.SetInsertPoint(none);
  b.CreateRet(b.getInt64(0));
  return fn;
}

/// Marks every function defined in `module` as compiled for SVE vectors of
/// exactly `bits` (LLVM's vscale_range(bits / 128, bits / 128)): scalable
/// vectors then have a known size, which the SVE kernels' loads, stores and
/// fixed-length vectors in SVE registers rely on.
void setFixedSveLength(llvm::Module &module, unsigned bits) {
  for (llvm::Function &fn : module)
    if (!fn.isDeclaration())
      fn.addFnAttr(llvm::Attribute::getWithVScaleRangeArgs(
          module.getContext(), bits / 128, bits / 128));
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
    if (desc.sveVectorBits != 0)
      setFixedSveLength(*variant, desc.sveVectorBits);
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
  llvm::Function *sveBytes =
      llvm::any_of(descs,
                   [](const TargetDesc &desc) { return desc.sveVectorBits; })
          ? buildSveBytesFunction(*combined)
          : nullptr;
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
    llvm::Value *cpuSveBytes = sveBytes ? b.CreateCall(sveBytes) : nullptr;
    for (auto [desc, fn] : llvm::zip(descs, variants)) {
      llvm::BasicBlock *call =
          llvm::BasicBlock::Create(ctx, "call", dispatcher);
      llvm::BasicBlock *next =
          llvm::BasicBlock::Create(ctx, "next", dispatcher);
      llvm::Value *runs = b.CreateICmpSGE(
          cpuLevel, b.getInt32(static_cast<int>(requiredLevel(desc))));
      // An SVE variant: only at exactly the vector length it was compiled
      // for; elsewhere the next variant.
      if (desc.sveVectorBits != 0)
        runs = b.CreateAnd(
            runs, b.CreateICmpEQ(cpuSveBytes,
                                 b.getInt64(desc.sveVectorBits / 8)));
      b.CreateCondBr(runs, call, next);
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
  if (desc->sveVectorBits != 0)
    setFixedSveLength(*llvmModule, desc->sveVectorBits);

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
