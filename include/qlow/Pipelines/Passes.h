//===- Passes.h - passes of qlow's compilation pipelines --------*- C++ -*-===//
//
// Small passes that qlow's pipelines need between upstream passes: marking
// the entry points of a compiled module and keeping generated code free of
// calls into MLIR's runtime libraries.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_PIPELINES_PASSES_H
#define QLOW_PIPELINES_PASSES_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace mlir::qlow {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "qlow/Pipelines/Passes.h.inc"

/// The polynomial approximations qlow-approximate-math applies (f32 math.exp
/// and math.erfc), as patterns: qlow-tabulate-byte-functions evaluates its
/// tables through the same ones, so that they hold what compiled code computes.
void populateQlowApproximateMathPatterns(RewritePatternSet &patterns);

} // namespace mlir::qlow

#endif // QLOW_PIPELINES_PASSES_H
