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
// so that every order of additions is exact). And buildExpOfNonPositive
// (qlow/Conversion/QlowToLinalg.h), the exponential of the f32 kernel's
// softmax, against exp in double.
//
//===----------------------------------------------------------------------===//

#include "lib/Target/X86/AttentionKernels.h"

#include "qlow/Conversion/QlowToLinalg.h"

#include "qlow/JIT/CompiledModule.h"
#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Registration.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
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

/// Compiles `module`'s function `name` for this machine and calls it on the
/// inputs `makeInputs` builds for its signature: the results, or nothing
/// (with a failed expectation) where a step fails.
std::optional<SmallVector<ref::Tensor>> compileAndRun(
    ModuleOp module, StringRef name,
    function_ref<std::vector<ref::Tensor>(const EntrySignature &)>
        makeInputs) {
  auto func = module.lookupSymbol<func::FuncOp>(name);
  FailureOr<EntrySignature> signature = getEntrySignature(func);
  EXPECT_TRUE(succeeded(signature));
  if (failed(signature))
    return std::nullopt;
  CompileOptions options;
  options.cpu = "host";
  auto compiled = CompiledModule::compile(module, options, {*signature});
  EXPECT_TRUE(succeeded(compiled));
  if (failed(compiled))
    return std::nullopt;
  auto result = (*compiled)->call(*signature, makeInputs(*signature));
  EXPECT_TRUE(succeeded(result));
  if (failed(result))
    return std::nullopt;
  return std::move(*result);
}

void checkSums(int64_t lanes, bool isFloat) {
  DialectRegistry registry;
  registerQlowDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  Type type = isFloat ? Type(Float32Type::get(&ctx))
                      : Type(IntegerType::get(&ctx, 32));
  OwningOpRef<ModuleOp> module = buildSums(ctx, lanes, type);
  std::mt19937 rng(static_cast<unsigned>(lanes) * 2 + isFloat);
  // i32: values whose sums wrap around (any order gives the same sum);
  // f32: integers small enough to be exact in any order.
  std::uniform_int_distribution<int64_t> intDist(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int> floatDist(-1000, 1000);
  std::vector<int64_t> expectedInt(lanes, 0);
  std::vector<float> expectedFloat(lanes, 0.0f);
  auto result = compileAndRun(*module, "sums", [&](const EntrySignature &sig) {
    ref::Tensor input = ref::Tensor::zeros(sig.inputs[0]);
    for (int64_t j = 0; j < lanes; ++j)
      for (int64_t x = 0; x < lanes; ++x) {
        if (isFloat) {
          float v = static_cast<float>(floatDist(rng));
          input.f[j * lanes + x] = v;
          expectedFloat[j] += v;
        } else {
          int64_t v = intDist(rng);
          input.i[j * lanes + x] = v;
          expectedInt[j] =
              static_cast<int32_t>(static_cast<uint32_t>(expectedInt[j]) +
                                   static_cast<uint32_t>(v));
        }
      }
    return std::vector<ref::Tensor>{input};
  });
  ASSERT_TRUE(result.has_value());
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

/// `func @exp(%x: tensor<N x f32>) -> tensor<N x f32>`: buildExpOfNonPositive
/// (clampInput) of each element, in a linalg.generic that the CPU pipeline
/// vectorizes (the scalar body becomes the same ops on vectors; a remainder,
/// if any, stays scalar).
OwningOpRef<ModuleOp> buildExp(MLIRContext &ctx, int64_t n) {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto type = RankedTensorType::get({n}, b.getF32Type());
  auto func =
      func::FuncOp::create(b, loc, "exp", b.getFunctionType({type}, {type}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  Value out = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{n},
                                      b.getF32Type());
  AffineMap id = b.getMultiDimIdentityMap(1);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{body->getArgument(0)},
      ValueRange{out}, ArrayRef<AffineMap>{id, id},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &gb, Location gloc, ValueRange args) {
        linalg::YieldOp::create(
            gb, gloc,
            buildExpOfNonPositive(gb, gloc, args[0], /*clampInput=*/true));
      });
  func::ReturnOp::create(b, loc, generic.getResult(0));
  return module;
}

TEST(ExpOfNonPositive, AgainstDouble) {
  DialectRegistry registry;
  registerQlowDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  // Special values first, then a grid over [-88, 0] and random values.
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = {0.0f,    -0.0f,   -inf,     nan,
                          -1e30f,  -104.0f, -103.99f, -90.0f,
                          -88.0f,  -87.7f,  -87.3f,   -1e-30f,
                          -1e-7f,  -0.5f,   -0.34657359f, -0.6931472f};
  for (int i = 0; i <= 88000; ++i)
    x.push_back(-0.001f * static_cast<float>(i));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-87.3f, 0.0f);
  while (x.size() % 8 != 3) // a scalar remainder too
    x.push_back(dist(rng));
  for (int i = 0; i < 20000; ++i)
    x.push_back(dist(rng));
  const int64_t n = static_cast<int64_t>(x.size());

  OwningOpRef<ModuleOp> module = buildExp(ctx, n);
  auto result = compileAndRun(*module, "exp", [&](const EntrySignature &sig) {
    ref::Tensor input = ref::Tensor::zeros(sig.inputs[0]);
    for (int64_t i = 0; i < n; ++i)
      input.f[i] = x[i];
    return std::vector<ref::Tensor>{input};
  });
  ASSERT_TRUE(result.has_value());
  const std::vector<float> &y = (*result)[0].f;

  double worstUlps = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float xi = x[i], yi = y[i];
    if (std::isnan(xi)) {
      EXPECT_TRUE(std::isnan(yi)) << "exp(NaN) = " << yi;
      continue;
    }
    if (xi == 0.0f) {
      EXPECT_EQ(yi, 1.0f) << "exp(" << xi << ")";
      continue;
    }
    // Below -126.5 ln 2 (about -87.68): exactly 0 (-inf included, the
    // softmax's masked scores).
    if (xi < -87.69f) {
      EXPECT_EQ(yi, 0.0f) << "exp(" << xi << ")";
      continue;
    }
    const double expected = std::exp(static_cast<double>(xi));
    if (expected < 0x1p-126) { // not promised: 0 or a subnormal scale
      EXPECT_GE(yi, 0.0f);
      EXPECT_LE(yi, 0x1p-126f);
      continue;
    }
    // Error in units in the last place of the f32 result.
    const double ulp = std::ldexp(1.0, std::ilogb(expected) - 23);
    const double ulps = std::fabs(static_cast<double>(yi) - expected) / ulp;
    worstUlps = std::max(worstUlps, ulps);
    EXPECT_LE(ulps, 2.0) << "exp(" << xi << ") = " << yi << ", expected "
                         << expected;
  }
  std::printf("exp: %lld values, worst error %.3f ulp\n",
              static_cast<long long>(n), worstUlps);
}

} // namespace

