//===- qlow-error-report.cpp - quantization error, layer by layer ---------===//
//
// Compares a quantized graph with the float graph it came from: evaluates
// both with the reference semantics on the same batches and reports, for
// every layer that both graphs observe and for every function result, the
// SQNR (dB), the cosine similarity and the largest absolute error of the
// quantized graph's values against the float graph's. Layers are the probes
// of qlow-insert-observers (same options, same names); a quantized value is
// compared through its dequantized (f32) view. Prints a table, and writes
// JSON and CSV on request (README.md, "Quantizing a graph", and --help
// describe the metrics and the files).
//
// Probes are matched by name only: a probe that one graph has and the other
// lacks (for example the qlow.quantize of an input, which the float graph
// does not have) is listed as unmatched, not an error. Everything is
// evaluated and accumulated sequentially in double, so the report is
// deterministic.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/IR/QuantTypeUtils.h"
#include "dialects/Qlow/Transforms/Observers.h"
#include "qlow/Calibration/Batches.h"
#include "qlow/Interpreter/Interpreter.h"
#include "qlow/Reference/Ops.h"
#include "qlow/Registration.h"
#include "qlow/Support/InputChecks.h"
#include "qlow/Support/TextFormat.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

using namespace mlir;
using mlir::qlow::jsonString;
using mlir::qlow::shortestDouble;
namespace cl = llvm::cl;
namespace ref = ::qlow::ref;

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

static cl::OptionCategory category("qlow-error-report options");

static cl::opt<std::string> floatFile(cl::Positional, cl::desc("<float.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> quantFile(cl::Positional,
                                      cl::desc("<quantized.mlir>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string>
    entry("entry",
          cl::desc("Function to compare (default: the first public function "
                   "of the float module)"),
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
static cl::opt<std::string> jsonFile("json",
                                     cl::desc("Also write the report as JSON"),
                                     cl::value_desc("report.json"),
                                     cl::cat(category));
static cl::opt<std::string> csvFile("csv",
                                    cl::desc("Also write the report as CSV"),
                                    cl::value_desc("report.csv"),
                                    cl::cat(category));
static cl::opt<std::string>
    targets("targets",
            cl::desc("Layers to compare, as qlow-insert-observers selects "
                     "them: activations (default) or all"),
            cl::init("activations"), cl::cat(category));
static cl::list<std::string>
    ops("ops",
        cl::desc("With --targets=activations: the ops to observe (see "
                 "qlow-insert-observers' ops=)"),
        cl::CommaSeparated, cl::cat(category));

static const char *const overview =
    R"(qlow-error-report: quantization error of a graph, layer by layer

Evaluates a float graph and its quantized twin (same function name and
signature, f32 inputs) with the reference semantics on every batch, and
reports per layer and per function result:
  sqnr_db = 10 log10(sum ref^2 / sum (ref - q)^2)  (+inf when equal),
  cosine  = sum ref q / sqrt(sum ref^2 sum q^2),
  max_abs_error = max |ref - q|, over all elements of all batches.
Layers are qlow-insert-observers' probes, matched by name (location names,
else <function>.<kind>_<k> in program order); a quantized value is compared
dequantized. Probes found in one graph only are listed as unmatched.

Batches: --input-dir DIR (one subdirectory per batch with <function>.<i>.npy)
or --batch a.npy,b.npy once per batch, as qlow-calibrate reads them.

The table lists the matched layers in the float graph's program order, then
one row per function result (<function>.result<i>), then the unmatched
probes. --json writes {"format": "qlow-error-report", "version": 1,
"function", "float", "quantized", "batches", "layers": [...], "results":
[...], "unmatched": {"float": [...], "quantized": [...]}}, each row being
{"name", "shape", "elements", "sqnr_db", "cosine", "max_abs_error"}; --csv
writes the columns kind (layer or result), name, shape (16x32), elements,
sqnr_db, cosine, max_abs_error. Numbers are the shortest decimals that read
back as the same double; infinities and NaN (a NaN in either graph) are
written inf, -inf and nan (strings in the JSON). Both files are written to
temporary files and renamed only when everything succeeded.

Example:
  qlow-error-report model.mlir model.int8.mlir --input-dir calib/ \
      --json report.json --csv report.csv
)";

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Prints an error without a location and fails.
static LogicalResult toolError(const Twine &message) {
  llvm::errs() << "qlow-error-report: error: " << message << "\n";
  return failure();
}

/// The error of the quantized values against the float ones, accumulated in
/// double over every element of every batch, in order.
struct ErrorStats {
  int64_t count = 0;
  double sumRefSq = 0.0;
  double sumQuantSq = 0.0;
  double sumProduct = 0.0;
  double sumErrSq = 0.0;
  double maxAbsError = 0.0;
  /// Set by a NaN among the values or the errors: every metric is then NaN.
  bool nan = false;

  void add(const std::vector<float> &reference,
           const std::vector<float> &quantized) {
    for (size_t i = 0; i < reference.size(); ++i) {
      double r = reference[i], q = quantized[i], e = r - q;
      if (std::isnan(r) || std::isnan(q) || std::isnan(e))
        nan = true;
      sumRefSq += r * r;
      sumQuantSq += q * q;
      sumProduct += r * q;
      sumErrSq += e * e;
      maxAbsError = std::max(maxAbsError, std::fabs(e));
    }
    count += static_cast<int64_t>(reference.size());
  }

  /// 10 log10(sum ref^2 / sum err^2): +inf when the values are equal, -inf
  /// when the reference is all zero and the quantized values are not.
  double sqnrDb() const {
    if (nan)
      return std::numeric_limits<double>::quiet_NaN();
    if (sumErrSq == 0.0)
      return std::numeric_limits<double>::infinity();
    if (sumRefSq == 0.0)
      return -std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(sumRefSq / sumErrSq);
  }
  /// sum ref q / sqrt(sum ref^2 sum q^2): 1 when both are all zero, 0 when
  /// one of them is.
  double cosine() const {
    if (nan)
      return std::numeric_limits<double>::quiet_NaN();
    if (sumRefSq == 0.0 && sumQuantSq == 0.0)
      return 1.0;
    if (sumRefSq == 0.0 || sumQuantSq == 0.0)
      return 0.0;
    return sumProduct / std::sqrt(sumRefSq * sumQuantSq);
  }
  double maxError() const {
    return nan ? std::numeric_limits<double>::quiet_NaN() : maxAbsError;
  }
};

/// One compared tensor: a layer (probe) or a function result.
struct Row {
  std::string name;
  std::vector<int64_t> shape;
  /// Positions of the tensor among the results of the instrumented float
  /// and quantized functions.
  unsigned floatIndex = 0;
  unsigned quantIndex = 0;
  ErrorStats stats;
};

/// A JSON number, or the strings "inf", "-inf", "nan" (JSON has no
/// literals for them).
static std::string jsonNumber(double v) {
  std::string s = shortestDouble(v);
  return std::isfinite(v) ? s : "\"" + s + "\"";
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
static std::string csvField(StringRef s) {
  if (s.find_first_of(",\"\n\r") == StringRef::npos)
    return s.str();
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? "x" : "") + std::to_string(shape[i]);
  return out.empty() ? "scalar" : out;
}

/// Parses and verifies `path` into `context`.
static OwningOpRef<ModuleOp> parseModule(const std::string &path,
                                         MLIRContext &context,
                                         llvm::SourceMgr &sourceMgr) {
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(path, &errorMessage);
  if (!file) {
    (void)toolError(errorMessage);
    return nullptr;
  }
  unsigned bufferId = sourceMgr.AddNewSourceBuffer(std::move(file), SMLoc());
  if (failed(mlir::qlow::checkNestingDepth(sourceMgr, bufferId)))
    return nullptr;
  OwningOpRef<ModuleOp> module = mlir::qlow::parseModuleSafely(sourceMgr, &context);
  if (!module || failed(verify(*module))) {
    (void)toolError(path + ": not a valid qlow module");
    return nullptr;
  }
  return module;
}

/// The function to compare in `module` (read from `path`): --entry, else
/// `name` when given, else the first public function.
static FailureOr<func::FuncOp>
findEntry(ModuleOp module, const std::string &path, StringRef name) {
  if (!name.empty()) {
    auto func = module.lookupSymbol<func::FuncOp>(name);
    if (!func)
      return toolError(path + ": no function named '" + name + "'");
    if (func.isExternal())
      return toolError(path + ": '" + name + "' has no body to evaluate");
    return func;
  }
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal() && func.isPublic())
      return func;
  return toolError(path + " defines no public function to compare");
}

/// Checks that the two functions take the same f32 arguments and return
/// results of the same shapes (the quantized one may return quantized
/// tensors).
static LogicalResult checkSignatures(func::FuncOp floatFunc,
                                     func::FuncOp quantFunc) {
  FunctionType f = floatFunc.getFunctionType();
  FunctionType q = quantFunc.getFunctionType();
  auto describe = [](FunctionType type) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << type;
    return s;
  };
  auto mismatch = [&](const Twine &what) {
    return toolError(quantFile + ": '" + quantFunc.getSymName() + "' " + what +
                     "; the float graph (" + floatFile + ") has " +
                     describe(f) + ", the quantized graph has " + describe(q));
  };
  if (f.getInputs() != q.getInputs())
    return mismatch("takes other arguments than in the float graph");
  for (auto [i, type] : llvm::enumerate(f.getInputs()))
    if (!mlir::qlow::isF32Tensor(type))
      return toolError(floatFile + ": argument " + Twine(i) + " of '" +
                       floatFunc.getSymName() +
                       "' is not a ranked f32 tensor; both graphs must take "
                       "f32 inputs");
  if (f.getNumResults() != q.getNumResults())
    return mismatch("returns another number of results");
  for (auto [fr, qr] : llvm::zip(f.getResults(), q.getResults())) {
    auto ft = dyn_cast<RankedTensorType>(fr);
    auto qt = dyn_cast<RankedTensorType>(qr);
    if (!ft || !qt || !mlir::qlow::isF32Tensor(ft) ||
        ft.getShape() != qt.getShape() ||
        !(mlir::qlow::isF32Tensor(qt) || mlir::qlow::isQuantTensor(qt)))
      return mismatch("returns results of other shapes or types (each must be "
                      "f32, or quantized in the quantized graph)");
  }
  return success();
}

/// The values qlow-insert-observers would observe in `func`, with their
/// probe names, in program order, counting quantized tensors as if they were
/// f32: the pass runs on a copy of the function in which every quantized
/// tensor type is replaced by f32 of the same shape, so the selection and the
/// names are the pass's own, and a layer quantized in one graph and float in
/// the other gets the same name in both. Probes already in the function are
/// included. A name that repeats keeps its first value.
static FailureOr<std::vector<std::pair<std::string, Value>>>
probeValues(func::FuncOp func,
            const mlir::qlow::InsertObserversOptions &options) {
  IRMapping mapping;
  auto copy = cast<func::FuncOp>(func->clone(mapping));
  llvm::DenseMap<Value, Value> original;
  for (auto [from, to] : mapping.getValueMap())
    original[to] = from;
  auto asFloat = [](Value value) {
    if (!mlir::qlow::isQuantTensor(value.getType()))
      return;
    auto type = cast<RankedTensorType>(value.getType());
    value.setType(RankedTensorType::get(type.getShape(),
                                        Float32Type::get(value.getContext())));
  };
  for (BlockArgument arg : copy.getArguments())
    asFloat(arg);
  copy.walk([&](Operation *op) {
    for (Value result : op->getResults())
      asFloat(result);
  });
  mlir::qlow::insertObservers(copy, options);

  std::vector<std::pair<std::string, Value>> probes;
  llvm::StringSet<> seen;
  for (mlir::qlow::ObserveOp probe : mlir::qlow::collectObservers(copy)) {
    Value observed = probe.getInput();
    auto it = original.find(observed);
    if (!seen.insert(probe.getName()).second)
      continue;
    if (it == original.end()) {
      // A probe already in the function observes the output of another.
      if (auto inner = observed.getDefiningOp<mlir::qlow::ObserveOp>())
        it = original.find(inner.getInput());
    }
    if (it == original.end()) {
      copy.erase();
      return toolError("internal error: probe '" + probe.getName() +
                       "' has no value in '" + func.getSymName() + "'");
    }
    if (it->second.getParentRegion() != &func.getBody()) {
      copy.erase();
      return toolError("'" + func.getSymName() + "': probe '" +
                       probe.getName() +
                       "' is inside a region; qlow-error-report compares "
                       "single-block functions");
    }
    probes.emplace_back(probe.getName().str(), it->second);
  }
  copy.erase();
  return probes;
}

/// The f32 view of an evaluated tensor: Float as is, Quant dequantized.
static FailureOr<std::vector<float>> floatView(const ref::Tensor &tensor,
                                               StringRef name) {
  if (tensor.type.isFloat())
    return tensor.f;
  if (tensor.type.isQuant()) {
    auto dequantized = ref::dequantize(tensor);
    if (!dequantized.ok())
      return toolError("'" + name + "': " + dequantized.status.message());
    return dequantized->f;
  }
  return toolError("'" + name + "' is neither f32 nor quantized");
}

//===----------------------------------------------------------------------===//
// Rendering
//===----------------------------------------------------------------------===//

/// The report and what it was made from.
struct Report {
  std::string function;
  size_t numBatches = 0;
  std::vector<Row> layers;
  std::vector<Row> results;
  std::vector<std::string> floatOnly;
  std::vector<std::string> quantOnly;
};

static std::string renderTable(const Report &report) {
  size_t width = 5;
  for (const std::vector<Row> *rows : {&report.layers, &report.results})
    for (const Row &row : *rows)
      width = std::max(width, row.name.size());
  std::string out;
  char line[512];
  auto header = [&](const char *title) {
    std::snprintf(line, sizeof(line), "%-*s  %-14s %10s %10s %10s %12s\n",
                  static_cast<int>(width), title, "shape", "elements",
                  "sqnr_db", "cosine", "max_abs_err");
    out += line;
  };
  auto print = [&](const Row &row) {
    double sqnr = row.stats.sqnrDb(), cosine = row.stats.cosine();
    char sqnrText[32];
    if (std::isfinite(sqnr))
      std::snprintf(sqnrText, sizeof(sqnrText), "%.2f", sqnr);
    else
      std::snprintf(sqnrText, sizeof(sqnrText), "%s",
                    shortestDouble(sqnr).c_str());
    std::snprintf(line, sizeof(line), "%-*s  %-14s %10lld %10s %10.6f %12.4g\n",
                  static_cast<int>(width), row.name.c_str(),
                  shapeString(row.shape).c_str(),
                  static_cast<long long>(row.stats.count), sqnrText, cosine,
                  row.stats.maxError());
    out += line;
  };
  out += "qlow-error-report: '" + report.function + "', " +
         std::to_string(report.numBatches) + " batch" +
         (report.numBatches == 1 ? "" : "es") + "\n";
  header("layer");
  for (const Row &row : report.layers)
    print(row);
  header("result");
  for (const Row &row : report.results)
    print(row);
  auto list = [&](const char *what, const std::vector<std::string> &names) {
    if (names.empty())
      return;
    out += std::string("unmatched (") + what + " only):";
    for (const std::string &name : names)
      out += " " + name;
    out += "\n";
  };
  list("float", report.floatOnly);
  list("quantized", report.quantOnly);
  return out;
}

static std::string renderJson(const Report &report) {
  std::string out = "{\n";
  out += "  \"format\": \"qlow-error-report\",\n";
  out += "  \"version\": 1,\n";
  out += "  \"function\": " + jsonString(report.function) + ",\n";
  out += "  \"float\": " + jsonString(floatFile) + ",\n";
  out += "  \"quantized\": " + jsonString(quantFile) + ",\n";
  out += "  \"batches\": " + std::to_string(report.numBatches) + ",\n";
  auto rows = [&](const char *key, const std::vector<Row> &list) {
    out += std::string("  \"") + key + "\": [";
    for (size_t i = 0; i < list.size(); ++i) {
      const Row &row = list[i];
      out += (i ? ",\n" : "\n");
      out += "    {\"name\": " + jsonString(row.name) + ", \"shape\": [";
      for (size_t d = 0; d < row.shape.size(); ++d)
        out += (d ? ", " : "") + std::to_string(row.shape[d]);
      out += "], \"elements\": " + std::to_string(row.stats.count) +
             ", \"sqnr_db\": " + jsonNumber(row.stats.sqnrDb()) +
             ", \"cosine\": " + jsonNumber(row.stats.cosine()) +
             ", \"max_abs_error\": " + jsonNumber(row.stats.maxError()) + "}";
    }
    out += list.empty() ? "],\n" : "\n  ],\n";
  };
  rows("layers", report.layers);
  rows("results", report.results);
  auto names = [&](const std::vector<std::string> &list) {
    std::string s = "[";
    for (size_t i = 0; i < list.size(); ++i)
      s += (i ? ", " : "") + jsonString(list[i]);
    return s + "]";
  };
  out += "  \"unmatched\": {\"float\": " + names(report.floatOnly) +
         ", \"quantized\": " + names(report.quantOnly) + "}\n";
  out += "}\n";
  return out;
}

static std::string renderCsv(const Report &report) {
  std::string out = "kind,name,shape,elements,sqnr_db,cosine,max_abs_error\n";
  auto rows = [&](const char *kind, const std::vector<Row> &list) {
    for (const Row &row : list)
      out += std::string(kind) + "," + csvField(row.name) + "," +
             shapeString(row.shape) + "," + std::to_string(row.stats.count) +
             "," + shortestDouble(row.stats.sqnrDb()) + "," +
             shortestDouble(row.stats.cosine()) + "," +
             shortestDouble(row.stats.maxError()) + "\n";
  };
  rows("layer", report.layers);
  rows("result", report.results);
  return out;
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

static LogicalResult run(MLIRContext &context) {
  if (inputDir.empty() == batchFiles.empty())
    return toolError("give the inputs either with --input-dir or with --batch "
                     "(one per batch)");
  if (targets != "activations" && targets != "all")
    return toolError("--targets must be activations or all, not '" + targets +
                     "'");

  // One source manager per file (the parser reads a manager's main file);
  // the quantized file's handler, registered last, also prints diagnostics
  // at locations in the float file, which it opens by name.
  llvm::SourceMgr floatSources, quantSources;
  SourceMgrDiagnosticHandler floatHandler(floatSources, &context);
  OwningOpRef<ModuleOp> floatModule =
      parseModule(floatFile, context, floatSources);
  if (!floatModule)
    return failure();
  SourceMgrDiagnosticHandler quantHandler(quantSources, &context);
  OwningOpRef<ModuleOp> quantModule =
      parseModule(quantFile, context, quantSources);
  if (!quantModule)
    return failure();
  auto floatFunc = findEntry(*floatModule, floatFile, entry);
  if (failed(floatFunc))
    return failure();
  std::string funcName = floatFunc->getSymName().str();
  auto quantFunc = findEntry(*quantModule, quantFile, funcName);
  if (failed(quantFunc))
    return failure();
  if (failed(checkSignatures(*floatFunc, *quantFunc)))
    return failure();

  // The probes of both graphs, matched by name in the float graph's order.
  mlir::qlow::InsertObserversOptions options;
  if (failed(mlir::qlow::parseInsertObserversOptions(
          *floatFunc, targets, std::vector<std::string>(ops.begin(), ops.end()),
          options)))
    return failure();
  auto floatProbes = probeValues(*floatFunc, options);
  if (failed(floatProbes))
    return failure();
  auto quantProbes = probeValues(*quantFunc, options);
  if (failed(quantProbes))
    return failure();
  llvm::StringMap<Value> quantByName;
  for (auto &[name, value] : *quantProbes)
    quantByName[name] = value;

  Report report;
  report.function = funcName;
  unsigned numResults = floatFunc->getNumResults();
  SmallVector<Value> floatExtra, quantExtra;
  llvm::StringSet<> matched;
  for (auto &[name, value] : *floatProbes) {
    auto it = quantByName.find(name);
    auto floatType = cast<RankedTensorType>(value.getType());
    if (it == quantByName.end() ||
        cast<RankedTensorType>(it->second.getType()).getShape() !=
            floatType.getShape()) {
      report.floatOnly.push_back(name);
      continue;
    }
    matched.insert(name);
    Row row;
    row.name = name;
    row.shape.assign(floatType.getShape().begin(), floatType.getShape().end());
    row.floatIndex = numResults + floatExtra.size();
    row.quantIndex = numResults + quantExtra.size();
    floatExtra.push_back(value);
    quantExtra.push_back(it->second);
    report.layers.push_back(std::move(row));
  }
  for (auto &[name, value] : *quantProbes)
    if (!matched.contains(name))
      report.quantOnly.push_back(name);
  for (unsigned i = 0; i < numResults; ++i) {
    Row row;
    row.name = funcName + ".result" + std::to_string(i);
    auto type = cast<RankedTensorType>(floatFunc->getResultTypes()[i]);
    row.shape.assign(type.getShape().begin(), type.getShape().end());
    row.floatIndex = row.quantIndex = i;
    report.results.push_back(std::move(row));
  }
  mlir::qlow::appendResults(*floatFunc, floatExtra);
  mlir::qlow::appendResults(*quantFunc, quantExtra);

  SmallVector<ref::TensorType> argTypes;
  for (Type type : floatFunc->getArgumentTypes()) {
    auto converted = mlir::qlow::convertToReferenceType(
        type, [&]() { return floatFunc->emitError(); });
    if (failed(converted))
      return failure();
    argTypes.push_back(*converted);
  }
  auto batches =
      mlir::qlow::listBatches(inputDir, batchFiles, funcName, argTypes.size());
  if (!batches)
    return toolError(llvm::toString(batches.takeError()));
  report.numBatches = batches->size();

  for (const mlir::qlow::Batch &batch : *batches) {
    SmallVector<ref::Tensor> args;
    for (auto [i, path] : llvm::enumerate(batch.paths)) {
      auto arg = mlir::qlow::readArgument(path, argTypes[i], i);
      if (!arg)
        return toolError(llvm::toString(arg.takeError()));
      args.push_back(std::move(*arg));
    }
    auto floatResults = mlir::qlow::evaluateFunction(*floatFunc, args);
    if (failed(floatResults))
      return toolError("evaluating '" + funcName + "' of " + floatFile +
                       " on batch " + batch.label + " failed");
    auto quantResults = mlir::qlow::evaluateFunction(*quantFunc, args);
    if (failed(quantResults))
      return toolError("evaluating '" + funcName + "' of " + quantFile +
                       " on batch " + batch.label + " failed");
    for (std::vector<Row> *rows : {&report.layers, &report.results})
      for (Row &row : *rows) {
        auto reference = floatView((*floatResults)[row.floatIndex], row.name);
        auto quantized = floatView((*quantResults)[row.quantIndex], row.name);
        if (failed(reference) || failed(quantized))
          return failure();
        row.stats.add(*reference, *quantized);
      }
  }

  // Files first, so that a failure leaves stdout without a table.
  std::vector<std::pair<std::string, std::string>> outputs;
  if (!jsonFile.empty())
    outputs.emplace_back(jsonFile, renderJson(report));
  if (!csvFile.empty())
    outputs.emplace_back(csvFile, renderCsv(report));
  if (llvm::Error error = mlir::qlow::writeFilesAtomically(outputs))
    return toolError(llvm::toString(std::move(error)));
  llvm::outs() << renderTable(report);
  llvm::outs().flush();
  return success();
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
