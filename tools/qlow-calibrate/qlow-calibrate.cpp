//===- qlow-calibrate.cpp - activation ranges from calibration data -------===//
//
// Inserts qlow.observe probes into a float graph (qlow-insert-observers),
// evaluates it with the reference semantics on every calibration batch, and
// writes, per probe, the observed range, the clip range a calibration method
// chooses (minmax, percentile, mse, entropy) and the scale and zero point for
// a storage type, as JSON. docs/Calibration.md describes the methods and the
// JSON schema.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/Transforms/Observers.h"
#include "dialects/Qlow/Transforms/Passes.h"
#include "qlow/Calibration/Batches.h"
#include "qlow/Calibration/Methods.h"
#include "qlow/Calibration/Statistics.h"
#include "qlow/Interpreter/Interpreter.h"
#include "qlow/Registration.h"
#include "qlow/Support/InputChecks.h"
#include "qlow/Support/TextFormat.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace mlir;
using mlir::qlow::jsonString;
using mlir::qlow::shortestDouble;
namespace cl = llvm::cl;
namespace ref = ::qlow::ref;
namespace calib = ::qlow::calib;

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

static cl::OptionCategory category("qlow-calibrate options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string>
    outputFile("o", cl::desc("Where to write the JSON ('-': standard output)"),
               cl::value_desc("ranges.json"), cl::Required, cl::cat(category));
static cl::opt<std::string>
    entry("entry",
          cl::desc("Function to calibrate (default: the first public one)"),
          cl::cat(category));
static cl::opt<std::string> inputDir(
    "input-dir",
    cl::desc("Directory of batches: each subdirectory (in name order) is one "
             "batch holding <function>.<i>.npy for argument i; a directory "
             "without subdirectories that holds <function>.0.npy is a single "
             "batch"),
    cl::value_desc("dir"), cl::cat(category));
static cl::list<std::string>
    batchFiles("batch",
               cl::desc("One batch: the .npy of each argument, in order, "
                        "comma-separated; repeat for more batches"),
               cl::value_desc("a.npy,b.npy"), cl::cat(category));
static cl::opt<calib::Method>
    method("method", cl::desc("How to choose each clip range"),
           cl::values(clEnumValN(calib::Method::MinMax, "minmax",
                                 "the observed [min, max] (one pass)"),
                      clEnumValN(calib::Method::Percentile, "percentile",
                                 "keep --percentile % of the values"),
                      clEnumValN(calib::Method::Mse, "mse",
                                 "minimize the expected quantization MSE"),
                      clEnumValN(calib::Method::Entropy, "entropy",
                                 "TensorRT's KL-divergence calibration")),
           cl::init(calib::Method::MinMax), cl::cat(category));
static cl::opt<double>
    percentile("percentile",
               cl::desc("Share of values the percentile method keeps, in "
                        "(0, 100]"),
               cl::init(99.99), cl::cat(category));
static cl::opt<bool>
    perChannel("per-channel",
               cl::desc("Also choose ranges per channel along --channel-axis"),
               cl::cat(category));
static cl::opt<int> channelAxis(
    "channel-axis",
    cl::desc("Channel axis of --per-channel (negative: from the end)"),
    cl::init(-1), cl::cat(category));
static cl::opt<unsigned> bits("bits", cl::desc("Storage bits: 4, 8 or 16"),
                              cl::init(8), cl::cat(category));
static cl::opt<bool>
    unsignedStorage("unsigned",
                    cl::desc("Unsigned storage (u8) instead of signed (i8)"),
                    cl::cat(category));
static cl::opt<bool> symmetric(
    "symmetric",
    cl::desc("Symmetric parameters (zero point 0, or the middle of unsigned "
             "storage) instead of asymmetric"),
    cl::cat(category));
static cl::opt<bool>
    narrowRange("narrow-range",
                cl::desc("Leave out the lowest storage value (i8: -127..127)"),
                cl::cat(category));
static cl::opt<unsigned>
    numBins("num-bins",
            cl::desc("Bins of each histogram (percentile, mse, entropy)"),
            cl::init(2048), cl::cat(category));
static cl::opt<unsigned> entropyLevels(
    "entropy-levels",
    cl::desc("Quantization levels on [0, T] of the entropy method (0: "
             "2^(bits-1), or 2^bits for asymmetric non-negative values)"),
    cl::init(0), cl::cat(category));
static cl::opt<std::string>
    targets("targets",
            cl::desc("Values to observe: activations (qlow-insert-observers' "
                     "default), all (every f32 value), existing (only the "
                     "qlow.observe probes already in the model)"),
            cl::init("activations"), cl::cat(category));
static cl::list<std::string>
    ops("ops",
        cl::desc("With --targets=activations: the ops to observe (see "
                 "qlow-insert-observers' ops=)"),
        cl::CommaSeparated, cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("No progress on stderr"),
                           cl::cat(category));

static const char *const overview =
    R"(qlow-calibrate: activation ranges for static quantization

Inserts qlow.observe probes (qlow-insert-observers), evaluates the function
with the reference semantics on every calibration batch, and writes one JSON
object per probe: observed min/max, the clip range --method chooses, and the
scale and zero point for the storage type. See docs/Calibration.md.

Batches come from --input-dir DIR, one subdirectory per batch (taken in name
order; zero-pad numbers), each holding <function>.<i>.npy for argument i, the
layout qlow-run --input-dir reads:
  DIR/000/main.0.npy  DIR/000/main.1.npy  DIR/001/main.0.npy ...
or from --batch a.npy,b.npy given once per batch. Histogram methods read every
batch twice (pass 1: ranges, pass 2: histograms over exactly those ranges).
The same inputs give a byte-identical JSON file, written only on success.

Example:
  qlow-calibrate model.mlir --input-dir calib/ --method=entropy --symmetric \
      -o ranges.json
)";

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Prints an error without a location and fails.
static LogicalResult toolError(const Twine &message) {
  llvm::errs() << "qlow-calibrate: error: " << message << "\n";
  return failure();
}

/// One probe name, the values it records from and what they accumulate.
struct Probe {
  std::string name;
  std::vector<int64_t> shape;
  /// Positions of its probes among the extra results of the function.
  std::vector<unsigned> resultIndices;
  calib::TensorObserver observer;
};

/// Shortest decimal that reads back as the same float (%.{1..9}g).
static std::string formatFloat(float v) {
  char buffer[64];
  for (int precision = 1; precision <= 9; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision,
                  static_cast<double>(v));
    if (std::strtof(buffer, nullptr) == v)
      break;
  }
  return buffer;
}

template <typename T, typename F>
static std::string jsonArray(const std::vector<T> &values, F format) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i)
    out += (i ? ", " : "") + format(values[i]);
  return out + "]";
}

static std::string formatInt(int64_t v) { return std::to_string(v); }

/// The function to calibrate: --entry, or the first public function.
static FailureOr<func::FuncOp> findEntry(ModuleOp module) {
  if (!entry.empty()) {
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func)
      return toolError("no function named '" + entry + "' in " + inputFile);
    if (func.isExternal())
      return toolError("'" + entry + "' has no body to evaluate");
    return func;
  }
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal() && func.isPublic())
      return func;
  return toolError(inputFile + " defines no public function to calibrate");
}

/// Makes every probe of `func` an extra result, after its own results, so
/// that one evaluation returns every observed tensor (the same rewrite serves
/// compiled execution, which has no recording probes). Fills `probes`, one
/// per distinct name, in program order.
static LogicalResult exposeProbes(func::FuncOp func, std::vector<Probe> &probes,
                                  const calib::ObserverOptions &options) {
  SmallVector<mlir::qlow::ObserveOp> observes =
      mlir::qlow::collectObservers(func);
  Block &body = func.getBody().front();
  llvm::StringMap<size_t> byName;
  SmallVector<Value> extra;
  for (mlir::qlow::ObserveOp op : observes) {
    if (op->getBlock() != &body)
      return op.emitError()
             << "qlow-calibrate evaluates single-block functions, but probe '"
             << op.getName() << "' is inside a region";
    auto [it, inserted] = byName.try_emplace(op.getName(), probes.size());
    if (inserted) {
      Probe probe{op.getName().str(), {}, {}, calib::TensorObserver(options)};
      ArrayRef<int64_t> shape = op.getType().getShape();
      probe.shape.assign(shape.begin(), shape.end());
      probes.push_back(std::move(probe));
    }
    probes[it->second].resultIndices.push_back(extra.size());
    extra.push_back(op.getOutput());
  }
  mlir::qlow::appendResults(func, extra);
  return success();
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

/// Chooses the ranges of every probe and renders the JSON document.
static FailureOr<std::string>
renderJson(StringRef funcName, const std::vector<Probe> &probes,
           size_t numBatches, const calib::MethodOptions &methodOptions,
           const calib::QuantTarget &target) {
  calib::HistogramKind histogram = calib::histogramFor(methodOptions, target);
  std::string out = "{\n";
  auto field = [&](StringRef key, const std::string &value, bool last = false) {
    out += "  " + jsonString(key) + ": " + value + (last ? "\n" : ",\n");
  };
  field("format", jsonString("qlow-calibration"));
  field("version", "1");
  field("function", jsonString(funcName));
  field("method", jsonString(calib::methodName(methodOptions.method)));
  if (methodOptions.method == calib::Method::Percentile)
    field("percentile", shortestDouble(methodOptions.percentile));
  field("storage", jsonString(target.storage.str()));
  field("symmetric", target.symmetric ? "true" : "false");
  field("narrow_range", target.narrowRange ? "true" : "false");
  int64_t qmin = target.storage.min() + (target.narrowRange ? 1 : 0);
  field("qmin", formatInt(qmin));
  field("qmax", formatInt(target.storage.max()));
  if (histogram != calib::HistogramKind::None) {
    field("histogram", jsonString(calib::histogramKindName(histogram)));
    field("bins", formatInt(numBins));
  }
  field("per_channel", perChannel ? "true" : "false");
  field("batches", formatInt(static_cast<int64_t>(numBatches)));
  out += "  \"probes\": {";

  for (size_t p = 0; p < probes.size(); ++p) {
    const Probe &probe = probes[p];
    const calib::ValueStats &stats = probe.observer.tensorStats();
    auto choice = calib::chooseRange(stats, methodOptions, target);
    if (!choice.ok())
      return toolError("probe '" + probe.name +
                       "': " + choice.status.message());
    out += (p ? ",\n" : "\n");
    out += "    " + jsonString(probe.name) + ": {\n";
    auto entryField = [&](StringRef key, const std::string &value,
                          bool last = false) {
      out += "      " + jsonString(key) + ": " + value + (last ? "\n" : ",\n");
    };
    entryField("shape", jsonArray(probe.shape, formatInt));
    entryField("count", formatInt(stats.count));
    entryField("nonfinite", formatInt(stats.nonFinite));
    entryField("min", formatFloat(stats.min));
    entryField("max", formatFloat(stats.max));
    if (methodOptions.method == calib::Method::Entropy)
      entryField("entropy_levels",
                 formatInt(methodOptions.entropyLevels > 0
                               ? methodOptions.entropyLevels
                               : calib::entropyLevels(target, stats)));
    entryField("clip_min", formatFloat(choice->clipMin));
    entryField("clip_max", formatFloat(choice->clipMax));
    entryField("scale", shortestDouble(choice->params.scale));
    entryField("zero_point", formatInt(choice->params.zeroPoint), !perChannel);
    if (perChannel) {
      const std::vector<calib::ValueStats> &channels =
          probe.observer.channelStats();
      std::vector<int64_t> counts, zeroPoints;
      std::vector<float> mins, maxs, clipMins, clipMaxs;
      std::vector<double> scales;
      for (size_t c = 0; c < channels.size(); ++c) {
        auto ch = calib::chooseRange(channels[c], methodOptions, target);
        if (!ch.ok())
          return toolError("probe '" + probe.name + "', channel " + Twine(c) +
                           ": " + ch.status.message());
        counts.push_back(channels[c].count);
        mins.push_back(channels[c].min);
        maxs.push_back(channels[c].max);
        clipMins.push_back(ch->clipMin);
        clipMaxs.push_back(ch->clipMax);
        scales.push_back(ch->params.scale);
        zeroPoints.push_back(ch->params.zeroPoint);
      }
      out += "      \"channels\": {\n";
      auto channelField = [&](StringRef key, const std::string &value,
                              bool last = false) {
        out += "        " + jsonString(key) + ": " + value + (last ? "\n" : ",\n");
      };
      channelField("axis", formatInt(probe.observer.resolvedChannelAxis()));
      channelField("count", jsonArray(counts, formatInt));
      channelField("min", jsonArray(mins, formatFloat));
      channelField("max", jsonArray(maxs, formatFloat));
      channelField("clip_min", jsonArray(clipMins, formatFloat));
      channelField("clip_max", jsonArray(clipMaxs, formatFloat));
      channelField("scale", jsonArray(scales, shortestDouble));
      channelField("zero_point", jsonArray(zeroPoints, formatInt), true);
      out += "      }\n";
    }
    out += "    }";
  }
  out += probes.empty() ? "}\n" : "\n  }\n";
  out += "}\n";
  return out;
}

/// Writes `text` to --o atomically: to a temporary file in the same
/// directory, renamed over the destination once complete.
static LogicalResult writeOutput(const std::string &text) {
  if (outputFile == "-") {
    llvm::outs() << text;
    llvm::outs().flush();
    return success();
  }
  if (llvm::Error error =
          mlir::qlow::writeFilesAtomically({{outputFile, text}}))
    return toolError(llvm::toString(std::move(error)));
  return success();
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

static LogicalResult run(MLIRContext &context) {
  if (inputDir.empty() == batchFiles.empty())
    return toolError("give the calibration data either with --input-dir or "
                     "with --batch (one per batch)");
  if (bits != 4 && bits != 8 && bits != 16)
    return toolError("--bits must be 4, 8 or 16, not " + Twine(bits));
  if (!(percentile > 0.0 && percentile <= 100.0))
    return toolError("--percentile must be in (0, 100]");
  if (numBins < 1)
    return toolError("--num-bins must be at least 1");
  if (targets != "activations" && targets != "all" && targets != "existing")
    return toolError("--targets must be activations, all or existing, not '" +
                     targets + "'");

  calib::QuantTarget target;
  target.storage = ref::IntType(bits, !unsignedStorage);
  target.symmetric = symmetric;
  target.narrowRange = narrowRange;
  calib::MethodOptions methodOptions;
  methodOptions.method = method;
  methodOptions.percentile = percentile;
  methodOptions.entropyLevels = entropyLevels;
  if (method == calib::Method::Entropy && entropyLevels > numBins)
    return toolError("--entropy-levels " + Twine(entropyLevels) +
                     " needs at least as many --num-bins");
  calib::ObserverOptions observerOptions;
  if (perChannel)
    observerOptions.channelAxis = channelAxis;
  observerOptions.histogram = calib::histogramFor(methodOptions, target);
  observerOptions.numBins = numBins;

  // Parse and verify the model, as the other tools do.
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
  OwningOpRef<ModuleOp> module = mlir::qlow::parseModuleSafely(sourceMgr, &context);
  if (!module)
    return failure();
  if (failed(verify(*module)))
    return failure();
  auto func = findEntry(*module);
  if (failed(func))
    return failure();
  std::string funcName = func->getSymName().str();

  // The probes: qlow-insert-observers, as qlow-opt would run it.
  if (targets != "existing") {
    PassManager pm(&context, func::FuncOp::getOperationName());
    mlir::qlow::QlowInsertObserversPassOptions passOptions;
    passOptions.targets = targets;
    passOptions.ops.assign(ops.begin(), ops.end());
    pm.addPass(mlir::qlow::createQlowInsertObserversPass(passOptions));
    if (failed(pm.run(*func)))
      return failure();
  }
  std::vector<Probe> probes;
  if (failed(exposeProbes(*func, probes, observerOptions)))
    return failure();
  if (probes.empty())
    return toolError("nothing to calibrate: '" + funcName +
                     "' has no f32 values to observe (--targets=" + targets +
                     ")");
  unsigned numResults = func->getNumResults();
  unsigned numOriginal = numResults;
  for (const Probe &probe : probes)
    numOriginal -= probe.resultIndices.size();

  SmallVector<ref::TensorType> argTypes;
  for (Type type : func->getArgumentTypes()) {
    auto converted = mlir::qlow::convertToReferenceType(
        type, [&]() { return func->emitError(); });
    if (failed(converted))
      return failure();
    argTypes.push_back(*converted);
  }
  auto batches =
      mlir::qlow::listBatches(inputDir, batchFiles, funcName, argTypes.size());
  if (!batches)
    return toolError(llvm::toString(batches.takeError()));

  bool histogramPass = observerOptions.histogram != calib::HistogramKind::None;
  unsigned numPasses = histogramPass ? 2 : 1;
  for (unsigned pass = 1; pass <= numPasses; ++pass) {
    if (pass == 2)
      for (Probe &probe : probes) {
        ref::Status status = probe.observer.startHistogramPass();
        if (!status.ok())
          return toolError("probe '" + probe.name + "': " + status.message());
      }
    for (size_t b = 0; b < batches->size(); ++b) {
      const mlir::qlow::Batch &batch = (*batches)[b];
      if (!quiet && batches->size() > 1) {
        llvm::errs() << "qlow-calibrate: ";
        if (numPasses > 1)
          llvm::errs() << "pass " << pass << " of 2 ("
                       << (pass == 1 ? "ranges" : "histograms") << "), ";
        llvm::errs() << "batch " << b + 1 << " of " << batches->size() << ": "
                     << batch.label << "\n";
      }
      SmallVector<ref::Tensor> args;
      for (auto [i, path] : llvm::enumerate(batch.paths)) {
        auto arg = mlir::qlow::readArgument(path, argTypes[i], i);
        if (!arg)
          return toolError(llvm::toString(arg.takeError()));
        args.push_back(std::move(*arg));
      }
      auto results = mlir::qlow::evaluateFunction(*func, args);
      if (failed(results))
        return toolError("evaluating '" + funcName + "' on batch " +
                         batch.label + " failed");
      for (Probe &probe : probes)
        for (unsigned index : probe.resultIndices) {
          const ref::Tensor &tensor = (*results)[numOriginal + index];
          ref::Status status = pass == 1
                                   ? probe.observer.observeRange(tensor)
                                   : probe.observer.observeHistogram(tensor);
          if (!status.ok())
            return toolError("probe '" + probe.name + "' on batch " +
                             batch.label + ": " + status.message());
        }
    }
    if (pass == 2)
      for (Probe &probe : probes) {
        ref::Status status = probe.observer.finishHistogramPass();
        if (!status.ok())
          return toolError("probe '" + probe.name + "': " + status.message());
      }
  }

  for (const Probe &probe : probes) {
    const calib::ValueStats &stats = probe.observer.tensorStats();
    if (stats.nonFinite > 0 && !quiet)
      llvm::errs() << "qlow-calibrate: warning: probe '" << probe.name
                   << "' saw " << stats.nonFinite
                   << " NaN or infinite values; they are left out of its "
                      "statistics\n";
  }
  auto json =
      renderJson(funcName, probes, batches->size(), methodOptions, target);
  if (failed(json))
    return failure();
  return writeOutput(*json);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, overview);
  DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  return failed(run(context)) ? 1 : 0;
}
