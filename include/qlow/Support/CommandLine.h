//===- CommandLine.h - command-line set-up shared by the tools -*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_SUPPORT_COMMANDLINE_H
#define QLOW_SUPPORT_COMMANDLINE_H

namespace mlir::qlow {

/// libLLVM registers an undocumented integer option `--threads` of its own
/// (for LLVM's thread pool, which no qlow tool uses), so `--threads 2` was
/// accepted and did nothing. This renames it to the hidden `--llvm-threads`,
/// before the tool registers a `--threads` of its own (qlow-run,
/// qlow-bench) or parses its command line, where `--threads` is then an
/// unknown option (qlow-compile, qlow-import-onnx).
void hideLLVMThreadsOption();

} // namespace mlir::qlow

#endif // QLOW_SUPPORT_COMMANDLINE_H
