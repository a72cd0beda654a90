//===- qlow-mixed-precision.cpp - per-layer precision under a budget ------===//
//
// Measures how much each quantizable layer of a float graph costs when it
// alone is lowered in precision (int8 -> int4 weights) or gains when it alone
// is left in float, with the end-to-end SQNR of the quantized graph against
// the float one on .npy batches (reference interpreter), then assigns each
// layer the fewest bits that meet an error budget (a minimum SQNR) or a size
// budget (weight bytes), and writes the precision file qlow-quantize reads.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/Transforms/Quantize.h"
#include "qlow/Calibration/Batches.h"
#include "qlow/Interpreter/Interpreter.h"
#include "qlow/Reference/Ops.h"
#include "qlow/Registration.h"
#include "qlow/Support/InputChecks.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::qlow;
namespace cl = llvm::cl;
using llvm::formatv;

static cl::OptionCategory category("qlow-mixed-precision options");

static cl::opt<std::string> modelFile(cl::Positional, cl::desc("<float.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string>
    outputFile("o", cl::desc("Precision file to write (JSON)"),
               cl::value_desc("path"), cl::Required, cl::cat(category));
static cl::opt<std::string>
    rangesFile("ranges",
               cl::desc("qlow-calibrate JSON (static mode; required there)"),
               cl::value_desc("path"), cl::cat(category));
static cl::opt<std::string>
    inputDir("input-dir",
             cl::desc("Evaluation batches: one subdirectory per batch holding "
                      "<function>.<i>.npy"),
             cl::value_desc("dir"), cl::cat(category));
static cl::list<std::string>
    batchFiles("batch", cl::desc("One batch's .npy files, comma-separated"),
               cl::value_desc("a.npy,b.npy"), cl::cat(category));
static cl::opt<std::string> modeOpt("mode", cl::desc("static or dynamic"),
                                    cl::init("static"), cl::cat(category));
static cl::opt<std::string> opsOpt("ops", cl::desc("partial or full"),
                                   cl::init("partial"), cl::cat(category));
static cl::opt<std::string>
    schemeOpt("activation-scheme", cl::desc("symmetric or asymmetric"),
              cl::init("asymmetric"), cl::cat(category));
static cl::opt<unsigned> highBits("high-bits",
                                  cl::desc("Weight bits of the default "
                                           "precision (8)"),
                                  cl::init(8), cl::cat(category));
static cl::opt<std::string>
    highGranularity("high-granularity",
                    cl::desc("per-tensor, per-channel or per-group"),
                    cl::init("per-channel"), cl::cat(category));
static cl::opt<unsigned> lowBits("low-bits",
                                 cl::desc("Weight bits of a lowered layer (4)"),
                                 cl::init(4), cl::cat(category));
static cl::opt<std::string>
    lowGranularity("low-granularity",
                   cl::desc("per-tensor, per-channel or per-group"),
                   cl::init("per-group"), cl::cat(category));
static cl::opt<int64_t> groupSize("group-size",
                                  cl::desc("Group size along K (per-group)"),
                                  cl::init(32), cl::cat(category));
static cl::opt<double>
    minSqnr("min-sqnr",
            cl::desc("Error budget: the end-to-end SQNR (dB) to keep"),
            cl::cat(category));
static cl::opt<int64_t>
    maxWeightBytes("max-weight-bytes",
                   cl::desc("Size budget: the weight storage bytes (packed "
                            "values, scales not counted) to stay within"),
                   cl::init(-1), cl::cat(category));
static cl::opt<bool> allowSkip("allow-skip",
                               cl::desc("With --min-sqnr: leave the most "
                                        "sensitive layers in float when even "
                                        "the default precision misses the "
                                        "budget (default on)"),
                               cl::init(true), cl::cat(category));

static const char *const overview =
    R"(qlow-mixed-precision: per-layer precision that meets a budget

Quantizes the float graph with qlow-quantize's default precision (weights in
--high-bits, --high-granularity) and measures the end-to-end SQNR against the
float graph on the batches (reference interpreter). For each layer with
weights it then measures the SQNR when that layer alone is lowered (weights
in --low-bits, --low-granularity, --group-size): its sensitivity.

--min-sqnr DB: layers are lowered greedily, least sensitive first, each kept
only if the whole graph still measures >= DB; when even the default misses
DB, the layers whose skipping (float) gains most are skipped until it is met.
--max-weight-bytes N: layers are lowered, least SQNR lost per byte saved
first, until the weight bytes are <= N.

Writes a qlow-precision JSON file (the precision-file= of qlow-quantize)
atomically; on any error nothing is written. Prints the table of layers.

Example:
  qlow-mixed-precision block.mlir --ranges ranges.json --input-dir eval/ \
      --min-sqnr 30 -o precision.json
)";

static LogicalResult toolError(const llvm::Twine &message) {
  llvm::errs() << "qlow-mixed-precision: error: " << message << "\n";
  return failure();
}

namespace {
/// The SQNR accumulation of qlow-error-report's end-to-end rows: all results
/// of all batches together, in double.
struct Sqnr {
  double signal = 0, noise = 0;
  double db() const {
    if (noise == 0)
      return std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(signal / noise);
  }
};

struct Candidate {
  std::string name;
  int64_t elements = 0;
  double lowered = 0;  // SQNR with this layer alone lowered
  double skipped = 0;  // SQNR with this layer alone in float
  std::string assigned = "high";
};

class Search {
public:
  Search(ModuleOp model, func::FuncOp entry, QuantizeConfig base)
      : model(model), entryName(entry.getSymName().str()),
        base(base) {}

  LogicalResult loadBatches() {
    func::FuncOp func = model.lookupSymbol<func::FuncOp>(entryName);
    SmallVector<::qlow::ref::TensorType> argTypes;
    for (Type type : func.getArgumentTypes()) {
      auto converted = convertToReferenceType(
          type, [&]() { return func.emitError(); });
      if (failed(converted))
        return failure();
      argTypes.push_back(*converted);
    }
    auto batches =
        listBatches(inputDir, batchFiles, entryName, argTypes.size());
    if (!batches)
      return toolError(llvm::toString(batches.takeError()));
    for (const Batch &batch : *batches) {
      SmallVector<::qlow::ref::Tensor> args;
      for (auto [i, path] : llvm::enumerate(batch.paths)) {
        auto arg = readArgument(path, argTypes[i], i);
        if (!arg)
          return toolError(llvm::toString(arg.takeError()));
        args.push_back(std::move(*arg));
      }
      auto results = evaluateFunction(func, args);
      if (failed(results))
        return toolError("evaluating the float graph on batch " +
                         batch.label + " failed");
      std::vector<std::vector<float>> values;
      for (const ::qlow::ref::Tensor &t : *results) {
        if (!t.type.isFloat())
          return toolError("the float graph's results must be f32");
        values.push_back(t.f);
      }
      inputs.push_back(std::move(args));
      reference.push_back(std::move(values));
    }
    return success();
  }

  /// The end-to-end SQNR of the graph quantized with `rules`.
  FailureOr<double> measure(const std::vector<PrecisionRule> &rules) {
    OwningOpRef<ModuleOp> copy = model.clone();
    PrecisionFile file;
    file.rules = rules;
    QuantizeConfig config = base;
    config.precision = rules.empty() ? nullptr : &file;
    config.report = false;
    if (failed(quantizeModule(*copy, config)))
      return toolError("qlow-quantize failed on the model (see above)");
    func::FuncOp func = copy->lookupSymbol<func::FuncOp>(entryName);
    Sqnr sqnr;
    for (auto [b, args] : llvm::enumerate(inputs)) {
      auto results = evaluateFunction(func, args);
      if (failed(results))
        return toolError("evaluating the quantized graph failed");
      for (auto [i, t] : llvm::enumerate(*results)) {
        std::vector<float> q = t.f;
        if (t.type.isQuant()) {
          auto d = ::qlow::ref::dequantize(t);
          if (!d.ok())
            return toolError(d.status.message());
          q = d->f;
        }
        const std::vector<float> &r = reference[b][i];
        for (size_t k = 0; k < r.size(); ++k) {
          double e = double(r[k]) - double(q[k]);
          sqnr.signal += double(r[k]) * double(r[k]);
          sqnr.noise += e * e;
        }
      }
    }
    ++evaluations;
    return sqnr.db();
  }

  unsigned evaluations = 0;

private:
  ModuleOp model;
  std::string entryName;
  QuantizeConfig base;
  std::vector<SmallVector<::qlow::ref::Tensor>> inputs;
  std::vector<std::vector<std::vector<float>>> reference;
};
} // namespace

static int64_t bytesOf(int64_t elements, unsigned bits) {
  return (elements * bits + 7) / 8;
}

static LogicalResult run(MLIRContext &context) {
  bool errorBudget = minSqnr.getNumOccurrences() > 0;
  bool sizeBudget = maxWeightBytes.getNumOccurrences() > 0;
  if (errorBudget == sizeBudget)
    return toolError("give one budget: --min-sqnr DB or --max-weight-bytes N");
  if (sizeBudget && maxWeightBytes < 0)
    return toolError("--max-weight-bytes must be >= 0");
  if (inputDir.empty() == batchFiles.empty())
    return toolError("give the evaluation inputs either with --input-dir or "
                     "with --batch (one per batch)");
  QuantizeConfig base;
  if (modeOpt == "static")
    base.mode = QuantizeMode::Static;
  else if (modeOpt == "dynamic")
    base.mode = QuantizeMode::Dynamic;
  else
    return toolError("--mode must be static or dynamic, not '" + modeOpt +
                     "'");
  if (opsOpt == "partial")
    base.ops = QuantizeOpsScope::Partial;
  else if (opsOpt == "full")
    base.ops = QuantizeOpsScope::Full;
  else
    return toolError("--ops must be partial or full, not '" + opsOpt + "'");
  if (schemeOpt != "symmetric" && schemeOpt != "asymmetric")
    return toolError("--activation-scheme must be symmetric or asymmetric");
  base.defaults.activationSymmetric = schemeOpt == "symmetric";
  std::optional<WeightGranularity> high = parseWeightGranularity(highGranularity);
  std::optional<WeightGranularity> low = parseWeightGranularity(lowGranularity);
  if (!high || !low)
    return toolError("granularities are per-tensor, per-channel or per-group");
  for (unsigned bits : {unsigned(highBits), unsigned(lowBits)})
    if (bits != 8 && bits != 4)
      return toolError(formatv("{0}-bit weights are not supported; weights "
                               "take 8 or 4 bits",
                               bits));
  if (lowBits > highBits)
    return toolError("--low-bits must not exceed --high-bits");
  base.defaults.weightBits = highBits;
  base.defaults.granularity = *high;
  base.defaults.groupSize = groupSize;

  std::optional<CalibrationRanges> ranges;
  if (base.mode == QuantizeMode::Static) {
    if (rangesFile.empty())
      return toolError("--mode static needs --ranges <qlow-calibrate JSON>");
    auto read = readCalibrationRanges(rangesFile);
    if (!read)
      return toolError(llvm::toString(read.takeError()));
    ranges = std::move(*read);
    base.ranges = &*ranges;
  } else if (!rangesFile.empty()) {
    return toolError("--ranges is for --mode static");
  }

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  std::string errorMessage;
  auto file = openInputFile(modelFile, &errorMessage);
  if (!file)
    return toolError(errorMessage);
  unsigned bufferId = sourceMgr.AddNewSourceBuffer(std::move(file), SMLoc());
  if (failed(checkNestingDepth(sourceMgr, bufferId)))
    return failure();
  OwningOpRef<ModuleOp> model = mlir::qlow::parseModuleSafely(sourceMgr, &context);
  if (!model || failed(verify(*model)))
    return toolError(modelFile + ": not a valid qlow module");
  func::FuncOp entry;
  if (ranges)
    entry = model->lookupSymbol<func::FuncOp>(ranges->function);
  else
    for (auto f : model->getOps<func::FuncOp>())
      if (!f.isExternal()) {
        entry = f;
        break;
      }
  if (!entry)
    return toolError(ranges ? "the ranges are for function '" +
                                  ranges->function +
                                  "', which the model does not define"
                            : std::string("the model has no function"));

  auto layers = listQuantizableLayers(*model, base);
  if (failed(layers))
    return failure();
  std::vector<Candidate> candidates;
  for (const QuantizableLayer &layer : *layers)
    if (layer.weightElements > 0)
      candidates.push_back({layer.name, layer.weightElements});
  if (candidates.empty())
    return toolError("the model has no layer with weights to assign");

  Search search(*model, entry, base);
  if (failed(search.loadBatches()))
    return failure();
  auto lowerRule = [&](const std::string &name) {
    PrecisionRule rule;
    rule.match = name;
    rule.weightBits = lowBits;
    rule.granularity = *low;
    rule.groupSize = groupSize;
    return rule;
  };
  auto skipRule = [&](const std::string &name) {
    PrecisionRule rule;
    rule.match = name;
    rule.skip = true;
    return rule;
  };
  FailureOr<double> baseline = search.measure({});
  if (failed(baseline))
    return failure();
  for (Candidate &c : candidates) {
    FailureOr<double> lowered = search.measure({lowerRule(c.name)});
    if (failed(lowered))
      return failure();
    c.lowered = *lowered;
    if (errorBudget) {
      FailureOr<double> skipped = search.measure({skipRule(c.name)});
      if (failed(skipped))
        return failure();
      c.skipped = *skipped;
    }
  }

  auto rulesOf = [&](const std::vector<Candidate> &cs) {
    std::vector<PrecisionRule> rules;
    for (const Candidate &c : cs) {
      if (c.assigned == "low")
        rules.push_back(lowerRule(c.name));
      else if (c.assigned == "skip")
        rules.push_back(skipRule(c.name));
    }
    return rules;
  };
  auto weightBytes = [&](const std::vector<Candidate> &cs) {
    int64_t total = 0;
    for (const Candidate &c : cs)
      total += bytesOf(c.elements, c.assigned == "low"    ? lowBits
                                   : c.assigned == "skip" ? 32
                                                          : highBits);
    return total;
  };

  // The order to try: least sensitive first (by SQNR lost, or by SQNR lost
  // per byte saved for a size budget); ties by program order.
  std::vector<size_t> order(candidates.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  auto cost = [&](const Candidate &c) {
    double lost = *baseline - c.lowered;
    if (!sizeBudget)
      return lost;
    double saved = double(bytesOf(c.elements, highBits) -
                          bytesOf(c.elements, lowBits));
    return saved > 0 ? lost / saved : std::numeric_limits<double>::infinity();
  };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    double ca = cost(candidates[a]), cb = cost(candidates[b]);
    return ca < cb || (ca == cb && a < b);
  });

  double final = *baseline;
  if (errorBudget) {
    // Skip the layers that gain most until the default precision meets the
    // budget, then lower what the budget allows.
    if (final < minSqnr) {
      if (!allowSkip)
        return toolError(formatv("the default precision measures {0:F2} dB, "
                                 "below --min-sqnr {1:F2}",
                                 final, double(minSqnr)));
      std::vector<size_t> bySkip(order);
      std::sort(bySkip.begin(), bySkip.end(), [&](size_t a, size_t b) {
        double sa = candidates[a].skipped, sb = candidates[b].skipped;
        return sa > sb || (sa == sb && a < b);
      });
      for (size_t i : bySkip) {
        if (final >= minSqnr)
          break;
        candidates[i].assigned = "skip";
        FailureOr<double> m = search.measure(rulesOf(candidates));
        if (failed(m))
          return failure();
        final = *m;
      }
      if (final < minSqnr)
        return toolError(formatv("--min-sqnr {0:F2} dB cannot be met: with "
                                 "every weighted layer in float the graph "
                                 "measures {1:F2} dB",
                                 double(minSqnr), final));
    }
    for (size_t i : order) {
      if (candidates[i].assigned != "high")
        continue;
      candidates[i].assigned = "low";
      FailureOr<double> m = search.measure(rulesOf(candidates));
      if (failed(m))
        return failure();
      if (*m >= minSqnr)
        final = *m;
      else
        candidates[i].assigned = "high";
    }
  } else {
    for (size_t i : order) {
      if (weightBytes(candidates) <= maxWeightBytes)
        break;
      candidates[i].assigned = "low";
    }
    if (weightBytes(candidates) > maxWeightBytes)
      return toolError(formatv("--max-weight-bytes {0} cannot be met: with "
                               "every layer in {1} bits the weights take {2} "
                               "bytes",
                               int64_t(maxWeightBytes), unsigned(lowBits),
                               weightBytes(candidates)));
    FailureOr<double> m = search.measure(rulesOf(candidates));
    if (failed(m))
      return failure();
    final = *m;
  }

  // The precision file, with the measurements in its comment.
  PrecisionFile out;
  out.rules = rulesOf(candidates);
  std::string text = printPrecisionFile(out);
  std::string comment = formatv(
      "  \"comment\": \"qlow-mixed-precision: {0}; baseline {1:F2} dB, "
      "assigned {2:F2} dB, weights {3} bytes\",\n",
      errorBudget ? formatv("min-sqnr {0:F2} dB", double(minSqnr)).str()
                  : formatv("max-weight-bytes {0}", int64_t(maxWeightBytes))
                        .str(),
      *baseline, final, weightBytes(candidates));
  text.insert(text.find("  \"layers\""), comment);
  if (llvm::Error error = writeFilesAtomically({{outputFile, text}}))
    return toolError(llvm::toString(std::move(error)));

  llvm::outs() << formatv("qlow-mixed-precision: '{0}', {1} layers, {2} "
                          "quantized evaluations\n",
                          entry.getSymName(), candidates.size(),
                          search.evaluations);
  llvm::outs() << formatv("{0,-16} {1,10} {2,12} {3,12} {4,8}\n", "layer",
                          "weights", "lowered_db", "skipped_db", "assigned");
  for (const Candidate &c : candidates) {
    std::string skipped =
        errorBudget ? formatv("{0:F2}", c.skipped).str() : std::string("-");
    std::string assigned =
        c.assigned == "low"    ? formatv("int{0}", unsigned(lowBits)).str()
        : c.assigned == "skip" ? std::string("float")
                               : formatv("int{0}", unsigned(highBits)).str();
    llvm::outs() << formatv("{0,-16} {1,10} {2,12:F2} {3,12} {4,8}\n", c.name,
                            c.elements, c.lowered, skipped, assigned);
  }
  llvm::outs() << formatv("baseline {0:F2} dB; assigned {1:F2} dB; weight "
                          "bytes {2} (all int{3}: {4})\n",
                          *baseline, final, weightBytes(candidates),
                          unsigned(highBits), [&] {
                            int64_t total = 0;
                            for (const Candidate &c : candidates)
                              total += bytesOf(c.elements, highBits);
                            return total;
                          }());
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, overview);
  DialectRegistry registry;
  registerQlowDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  return failed(run(context)) ? 1 : 0;
}
