//===- QlowDialectTest.cpp - verifiers on types built in C++ --------------===//
//
// Upstream quantized types built with the unchecked `get` never meet the
// parser's checks. These tests build such types in C++ and check that every
// qlow verifier still rejects them with a clear message.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Registration.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qlow;

namespace {

class QlowVerifierTest : public ::testing::Test {
protected:
  QlowVerifierTest() : builder(&context) {
    DialectRegistry registry;
    registerQlowDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// An i8 per-tensor type built without upstream's checks.
  Type uncheckedI8(double scale, int64_t zeroPoint) {
    return quant::UniformQuantizedType::get(
        quant::QuantizationFlags::Signed, builder.getI8Type(),
        builder.getF32Type(), scale, zeroPoint, -128, 127);
  }

  /// Verifies `op` and returns the concatenated error messages ("" if valid).
  std::string verifyAndCollect(Operation *op) {
    std::string messages;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      messages += diag.str() + "\n";
      return success();
    });
    if (succeeded(verify(op)))
      return "";
    return messages.empty() ? "<failed without message>" : messages;
  }

  /// Builds qlow.quantize from an f32 [4, 3] value to `elementType`.
  Operation *buildQuantize(Type elementType) {
    auto input = arith::ConstantOp::create(
        builder, builder.getUnknownLoc(),
        DenseElementsAttr::get(
            RankedTensorType::get({4, 3}, builder.getF32Type()), 0.5f));
    return QuantizeOp::create(builder, builder.getUnknownLoc(),
                              RankedTensorType::get({4, 3}, elementType),
                              input);
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
};

TEST_F(QlowVerifierTest, AcceptsValidPerTensorType) {
  Operation *op = buildQuantize(uncheckedI8(0.1, -3));
  EXPECT_EQ(verifyAndCollect(op), "");
}

TEST_F(QlowVerifierTest, RejectsZeroPointOutsideStorageRange) {
  Operation *op = buildQuantize(uncheckedI8(0.1, 300));
  std::string message = verifyAndCollect(op);
  EXPECT_NE(
      message.find("zero point 300 outside the storage range [-128, 127]"),
      std::string::npos)
      << message;
}

TEST_F(QlowVerifierTest, RejectsZeroScale) {
  Operation *op = buildQuantize(uncheckedI8(0.0, 0));
  std::string message = verifyAndCollect(op);
  EXPECT_NE(message.find("scales must be positive and finite"),
            std::string::npos)
      << message;
}

TEST_F(QlowVerifierTest, RejectsNaNAndInfiniteScales) {
  for (double scale : {std::numeric_limits<double>::quiet_NaN(),
                       std::numeric_limits<double>::infinity(), -0.5}) {
    Operation *op = buildQuantize(uncheckedI8(scale, 0));
    std::string message = verifyAndCollect(op);
    EXPECT_NE(message.find("scales must be positive and finite"),
              std::string::npos)
        << "scale " << scale << ": " << message;
  }
}

TEST_F(QlowVerifierTest, RejectsPerAxisScaleCountMismatch) {
  // Axis 1 has size 3, but only two scales are given.
  Type perAxis = quant::UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, builder.getI8Type(),
      builder.getF32Type(), {0.1, 0.2}, {0, 0}, /*quantizedDimension=*/1, -128,
      127);
  std::string message = verifyAndCollect(buildQuantize(perAxis));
  EXPECT_NE(message.find("has 2 scales along axis 1, but that dimension has "
                         "size 3"),
            std::string::npos)
      << message;
}

TEST_F(QlowVerifierTest, RejectsPerAxisAxisOutOfRange) {
  Type perAxis = quant::UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, builder.getI8Type(),
      builder.getF32Type(), {0.1, 0.2, 0.3}, {0, 0, 0},
      /*quantizedDimension=*/5, -128, 127);
  std::string message = verifyAndCollect(buildQuantize(perAxis));
  EXPECT_NE(message.find("quantized along axis 5, which is out of range"),
            std::string::npos)
      << message;
}

TEST_F(QlowVerifierTest, RejectsPerAxisZeroPointOutOfRange) {
  Type perAxis = quant::UniformQuantizedPerAxisType::get(
      /*flags=*/0, builder.getI8Type(), builder.getF32Type(), {0.1, 0.2, 0.3},
      {0, 256, 0}, /*quantizedDimension=*/1, 0, 255);
  std::string message = verifyAndCollect(buildQuantize(perAxis));
  EXPECT_NE(message.find("zero point 256 outside the storage range [0, 255] "
                         "of u8"),
            std::string::npos)
      << message;
}

TEST_F(QlowVerifierTest, RejectsBadTypeOnAnyOperandOfMatmul) {
  // The bad type sits on an operand produced elsewhere; matmul must still
  // catch it because every op re-verifies the types it touches.
  Type bad = uncheckedI8(0.1, -500);
  Type good = uncheckedI8(0.1, 0);
  Operation *lhs = buildQuantize(bad);
  auto rhs = QuantizeOp::create(
      builder, builder.getUnknownLoc(), RankedTensorType::get({3, 2}, good),
      arith::ConstantOp::create(
          builder, builder.getUnknownLoc(),
          DenseElementsAttr::get(
              RankedTensorType::get({3, 2}, builder.getF32Type()), 1.0f)));
  auto matmul = MatmulOp::create(
      builder, builder.getUnknownLoc(),
      RankedTensorType::get({4, 2}, builder.getI32Type()), lhs->getResult(0),
      rhs.getResult(), Value(), RoundingMode::FixedPoint, /*dynamic=*/nullptr);
  std::string message = verifyAndCollect(matmul);
  EXPECT_NE(message.find("operand #0 has zero point -500"), std::string::npos)
      << message;
}

} // namespace

//===----------------------------------------------------------------------===//
// Integer-only ops built with their simple builders (what qlow-quantize does)
//===----------------------------------------------------------------------===//

TEST_F(QlowVerifierTest, IntegerOnlyOpsFromBuilders) {
  Location loc = builder.getUnknownLoc();
  auto i8 = RankedTensorType::get({4, 3}, uncheckedI8(0.1, 0));
  auto u8 = RankedTensorType::get(
      {4, 3}, quant::UniformQuantizedType::get(
                  0, builder.getIntegerType(8), builder.getF32Type(),
                  1.0 / 256, 0, 0, 255));
  Value x = arith::ConstantOp::create(
                builder, loc,
                DenseElementsAttr::get(
                    RankedTensorType::get({4, 3}, builder.getI8Type()),
                    static_cast<int8_t>(1)))
                .getResult();
  // A quantized value from the i8 constant, as quant.scast would give.
  Value q = QuantizeOp::create(
      builder, loc, i8,
      arith::ConstantOp::create(
          builder, loc,
          DenseElementsAttr::get(
              RankedTensorType::get({4, 3}, builder.getF32Type()), 0.5f)));
  Value gamma = arith::ConstantOp::create(
      builder, loc,
      DenseElementsAttr::get(RankedTensorType::get({3}, builder.getF32Type()),
                             1.0f));
  // Defaults: axis -1; no beta.
  auto softmax = IntSoftmaxOp::create(builder, loc, u8, q);
  EXPECT_EQ(verifyAndCollect(softmax), "");
  EXPECT_EQ(static_cast<int64_t>(softmax.getAxis()), -1);
  auto norm = IntLayerNormOp::create(builder, loc, i8, q, gamma, Value(),
                                     APFloat(1e-5f));
  EXPECT_EQ(verifyAndCollect(norm), "");
  auto gelu = IntGeluOp::create(builder, loc, i8, q);
  EXPECT_EQ(verifyAndCollect(gelu), "");
  // A plain i8 input is rejected with the op's message.
  auto bad = IntGeluOp::create(builder, loc, i8, x);
  EXPECT_NE(verifyAndCollect(bad).find("input must be a tensor of a quantized "
                                       "type"),
            std::string::npos);
  // A zero point outside the storage range (built unchecked) is caught.
  auto badType = RankedTensorType::get({4, 3}, uncheckedI8(0.1, 300));
  auto badResult = IntSoftmaxOp::create(builder, loc, badType, q);
  EXPECT_NE(verifyAndCollect(badResult), "");
}
