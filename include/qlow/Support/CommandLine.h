//===- CommandLine.h - command-line set-up shared by the tools -*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_SUPPORT_COMMANDLINE_H
#define QLOW_SUPPORT_COMMANDLINE_H

namespace llvm::cl {
class OptionCategory;
} // namespace llvm::cl

namespace mlir::qlow {

/// libLLVM registers an undocumented integer option `--threads` of its own
/// (for LLVM's thread pool, which no qlow tool uses), so `--threads 2` was
/// accepted and did nothing. This renames it to the hidden `--llvm-threads`,
/// before the tool registers a `--threads` of its own (qlow-run,
/// qlow-bench) or parses its command line, where `--threads` is then an
/// unknown option (qlow-compile, qlow-import-onnx).
void hideLLVMThreadsOption();

/// `--help` of a tool linked against libLLVM and libMLIR listed some 350 of
/// their internal options (back ends, sanitizers, pass tuning) around the
/// tool's own. This keeps in `--help` the options of `tool`, the generic
/// ones (`--help`, `--version`) and the `--mlir-*` printing and context
/// options the tool registered, under a category of their own; the rest stay
/// accepted but are no longer listed. Call it just before parsing.
void showOnlyToolOptions(llvm::cl::OptionCategory &tool);

} // namespace mlir::qlow

#endif // QLOW_SUPPORT_COMMANDLINE_H
