//===- InputChecks.h - checks on tool input before parsing ------*- C++ -*-===//
//
// Checks that qlow's tools run on an input buffer before handing it to the
// MLIR parser.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_SUPPORT_INPUTCHECKS_H
#define QLOW_SUPPORT_INPUTCHECKS_H

#include "mlir/Support/LLVM.h"
#include "llvm/Support/LogicalResult.h"

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir::qlow {

/// The deepest bracket nesting qlow's tools accept. Real IR nests a few tens
/// deep; upstream MLIR's recursive-descent parser overflows an 8 MiB stack
/// between 5000 and 10000 levels.
constexpr unsigned kMaxNestingDepth = 2048;

/// Scans buffer `bufferId` of `sourceMgr` for bracket nesting ((, [, {, <)
/// deeper than `limit`, skipping string literals and `//` comments. Reports an
/// error at the offending bracket through `sourceMgr` and fails if found, so
/// that a hostile input gets a diagnostic instead of a stack overflow.
llvm::LogicalResult checkNestingDepth(llvm::SourceMgr &sourceMgr,
                                      unsigned bufferId,
                                      unsigned limit = kMaxNestingDepth);

} // namespace mlir::qlow

#endif // QLOW_SUPPORT_INPUTCHECKS_H
