//===- qlow-opt.cpp - mlir-opt with the qlow dialect ----------------------===//
//
// The pass driver for compiler engineers: parses MLIR, runs qlow's passes and
// pipelines, prints the result. Registers only what qlow uses.
//
//===----------------------------------------------------------------------===//

#include "qlow/Registration.h"
#include "qlow/Support/InputChecks.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  DialectRegistry registry;
  qlow::registerQlowDialects(registry);
  qlow::registerQlowPasses();
  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      argc, argv, "qlow optimizer driver\n", registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return asMainReturnCode(
        MlirOptMain(argc, argv, inputFilename, outputFilename, registry));

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file =
      openInputFile(inputFilename, &errorMessage);
  if (!file) {
    llvm::errs() << errorMessage << "\n";
    return 1;
  }
  // Bound the nesting depth before the recursive parser sees the input.
  llvm::SourceMgr sourceMgr;
  unsigned bufferId = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(file->getMemBufferRef(),
                                       /*RequiresNullTerminator=*/false),
      llvm::SMLoc());
  if (failed(qlow::checkNestingDepth(sourceMgr, bufferId)))
    return 1;
  // Some upstream op parsers crash on malformed input after reporting it:
  // parsed once on the side, such an input is an error (MlirOptMain below
  // parses it again).
  if (qlow::parserCrashesOn(sourceMgr, bufferId, registry))
    return 1;

  // The output file is kept only on success: no partial output on errors.
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::errs() << errorMessage << "\n";
    return 1;
  }
  if (failed(MlirOptMain(output->os(), std::move(file), registry, config)))
    return 1;
  output->keep();
  return 0;
}
