//===- CompiledModule.cpp - JIT-compiled qlow functions -------------------===//
//
// Lowers with qlow-cpu-pipeline, JIT-compiles with MLIR's ExecutionEngine, and
// marshals reference tensors to and from the memref descriptors that the
// `_mlir_ciface_` wrappers take.
//
//===----------------------------------------------------------------------===//

#include "qlow/JIT/CompiledModule.h"

#include "qlow/Emit/Emit.h"

#include "qlow/Interpreter/Interpreter.h"
#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Support/Progress.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/OptimizationLevel.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

#include <cstdlib>
#include <chrono>
#include <cstring>

using namespace mlir;
using namespace mlir::qlow;

// A memref descriptor is read as an array of 64-bit words (see MemRefBuffer).
static_assert(sizeof(void *) == sizeof(int64_t),
              "memref descriptors are marshalled for 64-bit targets");

//===----------------------------------------------------------------------===//
// Element layout
//===----------------------------------------------------------------------===//

/// Bytes per element of `type` in a buffer passed to compiled code: f32 is 4,
/// an integer or quantized storage type of 8/16/32/64 bits is 1/2/4/8, i1 is
/// one byte. Zero for anything else (i4 storage stays inside compiled code).
static unsigned elementBytes(const ref::TensorType &type) {
  if (type.isFloat())
    return 4;
  switch (type.intType.bits) {
  case 1:
  case 8:
    return 1;
  case 16:
    return 2;
  case 32:
    return 4;
  case 64:
    return 8;
  default:
    return 0;
  }
}

FailureOr<EntrySignature> mlir::qlow::getEntrySignature(func::FuncOp func) {
  if (func.isExternal())
    return func.emitError()
           << "cannot compile '" << func.getSymName() << "': it has no body";
  EntrySignature signature;
  signature.name = func.getSymName().str();
  signature.loc = func.getLoc();
  auto convert = [&](Type type,
                     std::vector<ref::TensorType> &into) -> LogicalResult {
    auto converted =
        convertToReferenceType(type, [&]() { return func.emitError(); });
    if (failed(converted))
      return failure();
    if (elementBytes(*converted) == 0)
      return func.emitError()
             << "cannot pass " << type << " to or from compiled code: "
             << "elements cross the boundary as f32 or as 1-, 8-, 16-, 32- "
                "or 64-bit integers";
    into.push_back(std::move(*converted));
    return success();
  };
  for (Type type : func.getArgumentTypes())
    if (failed(convert(type, signature.inputs)))
      return failure();
  for (Type type : func.getResultTypes())
    if (failed(convert(type, signature.results)))
      return failure();
  return signature;
}

//===----------------------------------------------------------------------===//
// Marshalling
//===----------------------------------------------------------------------===//

namespace {
/// A row-major buffer and the ranked memref descriptor that describes it,
/// laid out as the LLVM lowering of memrefs defines it for any rank r:
///   { T *allocated; T *aligned; int64_t offset;
///     int64_t sizes[r]; int64_t strides[r]; }
/// Every field is 64 bits wide, so the descriptor is an array of 3 + 2r words.
struct MemRefBuffer {
  explicit MemRefBuffer(const ref::TensorType &type)
      : elementBytes(::elementBytes(type)), numElements(type.numElements()) {
    // 64-byte aligned, as the pipeline's own allocations are; one spare
    // element keeps an empty tensor's pointer valid.
    size_t bytes = (numElements + 1) * elementBytes;
    storage.reset(new char[bytes + kAlignment]());
    uintptr_t base = reinterpret_cast<uintptr_t>(storage.get());
    data = reinterpret_cast<char *>((base + kAlignment - 1) &
                                    ~uintptr_t(kAlignment - 1));
    size_t rank = type.rank();
    descriptor.assign(3 + 2 * rank, 0);
    descriptor[0] = static_cast<int64_t>(base);
    descriptor[1] = static_cast<int64_t>(reinterpret_cast<uintptr_t>(data));
    descriptor[2] = 0;
    std::vector<int64_t> strides = ref::rowMajorStrides(type.shape);
    for (size_t d = 0; d < rank; ++d) {
      descriptor[3 + d] = type.shape[d];
      descriptor[3 + rank + d] = strides[d];
    }
  }

  /// Stores `tensor`'s values: f32 as is, integers truncated to the element
  /// width (two's complement: u8 200 is the byte 0xC8, as i8 -56 is).
  void write(const ref::Tensor &tensor) {
    if (tensor.type.isFloat()) {
      std::memcpy(data, tensor.f.data(), numElements * sizeof(float));
      return;
    }
    // One loop per width, so that each vectorizes (a decode step's K and V
    // caches are a million elements).
    switch (elementBytes) {
    case 1:
      return storeAll<uint8_t>(tensor.i.data());
    case 2:
      return storeAll<uint16_t>(tensor.i.data());
    case 4:
      return storeAll<uint32_t>(tensor.i.data());
    default:
      return storeAll<uint64_t>(tensor.i.data());
    }
  }

  /// Reads the values back as a tensor of `type`: integers sign- or
  /// zero-extended as the (storage) type says, i1 as 0 or 1.
  ref::Tensor read(const ref::TensorType &type) const {
    ref::Tensor tensor = ref::Tensor::zeros(type);
    if (type.isFloat()) {
      std::memcpy(tensor.f.data(), data, numElements * sizeof(float));
      return tensor;
    }
    ref::IntType intType = type.intType;
    int64_t *into = tensor.i.data();
    if (intType.bits == 1) {
      for (int64_t k = 0; k < numElements; ++k)
        into[k] = static_cast<uint8_t>(data[k]) & 1;
      return tensor;
    }
    // The storage width is the integer's own (8, 16, 32 or 64 bits), so the
    // C++ type of that width and signedness extends it.
    switch (elementBytes) {
    case 1:
      intType.isSigned ? loadAll<int8_t>(into) : loadAll<uint8_t>(into);
      break;
    case 2:
      intType.isSigned ? loadAll<int16_t>(into) : loadAll<uint16_t>(into);
      break;
    case 4:
      intType.isSigned ? loadAll<int32_t>(into) : loadAll<uint32_t>(into);
      break;
    default:
      loadAll<int64_t>(into);
      break;
    }
    return tensor;
  }

  static constexpr uintptr_t kAlignment = 64;
  unsigned elementBytes;
  int64_t numElements;
  std::unique_ptr<char[]> storage;
  char *data;
  std::vector<int64_t> descriptor;

private:
  // Element by element through memcpy (the buffer is bytes); both loops
  // vectorize.
  template <typename T> void storeAll(const int64_t *values) {
    for (int64_t k = 0; k < numElements; ++k) {
      T value = static_cast<T>(static_cast<uint64_t>(values[k]));
      std::memcpy(data + k * sizeof(T), &value, sizeof(T));
    }
  }
  template <typename T> void loadAll(int64_t *into) const {
    for (int64_t k = 0; k < numElements; ++k) {
      T value;
      std::memcpy(&value, data + k * sizeof(T), sizeof(T));
      into[k] = static_cast<int64_t>(value);
    }
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

/// Where diagnostics about calling `entry` go.
static Location locationOf(const EntrySignature &entry, MLIRContext *context) {
  return entry.loc ? Location(entry.loc) : Location(UnknownLoc::get(context));
}

/// Checks that `entry` was lowered to the function callers expect: a void
/// `_mlir_ciface_` wrapper taking one descriptor pointer per input and per
/// result, around a function taking each descriptor's 3 + 2 * rank fields.
static LogicalResult checkLoweredEntry(ModuleOp module,
                                       const EntrySignature &entry) {
  Location loc = locationOf(entry, module.getContext());
  auto wrapper =
      module.lookupSymbol<LLVM::LLVMFuncOp>("_mlir_ciface_" + entry.name);
  auto inner = module.lookupSymbol<LLVM::LLVMFuncOp>(entry.name);
  if (!wrapper || !inner)
    return emitError(loc)
           << "'" << entry.name
           << "' has no C interface after qlow-cpu-pipeline (is it public?)";
  size_t descriptors = entry.inputs.size() + entry.results.size();
  size_t fields = 0;
  for (const auto *types : {&entry.inputs, &entry.results})
    for (const ref::TensorType &type : *types)
      fields += 3 + 2 * type.rank();
  if (wrapper.getNumArguments() != descriptors ||
      !isa<LLVM::LLVMVoidType>(wrapper.getFunctionType().getReturnType()) ||
      inner.getNumArguments() != fields)
    return emitError(loc)
           << "'" << entry.name << "' was lowered to an unexpected signature: "
           << inner.getFunctionType() << "; expected " << fields
           << " memref descriptor fields (inputs, then out-parameters for "
              "the results) and no results";
  return success();
}

/// Runs LLVM's default optimization pipeline at `optLevel` on `module`.

CompiledModule::~CompiledModule() = default;

FailureOr<std::unique_ptr<CompiledModule>>
CompiledModule::compile(ModuleOp module, const CompileOptions &options,
                        ArrayRef<EntrySignature> entries,
                        const JITMemoryOptions &memory) {
  // Only the entries and what they call are compiled: a module may hold other
  // functions that the pipeline cannot lower (yet).
  Location where = entries.empty()
                       ? module.getLoc()
                       : locationOf(entries.front(), module.getContext());
  for (auto func : module.getOps<func::FuncOp>()) {
    bool isEntry = llvm::any_of(entries, [&](const EntrySignature &entry) {
      return entry.name == func.getSymName();
    });
    if (isEntry)
      func.setPublic();
    else if (func.isPublic())
      func.setPrivate();
  }
  PassManager pm(module.getContext());
  pm.addPass(createSymbolDCEPass());
  buildQlowCpuPipeline(pm, options);
  CompileProgress *progress = CompileProgress::get();
  if (progress) {
    progress->startPhase("lower",
                         "qlow-cpu-pipeline for " +
                             (options.cpu.empty() ? std::string("host")
                                                  : options.cpu.getValue()));
    progress->instrument(pm);
  }
  // A pass that crashes leaves the IR in no state to continue with, or even
  // to destroy: report it and exit rather than crash. Recovery covers this
  // thread only, so the passes run on it.
  llvm::CrashRecoveryContext::Enable();
  MLIRContext *context = module.getContext();
  bool multithreaded = context->isMultithreadingEnabled();
  context->disableMultithreading();
  LogicalResult lowered = failure();
  llvm::CrashRecoveryContext pipelineRecovery;
  bool loweringCompleted =
      pipelineRecovery.RunSafely([&]() { lowered = pm.run(module); });
  context->enableMultithreading(multithreaded);
  if (!loweringCompleted) {
    emitError(where) << "qlow-cpu-pipeline crashed (a bug in one of its "
                        "passes); rerun qlow-opt --qlow-cpu-pipeline on this "
                        "function to find which";
    llvm::report_fatal_error("compilation crashed", /*gen_crash_diag=*/false);
  }
  if (failed(lowered))
    return emitError(where) << "cannot compile with qlow-cpu-pipeline";
  for (const EntrySignature &entry : entries)
    if (failed(checkLoweredEntry(module, entry)))
      return failure();

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  if (progress)
    progress->startPhase(
        "codegen", llvm::formatv("LLVM -O{0} and machine code (JIT)",
                                 std::min(options.optLevel.getValue(), 3u))
                       .str());
  unsigned optLevel = std::min(options.optLevel.getValue(), 3u);
  llvm::CodeGenOptLevel codeGenLevel =
      optLevel == 0   ? llvm::CodeGenOptLevel::None
      : optLevel == 1 ? llvm::CodeGenOptLevel::Less
      : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                      : llvm::CodeGenOptLevel::Aggressive;
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder)
    return emitError(where) << "cannot describe this machine to LLVM: "
                            << llvm::toString(machineBuilder.takeError());
  if (!options.cpu.empty() && options.cpu != "host")
    machineBuilder->setCPU(options.cpu);
  machineBuilder->setCodeGenOptLevel(codeGenLevel);
  auto targetMachine = machineBuilder->createTargetMachine();
  if (!targetMachine)
    return emitError(where) << "cannot create an LLVM target machine: "
                            << llvm::toString(targetMachine.takeError());

  llvm::TargetMachine *machine = targetMachine->get();
  auto optimize = [&](llvm::Module *llvmModule) {
    defineBufferCache(*llvmModule);
    optimizeLLVMModule(*llvmModule, optLevel, machine);
    return llvm::Error::success();
  };
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = optimize;
  engineOptions.jitCodeGenOptLevel = codeGenLevel;
  engineOptions.enableGDBNotificationListener = false;
  // QLOW_PERF_JIT=1 writes a jitdump for `perf record -k mono` and
  // `perf inject --jit`, so that profiles name the compiled functions.
  engineOptions.enablePerfNotificationListener =
      std::getenv("QLOW_PERF_JIT") != nullptr;

  // LLVM reports some failures (an instruction the target cannot select) by
  // aborting: recover from that as from a crash, and report it.
  std::unique_ptr<CompiledModule> compiled(new CompiledModule());
  compiled->context = context;
  // Large constants (packed weights) on 2 MB pages; QLOW_JIT_HUGE_PAGES=0
  // turns that off for an A/B comparison with any tool.
  bool hugePages = memory.hugePages;
  if (const char *env = std::getenv("QLOW_JIT_HUGE_PAGES"))
    hugePages = std::strcmp(env, "0") != 0;
  compiled->sectionMapper = std::make_unique<HugePageSectionMapper>(
      memory.hugePageThreshold, hugePages);
  engineOptions.sectionMemoryMapper = compiled->sectionMapper.get();
  std::string error;
  llvm::CrashRecoveryContext recovery;
  bool completed = recovery.RunSafely([&]() {
    auto engine = ExecutionEngine::create(module, engineOptions,
                                          std::move(*targetMachine));
    if (!engine) {
      error = llvm::toString(engine.takeError());
      return;
    }
    compiled->engine = std::move(*engine);
    compiled->engine->initialize();
    // Lookups compile: do them now so that code generation errors surface
    // here rather than at the first call.
    for (const EntrySignature &entry : entries) {
      auto function =
          compiled->engine->lookupPacked("_mlir_ciface_" + entry.name);
      if (!function) {
        error = llvm::toString(function.takeError());
        return;
      }
    }
  });
  if (!completed) {
    // The JIT may hold locks from the aborted compilation: never destroy it,
    // nor the mapper its memory managers hold.
    (void)compiled->engine.release();
    (void)compiled->sectionMapper.release();
    return emitError(where) << "LLVM failed while compiling the lowered module";
  }
  if (!error.empty())
    return emitError(where) << "JIT compilation failed: " << error;
  if (progress)
    progress->endPhase();
  return compiled;
}

std::vector<HugePageSectionMapper::Mapping>
CompiledModule::largeConstantMappings() const {
  if (!sectionMapper)
    return {};
  return sectionMapper->largeMappings();
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

/// What a prepared call holds: the entry, its function, and the buffers and
/// descriptors of its inputs and results (inputs first).
struct PreparedCall::State {
  EntrySignature entry;
  void (*function)(void **) = nullptr;
  std::vector<MemRefBuffer> buffers;
  /// The wrapper takes a pointer to each descriptor; the packed entry point
  /// takes a pointer to each of those arguments.
  SmallVector<void *> descriptors, arguments;
};

PreparedCall::PreparedCall(CompiledModule &module, std::unique_ptr<State> state)
    : module(module), state(std::move(state)) {}

PreparedCall::~PreparedCall() = default;

FailureOr<std::unique_ptr<PreparedCall>>
CompiledModule::prepare(const EntrySignature &entry,
                        ArrayRef<ref::Tensor> inputs) {
  Location loc = locationOf(entry, context);
  if (!engine)
    return emitError(loc) << "cannot call '" << entry.name
                          << "': the module's compiled code crashed before";
  if (inputs.size() != entry.inputs.size())
    return emitError(loc) << "'" << entry.name << "' takes "
                          << entry.inputs.size() << " inputs, but "
                          << inputs.size() << " were given";
  auto function = engine->lookupPacked("_mlir_ciface_" + entry.name);
  if (!function)
    return emitError(loc) << "cannot find compiled '" << entry.name
                          << "': " << llvm::toString(function.takeError());

  // Inputs, then one caller-allocated out-parameter per result.
  auto state = std::make_unique<PreparedCall::State>();
  state->entry = entry;
  state->function = *function;
  state->buffers.reserve(entry.inputs.size() + entry.results.size());
  for (auto [type, input] : llvm::zip(entry.inputs, inputs)) {
    if (input.type.shape != type.shape || input.type.kind != type.kind)
      return emitError(loc)
             << "input of type " << input.type.str() << " given for an "
             << "argument of type " << type.str();
    state->buffers.emplace_back(type);
    state->buffers.back().write(input);
  }
  for (const ref::TensorType &type : entry.results)
    state->buffers.emplace_back(type);
  for (MemRefBuffer &buffer : state->buffers)
    state->descriptors.push_back(buffer.descriptor.data());
  for (void *&descriptor : state->descriptors)
    state->arguments.push_back(&descriptor);
  return std::unique_ptr<PreparedCall>(
      new PreparedCall(*this, std::move(state)));
}

LogicalResult PreparedCall::run(unsigned repeat, double *secondsPerCall) {
  const EntrySignature &entry = state->entry;
  Location loc = locationOf(entry, module.context);
  if (!module.engine)
    return emitError(loc) << "cannot call '" << entry.name
                          << "': the module's compiled code crashed before";
  double seconds = 0.0;
  llvm::CrashRecoveryContext recovery;
  bool completed = recovery.RunSafely([&]() {
    auto start = std::chrono::steady_clock::now();
    for (unsigned r = 0; r < std::max(1u, repeat); ++r)
      state->function(state->arguments.data());
    seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  });
  if (!completed) {
    // The crashed code's state (locks, its buffer cache) cannot be trusted:
    // the engine and its sections are abandoned, not destroyed.
    (void)module.engine.release();
    (void)module.sectionMapper.release();
    return emitError(loc) << "the compiled code of '" << entry.name
                          << "' crashed";
  }
  if (secondsPerCall)
    *secondsPerCall = seconds / std::max(1u, repeat);
  return success();
}

SmallVector<ref::Tensor> PreparedCall::results() const {
  const EntrySignature &entry = state->entry;
  SmallVector<ref::Tensor> results;
  for (auto [k, type] : llvm::enumerate(entry.results))
    results.push_back(state->buffers[entry.inputs.size() + k].read(type));
  return results;
}

FailureOr<SmallVector<ref::Tensor>>
CompiledModule::call(const EntrySignature &entry, ArrayRef<ref::Tensor> inputs,
                     unsigned repeat, double *secondsPerCall) {
  auto prepared = prepare(entry, inputs);
  if (failed(prepared) || failed((*prepared)->run(repeat, secondsPerCall)))
    return failure();
  return (*prepared)->results();
}
