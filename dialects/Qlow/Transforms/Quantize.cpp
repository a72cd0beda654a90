//===- Quantize.cpp - the qlow-quantize pass ------------------------------===//
//
// Quantizes float qlow graphs: static (calibrated) or dynamic activations,
// int8/int4 weights per tensor, channel or group, matmuls only or also
// add/mul, with per-layer precision rules. Static mode writes the graph in
// QDQ form and folds it with the qlow-fold-qdq patterns. Passes.td describes
// the pass, its options and the precision-file schema.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/Transforms/Quantize.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "dialects/Qlow/IR/QuantTypeUtils.h"
#include "dialects/Qlow/Transforms/Observers.h"
#include "dialects/Qlow/Transforms/Passes.h"
#include "qlow/Interpreter/Interpreter.h"
#include "qlow/Reference/Arithmetic.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <limits>
#include <set>

#define DEBUG_TYPE "qlow-quantize"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWQUANTIZEPASS
#include "dialects/Qlow/Transforms/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;
using llvm::formatv;

/// Marks the ops the static rewrite hands to the fold patterns, so that the
/// ones the patterns leave in float can be reported.
static constexpr llvm::StringLiteral kCandidateAttr = "qlow.quantize_candidate";

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

//===----------------------------------------------------------------------===//
// Calibration ranges (docs/Calibration.md, version 1)
//===----------------------------------------------------------------------===//

llvm::Expected<CalibrationRanges>
mlir::qlow::readCalibrationRanges(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(formatv("cannot read the ranges file '{0}': {1}", path,
                             buffer.getError().message()));
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return makeError(formatv("ranges file '{0}' is not valid JSON: {1}", path,
                             llvm::toString(json.takeError())));
  const llvm::json::Object *root = json->getAsObject();
  auto malformed = [&](const llvm::Twine &what) {
    return makeError("ranges file '" + path +
                     "' is not a qlow-calibrate file: " + what);
  };
  if (!root)
    return malformed("the top level is not an object");
  if (root->getString("format") != std::optional<StringRef>("qlow-calibration"))
    return malformed("\"format\" is not \"qlow-calibration\"");
  if (root->getInteger("version") != std::optional<int64_t>(1))
    return malformed("\"version\" is not 1 (the version qlow-quantize reads)");
  CalibrationRanges ranges;
  ranges.path = path.str();
  if (auto function = root->getString("function"))
    ranges.function = function->str();
  else
    return malformed("no \"function\"");
  if (auto method = root->getString("method"))
    ranges.method = method->str();
  const llvm::json::Object *probes = root->getObject("probes");
  if (!probes)
    return malformed("no \"probes\" object");
  for (const auto &[key, value] : *probes) {
    const llvm::json::Object *probe = value.getAsObject();
    std::string name = key.str();
    if (!probe)
      return malformed("probe '" + name + "' is not an object");
    ProbeRange range;
    const llvm::json::Array *shape = probe->getArray("shape");
    if (!shape)
      return malformed("probe '" + name + "' has no \"shape\" array");
    for (const llvm::json::Value &d : *shape) {
      std::optional<int64_t> dim = d.getAsInteger();
      if (!dim || *dim < 0)
        return malformed("probe '" + name + "' has a bad \"shape\"");
      range.shape.push_back(*dim);
    }
    std::optional<double> lo = probe->getNumber("clip_min");
    std::optional<double> hi = probe->getNumber("clip_max");
    if (!lo || !hi || !std::isfinite(*lo) || !std::isfinite(*hi) || *lo > *hi)
      return malformed("probe '" + name +
                       "' has no finite \"clip_min\" <= \"clip_max\"");
    range.clipMin = static_cast<float>(*lo);
    range.clipMax = static_cast<float>(*hi);
    ranges.probes[name] = std::move(range);
  }
  return ranges;
}

//===----------------------------------------------------------------------===//
// Precision files
//===----------------------------------------------------------------------===//

StringRef mlir::qlow::stringifyWeightGranularity(WeightGranularity g) {
  switch (g) {
  case WeightGranularity::PerTensor:
    return "per-tensor";
  case WeightGranularity::PerChannel:
    return "per-channel";
  case WeightGranularity::PerGroup:
    return "per-group";
  }
  return "per-channel";
}

std::optional<WeightGranularity>
mlir::qlow::parseWeightGranularity(StringRef s) {
  if (s == "per-tensor")
    return WeightGranularity::PerTensor;
  if (s == "per-channel")
    return WeightGranularity::PerChannel;
  if (s == "per-group")
    return WeightGranularity::PerGroup;
  return std::nullopt;
}

llvm::Expected<PrecisionFile>
mlir::qlow::parsePrecisionFile(StringRef text, StringRef path) {
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(text);
  if (!json)
    return makeError(formatv("precision file '{0}' is not valid JSON: {1}",
                             path, llvm::toString(json.takeError())));
  auto bad = [&](const llvm::Twine &what) {
    return makeError("precision file '" + path + "': " + what);
  };
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return bad("the top level is not an object");
  if (root->getString("format") != std::optional<StringRef>("qlow-precision"))
    return bad("\"format\" is not \"qlow-precision\"");
  if (root->getInteger("version") != std::optional<int64_t>(1))
    return bad("\"version\" is not 1");
  for (const auto &kv : *root)
    if (kv.first != "format" && kv.first != "version" && kv.first != "layers" &&
        kv.first != "comment")
      return bad("unknown field \"" + kv.first.str() +
                 "\" (expected format, version, layers, comment)");
  const llvm::json::Array *layers = root->getArray("layers");
  if (!layers)
    return bad("no \"layers\" array");
  PrecisionFile file;
  for (auto [i, value] : llvm::enumerate(*layers)) {
    std::string where = formatv("layers[{0}]", i).str();
    const llvm::json::Object *layer = value.getAsObject();
    if (!layer)
      return bad(where + " is not an object");
    PrecisionRule rule;
    if (auto match = layer->getString("match"))
      rule.match = match->str();
    else
      return bad(where + " has no \"match\" string (a layer name or pattern)");
    where += " ('" + rule.match + "')";
    for (const auto &[key, field] : *layer) {
      StringRef k = key;
      if (k == "match" || k == "comment")
        continue;
      if (k == "skip") {
        if (!field.getAsBoolean())
          return bad(where + ": \"skip\" must be true or false");
        rule.skip = *field.getAsBoolean();
      } else if (k == "activation_bits" || k == "weight_bits") {
        std::optional<int64_t> bits = field.getAsInteger();
        if (!bits || *bits <= 0 || *bits > 64)
          return bad(where + ": \"" + k + "\" must be a positive integer");
        if (k == "activation_bits")
          rule.activationBits = static_cast<unsigned>(*bits);
        else
          rule.weightBits = static_cast<unsigned>(*bits);
      } else if (k == "scheme") {
        std::optional<StringRef> s = field.getAsString();
        if (!s || (*s != "symmetric" && *s != "asymmetric"))
          return bad(where +
                     ": \"scheme\" must be \"symmetric\" or \"asymmetric\"");
        rule.activationSymmetric = *s == "symmetric";
      } else if (k == "granularity") {
        std::optional<StringRef> s = field.getAsString();
        std::optional<WeightGranularity> g =
            s ? parseWeightGranularity(*s) : std::nullopt;
        if (!g)
          return bad(where + ": \"granularity\" must be \"per-tensor\", "
                             "\"per-channel\" or \"per-group\"");
        rule.granularity = g;
      } else if (k == "group_size") {
        std::optional<int64_t> g = field.getAsInteger();
        if (!g || *g <= 0)
          return bad(where + ": \"group_size\" must be a positive integer");
        rule.groupSize = g;
      } else {
        return bad(where + ": unknown field \"" + k +
                   "\" (expected match, skip, activation_bits, scheme, "
                   "weight_bits, granularity, group_size, comment)");
      }
    }
    file.rules.push_back(std::move(rule));
  }
  return file;
}

llvm::Expected<PrecisionFile> mlir::qlow::readPrecisionFile(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(formatv("cannot read the precision file '{0}': {1}", path,
                             buffer.getError().message()));
  return parsePrecisionFile((*buffer)->getBuffer(), path);
}

std::string mlir::qlow::printPrecisionFile(const PrecisionFile &file) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "{\n  \"format\": \"qlow-precision\",\n  \"version\": 1,\n"
     << "  \"layers\": [";
  for (auto [i, rule] : llvm::enumerate(file.rules)) {
    os << (i ? ",\n" : "\n") << "    {\"match\": ";
    llvm::json::OStream(os).value(rule.match);
    if (rule.skip)
      os << ", \"skip\": " << (*rule.skip ? "true" : "false");
    if (rule.activationBits)
      os << ", \"activation_bits\": " << *rule.activationBits;
    if (rule.activationSymmetric)
      os << ", \"scheme\": \""
         << (*rule.activationSymmetric ? "symmetric" : "asymmetric") << "\"";
    if (rule.weightBits)
      os << ", \"weight_bits\": " << *rule.weightBits;
    if (rule.granularity)
      os << ", \"granularity\": \""
         << stringifyWeightGranularity(*rule.granularity) << "\"";
    if (rule.groupSize)
      os << ", \"group_size\": " << *rule.groupSize;
    os << "}";
  }
  os << (file.rules.empty() ? "]\n}\n" : "\n  ]\n}\n");
  return out;
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {

/// What qlow-quantize can do with an op.
enum class LayerKind {
  /// f32 qlow.matmul (quantized weights or activations).
  Matmul,
  /// f32 qlow.add / qlow.mul (ops=full, static).
  Binary,
  /// f32 qlow.softmax / layer_norm / gelu: qlow.int_softmax, int_layer_norm,
  /// int_gelu with ops=full, static.
  IntegerOnly,
  /// f32 qlow.attention: int8 attention (`{int8, key_block}`) with
  /// ops=full, static, attention-key-block > 0.
  Attention,
  /// Ops with float semantics that stay float.
  FloatOnly,
};

/// One op of the graph that precision rules can name.
struct Layer {
  Operation *op = nullptr;
  std::string name;
  LayerKind kind = LayerKind::FloatOnly;
  LayerPrecision precision;
  /// The rule numbers that set a field of this layer.
  std::vector<unsigned> rules;
  /// Quantized by this run; else `whyFloat` says why not.
  bool quantize = false;
  std::string whyFloat;
  /// Matmul: the constant weights (null when rhs is an activation).
  DenseFPElementsAttr weights;
  /// Static mode: the activation type of each data operand (lhs, rhs) and of
  /// the result (null when the result stays f32).
  SmallVector<Type, 2> operandTypes;
  Type resultType;
  /// Matmul: the quantized weight element type and the weight scales per
  /// output channel (one for per tensor, none for per group).
  quant::QuantizedType weightType;
  SmallVector<double> weightScales;
};

/// `loc` without its names, for the ops the pass adds: the probe names of
/// the graph stay on the ops that had them (qlow-error-report matches layers
/// by name).
Location withoutNames(Location loc) {
  if (auto named = dyn_cast<NameLoc>(loc))
    return withoutNames(named.getChildLoc());
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    SmallVector<Location> parts;
    for (Location part : fused.getLocations())
      parts.push_back(withoutNames(part));
    return FusedLoc::get(loc.getContext(), parts, fused.getMetadata());
  }
  if (auto site = dyn_cast<CallSiteLoc>(loc))
    return CallSiteLoc::get(withoutNames(site.getCallee()),
                            withoutNames(site.getCaller()));
  return loc;
}

bool isGlob(StringRef s) { return s.find_first_of("*?[") != StringRef::npos; }

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

/// The activation element type for values in [lo, hi]: i8 symmetric, u8
/// asymmetric, i16 for 16 bits.
FailureOr<quant::UniformQuantizedType>
activationElementType(MLIRContext *ctx, float lo, float hi, unsigned bits,
                      bool symmetric, std::string &why) {
  bool isSigned = bits == 16 || symmetric;
  ::qlow::ref::IntType storage(bits, isSigned);
  auto sz = ::qlow::ref::chooseScaleZeroPoint(lo, hi, storage, symmetric,
                                              /*narrowRange=*/false);
  if (!sz) {
    why = sz.status.message();
    return failure();
  }
  return quant::UniformQuantizedType::get(
      isSigned ? quant::QuantizationFlags::Signed : 0,
      IntegerType::get(ctx, bits), Float32Type::get(ctx), sz->scale,
      sz->zeroPoint, storage.min(), storage.max());
}

/// The largest |q - z| of a per-tensor type.
int64_t maxAbsStored(quant::UniformQuantizedType t) {
  return std::max(t.getStorageTypeMax() - t.getZeroPoint(),
                  t.getZeroPoint() - t.getStorageTypeMin());
}

/// Symmetric weight scales: max|w| / (2^(bits-1) - 1) over each set of
/// weights that shares one (1 when a set is all zeros).
double symmetricScale(double amax, unsigned bits) {
  double levels = double((int64_t(1) << (bits - 1)) - 1);
  return amax > 0 ? amax / levels : 1.0;
}

/// Chooses the weight type of `layer` (a matmul with constant weights).
LogicalResult chooseWeightType(Layer &layer, std::string &why) {
  MLIRContext *ctx = layer.op->getContext();
  auto type = cast<RankedTensorType>(layer.weights.getType());
  int64_t rank = type.getRank();
  int64_t k = type.getDimSize(rank - 2), n = type.getDimSize(rank - 1);
  const LayerPrecision &p = layer.precision;
  unsigned bits = p.weightBits;
  std::vector<float> w;
  w.reserve(type.getNumElements());
  for (const APFloat &v : layer.weights.getValues<APFloat>())
    w.push_back(v.convertToFloat());
  for (float v : w)
    if (!std::isfinite(v)) {
      why = "its weights are not all finite";
      return failure();
    }
  Type storage = IntegerType::get(ctx, bits);
  Type f32 = Float32Type::get(ctx);
  int64_t qmin = -(int64_t(1) << (bits - 1)), qmax = -qmin - 1;
  unsigned flags = quant::QuantizationFlags::Signed;
  switch (p.granularity) {
  case WeightGranularity::PerTensor: {
    double amax = 0;
    for (float v : w)
      amax = std::max(amax, double(std::fabs(v)));
    double s = symmetricScale(amax, bits);
    layer.weightScales = {s};
    layer.weightType = quant::UniformQuantizedType::get(flags, storage, f32, s,
                                                        0, qmin, qmax);
    return success();
  }
  case WeightGranularity::PerChannel: {
    std::vector<double> amax(n, 0.0);
    for (size_t i = 0; i < w.size(); ++i)
      amax[i % n] = std::max(amax[i % n], double(std::fabs(w[i])));
    SmallVector<double> scales;
    for (double a : amax)
      scales.push_back(symmetricScale(a, bits));
    layer.weightScales = scales;
    layer.weightType = quant::UniformQuantizedPerAxisType::get(
        flags, storage, f32, scales, SmallVector<int64_t>(n, 0), rank - 1,
        qmin, qmax);
    return success();
  }
  case WeightGranularity::PerGroup: {
    int64_t g = p.groupSize;
    if (rank != 2) {
      why = formatv("per-group weights need a 2-D [K, N] weight, not rank {0}",
                    rank)
                .str();
      return failure();
    }
    if (g <= 0 || k % g != 0) {
      why = formatv("group size {0} does not divide K = {1}", g, k).str();
      return failure();
    }
    int64_t groups = k / g;
    std::vector<double> amax(groups * n, 0.0);
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double &a = amax[(r / g) * n + c];
        a = std::max(a, double(std::fabs(w[r * n + c])));
      }
    SmallVector<float> scales;
    for (double a : amax)
      scales.push_back(static_cast<float>(symmetricScale(a, bits)));
    auto scaleAttr = DenseElementsAttr::get(
        RankedTensorType::get({groups, n}, f32), ArrayRef<float>(scales));
    auto zeroAttr = DenseElementsAttr::get(
        RankedTensorType::get({groups, n}, storage), APInt(bits, 0));
    layer.weightScales.clear();
    layer.weightType = quant::UniformQuantizedSubChannelType::get(
        flags, storage, f32, scaleAttr, zeroAttr, {0, 1}, {g, 1}, qmin, qmax);
    return success();
  }
  }
  return failure();
}

/// The largest |q - z| the weight type allows (as qlow-fold-qdq bounds the
/// accumulator: the full storage range).
int64_t maxAbsWeight(unsigned bits) { return int64_t(1) << (bits - 1); }

/// True when `value` is computed from constants only.
bool isConstantLike(Value value) {
  Operation *def = value.getDefiningOp();
  if (!def)
    return false;
  return def->hasTrait<OpTrait::ConstantLike>();
}

//===----------------------------------------------------------------------===//
// The planner: every check before anything changes
//===----------------------------------------------------------------------===//

class Quantizer {
public:
  Quantizer(ModuleOp module, const QuantizeConfig &config)
      : module(module), config(config) {}

  /// Finds the layers of every function to quantize and checks the options,
  /// ranges and rules against them. Emits an error and fails on a problem.
  LogicalResult plan();
  /// Rewrites the planned functions.
  LogicalResult rewrite();
  /// The planned layers (after plan()).
  ArrayRef<Layer> getLayers() const { return layers; }

private:
  LogicalResult planFunction(func::FuncOp func);
  LogicalResult applyRules();
  LogicalResult decide(Layer &layer);
  LogicalResult assignActivationTypes();
  LogicalResult rewriteStatic(func::FuncOp func);
  LogicalResult rewriteDynamic(func::FuncOp func);
  void report();

  FailureOr<Type> activationTypeOf(Layer &layer, Value value);

  ModuleOp module;
  const QuantizeConfig &config;
  SmallVector<func::FuncOp> functions;
  std::vector<Layer> layers;
  llvm::DenseMap<Value, std::string> valueNames;
};

} // namespace

FailureOr<Type> Quantizer::activationTypeOf(Layer &layer, Value value) {
  const CalibrationRanges &ranges = *config.ranges;
  std::string name = valueNames.lookup(value);
  auto it = ranges.probes.find(name);
  if (name.empty() || it == ranges.probes.end()) {
    layer.op->emitError()
        << "qlow-quantize: no range for probe '" << name << "' in '"
        << ranges.path << "' (needed by " << layer.op->getName() << " '"
        << layer.name
        << "'); calibrate this graph with qlow-calibrate (its probe names are "
           "qlow-insert-observers')";
    return failure();
  }
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.hasStaticShape()) {
    layer.op->emitError() << "qlow-quantize: probe '" << name
                          << "' has a dynamic shape " << type
                          << "; static quantization needs static shapes "
                             "(or use mode=dynamic)";
    return failure();
  }
  if (ArrayRef<int64_t>(it->second.shape) != type.getShape()) {
    layer.op->emitError() << "qlow-quantize: probe '" << name << "' in '"
                          << ranges.path << "' was calibrated with shape "
                          << shapeString(it->second.shape)
                          << " but the value has shape "
                          << shapeString(type.getShape())
                          << "; the ranges are for another graph";
    return failure();
  }
  std::string why;
  FailureOr<quant::UniformQuantizedType> element = activationElementType(
      value.getContext(), it->second.clipMin, it->second.clipMax,
      layer.precision.activationBits, layer.precision.activationSymmetric,
      why);
  if (failed(element)) {
    layer.op->emitError() << "qlow-quantize: probe '" << name
                          << "': " << why;
    return failure();
  }
  return Type(RankedTensorType::get(type.getShape(), *element));
}

LogicalResult Quantizer::plan() {
  if (config.mode == QuantizeMode::Static) {
    if (!config.ranges)
      return module.emitError()
             << "qlow-quantize: mode=static needs ranges=<qlow-calibrate "
                "JSON file> (or use mode=dynamic)";
    func::FuncOp func =
        module.lookupSymbol<func::FuncOp>(config.ranges->function);
    if (!func || func.isExternal())
      return module.emitError()
             << "qlow-quantize: the ranges in '" << config.ranges->path
             << "' were calibrated for function '" << config.ranges->function
             << "', which this module does not define";
    functions.push_back(func);
  } else {
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal())
        functions.push_back(func);
  }
  for (func::FuncOp func : functions)
    if (failed(planFunction(func)))
      return failure();
  if (failed(applyRules()))
    return failure();
  for (Layer &layer : layers)
    if (failed(decide(layer)))
      return failure();
  if (config.mode == QuantizeMode::Static)
    return assignActivationTypes();
  return success();
}

LogicalResult Quantizer::planFunction(func::FuncOp func) {
  ProbeNames names = computeProbeNames(func);
  for (auto &[value, name] : names.values)
    valueNames[value] = name;
  // A value that flows through an existing probe has the probe's name.
  func.walk([&](ObserveOp probe) {
    valueNames[probe.getOutput()] = probe.getName().str();
  });
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (!isa_and_nonnull<QlowDialect>(op->getDialect()) ||
        isa<QuantizeOp, DequantizeOp, RequantizeOp, FakeQuantOp, ObserveOp>(
            op))
      return;
    Layer layer;
    layer.op = op;
    layer.name = names.ops.lookup(op);
    layer.precision = config.defaults;
    bool allF32 = llvm::all_of(op->getOperandTypes(), isF32Tensor) &&
                  llvm::all_of(op->getResultTypes(), isF32Tensor);
    if (auto matmul = dyn_cast<MatmulOp>(op)) {
      if (!allF32 || matmul.getDynamic())
        return; // already quantized
      layer.kind = LayerKind::Matmul;
      DenseFPElementsAttr weights;
      if (matchPattern(matmul.getRhs(), m_Constant(&weights)) &&
          weights.getElementType().isF32() &&
          cast<RankedTensorType>(weights.getType()).getRank() >= 2)
        layer.weights = weights;
    } else if (isa<AddOp, MulOp>(op)) {
      if (!allF32)
        return;
      layer.kind = LayerKind::Binary;
    } else if (isa<SoftmaxOp, LayerNormOp, GeluOp>(op) && allF32) {
      layer.kind = LayerKind::IntegerOnly;
    } else if (auto attention = dyn_cast<AttentionOp>(op);
               attention && config.attentionKeyBlock > 0 &&
               isF32Tensor(attention.getQ().getType()) &&
               isF32Tensor(attention.getK().getType()) &&
               isF32Tensor(attention.getV().getType()) &&
               isF32Tensor(attention.getType())) {
      // The mask (f32 or i1) is a parameter: it stays as it is.
      layer.kind = LayerKind::Attention;
    } else {
      if (!allF32 && !isa<AttentionOp, LayerNormOp, RmsNormOp, RopeOp,
                          EmbeddingOp>(op))
        return;
      layer.kind = LayerKind::FloatOnly;
    }
    layers.push_back(std::move(layer));
  });
  return success();
}

LogicalResult Quantizer::applyRules() {
  if (!config.precision)
    return success();
  for (auto [i, rule] : llvm::enumerate(config.precision->rules)) {
    bool glob = isGlob(rule.match);
    llvm::Expected<llvm::GlobPattern> pattern =
        llvm::GlobPattern::create(rule.match);
    if (!pattern)
      return module.emitError()
             << "qlow-quantize: precision rule " << i << " ('" << rule.match
             << "') is not a valid pattern: "
             << llvm::toString(pattern.takeError());
    bool setsNumbers = rule.activationBits || rule.activationSymmetric ||
                       rule.weightBits || rule.granularity || rule.groupSize;
    bool setsWeights = rule.weightBits || rule.granularity || rule.groupSize;
    unsigned matched = 0;
    for (Layer &layer : layers) {
      if (glob ? !pattern->match(layer.name) : layer.name != rule.match)
        continue;
      // A pattern applies the fields that make sense for each layer it
      // matches; an exact name must make sense for its layer.
      if (layer.kind == LayerKind::FloatOnly && setsNumbers) {
        if (glob && !rule.skip)
          continue;
        if (!glob)
          return layer.op->emitError()
                 << "qlow-quantize: precision rule " << i << " sets bits for "
                 << layer.op->getName() << " '" << layer.name
                 << "', which qlow-quantize keeps in float (no integer-only "
                    "form); only \"skip\" applies to it";
      }
      if ((layer.kind == LayerKind::Binary ||
           layer.kind == LayerKind::IntegerOnly ||
           layer.kind == LayerKind::Attention) &&
          setsWeights) {
        if (glob && !rule.skip && !rule.activationBits &&
            !rule.activationSymmetric)
          continue;
        if (!glob)
          return layer.op->emitError()
                 << "qlow-quantize: precision rule " << i
                 << " sets weight bits/granularity for "
                 << layer.op->getName() << " '" << layer.name
                 << "', which has no weights";
      }
      ++matched;
      layer.rules.push_back(i);
      LayerPrecision &p = layer.precision;
      if (rule.skip)
        p.skip = *rule.skip;
      if (rule.activationBits)
        p.activationBits = *rule.activationBits;
      if (rule.activationSymmetric)
        p.activationSymmetric = *rule.activationSymmetric;
      if (layer.kind == LayerKind::Matmul) {
        if (rule.weightBits)
          p.weightBits = *rule.weightBits;
        if (rule.granularity)
          p.granularity = *rule.granularity;
        if (rule.groupSize)
          p.groupSize = *rule.groupSize;
      }
    }
    if (matched == 0) {
      InFlightDiagnostic diag = module.emitError();
      diag << "qlow-quantize: precision rule " << i << " ('" << rule.match
           << "') " << (glob ? "matches no layer" : "names an unknown layer")
           << "; the layers are:";
      for (const Layer &layer : layers)
        diag << " " << layer.name;
      return diag;
    }
  }
  return success();
}

LogicalResult Quantizer::decide(Layer &layer) {
  const LayerPrecision &p = layer.precision;
  bool isStatic = config.mode == QuantizeMode::Static;
  auto fail = [&](const llvm::Twine &what) {
    return layer.op->emitError()
           << "qlow-quantize: " << layer.op->getName() << " '" << layer.name
           << "': " << what;
  };
  if (p.skip) {
    layer.whyFloat = "skipped by the precision file";
    return success();
  }
  switch (layer.kind) {
  case LayerKind::FloatOnly: {
    if (config.ops == QuantizeOpsScope::Partial)
      layer.whyFloat = "ops=partial quantizes matmuls only";
    else
      layer.whyFloat = "qlow-quantize has no integer-only form for it";
    return success();
  }
  case LayerKind::IntegerOnly: {
    if (config.ops == QuantizeOpsScope::Partial) {
      layer.whyFloat = "ops=partial quantizes matmuls only";
      return success();
    }
    if (!isStatic) {
      layer.whyFloat = "mode=dynamic quantizes matmuls only (an integer-only "
                       "op needs calibrated ranges)";
      return success();
    }
    if (p.activationBits != 8 && p.activationBits != 16)
      return fail(formatv("{0}-bit activations are not supported; the "
                          "integer-only form takes 8 or 16 bits per tensor",
                          p.activationBits));
    auto type = cast<RankedTensorType>(layer.op->getResult(0).getType());
    if (!type.hasStaticShape()) {
      layer.whyFloat = "its shape is not static";
      return success();
    }
    if (auto softmax = dyn_cast<SoftmaxOp>(layer.op)) {
      int64_t axis = softmax.getAxis();
      if (axis < 0)
        axis += type.getRank();
      if (axis < 0 || axis >= type.getRank() ||
          type.getDimSize(axis) > 32768) {
        layer.whyFloat = "qlow.int_softmax reduces at most 32768 elements";
        return success();
      }
    }
    if (auto norm = dyn_cast<LayerNormOp>(layer.op)) {
      if (type.getShape().back() > 65536) {
        layer.whyFloat = "qlow.int_layer_norm normalizes at most 65536 "
                         "elements";
        return success();
      }
      if (!isConstantLike(norm.getGamma()) ||
          (norm.getBeta() && !isConstantLike(norm.getBeta()))) {
        layer.whyFloat = "gamma or beta is not a constant (qlow."
                         "int_layer_norm folds them into fixed-point "
                         "constants)";
        return success();
      }
    }
    layer.quantize = true;
    return success();
  }
  case LayerKind::Attention: {
    if (config.ops == QuantizeOpsScope::Partial) {
      layer.whyFloat = "ops=partial quantizes matmuls only";
      return success();
    }
    if (!isStatic) {
      layer.whyFloat = "mode=dynamic quantizes matmuls only (int8 attention "
                       "needs calibrated ranges for q, k and v)";
      return success();
    }
    if (p.activationBits != 8) {
      layer.whyFloat = formatv("int8 attention takes 8-bit q, k and v, not "
                               "{0}-bit",
                               p.activationBits)
                           .str();
      return success();
    }
    auto attention = cast<AttentionOp>(layer.op);
    auto q = cast<RankedTensorType>(attention.getQ().getType());
    auto k = cast<RankedTensorType>(attention.getK().getType());
    auto v = cast<RankedTensorType>(attention.getV().getType());
    if (!q.hasStaticShape() || !k.hasStaticShape() || !v.hasStaticShape()) {
      layer.whyFloat = "its shape is not static";
      return success();
    }
    // The op's bound: D * 255 * 255 must fit the i32 score accumulator.
    if (q.getShape().back() > 33025) {
      layer.whyFloat = "int8 attention takes head sizes up to 33025";
      return success();
    }
    layer.quantize = true;
    return success();
  }
  case LayerKind::Binary: {
    if (config.ops == QuantizeOpsScope::Partial) {
      layer.whyFloat = "ops=partial quantizes matmuls only";
      return success();
    }
    if (!isStatic) {
      layer.whyFloat = "mode=dynamic quantizes matmuls only (a quantized "
                       "add/mul needs calibrated ranges)";
      return success();
    }
    if (p.activationBits != 8 && p.activationBits != 16)
      return fail(formatv("{0}-bit activations are not supported; a "
                          "quantized add/mul takes 8 or 16 bits per tensor",
                          p.activationBits));
    for (Value operand : layer.op->getOperands())
      if (isConstantLike(operand)) {
        layer.whyFloat = "an operand is a constant (it has no calibrated "
                         "range)";
        return success();
      }
    layer.quantize = true;
    return success();
  }
  case LayerKind::Matmul: {
    if (p.weightBits != 8 && p.weightBits != 4)
      return fail(formatv("{0}-bit weights are not supported; weights take "
                          "8 or 4 bits",
                          p.weightBits));
    if (p.activationBits != 8 && p.activationBits != 16)
      return fail(formatv("{0}-bit activations are not supported; "
                          "activations take 8 or 16 bits",
                          p.activationBits));
    if (!isStatic && p.activationBits != 8)
      return fail("mode=dynamic quantizes activations to 8 bits at run "
                  "time; 16-bit activations need mode=static");
    if (!layer.weights && !isStatic) {
      layer.whyFloat = "its rhs is not a constant (mode=dynamic quantizes "
                       "constant weights only)";
      return success();
    }
    if (layer.weights) {
      std::string why;
      if (failed(chooseWeightType(layer, why)))
        return fail(why);
    }
    layer.quantize = true;
    return success();
  }
  }
  return success();
}

LogicalResult Quantizer::assignActivationTypes() {
  llvm::DenseSet<Operation *> quantized;
  for (Layer &layer : layers)
    if (layer.quantize)
      quantized.insert(layer.op);
  for (Layer &layer : layers) {
    if (!layer.quantize)
      continue;
    SmallVector<Value, 2> data;
    if (layer.kind == LayerKind::Matmul) {
      auto matmul = cast<MatmulOp>(layer.op);
      data.push_back(matmul.getLhs());
      if (!layer.weights)
        data.push_back(matmul.getRhs());
    } else if (layer.kind == LayerKind::IntegerOnly) {
      data.push_back(layer.op->getOperand(0));
    } else if (auto attention = dyn_cast<AttentionOp>(layer.op)) {
      data.append({attention.getQ(), attention.getK(), attention.getV()});
    } else {
      data.append(layer.op->operand_begin(), layer.op->operand_end());
    }
    for (Value v : data) {
      FailureOr<Type> type = activationTypeOf(layer, v);
      if (failed(type))
        return failure();
      layer.operandTypes.push_back(*type);
    }
    // The result is quantized for add/mul (their quantized form has a
    // quantized result) and for a matmul feeding another quantized op;
    // group-wise weights give an f32 result.
    bool quantizeResult = layer.kind == LayerKind::Binary ||
                          layer.kind == LayerKind::IntegerOnly;
    if (layer.kind == LayerKind::Matmul &&
        !isa_and_nonnull<quant::UniformQuantizedSubChannelType>(
            layer.weightType))
      quantizeResult = llvm::any_of(layer.op->getUsers(), [&](Operation *u) {
        return quantized.contains(u);
      });
    if (quantizeResult) {
      FailureOr<Type> type = activationTypeOf(layer, layer.op->getResult(0));
      if (failed(type))
        return failure();
      layer.resultType = *type;
    }
    // The i32 accumulator bound that the integer matmul requires.
    if (layer.kind == LayerKind::Matmul) {
      auto lhsType = cast<RankedTensorType>(layer.operandTypes[0]);
      auto lhsQ = cast<quant::UniformQuantizedType>(lhsType.getElementType());
      int64_t k = lhsType.getShape().back();
      int64_t maxW =
          layer.weights
              ? maxAbsWeight(layer.precision.weightBits)
              : maxAbsStored(cast<quant::UniformQuantizedType>(
                    cast<RankedTensorType>(layer.operandTypes[1])
                        .getElementType()));
      double worst = double(k) * double(maxAbsStored(lhsQ)) * double(maxW);
      if (worst > double(std::numeric_limits<int32_t>::max()))
        return layer.op->emitError()
               << "qlow-quantize: " << layer.op->getName() << " '"
               << layer.name << "': " << layer.precision.activationBits
               << "-bit activations times " << layer.precision.weightBits
               << "-bit weights over K = " << k
               << " can overflow the i32 accumulator (K * "
               << maxAbsStored(lhsQ) << " * " << maxW
               << " > 2^31 - 1); use 8-bit activations for this layer";
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Rewrites
//===----------------------------------------------------------------------===//

namespace {
/// Inserts `dequantize(quantize(value))` to `type` right after `value`'s
/// definition, once per (value, type).
class QdqBuilder {
public:
  explicit QdqBuilder(MLIRContext *ctx) : builder(ctx) {}

  Value get(Value value, Type type, SmallVectorImpl<Operation *> &created) {
    // A dequantized value of that very type needs nothing.
    if (auto dq = value.getDefiningOp<DequantizeOp>())
      if (dq.getInput().getType() == type)
        return value;
    auto key = std::make_pair(value, type);
    if (Value known = memo.lookup(key))
      return known;
    if (auto arg = dyn_cast<BlockArgument>(value))
      builder.setInsertionPointToStart(arg.getOwner());
    else
      builder.setInsertionPointAfter(value.getDefiningOp());
    Location loc = withoutNames(value.getLoc());
    auto q = QuantizeOp::create(builder, loc, type, value);
    auto dq = DequantizeOp::create(builder, loc, value.getType(), q);
    created.push_back(q);
    memo[key] = dq;
    return dq;
  }

  OpBuilder builder;

private:
  llvm::DenseMap<std::pair<Value, Type>, Value> memo;
};
} // namespace

/// `quantize(constant)` of `type`, which the fold-qdq prepare patterns turn
/// into `quant.scast(integer constant)`.
static Value quantizeConstant(OpBuilder &b, Location loc, Value constant,
                              quant::QuantizedType element,
                              SmallVectorImpl<Operation *> &created) {
  auto type = cast<RankedTensorType>(constant.getType());
  auto q = QuantizeOp::create(
      b, loc, RankedTensorType::get(type.getShape(), element), constant);
  created.push_back(q);
  return q;
}

/// Erases the conversions and constants the rewrite left without users (the
/// f32 weights and biases that became integer constants, dequantizations no
/// op reads).
static void eraseDeadConversions(func::FuncOp func) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<Operation *> dead;
    func.walk([&](Operation *op) {
      if (isa<QuantizeOp, DequantizeOp, quant::StorageCastOp,
              arith::ConstantOp>(op) &&
          op->use_empty())
        dead.push_back(op);
    });
    for (Operation *op : dead)
      op->erase();
    changed = !dead.empty();
  }
}

LogicalResult Quantizer::rewriteStatic(func::FuncOp func) {
  MLIRContext *ctx = func.getContext();
  QdqBuilder qdq(ctx);
  SmallVector<Operation *> created, candidates;
  for (Layer &layer : layers) {
    if (!layer.quantize || layer.op->getParentOfType<func::FuncOp>() != func)
      continue;
    Operation *op = layer.op;
    // Data operands: fake-quantized to the layer's activation type.
    unsigned next = 0;
    for (OpOperand &operand : op->getOpOperands()) {
      unsigned number = operand.getOperandNumber();
      bool isData = false;
      switch (layer.kind) {
      case LayerKind::Binary:
        isData = true;
        break;
      case LayerKind::IntegerOnly:
        isData = number == 0;
        break;
      case LayerKind::Attention:
        isData = number < 3; // q, k, v; not the mask
        break;
      case LayerKind::Matmul:
        isData = number == 0 || (number == 1 && !layer.weights);
        break;
      case LayerKind::FloatOnly:
        break;
      }
      if (!isData)
        continue;
      Value original = operand.get();
      assert(next < layer.operandTypes.size() && "one type per data operand");
      Value fq = qdq.get(original, layer.operandTypes[next++], created);
      if (fq != original)
        valueNames[fq] = valueNames.lookup(original);
      operand.set(fq);
    }
    OpBuilder &b = qdq.builder;
    b.setInsertionPoint(op);
    Location loc = withoutNames(op->getLoc());
    if (layer.kind == LayerKind::IntegerOnly) {
      // The integer-only op reads the quantized value and makes a quantized
      // result; every user reads its dequantization.
      Value input = op->getOperand(0).getDefiningOp<DequantizeOp>().getInput();
      Operation *intOp =
          llvm::TypeSwitch<Operation *, Operation *>(op)
              .Case<SoftmaxOp>([&](SoftmaxOp o) {
                return IntSoftmaxOp::create(b, o.getLoc(), layer.resultType,
                                            input, o.getAxis());
              })
              .Case<LayerNormOp>([&](LayerNormOp o) {
                return IntLayerNormOp::create(b, o.getLoc(), layer.resultType,
                                              input, o.getGamma(), o.getBeta(),
                                              o.getEpsilon());
              })
              .Case<GeluOp>([&](GeluOp o) {
                return IntGeluOp::create(b, o.getLoc(), layer.resultType,
                                         input);
              });
      Value result = op->getResult(0);
      auto dq = DequantizeOp::create(b, loc, result.getType(),
                                     intOp->getResult(0));
      valueNames[dq] = valueNames.lookup(result);
      result.replaceAllUsesWith(dq.getResult());
      op->erase();
      layer.op = intOp;
      continue;
    }
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      // int8 attention reads the quantized q, k, v; its result stays f32
      // (users read it as before).
      auto stored = [](Value v) {
        return v.getDefiningOp<DequantizeOp>().getInput();
      };
      auto int8 = AttentionOp::create(
          b, attention.getLoc(), attention.getType(),
          stored(attention.getQ()), stored(attention.getK()),
          stored(attention.getV()), attention.getMask(),
          attention.getCausalAttr(), attention.getScaleAttr(),
          b.getUnitAttr(), b.getI64IntegerAttr(config.attentionKeyBlock));
      attention.replaceAllUsesWith(int8.getOutput());
      attention.erase();
      layer.op = int8;
      continue;
    }
    if (auto matmul = dyn_cast<MatmulOp>(op)) {
      if (layer.weights) {
        Value wq = quantizeConstant(b, loc, matmul.getRhs(), layer.weightType,
                                    created);
        matmul.getRhsMutable().assign(DequantizeOp::create(
            b, loc, matmul.getRhs().getType(), wq));
      }
      // An f32 constant bias becomes i32 in units of s_a * s_w[n].
      DenseFPElementsAttr bias;
      Value biasValue = matmul.getBias();
      auto lhsQ = cast<quant::UniformQuantizedType>(
          cast<RankedTensorType>(layer.operandTypes[0]).getElementType());
      SmallVector<double> wScales = layer.weightScales;
      if (!layer.weights)
        wScales = {cast<quant::UniformQuantizedType>(
                       cast<RankedTensorType>(layer.operandTypes[1])
                           .getElementType())
                       .getScale()};
      if (biasValue && !wScales.empty() &&
          matchPattern(biasValue, m_Constant(&bias))) {
        Type i32 = IntegerType::get(ctx, 32);
        Type f32 = Float32Type::get(ctx);
        int64_t lo = std::numeric_limits<int32_t>::min(),
                hi = std::numeric_limits<int32_t>::max();
        quant::QuantizedType biasQ;
        if (wScales.size() == 1) {
          biasQ = quant::UniformQuantizedType::get(
              quant::QuantizationFlags::Signed, i32, f32,
              lhsQ.getScale() * wScales[0], 0, lo, hi);
        } else {
          SmallVector<double> units;
          for (double s : wScales)
            units.push_back(lhsQ.getScale() * s);
          biasQ = quant::UniformQuantizedPerAxisType::get(
              quant::QuantizationFlags::Signed, i32, f32, units,
              SmallVector<int64_t>(units.size(), 0), 0, lo, hi);
        }
        Value bq = quantizeConstant(b, loc, biasValue, biasQ, created);
        matmul.getBiasMutable().assign(
            DequantizeOp::create(b, loc, biasValue.getType(), bq));
      }
    }
    // The result: quantized, every user reads its dequantization.
    if (layer.resultType) {
      Value result = op->getResult(0);
      b.setInsertionPointAfter(op);
      auto q = QuantizeOp::create(b, loc, layer.resultType, result);
      auto dq = DequantizeOp::create(b, loc, result.getType(), q);
      result.replaceAllUsesExcept(dq, q.getOperation());
      valueNames[dq] = valueNames.lookup(result);
      created.push_back(q);
    }
    op->setAttr(kCandidateAttr, StringAttr::get(ctx, layer.name));
    candidates.push_back(op);
  }

  // Fold: weights and biases become integer constants, then the QDQ form
  // becomes quantized ops (and requantize where types change).
  FoldQdqOptions options;
  options.rounding = config.rounding;
  options.exactOnly = false;
  GreedyRewriteConfig strict;
  strict.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  {
    RewritePatternSet prepare(ctx);
    populateFoldQdqPreparePatterns(prepare, options);
    FrozenRewritePatternSet frozen(std::move(prepare));
    SmallVector<Operation *> ops(created);
    (void)applyOpPatternsGreedily(ops, frozen, strict);
  }
  {
    RewritePatternSet fold(ctx);
    populateFoldQdqPatterns(fold, options);
    FrozenRewritePatternSet frozen(std::move(fold));
    SmallVector<Operation *> ops;
    // The quantize ops may have been replaced by the prepare patterns;
    // collect what is there now.
    func.walk([&](Operation *op) {
      if (op->hasAttr(kCandidateAttr) || isa<QuantizeOp>(op))
        ops.push_back(op);
    });
    strict.setStrictness(GreedyRewriteStrictness::ExistingOps);
    (void)applyOpPatternsGreedily(ops, frozen, strict);
  }
  // The fold copies attributes to the op it makes: an op still marked is
  // either the quantized op (done) or the float op the patterns left.
  func.walk([&](Operation *op) {
    auto name = op->getAttrOfType<StringAttr>(kCandidateAttr);
    if (!name)
      return;
    op->removeAttr(kCandidateAttr);
    bool quantized = llvm::any_of(op->getOperandTypes(), isQuantTensor) ||
                     op->hasAttr("dynamic");
    if (quantized || !config.report)
      return;
    std::optional<std::string> why = explainLeftInFloat(op, options);
    op->emitRemark() << "left in float: " << op->getName() << " '"
                     << name.getValue() << "' ("
                     << (why ? *why : std::string("the fold did not apply"))
                     << ")";
  });
  eraseDeadConversions(func);
  return success();
}

LogicalResult Quantizer::rewriteDynamic(func::FuncOp func) {
  MLIRContext *ctx = func.getContext();
  OpBuilder b(ctx);
  SmallVector<Operation *> created;
  for (Layer &layer : layers) {
    if (!layer.quantize || layer.op->getParentOfType<func::FuncOp>() != func)
      continue;
    auto matmul = cast<MatmulOp>(layer.op);
    QuantScheme layerScheme = layer.precision.activationSymmetric
                                  ? QuantScheme::Symmetric
                                  : QuantScheme::Asymmetric;
    b.setInsertionPoint(matmul);
    Value wq = quantizeConstant(b, withoutNames(matmul.getLoc()),
                                matmul.getRhs(), layer.weightType, created);
    auto dynamic = DynamicQuantAttr::get(
        ctx, config.dynamicGranularity,
        layerScheme == QuantScheme::Symmetric ? DynamicStorage::I8
                                              : DynamicStorage::U8,
        layerScheme);
    auto replacement =
        MatmulOp::create(b, matmul.getLoc(), matmul.getType(), matmul.getLhs(),
                         wq, matmul.getBias(), config.rounding, dynamic);
    matmul.replaceAllUsesWith(replacement.getOutput());
    matmul.erase();
    layer.op = replacement;
  }
  FoldQdqOptions options;
  options.rounding = config.rounding;
  RewritePatternSet prepare(ctx);
  populateFoldQdqPreparePatterns(prepare, options);
  GreedyRewriteConfig strict;
  strict.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  (void)applyOpPatternsGreedily(created, FrozenRewritePatternSet(
                                             std::move(prepare)),
                                strict);
  eraseDeadConversions(func);
  return success();
}

void Quantizer::report() {
  if (!config.report)
    return;
  for (const Layer &layer : layers)
    if (!layer.quantize)
      layer.op->emitRemark() << "left in float: " << layer.op->getName()
                             << " '" << layer.name << "' (" << layer.whyFloat
                             << ")";
}

LogicalResult Quantizer::rewrite() {
  // Remarks first: the ops left in float are not touched by the rewrite.
  report();
  for (func::FuncOp func : functions) {
    if (failed(config.mode == QuantizeMode::Static ? rewriteStatic(func)
                                                   : rewriteDynamic(func)))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Public entry points
//===----------------------------------------------------------------------===//

LogicalResult mlir::qlow::quantizeModule(ModuleOp module,
                                         const QuantizeConfig &config) {
  Quantizer quantizer(module, config);
  if (failed(quantizer.plan()))
    return failure();
  return quantizer.rewrite();
}

FailureOr<std::vector<QuantizableLayer>>
mlir::qlow::listQuantizableLayers(ModuleOp module,
                                  const QuantizeConfig &config) {
  Quantizer quantizer(module, config);
  if (failed(quantizer.plan()))
    return failure();
  std::vector<QuantizableLayer> result;
  for (const Layer &layer : quantizer.getLayers()) {
    if (!layer.quantize)
      continue;
    QuantizableLayer q;
    q.name = layer.name;
    q.opName = layer.op->getName().getStringRef().str();
    if (layer.weights)
      q.weightElements = layer.weights.getNumElements();
    result.push_back(std::move(q));
  }
  return result;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {
struct QlowQuantizePass
    : mlir::qlow::impl::QlowQuantizePassBase<QlowQuantizePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    QuantizeConfig config;
    config.mode = mode;
    config.ops = ops;
    config.rounding = rounding;
    config.dynamicGranularity = dynamicGranularity;
    config.report = report;
    config.attentionKeyBlock = attentionKeyBlock;
    if (config.attentionKeyBlock < 0 || config.attentionKeyBlock > 4096) {
      module.emitError() << "qlow-quantize: attention-key-block="
                         << config.attentionKeyBlock
                         << " is outside [0, 4096] (0 keeps attention in "
                            "float)";
      return signalPassFailure();
    }
    config.defaults.activationBits = activationBits;
    config.defaults.activationSymmetric =
        activationScheme == QuantScheme::Symmetric;
    config.defaults.weightBits = weightBits;
    config.defaults.granularity = weightGranularity;
    config.defaults.groupSize = groupSize;

    std::optional<CalibrationRanges> calibration;
    if (!ranges.empty()) {
      if (mode == QuantizeMode::Dynamic) {
        module.emitError() << "qlow-quantize: ranges= is for mode=static; "
                              "mode=dynamic computes scales at run time";
        return signalPassFailure();
      }
      llvm::Expected<CalibrationRanges> read = readCalibrationRanges(ranges);
      if (!read) {
        module.emitError() << "qlow-quantize: "
                           << llvm::toString(read.takeError());
        return signalPassFailure();
      }
      calibration = std::move(*read);
      config.ranges = &*calibration;
    }
    std::optional<PrecisionFile> precision;
    if (!precisionFile.empty()) {
      llvm::Expected<PrecisionFile> read = readPrecisionFile(precisionFile);
      if (!read) {
        module.emitError() << "qlow-quantize: "
                           << llvm::toString(read.takeError());
        return signalPassFailure();
      }
      precision = std::move(*read);
      config.precision = &*precision;
    }
    if (failed(quantizeModule(module, config)))
      return signalPassFailure();
  }
};
} // namespace
