//===- Passes.h - graph-level passes of the qlow dialect --------*- C++ -*-===//
//
// Declares the qlow graph passes and the pattern sets they are made of, so
// that pipelines and other passes can reuse the patterns.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOW_TRANSFORMS_PASSES_H
#define QLOW_DIALECT_QLOW_TRANSFORMS_PASSES_H

#include "dialects/Qlow/IR/QlowDialect.h"
#include "dialects/Qlow/Transforms/Quantize.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir {
class RewritePatternSet;
namespace qlow {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "dialects/Qlow/Transforms/Passes.h.inc"

/// What the fold-qdq patterns may do.
struct FoldQdqOptions {
  /// Rounding of the quantized ops the patterns create.
  RoundingMode rounding = RoundingMode::Float;
  /// Only rewrites that are bit-exact against the float graph.
  bool exactOnly = false;
};

/// Adds the patterns that bring a graph to plain QDQ form: fake_quant
/// becomes quantize + dequantize, and quantize of an f32 constant becomes an
/// integer constant. Run them to a fixed point before the fold patterns,
/// which decide on an op's qlow.quantize users.
void populateFoldQdqPreparePatterns(RewritePatternSet &patterns,
                                    const FoldQdqOptions &options);

/// Adds the qlow-fold-qdq fold patterns: quantize(dequantize) to the source
/// or a requantize, and the quantized forms of matmul, add, mul, the
/// float-semantics ops and embedding.
void populateFoldQdqPatterns(RewritePatternSet &patterns,
                             const FoldQdqOptions &options);

/// Why `op` computes in float after the fold-qdq patterns ran, in words
/// ("no qlow.quantize on its result"), or std::nullopt when `op` is not a
/// float op (or a quantize/dequantize pair) that the patterns could fold.
std::optional<std::string> explainLeftInFloat(Operation *op,
                                              const FoldQdqOptions &options);

} // namespace qlow
} // namespace mlir

#endif // QLOW_DIALECT_QLOW_TRANSFORMS_PASSES_H
