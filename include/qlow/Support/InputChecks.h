//===- InputChecks.h - checks on tool input before parsing ------*- C++ -*-===//
//
// Checks that qlow's tools run on an input buffer before handing it to the
// MLIR parser.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_SUPPORT_INPUTCHECKS_H
#define QLOW_SUPPORT_INPUTCHECKS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/LogicalResult.h"

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir {
class MLIRContext;
} // namespace mlir

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

/// parseSourceFile<ModuleOp> of `sourceMgr`'s main buffer, surviving a crash
/// inside MLIR's parser. Some of upstream's custom op parsers (LLVM 22's
/// linalg.transpose and linalg.broadcast, on a malformed dense i64 array)
/// report the syntax error and then use the null attribute they got back;
/// the error they reported stands, this adds that the parser gave up, and the
/// result is null as for any parse error. (The parse runs in a
/// CrashRecoveryContext; what it had built is leaked.)
OwningOpRef<ModuleOp> parseModuleSafely(llvm::SourceMgr &sourceMgr,
                                        MLIRContext *context);

/// Whether MLIR's parser crashes on buffer `bufferId` of `sourceMgr`, parsed
/// into a scratch context of `registry`'s dialects; what the parser reported
/// before it crashed is printed then (otherwise nothing is). For drivers
/// such as qlow-opt that parse the buffer themselves afterwards.
bool parserCrashesOn(llvm::SourceMgr &sourceMgr, unsigned bufferId,
                     const DialectRegistry &registry);

} // namespace mlir::qlow

#endif // QLOW_SUPPORT_INPUTCHECKS_H
