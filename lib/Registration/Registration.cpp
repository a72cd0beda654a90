//===- Registration.cpp - what qlow's tools register ----------------------===//
//
// Registers the qlow dialect, the upstream dialects qlow graphs use, and the
// passes of qlow pipelines. Deliberately not registerAllDialects/Passes.
//
//===----------------------------------------------------------------------===//

#include "qlow/Registration.h"

#include "dialects/Qlow/IR/QlowDialect.h"
#include "qlow/Conversion/QlowToLinalg.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::qlow::registerQlowDialects(DialectRegistry &registry) {
  registry.insert<QlowDialect, quant::QuantDialect, func::FuncDialect,
                  arith::ArithDialect, tensor::TensorDialect,
                  linalg::LinalgDialect, math::MathDialect>();
}

void mlir::qlow::registerQlowPasses() {
  registerQlowConversionPasses();
  // Upstream cleanups used between qlow's own passes.
  registerCanonicalizerPass();
  registerCSEPass();
  registerSymbolDCEPass();
  registerInlinerPass();
}
