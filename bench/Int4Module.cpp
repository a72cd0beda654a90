//===- Int4Module.cpp - the int4 weight-only matmul the benches time ------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "Int4Module.h"

#include "dialects/Qlow/IR/QlowOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"

#include <cassert>

using namespace mlir;

namespace qlow::bench {

OwningOpRef<ModuleOp> buildInt4WeightOnlyModule(
    MLIRContext &ctx, StringRef name, int64_t m, int64_t k, int64_t n,
    int64_t group, ArrayRef<int8_t> weights, ArrayRef<float> scales,
    unsigned bits) {
  assert((bits == 4 || bits == 8) && "4- or 8-bit weights");
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  Type f32 = b.getF32Type(), i4 = b.getIntegerType(bits);
  const int64_t lo = -(int64_t{1} << (bits - 1)), hi = -lo - 1;
  int64_t groups = k / group;
  auto scaleAttr = DenseElementsAttr::get(
      RankedTensorType::get({groups, n}, f32), scales);
  auto zeroAttr = DenseElementsAttr::get(RankedTensorType::get({groups, n}, i4),
                                         APInt(bits, 0));
  auto rhsQ = quant::UniformQuantizedSubChannelType::get(
      quant::QuantizationFlags::Signed, i4, f32, scaleAttr, zeroAttr, {0, 1},
      {group, 1}, lo, hi);
  auto lhsType = RankedTensorType::get({m, k}, f32);
  auto outType = RankedTensorType::get({m, n}, f32);
  auto func = func::FuncOp::create(b, loc, name,
                                   b.getFunctionType({lhsType}, {outType}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  SmallVector<APInt> values;
  values.reserve(weights.size());
  for (int8_t v : weights)
    values.push_back(
        APInt(bits, static_cast<uint64_t>(v), /*isSigned=*/true));
  Value w = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(RankedTensorType::get({k, n}, i4), values));
  Value wq = quant::StorageCastOp::create(
      b, loc, RankedTensorType::get({k, n}, rhsQ), w);
  auto dynamic = mlir::qlow::DynamicQuantAttr::get(
      &ctx, mlir::qlow::DynamicGranularity::PerRow,
      mlir::qlow::DynamicStorage::I8, mlir::qlow::QuantScheme::Symmetric);
  Value y = mlir::qlow::MatmulOp::create(
      b, loc, outType, body->getArgument(0), wq, Value(),
      mlir::qlow::RoundingMode::FixedPoint, dynamic);
  func::ReturnOp::create(b, loc, y);
  return module;
}

} // namespace qlow::bench
