//===- qlow-import-onnx.cpp - print an ONNX model as qlow MLIR ------------===//
//
// Imports an ONNX model with lib/Import/ONNX and prints the function, as
// imported or (--fold-qdq) after qlow-fold-qdq and canonicalization, the
// form qlow-run and qlow-compile compile. Nothing is written on error.
//
//===----------------------------------------------------------------------===//

#include "qlow/Import/ONNX/ImportONNX.h"
#include "qlow/Registration.h"
#include "qlow/Support/CommandLine.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace llvm;

static cl::OptionCategory toolCategory("qlow-import-onnx options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required, cl::cat(toolCategory));
static cl::opt<std::string> outputFile("o",
                                       cl::desc("Output file (- = stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(toolCategory));
static cl::opt<bool>
    foldQdq("fold-qdq",
            cl::desc("Run qlow-fold-qdq and canonicalize after import (what "
                     "qlow-run and qlow-compile do with .onnx models)"),
            cl::cat(toolCategory));
static cl::opt<bool>
    noRaise("no-raise",
            cl::desc("Keep decompositions (GELU) as imported node by node"),
            cl::cat(toolCategory));
static cl::opt<std::string> functionName("function-name",
                                         cl::desc("Name of the function"),
                                         cl::init("model"),
                                         cl::cat(toolCategory));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  // `--threads` is no option of this tool (libLLVM's own took it silently).
  mlir::qlow::hideLLVMThreadsOption();
  mlir::qlow::showOnlyToolOptions(toolCategory);
  cl::ParseCommandLineOptions(argc, argv,
                              "qlow-import-onnx: ONNX model to qlow MLIR\n");
  DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  MLIRContext context(registry);
  // Diagnostics as file:line:col: error: ..., as the other tools print them.
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  mlir::qlow::OnnxImportOptions options;
  options.functionName = functionName;
  options.raisePatterns = !noRaise;
  OwningOpRef<ModuleOp> module =
      mlir::qlow::importOnnxFile(inputFile, &context, options);
  if (!module)
    return 1;
  if (foldQdq && failed(mlir::qlow::foldImportedModel(*module)))
    return 1;
  std::string error;
  auto out = openOutputFile(outputFile, &error);
  if (!out) {
    errs() << "qlow-import-onnx: " << error << "\n";
    return 1;
  }
  module->print(out->os());
  out->keep();
  return 0;
}
