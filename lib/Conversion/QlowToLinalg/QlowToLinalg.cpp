//===- QlowToLinalg.cpp - the convert-qlow-to-linalg pass -----------------===//
//
// Drives the qlow-to-linalg patterns: quantized tensor types become their
// storage types everywhere, function signatures included.
//
//===----------------------------------------------------------------------===//

#include "qlow/Conversion/QlowToLinalg.h"

#include "dialects/Qlow/IR/QlowDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#define DEBUG_TYPE "convert-qlow-to-linalg"

namespace mlir::qlow {
#define GEN_PASS_DEF_CONVERTQLOWTOLINALGPASS
#define GEN_PASS_DEF_QLOWFLATTENMATMULBATCHESPASS
#include "qlow/Conversion/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

QuantStorageTypeConverter::QuantStorageTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](RankedTensorType type) -> Type {
    auto qtype = dyn_cast<quant::QuantizedType>(type.getElementType());
    if (!qtype)
      return type;
    return RankedTensorType::get(
        type.getShape(), IntegerType::get(type.getContext(),
                                          qtype.getStorageTypeIntegralWidth()));
  });
}

namespace {
/// A reshape of a quantized tensor is the same reshape of its storage.
template <typename ReshapeOp>
struct ReshapeToStorage : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern<ReshapeOp>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ReshapeOp op, typename ReshapeOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast_or_null<RankedTensorType>(
        this->getTypeConverter()->convertType(op.getType()));
    if (!type || !type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs a static storage type");
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, type, adaptor.getSrc(),
                                           op.getReassociationIndices());
    return success();
  }
};

/// A transpose of a quantized tensor is the same transpose of its storage:
/// only the stored bytes move (qlow-fold-qdq's pattern 8 makes these from
/// QDQ graphs' split and merged heads).
struct TransposeToStorage : OpConversionPattern<linalg::TransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(linalg::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast_or_null<RankedTensorType>(
        getTypeConverter()->convertType(op.getInit().getType()));
    if (!type || !type.hasStaticShape() || op->getNumResults() != 1)
      return rewriter.notifyMatchFailure(op, "needs a static storage type");
    if (adaptor.getInit().getType() != type)
      return rewriter.notifyMatchFailure(op, "init has no storage form");
    rewriter.replaceOpWithNewOp<linalg::TransposeOp>(
        op, adaptor.getInput(), adaptor.getInit(), op.getPermutation());
    return success();
  }
};

/// An empty quantized tensor (the init of such a transpose) is an empty
/// tensor of its storage type.
struct EmptyToStorage : OpConversionPattern<tensor::EmptyOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tensor::EmptyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast_or_null<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    if (!type)
      return failure();
    rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, type,
                                                 adaptor.getDynamicSizes());
    return success();
  }
};
} // namespace

void mlir::qlow::populateReshapeToStoragePatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<ReshapeToStorage<tensor::CollapseShapeOp>,
               ReshapeToStorage<tensor::ExpandShapeOp>, TransposeToStorage,
               EmptyToStorage>(converter, patterns.getContext());
}

namespace {
struct QlowFlattenMatmulBatchesPass
    : qlow::impl::QlowFlattenMatmulBatchesPassBase<
          QlowFlattenMatmulBatchesPass> {
  void runOnOperation() override { flattenSharedWeightMatmuls(getOperation()); }
};

struct ConvertQlowToLinalgPass
    : qlow::impl::ConvertQlowToLinalgPassBase<ConvertQlowToLinalgPass> {
  void runOnOperation() override {
    // Preconditions with their own diagnostics, before any rewriting.
    WalkResult bound = getOperation().walk([](MatmulOp op) {
      return failed(checkAccumulatorBound(op, /*emitErrors=*/true))
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    if (bound.wasInterrupted())
      return signalPassFailure();
    // Attention is one fused kernel built by a target pass from the tile
    // sizes of a TargetDesc; there is no target-neutral linalg form of it.
    WalkResult attention = getOperation().walk([](AttentionOp op) {
      op.emitError() << "convert-qlow-to-linalg has no lowering for "
                        "qlow.attention: run qlow-x86-attention first "
                        "(qlow-cpu-pipeline does when given a cpu)";
      return WalkResult::interrupt();
    });
    if (attention.wasInterrupted())
      return signalPassFailure();

    flattenSharedWeightMatmuls(getOperation());

    MLIRContext *context = &getContext();
    QuantStorageTypeConverter converter;
    RewritePatternSet patterns(context);
    populateQuantizeToLinalgPatterns(converter, patterns);
    populateMatmulToLinalgPatterns(converter, patterns);
    populateElementwiseToLinalgPatterns(converter, patterns);
    populateFloatOpsToLinalgPatterns(converter, patterns);
    populateIntegerOnlyToLinalgPatterns(converter, patterns);
    populateReshapeToStoragePatterns(converter, patterns);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    populateCallOpTypeConversionPattern(patterns, converter);

    ConversionTarget target(*context);
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, scf::SCFDialect,
                           tensor::TensorDialect>();
    target.addIllegalDialect<QlowDialect, quant::QuantDialect>();
    target.addDynamicallyLegalOp<tensor::CollapseShapeOp, tensor::ExpandShapeOp,
                                 tensor::EmptyOp, linalg::TransposeOp>(
        [&](Operation *op) { return converter.isLegal(op); });
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType()) &&
             converter.isLegal(&op.getBody());
    });
    target.addDynamicallyLegalOp<func::ReturnOp, func::CallOp>(
        [&](Operation *op) { return converter.isLegal(op); });
    target.markUnknownOpDynamicallyLegal(
        [&](Operation *op) { return converter.isLegal(op); });
    if (failed(
            applyFullConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
