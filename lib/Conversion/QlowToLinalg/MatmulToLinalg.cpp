//===- MatmulToLinalg.cpp - qlow.matmul to linalg -------------------------===//
//
// Lowers qlow.matmul to a contraction linalg.generic on storage integers (or
// f32) followed by an elementwise epilogue: zero-point corrections, bias,
// requantization or dequantization.
//
//===----------------------------------------------------------------------===//

#include "Common.h"
#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Conversion/QlowToLinalg.h"
#include "qlow/Reference/Arithmetic.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <limits>

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::qlow::lowering;

namespace {

/// Loop layout of a matmul with `batch` batch dimensions: (b..., m, n, k).
struct MatmulLoops {
  unsigned batch;
  unsigned m() const { return batch; }
  unsigned n() const { return batch + 1; }
  unsigned k() const { return batch + 2; }
  unsigned count() const { return batch + 3; }
};

/// An affine map over `numLoops` loops selecting `dims`.
AffineMap selectLoops(MLIRContext *context, unsigned numLoops,
                      ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, context));
  return AffineMap::get(numLoops, 0, exprs, context);
}

/// Batch loop indices 0..batch-1 followed by `rest`.
SmallVector<unsigned> batchThen(unsigned batch, ArrayRef<unsigned> rest) {
  SmallVector<unsigned> dims;
  for (unsigned b = 0; b < batch; ++b)
    dims.push_back(b);
  llvm::append_range(dims, rest);
  return dims;
}

/// A zero-filled tensor of `shape` and `elementType`.
Value zeroTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                 Type elementType) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, elementType);
  Value zero = scalarConstant(b, loc, elementType, 0.0);
  return linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{empty})
      .getResult(0);
}

/// sum over the loops marked reduction of ext(lhs) * ext(rhs) (or the f32
/// product), as one linalg.generic. For integers the sum is in i32 and wraps:
/// the callers prove that the corrected result fits, and modulo 2^32 it is
/// then exact.
Value buildContraction(OpBuilder &b, Location loc, Value lhs, Value rhs,
                       bool lhsSigned, bool rhsSigned, RankedTensorType accType,
                       ArrayRef<AffineMap> maps,
                       ArrayRef<utils::IteratorType> iterators) {
  Type accElement = accType.getElementType();
  Value init = zeroTensor(b, loc, accType.getShape(), accElement);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{accType}, ValueRange{lhs, rhs}, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value product;
        if (accElement.isF32()) {
          product = arith::MulFOp::create(nb, nl, args[0], args[1]);
          linalg::YieldOp::create(
              nb, nl,
              ValueRange{arith::AddFOp::create(nb, nl, args[2], product)});
          return;
        }
        Value a = extendStorage(nb, nl, args[0], lhsSigned, accElement);
        Value w = extendStorage(nb, nl, args[1], rhsSigned, accElement);
        product = arith::MulIOp::create(nb, nl, a, w);
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{arith::AddIOp::create(nb, nl, args[2], product)});
      });
  return generic.getResult(0);
}

/// The 8-bit storage `value` with every sign bit flipped (x ^ 0x80): u8 q as
/// s8 q - 128, or s8 q as u8 q + 128.
static Value flipSignBits(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  unsigned rank = type.getRank();
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(),
                                       type.getElementType());
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> parallel(rank,
                                            utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{value}, ValueRange{init},
             maps, parallel,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value bit = arith::ConstantOp::create(
                   nb, l, nb.getIntegerAttr(type.getElementType(), 0x80));
               linalg::YieldOp::create(
                   nb, l, ValueRange{arith::XOrIOp::create(nb, l, args[0], bit)});
             })
      .getResult(0);
}

/// Column sums over K of a constant rank-2 weight, computed here at compile
/// time so that the inner loop never sees the zero-point correction.
std::optional<SmallVector<double>> constantColumnSums(Value weights,
                                                      bool isSigned) {
  DenseIntElementsAttr attr;
  if (!matchPattern(weights, m_Constant(&attr)))
    return std::nullopt;
  auto type = cast<RankedTensorType>(attr.getType());
  if (type.getRank() != 2)
    return std::nullopt;
  int64_t k = type.getDimSize(0), n = type.getDimSize(1);
  SmallVector<double> sums(n, 0.0);
  auto values = attr.getValues<APInt>();
  auto it = values.begin();
  for (int64_t row = 0; row < k; ++row)
    for (int64_t col = 0; col < n; ++col, ++it)
      sums[col] += isSigned ? (*it).getSExtValue()
                            : static_cast<double>((*it).getZExtValue());
  return sums;
}

} // namespace

LogicalResult mlir::qlow::checkAccumulatorBound(MatmulOp op, bool emitErrors) {
  FailureOr<QuantInfo> lhs = getQuantInfo(op.getLhs().getType());
  FailureOr<QuantInfo> rhs = getQuantInfo(op.getRhs().getType());
  if (failed(lhs) || failed(rhs))
    return success(); // Float, weight-only or blocked: no i32 accumulator.
  auto maxAbsDiff = [](const QuantInfo &info) {
    int64_t worst = 0;
    for (int64_t z : info.zeroPoints)
      worst =
          std::max({worst, std::abs(info.qmax - z), std::abs(info.qmin - z)});
    return worst;
  };
  auto lhsType = op.getLhs().getType();
  int64_t k = lhsType.getDimSize(lhsType.getRank() - 1);
  double worstCase =
      static_cast<double>(k) * maxAbsDiff(*lhs) * maxAbsDiff(*rhs);
  if (worstCase <= std::numeric_limits<int32_t>::max())
    return success();
  if (emitErrors)
    op.emitOpError() << "K = " << k
                     << " can overflow the i32 accumulator (worst case |sum| = "
                     << static_cast<int64_t>(worstCase)
                     << "); split K into chunks whose partial sums are "
                        "requantized";
  return failure();
}

/// Sums the stored values of `operand` (extended to i32 by their signedness)
/// over its K dimension, `kDim` (the last for lhs, the second to last for
/// rhs): the run-time row sums of the activations, or column sums of weights
/// that are not constants.
Value mlir::qlow::buildSumOverK(OpBuilder &b, Location loc, Value operand,
                                unsigned kDim, bool isSigned) {
  auto type = cast<RankedTensorType>(operand.getType());
  unsigned rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + kDim);
  // Loops: the kept dimensions in order, then K.
  SmallVector<unsigned> operandDims;
  for (unsigned d = 0, kept = 0; d < rank; ++d)
    operandDims.push_back(d == kDim ? rank - 1 : kept++);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators[rank - 1] = utils::IteratorType::reduction;
  Value init = zeroTensor(b, loc, shape, b.getI32Type());
  MLIRContext *context = b.getContext();
  auto reduce = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{operand}, ValueRange{init},
      ArrayRef<AffineMap>{
          selectLoops(context, rank, operandDims),
          b.getMultiDimIdentityMap(rank).getMajorSubMap(rank - 1)},
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value v = extendStorage(nb, l, args[0], isSigned, nb.getI32Type());
        linalg::YieldOp::create(
            nb, l, ValueRange{arith::AddIOp::create(nb, l, args[1], v)});
      });
  return reduce.getResult(0);
}

FailureOr<WeightGroups> mlir::qlow::getWeightGroups(RankedTensorType rhsType) {
  int64_t rank = rhsType.getRank();
  int64_t k = rhsType.getDimSize(rank - 2), n = rhsType.getDimSize(rank - 1);
  WeightGroups g;
  g.n = n;
  g.groupSize = k;
  if (FailureOr<QuantInfo> info = getQuantInfo(rhsType); succeeded(info)) {
    g.bits = info->bits;
    g.isSigned = info->isSigned;
    for (int64_t j = 0; j < n; ++j) {
      g.scales.push_back(info->scale(j));
      g.zeroPoints.push_back(info->zeroPoint(j));
    }
    return g;
  }
  auto sub =
      dyn_cast<quant::UniformQuantizedSubChannelType>(rhsType.getElementType());
  if (!sub || rank != 2)
    return failure();
  g.bits = sub.getStorageTypeIntegralWidth();
  g.isSigned = sub.isSigned();
  ArrayRef<int64_t> scaleShape = sub.getScales().getType().getShape();
  if (scaleShape.size() != 2 || scaleShape[0] <= 0 || scaleShape[1] <= 0 ||
      k % scaleShape[0] != 0 || n % scaleShape[1] != 0)
    return failure();
  g.groups = scaleShape[0];
  g.groupSize = k / g.groups;
  int64_t blockN = n / scaleShape[1];
  SmallVector<double> scales;
  for (APFloat v : sub.getScales().getValues<APFloat>())
    scales.push_back(v.convertToDouble());
  SmallVector<int64_t> zeroPoints;
  // The zero points are stored in the storage type: u4's 8 reads as -8 when
  // sign-extended.
  for (APInt v : sub.getZeroPoints().getValues<APInt>())
    zeroPoints.push_back(g.isSigned ? v.getSExtValue()
                                    : static_cast<int64_t>(v.getZExtValue()));
  for (int64_t grp = 0; grp < g.groups; ++grp)
    for (int64_t j = 0; j < n; ++j) {
      int64_t at = grp * scaleShape[1] + j / blockN;
      g.scales.push_back(scales[at]);
      g.zeroPoints.push_back(zeroPoints[at]);
    }
  return g;
}

namespace {

/// Column sums of constant rank-2 weights per group of `groupSize` rows, laid
/// out [groups, n].
std::optional<SmallVector<double>>
constantGroupColumnSums(Value weights, bool isSigned, int64_t groupSize) {
  DenseIntElementsAttr attr;
  if (!matchPattern(weights, m_Constant(&attr)))
    return std::nullopt;
  auto type = cast<RankedTensorType>(attr.getType());
  if (type.getRank() != 2)
    return std::nullopt;
  int64_t k = type.getDimSize(0), n = type.getDimSize(1);
  SmallVector<double> sums((k / groupSize) * n, 0.0);
  auto it = attr.getValues<APInt>().begin();
  for (int64_t row = 0; row < k; ++row)
    for (int64_t col = 0; col < n; ++col, ++it)
      sums[(row / groupSize) * n + col] +=
          isSigned ? (*it).getSExtValue()
                   : static_cast<double>((*it).getZExtValue());
  return sums;
}

/// An f32 `x < y ? y : x`, as std::max picks (the reference's choice on ties
/// and signed zeros).
Value selectMax(OpBuilder &b, Location loc, Value x, Value y) {
  Value less = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, y);
  return arith::SelectOp::create(b, loc, less, y, x);
}

} // namespace

/// Builds #qlow.dynamic's quantization of `x` (f32 [..., M, K]) as three
/// linalg.generics: the range (a reduction), the parameters per row, and the
/// quantization. The arithmetic follows ref::dynamicQuantize step by step.
DynamicQuantized mlir::qlow::buildDynamicQuantize(OpBuilder &b, Location loc,
                                                  Value x,
                                                  DynamicQuantAttr attr) {
  MLIRContext *context = b.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  unsigned rank = xType.getRank();
  bool perRow = attr.getGranularity() == DynamicGranularity::PerRow;
  bool symmetric = attr.getScheme() == QuantScheme::Symmetric;
  DynamicQuantized out;
  out.isSigned = attr.getStorage() == DynamicStorage::I8;
  out.qmin = out.isSigned ? -128 : 0;
  out.qmax = out.isSigned ? 127 : 255;
  Type f32 = b.getF32Type(), i32 = b.getI32Type(), i8 = b.getI8Type();

  // 1. lo = min(0, min V), hi = max(0, max V) per row or over the tensor.
  SmallVector<int64_t> rowShape(xType.getShape().drop_back());
  SmallVector<int64_t> rangeShape = perRow ? rowShape : SmallVector<int64_t>();
  SmallVector<unsigned> rangeDims;
  if (perRow)
    for (unsigned d = 0; d + 1 < rank; ++d)
      rangeDims.push_back(d);
  SmallVector<utils::IteratorType> rangeIterators(
      rank,
      perRow ? utils::IteratorType::parallel : utils::IteratorType::reduction);
  rangeIterators[rank - 1] = utils::IteratorType::reduction;
  // minnum/maxnum: the same values as the reference's std::min/max on
  // finite inputs (only the sign of a zero may differ, which changes no
  // scale or zero point), and combiners that vectorize. Both are
  // commutative and associative up to that sign, so any order of the
  // reduction gives the same parameters.
  auto minMax = [](OpBuilder &nb, Location l, ValueRange args) {
    linalg::YieldOp::create(
        nb, l,
        ValueRange{arith::MinNumFOp::create(nb, l, args[1], args[0]),
                   arith::MaxNumFOp::create(nb, l, args[2], args[0])});
  };
  Value lo, hi;
  if (!perRow && rank >= 2) {
    // Per tensor: the range of each row of the [rows, K] matrix (an inner
    // reduction, which qlow-vectorize-elementwise vectorizes; a reduction
    // over every loop would stay a scalar loop), then of the rows' ranges.
    Value matrix = x;
    int64_t rows = 1;
    for (unsigned d = 0; d + 1 < rank; ++d)
      rows *= xType.getDimSize(d);
    if (rank > 2) {
      ReassociationIndices leading;
      for (unsigned d = 0; d + 1 < rank; ++d)
        leading.push_back(d);
      matrix = tensor::CollapseShapeOp::create(
          b, loc, x,
          ArrayRef<ReassociationIndices>{
              leading, {static_cast<int64_t>(rank) - 1}});
    }
    Value zeroRows = zeroTensor(b, loc, {rows}, f32);
    AffineMap rowOf = selectLoops(context, 2, {0});
    auto rowRange = linalg::GenericOp::create(
        b, loc, TypeRange{zeroRows.getType(), zeroRows.getType()},
        ValueRange{matrix}, ValueRange{zeroRows, zeroRows},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(2), rowOf, rowOf},
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::reduction},
        minMax);
    Value zeroScalar = zeroTensor(b, loc, {}, f32);
    AffineMap all = b.getMultiDimIdentityMap(1);
    AffineMap none = AffineMap::get(1, 0, {}, context);
    auto range = linalg::GenericOp::create(
        b, loc, TypeRange{zeroScalar.getType(), zeroScalar.getType()},
        ValueRange{rowRange.getResult(0), rowRange.getResult(1)},
        ValueRange{zeroScalar, zeroScalar},
        ArrayRef<AffineMap>{all, all, none, none},
        ArrayRef<utils::IteratorType>{utils::IteratorType::reduction},
        [&](OpBuilder &nb, Location l, ValueRange args) {
          linalg::YieldOp::create(
              nb, l,
              ValueRange{arith::MinNumFOp::create(nb, l, args[2], args[0]),
                         arith::MaxNumFOp::create(nb, l, args[3], args[1])});
        });
    lo = range.getResult(0);
    hi = range.getResult(1);
  } else {
    Value zeroRange = zeroTensor(b, loc, rangeShape, f32);
    AffineMap rangeMap = selectLoops(context, rank, rangeDims);
    auto range = linalg::GenericOp::create(
        b, loc, TypeRange{zeroRange.getType(), zeroRange.getType()},
        ValueRange{x}, ValueRange{zeroRange, zeroRange},
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank), rangeMap,
                            rangeMap},
        rangeIterators, minMax);
    lo = range.getResult(0);
    hi = range.getResult(1);
  }

  // 2. scale and zero point, per row (the per-tensor values broadcast).
  unsigned rowRank = rank - 1;
  SmallVector<unsigned> rowDims;
  if (perRow)
    for (unsigned d = 0; d < rowRank; ++d)
      rowDims.push_back(d);
  AffineMap fromRange = selectLoops(context, rowRank, rowDims);
  Value scaleInit = tensor::EmptyOp::create(b, loc, rowShape, f32);
  Value zpInit = tensor::EmptyOp::create(b, loc, rowShape, i32);
  SmallVector<utils::IteratorType> rowParallel(rowRank,
                                               utils::IteratorType::parallel);
  auto params = linalg::GenericOp::create(
      b, loc, TypeRange{scaleInit.getType(), zpInit.getType()},
      ValueRange{lo, hi}, ValueRange{scaleInit, zpInit},
      ArrayRef<AffineMap>{fromRange, fromRange,
                          b.getMultiDimIdentityMap(rowRank),
                          b.getMultiDimIdentityMap(rowRank)},
      rowParallel, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value lo = args[0], hi = args[1];
        Value scale, zp;
        if (symmetric) {
          Value amax = selectMax(nb, l, arith::NegFOp::create(nb, l, lo), hi);
          scale = arith::DivFOp::create(
              nb, l, amax,
              scalarConstant(nb, l, f32, static_cast<double>(out.qmax)));
        } else {
          scale = arith::DivFOp::create(
              nb, l, arith::SubFOp::create(nb, l, hi, lo),
              scalarConstant(nb, l, f32,
                             static_cast<double>(out.qmax - out.qmin)));
        }
        Value isZero =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, scale,
                                  scalarConstant(nb, l, f32, 0.0));
        scale = arith::SelectOp::create(nb, l, isZero,
                                        scalarConstant(nb, l, f32, 1.0), scale);
        if (symmetric) {
          zp = scalarConstant(nb, l, i32, 0.0);
        } else {
          // saturate(roundHalfEven(qmin - lo / scale)): the value is within
          // [qmin, qmax] up to rounding, so clamping in f32 is exact.
          Value v = arith::SubFOp::create(
              nb, l, scalarConstant(nb, l, f32, static_cast<double>(out.qmin)),
              arith::DivFOp::create(nb, l, lo, scale));
          v = math::RoundEvenOp::create(nb, l, v);
          v = arith::MinimumFOp::create(
              nb, l,
              arith::MaximumFOp::create(
                  nb, l, v,
                  scalarConstant(nb, l, f32, static_cast<double>(out.qmin))),
              scalarConstant(nb, l, f32, static_cast<double>(out.qmax)));
          zp = arith::FPToSIOp::create(nb, l, i32, v);
        }
        linalg::YieldOp::create(nb, l, ValueRange{scale, zp});
      });
  out.scale = params.getResult(0);
  out.zeroPoint = params.getResult(1);

  // 3. q = saturate(roundHalfEven(x / scale) + zp).
  SmallVector<unsigned> rowsOfX;
  for (unsigned d = 0; d < rowRank; ++d)
    rowsOfX.push_back(d);
  AffineMap rowMap = selectLoops(context, rank, rowsOfX);
  Value qInit = tensor::EmptyOp::create(b, loc, xType.getShape(), i8);
  SmallVector<utils::IteratorType> parallel(rank,
                                            utils::IteratorType::parallel);
  auto quantize = linalg::GenericOp::create(
      b, loc, TypeRange{qInit.getType()},
      ValueRange{x, out.scale, out.zeroPoint}, ValueRange{qInit},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank), rowMap, rowMap,
                          b.getMultiDimIdentityMap(rank)},
      parallel, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value v = arith::DivFOp::create(nb, l, args[0], args[1]);
        Value zp = arith::ExtSIOp::create(nb, l, nb.getI64Type(), args[2]);
        linalg::YieldOp::create(
            nb, l,
            ValueRange{roundToQuantized(nb, l, v, zp, out.qmin, out.qmax, 8)});
      });
  out.q = quantize.getResult(0);
  return out;
}

namespace {

struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getDynamicAttr())
      return lowerDynamic(op, adaptor, rewriter);
    if (op.getLhs().getType().getElementType().isF32())
      return lowerFloat(op, adaptor, rewriter);
    return lowerInteger(op, adaptor, rewriter);
  }

private:
  /// Maps of lhs, rhs and the accumulator over (b..., m, n, k).
  static SmallVector<AffineMap>
  contractionMaps(MLIRContext *context, MatmulLoops loops, bool rhsBatched) {
    unsigned count = loops.count();
    return {selectLoops(context, count,
                        batchThen(loops.batch, {loops.m(), loops.k()})),
            selectLoops(context, count,
                        rhsBatched
                            ? batchThen(loops.batch, {loops.k(), loops.n()})
                            : SmallVector<unsigned>{loops.k(), loops.n()}),
            selectLoops(context, count,
                        batchThen(loops.batch, {loops.m(), loops.n()}))};
  }

  static SmallVector<utils::IteratorType>
  contractionIterators(MatmulLoops loops) {
    SmallVector<utils::IteratorType> iterators(loops.count(),
                                               utils::IteratorType::parallel);
    iterators[loops.k()] = utils::IteratorType::reduction;
    return iterators;
  }

  LogicalResult lowerFloat(MatmulOp op, OpAdaptor adaptor,
                           ConversionPatternRewriter &rewriter) const;
  LogicalResult lowerInteger(MatmulOp op, OpAdaptor adaptor,
                             ConversionPatternRewriter &rewriter) const;
  LogicalResult lowerDynamic(MatmulOp op, OpAdaptor adaptor,
                             ConversionPatternRewriter &rewriter) const;
};

LogicalResult
MatmulLowering::lowerFloat(MatmulOp op, OpAdaptor adaptor,
                           ConversionPatternRewriter &rewriter) const {
  if (!op.getRhs().getType().getElementType().isF32())
    return rewriter.notifyMatchFailure(
        op, "weight-only quantized matmul is not lowered yet");
  Location loc = op.getLoc();
  RankedTensorType outType = op.getType();
  MatmulLoops loops{static_cast<unsigned>(outType.getRank() - 2)};
  MLIRContext *context = rewriter.getContext();
  bool rhsBatched = op.getRhs().getType().getRank() > 2;
  Value acc = buildContraction(
      rewriter, loc, adaptor.getLhs(), adaptor.getRhs(), true, true, outType,
      contractionMaps(context, loops, rhsBatched), contractionIterators(loops));
  if (!adaptor.getBias()) {
    rewriter.replaceOp(op, acc);
    return success();
  }
  // The bias is added after the k loop, as the reference does.
  unsigned rank = outType.getRank();
  AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
  AffineMap biasMap = selectLoops(context, rank, {rank - 1});
  SmallVector<utils::IteratorType> parallel(rank,
                                            utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{outType}, ValueRange{acc, adaptor.getBias()},
      ValueRange{acc}, ArrayRef<AffineMap>{identity, biasMap, identity},
      parallel, [&](OpBuilder &b, Location l, ValueRange args) {
        linalg::YieldOp::create(
            b, l, ValueRange{arith::AddFOp::create(b, l, args[0], args[1])});
      });
  rewriter.replaceOp(op, generic.getResult(0));
  return success();
}

LogicalResult
MatmulLowering::lowerInteger(MatmulOp op, OpAdaptor adaptor,
                             ConversionPatternRewriter &rewriter) const {
  FailureOr<QuantInfo> lhsInfo = getQuantInfo(op.getLhs().getType());
  FailureOr<QuantInfo> rhsInfo = getQuantInfo(op.getRhs().getType());
  if (failed(lhsInfo) || failed(rhsInfo))
    return rewriter.notifyMatchFailure(
        op, "blocked (sub-channel) weights are not lowered yet");
  RankedTensorType outType = op.getType();
  FailureOr<QuantInfo> outInfo = getQuantInfo(outType);
  bool quantizedResult = succeeded(outInfo);

  Location loc = op.getLoc();
  MLIRContext *context = rewriter.getContext();
  auto lhsType = op.getLhs().getType();
  auto rhsType = op.getRhs().getType();
  int64_t rank = outType.getRank();
  int64_t m = outType.getDimSize(rank - 2), n = outType.getDimSize(rank - 1);
  int64_t k = lhsType.getDimSize(lhsType.getRank() - 1);
  MatmulLoops loops{static_cast<unsigned>(rank - 2)};
  bool rhsBatched = rhsType.getRank() > 2;
  bool rowsVary = lhsInfo->axis >= 0;
  bool colsVary = rhsInfo->axis >= 0 || (quantizedResult && outInfo->axis >= 0);

  if (failed(checkAccumulatorBound(op, /*emitErrors=*/false)))
    return rewriter.notifyMatchFailure(op, "the i32 accumulator can overflow");

  // A product of two activations (weights per batch, known at run time)
  // takes the operand signs of the integer dot products, u8 x s8 (vpdpbusd,
  // usdot): an 8-bit operand of the other sign has its sign bit flipped,
  // which moves every stored value and the zero point by 128 and leaves the
  // real values, and so the result, unchanged. Constant weights need no
  // flip: their kernels shift s8 activations with compile-time column sums.
  Value lhsStorage = adaptor.getLhs(), rhsStorage = adaptor.getRhs();
  if (rhsBatched) {
    auto flip = [&](Value storage, QuantInfo &info, int64_t shift) {
      if (info.bits != 8)
        return storage;
      for (int64_t &z : info.zeroPoints)
        z += shift;
      info.qmin += shift;
      info.qmax += shift;
      info.isSigned = !info.isSigned;
      return flipSignBits(rewriter, loc, storage);
    };
    if (lhsInfo->isSigned)
      lhsStorage = flip(lhsStorage, *lhsInfo, 128);
    if (!rhsInfo->isSigned)
      rhsStorage = flip(rhsStorage, *rhsInfo, -128);
  }

  // 1. The raw sum of products of the stored values.
  auto accType =
      RankedTensorType::get(outType.getShape(), rewriter.getI32Type());
  Value acc = buildContraction(
      rewriter, loc, lhsStorage, rhsStorage, lhsInfo->isSigned,
      rhsInfo->isSigned, accType, contractionMaps(context, loops, rhsBatched),
      contractionIterators(loops));

  // 2. Corrections for nonzero zero points:
  //    sum (a - za)(w - zw) = sum a*w - za*colsum(w) - zw*rowsum(a) + K*za*zw.
  unsigned epilogueLoops = rank;
  GenericParams params(rewriter, loc, epilogueLoops);
  SmallVector<Value> dataInputs = {acc};
  SmallVector<AffineMap> dataMaps = {rewriter.getMultiDimIdentityMap(rank)};
  unsigned mLoop = rank - 2, nLoop = rank - 1;

  bool needColSum = !lhsInfo->zeroPointsAllZero();
  bool needRowSum = !rhsInfo->zeroPointsAllZero();
  std::optional<unsigned> colSumParam, colSumInput, rowSumInput;
  if (needColSum) {
    std::optional<SmallVector<double>> sums =
        rhsBatched ? std::nullopt
                   : constantColumnSums(adaptor.getRhs(), rhsInfo->isSigned);
    if (sums) {
      colSumParam = params.add(rewriter.getI32Type(), *sums, {n}, {nLoop});
    } else {
      // Weights known only at run time: one reduction over K.
      Value sums = buildSumOverK(rewriter, loc, rhsStorage,
                                 rhsType.getRank() - 2, rhsInfo->isSigned);
      colSumInput = dataInputs.size();
      dataInputs.push_back(sums);
      dataMaps.push_back(selectLoops(context, rank,
                                     rhsBatched
                                         ? batchThen(loops.batch, {nLoop})
                                         : SmallVector<unsigned>{nLoop}));
    }
  }
  if (needRowSum) {
    rowSumInput = dataInputs.size();
    dataInputs.push_back(buildSumOverK(rewriter, loc, lhsStorage,
                                       lhsType.getRank() - 1,
                                       lhsInfo->isSigned));
    dataMaps.push_back(
        selectLoops(context, rank, batchThen(loops.batch, {mLoop})));
  }
  std::optional<unsigned> biasInput;
  if (adaptor.getBias()) {
    biasInput = dataInputs.size();
    dataInputs.push_back(adaptor.getBias());
    dataMaps.push_back(selectLoops(context, rank, {nLoop}));
  }

  // Parameters as tables over (m, n): each varies by row, by column, both or
  // neither.
  auto addTable = [&](Type type, function_ref<double(int64_t, int64_t)> fn,
                      bool byRow, bool byCol) {
    SmallVector<double> values;
    SmallVector<int64_t> shape;
    SmallVector<unsigned> dims;
    if (byRow) {
      shape.push_back(m);
      dims.push_back(mLoop);
    }
    if (byCol) {
      shape.push_back(n);
      dims.push_back(nLoop);
    }
    for (int64_t i = 0; i < (byRow ? m : 1); ++i)
      for (int64_t j = 0; j < (byCol ? n : 1); ++j)
        values.push_back(fn(i, j));
    return params.add(type, values, shape, dims);
  };
  Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type(),
       f32 = rewriter.getF32Type();
  const QuantInfo &a = *lhsInfo, &w = *rhsInfo;
  bool zwVaries = w.axis >= 0;
  unsigned hZa = addTable(
      i32,
      [&](int64_t i, int64_t) { return static_cast<double>(a.zeroPoint(i)); },
      rowsVary, false);
  unsigned hZw = addTable(
      i32,
      [&](int64_t, int64_t j) { return static_cast<double>(w.zeroPoint(j)); },
      false, zwVaries);
  unsigned hK = params.add(i32, {static_cast<double>(k)}, {}, {});

  enum class Epilogue { I32, F32, FixedPoint, Float } kind;
  std::optional<unsigned> hScale, hMult, hShift, hM, hZo;
  bool mayShiftLeft = true;
  int64_t qmin = 0, qmax = 0;
  unsigned bits = 32;
  if (quantizedResult) {
    const QuantInfo &o = *outInfo;
    qmin = o.qmin;
    qmax = o.qmax;
    bits = o.bits;
    auto multiplier = [&](int64_t i, int64_t j) {
      return a.scale(i) * w.scale(j) / o.scale(j);
    };
    hZo = addTable(
        i64,
        [&](int64_t, int64_t j) { return static_cast<double>(o.zeroPoint(j)); },
        false, o.axis >= 0);
    if (op.getRounding() == RoundingMode::FixedPoint) {
      kind = Epilogue::FixedPoint;
      // Derived by the same code as the oracle's, so the constants agree.
      SmallVector<ref::FixedPointMultiplier> fixed;
      mayShiftLeft = false;
      for (int64_t i = 0; i < (rowsVary ? m : 1); ++i)
        for (int64_t j = 0; j < (colsVary ? n : 1); ++j) {
          ref::Expected<ref::FixedPointMultiplier> qm =
              ref::quantizeMultiplier(multiplier(i, j));
          if (!qm.ok())
            return op.emitOpError() << qm.status.message();
          fixed.push_back(*qm);
          mayShiftLeft |= qm->shift > 0;
        }
      auto at = [&](int64_t i, int64_t j) -> const ref::FixedPointMultiplier & {
        return fixed[(rowsVary ? i : 0) * (colsVary ? n : 1) +
                     (colsVary ? j : 0)];
      };
      hMult = addTable(
          i32,
          [&](int64_t i, int64_t j) {
            return static_cast<double>(at(i, j).multiplier);
          },
          rowsVary, colsVary);
      hShift = addTable(
          i32,
          [&](int64_t i, int64_t j) {
            return static_cast<double>(at(i, j).shift);
          },
          rowsVary, colsVary);
    } else {
      kind = Epilogue::Float;
      hM = addTable(
          f32,
          [&](int64_t i, int64_t j) {
            return static_cast<double>(static_cast<float>(multiplier(i, j)));
          },
          rowsVary, colsVary);
    }
  } else if (outType.getElementType().isF32()) {
    kind = Epilogue::F32;
    hScale = addTable(
        f32,
        [&](int64_t i, int64_t j) {
          return static_cast<double>(
              static_cast<float>(a.scale(i) * w.scale(j)));
        },
        rowsVary, w.axis >= 0);
  } else {
    kind = Epilogue::I32;
  }

  // 3. The epilogue, one elementwise generic over (b..., m, n).
  auto resultType =
      cast<RankedTensorType>(getTypeConverter()->convertType(outType));
  SmallVector<Value> inputs = dataInputs;
  llvm::append_range(inputs, params.inputs());
  SmallVector<AffineMap> maps = dataMaps;
  llvm::append_range(maps, params.maps());
  maps.push_back(rewriter.getMultiDimIdentityMap(rank));
  Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                       resultType.getElementType());
  unsigned numData = dataInputs.size();
  SmallVector<utils::IteratorType> parallel(rank,
                                            utils::IteratorType::parallel);
  auto epilogue = linalg::GenericOp::create(
      rewriter, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
      parallel, [&](OpBuilder &b, Location l, ValueRange args) {
        auto get = [&](unsigned h) {
          return params.get(b, l, h, args, numData);
        };
        Value v = args[0];
        Value za = get(hZa), zw = get(hZw);
        if (colSumParam || colSumInput) {
          Value colSum = colSumParam ? get(*colSumParam) : args[*colSumInput];
          v = arith::SubIOp::create(b, l, v,
                                    arith::MulIOp::create(b, l, za, colSum));
        }
        if (rowSumInput) {
          v = arith::SubIOp::create(
              b, l, v, arith::MulIOp::create(b, l, zw, args[*rowSumInput]));
          Value kzz = arith::MulIOp::create(
              b, l, get(hK), arith::MulIOp::create(b, l, za, zw));
          v = arith::AddIOp::create(b, l, v, kzz);
        }
        if (biasInput)
          v = arith::AddIOp::create(b, l, v, args[*biasInput]);
        Value result;
        switch (kind) {
        case Epilogue::I32:
          result = v;
          break;
        case Epilogue::F32:
          result = arith::MulFOp::create(
              b, l, arith::SIToFPOp::create(b, l, b.getF32Type(), v),
              get(*hScale));
          break;
        case Epilogue::Float:
          // An i32 times a finite multiplier is never NaN.
          result = roundToQuantized(
              b, l,
              arith::MulFOp::create(
                  b, l, arith::SIToFPOp::create(b, l, b.getF32Type(), v),
                  get(*hM)),
              get(*hZo), qmin, qmax, bits, /*mayBeNaN=*/false);
          break;
        case Epilogue::FixedPoint: {
          Value scaled = multiplyByQuantizedMultiplier(
              b, l, v, get(*hMult), get(*hShift), mayShiftLeft);
          Value sum = arith::AddIOp::create(
              b, l, arith::ExtSIOp::create(b, l, b.getI64Type(), scaled),
              get(*hZo));
          result = saturateToStorage(b, l, sum, qmin, qmax, bits);
          break;
        }
        }
        linalg::YieldOp::create(b, l, result);
      });
  rewriter.replaceOp(op, epilogue.getResult(0));
  return success();
}

/// The zero-point corrections of a dynamic matmul's i32 sum over `count`
/// products: sum (q - za)(w - zw) = sum q*w - za*colsum - zw*rowsum +
/// count*za*zw. `za` and `colSum` are null for symmetric activations, `zw`
/// and `rowSum` for weights with zero points 0.
static Value correctZeroPoints(OpBuilder &b, Location l, Value acc, Value za,
                               Value colSum, Value zw, Value rowSum,
                               Value count) {
  Value v = acc;
  if (za)
    v = arith::SubIOp::create(b, l, v, arith::MulIOp::create(b, l, za, colSum));
  if (zw) {
    v = arith::SubIOp::create(b, l, v, arith::MulIOp::create(b, l, zw, rowSum));
    if (za)
      v = arith::AddIOp::create(
          b, l, v,
          arith::MulIOp::create(b, l, count,
                                arith::MulIOp::create(b, l, za, zw)));
  }
  return v;
}

LogicalResult
MatmulLowering::lowerDynamic(MatmulOp op, OpAdaptor adaptor,
                             ConversionPatternRewriter &rewriter) const {
  RankedTensorType rhsType = op.getRhs().getType();
  FailureOr<WeightGroups> weights = getWeightGroups(rhsType);
  if (failed(weights))
    return rewriter.notifyMatchFailure(
        op, "blocked weights must be rank 2 with blocks dividing K and N");
  const WeightGroups &w = *weights;
  Location loc = op.getLoc();
  MLIRContext *context = rewriter.getContext();
  RankedTensorType outType = op.getType();
  int64_t rank = outType.getRank();
  int64_t n = outType.getDimSize(rank - 1);
  int64_t k = op.getLhs().getType().getDimSize(rank - 1);
  bool rhsBatched = rhsType.getRank() > 2;
  unsigned batch = rank - 2;
  DynamicQuantAttr attr = op.getDynamicAttr();
  bool symmetric = attr.getScheme() == QuantScheme::Symmetric;

  // The i32 accumulator of one group cannot overflow: |q - zp| <= 255.
  double maxW = 0;
  int64_t wmin = w.isSigned ? -(int64_t(1) << (w.bits - 1)) : 0;
  int64_t wmax = w.isSigned ? (int64_t(1) << (w.bits - 1)) - 1
                            : (int64_t(1) << w.bits) - 1;
  for (int64_t z : w.zeroPoints)
    maxW = std::max<double>(
        {maxW, double(std::abs(wmax - z)), double(std::abs(wmin - z))});
  if (static_cast<double>(w.groupSize) * 255.0 * maxW >
      std::numeric_limits<int32_t>::max())
    return op.emitOpError()
           << "K = " << w.groupSize
           << " per group can overflow the i32 accumulator of a dynamic "
              "matmul; use groups along K";

  DynamicQuantized a =
      buildDynamicQuantize(rewriter, loc, adaptor.getLhs(), attr);
  Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
  auto f32Of = [](double v) {
    return static_cast<double>(static_cast<float>(v));
  };

  if (w.groups == 1) {
    // One contraction over K and one epilogue over (b..., m, n): the form
    // the int8 kernels of the targets pick up, with run-time row parameters.
    MatmulLoops loops{batch};
    auto accType = RankedTensorType::get(outType.getShape(), i32);
    Value acc = buildContraction(rewriter, loc, a.q, adaptor.getRhs(),
                                 a.isSigned, w.isSigned, accType,
                                 contractionMaps(context, loops, rhsBatched),
                                 contractionIterators(loops));
    unsigned mLoop = rank - 2, nLoop = rank - 1;
    GenericParams params(rewriter, loc, rank);
    SmallVector<Value> inputs = {acc, a.scale};
    SmallVector<AffineMap> maps = {
        rewriter.getMultiDimIdentityMap(rank),
        selectLoops(context, rank, batchThen(batch, {mLoop}))};
    std::optional<unsigned> zaInput, colSumInput, colSumParam, rowSumInput,
        biasInput;
    if (!symmetric) {
      zaInput = inputs.size();
      inputs.push_back(a.zeroPoint);
      maps.push_back(maps[1]);
      std::optional<SmallVector<double>> sums =
          rhsBatched ? std::nullopt
                     : constantColumnSums(adaptor.getRhs(), w.isSigned);
      if (sums) {
        colSumParam = params.add(i32, *sums, {n}, {nLoop});
      } else {
        colSumInput = inputs.size();
        inputs.push_back(buildSumOverK(rewriter, loc, adaptor.getRhs(),
                                       rhsType.getRank() - 2, w.isSigned));
        maps.push_back(selectLoops(context, rank,
                                   rhsBatched ? batchThen(batch, {nLoop})
                                              : SmallVector<unsigned>{nLoop}));
      }
    }
    if (!w.zeroPointsAllZero()) {
      rowSumInput = inputs.size();
      inputs.push_back(buildSumOverK(rewriter, loc, a.q, rank - 1, a.isSigned));
      maps.push_back(maps[1]);
    }
    if (adaptor.getBias()) {
      biasInput = inputs.size();
      inputs.push_back(adaptor.getBias());
      maps.push_back(selectLoops(context, rank, {nLoop}));
    }
    SmallVector<double> sw, zw;
    for (int64_t j = 0; j < n; ++j) {
      sw.push_back(f32Of(w.scales[j]));
      zw.push_back(static_cast<double>(w.zeroPoints[j]));
    }
    unsigned hSw = params.add(f32, sw, {n}, {nLoop});
    unsigned hZw = params.add(i32, zw, {n}, {nLoop});
    unsigned hK = params.add(i32, {static_cast<double>(k)}, {}, {});
    unsigned numData = inputs.size();
    llvm::append_range(inputs, params.inputs());
    llvm::append_range(maps, params.maps());
    maps.push_back(rewriter.getMultiDimIdentityMap(rank));
    Value init =
        tensor::EmptyOp::create(rewriter, loc, outType.getShape(), f32);
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    auto epilogue = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
        maps, parallel, [&](OpBuilder &b, Location l, ValueRange args) {
          auto get = [&](unsigned h) {
            return params.get(b, l, h, args, numData);
          };
          Value v = correctZeroPoints(
              b, l, args[0], zaInput ? args[*zaInput] : Value(),
              zaInput ? (colSumParam ? get(*colSumParam) : args[*colSumInput])
                      : Value(),
              rowSumInput ? get(hZw) : Value(),
              rowSumInput ? args[*rowSumInput] : Value(), get(hK));
          Value scale = arith::MulFOp::create(b, l, args[1], get(hSw));
          Value result = arith::MulFOp::create(
              b, l, arith::SIToFPOp::create(b, l, f32, v), scale);
          if (biasInput)
            result = arith::AddFOp::create(b, l, result, args[*biasInput]);
          linalg::YieldOp::create(b, l, result);
        });
    rewriter.replaceOp(op, epilogue.getResult(0));
    return success();
  }

  // Groups along K (rank-2 weights): the contraction keeps one i32 sum per
  // group, acc[b..., m, g, n], and a reduction over g then sums the scaled
  // groups in order, in f32, as the reference does.
  int64_t groups = w.groups, gs = w.groupSize;
  auto lhsType = cast<RankedTensorType>(a.q.getType());
  SmallVector<int64_t> lhsGrouped(lhsType.getShape().drop_back());
  lhsGrouped.append({groups, gs});
  SmallVector<ReassociationIndices> lhsReassoc;
  for (int64_t d = 0; d + 1 < rank; ++d)
    lhsReassoc.push_back({d});
  lhsReassoc.push_back({rank - 1, rank});
  Value qGrouped = tensor::ExpandShapeOp::create(
      rewriter, loc,
      RankedTensorType::get(lhsGrouped, lhsType.getElementType()), a.q,
      lhsReassoc);
  auto rhsStorage = cast<RankedTensorType>(adaptor.getRhs().getType());
  Value wGrouped = tensor::ExpandShapeOp::create(
      rewriter, loc,
      RankedTensorType::get({groups, gs, n}, rhsStorage.getElementType()),
      adaptor.getRhs(), SmallVector<ReassociationIndices>{{0, 1}, {2}});

  // Contraction loops (b..., m, g, n, kk).
  unsigned cm = batch, cg = batch + 1, cn = batch + 2, ck = batch + 3;
  unsigned cCount = batch + 4;
  SmallVector<int64_t> accShape(outType.getShape().drop_back(2));
  accShape.append({outType.getDimSize(rank - 2), groups, n});
  Value acc = buildContraction(
      rewriter, loc, qGrouped, wGrouped, a.isSigned, w.isSigned,
      RankedTensorType::get(accShape, i32),
      {selectLoops(context, cCount, batchThen(batch, {cm, cg, ck})),
       selectLoops(context, cCount, {cg, ck, cn}),
       selectLoops(context, cCount, batchThen(batch, {cm, cg, cn}))},
      [&] {
        SmallVector<utils::IteratorType> it(cCount,
                                            utils::IteratorType::parallel);
        it[ck] = utils::IteratorType::reduction;
        return it;
      }());

  // Reduction loops (b..., m, n, g).
  unsigned rm = batch, rn = batch + 1, rg = batch + 2, rCount = batch + 3;
  GenericParams params(rewriter, loc, rCount);
  SmallVector<Value> inputs = {acc, a.scale};
  SmallVector<AffineMap> maps = {
      selectLoops(context, rCount, batchThen(batch, {rm, rg, rn})),
      selectLoops(context, rCount, batchThen(batch, {rm}))};
  std::optional<unsigned> zaInput, colSumInput, colSumParam, rowSumInput;
  if (!symmetric) {
    zaInput = inputs.size();
    inputs.push_back(a.zeroPoint);
    maps.push_back(maps[1]);
    std::optional<SmallVector<double>> sums =
        constantGroupColumnSums(adaptor.getRhs(), w.isSigned, gs);
    if (sums) {
      colSumParam = params.add(i32, *sums, {groups, n}, {rg, rn});
    } else {
      colSumInput = inputs.size();
      inputs.push_back(buildSumOverK(rewriter, loc, wGrouped, 1, w.isSigned));
      maps.push_back(selectLoops(context, rCount, {rg, rn}));
    }
  }
  if (!w.zeroPointsAllZero()) {
    rowSumInput = inputs.size();
    inputs.push_back(buildSumOverK(rewriter, loc, qGrouped, rank, a.isSigned));
    maps.push_back(selectLoops(context, rCount, batchThen(batch, {rm, rg})));
  }
  SmallVector<double> sw, zw;
  for (int64_t i = 0; i < groups * n; ++i) {
    sw.push_back(f32Of(w.scales[i]));
    zw.push_back(static_cast<double>(w.zeroPoints[i]));
  }
  unsigned hSw = params.add(f32, sw, {groups, n}, {rg, rn});
  unsigned hZw = params.add(i32, zw, {groups, n}, {rg, rn});
  unsigned hGs = params.add(i32, {static_cast<double>(gs)}, {}, {});
  unsigned numData = inputs.size();
  llvm::append_range(inputs, params.inputs());
  llvm::append_range(maps, params.maps());
  maps.push_back(selectLoops(context, rCount, batchThen(batch, {rm, rn})));
  Value init = zeroTensor(rewriter, loc, outType.getShape(), f32);
  SmallVector<utils::IteratorType> iterators(rCount,
                                             utils::IteratorType::parallel);
  iterators[rg] = utils::IteratorType::reduction;
  auto reduce = linalg::GenericOp::create(
      rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &b, Location l, ValueRange args) {
        auto get = [&](unsigned h) {
          return params.get(b, l, h, args, numData);
        };
        Value v = correctZeroPoints(
            b, l, args[0], zaInput ? args[*zaInput] : Value(),
            zaInput ? (colSumParam ? get(*colSumParam) : args[*colSumInput])
                    : Value(),
            rowSumInput ? get(hZw) : Value(),
            rowSumInput ? args[*rowSumInput] : Value(), get(hGs));
        Value scale = arith::MulFOp::create(b, l, args[1], get(hSw));
        Value term = arith::MulFOp::create(
            b, l, scale, arith::SIToFPOp::create(b, l, f32, v));
        linalg::YieldOp::create(b, l,
                                ValueRange{arith::AddFOp::create(
                                    b, l, args[args.size() - 1], term)});
      });
  Value result = reduce.getResult(0);
  if (adaptor.getBias()) {
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    result =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{outType},
            ValueRange{result, adaptor.getBias()}, ValueRange{result},
            ArrayRef<AffineMap>{
                identity, selectLoops(context, rank, {unsigned(rank - 1)}),
                identity},
            parallel,
            [&](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  b, l,
                  ValueRange{arith::AddFOp::create(b, l, args[0], args[1])});
            })
            .getResult(0);
  }
  rewriter.replaceOp(op, result);
  return success();
}

} // namespace

/// A matmul of activations [B..., M, K] with weights [K, N] shared by every
/// batch is one 2-D matmul over B * ... * M rows: the rows are contiguous, so
/// the reshapes are free, and the 2-D contraction is what the target kernels
/// (qlow-x86-int8-matmul, qlow-x86-int4-matmul, qlow-aarch64-int8-matmul)
/// recognise. ONNX exporters write [1, S, D] activations, so without this an
/// imported model's projections would run as generic loops. Activations
/// quantized per row (static, axis M: one scale per M, repeated over the
/// batches) and results quantized per channel keep their batch loops.
static void flattenSharedWeightMatmul(MatmulOp op) {
  RankedTensorType lhsType = op.getLhs().getType();
  RankedTensorType rhsType = op.getRhs().getType();
  RankedTensorType outType = op.getType();
  int64_t rank = lhsType.getRank();
  if (rank <= 2 || rhsType.getRank() != 2 || !lhsType.hasStaticShape() ||
      !outType.hasStaticShape() ||
      isa<quant::UniformQuantizedPerAxisType>(lhsType.getElementType()))
    return;
  // A result quantized per channel would change its axis (rank - 1 to 1),
  // which a reshape cannot carry: such a matmul keeps its batch loops.
  Type outElement = outType.getElementType();
  if (isa<quant::QuantizedType>(outElement) &&
      !isa<quant::UniformQuantizedType>(outElement))
    return;
  int64_t rows = 1;
  for (int64_t d : lhsType.getShape().drop_back())
    rows *= d;
  ReassociationIndices batchAndRows;
  for (int64_t d = 0; d < rank - 1; ++d)
    batchAndRows.push_back(d);
  SmallVector<ReassociationIndices> reassociation = {batchAndRows, {rank - 1}};
  IRRewriter rewriter(op);
  Location loc = op.getLoc();
  Value lhs = tensor::CollapseShapeOp::create(
      rewriter, loc,
      RankedTensorType::get({rows, lhsType.getShape().back()},
                            lhsType.getElementType()),
      op.getLhs(), reassociation);
  auto flat = MatmulOp::create(
      rewriter, loc,
      RankedTensorType::get({rows, outType.getShape().back()}, outElement),
      lhs, op.getRhs(), op.getBias(), op.getRoundingAttr(),
      op.getDynamicAttr());
  rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, outType, flat,
                                                     reassociation);
}

void mlir::qlow::flattenSharedWeightMatmuls(Operation *root) {
  SmallVector<MatmulOp> matmuls;
  root->walk([&](MatmulOp op) { matmuls.push_back(op); });
  for (MatmulOp op : matmuls)
    flattenSharedWeightMatmul(op);
}

void mlir::qlow::populateMatmulToLinalgPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<MatmulLowering>(converter, patterns.getContext());
}
