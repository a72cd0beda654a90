//===- qlow-opt.cpp - mlir-opt with the qlow dialect ----------------------===//
//
// The pass driver for compiler engineers: parses MLIR, runs qlow's passes and
// pipelines, prints the result. Registers only what qlow uses.
//
//===----------------------------------------------------------------------===//

#include "qlow/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  mlir::qlow::registerQlowPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qlow optimizer driver\n", registry));
}
