//===- qlow-run.cpp - evaluate a qlow function on .npy inputs -------------===//
//
// Runs functions of an MLIR file on .npy inputs and writes .npy outputs:
// compiled with qlow-cpu-pipeline and JIT-compiled (the default), or evaluated
// with the reference semantics of lib/Reference (--reference). Both read and
// write the same files, so their outputs compare directly.
//
//===----------------------------------------------------------------------===//

#include "qlow/Import/ONNX/ImportONNX.h"
#include "qlow/Interpreter/Interpreter.h"
#include "qlow/JIT/CompiledModule.h"
#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Reference/Npy.h"
#include "qlow/Registration.h"
#include "qlow/Support/CommandLine.h"
#include "qlow/Support/InputChecks.h"
#include "qlow/Support/Progress.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

using namespace mlir;
namespace cl = llvm::cl;
namespace ref = ::qlow::ref;

static cl::OptionCategory toolCategory("qlow-run options");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<input.mlir | model.onnx>"),
                                      cl::Required, cl::cat(toolCategory));
static cl::opt<bool> reference(
    "reference",
    cl::desc("Evaluate with the reference semantics of lib/Reference instead "
             "of compiling"),
    cl::cat(toolCategory));
static cl::list<std::string>
    entries("entry",
            cl::desc("Function to run (default: the only or the first public "
                     "one); several may be given, repeated or "
                     "comma-separated, and are compiled together"),
            cl::CommaSeparated, cl::cat(toolCategory));
static cl::list<std::string>
    inputs("input",
           cl::desc("Input .npy, one per argument, in order, or "
                    "NAME=file.npy by the ONNX input's name (argN, the "
                    "argument's position, for an argument without one)"),
           cl::cat(toolCategory));
static cl::alias inputsAlias("i", cl::aliasopt(inputs), cl::cat(toolCategory));
static cl::opt<bool> progress(
    "progress",
    cl::desc("Report the compilation's progress on stderr (import, quantize, "
             "lower, codegen). Default: only when stderr is a terminal and "
             "the compilation takes more than a second; --progress=false: "
             "never"),
    cl::cat(toolCategory));
static cl::list<std::string>
    outputs("output", cl::desc("Output .npy, one per result, in order"),
            cl::cat(toolCategory));
static cl::alias outputsAlias("o", cl::aliasopt(outputs),
                              cl::cat(toolCategory));
static cl::opt<std::string>
    inputDir("input-dir",
             cl::desc("Read each argument from <dir>/<function>.<index>.npy"),
             cl::cat(toolCategory));
static cl::opt<std::string>
    outputDir("output-dir",
              cl::desc("Write each result as <dir>/<function>.<index>.npy"),
              cl::cat(toolCategory));
static cl::opt<bool> randomInputs(
    "random-inputs",
    cl::desc("Generate inputs: f32 standard normal, quantized uniform over the "
             "storage range, integers zero"),
    cl::cat(toolCategory));
static cl::opt<unsigned> seed("seed", cl::desc("Seed of --random-inputs"),
                              cl::init(0), cl::cat(toolCategory));
static cl::opt<bool> printResults("print",
                                  cl::desc("Print a summary of each result"),
                                  cl::cat(toolCategory));
static cl::opt<bool>
    printRanges("print-ranges",
                cl::desc("Print the ranges recorded by qlow.observe"),
                cl::cat(toolCategory));
static cl::opt<unsigned> repeat("repeat",
                                cl::desc("Evaluate this many times and report "
                                         "the time per run"),
                                cl::init(1), cl::cat(toolCategory));
static cl::opt<unsigned>
    optLevel("opt-level",
             cl::desc("Optimization level of compiled execution, 0 to 3 "
                      "(qlow-cpu-pipeline's opt-level, and LLVM's)"),
             cl::init(2), cl::cat(toolCategory));

static cl::opt<std::string> targetCpu(
    "cpu",
    cl::desc("CPU to compile for (default host). Its kernels must run on this "
             "machine: a subset of the host's ISA, e.g. haswell on a Zen 4"),
    cl::init("host"), cl::cat(toolCategory));
static cl::opt<unsigned> numThreads(
    "num-threads",
    cl::desc("Threads of compiled kernels (the OpenMP runtime's count; 0: "
             "its default, OMP_NUM_THREADS or the number of cores); also "
             "--threads"),
    cl::init(0), cl::cat(toolCategory));

/// Prints an error without a location (tool-level problems) and fails.
static LogicalResult toolError(const Twine &message) {
  llvm::errs() << "qlow-run: error: " << message << "\n";
  return failure();
}

/// Picks the functions to run: those named by --entry, in order, or else the
/// first public function.
static FailureOr<SmallVector<func::FuncOp>> findEntries(ModuleOp module) {
  SmallVector<func::FuncOp> funcs;
  for (const std::string &name : entries) {
    auto func = module.lookupSymbol<func::FuncOp>(name);
    if (!func)
      return toolError("no function named '" + name + "' in " + inputFile);
    if (llvm::is_contained(funcs, func))
      return toolError("--entry '" + name + "' is given twice");
    funcs.push_back(func);
  }
  if (!funcs.empty())
    return funcs;
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal() && func.isPublic()) {
      funcs.push_back(func);
      break;
    }
  if (funcs.empty())
    return toolError(inputFile + " defines no public function to run");
  return funcs;
}

/// Converts an .npy array to the argument type `type`, checking shape, kind
/// and value range.
static FailureOr<ref::Tensor> toArgument(const ref::NpyArray &array,
                                         const ref::TensorType &type,
                                         const std::string &path) {
  using namespace ::qlow::ref;
  if (array.shape != type.shape)
    return toolError(path + ": shape " + shapeToString(array.shape) +
                     " does not match the argument shape " +
                     shapeToString(type.shape));
  if (type.isFloat()) {
    if (!array.isFloat())
      return toolError(path + ": dtype " + array.dtype +
                       " given for an f32 argument");
    return Tensor::makeFloat(type.shape, array.f);
  }
  if (array.isFloat())
    return toolError(path + ": dtype " + array.dtype + " given for argument " +
                     type.str() + ", which needs integers");
  Tensor tensor = Tensor::zeros(type);
  tensor.i = array.i;
  Status status = verifyTensor(tensor);
  if (!status.ok())
    return toolError(path + ": " + status.message());
  return tensor;
}

/// Makes deterministic inputs for --random-inputs.
static ref::Tensor randomInput(const ref::TensorType &type, std::mt19937 &rng) {
  ref::Tensor tensor = ref::Tensor::zeros(type);
  if (type.isFloat()) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float &v : tensor.f)
      v = normal(rng);
  } else if (type.isQuant()) {
    std::uniform_int_distribution<int64_t> uniform(type.quant.qmin(),
                                                   type.quant.qmax());
    for (int64_t &v : tensor.i)
      v = uniform(rng);
  }
  return tensor;
}

/// Prints shape, type, statistics and the leading values of a result.
static void printSummary(unsigned index, const ref::Tensor &tensor) {
  llvm::outs() << "result #" << index << ": " << tensor.type.str() << "\n";
  int64_t n = tensor.numElements();
  if (n == 0)
    return;
  auto valueAt = [&](int64_t k) {
    return tensor.type.isFloat() ? static_cast<double>(tensor.f[k])
                                 : static_cast<double>(tensor.i[k]);
  };
  double lo = valueAt(0), hi = valueAt(0), sum = 0.0;
  for (int64_t k = 0; k < n; ++k) {
    double v = valueAt(k);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  llvm::outs() << llvm::formatv("  min {0:e6}  max {1:e6}  mean {2:e6}\n", lo,
                                hi, sum / n);
  llvm::outs() << "  values:";
  for (int64_t k = 0; k < std::min<int64_t>(n, 8); ++k)
    llvm::outs() << " " << llvm::format("%.7g", valueAt(k));
  llvm::outs() << (n > 8 ? " ...\n" : "\n");
}

/// One function to run, its inputs and, once run, its results.
struct EntryRun {
  func::FuncOp func;
  std::string name;
  SmallVector<ref::TensorType> types;
  SmallVector<ref::Tensor> args;
  SmallVector<ref::Tensor> results;
  double secondsPerRun = 0.0;
  /// Each compiled call's time, with --repeat (for the minimum and median).
  std::vector<double> callSeconds;
  /// The ONNX names of the arguments (argN for one without) and of the
  /// results (or "").
  std::vector<std::string> argNames, resultNames;
};

/// The ONNX name of argument or result `i` of `func` (set by the importer),
/// or "".
static std::string onnxName(func::FuncOp func, unsigned i, bool result) {
  auto attr = result ? func.getResultAttrOfType<StringAttr>(i, "qlow.onnx_name")
                     : func.getArgAttrOfType<StringAttr>(i, "qlow.onnx_name");
  return attr ? attr.getValue().str() : std::string();
}

/// Writes all outputs of all entries; on any failure removes the ones
/// already written so no partial set of outputs is left behind.
static LogicalResult writeOutputs(ArrayRef<EntryRun> runs) {
  std::vector<std::string> paths;
  std::vector<const ref::Tensor *> tensors;
  for (const EntryRun &run : runs)
    for (const ref::Tensor &tensor : run.results)
      tensors.push_back(&tensor);
  if (!outputs.empty()) {
    // Explicit paths are only accepted with a single entry (checked before).
    if (outputs.size() != tensors.size())
      return toolError(llvm::Twine(tensors.size()) + " results but " +
                       llvm::Twine(outputs.size()) + " --output paths");
    paths.assign(outputs.begin(), outputs.end());
  } else if (!outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return toolError("cannot create " + outputDir + ": " + ec.message());
    for (const EntryRun &run : runs)
      for (size_t i = 0; i < run.results.size(); ++i) {
        llvm::SmallString<256> path(outputDir);
        // Imported ONNX models: one file per graph output, by its name.
        std::string name =
            i < run.resultNames.size() ? run.resultNames[i] : std::string();
        for (char &c : name)
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' &&
              c != '-' && c != '.')
            c = '_';
        if (!name.empty() && runs.size() == 1)
          llvm::sys::path::append(path, name + ".npy");
        else
          llvm::sys::path::append(path,
                                  run.name + "." + llvm::Twine(i) + ".npy");
        paths.push_back(path.str().str());
      }
  }
  std::vector<std::string> written;
  for (auto [path, tensor] : llvm::zip(paths, tensors)) {
    auto array = ref::tensorToNpy(*tensor);
    ref::Status status =
        array.ok() ? ref::writeNpy(path, *array) : array.status;
    if (!status.ok()) {
      for (const std::string &done : written)
        llvm::sys::fs::remove(done);
      return toolError("cannot write " + path + ": " + status.message());
    }
    written.push_back(path);
  }
  return success();
}

/// Reads or makes the inputs of `run`.
static LogicalResult loadInputs(EntryRun &run) {
  if (randomInputs) {
    // One generator per function, so that a function gets the same inputs
    // whether it runs alone or with others.
    std::mt19937 rng(seed);
    for (const auto &type : run.types)
      run.args.push_back(randomInput(type, rng));
    return success();
  }
  std::vector<std::string> paths;
  if (!inputDir.empty()) {
    for (size_t i = 0; i < run.types.size(); ++i) {
      llvm::SmallString<256> path(inputDir);
      llvm::sys::path::append(path, run.name + "." + llvm::Twine(i) + ".npy");
      paths.push_back(path.str().str());
    }
  } else {
    if (inputs.size() != run.types.size())
      return toolError("'" + run.name + "' takes " +
                       llvm::Twine(run.types.size()) + " inputs, but " +
                       llvm::Twine(inputs.size()) +
                       " --input files were given");
    paths.assign(inputs.begin(), inputs.end());
    // NAME=file.npy: by the names of the ONNX graph's inputs.
    if (llvm::all_of(inputs, [](const std::string &in) {
          return in.find('=') != std::string::npos;
        })) {
      for (size_t i = 0; i < run.types.size(); ++i) {
        std::string want = run.argNames[i];
        auto it = llvm::find_if(inputs, [&](const std::string &in) {
          return in.substr(0, in.find('=')) == want;
        });
        if (it == inputs.end())
          return toolError("no --input NAME=file.npy for argument " +
                           llvm::Twine(i) + " ('" + want + "') of '" +
                           run.name + "', whose arguments are named " +
                           llvm::join(run.argNames, ", "));
        paths[i] = it->substr(it->find('=') + 1);
      }
    }
  }
  for (auto [path, type] : llvm::zip(paths, run.types)) {
    auto array = ref::readNpy(path);
    if (!array.ok())
      return toolError(path + ": " + array.status.message());
    auto arg = toArgument(*array, type, path);
    if (failed(arg))
      return failure();
    run.args.push_back(std::move(*arg));
  }
  return success();
}

/// Evaluates every entry with the reference semantics.
static LogicalResult runReference(MutableArrayRef<EntryRun> runs,
                                  mlir::qlow::ObservedRanges &ranges) {
  for (EntryRun &run : runs) {
    // The ranges of one evaluation of each entry are the ones printed.
    mlir::qlow::ObservedRanges entryRanges;
    auto start = std::chrono::steady_clock::now();
    for (unsigned r = 0; r < std::max(1u, repeat.getValue()); ++r) {
      entryRanges.clear();
      auto results =
          mlir::qlow::evaluateFunction(run.func, run.args, &entryRanges);
      if (failed(results))
        return failure();
      run.results = std::move(*results);
    }
    run.secondsPerRun =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count() /
        std::max(1u, repeat.getValue());
    for (auto &[name, stats] : entryRanges) {
      // Probes that share a name record into one range, across entries too.
      ref::RangeStats &into = ranges[name];
      if (stats.count == 0)
        continue;
      into.min = into.count ? std::min(into.min, stats.min) : stats.min;
      into.max = into.count ? std::max(into.max, stats.max) : stats.max;
      into.count += stats.count;
    }
  }
  return success();
}

/// Compiles the module (the entries and what they call) and runs every entry.
static LogicalResult runCompiled(ModuleOp module,
                                 MutableArrayRef<EntryRun> runs,
                                 double &compileSeconds) {
  std::vector<mlir::qlow::EntrySignature> signatures;
  for (EntryRun &run : runs) {
    auto signature = mlir::qlow::getEntrySignature(run.func);
    if (failed(signature))
      return failure();
    signatures.push_back(std::move(*signature));
  }
  mlir::qlow::CompileOptions options;
  options.optLevel = optLevel;
  // The JIT runs here: generate code for this machine's CPU and its kernels.
  options.cpu = targetCpu;
  if (numThreads > 0)
    omp_set_num_threads(static_cast<int>(numThreads));
  auto start = std::chrono::steady_clock::now();
  auto compiled =
      mlir::qlow::CompiledModule::compile(module, options, signatures);
  if (failed(compiled))
    return failure();
  compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (auto *report = mlir::qlow::CompileProgress::get())
    report->finish();
  for (auto [run, signature] : llvm::zip(runs, signatures)) {
    // The inputs are marshalled once: the calls below run on the same
    // buffers, so a --repeat loop costs the calls alone.
    auto prepared = (*compiled)->prepare(signature, run.args);
    if (failed(prepared) ||
        failed((*prepared)->run(repeat, &run.secondsPerRun)))
      return failure();
    run.results = (*prepared)->results();
    // With --repeat, also time calls one by one for the minimum and median.
    for (unsigned r = 0; repeat > 1 && r < repeat; ++r) {
      double seconds = 0.0;
      if (failed((*prepared)->run(1, &seconds)))
        return failure();
      run.callSeconds.push_back(seconds);
    }
  }
  return success();
}

static LogicalResult run(MLIRContext &context) {
  if (!reference && printRanges)
    return toolError("--print-ranges needs --reference: compiled code does "
                     "not record qlow.observe ranges");
  if (optLevel > 3)
    return toolError("--opt-level must be 0, 1, 2 or 3");
  if (randomInputs && (!inputs.empty() || !inputDir.empty()))
    return toolError("give either --input files, --input-dir or "
                     "--random-inputs");
  if (!inputs.empty() && !inputDir.empty())
    return toolError("give either --input files or --input-dir");
  if (entries.size() > 1 && (!inputs.empty() || !outputs.empty()))
    return toolError("with several --entry functions, give inputs with "
                     "--input-dir or --random-inputs and outputs with "
                     "--output-dir");
  std::string errorMessage;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  mlir::qlow::CompileProgress::clearStatusOnDiagnostics(context);
  OwningOpRef<ModuleOp> module;
  using mlir::qlow::CompileProgress;
  if (mlir::qlow::isOnnxFile(inputFile)) {
    // An ONNX model: imported, then its QDQ pairs folded (lib/Import/ONNX).
    CompileProgress *report = CompileProgress::get();
    if (report)
      report->startPhase("import", inputFile);
    module = mlir::qlow::importOnnxFile(inputFile, &context);
    if (module && report) {
      report->endPhase(CompileProgress::summarizeOps(*module));
      report->startPhase("quantize", "qlow-fold-qdq, canonicalize");
    }
    if (module &&
        failed(mlir::qlow::foldImportedModel(*module, /*keepNames=*/true)))
      return failure();
    if (module && report)
      report->endPhase(CompileProgress::summarizeOps(*module));
  } else {
    std::unique_ptr<llvm::MemoryBuffer> file =
        openInputFile(inputFile, &errorMessage);
    if (!file)
      return toolError(errorMessage);
    unsigned bufferId = sourceMgr.AddNewSourceBuffer(std::move(file), SMLoc());
    if (failed(mlir::qlow::checkNestingDepth(sourceMgr, bufferId)))
      return failure();
    module = mlir::qlow::parseModuleSafely(sourceMgr, &context);
  }
  if (!module)
    return failure(); // The parser reported why, with a location.
  if (failed(verify(*module)))
    return failure();
  auto funcs = findEntries(*module);
  if (failed(funcs))
    return failure();

  std::vector<EntryRun> runs;
  for (func::FuncOp func : *funcs) {
    EntryRun run;
    run.func = func;
    run.name = func.getSymName().str();
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      // Arguments without an ONNX name (MLIR functions) are named by
      // position for NAME=file.npy: arg0, arg1, ...
      std::string name = onnxName(func, i, /*result=*/false);
      run.argNames.push_back(name.empty() ? "arg" + std::to_string(i) : name);
    }
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      run.resultNames.push_back(onnxName(func, i, /*result=*/true));
    for (Type type : func.getArgumentTypes()) {
      auto converted = mlir::qlow::convertToReferenceType(
          type, [&]() { return func.emitError(); });
      if (failed(converted))
        return failure();
      run.types.push_back(*converted);
    }
    if (failed(loadInputs(run)))
      return failure();
    runs.push_back(std::move(run));
  }

  mlir::qlow::stripOnnxNames(*module);
  mlir::qlow::ObservedRanges ranges;
  double compileSeconds = 0.0;
  if (reference ? failed(runReference(runs, ranges))
                : failed(runCompiled(*module, runs, compileSeconds)))
    return failure();
  if (failed(writeOutputs(runs)))
    return failure();

  bool several = runs.size() > 1;
  if (printResults)
    for (const EntryRun &run : runs) {
      if (several)
        llvm::outs() << "@" << run.name << ":\n";
      for (auto [i, tensor] : llvm::enumerate(run.results))
        printSummary(i, tensor);
    }
  if (printRanges)
    for (const auto &[name, stats] : ranges)
      llvm::outs() << llvm::formatv("observe {0}: min {1:e6} max {2:e6} over "
                                    "{3} values\n",
                                    name, stats.min, stats.max, stats.count);
  if (repeat > 1) {
    if (!reference)
      llvm::outs() << llvm::formatv("compilation: {0:f1} ms\n",
                                    1e3 * compileSeconds);
    for (const EntryRun &run : runs) {
      llvm::outs() << (several ? "@" + run.name + ": " : std::string());
      // Compiled calls can take well under a microsecond.
      if (reference)
        llvm::outs() << llvm::formatv("reference evaluation: {0:f3} ms per "
                                      "run ({1} runs)\n",
                                      1e3 * run.secondsPerRun,
                                      repeat.getValue());
      else {
        llvm::outs() << "compiled execution: "
                     << llvm::format("%.4g", 1e3 * run.secondsPerRun)
                     << " ms per run (" << repeat << " runs, "
                     << omp_get_max_threads() << " threads)\n";
        std::vector<double> t = run.callSeconds;
        std::sort(t.begin(), t.end());
        if (!t.empty())
          llvm::outs() << (several ? "@" + run.name + ": " : std::string())
                       << "latency: min "
                       << llvm::format("%.4g", 1e3 * t.front())
                       << " ms, median "
                       << llvm::format("%.4g", 1e3 * t[t.size() / 2]) << " ms ("
                       << t.size() << " calls)\n";
      }
    }
  }
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  // qlow-run's `--threads` is the kernels' thread count, as in the README
  // and ONNX Runtime's naming: an alias of --num-threads, once libLLVM's own
  // is out of the way.
  mlir::qlow::hideLLVMThreadsOption();
  static cl::alias threadsAlias("threads", cl::desc("Alias for --num-threads"),
                                cl::aliasopt(numThreads),
                                cl::cat(toolCategory));
  mlir::qlow::showOnlyToolOptions(toolCategory);
  cl::ParseCommandLineOptions(argc, argv,
                              "qlow-run: run a qlow function on .npy inputs\n");
  // Progress is about compiling: the reference evaluator compiles nothing.
  mlir::qlow::CompileProgress::install(
      reference ? mlir::qlow::CompileProgress::Mode::Off
                : mlir::qlow::CompileProgress::modeFromFlag(
                      progress, progress.getNumOccurrences() > 0),
      "qlow-run");
  DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  bool ok = succeeded(run(context));
  if (auto *report = mlir::qlow::CompileProgress::get())
    report->clearStatus();
  return ok ? 0 : 1;
}
