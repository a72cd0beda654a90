//===- ImportONNX.h - ONNX ModelProto to qlow -------------------*- C++ -*-===//
//
// Imports an ONNX model (float, QDQ, QOperator, com.microsoft MatMulNBits)
// into one func.func of qlow ops and upstream tensor/linalg/arith ops.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_IMPORT_ONNX_IMPORTONNX_H
#define QLOW_IMPORT_ONNX_IMPORTONNX_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir {
class MLIRContext;
namespace qlow {

/// What the importer does besides translating node by node.
struct OnnxImportOptions {
  /// Name of the function the graph becomes.
  /// Not "main": the compiled model is linked into C programs that have one.
  std::string functionName = "model";
  /// Recognize decompositions (GELU in its erf and tanh forms) and raise them
  /// to qlow ops.
  bool raisePatterns = true;
};

/// Imports the serialized ModelProto in `bytes`. `modelPath` names the model
/// in diagnostics, and its directory is where external data files are read
/// from. Every problem (corrupt protobuf, unsupported op, dynamic dimension,
/// inconsistent quantization parameters) is reported as an error diagnostic
/// on `context` and yields a null module; nothing is ever partially returned.
OwningOpRef<ModuleOp> importOnnxModel(llvm::StringRef bytes,
                                      llvm::StringRef modelPath,
                                      MLIRContext *context,
                                      const OnnxImportOptions &options = {});

/// Reads `path` and imports it as above.
OwningOpRef<ModuleOp> importOnnxFile(llvm::StringRef path, MLIRContext *context,
                                     const OnnxImportOptions &options = {});

/// Runs what every imported model goes through before compilation:
/// `qlow-fold-qdq` (QDQ pairs around float ops become quantized ops; a no-op
/// on float and QOperator models) and `canonicalize` (drops the constants
/// that only fed shape computations).
/// Unless `keepNames`, also removes the `qlow.onnx_name` argument and result
/// attributes (the graph's input and output names), which code generation
/// does not accept.
LogicalResult foldImportedModel(ModuleOp module, bool keepNames = false);

/// Removes the `qlow.onnx_name` argument and result attributes.
void stripOnnxNames(ModuleOp module);

/// The C API of a model library, appended to the header that qlow-compile
/// writes for `func` (whose `qlow_<name>` entry point it calls):
/// `<name>_create`, `<name>_run(model, inputs, outputs)` over plain buffers
/// (one per input and output, row-major, of the element types and shapes
/// that `<name>_input_shapes` / `<name>_output_shapes` give), and
/// `<name>_destroy`. `inputNames`/`outputNames` are the ONNX names.
FailureOr<std::string> emitModelApi(func::FuncOp func, StringRef name,
                                    ArrayRef<std::string> inputNames,
                                    ArrayRef<std::string> outputNames);

/// Whether `path` names an ONNX model (by its extension, `.onnx`).
bool isOnnxFile(llvm::StringRef path);

} // namespace qlow
} // namespace mlir

#endif // QLOW_IMPORT_ONNX_IMPORTONNX_H
