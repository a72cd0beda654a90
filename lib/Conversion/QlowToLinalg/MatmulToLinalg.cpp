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

namespace {

/// Sums the stored values of `operand` (extended to i32 by their signedness)
/// over its K dimension, `kDim` (the last for lhs, the second to last for
/// rhs): the run-time row sums of the activations, or column sums of weights
/// that are not constants.
Value buildSumOverK(OpBuilder &b, Location loc, Value operand, unsigned kDim,
                    bool isSigned) {
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

struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
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

  // 1. The raw sum of products of the stored values.
  auto accType =
      RankedTensorType::get(outType.getShape(), rewriter.getI32Type());
  Value acc = buildContraction(
      rewriter, loc, adaptor.getLhs(), adaptor.getRhs(), lhsInfo->isSigned,
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
      Value sums = buildSumOverK(rewriter, loc, adaptor.getRhs(),
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
    dataInputs.push_back(buildSumOverK(rewriter, loc, adaptor.getLhs(),
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
          result = roundToQuantized(
              b, l,
              arith::MulFOp::create(
                  b, l, arith::SIToFPOp::create(b, l, b.getF32Type(), v),
                  get(*hM)),
              get(*hZo), qmin, qmax, bits);
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

} // namespace

void mlir::qlow::populateMatmulToLinalgPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<MatmulLowering>(converter, patterns.getContext());
}
