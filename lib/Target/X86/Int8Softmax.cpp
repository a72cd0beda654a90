//===- Int8Softmax.cpp - 8-bit quantized softmax rows in registers --------===//
//
// qlow-x86-int8-softmax: a qlow.softmax along the last axis whose input and
// result are quantized per tensor with 8-bit storage becomes one scf.forall
// over the rows; each row's stored integers, exponentials and results stay in
// vector registers (one read of the input, one write of the result). See the
// pass description in Passes.td for the arithmetic and its accuracy.
//
//===----------------------------------------------------------------------===//

#include "AttentionKernels.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "dialects/QlowX86/IR/QlowX86Dialect.h"
#include "qlow/Target/TargetDesc.h"
#include "qlow/Target/X86/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

#define DEBUG_TYPE "qlow-x86-int8-softmax"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWX86INT8SOFTMAXPASS
#include "qlow/Target/X86/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

namespace {

/// Most f32 vectors of a row: the row's exponentials stay in registers.
constexpr int64_t kMaxRowVectors = 16;

/// The per-tensor quantized type of `type` with 8-bit storage and a positive
/// scale, or null.
quant::UniformQuantizedType byteQuantized(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return nullptr;
  auto q = dyn_cast<quant::UniformQuantizedType>(tensor.getElementType());
  if (!q || q.getStorageTypeIntegralWidth() != 8 || !(q.getScale() > 0.0) ||
      !q.getExpressedType().isF32())
    return nullptr;
  return q;
}

/// Why `op` is left to convert-qlow-to-linalg, or "" when this pass takes it.
std::string unsupportedReason(SoftmaxOp op, int64_t lanes) {
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  auto outType = cast<RankedTensorType>(op.getType());
  if (!inType.hasStaticShape() || !outType.hasStaticShape())
    return "dynamic shapes";
  if (!byteQuantized(inType) || !byteQuantized(outType))
    return "input and result must be quantized per tensor with 8-bit storage "
           "and f32 expressed type";
  int64_t rank = inType.getRank();
  int64_t axis = static_cast<int64_t>(op.getAxis());
  if (axis < 0)
    axis += rank;
  if (axis != rank - 1)
    return "the softmax is not along the last axis";
  int64_t last = inType.getShape().back();
  if (last % lanes != 0 || last / lanes > kMaxRowVectors || last == 0)
    return "the last dimension (" + std::to_string(last) +
           ") is not a multiple of " + std::to_string(lanes) +
           " f32 lanes of at most " + std::to_string(kMaxRowVectors) +
           " vectors";
  return "";
}

/// Builds the kernel of `op` (checked by unsupportedReason) and returns its
/// quantized result.
Value buildInt8Softmax(RewriterBase &rewriter, SoftmaxOp op, int64_t lanes) {
  Location loc = op.getLoc();
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  auto outType = cast<RankedTensorType>(op.getType());
  quant::UniformQuantizedType inQ = byteQuantized(inType);
  quant::UniformQuantizedType outQ = byteQuantized(outType);
  ArrayRef<int64_t> shape = inType.getShape();
  const int64_t rank = inType.getRank(), last = shape.back();
  int64_t rows = 1;
  for (int64_t d : shape.drop_back())
    rows *= d;

  Type i8 = rewriter.getI8Type(), i32 = rewriter.getI32Type(),
       f32 = rewriter.getF32Type();
  auto storage = RankedTensorType::get(shape, i8);
  auto matrix = RankedTensorType::get({rows, last}, i8);
  Value q = quant::StorageCastOp::create(rewriter, loc, storage, op.getInput());
  // The [rows, last] matrix of the stored integers.
  SmallVector<ReassociationIndices> reassociation;
  if (rank == 1) {
    reassociation = {{0, 1}};
    q = tensor::ExpandShapeOp::create(rewriter, loc, matrix, q, reassociation);
  } else if (rank > 2) {
    ReassociationIndices leading;
    for (int64_t d = 0; d + 1 < rank; ++d)
      leading.push_back(d);
    reassociation = {leading, {rank - 1}};
    q = tensor::CollapseShapeOp::create(rewriter, loc, q, reassociation);
  }

  Value empty = tensor::EmptyOp::create(rewriter, loc, matrix.getShape(), i8);
  auto forall = scf::ForallOp::create(
      rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(rows)},
      ValueRange{empty}, std::nullopt);
  OpBuilder b = OpBuilder::atBlockBegin(forall.getBody());
  Value row = forall.getInductionVars()[0];
  Value zeroIdx = arith::ConstantIndexOp::create(b, loc, 0);
  const int64_t chunks = last / lanes;
  auto bytesType = VectorType::get({lanes}, i8);
  auto intsType = VectorType::get({lanes}, i32);
  auto floatsType = VectorType::get({lanes}, f32);
  auto splatF32 = [&](double value) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(floatsType, b.getF32FloatAttr(value)));
  };
  const bool inSigned = inQ.isSigned();
  const float inScale = static_cast<float>(inQ.getScale());

  // The row's stored integers, one vector per `lanes` columns, and their
  // maximum (lane-wise over the vectors, then across the lanes).
  Value pad = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  SmallVector<Value> bytes;
  for (int64_t c = 0; c < chunks; ++c)
    bytes.push_back(vector::TransferReadOp::create(
        b, loc, bytesType, q,
        ValueRange{row, arith::ConstantIndexOp::create(b, loc, c * lanes)}, pad,
        ArrayRef<bool>{true}));
  Value laneMax = bytes.front();
  for (Value v : ArrayRef<Value>(bytes).drop_front())
    laneMax = inSigned ? arith::MaxSIOp::create(b, loc, laneMax, v).getResult()
                       : arith::MaxUIOp::create(b, loc, laneMax, v).getResult();
  Value max = vector::ReductionOp::create(
      b, loc,
      inSigned ? vector::CombiningKind::MAXSI : vector::CombiningKind::MAXUI,
      laneMax);
  auto widen = [&](Value v, Type type) -> Value {
    if (inSigned)
      return arith::ExtSIOp::create(b, loc, type, v);
    return arith::ExtUIOp::create(b, loc, type, v);
  };
  Value maxInts =
      vector::BroadcastOp::create(b, loc, intsType, widen(max, i32));

  // e = exp(s * (q - qm)) = exp(-s * d) with d = qm - q in [0, 255]. With 16
  // lanes (AVX-512), the product of two vpermps lookups in 16-entry tables,
  // exp(-16 s (d >> 4)) * exp(-s (d & 15)), each exp rounded once from
  // double (within 1.5 ulp); otherwise math.exp (a polynomial after
  // qlow-approximate-math).
  const bool tables = lanes == 16;
  Value high, low;
  if (tables) {
    SmallVector<float> highValues, lowValues;
    for (int64_t i = 0; i < 16; ++i) {
      highValues.push_back(static_cast<float>(
          std::exp(-16.0 * static_cast<double>(inScale) * i)));
      lowValues.push_back(
          static_cast<float>(std::exp(-static_cast<double>(inScale) * i)));
    }
    high = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(floatsType, ArrayRef<float>(highValues)));
    low = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(floatsType, ArrayRef<float>(lowValues)));
  }
  Value four = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(intsType, b.getI32IntegerAttr(4)));
  SmallVector<Value> exps;
  for (Value v : bytes) {
    Value d = arith::SubIOp::create(b, loc, maxInts, widen(v, intsType));
    if (tables) {
      Value hi = x86::PermuteF32Op::create(
          b, loc, floatsType, arith::ShRUIOp::create(b, loc, d, four), high);
      Value lo = x86::PermuteF32Op::create(b, loc, floatsType, d, low);
      exps.push_back(arith::MulFOp::create(b, loc, hi, lo));
    } else {
      Value x = arith::MulFOp::create(
          b, loc, arith::SIToFPOp::create(b, loc, floatsType, d),
          splatF32(-static_cast<double>(inScale)));
      exps.push_back(math::ExpOp::create(b, loc, x));
    }
  }
  // Their sum: lane-wise over the vectors (pairwise), then across lanes.
  Value lanewise = pairwiseSum(b, loc, exps);
  Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                          lanewise, /*acc=*/Value(),
                                          arith::FastMathFlags::reassoc);
  // 1 / (sum * s_out): one division per row, then a multiplication each.
  Value outScale = arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(static_cast<float>(outQ.getScale())));
  Value one = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0f));
  Value inverse = vector::BroadcastOp::create(
      b, loc, floatsType,
      arith::DivFOp::create(b, loc, one,
                            arith::MulFOp::create(b, loc, sum, outScale)));
  Value zeroPoint = splatF32(static_cast<double>(outQ.getZeroPoint()));
  Value lowest = splatF32(static_cast<double>(outQ.getStorageTypeMin()));
  Value highest = splatF32(static_cast<double>(outQ.getStorageTypeMax()));

  // Written into the row of the shared result: saturate(roundeven(y) +
  // z_out), as qlow.quantize rounds; in [qmin, qmax] of either signedness,
  // so fptosi to i32 and truncation give the stored bits.
  SmallVector<OpFoldResult> offsets = {row, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(last)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  auto rowType = RankedTensorType::get({1, last}, i8);
  Value slice = tensor::ExtractSliceOp::create(
      b, loc, rowType, forall.getRegionIterArgs()[0], offsets, sizes, strides);
  for (int64_t c = 0; c < chunks; ++c) {
    Value y = arith::MulFOp::create(b, loc, exps[c], inverse);
    y = math::RoundEvenOp::create(b, loc, y);
    y = arith::AddFOp::create(b, loc, y, zeroPoint);
    y = arith::MaximumFOp::create(b, loc, y, lowest);
    y = arith::MinimumFOp::create(b, loc, y, highest);
    Value stored = arith::TruncIOp::create(
        b, loc, bytesType, arith::FPToSIOp::create(b, loc, intsType, y));
    slice = vector::TransferWriteOp::create(
                b, loc, stored, slice,
                ValueRange{zeroIdx,
                           arith::ConstantIndexOp::create(b, loc, c * lanes)},
                ArrayRef<bool>{true})
                .getResult();
  }
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      tb, loc, slice, forall.getRegionIterArgs()[0], offsets, sizes, strides);

  Value result = forall.getResult(0);
  if (rank == 1)
    result = tensor::CollapseShapeOp::create(rewriter, loc, storage, result,
                                             reassociation);
  else if (rank > 2)
    result = tensor::ExpandShapeOp::create(rewriter, loc, storage, result,
                                           reassociation);
  return quant::StorageCastOp::create(rewriter, loc, outType, result);
}

struct QlowX86Int8SoftmaxPass
    : qlow::impl::QlowX86Int8SoftmaxPassBase<QlowX86Int8SoftmaxPass> {
  using QlowX86Int8SoftmaxPassBase::QlowX86Int8SoftmaxPassBase;

  void runOnOperation() override {
    SmallVector<SoftmaxOp> ops;
    getOperation().walk([&](SoftmaxOp op) { ops.push_back(op); });
    if (ops.empty())
      return;
    std::string error;
    FailureOr<TargetDesc> desc = lookupTargetDesc("x86_64", cpu, &error);
    if (failed(desc)) {
      getOperation().emitError() << error;
      return signalPassFailure();
    }
    const int64_t lanes = desc->vectorBits / 32;
    IRRewriter rewriter(&getContext());
    for (SoftmaxOp op : ops) {
      std::string reason = unsupportedReason(op, lanes);
      if (!reason.empty()) {
        if (report)
          op.emitRemark() << "qlow-x86-int8-softmax leaves this softmax to "
                             "convert-qlow-to-linalg: "
                          << reason;
        continue;
      }
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(op, buildInt8Softmax(rewriter, op, lanes));
    }
  }
};

} // namespace
