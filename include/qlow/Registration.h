//===- Registration.h - what qlow's tools register --------------*- C++ -*-===//
//
// One place that lists the dialects and passes qlow's tools register, so that
// qlow-opt, qlow-run and qlow-compile accept the same IR.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_REGISTRATION_H
#define QLOW_REGISTRATION_H

namespace mlir {
class DialectRegistry;
namespace qlow {

/// Adds the qlow dialect and the upstream dialects that qlow graphs use
/// (func, arith, tensor, linalg, quant) to `registry`.
void registerQlowDialects(DialectRegistry &registry);

/// Registers qlow's passes and pipelines, and the upstream passes that are
/// part of qlow pipelines (canonicalize, cse, ...), with the global registry.
void registerQlowPasses();

} // namespace qlow
} // namespace mlir

#endif // QLOW_REGISTRATION_H
