//===- FoldQuantizedActivations.cpp - quantized gelu/silu from f32 chains -===//
//
// qlow-fold-quantized-activations: `quantize(gelu|silu(dequantize(q)))` on an
// input of at most 8 bits becomes the quantized activation (a table of the
// reference's values after lowering), where lib/Reference proves the two
// equal on every stored value.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/Transforms/Passes.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Interpreter/Interpreter.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWFOLDQUANTIZEDACTIVATIONSPASS
#include "dialects/Qlow/Transforms/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

namespace {

/// A per-tensor uniform quantized element type with an f32 expressed type,
/// or null.
quant::UniformQuantizedType perTensorQuantized(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return nullptr;
  auto element = dyn_cast<quant::UniformQuantizedType>(tensor.getElementType());
  if (!element || !element.getExpressedType().isF32())
    return nullptr;
  return element;
}

ref::Expected<ref::Tensor> evaluateActivation(GeluOp op, const ref::Tensor &x,
                                              const ref::TensorType &type) {
  return ref::gelu(x,
                   op.getApproximate() == GeluApproximation::Tanh
                       ? ref::GeluApproximation::Tanh
                       : ref::GeluApproximation::None,
                   type);
}
ref::Expected<ref::Tensor> evaluateActivation(SiluOp, const ref::Tensor &x,
                                              const ref::TensorType &type) {
  return ref::silu(x, type);
}

/// Whether lib/Reference gives the same stored values for
/// quantize(act(dequantize(x))) and for the quantized act, over every
/// stored value x of `in`.
template <typename ActOp>
bool isExactOnEveryValue(ActOp act, quant::UniformQuantizedType in,
                         quant::UniformQuantizedType out) {
  const int64_t qmin = in.getStorageTypeMin(), qmax = in.getStorageTypeMax();
  const int64_t count = qmax - qmin + 1;
  MLIRContext *ctx = act.getContext();
  // The caller accepts only per-tensor uniform types with an f32 expressed
  // type, which the conversion always takes: an error here would be an
  // inconsistency between the two, and says so at the op.
  auto emitError = [&] { return act.emitOpError(); };
  FailureOr<ref::TensorType> inType = convertToReferenceType(
      RankedTensorType::get({count}, in), emitError);
  FailureOr<ref::TensorType> outType = convertToReferenceType(
      RankedTensorType::get({count}, out), emitError);
  FailureOr<ref::TensorType> floatType = convertToReferenceType(
      RankedTensorType::get({count}, Float32Type::get(ctx)), emitError);
  if (failed(inType) || failed(outType) || failed(floatType))
    return false;
  ref::Tensor x = ref::Tensor::zeros(*inType);
  for (int64_t i = 0; i < count; ++i)
    x.i[i] = qmin + i;
  ref::Expected<ref::Tensor> direct = evaluateActivation(act, x, *outType);
  ref::Expected<ref::Tensor> real = ref::dequantize(x);
  if (!direct.ok() || !real.ok())
    return false;
  ref::Expected<ref::Tensor> activated =
      evaluateActivation(act, real.value, *floatType);
  if (!activated.ok())
    return false;
  ref::Expected<ref::Tensor> chain = ref::quantize(activated.value, *outType);
  return chain.ok() && chain.value.i == direct.value.i;
}

/// quantize(act(dequantize(q))) -> act(q) with the quantize's result type.
template <typename ActOp>
struct FoldQuantizedActivation : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern<QuantizeOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp quantize,
                                PatternRewriter &rewriter) const override {
    auto act = quantize.getInput().template getDefiningOp<ActOp>();
    if (!act || !act->hasOneUse())
      return rewriter.notifyMatchFailure(
          quantize, "not the only user of an f32 gelu/silu");
    auto dequantize = act.getInput().template getDefiningOp<DequantizeOp>();
    if (!dequantize)
      return rewriter.notifyMatchFailure(quantize,
                                         "the activation's input is not "
                                         "dequantized");
    Value source = dequantize.getInput();
    quant::UniformQuantizedType in = perTensorQuantized(source.getType());
    quant::UniformQuantizedType out = perTensorQuantized(quantize.getType());
    if (!in || !out || in.getStorageTypeIntegralWidth() > 8)
      return rewriter.notifyMatchFailure(
          quantize, "needs a per-tensor input of at most 8 bits and a "
                    "per-tensor result (the table's domain and range)");
    if (cast<RankedTensorType>(source.getType()).getShape() !=
        cast<RankedTensorType>(quantize.getType()).getShape())
      return rewriter.notifyMatchFailure(quantize, "shapes differ");
    if (!isExactOnEveryValue(act, in, out))
      return rewriter.notifyMatchFailure(
          quantize, "the quantized activation differs from the chain on some "
                    "stored value");
    auto folded =
        ActOp::create(rewriter, act.getLoc(), TypeRange{quantize.getType()},
                      ValueRange{source}, act->getAttrs());
    rewriter.replaceOp(quantize, folded->getResults());
    rewriter.eraseOp(act);
    if (dequantize->use_empty())
      rewriter.eraseOp(dequantize);
    return success();
  }
};

struct QlowFoldQuantizedActivationsPass
    : mlir::qlow::impl::QlowFoldQuantizedActivationsPassBase<
          QlowFoldQuantizedActivationsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldQuantizedActivation<GeluOp>,
                 FoldQuantizedActivation<SiluOp>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
