//===- Interpreter.cpp - evaluate qlow functions with lib/Reference -------===//
//
// Maps each op to the reference function that defines it. The interpreter
// itself does no arithmetic beyond moving data (reshape, transpose, storage
// casts): every number comes from lib/Reference.
//
//===----------------------------------------------------------------------===//

#include "qlow/Interpreter/Interpreter.h"
#include "qlow/Reference/IntegerOnly.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qlow;

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// The reference storage type of a quantized type.
static ref::IntType storageOf(quant::QuantizedType qtype) {
  return ref::IntType(qtype.getStorageTypeIntegralWidth(), qtype.isSigned());
}

/// Converts the parameters of a uniform quantized type on a tensor of `shape`.
static FailureOr<ref::QuantParams>
convertQuantParams(quant::QuantizedType qtype, ArrayRef<int64_t> shape,
                   function_ref<InFlightDiagnostic()> emitError) {
  ref::IntType storage = storageOf(qtype);
  size_t rank = shape.size();
  ref::QuantParams params;
  if (auto t = dyn_cast<quant::UniformQuantizedType>(qtype)) {
    params = ref::QuantParams::perTensor(storage, t.getScale(),
                                         t.getZeroPoint(), rank);
  } else if (auto t = dyn_cast<quant::UniformQuantizedPerAxisType>(qtype)) {
    params = ref::QuantParams::perAxis(
        storage, t.getQuantizedDimension(),
        std::vector<double>(t.getScales().begin(), t.getScales().end()),
        std::vector<int64_t>(t.getZeroPoints().begin(),
                             t.getZeroPoints().end()),
        rank);
  } else if (auto t = dyn_cast<quant::UniformQuantizedSubChannelType>(qtype)) {
    auto scaleShape = t.getScales().getType().getShape();
    std::vector<double> scales;
    for (const APFloat &s : t.getScales().getValues<APFloat>())
      scales.push_back(s.convertToDouble());
    std::vector<int64_t> zeroPoints;
    for (const APInt &z : t.getZeroPoints().getValues<APInt>())
      zeroPoints.push_back(qtype.isSigned()
                               ? z.getSExtValue()
                               : static_cast<int64_t>(z.getZExtValue()));
    params = ref::QuantParams::subChannel(
        storage, std::vector<int64_t>(scaleShape.begin(), scaleShape.end()),
        std::move(scales), std::move(zeroPoints));
  } else {
    return emitError() << "cannot evaluate quantized type " << qtype;
  }
  if (qtype.getStorageTypeMin() != storage.min() ||
      qtype.getStorageTypeMax() != storage.max())
    params = params.withStorageRange(qtype.getStorageTypeMin(),
                                     qtype.getStorageTypeMax());
  return params;
}

/// The largest tensor the reference evaluator materializes (2 GiB of int64).
static constexpr int64_t kMaxElements = int64_t(1) << 28;

FailureOr<ref::TensorType> mlir::qlow::convertToReferenceType(
    Type type, function_ref<InFlightDiagnostic()> emitError) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return emitError() << "cannot evaluate values of type " << type
                       << ": only ranked tensors are supported";
  if (!tensor.hasStaticShape())
    return emitError() << "cannot evaluate " << type
                       << ": the reference evaluator needs static shapes";
  std::vector<int64_t> shape(tensor.getShape().begin(),
                             tensor.getShape().end());
  // The reference holds every element in memory (floats, or int64 storage
  // values): refuse what would exhaust it instead of aborting in malloc.
  ref::Expected<int64_t> count = ref::checkedNumElements(shape);
  if (!count.ok() || *count > kMaxElements)
    return emitError() << "cannot evaluate " << type << ": more than "
                       << kMaxElements
                       << " elements is too large for the reference evaluator";
  Type element = tensor.getElementType();
  if (element.isF32())
    return ref::TensorType::f32(shape);
  if (auto intType = dyn_cast<IntegerType>(element)) {
    if (!intType.isSignless())
      return emitError() << "cannot evaluate " << type
                         << ": integer tensors must be signless";
    unsigned width = intType.getWidth();
    if (width != 1 && width != 4 && width != 8 && width != 16 && width != 32 &&
        width != 64)
      return emitError() << "cannot evaluate " << type << ": unsupported width";
    return ref::TensorType::integer(
        shape, width == 1 ? ref::IntType::i1() : ref::IntType(width, true));
  }
  if (auto qtype = dyn_cast<quant::QuantizedType>(element)) {
    auto params = convertQuantParams(qtype, tensor.getShape(), emitError);
    if (failed(params))
      return failure();
    ref::TensorType result = ref::TensorType::quantized(shape, *params);
    ref::Status status = ref::verifyTensorType(result);
    if (!status.ok())
      return emitError() << "invalid quantized type " << type << ": "
                         << status.message();
    return result;
  }
  return emitError() << "cannot evaluate values of type " << type
                     << ": element types are f32, signless integers or "
                        "uniform quantized types";
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

/// Reinterprets stored integers as values of `storage` (two's complement):
/// a signless i8 constant of -1 is 255 in u8 storage, and back.
static int64_t reinterpretBits(int64_t value, ref::IntType storage) {
  if (storage.bits >= 64)
    return value;
  uint64_t mask = (uint64_t(1) << storage.bits) - 1;
  uint64_t bits = static_cast<uint64_t>(value) & mask;
  if (storage.isSigned && (bits >> (storage.bits - 1)) & 1)
    return static_cast<int64_t>(bits | ~mask);
  return static_cast<int64_t>(bits);
}

/// Returns `input` with its data laid out as `resultType`.
static ref::Tensor withType(ref::Tensor input, ref::TensorType resultType) {
  input.type = std::move(resultType);
  return input;
}

/// Permutes the dimensions of `input`: dim(result, i) = dim(input, perm[i]).
static ref::Tensor transpose(const ref::Tensor &input, ArrayRef<int64_t> perm,
                             ref::TensorType resultType) {
  ref::Tensor result = ref::Tensor::zeros(resultType);
  const std::vector<int64_t> &inShape = input.shape();
  std::vector<int64_t> inStrides = ref::rowMajorStrides(inShape);
  const std::vector<int64_t> &outShape = resultType.shape;
  int64_t count = result.numElements();
  std::vector<int64_t> index(outShape.size(), 0);
  bool isFloat = input.type.isFloat();
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t source = 0;
    for (size_t d = 0; d < outShape.size(); ++d)
      source += index[d] * inStrides[perm[d]];
    if (isFloat)
      result.f[flat] = input.f[source];
    else
      result.i[flat] = input.i[source];
    for (int64_t d = static_cast<int64_t>(outShape.size()) - 1; d >= 0; --d) {
      if (++index[d] < outShape[d])
        break;
      index[d] = 0;
    }
  }
  return result;
}

/// Concatenates `inputs` (of the result's element type) along `dim`.
static ref::Tensor concat(ArrayRef<const ref::Tensor *> inputs, int64_t dim,
                          ref::TensorType resultType) {
  ref::Tensor result = ref::Tensor::zeros(resultType);
  const std::vector<int64_t> &outShape = resultType.shape;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= outShape[d];
  for (size_t d = dim + 1; d < outShape.size(); ++d)
    inner *= outShape[d];
  bool isFloat = resultType.isFloat();
  int64_t offset = 0; // along dim
  for (const ref::Tensor *input : inputs) {
    int64_t size = input->shape()[dim];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < size * inner; ++k) {
        int64_t from = o * size * inner + k;
        int64_t to = (o * outShape[dim] + offset) * inner + k;
        if (isFloat)
          result.f[to] = input->f[from];
        else
          result.i[to] = input->i[from];
      }
    offset += size;
  }
  return result;
}

/// `dest` with `source` (of the same rank and element type) written at
/// `offsets` with unit strides.
static ref::Tensor insertSlice(const ref::Tensor &source,
                               const ref::Tensor &dest,
                               ArrayRef<int64_t> offsets) {
  ref::Tensor result = dest;
  const std::vector<int64_t> &inShape = source.shape();
  std::vector<int64_t> outStrides = ref::rowMajorStrides(dest.shape());
  std::vector<int64_t> index(inShape.size(), 0);
  bool isFloat = dest.type.isFloat();
  int64_t count = source.numElements();
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t to = 0;
    for (size_t d = 0; d < inShape.size(); ++d)
      to += (offsets[d] + index[d]) * outStrides[d];
    if (isFloat)
      result.f[to] = source.f[flat];
    else
      result.i[to] = source.i[flat];
    for (int64_t d = static_cast<int64_t>(inShape.size()) - 1; d >= 0; --d) {
      if (++index[d] < inShape[d])
        break;
      index[d] = 0;
    }
  }
  return result;
}

/// Reads a dense constant into a reference tensor of type `type`.
static ref::Tensor constantTensor(DenseElementsAttr attr,
                                  const ref::TensorType &type) {
  ref::Tensor result = ref::Tensor::zeros(type);
  if (type.isFloat()) {
    int64_t k = 0;
    for (const APFloat &v : attr.getValues<APFloat>())
      result.f[k++] = v.convertToFloat();
    return result;
  }
  bool isBool = attr.getElementType().isInteger(1);
  int64_t k = 0;
  for (const APInt &v : attr.getValues<APInt>())
    result.i[k++] =
        isBool ? static_cast<int64_t>(v.getZExtValue()) : v.getSExtValue();
  return result;
}

//===----------------------------------------------------------------------===//
// The evaluator
//===----------------------------------------------------------------------===//

namespace {
class Evaluator {
public:
  explicit Evaluator(ObservedRanges *ranges) : ranges(ranges) {}

  /// Evaluates one op, binding its results. Emits a diagnostic on failure.
  LogicalResult evaluate(Operation *op);

  void bind(Value value, ref::Tensor tensor) { env[value] = std::move(tensor); }
  const ref::Tensor &lookup(Value value) { return env.find(value)->second; }

private:
  /// Binds the result of `op` from a reference call, or reports its error.
  LogicalResult bindResult(Operation *op, ref::Expected<ref::Tensor> result) {
    if (!result.ok())
      return op->emitError()
             << "reference evaluation failed: " << result.status.message();
    bind(op->getResult(0), std::move(result.value));
    return success();
  }

  FailureOr<ref::TensorType> resultType(Operation *op, unsigned i = 0) {
    return convertToReferenceType(op->getResult(i).getType(),
                                  [op]() { return op->emitError(); });
  }

  const ref::Tensor *optional(Value value) {
    return value ? &lookup(value) : nullptr;
  }

  static ref::Rounding convert(RoundingMode mode) {
    return mode == RoundingMode::Float ? ref::Rounding::Float
                                       : ref::Rounding::FixedPoint;
  }

  static ref::DynamicQuant convert(DynamicQuantAttr attr) {
    ref::DynamicQuant dq;
    dq.granularity = attr.getGranularity() == DynamicGranularity::PerTensor
                         ? ref::DynamicQuant::Granularity::PerTensor
                         : ref::DynamicQuant::Granularity::PerRow;
    dq.storage = attr.getStorage() == DynamicStorage::U8 ? ref::IntType::u8()
                                                         : ref::IntType::i8();
    dq.symmetric = attr.getScheme() == QuantScheme::Symmetric;
    return dq;
  }

  LogicalResult evaluateQlow(Operation *op, const ref::TensorType &type);
  LogicalResult evaluateUpstream(Operation *op, const ref::TensorType &type);

  llvm::DenseMap<Value, ref::Tensor> env;
  ObservedRanges *ranges;
};
} // namespace

LogicalResult Evaluator::evaluateQlow(Operation *op,
                                      const ref::TensorType &type) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](QuantizeOp op) {
        return bindResult(op, ref::quantize(lookup(op.getInput()), type));
      })
      .Case([&](DequantizeOp op) {
        return bindResult(op, ref::dequantize(lookup(op.getInput())));
      })
      .Case([&](RequantizeOp op) {
        return bindResult(op, ref::requantize(lookup(op.getInput()), type,
                                              convert(op.getRounding())));
      })
      .Case([&](FakeQuantOp op) -> LogicalResult {
        auto quantType = convertToReferenceType(
            RankedTensorType::get(op.getType().getShape(), op.getQuantType()),
            [&]() { return op.emitError(); });
        if (failed(quantType))
          return failure();
        return bindResult(
            op, ref::fakeQuant(lookup(op.getInput()), quantType->quant));
      })
      .Case([&](ObserveOp op) {
        ref::RangeStats *stats =
            ranges ? &(*ranges)[op.getName().str()] : nullptr;
        return bindResult(op, ref::observe(lookup(op.getInput()), stats));
      })
      .Case([&](MatmulOp op) {
        std::optional<ref::DynamicQuant> dynamic;
        if (DynamicQuantAttr attr = op.getDynamicAttr())
          dynamic = convert(attr);
        return bindResult(
            op, ref::matmul(lookup(op.getLhs()), lookup(op.getRhs()),
                            optional(op.getBias()), type,
                            convert(op.getRounding()),
                            dynamic ? &*dynamic : nullptr));
      })
      .Case([&](AddOp op) {
        return bindResult(op, ref::add(lookup(op.getLhs()), lookup(op.getRhs()),
                                       type, convert(op.getRounding())));
      })
      .Case([&](MulOp op) {
        return bindResult(op, ref::mul(lookup(op.getLhs()), lookup(op.getRhs()),
                                       type, convert(op.getRounding())));
      })
      .Case([&](SoftmaxOp op) {
        return bindResult(
            op, ref::softmax(lookup(op.getInput()), op.getAxis(), type));
      })
      .Case([&](LayerNormOp op) {
        return bindResult(
            op, ref::layerNorm(lookup(op.getInput()), lookup(op.getGamma()),
                               optional(op.getBeta()),
                               op.getEpsilon().convertToFloat(), type));
      })
      .Case([&](RmsNormOp op) {
        return bindResult(
            op, ref::rmsNorm(lookup(op.getInput()), lookup(op.getGamma()),
                             op.getEpsilon().convertToFloat(), type));
      })
      .Case([&](GeluOp op) {
        ref::GeluApproximation approximation =
            op.getApproximate() == GeluApproximation::Tanh
                ? ref::GeluApproximation::Tanh
                : ref::GeluApproximation::None;
        return bindResult(
            op, ref::gelu(lookup(op.getInput()), approximation, type));
      })
      .Case([&](SiluOp op) {
        return bindResult(op, ref::silu(lookup(op.getInput()), type));
      })
      .Case([&](IntSoftmaxOp op) {
        return bindResult(
            op, ref::intSoftmax(lookup(op.getInput()), op.getAxis(), type));
      })
      .Case([&](IntLayerNormOp op) {
        return bindResult(
            op, ref::intLayerNorm(lookup(op.getInput()), lookup(op.getGamma()),
                                  optional(op.getBeta()),
                                  op.getEpsilon().convertToFloat(), type));
      })
      .Case([&](IntGeluOp op) {
        return bindResult(op, ref::intGelu(lookup(op.getInput()), type));
      })
      .Case([&](AttentionOp op) {
        // Default scale 1/sqrt(D), computed in f32 as the op documents.
        int64_t headDim = op.getQ().getType().getShape().back();
        float scale = op.getScale()
                          ? op.getScale()->convertToFloat()
                          : 1.0f / std::sqrt(static_cast<float>(headDim));
        if (op.getInt8())
          return bindResult(
              op, ref::attentionInt8(lookup(op.getQ()), lookup(op.getK()),
                                     lookup(op.getV()), optional(op.getMask()),
                                     op.getCausal(), scale,
                                     op.getKeyBlock().value_or(0), type));
        return bindResult(
            op, ref::attention(lookup(op.getQ()), lookup(op.getK()),
                               lookup(op.getV()), optional(op.getMask()),
                               op.getCausal(), scale, type));
      })
      .Case([&](EmbeddingOp op) {
        return bindResult(op, ref::embedding(lookup(op.getTable()),
                                             lookup(op.getIndices()), type));
      })
      .Case([&](RopeOp op) {
        return bindResult(
            op, ref::rope(lookup(op.getInput()), lookup(op.getCos()),
                          lookup(op.getSin()), op.getInterleaved(), type));
      })
      .Default([&](Operation *op) {
        return op->emitError() << "the reference evaluator has no semantics "
                                  "for '"
                               << op->getName() << "'";
      });
}

LogicalResult Evaluator::evaluateUpstream(Operation *op,
                                          const ref::TensorType &type) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](arith::ConstantOp op) -> LogicalResult {
        auto attr = dyn_cast<DenseElementsAttr>(op.getValue());
        if (!attr || type.isQuant())
          return op.emitError() << "the reference evaluator supports dense "
                                   "f32 and integer tensor constants only";
        bind(op.getResult(), constantTensor(attr, type));
        return success();
      })
      .Case([&](quant::StorageCastOp op) -> LogicalResult {
        // Storage values pass through unchanged; only their reading
        // (signless bits vs. signed or unsigned storage) changes.
        ref::Tensor result = withType(lookup(op.getInput()), type);
        ref::IntType storage =
            type.isQuant() ? type.quant.storage : type.intType;
        for (int64_t &v : result.i)
          v = reinterpretBits(v, storage);
        if (type.isQuant())
          for (int64_t v : result.i)
            if (v < type.quant.qmin() || v > type.quant.qmax())
              return op.emitError()
                     << "stored value " << v
                     << " is outside the storage range [" << type.quant.qmin()
                     << ", " << type.quant.qmax() << "]";
        bind(op.getResult(), std::move(result));
        return success();
      })
      .Case([&](tensor::EmptyOp op) {
        bind(op.getResult(), ref::Tensor::zeros(type));
        return success();
      })
      .Case([&](tensor::ExpandShapeOp op) {
        bind(op.getResult(), withType(lookup(op.getSrc()), type));
        return success();
      })
      .Case([&](tensor::CollapseShapeOp op) {
        bind(op.getResult(), withType(lookup(op.getSrc()), type));
        return success();
      })
      .Case([&](tensor::ConcatOp op) {
        // A KV cache and the new step's keys, for example.
        SmallVector<const ref::Tensor *> inputs;
        for (Value input : op.getInputs())
          inputs.push_back(&lookup(input));
        bind(op.getResult(),
             concat(inputs, static_cast<int64_t>(op.getDim()), type));
        return success();
      })
      .Case([&](tensor::InsertSliceOp op) -> LogicalResult {
        // A decode step's key written into a KV cache with room for it.
        if (!op.hasUnitStride() || op.getSourceType().getRank() !=
                                       op.getDestType().getRank() ||
            ShapedType::isDynamicShape(op.getStaticOffsets()) ||
            ShapedType::isDynamicShape(op.getStaticSizes()))
          return op.emitError()
                 << "the reference evaluator supports tensor.insert_slice "
                    "with static offsets and sizes, unit strides and no "
                    "rank reduction only";
        bind(op.getResult(), insertSlice(lookup(op.getSource()),
                                         lookup(op.getDest()),
                                         op.getStaticOffsets()));
        return success();
      })
      .Case([&](linalg::TransposeOp op) -> LogicalResult {
        if (op->getNumResults() != 1)
          return op.emitError() << "the reference evaluator supports "
                                   "linalg.transpose on tensors only";
        bind(op->getResult(0),
             transpose(lookup(op.getInput()), op.getPermutation(), type));
        return success();
      })
      .Default([&](Operation *op) {
        return op->emitError()
               << "the reference evaluator cannot evaluate '" << op->getName()
               << "': it supports qlow ops, arith.constant, quant.scast, "
                  "tensor.empty, tensor.expand_shape, tensor.collapse_shape, "
                  "tensor.concat, tensor.insert_slice and linalg.transpose";
      });
}

LogicalResult Evaluator::evaluate(Operation *op) {
  if (op->getNumResults() != 1)
    return op->emitError() << "the reference evaluator cannot evaluate '"
                           << op->getName() << "' (ops with "
                           << op->getNumResults() << " results)";
  auto type = resultType(op);
  if (failed(type))
    return failure();
  if (isa<QlowDialect>(op->getDialect()))
    return evaluateQlow(op, *type);
  return evaluateUpstream(op, *type);
}

FailureOr<SmallVector<ref::Tensor>>
mlir::qlow::evaluateFunction(func::FuncOp func, ArrayRef<ref::Tensor> inputs,
                             ObservedRanges *ranges) {
  if (func.isExternal())
    return func.emitError()
           << "cannot evaluate '" << func.getSymName() << "': it has no body";
  if (!func.getBody().hasOneBlock())
    return func.emitError() << "cannot evaluate '" << func.getSymName()
                            << "': the reference evaluator needs a single "
                               "block";
  Block &body = func.getBody().front();
  if (inputs.size() != body.getNumArguments())
    return func.emitError()
           << "'" << func.getSymName() << "' takes " << body.getNumArguments()
           << " inputs, but " << inputs.size() << " were given";
  Evaluator evaluator(ranges);
  for (auto [arg, input] : llvm::zip(body.getArguments(), inputs))
    evaluator.bind(arg, input);
  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      SmallVector<ref::Tensor> results;
      for (Value operand : ret.getOperands())
        results.push_back(evaluator.lookup(operand));
      return results;
    }
    if (failed(evaluator.evaluate(&op)))
      return failure();
  }
  return func.emitError() << "'" << func.getSymName() << "' has no func.return";
}
