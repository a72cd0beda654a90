//===- Quantize.h - qlow-quantize: float graphs to quantized ones -*- C++ -*-===//
//
// The options, the calibration ranges and the per-layer precision rules of
// qlow-quantize, and the entry point that tools (qlow-mixed-precision) call
// without going through the pass manager. Passes.td describes the pass.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOW_TRANSFORMS_QUANTIZE_H
#define QLOW_DIALECT_QLOW_TRANSFORMS_QUANTIZE_H

#include "dialects/Qlow/IR/QlowDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/Error.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir::qlow {

/// Where activation scales come from.
enum class QuantizeMode {
  /// From calibrated ranges (qlow-calibrate JSON), fixed at compile time.
  Static,
  /// Computed at run time from the values (`#qlow.dynamic` matmuls).
  Dynamic,
};

/// How weights share scales.
enum class WeightGranularity { PerTensor, PerChannel, PerGroup };

/// Which ops are quantized.
enum class QuantizeOpsScope {
  /// Matmuls only; everything else stays f32.
  Partial,
  /// Matmuls, add and mul, and softmax, layer_norm and gelu in integer-only
  /// form (qlow.int_softmax, int_layer_norm, int_gelu).
  Full,
};

/// The precision of one layer (op). Fields are the pass options, overridden
/// by precision-file rules.
struct LayerPrecision {
  bool skip = false;
  unsigned activationBits = 8;
  bool activationSymmetric = false;
  unsigned weightBits = 8;
  WeightGranularity granularity = WeightGranularity::PerChannel;
  int64_t groupSize = 32;
};

/// One rule of a precision file: every field that is set overrides the
/// precision of the layers whose name `match` matches (an exact name or a
/// glob pattern).
struct PrecisionRule {
  std::string match;
  std::optional<bool> skip;
  std::optional<unsigned> activationBits;
  std::optional<bool> activationSymmetric;
  std::optional<unsigned> weightBits;
  std::optional<WeightGranularity> granularity;
  std::optional<int64_t> groupSize;
};

/// A precision file: rules applied in order (later fields override earlier
/// ones).
struct PrecisionFile {
  std::vector<PrecisionRule> rules;
};

/// The calibrated range of one probe.
struct ProbeRange {
  std::vector<int64_t> shape;
  float clipMin = 0, clipMax = 0;
};

/// What qlow-quantize reads from a qlow-calibrate JSON file.
struct CalibrationRanges {
  std::string path;
  std::string function;
  std::string method;
  std::map<std::string, ProbeRange> probes;
};

/// Everything that drives quantizeModule.
struct QuantizeConfig {
  QuantizeMode mode = QuantizeMode::Static;
  QuantizeOpsScope ops = QuantizeOpsScope::Partial;
  RoundingMode rounding = RoundingMode::FixedPoint;
  DynamicGranularity dynamicGranularity = DynamicGranularity::PerRow;
  LayerPrecision defaults;
  /// Required in static mode.
  const CalibrationRanges *ranges = nullptr;
  const PrecisionFile *precision = nullptr;
  /// Emit a remark for every op left in float, with the reason.
  bool report = true;
  /// With ops=full (static): qlow.attention becomes int8 attention with this
  /// key_block (q, k, v quantized per tensor); 0 keeps it float.
  int64_t attentionKeyBlock = 0;
};

/// Reads a qlow-calibrate JSON file (docs/Calibration.md, version 1).
llvm::Expected<CalibrationRanges> readCalibrationRanges(StringRef path);
/// Parses a precision file (qlow-precision JSON, Passes.td gives the schema).
llvm::Expected<PrecisionFile> parsePrecisionFile(StringRef text,
                                                 StringRef path);
/// Reads and parses a precision file.
llvm::Expected<PrecisionFile> readPrecisionFile(StringRef path);
/// Serializes a precision file (what qlow-mixed-precision writes).
std::string printPrecisionFile(const PrecisionFile &file);

/// "per-tensor", "per-channel", "per-group".
StringRef stringifyWeightGranularity(WeightGranularity granularity);
/// The granularity named `name` (per-tensor, per-channel, per-group), the
/// inverse of stringifyWeightGranularity; none for another name.
std::optional<WeightGranularity> parseWeightGranularity(StringRef name);

/// Quantizes the functions of `module` as `config` says. Every check (ranges
/// found, shapes, precision rules naming existing layers, supported bits)
/// runs before anything changes: on failure an error is emitted at the
/// offending op or function and the module is unchanged.
LogicalResult quantizeModule(ModuleOp module, const QuantizeConfig &config);

/// The layers quantizeModule would quantize in `module` (ops with weights or
/// quantized forms), by name, in program order, with their op name and the
/// bytes of their weights at `config`'s default precision (0 for add/mul).
struct QuantizableLayer {
  std::string name;
  std::string opName;
  int64_t weightElements = 0;
};
FailureOr<std::vector<QuantizableLayer>>
listQuantizableLayers(ModuleOp module, const QuantizeConfig &config);

} // namespace mlir::qlow

#endif // QLOW_DIALECT_QLOW_TRANSFORMS_QUANTIZE_H
