//===- qlow-run.cpp - evaluate a qlow function on .npy inputs -------------===//
//
// Runs one function of an MLIR file on .npy inputs and writes .npy outputs.
// Today it evaluates with the reference semantics (--reference); compiled
// execution joins it when code generation exists.
//
//===----------------------------------------------------------------------===//

#include "qlow/Interpreter/Interpreter.h"
#include "qlow/Reference/Npy.h"
#include "qlow/Registration.h"
#include "qlow/Support/InputChecks.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

using namespace mlir;
namespace cl = llvm::cl;
namespace ref = ::qlow::ref;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::Required);
static cl::opt<bool> reference(
    "reference",
    cl::desc("Evaluate with the reference semantics of lib/Reference"));
static cl::opt<std::string> entry("entry",
                                  cl::desc("Function to run (default: the "
                                           "only or the first public one)"));
static cl::list<std::string> inputs("input", cl::desc("Input .npy, one per "
                                                      "argument, in order"));
static cl::alias inputsAlias("i", cl::aliasopt(inputs));
static cl::list<std::string>
    outputs("output", cl::desc("Output .npy, one per result, in order"));
static cl::alias outputsAlias("o", cl::aliasopt(outputs));
static cl::opt<std::string>
    outputDir("output-dir",
              cl::desc("Write each result as <dir>/<function>.<index>.npy"));
static cl::opt<bool> randomInputs(
    "random-inputs",
    cl::desc("Generate inputs: f32 standard normal, quantized uniform over the "
             "storage range, integers zero"));
static cl::opt<unsigned> seed("seed", cl::desc("Seed of --random-inputs"),
                              cl::init(0));
static cl::opt<bool> printResults("print",
                                  cl::desc("Print a summary of each result"));
static cl::opt<bool>
    printRanges("print-ranges",
                cl::desc("Print the ranges recorded by qlow.observe"));
static cl::opt<unsigned> repeat("repeat",
                                cl::desc("Evaluate this many times and report "
                                         "the time per run"),
                                cl::init(1));

/// Prints an error without a location (tool-level problems) and fails.
static LogicalResult toolError(const Twine &message) {
  llvm::errs() << "qlow-run: error: " << message << "\n";
  return failure();
}

/// Picks the function to run.
static FailureOr<func::FuncOp> findEntry(ModuleOp module) {
  if (!entry.empty()) {
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func)
      return toolError("no function named '" + entry + "' in " + inputFile);
    return func;
  }
  func::FuncOp first;
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal() && func.isPublic()) {
      first = func;
      break;
    }
  if (!first)
    return toolError(inputFile + " defines no public function to run");
  return first;
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

/// Writes all outputs; on any failure removes the ones already written so no
/// partial set of outputs is left behind.
static LogicalResult writeOutputs(func::FuncOp func,
                                  ArrayRef<ref::Tensor> results) {
  std::vector<std::string> paths(outputs.begin(), outputs.end());
  if (!paths.empty() && paths.size() != results.size())
    return toolError(llvm::Twine(results.size()) + " results but " +
                     llvm::Twine(paths.size()) + " --output paths");
  if (paths.empty() && !outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return toolError("cannot create " + outputDir + ": " + ec.message());
    for (size_t i = 0; i < results.size(); ++i) {
      llvm::SmallString<256> path(outputDir);
      llvm::sys::path::append(path, func.getSymName() + "." + llvm::Twine(i) +
                                        ".npy");
      paths.push_back(path.str().str());
    }
  }
  std::vector<std::string> written;
  for (auto [path, tensor] : llvm::zip(paths, results)) {
    auto array = ref::tensorToNpy(tensor);
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

static LogicalResult run(MLIRContext &context) {
  if (!reference)
    return toolError("pass --reference: this build evaluates with the "
                     "reference semantics only (compiled execution comes "
                     "with code generation)");
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file =
      openInputFile(inputFile, &errorMessage);
  if (!file)
    return toolError(errorMessage);
  llvm::SourceMgr sourceMgr;
  unsigned bufferId = sourceMgr.AddNewSourceBuffer(std::move(file), SMLoc());
  if (failed(mlir::qlow::checkNestingDepth(sourceMgr, bufferId)))
    return failure();
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return failure(); // The parser reported why, with a location.
  if (failed(verify(*module)))
    return failure();
  auto func = findEntry(*module);
  if (failed(func))
    return failure();

  ArrayRef<Type> argTypes = func->getArgumentTypes();
  SmallVector<ref::TensorType> types;
  for (Type type : argTypes) {
    auto converted = mlir::qlow::convertToReferenceType(
        type, [&]() { return func->emitError(); });
    if (failed(converted))
      return failure();
    types.push_back(*converted);
  }

  SmallVector<ref::Tensor> args;
  if (randomInputs) {
    if (!inputs.empty())
      return toolError("give either --input files or --random-inputs");
    std::mt19937 rng(seed);
    for (const auto &type : types)
      args.push_back(randomInput(type, rng));
  } else {
    if (inputs.size() != types.size())
      return toolError("'" + func->getSymName() + "' takes " +
                       llvm::Twine(types.size()) + " inputs, but " +
                       llvm::Twine(inputs.size()) +
                       " --input files were given");
    for (auto [path, type] : llvm::zip(inputs, types)) {
      auto array = ref::readNpy(path);
      if (!array.ok())
        return toolError(path + ": " + array.status.message());
      auto arg = toArgument(*array, type, path);
      if (failed(arg))
        return failure();
      args.push_back(std::move(*arg));
    }
  }

  mlir::qlow::ObservedRanges ranges;
  FailureOr<SmallVector<ref::Tensor>> results;
  auto start = std::chrono::steady_clock::now();
  for (unsigned r = 0; r < std::max(1u, repeat.getValue()); ++r) {
    ranges.clear();
    results = mlir::qlow::evaluateFunction(*func, args, &ranges);
    if (failed(results))
      return failure();
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (failed(writeOutputs(*func, *results)))
    return failure();

  if (printResults)
    for (auto [i, tensor] : llvm::enumerate(*results))
      printSummary(i, tensor);
  if (printRanges)
    for (const auto &[name, stats] : ranges)
      llvm::outs() << llvm::formatv("observe {0}: min {1:e6} max {2:e6} over "
                                    "{3} values\n",
                                    name, stats.min, stats.max, stats.count);
  if (repeat > 1)
    llvm::outs() << llvm::formatv("reference evaluation: {0:f3} ms per run "
                                  "({1} runs)\n",
                                  1e3 * seconds / repeat, repeat.getValue());
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(argc, argv,
                              "qlow-run: run a qlow function on .npy inputs\n");
  DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  return failed(run(context)) ? 1 : 0;
}
