//===- AttentionKernelsTest.cpp - pieces of the x86 attention kernels -----===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// lanewiseSums (lib/Target/X86/AttentionKernels.h), which the f32 and int8
// attention kernels use to sum the lanes of a chunk of keys' partial dot
// products, built into a function, compiled by qlow's CPU pipeline for this
// machine and run: lane j of the result must be the sum of the lanes of
// vector j, for 2, 4, 8 and 16 lanes (AVX-512's shape too: LLVM splits the
// vectors where this machine's are narrower), i32 and f32 (small integers,
// so that every order of additions is exact).
//
//===----------------------------------------------------------------------===//

#include "lib/Target/X86/AttentionKernels.h"

#include "qlow/JIT/CompiledModule.h"
#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Registration.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlir;
using namespace mlir::qlow;

namespace {

/// `func @sums(%x: tensor<L x L x T>) -> tensor<L x T>`: the lanewise sums of
/// the L rows of %x, each read as one vector.
OwningOpRef<ModuleOp> buildSums(MLIRContext &ctx, int64_t lanes, Type type) {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto inType = RankedTensorType::get({lanes, lanes}, type);
  auto outType = RankedTensorType::get({lanes}, type);
  auto func = func::FuncOp::create(b, loc, "sums",
                                   b.getFunctionType({inType}, {outType}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  auto vectorType = VectorType::get({lanes}, type);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(type));
  SmallVector<Value> rows;
  for (int64_t j = 0; j < lanes; ++j)
    rows.push_back(vector::TransferReadOp::create(
        b, loc, vectorType, body->getArgument(0),
        ValueRange{arith::ConstantIndexOp::create(b, loc, j), zero}, pad,
        ArrayRef<bool>{true}));
  Value sums = lanewiseSums(b, loc, rows);
  Value out = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{lanes}, type);
  out = vector::TransferWriteOp::create(b, loc, sums, out, ValueRange{zero},
                                        ArrayRef<bool>{true})
            .getResult();
  func::ReturnOp::create(b, loc, out);
  return module;
}

void checkSums(int64_t lanes, bool isFloat) {
  DialectRegistry registry;
  registerQlowDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  Type type = isFloat ? Type(Float32Type::get(&ctx))
                      : Type(IntegerType::get(&ctx, 32));
  OwningOpRef<ModuleOp> module = buildSums(ctx, lanes, type);
  auto func = module->lookupSymbol<func::FuncOp>("sums");
  FailureOr<EntrySignature> signature = getEntrySignature(func);
  ASSERT_TRUE(succeeded(signature));
  CompileOptions options;
  options.cpu = "host";
  auto compiled = CompiledModule::compile(*module, options, {*signature});
  ASSERT_TRUE(succeeded(compiled));

  std::mt19937 rng(static_cast<unsigned>(lanes) * 2 + isFloat);
  // i32: values whose sums wrap around (any order gives the same sum);
  // f32: integers small enough to be exact in any order.
  std::uniform_int_distribution<int64_t> intDist(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int> floatDist(-1000, 1000);
  ref::Tensor input = ref::Tensor::zeros(signature->inputs[0]);
  std::vector<int64_t> expectedInt(lanes, 0);
  std::vector<float> expectedFloat(lanes, 0.0f);
  for (int64_t j = 0; j < lanes; ++j)
    for (int64_t x = 0; x < lanes; ++x) {
      if (isFloat) {
        float v = static_cast<float>(floatDist(rng));
        input.f[j * lanes + x] = v;
        expectedFloat[j] += v;
      } else {
        int64_t v = intDist(rng);
        input.i[j * lanes + x] = v;
        expectedInt[j] = static_cast<int32_t>(
            static_cast<uint32_t>(expectedInt[j]) + static_cast<uint32_t>(v));
      }
    }
  auto result = (*compiled)->call(*signature, {input});
  ASSERT_TRUE(succeeded(result));
  for (int64_t j = 0; j < lanes; ++j) {
    if (isFloat)
      EXPECT_EQ(expectedFloat[j], (*result)[0].f[j])
          << "lane " << j << " of " << lanes;
    else
      EXPECT_EQ(expectedInt[j], (*result)[0].i[j])
          << "lane " << j << " of " << lanes;
  }
}

TEST(LanewiseSums, I32) {
  for (int64_t lanes : {2, 4, 8, 16})
    checkSums(lanes, /*isFloat=*/false);
}

TEST(LanewiseSums, F32) {
  for (int64_t lanes : {2, 4, 8, 16})
    checkSums(lanes, /*isFloat=*/true);
}

} // namespace
