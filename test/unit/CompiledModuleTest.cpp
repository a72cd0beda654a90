//===- CompiledModuleTest.cpp - calls into JIT-compiled code --------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// lib/JIT's marshalling of reference tensors into the buffers compiled code
// takes and back: every element width (i1, 8, 16, 32, 64 bits), signed and
// unsigned storage, at their extremes; prepared calls (marshalled once, run
// many times) give the results of a plain call; and wrong inputs are
// diagnosed before any code runs.
//
//===----------------------------------------------------------------------===//

#include "qlow/JIT/CompiledModule.h"
#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Registration.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

using namespace mlir;
using namespace mlir::qlow;

namespace {

constexpr int64_t kCount = 37; // Not a multiple of any vector width.

/// i8 widened to i32, i16 negated (wrapping), i64 plus one (wrapping), the
/// sign of the i8 as i1, and u8 storage requantized to i8 (x - 128).
constexpr const char *kSource = R"mlir(
!u8 = !quant.uniform<u8:f32, 0.5:128>
!i8 = !quant.uniform<i8:f32, 0.5>
#id = affine_map<(d0) -> (d0)>
func.func @marshal(%a: tensor<37xi8>, %b: tensor<37xi16>, %c: tensor<37xi64>,
                   %q: tensor<37x!u8>)
    -> (tensor<37xi32>, tensor<37xi16>, tensor<37xi64>, tensor<37xi1>,
        tensor<37x!i8>) {
  %e0 = tensor.empty() : tensor<37xi32>
  %e1 = tensor.empty() : tensor<37xi16>
  %e2 = tensor.empty() : tensor<37xi64>
  %e3 = tensor.empty() : tensor<37xi1>
  %r:4 = linalg.generic {indexing_maps = [#id, #id, #id, #id, #id, #id, #id],
                         iterator_types = ["parallel"]}
      ins(%a, %b, %c : tensor<37xi8>, tensor<37xi16>, tensor<37xi64>)
      outs(%e0, %e1, %e2, %e3
           : tensor<37xi32>, tensor<37xi16>, tensor<37xi64>, tensor<37xi1>) {
  ^bb0(%x: i8, %y: i16, %z: i64, %o0: i32, %o1: i16, %o2: i64, %o3: i1):
    %w = arith.extsi %x : i8 to i32
    %zero16 = arith.constant 0 : i16
    %n = arith.subi %zero16, %y : i16
    %one = arith.constant 1 : i64
    %s = arith.addi %z, %one : i64
    %zero8 = arith.constant 0 : i8
    %neg = arith.cmpi slt, %x, %zero8 : i8
    linalg.yield %w, %n, %s, %neg : i32, i16, i64, i1
  } -> (tensor<37xi32>, tensor<37xi16>, tensor<37xi64>, tensor<37xi1>)
  %rq = qlow.requantize %q : tensor<37x!u8> -> tensor<37x!i8>
  return %r#0, %r#1, %r#2, %r#3, %rq
      : tensor<37xi32>, tensor<37xi16>, tensor<37xi64>, tensor<37xi1>,
        tensor<37x!i8>
}
)mlir";

class CompiledModuleTest : public ::testing::Test {
protected:
  void SetUp() override {
    DialectRegistry registry;
    registerQlowDialects(registry);
    context = std::make_unique<MLIRContext>(registry);
    context->loadAllAvailableDialects();
    module = parseSourceString<ModuleOp>(kSource, context.get());
    ASSERT_TRUE(module);
    auto func = module->lookupSymbol<func::FuncOp>("marshal");
    auto parsed = getEntrySignature(func);
    ASSERT_TRUE(succeeded(parsed));
    signature = std::move(*parsed);
    CompileOptions options;
    options.cpu = "host";
    auto result = CompiledModule::compile(*module, options, {signature});
    ASSERT_TRUE(succeeded(result));
    compiled = std::move(*result);

    // Each input's extremes first, then a spread of values.
    for (const ref::TensorType &type : signature.inputs)
      inputs.push_back(ref::Tensor::zeros(type));
    const int64_t extremes[4][2] = {{INT8_MIN, INT8_MAX},
                                    {INT16_MIN, INT16_MAX},
                                    {INT64_MIN, INT64_MAX},
                                    {0, UINT8_MAX}};
    for (int input = 0; input < 4; ++input)
      for (int64_t k = 0; k < kCount; ++k) {
        auto [low, high] = extremes[input];
        uint64_t span =
            static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
        int64_t value = k == 0 ? low
                        : k == 1
                            ? high
                            : static_cast<int64_t>(static_cast<uint64_t>(low) +
                                                   span / (kCount - 1) * k);
        inputs[input].i[k] = value;
      }
  }

  /// Checks `results` against what @marshal computes from `inputs`.
  void expectResults(ArrayRef<ref::Tensor> results) {
    ASSERT_EQ(results.size(), 5u);
    for (int64_t k = 0; k < kCount; ++k) {
      int64_t a = inputs[0].i[k], b = inputs[1].i[k], c = inputs[2].i[k],
              q = inputs[3].i[k];
      EXPECT_EQ(results[0].i[k], a) << "i8 -> i32 at " << k;
      EXPECT_EQ(results[1].i[k], static_cast<int16_t>(-b)) << "-i16 at " << k;
      EXPECT_EQ(results[2].i[k],
                static_cast<int64_t>(static_cast<uint64_t>(c) + 1))
          << "i64 + 1 at " << k;
      EXPECT_EQ(results[3].i[k], a < 0 ? 1 : 0) << "i1 at " << k;
      EXPECT_EQ(results[4].i[k], q - 128) << "u8 -> i8 at " << k;
    }
  }

  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  EntrySignature signature;
  std::unique_ptr<CompiledModule> compiled;
  std::vector<ref::Tensor> inputs;
};

TEST_F(CompiledModuleTest, MarshalsEveryWidth) {
  auto results = compiled->call(signature, inputs);
  ASSERT_TRUE(succeeded(results));
  expectResults(*results);
}

TEST_F(CompiledModuleTest, PreparedCallRepeats) {
  auto prepared = compiled->prepare(signature, inputs);
  ASSERT_TRUE(succeeded(prepared));
  double seconds = -1.0;
  ASSERT_TRUE(succeeded((*prepared)->run(5, &seconds)));
  EXPECT_GE(seconds, 0.0);
  expectResults((*prepared)->results());
  // Runs on the same buffers again: the same results.
  ASSERT_TRUE(succeeded((*prepared)->run()));
  expectResults((*prepared)->results());
}

TEST_F(CompiledModuleTest, PrepareDiagnosesWrongInputs) {
  std::string message;
  ScopedDiagnosticHandler handler(context.get(), [&](Diagnostic &diagnostic) {
    message = diagnostic.str();
    return success();
  });
  std::vector<ref::Tensor> tooFew(inputs.begin(), inputs.end() - 1);
  EXPECT_TRUE(failed(compiled->prepare(signature, tooFew)));
  EXPECT_NE(message.find("takes 4 inputs, but 3 were given"), std::string::npos)
      << message;

  std::vector<ref::Tensor> wrongShape = inputs;
  wrongShape[1] = ref::Tensor::zeros(
      ref::TensorType::integer({kCount + 1}, ref::IntType(16, true)));
  EXPECT_TRUE(failed(compiled->prepare(signature, wrongShape)));
  EXPECT_NE(message.find("given for an argument of type"), std::string::npos)
      << message;
}

} // namespace
