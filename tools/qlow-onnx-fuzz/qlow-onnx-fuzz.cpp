//===- qlow-onnx-fuzz.cpp - libFuzzer target of the ONNX importer ---------===//
//
// Feeds arbitrary bytes to importOnnxModel, built with ASan and UBSan: a
// model that does not import must fail with a diagnostic, never crash, leak
// uninitialized reads or hit undefined behaviour. The seed corpus is made of
// the test models (test/Import/ONNX/Inputs/onnx_models.py); lit runs the
// fuzzer briefly (test/Import/ONNX/fuzz.test).
//
//===----------------------------------------------------------------------===//

#include "qlow/Import/ONNX/ImportONNX.h"
#include "qlow/Registration.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // One context for the whole run (creating one per input would dominate).
  static mlir::MLIRContext *context = [] {
    mlir::DialectRegistry registry;
    mlir::qlow::registerQlowDialects(registry);
    auto *ctx = new mlir::MLIRContext(registry);
    ctx->disableMultithreading();
    ctx->loadAllAvailableDialects();
    return ctx;
  }();
  // Errors are expected; only crashes and sanitizer reports are findings.
  mlir::ScopedDiagnosticHandler quiet(context,
                                      [](mlir::Diagnostic &) { return mlir::success(); });
  auto module = mlir::qlow::importOnnxModel(
      llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "fuzz.onnx", context);
  // What the importer returns must be valid IR.
  if (module && failed(mlir::verify(*module)))
    std::abort();
  return 0;
}
