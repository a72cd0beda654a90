//===- ImportONNX.cpp - ONNX ModelProto to qlow ---------------------------===//
//
// Translates an ONNX graph node by node into qlow ops (matmul, add, mul,
// softmax, layer_norm, gelu, embedding, quantize, dequantize) and upstream
// linalg/tensor/arith ops for the rest. Shapes are static: every shape
// computation (Shape, Gather, Concat, Slice, Range, ... on constants) is folded
// here, so the function holds only the tensor computation.
//
//===----------------------------------------------------------------------===//

#include "qlow/Import/ONNX/ImportONNX.h"

#include "dialects/Qlow/IR/QlowDialect.h"
#include "dialects/Qlow/IR/QlowOps.h"
#include "dialects/Qlow/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <tuple>

using namespace mlir;
using namespace mlir::qlow;
using llvm::formatv;

namespace {

//===----------------------------------------------------------------------===//
// Constants known at import time
//===----------------------------------------------------------------------===//

/// ONNX TensorProto data types the importer handles.
enum OnnxType : int {
  kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6,
  kInt64 = 7, kBool = 9, kDouble = 11, kUint4 = 21, kInt4 = 22
};

bool isFloatType(int t) { return t == kFloat || t == kDouble; }
bool isIntType(int t) {
  return t == kUint8 || t == kInt8 || t == kUint16 || t == kInt16 ||
         t == kInt32 || t == kInt64 || t == kBool || t == kUint4 || t == kInt4;
}

/// The bit width of a quantized storage type (int4 to int32).
unsigned storageBits(int t) {
  return t == kInt32                    ? 32
         : t == kInt16 || t == kUint16 ? 16
         : t == kInt4 || t == kUint4   ? 4
                                       : 8;
}

/// Whether a quantized storage type is signed.
bool isSignedStorage(int t) {
  return t == kInt8 || t == kInt32 || t == kInt16 || t == kInt4;
}

/// The storage range of an integer ONNX type.
std::pair<int64_t, int64_t> intRange(int t) {
  switch (t) {
  case kUint8: return {0, 255};
  case kInt8: return {-128, 127};
  case kUint16: return {0, 65535};
  case kInt16: return {-32768, 32767};
  case kInt32: return {INT32_MIN, INT32_MAX};
  case kUint4: return {0, 15};
  case kInt4: return {-8, 7};
  case kBool: return {0, 1};
  default: return {INT64_MIN, INT64_MAX};
  }
}

const char *typeName(int t) {
  switch (t) {
  case kFloat: return "float";
  case kUint8: return "uint8";
  case kInt8: return "int8";
  case kUint16: return "uint16";
  case kInt16: return "int16";
  case kInt32: return "int32";
  case kInt64: return "int64";
  case kBool: return "bool";
  case kDouble: return "double";
  case kUint4: return "uint4";
  case kInt4: return "int4";
  default: return "unsupported";
  }
}

/// The most elements a tensor may have (2^40): larger counts, and products
/// of dimensions that overflow, are errors rather than undefined behaviour.
constexpr int64_t kMaxElements = int64_t(1) << 40;

/// Constant folding at import (shape computations, ConstantOfShape, Range,
/// the data-movement ops on constants) may create at most this many elements
/// in all, plus kFoldElementsPerInitializerElement per element of the
/// model's initializers (their reshapes and casts). Without a budget a model
/// of a few hundred bytes could ask for terabytes: ConstantOfShape of [2^20,
/// 1] plus one of [1, 2^20] broadcasts to 2^40 elements.
constexpr int64_t kFoldElements = int64_t(1) << 24;
constexpr int64_t kFoldElementsPerInitializerElement = 4;

/// The number of elements of `shape`, or -1 when a dimension is negative or
/// the count exceeds kMaxElements.
int64_t elementCount(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > kMaxElements)
      return -1;
  }
  return n;
}

/// Elements in [start, end) with a positive `step` (0 if empty), without
/// overflow.
int64_t stridedCount(int64_t start, int64_t end, int64_t step) {
  return end > start ? 1 + int64_t((uint64_t(end) - uint64_t(start) - 1) /
                                   uint64_t(step))
                     : 0;
}

/// A tensor whose value is known at import time: initializers, Constant
/// nodes and everything folded from them. Integers are held as int64 and
/// floats as double.
struct Const {
  int dtype = kFloat;
  SmallVector<int64_t> shape;
  std::vector<int64_t> ints;
  std::vector<double> fps;

  bool isFloat() const { return isFloatType(dtype); }
  /// -1 when the shape is invalid or too large (see elementCount).
  int64_t size() const { return elementCount(shape); }
  double at(int64_t i) const { return isFloat() ? fps[i] : double(ints[i]); }
};

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// numpy broadcasting of two shapes; nullopt when they do not broadcast.
std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                    ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// The flat index into a tensor of `shape` broadcast to `outShape` of the
/// element at the multi-index `idx` of `outShape`.
int64_t broadcastIndex(ArrayRef<int64_t> shape, ArrayRef<int64_t> outShape,
                       ArrayRef<int64_t> idx) {
  int64_t flat = 0, stride = 1;
  for (int64_t i = int64_t(shape.size()) - 1; i >= 0; --i) {
    int64_t oi = i + int64_t(outShape.size() - shape.size());
    int64_t v = shape[i] == 1 ? 0 : idx[oi];
    flat += v * stride;
    stride *= shape[i];
  }
  return flat;
}

/// Calls `fn(multiIndex, flatIndex)` for every element of `shape`.
void forEachIndex(ArrayRef<int64_t> shape,
                  llvm::function_ref<void(ArrayRef<int64_t>, int64_t)> fn) {
  int64_t n = elementCount(shape);
  SmallVector<int64_t> idx(shape.size(), 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    fn(idx, flat);
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

/// The name of input `i` of `n`, "" when it has fewer (malformed graphs).
const std::string &inputOf(const onnx::NodeProto *n, int i) {
  static const std::string none;
  return i >= 0 && i < n->input_size() ? n->input(i) : none;
}

//===----------------------------------------------------------------------===//
// Values of the graph
//===----------------------------------------------------------------------===//

/// What an ONNX value name stands for during import.
struct Val {
  enum Kind {
    Tensor,        ///< an SSA value (and, for constants, `cst` too)
    Constant,      ///< known at import time only (materialized on use)
    DynQuantized,  ///< output 0 of DynamicQuantizeLinear(x): `value` is x
    DynScale,      ///< `factor` * output 1 of DynamicQuantizeLinear(x)
    DynZeroPoint,  ///< output 2 of DynamicQuantizeLinear(x)
    PendingMatmul, ///< MatMulInteger(DynamicQuantizeLinear(x), W) before its
                   ///< scale: `value` is x, `cst` the weights, `wzp` their zp
  };
  Kind kind = Tensor;
  Value value;
  std::shared_ptr<Const> cst;
  std::shared_ptr<Const> factor;
  std::shared_ptr<Const> wzp;
  std::shared_ptr<Const> weights; ///< PendingMatmul: MatMulInteger's B
  std::string source; ///< the DynamicQuantizeLinear input's name
};

Val tensorVal(Value v) {
  Val r;
  r.value = v;
  return r;
}

//===----------------------------------------------------------------------===//
// The importer
//===----------------------------------------------------------------------===//

/// p / q on signed integers (truncating, as ONNX's Div), without the traps
/// of x86's idiv: a zero divisor gives 0 (ONNX leaves it undefined; ONNX
/// Runtime reports an error, which a compiled library has no channel for),
/// and MIN / -1 gives MIN (the two's complement wrap). A plain arith.divsi
/// would stop the caller's process with SIGFPE on either.
Value safeDivSI(OpBuilder &b, Location loc, Value p, Value q) {
  Type type = p.getType();
  unsigned bits = type.getIntOrFloatBitWidth();
  auto constant = [&](const APInt &v) -> Value {
    return arith::ConstantOp::create(b, loc, type, b.getIntegerAttr(type, v));
  };
  Value zero = constant(APInt(bits, 0));
  Value one = constant(APInt(bits, 1));
  Value minusOne = constant(APInt::getAllOnes(bits));
  Value min = constant(APInt::getSignedMinValue(bits));
  Value byZero =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, q, zero);
  Value overflow = arith::AndIOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, p, min),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, q, minusOne));
  Value divisor = arith::SelectOp::create(
      b, loc, arith::OrIOp::create(b, loc, byZero, overflow), one, q);
  Value quotient = arith::DivSIOp::create(b, loc, p, divisor);
  return arith::SelectOp::create(b, loc, byZero, zero, quotient);
}

class Importer {
public:
  Importer(MLIRContext *ctx, StringRef path, const OnnxImportOptions &options)
      : ctx(ctx), b(ctx), path(path.str()), options(options),
        fileLoc(FileLineColLoc::get(ctx, path, 0, 0)) {}

  OwningOpRef<ModuleOp> run(StringRef bytes);

private:
  MLIRContext *ctx;
  OpBuilder b;
  std::string path;
  const OnnxImportOptions &options;
  Location fileLoc;
  Location loc = fileLoc;
  const onnx::NodeProto *node = nullptr;
  int64_t opset = 13;
  llvm::StringMap<Val> values;
  /// Elements that constant folding may still create (see kFoldElements).
  int64_t foldBudget = kFoldElements;

  //===--- diagnostics ---===//

  /// An error at the current node (or the model), naming it.
  InFlightDiagnostic error() {
    InFlightDiagnostic d = emitError(loc);
    if (node)
      d << "node '" << node->name() << "' (" << opName() << "): ";
    return d;
  }
  std::string opName() const {
    if (!node)
      return "";
    return node->domain().empty() || node->domain() == "ai.onnx"
               ? node->op_type()
               : node->domain() + "." + node->op_type();
  }

  //===--- tensors and types ---===//

  LogicalResult readTensor(const onnx::TensorProto &t, Const &out);
  FailureOr<Type> elementType(int dtype);
  RankedTensorType typeOf(Value v) {
    return cast<RankedTensorType>(v.getType());
  }
  Value materialize(const Const &c);
  Value constantF32(ArrayRef<int64_t> shape, ArrayRef<float> data) {
    auto type = RankedTensorType::get(shape, b.getF32Type());
    return arith::ConstantOp::create(b, loc, type,
                                     DenseElementsAttr::get(type, data));
  }

  //===--- operand access ---===//

  bool hasInput(int i) const {
    return i < node->input_size() && !node->input(i).empty();
  }
  /// The name of input `i` of the current node, "" when it has fewer.
  const std::string &inputName(int i) const { return inputOf(node, i); }
  FailureOr<Val *> lookup(const std::string &name);
  FailureOr<Value> tensorInput(int i);
  FailureOr<std::shared_ptr<Const>> constInput(int i);
  FailureOr<SmallVector<int64_t>> shapeOfInput(int i);
  void define(int i, Value v) { values[node->output(i)] = tensorVal(v); }
  /// Fails, naming the limit, when folding a constant of `count` elements
  /// (-1: too large to count) would exceed what folding may still create.
  LogicalResult checkFoldSize(int64_t count) {
    if (count >= 0 && count <= foldBudget)
      return success();
    return error() << "folding this constant would create "
                   << (count < 0
                           ? "more than 2^" +
                                 std::to_string(llvm::Log2_64(kMaxElements))
                           : std::to_string(count))
                   << " elements, beyond the " << foldBudget
                   << " that constant folding may still create (2^"
                   << llvm::Log2_64(kFoldElements) << " in all, plus "
                   << kFoldElementsPerInitializerElement
                   << " per element of the initializers)";
  }
  /// Defines output `i` as the folded constant `c`, charged to the budget.
  LogicalResult defineConst(int i, Const c) {
    if (failed(checkFoldSize(c.size())))
      return failure();
    foldBudget -= c.size();
    Val v;
    v.kind = Val::Constant;
    v.cst = std::make_shared<Const>(std::move(c));
    values[node->output(i)] = v;
    return success();
  }

  //===--- attributes ---===//

  const onnx::AttributeProto *attr(StringRef name) {
    for (const auto &a : node->attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  int64_t attrInt(StringRef name, int64_t dflt) {
    auto *a = attr(name);
    return a ? a->i() : dflt;
  }
  float attrFloat(StringRef name, float dflt) {
    auto *a = attr(name);
    return a ? a->f() : dflt;
  }
  std::optional<SmallVector<int64_t>> attrInts(StringRef name) {
    auto *a = attr(name);
    if (!a)
      return std::nullopt;
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  }

  //===--- builders ---===//

  Value emptyLike(ArrayRef<int64_t> shape, Type elt) {
    return tensor::EmptyOp::create(b, loc, shape, elt);
  }
  Value elementwise(ArrayRef<Value> ins, ArrayRef<int64_t> outShape,
                    Type outElt,
                    function_ref<Value(OpBuilder &, Location, ValueRange)> fn);
  Value reshape(Value v, ArrayRef<int64_t> shape);
  Value transpose(Value v, ArrayRef<int64_t> perm);
  Value sliceAxis(Value v, int64_t axis, int64_t start, int64_t size,
                  int64_t step = 1);
  FailureOr<Type> quantType(const Const &scale, const Const *zp, int storage,
                            int64_t axis, int64_t rank);
  FailureOr<Value> asQuantized(Val &v, Type qtype);

  //===--- the graph ---===//

  LogicalResult importGraph(const onnx::GraphProto &graph, ModuleOp module);
  LogicalResult importNode();
  LogicalResult foldShapeOp(StringRef op, bool &folded);
  /// Trilu's diagonal offset k: its optional second input (an integer
  /// scalar, or one element), 0 when absent.
  FailureOr<int64_t> triluDiagonal(const Const *k);
  LogicalResult importFloatOp(StringRef op, bool &handled);
  LogicalResult importQuantOp(StringRef op, bool &handled);
  LogicalResult importBlockedDequantize(const Const &x, int64_t blockSize);
  FailureOr<Value> blockedConstant(const Const &x, const Const &scale,
                                   const Const *zp, int64_t axis,
                                   int64_t blockSize, StringRef what);
  LogicalResult importGatherBlockQuantized();
  FailureOr<Value> nbits8Weights(const Const &bytes, ArrayRef<float> scales,
                                 ArrayRef<int64_t> zps, int64_t k, int64_t n,
                                 int64_t blockSize);
  Value transposeBlockedWeights(Value v, ArrayRef<int64_t> perm);

  //===--- raising decompositions (on the ONNX graph) ---===//

  llvm::StringMap<const onnx::NodeProto *> producers;
  /// The [S, D/2] cos and sin tables raised from in-graph rotary tables, by
  /// the names of their angles: q's and k's rope share them.
  llvm::StringMap<std::pair<Value, Value>> ropeTables;
  const onnx::NodeProto *producer(const std::string &name, StringRef opType);
  std::optional<double> scalarConst(const std::string &name);
  bool isScalar(const std::string &name, double v, double rel = 1e-4) {
    auto c = scalarConst(name);
    return c && std::fabs(*c - v) <= rel * std::fabs(v);
  }
  bool isLastAxisMean(const onnx::NodeProto *mean, int64_t rank);
  FailureOr<Value> valueOf(const std::string &name);
  struct Norm {
    bool layer = false;      ///< LayerNorm (x - mean) or RMSNorm
    std::string x, gamma;    ///< input, scale
    double eps = 0;
  };
  std::optional<Norm> matchNorm(const onnx::NodeProto *mul);
  LogicalResult tryRaise(StringRef op, bool &raised);
  LogicalResult normalizeAxis(int64_t &axis, int64_t rank) {
    if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
      return error() << "axis " << axis << " is out of range for rank "
                     << rank;
    if (axis < 0)
      axis += rank;
    return success();
  }
  Value raiseGelu(Value x, Value mulResult);
};

//===----------------------------------------------------------------------===//
// Reading tensors
//===----------------------------------------------------------------------===//

LogicalResult Importer::readTensor(const onnx::TensorProto &t, Const &out) {
  out.dtype = t.data_type();
  out.shape.assign(t.dims().begin(), t.dims().end());
  for (int64_t d : out.shape)
    if (d < 0)
      return error() << "tensor '" << t.name() << "' has a negative dimension";
  int64_t n = out.size();
  if (n < 0 || n > (int64_t(1) << 34))
    return error() << "tensor '" << t.name() << "' is too large";
  if (!isFloatType(out.dtype) && !isIntType(out.dtype))
    return error() << "tensor '" << t.name() << "' has element type "
                   << t.data_type()
                   << ", which the importer does not support (float, "
                      "double, int4/8/16/32/64, uint4/8/16, bool)";

  // The bytes: raw_data, or an external file.
  std::string external;
  const std::string *raw = t.has_raw_data() ? &t.raw_data() : nullptr;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : t.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        offset = std::atoll(kv.value().c_str());
      else if (kv.key() == "length")
        length = std::atoll(kv.value().c_str());
    }
    if (location.empty())
      return error() << "tensor '" << t.name()
                     << "' has external data without a location";
    SmallString<256> file = llvm::sys::path::parent_path(path);
    llvm::sys::path::append(file, location);
    auto buffer = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return error() << "tensor '" << t.name() << "': cannot read external "
                     << "data file '" << file
                     << "': " << buffer.getError().message();
    int64_t size = (*buffer)->getBufferSize();
    if (length < 0)
      length = size - offset;
    if (offset < 0 || offset > size || length > size - offset)
      return error() << "tensor '" << t.name() << "': external data range ["
                     << offset << ", " << offset + length
                     << ") is outside '" << file << "' (" << size
                     << " bytes)";
    external.assign((*buffer)->getBufferStart() + offset, length);
    raw = &external;
  }

  auto bad = [&](int64_t have) {
    return error() << "tensor '" << t.name() << "' holds " << have
                   << " values where its shape needs " << n;
  };
  if (raw) {
    int64_t bits = out.dtype == kDouble || out.dtype == kInt64 ? 64
                   : out.dtype == kFloat || out.dtype == kInt32 ? 32
                   : out.dtype == kInt16 || out.dtype == kUint16 ? 16
                   : out.dtype == kUint4 || out.dtype == kInt4   ? 4
                                                                  : 8;
    int64_t bytes = (n * bits + 7) / 8;
    if (int64_t(raw->size()) != bytes)
      return error() << "tensor '" << t.name() << "' has " << raw->size()
                     << " bytes of data where its shape needs " << bytes;
    const char *p = raw->data();
    if (out.isFloat()) {
      out.fps.resize(n);
      for (int64_t i = 0; i < n; ++i) {
        if (out.dtype == kFloat) {
          float f;
          std::memcpy(&f, p + 4 * i, 4);
          out.fps[i] = f;
        } else {
          std::memcpy(&out.fps[i], p + 8 * i, 8);
        }
      }
      return success();
    }
    out.ints.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      switch (out.dtype) {
      case kUint8: case kBool: out.ints[i] = uint8_t(p[i]); break;
      case kInt8: out.ints[i] = int8_t(p[i]); break;
      case kUint16: { uint16_t v; std::memcpy(&v, p + 2 * i, 2); out.ints[i] = v; break; }
      case kInt16: { int16_t v; std::memcpy(&v, p + 2 * i, 2); out.ints[i] = v; break; }
      case kInt32: { int32_t v; std::memcpy(&v, p + 4 * i, 4); out.ints[i] = v; break; }
      case kInt64: { int64_t v; std::memcpy(&v, p + 8 * i, 8); out.ints[i] = v; break; }
      case kUint4: case kInt4: {
        // Two values per byte, the first in the low nibble.
        int v = (uint8_t(p[i / 2]) >> (4 * (i % 2))) & 0xF;
        out.ints[i] = out.dtype == kInt4 && v >= 8 ? v - 16 : v;
        break;
      }
      }
    }
    return success();
  }
  // Typed fields.
  if (out.dtype == kFloat) {
    if (t.float_data_size() != n)
      return bad(t.float_data_size());
    out.fps.assign(t.float_data().begin(), t.float_data().end());
  } else if (out.dtype == kDouble) {
    if (t.double_data_size() != n)
      return bad(t.double_data_size());
    out.fps.assign(t.double_data().begin(), t.double_data().end());
  } else if (out.dtype == kInt64) {
    if (t.int64_data_size() != n)
      return bad(t.int64_data_size());
    out.ints.assign(t.int64_data().begin(), t.int64_data().end());
  } else if (out.dtype == kUint4 || out.dtype == kInt4) {
    if (t.int32_data_size() != (n + 1) / 2)
      return bad(2 * t.int32_data_size());
    for (int64_t i = 0; i < n; ++i) {
      int v = (t.int32_data(i / 2) >> (4 * (i % 2))) & 0xF;
      out.ints.push_back(out.dtype == kInt4 && v >= 8 ? v - 16 : v);
    }
  } else {
    if (t.int32_data_size() != n)
      return bad(t.int32_data_size());
    out.ints.assign(t.int32_data().begin(), t.int32_data().end());
  }
  if (!out.isFloat()) {
    auto [lo, hi] = intRange(out.dtype);
    for (int64_t v : out.ints)
      if (v < lo || v > hi)
        return error() << "tensor '" << t.name() << "' holds " << v
                       << ", outside the range of " << typeName(out.dtype);
  }
  return success();
}

FailureOr<Type> Importer::elementType(int dtype) {
  switch (dtype) {
  case kFloat: return Type(b.getF32Type());
  case kDouble: return Type(b.getF64Type());
  case kUint8: case kInt8: return Type(b.getIntegerType(8));
  case kUint16: case kInt16: return Type(b.getIntegerType(16));
  case kInt32: return Type(b.getI32Type());
  case kInt64: return Type(b.getI64Type());
  case kBool: return Type(b.getI1Type());
  case kUint4: case kInt4: return Type(b.getIntegerType(4));
  default:
    return error() << "element type " << dtype << " is not supported";
  }
}

Value Importer::materialize(const Const &c) {
  Type elt = *elementType(c.dtype);
  auto type = RankedTensorType::get(c.shape, elt);
  DenseElementsAttr attr;
  if (c.dtype == kFloat) {
    std::vector<float> f(c.fps.begin(), c.fps.end());
    attr = DenseElementsAttr::get(type, ArrayRef<float>(f));
  } else if (c.dtype == kDouble) {
    attr = DenseElementsAttr::get(type, ArrayRef<double>(c.fps));
  } else if (unsigned bits = elt.getIntOrFloatBitWidth();
             bits % 8 == 0 &&
             llvm::endianness::native == llvm::endianness::little) {
    // The raw buffer's format: each value's low bytes, little-endian (this
    // host's order). One element stands for a splat. An APInt per element,
    // as below, takes 16 bytes or more each: gigabytes for a model's weights.
    size_t bytes = bits / 8;
    bool splat = !c.ints.empty() &&
                 std::all_of(c.ints.begin(), c.ints.end(),
                             [&](int64_t x) { return x == c.ints.front(); });
    size_t count = splat ? 1 : c.ints.size();
    std::vector<char> raw(count * bytes);
    for (size_t i = 0; i < count; ++i) {
      uint64_t x = uint64_t(c.ints[i]);
      for (size_t k = 0; k < bytes; ++k)
        raw[i * bytes + k] = char(x >> (8 * k));
    }
    attr = DenseElementsAttr::getFromRawBuffer(type, raw);
  } else {
    // i1, i4, or a big-endian host (`bits` from the condition above).
    SmallVector<APInt> v;
    v.reserve(c.ints.size());
    for (int64_t x : c.ints)
      v.push_back(APInt(bits, uint64_t(x), /*isSigned=*/bits > 1,
                        /*implicitTrunc=*/true));
    attr = DenseElementsAttr::get(type, v);
  }
  return arith::ConstantOp::create(b, loc, type, attr);
}

//===----------------------------------------------------------------------===//
// Operand access
//===----------------------------------------------------------------------===//

FailureOr<Val *> Importer::lookup(const std::string &name) {
  auto it = values.find(name);
  if (it == values.end())
    return error() << "input '" << name
                   << "' is not a graph input, an initializer or the output "
                      "of an earlier node";
  return &it->second;
}

FailureOr<Value> Importer::tensorInput(int i) {
  if (!hasInput(i))
    return error() << "input " << i << " is missing";
  return valueOf(inputName(i));
}

FailureOr<Value> Importer::valueOf(const std::string &name) {
  auto v = lookup(name);
  if (failed(v))
    return failure();
  Val &val = **v;
  switch (val.kind) {
  case Val::Tensor:
    return val.value;
  case Val::Constant:
    // Materialized at the start of the function, once.
    {
      OpBuilder::InsertionGuard guard(b);
      auto func = b.getInsertionBlock()->getParentOp();
      b.setInsertionPointToStart(&cast<func::FuncOp>(func).getBody().front());
      val.value = materialize(*val.cst);
    }
    val.kind = Val::Tensor;
    return val.value;
  default:
    return error() << "input '" << name
                   << "' comes from DynamicQuantizeLinear/MatMulInteger in a "
                      "form the importer does not recognize (expected "
                      "DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul "
                      "by the product of the scales)";
  }
}

FailureOr<std::shared_ptr<Const>> Importer::constInput(int i) {
  if (!hasInput(i))
    return error() << "input " << i << " is missing";
  auto v = lookup(inputName(i));
  if (failed(v))
    return failure();
  if (!(*v)->cst)
    return error() << "input '" << inputName(i)
                   << "' must be a constant (an initializer or computed from "
                      "constants and static shapes)";
  return (*v)->cst;
}

FailureOr<int64_t> Importer::triluDiagonal(const Const *k) {
  if (!k)
    return int64_t(0);
  if (k->isFloat() || k->size() != 1)
    return error() << "k must be one integer";
  return k->ints[0];
}

FailureOr<SmallVector<int64_t>> Importer::shapeOfInput(int i) {
  auto v = lookup(inputName(i));
  if (failed(v))
    return failure();
  if ((*v)->cst)
    return (*v)->cst->shape;
  if ((*v)->kind == Val::Tensor || (*v)->kind == Val::DynQuantized)
    return SmallVector<int64_t>(typeOf((*v)->value).getShape());
  if ((*v)->kind == Val::PendingMatmul) {
    SmallVector<int64_t> shape(typeOf((*v)->value).getShape());
    shape.back() = (*v)->weights->shape[1];
    return shape;
  }
  return error() << "the shape of '" << inputName(i) << "' is not known";
}

//===----------------------------------------------------------------------===//
// Builders
//===----------------------------------------------------------------------===//

Value Importer::elementwise(
    ArrayRef<Value> ins, ArrayRef<int64_t> outShape, Type outElt,
    function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  int64_t rank = outShape.size();
  SmallVector<AffineMap> maps;
  for (Value in : ins) {
    ArrayRef<int64_t> shape = typeOf(in).getShape();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < int64_t(shape.size()); ++i) {
      int64_t oi = i + rank - int64_t(shape.size());
      exprs.push_back(shape[i] == 1 && outShape[oi] != 1
                          ? b.getAffineConstantExpr(0)
                          : b.getAffineDimExpr(oi));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  Value init = emptyLike(outShape, outElt);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value r = fn(nb, l, args.drop_back());
        linalg::YieldOp::create(nb, l, r);
      });
  return generic.getResult(0);
}

Value Importer::reshape(Value v, ArrayRef<int64_t> shape) {
  auto type = typeOf(v);
  if (type.getShape() == shape)
    return v;
  Type elt = type.getElementType();
  // Collapse to one dimension (or none), then expand to the target.
  Value flat = v;
  if (type.getRank() != 1) {
    SmallVector<ReassociationIndices> re;
    if (type.getRank() > 0) {
      ReassociationIndices all;
      for (int64_t i = 0; i < type.getRank(); ++i)
        all.push_back(i);
      re.push_back(all);
    }
    auto flatType = RankedTensorType::get(
        type.getRank() == 0 ? SmallVector<int64_t>{1}
                            : SmallVector<int64_t>{type.getNumElements()},
        elt);
    if (type.getRank() == 0)
      flat = tensor::ExpandShapeOp::create(b, loc, flatType, v, re);
    else
      flat = tensor::CollapseShapeOp::create(b, loc, flatType, v, re);
  }
  auto outType = RankedTensorType::get(shape, elt);
  if (shape.size() == 1)
    return flat;
  SmallVector<ReassociationIndices> re;
  if (!shape.empty()) {
    ReassociationIndices all;
    for (int64_t i = 0; i < int64_t(shape.size()); ++i)
      all.push_back(i);
    re.push_back(all);
  }
  if (shape.empty())
    return tensor::CollapseShapeOp::create(b, loc, outType, flat, re);
  return tensor::ExpandShapeOp::create(b, loc, outType, flat, re);
}

Value Importer::transpose(Value v, ArrayRef<int64_t> perm) {
  auto type = typeOf(v);
  SmallVector<int64_t> shape;
  bool identity = true;
  for (auto [i, p] : llvm::enumerate(perm)) {
    shape.push_back(type.getDimSize(p));
    identity &= int64_t(i) == p;
  }
  if (identity)
    return v;
  Value init = emptyLike(shape, type.getElementType());
  return linalg::TransposeOp::create(b, loc, v, init, perm).getResult()[0];
}

Value Importer::sliceAxis(Value v, int64_t axis, int64_t start, int64_t size,
                          int64_t step) {
  auto type = typeOf(v);
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
  for (int64_t d : type.getShape())
    sizes.push_back(b.getIndexAttr(d));
  offsets[axis] = b.getIndexAttr(start);
  sizes[axis] = b.getIndexAttr(size);
  strides[axis] = b.getIndexAttr(step);
  return tensor::ExtractSliceOp::create(b, loc, v, offsets, sizes, strides);
}

/// The quantized element type of scale `scale` and zero point `zp` (per
/// tensor, or per axis `axis` when `scale` has more than one element) on
/// integer storage `storage`, after checking that the parameters are usable.
FailureOr<Type> Importer::quantType(const Const &scale, const Const *zp,
                                    int storage, int64_t axis, int64_t rank) {
  if (storage != kUint8 && storage != kInt8 && storage != kInt32 &&
      storage != kInt16 && storage != kUint16 && storage != kInt4 &&
      storage != kUint4)
    return error() << "quantized storage type " << typeName(storage)
                   << " is not supported (int4, uint4, int8, uint8, int16, "
                      "uint16, int32)";
  if (!scale.isFloat())
    return error() << "the scale must be float, not " << typeName(scale.dtype);
  if (scale.size() == 0)
    return error() << "the scale is empty";
  for (double s : scale.fps)
    if (!std::isfinite(s) || !(s > 0))
      return error() << "scale " << s
                     << " is not a positive finite number (a zero, negative, "
                        "infinite or NaN scale has no quantized meaning)";
  if (zp) {
    if (zp->isFloat())
      return error() << "the zero point must be an integer";
    if (zp->dtype != storage)
      return error() << "the zero point is " << typeName(zp->dtype)
                     << " but the quantized tensor is " << typeName(storage);
    if (zp->size() != scale.size())
      return error() << "the zero point has " << zp->size()
                     << " elements and the scale " << scale.size();
  }
  auto [lo, hi] = intRange(storage);
  SmallVector<int64_t> zps;
  for (int64_t i = 0; i < scale.size(); ++i) {
    int64_t z = zp ? zp->ints[i] : 0;
    if (z < lo || z > hi)
      return error() << "zero point " << z << " is outside the range ["
                     << lo << ", " << hi << "] of " << typeName(storage);
    if (storage == kInt32 && z != 0)
      return error() << "an int32 (bias) zero point must be 0, not " << z;
    zps.push_back(z);
  }
  bool isSigned = isSignedStorage(storage);
  unsigned bits = storageBits(storage);
  unsigned flags = isSigned ? quant::QuantizationFlags::Signed : 0;
  Type st = b.getIntegerType(bits), f32 = b.getF32Type();
  if (scale.size() == 1 && scale.shape.size() <= 1)
    return Type(quant::UniformQuantizedType::get(flags, st, f32, scale.fps[0],
                                                 zps[0], lo, hi));
  if (scale.shape.size() != 1)
    return error() << "a per-axis scale must be 1-D, not of rank "
                   << scale.shape.size()
                   << " (blocked QuantizeLinear/DequantizeLinear is not "
                      "supported)";
  if (failed(normalizeAxis(axis, rank)))
    return failure();
  return Type(quant::UniformQuantizedPerAxisType::get(
      flags, st, f32, scale.fps, zps, int32_t(axis), lo, hi));
}

/// `v` as a tensor of quantized type `qtype`: constants become an integer
/// constant and `quant.scast`; quantized values of another type with the same
/// storage are reinterpreted.
FailureOr<Value> Importer::asQuantized(Val &v, Type qtype) {
  Value x;
  if (v.cst) {
    if (v.cst->isFloat())
      return error() << "expected a quantized (integer) tensor, got float";
    Const c = *v.cst;
    // Stored as the storage type's bits.
    x = materialize(c);
  } else if (v.kind == Val::Tensor) {
    x = v.value;
  } else {
    return error() << "a quantized operand comes from an unsupported pattern";
  }
  auto type = typeOf(x);
  auto q = cast<quant::QuantizedType>(qtype);
  if (type.getElementType() == qtype)
    return x;
  if (auto have = dyn_cast<quant::QuantizedType>(type.getElementType())) {
    if (have.getStorageType() != q.getStorageType() ||
        have.isSigned() != q.isSigned())
      return error() << "the quantized operand is stored as " << have
                     << " but the parameters given need " << q;
    x = quant::StorageCastOp::create(
        b, loc, RankedTensorType::get(type.getShape(), have.getStorageType()),
        x);
    type = typeOf(x);
  }
  if (type.getElementType() != q.getStorageType())
    return error() << "expected " << q.getStorageType()
                   << " storage for the quantized operand, got "
                   << type.getElementType();
  return Value(quant::StorageCastOp::create(
      b, loc, RankedTensorType::get(type.getShape(), qtype), x));
}

//===----------------------------------------------------------------------===//
// Shape computations folded at import
//===----------------------------------------------------------------------===//

LogicalResult Importer::foldShapeOp(StringRef op, bool &folded) {
  folded = false;
  // Shape needs only the static shape of its input.
  if (op == "Shape") {
    auto shape = shapeOfInput(0);
    if (failed(shape))
      return failure();
    int64_t rank = shape->size();
    int64_t start = attrInt("start", 0), end = attrInt("end", rank);
    start = std::clamp(start < 0 ? start + rank : start, int64_t(0), rank);
    end = std::clamp(end < 0 ? end + rank : end, int64_t(0), rank);
    Const c;
    c.dtype = kInt64;
    for (int64_t i = start; i < end; ++i)
      c.ints.push_back((*shape)[i]);
    c.shape = {int64_t(c.ints.size())};
    if (failed(defineConst(0, std::move(c))))
      return failure();
    folded = true;
    return success();
  }
  if (op == "Constant") {
    Const c;
    if (auto *a = attr("value")) {
      if (failed(readTensor(a->t(), c)))
        return failure();
    } else if (auto *a = attr("value_float")) {
      c.dtype = kFloat;
      c.fps = {a->f()};
    } else if (auto *a = attr("value_floats")) {
      c.dtype = kFloat;
      c.fps.assign(a->floats().begin(), a->floats().end());
      c.shape = {int64_t(c.fps.size())};
    } else if (auto *a = attr("value_int")) {
      c.dtype = kInt64;
      c.ints = {a->i()};
    } else if (auto *a = attr("value_ints")) {
      c.dtype = kInt64;
      c.ints.assign(a->ints().begin(), a->ints().end());
      c.shape = {int64_t(c.ints.size())};
    } else {
      return error() << "only value, value_float(s) and value_int(s) "
                        "constants are supported";
    }
    if (failed(defineConst(0, std::move(c))))
      return failure();
    folded = true;
    return success();
  }
  if (op == "ConstantOfShape") {
    auto shape = constInput(0);
    if (failed(shape))
      return failure();
    if ((*shape)->isFloat())
      return error() << "the shape must be integers";
    Const c;
    c.dtype = kFloat;
    c.fps = {0.0};
    if (auto *a = attr("value"))
      if (failed(readTensor(a->t(), c)))
        return failure();
    if (c.size() != 1)
      return error() << "the value must hold one element";
    c.shape.assign((*shape)->ints.begin(), (*shape)->ints.end());
    for (int64_t d : c.shape)
      if (d < 0)
        return error() << "negative dimension " << d;
    if (failed(checkFoldSize(c.size())))
      return failure();
    if (c.isFloat())
      c.fps.assign(c.size(), c.fps[0]);
    else
      c.ints.assign(c.size(), c.ints[0]);
    if (failed(defineConst(0, std::move(c))))
      return failure();
    folded = true;
    return success();
  }

  // Everything else folds when its inputs are integer constants (shape
  // arithmetic) or, for the data-movement ops, constants of any type.
  static const llvm::StringSet<> foldable = {
      "Gather", "Concat", "Slice", "Unsqueeze", "Squeeze", "Reshape", "Cast",
      "Range", "Equal", "Where", "Add", "Sub", "Mul", "Div", "Expand",
      "Identity", "Not", "Less", "Greater", "Neg", "Abs", "Max", "Min",
      "Transpose", "Flatten", "Trilu"};
  if (!foldable.contains(op))
    return success();
  SmallVector<std::shared_ptr<Const>> in;
  for (int i = 0; i < node->input_size(); ++i) {
    if (inputName(i).empty()) {
      in.push_back(nullptr);
      continue;
    }
    auto v = lookup(inputName(i));
    if (failed(v))
      return failure();
    if (!(*v)->cst)
      return success();
    in.push_back((*v)->cst);
  }
  if (in.empty() || !in[0])
    return success();
  // Missing trailing inputs read as absent (null) rather than out of range.
  while (in.size() < 5)
    in.push_back(nullptr);
  // Arithmetic on float constants is left to the emitted ops (which
  // canonicalization may fold) except for the data-movement ops.
  bool arithmetic = op == "Add" || op == "Sub" || op == "Mul" ||
                    op == "Div" || op == "Equal" || op == "Less" ||
                    op == "Greater" || op == "Neg" || op == "Abs" ||
                    op == "Max" || op == "Min" || op == "Range" || op == "Not";
  if (arithmetic)
    for (auto &c : in)
      if (c && c->isFloat())
        return success();

  Const out;
  const Const &x = *in[0];
  out.dtype = x.dtype;
  auto gatherTo = [&](ArrayRef<int64_t> shape,
                      function_ref<int64_t(ArrayRef<int64_t>)> src) {
    if (failed(checkFoldSize(elementCount(shape))))
      return failure();
    out.shape.assign(shape.begin(), shape.end());
    forEachIndex(shape, [&](ArrayRef<int64_t> idx, int64_t) {
      int64_t s = src(idx);
      if (x.isFloat())
        out.fps.push_back(x.fps[s]);
      else
        out.ints.push_back(x.ints[s]);
    });
    return success();
  };
  auto xs = stridesOf(x.shape);

  if (op == "Identity") {
    out = x;
  } else if (op == "Cast") {
    int to = attrInt("to", kFloat);
    out.dtype = to;
    out.shape = x.shape;
    if (isFloatType(to)) {
      for (int64_t i = 0; i < x.size(); ++i)
        out.fps.push_back(x.at(i));
    } else if (isIntType(to)) {
      for (int64_t i = 0; i < x.size(); ++i) {
        double v = x.at(i);
        out.ints.push_back(to == kBool ? v != 0 : int64_t(v));
      }
    } else {
      return error() << "cast to type " << to << " is not supported";
    }
  } else if (op == "Reshape" || op == "Flatten" || op == "Unsqueeze" ||
             op == "Squeeze") {
    // Computed with the shape rules below (importFloatOp) on the value; here
    // only the data is copied.
    return success();
  } else if (op == "Gather") {
    if (!in[1] || in[1]->isFloat())
      return error() << "indices must be integers";
    int64_t rank = x.shape.size();
    if (rank == 0)
      return error() << "the data must have rank >= 1, not a scalar";
    int64_t axis = attrInt("axis", 0);
    if (failed(normalizeAxis(axis, rank)))
      return failure();
    const Const &ind = *in[1];
    SmallVector<int64_t> shape(x.shape.begin(), x.shape.begin() + axis);
    shape.append(ind.shape.begin(), ind.shape.end());
    shape.append(x.shape.begin() + axis + 1, x.shape.end());
    auto is = stridesOf(ind.shape);
    for (int64_t v : ind.ints)
      if (v < -x.shape[axis] || v >= x.shape[axis])
        return error() << "index " << v << " is out of range [0, "
                       << x.shape[axis] << ")";
    if (failed(gatherTo(shape, [&](ArrayRef<int64_t> idx) {
          int64_t flat = 0;
          for (int64_t d = 0; d < axis; ++d)
            flat += idx[d] * xs[d];
          int64_t ii = 0;
          for (size_t d = 0; d < ind.shape.size(); ++d)
            ii += idx[axis + d] * is[d];
          int64_t k = ind.ints[ii];
          if (k < 0)
            k += x.shape[axis];
          flat += k * xs[axis];
          for (int64_t d = axis + 1; d < rank; ++d)
            flat += idx[d + ind.shape.size() - 1] * xs[d];
          return flat;
        })))
      return failure();
  } else if (op == "Concat") {
    int64_t rank = x.shape.size();
    int64_t axis = attrInt("axis", 0);
    if (failed(normalizeAxis(axis, rank)))
      return failure();
    out.shape = x.shape;
    out.shape[axis] = 0;
    for (auto &c : ArrayRef(in).take_front(node->input_size())) {
      if (!c || c->shape.size() != size_t(rank) || c->dtype != x.dtype)
        return error() << "inputs must have the same rank and type";
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && c->shape[d] != x.shape[d])
          return error() << "inputs differ in dimension " << d << " ("
                         << x.shape[d] << " and " << c->shape[d]
                         << "), which is not the concatenation axis";
      out.shape[axis] += c->shape[axis];
    }
    if (failed(checkFoldSize(elementCount(out.shape))))
      return failure();
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= x.shape[d];
    for (int64_t o = 0; o < outer; ++o)
      for (auto &c : ArrayRef(in).take_front(node->input_size())) {
        int64_t chunk = c->size() / std::max<int64_t>(outer, 1);
        for (int64_t j = 0; j < chunk; ++j) {
          if (c->isFloat())
            out.fps.push_back(c->fps[o * chunk + j]);
          else
            out.ints.push_back(c->ints[o * chunk + j]);
        }
      }
  } else if (op == "Slice") {
    // Starts, ends, axes and steps as importFloatOp reads them.
    if (in.size() < 3 || !in[1] || !in[2])
      return success();
    int64_t rank = x.shape.size();
    SmallVector<int64_t> starts(rank, 0), sizes(x.shape), steps(rank, 1);
    size_t count = in[1]->ints.size();
    if (in[1]->isFloat() || in[2]->isFloat() || in[2]->ints.size() != count ||
        (in.size() > 3 && in[3] && in[3]->ints.size() != count) ||
        (in.size() > 4 && in[4] && in[4]->ints.size() != count))
      return error() << "starts, ends, axes and steps must be integers, one "
                        "per sliced axis";
    for (size_t i = 0; i < count; ++i) {
      int64_t a = in.size() > 3 && in[3] ? in[3]->ints[i] : int64_t(i);
      if (failed(normalizeAxis(a, rank)))
        return failure();
      int64_t step = in.size() > 4 && in[4] ? in[4]->ints[i] : 1;
      if (step <= 0)
        return error() << "only positive steps are supported";
      int64_t dim = x.shape[a], s = in[1]->ints[i], e = in[2]->ints[i];
      s = std::clamp<int64_t>(s < 0 ? s + dim : s, 0, dim);
      e = std::clamp<int64_t>(e < 0 ? e + dim : e, 0, dim);
      starts[a] = s;
      steps[a] = step;
      sizes[a] = stridedCount(s, e, step);
    }
    if (failed(gatherTo(sizes, [&](ArrayRef<int64_t> idx) {
          int64_t flat = 0;
          for (int64_t d = 0; d < rank; ++d)
            flat += (starts[d] + idx[d] * steps[d]) * xs[d];
          return flat;
        })))
      return failure();
  } else if (op == "Trilu") {
    auto diagonal = triluDiagonal(in[1].get());
    if (failed(diagonal))
      return failure();
    int64_t rank = x.shape.size();
    if (rank < 2)
      return error() << "the input must have rank >= 2, not " << rank;
    bool upper = attrInt("upper", 1) != 0;
    out.shape = x.shape;
    forEachIndex(x.shape, [&](ArrayRef<int64_t> idx, int64_t flat) {
      int64_t offset = idx[rank - 1] - idx[rank - 2];
      bool keep = upper ? offset >= *diagonal : offset <= *diagonal;
      if (x.isFloat())
        out.fps.push_back(keep ? x.fps[flat] : 0.0);
      else
        out.ints.push_back(keep ? x.ints[flat] : 0);
    });
  } else if (op == "Transpose" || op == "Expand") {
    return success(); // handled on values (constants are materialized)
  } else if (op == "Range") {
    if (!in[1] || !in[2] || x.size() != 1)
      return error() << "Range needs scalar start, limit and delta";
    if (in[1]->size() != 1 || in[2]->size() != 1)
      return error() << "Range needs scalar start, limit and delta";
    int64_t start = x.ints[0], limit = in[1]->ints[0], delta = in[2]->ints[0];
    if (delta == 0)
      return error() << "delta must not be 0";
    __int128 span = __int128(limit) - start;
    __int128 count = delta > 0 ? (span + delta - 1) / delta
                               : (span + delta + 1) / delta;
    if (failed(checkFoldSize(count > kMaxElements ? -1 : int64_t(count))))
      return failure();
    int64_t n = std::max<int64_t>(0, int64_t(count));
    for (int64_t i = 0; i < n; ++i)
      out.ints.push_back(start + i * delta);
    out.shape = {n};
  } else if (op == "Neg" || op == "Abs" || op == "Not") {
    out.shape = x.shape;
    for (int64_t v : x.ints)
      out.ints.push_back(op == "Neg"   ? int64_t(0 - uint64_t(v))
                         : op == "Abs" ? (v < 0 ? int64_t(0 - uint64_t(v)) : v)
                                       : !v);
  } else if (op == "Where") {
    if (!in[1] || !in[2])
      return failure();
    auto shape = broadcastShapes(x.shape, in[1]->shape);
    if (shape)
      shape = broadcastShapes(*shape, in[2]->shape);
    if (!shape)
      return error() << "shapes do not broadcast";
    if (failed(checkFoldSize(elementCount(*shape))))
      return failure();
    out.dtype = in[1]->dtype;
    out.shape = *shape;
    if (in[1]->isFloat() != in[2]->isFloat())
      return error() << "the branches have different types";
    if (x.isFloat())
      return error() << "the condition must be bool";
    forEachIndex(*shape, [&](ArrayRef<int64_t> idx, int64_t) {
      bool c = x.ints[broadcastIndex(x.shape, *shape, idx)];
      const Const &s = c ? *in[1] : *in[2];
      int64_t k = broadcastIndex(s.shape, *shape, idx);
      if (s.isFloat())
        out.fps.push_back(s.fps[k]);
      else
        out.ints.push_back(s.ints[k]);
    });
  } else {
    // Binary integer arithmetic and comparisons with broadcasting.
    if (!in[1])
      return error() << "expects two inputs";
    const Const &y = *in[1];
    auto shape = broadcastShapes(x.shape, y.shape);
    if (!shape)
      return error() << "shapes do not broadcast";
    if (failed(checkFoldSize(elementCount(*shape))))
      return failure();
    out.shape = *shape;
    bool compare = op == "Equal" || op == "Less" || op == "Greater";
    if (compare)
      out.dtype = kBool;
    LogicalResult status = success();
    forEachIndex(*shape, [&](ArrayRef<int64_t> idx, int64_t) {
      int64_t a = x.ints[broadcastIndex(x.shape, *shape, idx)];
      int64_t c = y.ints[broadcastIndex(y.shape, *shape, idx)];
      int64_t r = 0;
      bool overflow = false;
      if (op == "Add") overflow = __builtin_add_overflow(a, c, &r);
      else if (op == "Sub") overflow = __builtin_sub_overflow(a, c, &r);
      else if (op == "Mul") overflow = __builtin_mul_overflow(a, c, &r);
      else if (op == "Div") {
        overflow = c == 0 || (a == INT64_MIN && c == -1);
        r = overflow ? 0 : a / c;
      }
      if (overflow) {
        status = failure();
        return;
      }
      else if (op == "Equal") r = a == c;
      else if (op == "Less") r = a < c;
      else if (op == "Greater") r = a > c;
      else if (op == "Max") r = std::max(a, c);
      else if (op == "Min") r = std::min(a, c);
      out.ints.push_back(r);
    });
    if (failed(status))
      return error() << "integer overflow or division by zero in a shape "
                        "computation";
  }
  if (failed(defineConst(0, std::move(out))))
    return failure();
  folded = true;
  return success();
}

//===----------------------------------------------------------------------===//
// Float (and integer tensor) ops
//===----------------------------------------------------------------------===//

/// Whether `v` is an f32 constant splat equal to `x` (within a relative
/// 1e-6, as exporters print constants such as sqrt(2) with few digits).
static bool isSplat(const Val *v, double x, double tol = 1e-6) {
  if (!v || !v->cst || !v->cst->isFloat() || v->cst->size() < 1)
    return false;
  for (double f : v->cst->fps)
    if (std::fabs(f - x) > tol * std::max(1.0, std::fabs(x)))
      return false;
  return true;
}

LogicalResult Importer::importFloatOp(StringRef op, bool &handled) {
  handled = true;
  Type f32 = b.getF32Type();
  auto binaryShape = [&](Value x, Value y) -> FailureOr<SmallVector<int64_t>> {
    auto s = broadcastShapes(typeOf(x).getShape(), typeOf(y).getShape());
    if (!s)
      return error() << "shapes " << typeOf(x) << " and " << typeOf(y)
                     << " do not broadcast";
    return *s;
  };

  // --- Elementwise binary ---
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" ||
      op == "Pow" || op == "Equal" || op == "Less" || op == "Greater" ||
      op == "Max" || op == "Min") {
    auto x = tensorInput(0), y = tensorInput(1);
    if (failed(x) || failed(y))
      return failure();
    auto shape = binaryShape(*x, *y);
    if (failed(shape))
      return failure();
    Type ex = typeOf(*x).getElementType(), ey = typeOf(*y).getElementType();
    if (ex != ey)
      return error() << "operand element types differ (" << ex << " and "
                     << ey << ")";
    if (!ex.isF32() && !ex.isInteger())
      return error() << "element type " << ex << " is not supported";
    bool isFloat = ex.isF32();
    auto outType = RankedTensorType::get(*shape, ex);
    if (isFloat && op == "Add") {
      define(0, AddOp::create(b, loc, outType, *x, *y, RoundingMode::Float));
      return success();
    }
    if (isFloat && op == "Mul") {
      Value r = MulOp::create(b, loc, outType, *x, *y, RoundingMode::Float);
      if (options.raisePatterns)
        if (Value g = raiseGelu(*x, r)) {
          define(0, g);
          return success();
        }
      define(0, r);
      return success();
    }
    if (op == "Pow") {
      // x^2 and x^0.5 are what exported graphs use (variance, norms).
      Val *e = *lookup(inputName(1));
      if (isSplat(e, 2.0, 0)) {
        define(0, elementwise({*x}, *shape, f32, [](OpBuilder &nb, Location l,
                                                    ValueRange a) {
                 return arith::MulFOp::create(nb, l, a[0], a[0]).getResult();
               }));
        return success();
      }
      if (!isFloat)
        return error() << "integer Pow is not supported";
      define(0, elementwise({*x, *y}, *shape, f32,
                            [](OpBuilder &nb, Location l, ValueRange a) {
                              return math::PowFOp::create(nb, l, a[0], a[1])
                                  .getResult();
                            }));
      return success();
    }
    bool compare = op == "Equal" || op == "Less" || op == "Greater";
    Type outElt = compare ? b.getI1Type() : ex;
    std::string name = op.str();
    define(0, elementwise(
                  {*x, *y}, *shape, outElt,
                  [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                    Value p = a[0], q = a[1];
                    if (isFloat) {
                      if (name == "Add") return arith::AddFOp::create(nb, l, p, q);
                      if (name == "Sub") return arith::SubFOp::create(nb, l, p, q);
                      if (name == "Mul") return arith::MulFOp::create(nb, l, p, q);
                      if (name == "Div") return arith::DivFOp::create(nb, l, p, q);
                      if (name == "Max") return arith::MaximumFOp::create(nb, l, p, q);
                      if (name == "Min") return arith::MinimumFOp::create(nb, l, p, q);
                      auto pred = name == "Equal" ? arith::CmpFPredicate::OEQ
                                  : name == "Less" ? arith::CmpFPredicate::OLT
                                                   : arith::CmpFPredicate::OGT;
                      return arith::CmpFOp::create(nb, l, pred, p, q);
                    }
                    if (name == "Add") return arith::AddIOp::create(nb, l, p, q);
                    if (name == "Sub") return arith::SubIOp::create(nb, l, p, q);
                    if (name == "Mul") return arith::MulIOp::create(nb, l, p, q);
                    if (name == "Div")
                      return safeDivSI(nb, l, p, q);
                    if (name == "Max") return arith::MaxSIOp::create(nb, l, p, q);
                    if (name == "Min") return arith::MinSIOp::create(nb, l, p, q);
                    auto pred = name == "Equal" ? arith::CmpIPredicate::eq
                                : name == "Less" ? arith::CmpIPredicate::slt
                                                 : arith::CmpIPredicate::sgt;
                    return arith::CmpIOp::create(nb, l, pred, p, q);
                  }));
    return success();
  }

  // --- Elementwise unary ---
  if (op == "Sqrt" || op == "Reciprocal" || op == "Erf" || op == "Tanh" ||
      op == "Sigmoid" || op == "Relu" || op == "Neg" || op == "Exp" ||
      op == "Abs" || op == "Log" || op == "Cos" || op == "Sin") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    auto type = typeOf(*x);
    if (!type.getElementType().isF32())
      return error() << "expects f32, got " << type.getElementType();
    std::string name = op.str();
    define(0, elementwise({*x}, type.getShape(), f32,
                          [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                            Value v = a[0];
                            if (name == "Sqrt") return math::SqrtOp::create(nb, l, v);
                            Value one1 = arith::ConstantOp::create(
                                nb, l, nb.getF32FloatAttr(1.0f));
                            // Erf and Tanh through erfc and exp, which the
                            // CPU pipeline approximates in vector registers
                            // (vector erf/tanh would become libm calls).
                            if (name == "Erf")
                              return arith::SubFOp::create(
                                  nb, l, one1, math::ErfcOp::create(nb, l, v));
                            if (name == "Tanh") {
                              // 1 - 2 / (exp(2x) + 1)
                              Value two = arith::ConstantOp::create(
                                  nb, l, nb.getF32FloatAttr(2.0f));
                              Value e = math::ExpOp::create(
                                  nb, l, arith::MulFOp::create(nb, l, two, v));
                              return arith::SubFOp::create(
                                  nb, l, one1,
                                  arith::DivFOp::create(
                                      nb, l, two,
                                      arith::AddFOp::create(nb, l, e, one1)));
                            }
                            if (name == "Exp") return math::ExpOp::create(nb, l, v);
                            if (name == "Log") return math::LogOp::create(nb, l, v);
                            // libm's cosf and sinf (math-to-libm): exact to
                            // an ulp over the whole range, as ORT's are; the
                            // upstream polynomials lose digits on the large
                            // arguments of rotary tables (position * freq).
                            if (name == "Cos") return math::CosOp::create(nb, l, v);
                            if (name == "Sin") return math::SinOp::create(nb, l, v);
                            if (name == "Abs") return math::AbsFOp::create(nb, l, v);
                            if (name == "Neg") return arith::NegFOp::create(nb, l, v);
                            Value one = arith::ConstantOp::create(
                                nb, l, nb.getF32FloatAttr(1.0f));
                            if (name == "Reciprocal")
                              return arith::DivFOp::create(nb, l, one, v);
                            if (name == "Relu") {
                              Value zero = arith::ConstantOp::create(
                                  nb, l, nb.getF32FloatAttr(0.0f));
                              return arith::MaximumFOp::create(nb, l, v, zero);
                            }
                            // Sigmoid: 1 / (1 + exp(-x)).
                            Value e = math::ExpOp::create(
                                nb, l, arith::NegFOp::create(nb, l, v));
                            return arith::DivFOp::create(
                                nb, l, one, arith::AddFOp::create(nb, l, one, e));
                          }));
    return success();
  }

  if (op == "Identity") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    define(0, *x);
    return success();
  }

  if (op == "Cast") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    int to = attrInt("to", kFloat);
    auto dst = elementType(to);
    if (failed(dst))
      return failure();
    auto type = typeOf(*x);
    Type src = type.getElementType();
    if (src == *dst) {
      define(0, *x);
      return success();
    }
    if (isa<quant::QuantizedType>(src))
      return error() << "Cast of a quantized tensor is not supported";
    bool srcBool = src.isInteger(1);
    define(0, elementwise({*x}, type.getShape(), *dst,
                          [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                            Value v = a[0];
                            if (isa<FloatType>(*dst)) {
                              if (isa<FloatType>(src))
                                return arith::ExtFOp::create(nb, l, *dst, v);
                              if (srcBool)
                                return arith::UIToFPOp::create(nb, l, *dst, v);
                              return arith::SIToFPOp::create(nb, l, *dst, v);
                            }
                            if (isa<FloatType>(src))
                              return arith::FPToSIOp::create(nb, l, *dst, v);
                            if (dst->getIntOrFloatBitWidth() >
                                src.getIntOrFloatBitWidth())
                              return srcBool ? arith::ExtUIOp::create(nb, l, *dst, v).getResult()
                                             : arith::ExtSIOp::create(nb, l, *dst, v).getResult();
                            return arith::TruncIOp::create(nb, l, *dst, v);
                          }));
    return success();
  }

  if (op == "Where") {
    auto c = tensorInput(0), x = tensorInput(1), y = tensorInput(2);
    if (failed(c) || failed(x) || failed(y))
      return failure();
    auto s1 = binaryShape(*c, *x);
    if (failed(s1))
      return failure();
    auto s = broadcastShapes(*s1, typeOf(*y).getShape());
    if (!s)
      return error() << "shapes do not broadcast";
    define(0, elementwise({*c, *x, *y}, *s, typeOf(*x).getElementType(),
                          [](OpBuilder &nb, Location l, ValueRange a) {
                            return arith::SelectOp::create(nb, l, a[0], a[1],
                                                           a[2])
                                .getResult();
                          }));
    return success();
  }

  if (op == "Trilu") {
    // A tensor known only at run time (constants fold in foldShapeOp): the
    // elements outside the triangle become zero, by their last two indices.
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    std::shared_ptr<Const> k;
    if (!inputName(1).empty()) {
      auto kc = constInput(1);
      if (failed(kc))
        return failure();
      k = *kc;
    }
    auto diagonal = triluDiagonal(k.get());
    if (failed(diagonal))
      return failure();
    auto type = typeOf(*x);
    int64_t rank = type.getRank();
    if (rank < 2)
      return error() << "the input must have rank >= 2, not " << rank;
    Type elt = type.getElementType();
    if (!elt.isF32() && !elt.isInteger())
      return error() << "element type " << elt << " is not supported";
    bool upper = attrInt("upper", 1) != 0;
    int64_t diag = *diagonal;
    define(0, elementwise({*x}, type.getShape(), elt,
                          [&](OpBuilder &nb, Location l, ValueRange a) {
                            Value i = linalg::IndexOp::create(nb, l, rank - 2);
                            Value j = linalg::IndexOp::create(nb, l, rank - 1);
                            Value offset = arith::SubIOp::create(nb, l, j, i);
                            Value kv = arith::ConstantIndexOp::create(nb, l, diag);
                            Value keep = arith::CmpIOp::create(
                                nb, l,
                                upper ? arith::CmpIPredicate::sge
                                      : arith::CmpIPredicate::sle,
                                offset, kv);
                            Value zero = arith::ConstantOp::create(
                                nb, l, nb.getZeroAttr(elt));
                            return arith::SelectOp::create(nb, l, keep, a[0],
                                                           zero)
                                .getResult();
                          }));
    return success();
  }

  // --- Matrix products ---
  if (op == "MatMul" || op == "Gemm") {
    auto x = tensorInput(0), w = tensorInput(1);
    if (failed(x) || failed(w))
      return failure();
    Value a = *x, bm = *w;
    if (op == "Gemm") {
      if (typeOf(a).getRank() != 2 || typeOf(bm).getRank() != 2)
        return error() << "Gemm operands must be 2-D";
      if (attrInt("transA", 0))
        a = transpose(a, {1, 0});
      if (attrInt("transB", 0))
        bm = transpose(bm, {1, 0});
    }
    auto ta = typeOf(a), tb = typeOf(bm);
    // f32 activations times blocked weights (DequantizeLinear with
    // block_size along K, ORT's 4-bit quantizer in QDQ form): the weight-only
    // matmul on the stored weights, with the activations quantized per row to
    // int8 at run time, as for MatMulNBits. ONNX Runtime fuses this pattern
    // into MatMulNBits too, at accuracy level 4 (int8 activations) unless
    // session.qdq_matmulnbits_accuracy_level says otherwise. Activations
    // that are themselves dequantized stay for qlow-fold-qdq.
    if (op == "MatMul" && ta.getElementType().isF32() && ta.getRank() >= 2 &&
        !a.getDefiningOp<DequantizeOp>())
      if (auto dq = bm.getDefiningOp<DequantizeOp>()) {
        auto wt = dq.getInput().getType();
        auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(
            wt.getElementType());
        if (sub && wt.getRank() == 2 &&
            sub.getScales().getType().getDimSize(1) == wt.getDimSize(1) &&
            ta.getShape().back() == wt.getDimSize(0)) {
          SmallVector<int64_t> shape(ta.getShape());
          shape.back() = wt.getDimSize(1);
          auto dyn = DynamicQuantAttr::get(ctx, DynamicGranularity::PerRow,
                                           DynamicStorage::I8,
                                           QuantScheme::Symmetric);
          Value weights = dq.getInput();
          if (sub.getScales().getType().getDimSize(0) == 1) {
            // One block of all K (per output channel): the per-axis type
            // with the same scales and zero points, which the int8 kernels
            // take.
            SmallVector<double> scales;
            for (APFloat s : sub.getScales().getValues<APFloat>())
              scales.push_back(s.convertToDouble());
            SmallVector<int64_t> zps;
            for (APInt z : sub.getZeroPoints().getValues<APInt>())
              zps.push_back(sub.isSigned() ? z.getSExtValue()
                                           : int64_t(z.getZExtValue()));
            auto perAxis = quant::UniformQuantizedPerAxisType::get(
                sub.getFlags(), sub.getStorageType(), sub.getExpressedType(),
                scales, zps, /*quantizedDimension=*/1,
                sub.getStorageTypeMin(), sub.getStorageTypeMax());
            weights = quant::StorageCastOp::create(
                b, loc,
                RankedTensorType::get(wt.getShape(), sub.getStorageType()),
                weights);
            weights = quant::StorageCastOp::create(
                b, loc, RankedTensorType::get(wt.getShape(), perAxis),
                weights);
          }
          define(0, MatmulOp::create(b, loc, RankedTensorType::get(shape, f32),
                                     a, weights, Value(),
                                     RoundingMode::Float, dyn));
          return success();
        }
      }
    if (!ta.getElementType().isF32() || !tb.getElementType().isF32())
      return error() << "expects f32 operands (quantized models use "
                        "QLinearMatMul, MatMulInteger or QDQ)";
    if (ta.getRank() < 2 || tb.getRank() < 2)
      return error() << "1-D operands are not supported";
    int64_t k = ta.getShape().back();
    if (tb.getDimSize(tb.getRank() - 2) != k)
      return error() << "inner dimensions differ: " << ta << " and " << tb;
    SmallVector<int64_t> shape(ta.getShape());
    shape.back() = tb.getShape().back();
    if (tb.getRank() > 2) {
      if (tb.getRank() != ta.getRank() ||
          ta.getShape().drop_back(2) != tb.getShape().drop_back(2))
        return error() << "batched MatMul needs the same batch dimensions ("
                       << ta << " and " << tb
                       << "); broadcast batches are not supported";
    }
    Value bias;
    float alpha = 1, beta = 1;
    if (op == "Gemm") {
      alpha = attrFloat("alpha", 1.0f);
      beta = attrFloat("beta", 1.0f);
      if (hasInput(2)) {
        auto c = tensorInput(2);
        if (failed(c))
          return failure();
        bias = *c;
      }
    }
    auto outType = RankedTensorType::get(shape, f32);
    Value r;
    bool biasInMatmul = bias && alpha == 1 && beta == 1 &&
                        typeOf(bias).getRank() == 1 &&
                        typeOf(bias).getDimSize(0) == shape.back();
    r = MatmulOp::create(b, loc, outType, a, bm,
                         biasInMatmul ? bias : Value(), RoundingMode::FixedPoint,
                         DynamicQuantAttr());
    if (alpha != 1)
      r = MulOp::create(b, loc, outType, r, constantF32({}, {alpha}),
                        RoundingMode::Float);
    if (bias && !biasInMatmul) {
      Value c = bias;
      if (beta != 1)
        c = MulOp::create(b, loc, typeOf(c), c, constantF32({}, {beta}),
                          RoundingMode::Float);
      r = AddOp::create(b, loc, outType, r, c, RoundingMode::Float);
    }
    define(0, r);
    return success();
  }

  // --- Normalization, softmax, activations ---
  if (op == "Softmax") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    int64_t rank = typeOf(*x).getRank();
    int64_t axis = attrInt("axis", opset >= 13 ? -1 : 1);
    if (failed(normalizeAxis(axis, rank)))
      return failure();
    if (opset < 13 && axis != rank - 1)
      return error() << "Softmax before opset 13 flattens from axis " << axis
                     << "; only the last axis is supported";
    define(0, SoftmaxOp::create(b, loc, typeOf(*x), *x, axis));
    return success();
  }
  if (op == "LayerNormalization") {
    auto x = tensorInput(0), g = tensorInput(1);
    if (failed(x) || failed(g))
      return failure();
    int64_t rank = typeOf(*x).getRank();
    int64_t axis = attrInt("axis", -1);
    if (failed(normalizeAxis(axis, rank)))
      return failure();
    if (axis != rank - 1)
      return error() << "only normalization over the last axis is supported "
                        "(axis = "
                     << axis << ")";
    for (int i = 1; i < node->output_size(); ++i)
      if (!node->output(i).empty())
        return error() << "the Mean and InvStdDev outputs are not supported";
    Value beta;
    if (hasInput(2)) {
      auto bt = tensorInput(2);
      if (failed(bt))
        return failure();
      beta = *bt;
    }
    int64_t d = typeOf(*x).getShape().back();
    Value gamma = reshape(*g, {d});
    if (beta)
      beta = reshape(beta, {d});
    define(0, LayerNormOp::create(b, loc, typeOf(*x), *x, gamma, beta,
                                  b.getF32FloatAttr(attrFloat("epsilon", 1e-5f))));
    return success();
  }
  if (op == "Gelu" || op == "FastGelu") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    if (op == "FastGelu" && hasInput(1))
      return error() << "FastGelu with a bias is not supported";
    auto approx = op == "FastGelu" ||
                          (attr("approximate") && attr("approximate")->s() == "tanh")
                      ? GeluApproximation::Tanh
                      : GeluApproximation::None;
    define(0, GeluOp::create(b, loc, typeOf(*x), *x, approx));
    return success();
  }
  if (op == "ReduceMean") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    auto type = typeOf(*x);
    int64_t rank = type.getRank();
    SmallVector<int64_t> axes;
    if (auto a = attrInts("axes"))
      axes = *a;
    else if (hasInput(1)) {
      auto c = constInput(1);
      if (failed(c))
        return failure();
      axes.assign((*c)->ints.begin(), (*c)->ints.end());
    }
    if (axes.empty())
      for (int64_t i = 0; i < rank; ++i)
        axes.push_back(i);
    SmallVector<bool> reduced(rank, false);
    for (int64_t a : axes) {
      if (failed(normalizeAxis(a, rank)))
        return failure();
      reduced[a] = true;
    }
    SmallVector<int64_t> kept, keptDims;
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iters;
    int64_t count = 1;
    for (int64_t i = 0; i < rank; ++i) {
      iters.push_back(reduced[i] ? utils::IteratorType::reduction
                                 : utils::IteratorType::parallel);
      if (reduced[i]) {
        count *= type.getDimSize(i);
        keptDims.push_back(1);
      } else {
        kept.push_back(type.getDimSize(i));
        keptDims.push_back(type.getDimSize(i));
        outExprs.push_back(b.getAffineDimExpr(i));
      }
    }
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    Value init = linalg::FillOp::create(b, loc, zero, emptyLike(kept, f32))
                     .getResult(0);
    auto sum = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{*x}, ValueRange{init},
        SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank),
                               AffineMap::get(rank, 0, outExprs, ctx)},
        iters, [](OpBuilder &nb, Location l, ValueRange a) {
          linalg::YieldOp::create(nb, l,
                                  ValueRange{arith::AddFOp::create(nb, l, a[0], a[1])});
        });
    float inv = 1.0f / float(count);
    Value mean = elementwise({sum.getResult(0)}, kept, f32,
                             [&](OpBuilder &nb, Location l, ValueRange a) {
                               Value c = arith::ConstantOp::create(
                                   nb, l, nb.getF32FloatAttr(inv));
                               return arith::MulFOp::create(nb, l, a[0], c)
                                   .getResult();
                             });
    define(0, attrInt("keepdims", 1) ? reshape(mean, keptDims) : mean);
    return success();
  }

  // --- Data movement ---
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
      op == "Unsqueeze") {
    auto v = lookup(inputName(0));
    if (failed(v))
      return failure();
    auto shape = shapeOfInput(0);
    if (failed(shape))
      return failure();
    int64_t rank = shape->size();
    int64_t n = elementCount(*shape);
    SmallVector<int64_t> out;
    if (op == "Reshape") {
      auto target = constInput(1);
      if (failed(target))
        return failure();
      bool allowZero = attrInt("allowzero", 0);
      int64_t known = 1, infer = -1;
      for (auto [i, d] : llvm::enumerate((*target)->ints)) {
        int64_t dim = d;
        if (dim == 0 && !allowZero) {
          if (int64_t(i) >= rank)
            return error() << "dimension 0 copies an input dimension that "
                              "does not exist";
          dim = (*shape)[i];
        }
        if (dim == -1) {
          if (infer >= 0)
            return error() << "more than one -1 in the target shape";
          infer = i;
          out.push_back(1);
          continue;
        }
        if (dim < 0)
          return error() << "invalid target dimension " << dim;
        if (__builtin_mul_overflow(known, dim, &known) || known > kMaxElements)
          return error() << "the target shape is too large";
        out.push_back(dim);
      }
      if (infer >= 0) {
        if (known == 0 || n % known != 0)
          return error() << "cannot infer -1: " << n
                         << " elements do not divide by " << known;
        out[infer] = n / known;
      }
    } else if (op == "Flatten") {
      int64_t axis = attrInt("axis", 1);
      if (axis < 0)
        axis += rank;
      int64_t outer = 1;
      for (int64_t i = 0; i < axis; ++i)
        outer *= (*shape)[i];
      out = {outer, outer ? n / outer : 0};
    } else {
      SmallVector<int64_t> axes;
      if (auto a = attrInts("axes"))
        axes = *a;
      else if (hasInput(1)) {
        auto c = constInput(1);
        if (failed(c))
          return failure();
        axes.assign((*c)->ints.begin(), (*c)->ints.end());
      }
      if (op == "Squeeze") {
        SmallVector<bool> drop(rank, false);
        if (axes.empty())
          for (int64_t i = 0; i < rank; ++i)
            drop[i] = (*shape)[i] == 1;
        for (int64_t a : axes) {
          if (failed(normalizeAxis(a, rank)))
            return failure();
          if ((*shape)[a] != 1)
            return error() << "cannot squeeze axis " << a << " of size "
                           << (*shape)[a];
          drop[a] = true;
        }
        for (int64_t i = 0; i < rank; ++i)
          if (!drop[i])
            out.push_back((*shape)[i]);
      } else {
        int64_t outRank = rank + axes.size();
        SmallVector<bool> ins(outRank, false);
        for (int64_t a : axes) {
          if (failed(normalizeAxis(a, outRank)))
            return failure();
          ins[a] = true;
        }
        int64_t j = 0;
        for (int64_t i = 0; i < outRank; ++i)
          out.push_back(ins[i] ? 1 : (*shape)[j++]);
      }
    }
    if (elementCount(out) != n)
      return error() << "cannot reshape " << n << " elements to the shape ["
                     << llvm::make_range(out.begin(), out.end()) << "]";
    if ((*v)->cst) {
      Const c = *(*v)->cst;
      c.shape = out;
      return defineConst(0, std::move(c));
    }
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    define(0, reshape(*x, out));
    return success();
  }
  if (op == "Transpose") {
    auto v = lookup(inputName(0));
    if (failed(v))
      return failure();
    auto shape = shapeOfInput(0);
    if (failed(shape))
      return failure();
    int64_t rank = shape->size();
    SmallVector<int64_t> perm;
    if (auto p = attrInts("perm"))
      perm = *p;
    else
      for (int64_t i = rank - 1; i >= 0; --i)
        perm.push_back(i);
    SmallVector<bool> seen(rank, false);
    if (int64_t(perm.size()) != rank)
      return error() << "perm has " << perm.size() << " entries for rank "
                     << rank;
    for (int64_t p : perm) {
      if (p < 0 || p >= rank || seen[p])
        return error() << "perm is not a permutation";
      seen[p] = true;
    }
    if ((*v)->cst) {
      // Weights transposed at import (Gemm with transB, exported Linear).
      const Const &c = *(*v)->cst;
      Const out;
      out.dtype = c.dtype;
      for (int64_t p : perm)
        out.shape.push_back(c.shape[p]);
      auto cs = stridesOf(c.shape);
      forEachIndex(out.shape, [&](ArrayRef<int64_t> idx, int64_t) {
        int64_t flat = 0;
        for (int64_t i = 0; i < rank; ++i)
          flat += idx[i] * cs[perm[i]];
        if (c.isFloat())
          out.fps.push_back(c.fps[flat]);
        else
          out.ints.push_back(c.ints[flat]);
      });
      return defineConst(0, std::move(out));
    }
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    if (Value t = transposeBlockedWeights(*x, perm)) {
      define(0, t);
      return success();
    }
    define(0, transpose(*x, perm));
    return success();
  }
  if (op == "Concat") {
    if (node->input_size() == 0)
      return error() << "Concat needs at least one input";
    SmallVector<Value> ins;
    for (int i = 0; i < node->input_size(); ++i) {
      auto x = tensorInput(i);
      if (failed(x))
        return failure();
      ins.push_back(*x);
    }
    int64_t rank = typeOf(ins[0]).getRank();
    int64_t axis = attrInt("axis", 0);
    if (failed(normalizeAxis(axis, rank)))
      return failure();
    if (ins.size() == 1) {
      define(0, ins[0]);
      return success();
    }
    RankedTensorType first = typeOf(ins[0]);
    for (Value in : ArrayRef<Value>(ins).drop_front()) {
      RankedTensorType type = typeOf(in);
      bool matches = type.getRank() == rank &&
                     type.getElementType() == first.getElementType();
      for (int64_t d = 0; matches && d < rank; ++d)
        matches = d == axis || type.getDimSize(d) == first.getDimSize(d);
      if (!matches)
        return error() << "inputs " << first << " and " << type
                       << " do not concatenate along axis " << axis
                       << " (the same rank and element type, and the same "
                          "sizes except along the axis)";
    }
    define(0, tensor::ConcatOp::create(b, loc, axis, ins));
    return success();
  }
  if (op == "Slice") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    auto starts = constInput(1), ends = constInput(2);
    if (failed(starts) || failed(ends))
      return failure();
    auto type = typeOf(*x);
    int64_t rank = type.getRank();
    SmallVector<int64_t> axes, steps;
    if (hasInput(3)) {
      auto c = constInput(3);
      if (failed(c))
        return failure();
      axes.assign((*c)->ints.begin(), (*c)->ints.end());
    } else {
      for (size_t i = 0; i < (*starts)->ints.size(); ++i)
        axes.push_back(i);
    }
    if (hasInput(4)) {
      auto c = constInput(4);
      if (failed(c))
        return failure();
      steps.assign((*c)->ints.begin(), (*c)->ints.end());
    } else {
      steps.assign(axes.size(), 1);
    }
    if ((*starts)->ints.size() != axes.size() ||
        (*ends)->ints.size() != axes.size() || steps.size() != axes.size())
      return error() << "starts, ends, axes and steps must have one entry "
                        "per sliced axis";
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes,
        strides(rank, b.getIndexAttr(1));
    SmallVector<int64_t> outShape(type.getShape());
    for (int64_t d : type.getShape())
      sizes.push_back(b.getIndexAttr(d));
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t a = axes[i];
      if (failed(normalizeAxis(a, rank)))
        return failure();
      int64_t dim = type.getDimSize(a), step = steps[i];
      if (step <= 0)
        return error() << "only positive steps are supported (step "
                       << step << ")";
      int64_t s = (*starts)->ints[i], e = (*ends)->ints[i];
      if (s < 0)
        s += dim;
      if (e < 0)
        e += dim;
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      int64_t n = stridedCount(s, e, step);
      offsets[a] = b.getIndexAttr(s);
      sizes[a] = b.getIndexAttr(n);
      strides[a] = b.getIndexAttr(step);
      outShape[a] = n;
    }
    auto outType = RankedTensorType::get(outShape, type.getElementType());
    define(0, tensor::ExtractSliceOp::create(b, loc, outType, *x, offsets,
                                             sizes, strides));
    return success();
  }
  if (op == "Split") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    auto type = typeOf(*x);
    int64_t axis = attrInt("axis", 0);
    if (failed(normalizeAxis(axis, type.getRank())))
      return failure();
    int64_t dim = type.getDimSize(axis);
    SmallVector<int64_t> split;
    if (auto s = attrInts("split"))
      split = *s;
    else if (hasInput(1)) {
      auto c = constInput(1);
      if (failed(c))
        return failure();
      split.assign((*c)->ints.begin(), (*c)->ints.end());
    } else {
      int64_t parts = node->output_size();
      int64_t each = (dim + parts - 1) / parts;
      for (int64_t i = 0; i < parts; ++i)
        split.push_back(std::min(each, dim - i * each));
    }
    if (llvm::any_of(split, [](int64_t v) { return v < 0; }) ||
        int64_t(split.size()) != node->output_size() ||
        std::accumulate(split.begin(), split.end(), __int128(0)) != dim)
      return error() << "the split sizes do not add up to the dimension "
                     << dim << " over " << node->output_size() << " outputs";
    int64_t start = 0;
    for (auto [i, n] : llvm::enumerate(split)) {
      define(i, sliceAxis(*x, axis, start, n));
      start += n;
    }
    return success();
  }
  if (op == "Gather") {
    auto data = lookup(inputName(0));
    if (failed(data))
      return failure();
    auto shape = shapeOfInput(0);
    if (failed(shape))
      return failure();
    int64_t rank = shape->size();
    if (rank == 0)
      return error() << "the data must have rank >= 1, not a scalar";
    int64_t axis = attrInt("axis", 0);
    if (failed(normalizeAxis(axis, rank)))
      return failure();
    auto idx = lookup(inputName(1));
    if (failed(idx))
      return failure();
    if (!(*idx)->cst) {
      // Runtime indices into a table: an embedding lookup.
      if (axis != 0 || rank != 2)
        return error() << "Gather with run-time indices is supported on a "
                          "2-D table along axis 0 (an embedding)";
      auto table = tensorInput(0), ids = tensorInput(1);
      if (failed(table) || failed(ids))
        return failure();
      SmallVector<int64_t> outShape(typeOf(*ids).getShape());
      outShape.push_back((*shape)[1]);
      define(0, EmbeddingOp::create(
                    b, loc,
                    RankedTensorType::get(outShape,
                                          typeOf(*table).getElementType()),
                    *table, *ids));
      return success();
    }
    const Const &ind = *(*idx)->cst;
    if (ind.isFloat())
      return error() << "indices must be integers";
    if (ind.ints.empty())
      return error() << "Gather with an empty index tensor (an empty result) "
                        "is not supported";
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    SmallVector<Value> parts;
    for (int64_t k : ind.ints) {
      if (k < -(*shape)[axis] || k >= (*shape)[axis])
        return error() << "index " << k << " is out of range for dimension "
                       << (*shape)[axis];
      parts.push_back(sliceAxis(*x, axis, k < 0 ? k + (*shape)[axis] : k, 1));
    }
    Value all = parts.size() == 1
                    ? parts[0]
                    : Value(tensor::ConcatOp::create(b, loc, axis, parts));
    SmallVector<int64_t> outShape(shape->begin(), shape->begin() + axis);
    outShape.append(ind.shape.begin(), ind.shape.end());
    outShape.append(shape->begin() + axis + 1, shape->end());
    define(0, reshape(all, outShape));
    return success();
  }
  if (op == "Expand") {
    auto x = tensorInput(0);
    auto target = constInput(1);
    if (failed(x) || failed(target))
      return failure();
    if ((*target)->isFloat())
      return error() << "the shape must be integers";
    auto s = broadcastShapes(typeOf(*x).getShape(), (*target)->ints);
    if (!s || elementCount(*s) < 0)
      return error() << "shape does not broadcast or is too large";
    define(0, elementwise({*x}, *s, typeOf(*x).getElementType(),
                          [](OpBuilder &, Location, ValueRange a) {
                            return a[0];
                          }));
    return success();
  }
  handled = false;
  return success();
}

/// GELU in its erf form, `(x * 0.5) * (1 + erf(x / sqrt 2))` or
/// `x * (0.5 * (1 + erf(x / sqrt 2)))` (the product in either order), ends in
/// the qlow.mul `mulResult`; returns a qlow.gelu of x when it matches (the
/// dead decomposition is erased), or null.
Value Importer::raiseGelu(Value lhs, Value mulResult) {
  auto mul = mulResult.getDefiningOp<MulOp>();
  auto constEquals = [](Value v, double x) {
    DenseElementsAttr attr;
    auto c = v.getDefiningOp<arith::ConstantOp>();
    if (!c || !(attr = dyn_cast<DenseElementsAttr>(c.getValue())) ||
        !attr.getElementType().isF32() || attr.getNumElements() != 1)
      return false;
    double f = (*attr.getValues<float>().begin());
    return std::fabs(f - x) <= 1e-5 * std::fabs(x);
  };
  auto genericBody = [](Value v) -> Operation * {
    auto g = v.getDefiningOp<linalg::GenericOp>();
    if (!g || g.getNumDpsInputs() < 1)
      return nullptr;
    auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
    return yield.getOperand(0).getDefiningOp();
  };
  // (1 + erf(x / sqrt2)) as qlow.add(generic erf(generic div(x, c)), 1).
  auto matchOnePlusErf = [&](Value v, Value &x) {
    auto add = v.getDefiningOp<AddOp>();
    if (!add)
      return false;
    for (int side = 0; side < 2; ++side) {
      Value e = side ? add.getRhs() : add.getLhs();
      Value one = side ? add.getLhs() : add.getRhs();
      if (!constEquals(one, 1.0))
        continue;
      // Erf is imported as 1 - erfc(x).
      Operation *erf = genericBody(e);
      if (!erf || !isa<arith::SubFOp>(erf) ||
          !erf->getOperand(1).getDefiningOp<math::ErfcOp>())
        continue;
      Value scaled = e.getDefiningOp<linalg::GenericOp>().getDpsInputs()[0];
      // x / sqrt(2) (Div) or x * (1 / sqrt(2)) (qlow.mul).
      if (auto g = scaled.getDefiningOp<linalg::GenericOp>()) {
        Operation *div = genericBody(scaled);
        if (div && isa<arith::DivFOp>(div) && g.getNumDpsInputs() == 2 &&
            constEquals(g.getDpsInputs()[1], std::sqrt(2.0))) {
          x = g.getDpsInputs()[0];
          return true;
        }
      }
      if (auto m = scaled.getDefiningOp<MulOp>())
        if (constEquals(m.getRhs(), 1.0 / std::sqrt(2.0))) {
          x = m.getLhs();
          return true;
        }
    }
    return false;
  };
  if (!mul)
    return nullptr;
  Value x;
  // Form A: (x * 0.5) * (1 + erf(...)) or (1 + erf) * (x * 0.5); or
  // (x * (1 + erf)) * 0.5.
  for (int side = 0; side < 2; ++side) {
    Value p = side ? mul.getRhs() : mul.getLhs();
    Value q = side ? mul.getLhs() : mul.getRhs();
    if (constEquals(q, 0.5)) {
      if (auto inner = p.getDefiningOp<MulOp>())
        for (int s2 = 0; s2 < 2; ++s2) {
          Value u = s2 ? inner.getRhs() : inner.getLhs();
          Value w = s2 ? inner.getLhs() : inner.getRhs();
          if (matchOnePlusErf(w, x) && x == u) {
            x = u;
            goto found;
          }
        }
    }
    if (auto half = p.getDefiningOp<MulOp>()) {
      if (constEquals(half.getRhs(), 0.5) && matchOnePlusErf(q, x) &&
          x == half.getLhs())
        goto found;
    }
  }
  return nullptr;
found:
  if (typeOf(x) != typeOf(mulResult))
    return nullptr;
  (void)lhs;
  return GeluOp::create(b, loc, typeOf(x), x, GeluApproximation::None);
}

//===----------------------------------------------------------------------===//
// Quantized ops
//===----------------------------------------------------------------------===//

/// DequantizeLinear with `block_size` (opset 21) of the integer initializer
/// `x`: `y = (x - zp) * scale`, where the scale and zero point of element i
/// are those of block `i[axis] / block_size` along `axis` (ORT's 4-bit
/// quantizer writes int4 weights in QDQ form this way). The weights stay
/// integers, as a sub-channel type (blocks of `block_size` along `axis`,
/// 1 along every other dimension), behind `quant.scast`, dequantized by
/// `qlow.dequantize`. A MatMul with such weights along K becomes the
/// weight-only int4/int8 matmul (see the MatMul import).
///
/// Stored values are rewritten where upstream's types or printer need it,
/// always to the same dequantized values:
/// - a negative scale (ORT's symmetric quantizer maps the largest magnitude
///   to -8): every element becomes `sign(s) * (q - zp)` in i8 with zero
///   point 0 and scale `|s|`, when those fit in i8;
/// - unsigned storage with a zero point of 2^(bits-1) or more (upstream
///   prints such a sub-channel zero point as a negative number, which does
///   not parse back): `q - 2^(bits-1)` and `zp - 2^(bits-1)` in the signed
///   type of the same width.
/// The elements of `attr` (row-major over `shape`) permuted by `perm`, as
/// linalg.transpose orders them: result index i reads source index perm[i].
static DenseElementsAttr transposeAttr(DenseElementsAttr attr,
                                       ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(attr.getType());
  ArrayRef<int64_t> shape = type.getShape();
  SmallVector<int64_t> outShape;
  for (int64_t p : perm)
    outShape.push_back(shape[p]);
  auto outType = RankedTensorType::get(outShape, type.getElementType());
  SmallVector<int64_t> strides = stridesOf(shape);
  auto permute = [&](auto values) {
    SmallVector<std::decay_t<decltype(*values.begin())>> in(values);
    decltype(in) out;
    out.reserve(in.size());
    SmallVector<int64_t> idx(outShape.size(), 0);
    for (size_t n = 0; n < in.size(); ++n) {
      int64_t flat = 0;
      for (size_t i = 0; i < idx.size(); ++i)
        flat += idx[i] * strides[perm[i]];
      out.push_back(in[flat]);
      for (int64_t i = int64_t(idx.size()) - 1; i >= 0; --i) {
        if (++idx[i] < outShape[i])
          break;
        idx[i] = 0;
      }
    }
    return DenseElementsAttr::get(outType, out);
  };
  if (isa<FloatType>(type.getElementType()))
    return permute(attr.getValues<APFloat>());
  return permute(attr.getValues<APInt>());
}

/// Transpose of blocked weights (`qlow.dequantize` of a constant of a
/// sub-channel type, as importBlockedDequantize makes them): the dequantize
/// of the transposed constant with the transposed type (scales, zero points
/// and block sizes permuted alike), which is the same f32 tensor. ORT's
/// symmetric per-channel 4-bit quantizer in QDQ form writes the weights
/// [N, K], dequantizes them and transposes them for the MatMul: this keeps
/// them quantized for it. Returns null for anything else.
Value Importer::transposeBlockedWeights(Value v, ArrayRef<int64_t> perm) {
  auto dq = v.getDefiningOp<DequantizeOp>();
  auto scast = dq ? dq.getInput().getDefiningOp<quant::StorageCastOp>()
                  : quant::StorageCastOp();
  DenseElementsAttr stored;
  if (!scast || !matchPattern(scast.getInput(), m_Constant(&stored)))
    return Value();
  auto type = cast<RankedTensorType>(scast.getType());
  auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(
      getElementTypeOrSelf(type));
  if (!sub || int64_t(perm.size()) != type.getRank())
    return Value();
  // Block size of each dimension (1 where the type names none).
  SmallVector<int64_t> blocks(type.getRank(), 1);
  for (auto [dim, size] : sub.getBlockSizeInfo())
    blocks[dim] = size;
  SmallVector<int32_t> dims;
  SmallVector<int64_t> outBlocks;
  for (auto [i, p] : llvm::enumerate(perm)) {
    dims.push_back(int32_t(i));
    outBlocks.push_back(blocks[p]);
  }
  auto qtype = quant::UniformQuantizedSubChannelType::getChecked(
      [&] { return error(); }, sub.getFlags(), sub.getStorageType(),
      sub.getExpressedType(), transposeAttr(sub.getScales(), perm),
      transposeAttr(sub.getZeroPoints(), perm), dims, outBlocks,
      sub.getStorageTypeMin(), sub.getStorageTypeMax());
  if (!qtype)
    return Value();
  DenseElementsAttr t = transposeAttr(stored, perm);
  Value q = arith::ConstantOp::create(b, loc, t.getType(), t);
  auto shape = cast<RankedTensorType>(t.getType()).getShape();
  q = quant::StorageCastOp::create(b, loc, RankedTensorType::get(shape, qtype),
                                   q);
  return DequantizeOp::create(
      b, loc, RankedTensorType::get(shape, b.getF32Type()), q);
}

LogicalResult Importer::importBlockedDequantize(const Const &x,
                                                int64_t blockSize) {
  if (x.shape.empty())
    return error() << "blocked DequantizeLinear needs an input of rank 1 or "
                      "more";
  int64_t axis = attrInt("axis", 1);
  if (failed(normalizeAxis(axis, x.shape.size())))
    return failure();
  auto scale = constInput(1);
  if (failed(scale))
    return failure();
  std::shared_ptr<Const> zp;
  if (hasInput(2)) {
    auto z = constInput(2);
    if (failed(z))
      return failure();
    zp = *z;
  }
  auto q = blockedConstant(x, **scale, zp.get(), axis, blockSize,
                           "blocked DequantizeLinear");
  if (failed(q))
    return failure();
  auto shape = cast<RankedTensorType>(q->getType()).getShape();
  define(0, DequantizeOp::create(
                b, loc, RankedTensorType::get(shape, b.getF32Type()), *q));
  return success();
}

/// The integer constant `x` as a tensor of a sub-channel type: blocks of
/// `blockSize` along `axis`, 1 along the other dimensions, with the scales
/// (and zero points) of ONNX's blocked layout (x's shape with ceil(d /
/// blockSize) along the axis). `what` names the construct in messages.
FailureOr<Value> Importer::blockedConstant(const Const &x, const Const &scale,
                                           const Const *zp, int64_t axis,
                                           int64_t blockSize, StringRef what) {
  int storage = x.dtype;
  if (storage != kInt4 && storage != kUint4 && storage != kInt8 &&
      storage != kUint8 && storage != kInt16 && storage != kUint16)
    return error() << what << " of " << typeName(storage)
                   << " is not supported (int4, uint4, int8, uint8, int16, "
                      "uint16)";
  int64_t rank = x.shape.size();
  if (blockSize <= 0)
    return error() << "block_size must be positive, not " << blockSize;
  if (!scale.isFloat())
    return error() << "the scale must be float, not " << typeName(scale.dtype);
  // The scale (and zero point) has x's shape with ceil(d / block_size)
  // along the axis.
  SmallVector<int64_t> blocksShape(x.shape);
  blocksShape[axis] =
      x.shape[axis] / blockSize + (x.shape[axis] % blockSize != 0);
  auto shapeText = [](ArrayRef<int64_t> shape) {
    std::string text = "[";
    for (auto [i, d] : llvm::enumerate(shape))
      text += (i ? ", " : "") + std::to_string(d);
    return text + "]";
  };
  if (ArrayRef<int64_t>(scale.shape) != ArrayRef<int64_t>(blocksShape))
    return error() << "the scale of blocked quantization must have shape "
                   << shapeText(blocksShape) << " (input "
                   << shapeText(x.shape) << ", axis " << axis
                   << ", block_size " << blockSize << "), not "
                   << shapeText(scale.shape);
  if (x.shape[axis] % blockSize != 0)
    return error() << "dimension " << axis << " (" << x.shape[axis]
                   << ") is not a multiple of block_size " << blockSize
                   << ": a partial last block is not supported";
  if (zp) {
    if (zp->dtype != storage)
      return error() << "the zero point is " << typeName(zp->dtype)
                     << " but the quantized tensor is " << typeName(storage);
    if (ArrayRef<int64_t>(zp->shape) != ArrayRef<int64_t>(blocksShape))
      return error() << "the zero point must have the scale's shape "
                     << shapeText(blocksShape) << ", not "
                     << shapeText(zp->shape);
  }
  auto [lo, hi] = intRange(storage);
  int64_t blocks = scale.size();
  SmallVector<float> scales(blocks);
  SmallVector<int64_t> zps(blocks, 0);
  bool negative = false;
  for (int64_t i = 0; i < blocks; ++i) {
    double s = scale.fps[i];
    if (!std::isfinite(s) || s == 0 || !std::isfinite(float(s)) ||
        float(s) == 0)
      return error() << "scale " << s
                     << " is not a finite non-zero number (a zero, infinite "
                        "or NaN scale has no quantized meaning)";
    scales[i] = float(s);
    negative |= s < 0;
    if (zp) {
      zps[i] = zp->ints[i];
      if (zps[i] < lo || zps[i] > hi)
        return error() << "zero point " << zps[i] << " is outside the range ["
                       << lo << ", " << hi << "] of " << typeName(storage);
    }
  }
  // The block of each element (row-major over blocksShape).
  SmallVector<int64_t> xStrides = stridesOf(x.shape),
                       bStrides = stridesOf(blocksShape);
  auto blockOf = [&](int64_t flat) {
    int64_t at = 0;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t i = (flat / xStrides[d]) % x.shape[d];
      at += (d == axis ? i / blockSize : i) * bStrides[d];
    }
    return at;
  };
  int64_t count = x.size();
  std::vector<int64_t> values(x.ints.begin(), x.ints.begin() + count);
  unsigned bits = storageBits(storage);
  bool isSigned = isSignedStorage(storage);
  if (negative && bits >= 8) {
    // s * (q - zp) = |s| * (f(q) - f(zp)) with f(v) = lo + hi - v, which
    // maps the storage range onto itself (255 - v for uint8, -1 - v for
    // int8): blocks with a negative scale keep their storage type, flipped.
    for (int64_t i = 0; i < count; ++i)
      if (scales[blockOf(i)] < 0)
        values[i] = lo + hi - values[i];
    for (int64_t i = 0; i < blocks; ++i)
      if (scales[i] < 0) {
        scales[i] = -scales[i];
        zps[i] = lo + hi - zps[i];
      }
  }
  if (negative && bits < 8) {
    // 4-bit blocks: sign(s) * (q - zp) (in [-15, 15]) in i8 with zero point
    // 0, the form the int4 kernels take as nibbles (negated blocks).
    for (int64_t i = 0; i < count; ++i) {
      int64_t at = blockOf(i);
      values[i] = (scales[at] < 0 ? -1 : 1) * (values[i] - zps[at]);
    }
    for (int64_t i = 0; i < blocks; ++i) {
      scales[i] = std::fabs(scales[i]);
      zps[i] = 0;
    }
    bits = 8;
    isSigned = true;
    lo = -128;
    hi = 127;
  } else if (!isSigned &&
             llvm::any_of(zps, [half = hi / 2 + 1](int64_t z) {
               return z >= half;
             })) {
    int64_t shift = hi / 2 + 1;
    for (int64_t &v : values)
      v -= shift;
    for (int64_t &z : zps)
      z -= shift;
    isSigned = true;
    lo -= shift;
    hi -= shift;
  }
  Type st = b.getIntegerType(bits);
  auto scalesType = RankedTensorType::get(blocksShape, b.getF32Type());
  auto zerosType = RankedTensorType::get(blocksShape, st);
  SmallVector<APInt> zeroBits;
  for (int64_t z : zps)
    zeroBits.push_back(APInt(bits, uint64_t(z), /*isSigned=*/true,
                             /*implicitTrunc=*/true));
  SmallVector<int32_t> dims;
  SmallVector<int64_t> blockSizes;
  for (int64_t d = 0; d < rank; ++d) {
    dims.push_back(int32_t(d));
    blockSizes.push_back(d == axis ? blockSize : 1);
  }
  auto qtype = quant::UniformQuantizedSubChannelType::getChecked(
      [&] { return error(); },
      isSigned ? quant::QuantizationFlags::Signed : 0, st, b.getF32Type(),
      DenseElementsAttr::get(scalesType, ArrayRef<float>(scales)),
      DenseElementsAttr::get(zerosType, zeroBits), dims, blockSizes, lo, hi);
  if (!qtype)
    return failure();
  SmallVector<APInt> stored;
  stored.reserve(count);
  for (int64_t v : values)
    stored.push_back(APInt(bits, uint64_t(v), /*isSigned=*/true,
                           /*implicitTrunc=*/true));
  auto storedType = RankedTensorType::get(x.shape, st);
  Value q = arith::ConstantOp::create(
      b, loc, storedType, DenseElementsAttr::get(storedType, stored));
  return quant::StorageCastOp::create(
             b, loc, RankedTensorType::get(x.shape, qtype), q)
      .getResult();
}

/// ONNX Runtime's com.microsoft GatherBlockQuantized (the 4-bit embedding
/// tables of its weight-only quantizer): data (int4, uint4, or uint8 holding
/// two 4-bit values per byte, low nibble first, with bits = 4, or one with
/// bits = 8), indices, scales and optional zero points (data's type, packed
/// alike), blocks of block_size along quantize_axis. Without zero points,
/// int4 and uint4 use 0 and uint8 uses 8 (bits = 4) or 128 (bits = 8), as
/// ONNX Runtime's kernel does. Imported as qlow.embedding of the table in a
/// sub-channel type into f32: only the gathered rows are dequantized.
/// The [K, N] weights of an 8-bit MatMulNBits: `bytes` is B (uint8 [N,
/// blocks, block_size]), `scales` [blocks, N] (checked finite and non-zero),
/// `zps` [N, blocks]. They are the uint8 [K, N] constant blocked along K,
/// made by blockedConstant as for a blocked DequantizeLinear: a block with a
/// negative scale s (ORT's symmetric quantizer maps the largest magnitude
/// to -128) is stored flipped, `255 - q` with zero point `255 - zp` and |s|,
/// and zero points of 128 or more make the storage signed (`q - 128`).
FailureOr<Value> Importer::nbits8Weights(const Const &bytes,
                                         ArrayRef<float> scales,
                                         ArrayRef<int64_t> zps, int64_t k,
                                         int64_t n, int64_t blockSize) {
  const int64_t blocks = k / blockSize;
  Const x, scale, zp;
  x.dtype = zp.dtype = kUint8;
  x.shape = {k, n};
  scale.shape = zp.shape = {blocks, n};
  x.ints.resize(k * n);
  for (int64_t c = 0; c < n; ++c)
    for (int64_t r = 0; r < k; ++r)
      x.ints[r * n + c] = bytes.ints[c * k + r]; // B's [N, blocks, bs] is [N, K].
  scale.fps.assign(scales.begin(), scales.end());
  zp.ints.resize(blocks * n);
  for (int64_t c = 0; c < n; ++c)
    for (int64_t g = 0; g < blocks; ++g)
      zp.ints[g * n + c] = zps[c * blocks + g];
  return blockedConstant(x, scale, &zp, /*axis=*/0, blockSize, "B");
}

LogicalResult Importer::importGatherBlockQuantized() {
  int64_t bits = attrInt("bits", 4), blockSize = attrInt("block_size", 128);
  auto data = lookup(inputName(0));
  if (failed(data))
    return failure();
  if (!(*data)->cst || (*data)->cst->isFloat())
    return error() << "the data must be an integer initializer (the "
                      "quantized table); a computed input is not supported";
  // The table as stored, or unpacked below (never copied otherwise: a
  // vocabulary table has tens of millions of values).
  const Const *table = (*data)->cst.get();
  std::optional<Const> unpackedTable;
  int64_t rank = table->shape.size();
  int64_t gatherAxis = attrInt("gather_axis", 0),
          quantizeAxis = attrInt("quantize_axis", 1);
  if (rank != 2 || failed(normalizeAxis(gatherAxis, rank)) ||
      failed(normalizeAxis(quantizeAxis, rank)) || gatherAxis != 0)
    return error() << "GatherBlockQuantized is supported on a 2-D table "
                      "gathered along axis 0 (an embedding); here the data "
                      "has rank "
                   << rank << " and gather_axis is "
                   << attrInt("gather_axis", 0);
  if (bits != 4 && bits != 8)
    return error() << "bits must be 4 or 8, not " << bits;
  auto scale = constInput(2);
  if (failed(scale))
    return failure();
  const Const &scales = **scale;
  if (scales.shape.size() != 2)
    return error() << "the scales must have the data's rank (2), not "
                   << scales.shape.size();
  std::optional<Const> zp;
  if (hasInput(3)) {
    auto z = constInput(3);
    if (failed(z))
      return failure();
    zp = **z;
  }
  // Two 4-bit values per byte along the last dimension, low nibble first
  // (the data, and the zero points to `count` values per row).
  auto unpack = [](const Const &packed, int64_t count) {
    Const out;
    out.dtype = kUint4;
    out.shape = packed.shape;
    out.shape.back() = count;
    int64_t rowBytes = packed.shape.back();
    int64_t rows = rowBytes > 0 ? std::max<int64_t>(0, packed.size()) / rowBytes
                                : 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < count; ++i) {
        int64_t byte = packed.ints[r * rowBytes + i / 2];
        out.ints.push_back(i % 2 ? (byte >> 4) & 15 : byte & 15);
      }
    return out;
  };
  int64_t defaultZeroPoint = 0;
  if (table->dtype == kUint8 && bits == 4) {
    unpackedTable = unpack(*table, 2 * table->shape.back());
    table = &*unpackedTable;
    if (zp) {
      if (zp->dtype != kUint8 || zp->shape.size() != 2 ||
          zp->shape.back() != (scales.shape.back() + 1) / 2)
        return error() << "the zero points of uint8 data with bits = 4 must "
                          "be uint8, two per byte along the last dimension "
                          "of the scales";
      zp = unpack(*zp, scales.shape.back());
    }
    defaultZeroPoint = 8;
  } else if (table->dtype == kUint8) {
    defaultZeroPoint = 128;
  } else if (table->dtype != kInt4 && table->dtype != kUint4) {
    return error() << "the data must be int4, uint4 or uint8, not "
                   << typeName(table->dtype);
  } else if (bits != 4) {
    return error() << "bits = " << bits << " needs uint8 data, not "
                   << typeName(table->dtype);
  }
  if (!zp && defaultZeroPoint != 0) {
    zp = Const();
    zp->dtype = table->dtype;
    zp->shape = scales.shape;
    zp->ints.assign(std::max<int64_t>(0, zp->size()), defaultZeroPoint);
  }
  auto q = blockedConstant(*table, scales, zp ? &*zp : nullptr, quantizeAxis,
                           blockSize, "GatherBlockQuantized");
  if (failed(q))
    return failure();
  auto ids = tensorInput(1);
  if (failed(ids))
    return failure();
  auto idsType = typeOf(*ids);
  if (!idsType.getElementType().isSignlessInteger(32) &&
      !idsType.getElementType().isSignlessInteger(64))
    return error() << "the indices must be int32 or int64, not "
                   << idsType.getElementType();
  SmallVector<int64_t> outShape(idsType.getShape());
  outShape.push_back(table->shape[1]);
  define(0, EmbeddingOp::create(
                b, loc, RankedTensorType::get(outShape, b.getF32Type()), *q,
                *ids));
  return success();
}

LogicalResult Importer::importQuantOp(StringRef op, bool &handled) {
  handled = true;
  Type f32 = b.getF32Type();
  // Scale, zero point and axis at inputs (si, zi) of the current node.
  auto params = [&](int si, int zi, int storage, int64_t axis,
                    int64_t rank) -> FailureOr<Type> {
    auto scale = constInput(si);
    if (failed(scale))
      return failure();
    std::shared_ptr<Const> zp;
    if (zi >= 0 && hasInput(zi)) {
      auto z = constInput(zi);
      if (failed(z))
        return failure();
      zp = *z;
    }
    return quantType(**scale, zp.get(), storage, axis, rank);
  };
  // The ONNX storage type of a quantized operand (its zero point's type).
  auto storageOf = [&](int zi, int dflt) {
    if (zi >= 0 && hasInput(zi))
      if (auto v = values.find(inputName(zi));
          v != values.end() && v->second.cst)
        return v->second.cst->dtype;
    return dflt;
  };
  auto inputVal = [&](int i) -> FailureOr<Val *> {
    if (!hasInput(i))
      return error() << "input " << i << " is missing";
    return lookup(inputName(i));
  };

  if (op == "QuantizeLinear") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    if (attrInt("block_size", 0) != 0)
      return error() << "blocked QuantizeLinear is not supported (blocked "
                        "DequantizeLinear of an initializer is)";
    int storage = attrInt("output_dtype", 0);
    if (storage == 0)
      storage = storageOf(2, kUint8);
    auto type = typeOf(*x);
    if (!type.getElementType().isF32())
      return error() << "expects an f32 input, got " << type.getElementType();
    auto qtype = params(1, 2, storage, attrInt("axis", 1), type.getRank());
    if (failed(qtype))
      return failure();
    define(0, QuantizeOp::create(
                  b, loc, RankedTensorType::get(type.getShape(), *qtype), *x));
    return success();
  }
  if (op == "DequantizeLinear") {
    auto v = inputVal(0);
    if (failed(v))
      return failure();
    if (int64_t blockSize = attrInt("block_size", 0); blockSize != 0) {
      if (!(*v)->cst || (*v)->cst->isFloat())
        return error() << "blocked DequantizeLinear (block_size = "
                       << blockSize
                       << ") needs an integer initializer as its input "
                          "(blocked weights); a computed input is not "
                          "supported";
      return importBlockedDequantize(*(*v)->cst, blockSize);
    }
    int storage;
    SmallVector<int64_t> shape;
    if ((*v)->cst) {
      storage = (*v)->cst->dtype;
      shape = (*v)->cst->shape;
    } else if ((*v)->kind == Val::Tensor) {
      auto t = typeOf((*v)->value);
      shape.assign(t.getShape().begin(), t.getShape().end());
      if (auto q = dyn_cast<quant::QuantizedType>(t.getElementType())) {
        unsigned bits = q.getStorageTypeIntegralWidth();
        storage = bits == 32   ? kInt32
                  : bits == 16 ? (q.isSigned() ? kInt16 : kUint16)
                  : bits == 4  ? (q.isSigned() ? kInt4 : kUint4)
                               : (q.isSigned() ? kInt8 : kUint8);
      } else {
        return error() << "expects a quantized input (the output of "
                          "QuantizeLinear or an integer initializer), got "
                       << t;
      }
    } else {
      return error() << "unsupported input pattern";
    }
    if (isFloatType(storage))
      return error() << "expects an integer input, got " << typeName(storage);
    auto qtype = params(1, 2, storage, attrInt("axis", 1), shape.size());
    if (failed(qtype))
      return failure();
    auto q = asQuantized(**v, *qtype);
    if (failed(q))
      return failure();
    define(0, DequantizeOp::create(b, loc, RankedTensorType::get(shape, f32),
                                   *q));
    return success();
  }
  if (op == "QLinearMatMul" || op == "QLinearAdd" || op == "QLinearMul") {
    // QLinearMatMul: a, a_s, a_zp, b, b_s, b_zp, y_s, y_zp.
    // com.microsoft QLinearAdd/Mul: A, A_s, A_zp, B, B_s, B_zp, C_s, C_zp.
    Value operands[2];
    for (int k = 0; k < 2; ++k) {
      auto v = inputVal(3 * k);
      if (failed(v))
        return failure();
      SmallVector<int64_t> shape;
      int storage = storageOf(3 * k + 2, kUint8);
      if ((*v)->cst)
        shape = (*v)->cst->shape;
      else if ((*v)->kind == Val::Tensor)
        shape.assign(typeOf((*v)->value).getShape().begin(),
                     typeOf((*v)->value).getShape().end());
      else
        return error() << "unsupported input pattern";
      // Per-column weight scales of QLinearMatMul are on the last axis.
      auto qt = params(3 * k + 1, 3 * k + 2, storage, -1, shape.size());
      if (failed(qt))
        return failure();
      auto q = asQuantized(**v, *qt);
      if (failed(q))
        return failure();
      operands[k] = *q;
    }
    auto ta = typeOf(operands[0]), tb = typeOf(operands[1]);
    SmallVector<int64_t> shape;
    if (op == "QLinearMatMul") {
      if (ta.getRank() < 2 || tb.getRank() != 2 ||
          ta.getShape().back() != tb.getDimSize(0))
        return error() << "expects [..., M, K] x [K, N] operands, got " << ta
                       << " and " << tb;
      shape.assign(ta.getShape().begin(), ta.getShape().end());
      shape.back() = tb.getDimSize(1);
    } else {
      auto s = broadcastShapes(ta.getShape(), tb.getShape());
      if (!s)
        return error() << "shapes do not broadcast";
      shape = *s;
    }
    auto yt = params(6, 7, storageOf(7, kUint8), 1, shape.size());
    if (failed(yt))
      return failure();
    auto outType = RankedTensorType::get(shape, *yt);
    Value r;
    if (op == "QLinearMatMul")
      r = MatmulOp::create(b, loc, outType, operands[0], operands[1], Value(),
                           RoundingMode::Float, DynamicQuantAttr());
    else if (op == "QLinearAdd")
      r = AddOp::create(b, loc, outType, operands[0], operands[1],
                        RoundingMode::Float);
    else
      r = MulOp::create(b, loc, outType, operands[0], operands[1],
                        RoundingMode::Float);
    define(0, r);
    return success();
  }
  if (op == "DynamicQuantizeLinear") {
    auto x = tensorInput(0);
    if (failed(x))
      return failure();
    if (!typeOf(*x).getElementType().isF32())
      return error() << "expects an f32 input";
    Val q;
    q.kind = Val::DynQuantized;
    q.value = *x;
    q.source = inputName(0);
    values[node->output(0)] = q;
    if (node->output_size() > 1) {
      Val s;
      s.kind = Val::DynScale;
      s.source = inputName(0);
      s.factor = std::make_shared<Const>();
      s.factor->fps = {1.0};
      values[node->output(1)] = s;
    }
    if (node->output_size() > 2) {
      Val z;
      z.kind = Val::DynZeroPoint;
      z.source = inputName(0);
      values[node->output(2)] = z;
    }
    return success();
  }
  if (op == "MatMulInteger") {
    auto a = inputVal(0), w = inputVal(1);
    if (failed(a) || failed(w))
      return failure();
    if ((*a)->kind != Val::DynQuantized)
      return error() << "only MatMulInteger on the output of "
                        "DynamicQuantizeLinear is supported (as "
                        "quantize_dynamic writes it)";
    if (!(*w)->cst || (*w)->cst->isFloat() || (*w)->cst->shape.size() != 2)
      return error() << "the weights must be a 2-D integer initializer";
    if (typeOf((*a)->value).getRank() == 0)
      return error() << "A must have rank >= 1, not be a scalar";
    if (hasInput(2)) {
      auto z = inputVal(2);
      if (failed(z))
        return failure();
      if ((*z)->kind != Val::DynZeroPoint || (*z)->source != (*a)->source)
        return error() << "the activation zero point must be the one "
                          "DynamicQuantizeLinear computed";
    }
    Val p;
    p.kind = Val::PendingMatmul;
    p.value = (*a)->value;
    p.source = (*a)->source;
    p.weights = (*w)->cst;
    if (hasInput(3)) {
      auto z = constInput(3);
      if (failed(z))
        return failure();
      p.wzp = *z;
    }
    // The accumulator's shape, for Shape nodes that look at it.
    values[node->output(0)] = p;
    return success();
  }
  handled = false;
  return success();
}

//===----------------------------------------------------------------------===//
// Raising decompositions
//===----------------------------------------------------------------------===//
//
// Exporters write GELU, SiLU, LayerNorm, RMSNorm and attention as subgraphs of
// elementwise ops. At the node that ends such a subgraph, the importer walks
// its producers on the ONNX graph; when they match, it emits the qlow op on
// the subgraph's input, and the nodes inside (already imported) become dead
// and are erased at the end. A partial match imports the node as usual.

const onnx::NodeProto *Importer::producer(const std::string &name,
                                          StringRef opType) {
  auto it = producers.find(name);
  if (it == producers.end())
    return nullptr;
  const onnx::NodeProto *p = it->second;
  if (p->op_type() != opType ||
      !(p->domain().empty() || p->domain() == "ai.onnx"))
    return nullptr;
  return p;
}

std::optional<double> Importer::scalarConst(const std::string &name) {
  auto it = values.find(name);
  if (it == values.end() || !it->second.cst || it->second.cst->size() != 1)
    return std::nullopt;
  return it->second.cst->at(0);
}

bool Importer::isLastAxisMean(const onnx::NodeProto *mean, int64_t rank) {
  if (!mean)
    return false;
  std::vector<int64_t> axes;
  bool keep = true;
  for (const auto &a : mean->attribute()) {
    if (a.name() == "axes")
      axes.assign(a.ints().begin(), a.ints().end());
    if (a.name() == "keepdims")
      keep = a.i() != 0;
  }
  if (mean->input_size() > 1 && !inputOf(mean, 1).empty()) {
    auto it = values.find(inputOf(mean, 1));
    if (it == values.end() || !it->second.cst)
      return false;
    axes = it->second.cst->ints;
  }
  return keep && axes.size() == 1 &&
         (axes[0] == -1 || axes[0] == rank - 1);
}

/// `mul` = Mul(N, gamma) with N = x / sqrt(mean(x^2) + eps) (RMSNorm) or
/// N = (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) (LayerNorm), the
/// means over the last axis; a division may be written as a multiplication by
/// a Reciprocal.
std::optional<Importer::Norm>
Importer::matchNorm(const onnx::NodeProto *mul) {
  if (!mul || mul->op_type() != "Mul" || mul->input_size() != 2)
    return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    const std::string &n = inputOf(mul, side), &g = inputOf(mul, 1 - side);
    auto gv = values.find(g);
    if (gv == values.end() || !gv->second.cst || !gv->second.cst->isFloat())
      continue;
    std::string num, den;
    if (auto div = producer(n, "Div")) {
      num = inputOf(div, 0);
      den = inputOf(div, 1);
    } else if (auto m = producer(n, "Mul")) {
      for (int s2 = 0; s2 < 2 && den.empty(); ++s2)
        if (auto rec = producer(inputOf(m, s2), "Reciprocal")) {
          num = inputOf(m, 1 - s2);
          den = inputOf(rec, 0);
        }
    }
    auto sqrt = den.empty() ? nullptr : producer(den, "Sqrt");
    auto add = sqrt ? producer(inputOf(sqrt, 0), "Add") : nullptr;
    if (!add)
      continue;
    for (int s3 = 0; s3 < 2; ++s3) {
      auto eps = scalarConst(inputOf(add, 1 - s3));
      auto mean = producer(inputOf(add, s3), "ReduceMean");
      if (!eps || !mean)
        continue;
      std::string base;
      if (auto pow = producer(inputOf(mean, 0), "Pow")) {
        if (isScalar(inputOf(pow, 1), 2.0, 0))
          base = inputOf(pow, 0);
      } else if (auto sq = producer(inputOf(mean, 0), "Mul")) {
        if (inputOf(sq, 0) == inputOf(sq, 1))
          base = inputOf(sq, 0);
      }
      if (base != num)
        continue;
      auto shape = values.find(num);
      if (shape == values.end() || shape->second.kind != Val::Tensor)
        continue;
      auto type = typeOf(shape->second.value);
      if (type.getRank() == 0)
        continue;
      int64_t rank = type.getRank(), d = type.getShape().back();
      if (!isLastAxisMean(mean, rank) || gv->second.cst->size() != d)
        continue;
      Norm norm;
      norm.gamma = g;
      norm.eps = *eps;
      norm.x = num;
      // LayerNorm: the numerator is x - mean(x).
      if (auto sub = producer(num, "Sub"))
        if (auto m0 = producer(inputOf(sub, 1), "ReduceMean"))
          if (inputOf(m0, 0) == inputOf(sub, 0) && isLastAxisMean(m0, rank)) {
            norm.layer = true;
            norm.x = inputOf(sub, 0);
          }
      return norm;
    }
  }
  return std::nullopt;
}

LogicalResult Importer::tryRaise(StringRef op, bool &raised) {
  raised = false;
  auto f32Tensor = [&](const std::string &name) -> Value {
    auto it = values.find(name);
    if (it == values.end() || it->second.kind != Val::Tensor)
      return nullptr;
    auto type = dyn_cast<RankedTensorType>(it->second.value.getType());
    return type && type.getElementType().isF32() ? it->second.value : nullptr;
  };
  auto emitNorm = [&](const Norm &norm, const std::string &beta) -> bool {
    Value x = f32Tensor(norm.x);
    if (!x)
      return false;
    int64_t d = typeOf(x).getShape().back();
    auto gamma = valueOf(norm.gamma);
    if (failed(gamma))
      return false;
    Value g = reshape(*gamma, {d}), bt;
    if (!beta.empty()) {
      auto bv = values.find(beta);
      if (bv == values.end() || !bv->second.cst || bv->second.cst->size() != d)
        return false;
      auto b2 = valueOf(beta);
      if (failed(b2))
        return false;
      bt = reshape(*b2, {d});
    }
    auto eps = b.getF32FloatAttr(float(norm.eps));
    Value r = norm.layer
                  ? Value(LayerNormOp::create(b, loc, typeOf(x), x, g, bt, eps))
                  : Value(RmsNormOp::create(b, loc, typeOf(x), x, g, eps));
    define(0, r);
    return true;
  };

  if (op == "Mul" && node->input_size() == 2) {
    // SiLU: x * Sigmoid(x).
    for (int side = 0; side < 2; ++side)
      if (auto sig = producer(inputName(side), "Sigmoid"))
        if (inputOf(sig, 0) == inputName(1 - side))
          if (Value x = f32Tensor(inputOf(sig, 0))) {
            define(0, SiluOp::create(b, loc, typeOf(x), x));
            raised = true;
            return success();
          }
    // GELU, tanh form: the factors of a tree of Muls are 0.5, x and
    // 1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)).
    {
      SmallVector<std::string> leaves, work = {node->output(0)};
      int budget = 8;
      while (!work.empty() && budget-- > 0) {
        std::string name = work.pop_back_val();
        const onnx::NodeProto *m =
            name == node->output(0) ? node : producer(name, "Mul");
        if (m && m->input_size() == 2) {
          work.push_back(inputOf(m, 0));
          work.push_back(inputOf(m, 1));
        } else {
          leaves.push_back(name);
        }
      }
      double c = 1;
      std::string x, onePlus;
      bool ok = work.empty();
      for (const std::string &l : leaves) {
        if (auto v = scalarConst(l))
          c *= *v;
        else if (auto add = producer(l, "Add"); add && onePlus.empty() &&
                 (isScalar(inputOf(add, 0), 1.0, 0) ||
                  isScalar(inputOf(add, 1), 1.0, 0)))
          onePlus = isScalar(inputOf(add, 0), 1.0, 0) ? inputOf(add, 1)
                                                    : inputOf(add, 0);
        else if (x.empty())
          x = l;
        else
          ok = false;
      }
      const onnx::NodeProto *tanh = onePlus.empty() ? nullptr
                                                    : producer(onePlus, "Tanh");
      if (ok && tanh && std::fabs(c - 0.5) < 1e-6 && !x.empty()) {
        // tanh(k * (x + 0.044715 * x^3)), k = sqrt(2 / pi).
        bool inner = false;
        if (auto mk = producer(inputOf(tanh, 0), "Mul"))
          for (int s = 0; s < 2 && !inner; ++s) {
            if (!isScalar(inputOf(mk, s), std::sqrt(2.0 / M_PI)))
              continue;
            auto sum = producer(inputOf(mk, 1 - s), "Add");
            for (int t = 0; sum && t < 2 && !inner; ++t) {
              if (inputOf(sum, t) != x)
                continue;
              auto cube = producer(inputOf(sum, 1 - t), "Mul");
              for (int u = 0; cube && u < 2 && !inner; ++u) {
                if (!isScalar(inputOf(cube, u), 0.044715))
                  continue;
                const std::string &p3 = inputOf(cube, 1 - u);
                if (auto pw = producer(p3, "Pow"))
                  inner = inputOf(pw, 0) == x && isScalar(inputOf(pw, 1), 3.0, 0);
                else if (auto m3 = producer(p3, "Mul"))
                  for (int w = 0; w < 2 && !inner; ++w)
                    if (auto sq = producer(inputOf(m3, w), "Mul"))
                      inner = inputOf(m3, 1 - w) == x && inputOf(sq, 0) == x &&
                              inputOf(sq, 1) == x;
              }
            }
          }
        if (inner)
          if (Value xv = f32Tensor(x)) {
            define(0, GeluOp::create(b, loc, typeOf(xv), xv,
                                     GeluApproximation::Tanh));
            raised = true;
            return success();
          }
      }
    }
    // RMSNorm / LayerNorm without a bias.
    if (auto norm = matchNorm(node)) {
      raised = emitNorm(*norm, "");
      return success();
    }
  }
  if (op == "Add" && node->input_size() == 2) {
    // Rotary embedding, rotate-half form:
    // x * C + Concat(-x[..., h:], x[..., :h]) * S with constant C and S
    // [S, D] (leading dimensions 1) whose two halves are equal.
    for (int side = 0; side < 2; ++side) {
      auto mc = producer(inputName(side), "Mul");
      auto ms = producer(inputName(1 - side), "Mul");
      if (!mc || !ms)
        continue;
      for (int a = 0; a < 2; ++a) {
        for (int c = 0; c < 2; ++c) {
          const std::string &x = inputOf(mc, a), &cosName = inputOf(mc, 1 - a);
          const std::string &rot = inputOf(ms, c), &sinName = inputOf(ms, 1 - c);
          auto cat = producer(rot, "Concat");
          Value xv = f32Tensor(x);
          auto cv = values.find(cosName), sv = values.find(sinName);
          if (!cat || cat->input_size() != 2 || !xv || cv == values.end() ||
              sv == values.end())
            continue;
          bool constantTables = cv->second.cst && sv->second.cst &&
                                cv->second.cst->isFloat() &&
                                sv->second.cst->isFloat();
          auto tx = typeOf(xv);
          int64_t rank = tx.getRank();
          if (rank < 2)
            continue;
          int64_t d = tx.getShape().back(), sl = tx.getDimSize(rank - 2),
                  h = d / 2;
          if (d % 2)
            continue;
          // The concatenation's halves: Neg(Slice(x, h, D)), Slice(x, 0, h)
          // along the last axis.
          auto isHalf = [&](const std::string &name, int64_t lo, int64_t hi) {
            auto sl2 = producer(name, "Slice");
            if (!sl2 || inputOf(sl2, 0) != x)
              return false;
            auto st = scalarConst(inputOf(sl2, 1)), en = scalarConst(inputOf(sl2, 2));
            auto ax = scalarConst(inputOf(sl2, 3));
            if (!st || !en || !ax || (*ax != -1 && *ax != rank - 1))
              return false;
            if (sl2->input_size() > 4 && !inputOf(sl2, 4).empty() &&
                !isScalar(inputOf(sl2, 4), 1.0, 0))
              return false;
            return *st == lo && std::min<double>(*en, d) == hi;
          };
          int64_t catAxis = -1;
          for (const auto &at : cat->attribute())
            if (at.name() == "axis")
              catAxis = at.i();
          auto neg = producer(inputOf(cat, 0), "Neg");
          if ((catAxis != -1 && catAxis != rank - 1) || !neg ||
              !isHalf(inputOf(neg, 0), h, d) || !isHalf(inputOf(cat, 1), 0, h))
            continue;
          // cos/sin tables: [.., S, D] with leading ones and equal halves.
          auto table = [&](const Const &t) -> std::optional<std::vector<float>> {
            if (t.size() != sl * d || t.shape.size() < 2 ||
                t.shape.back() != d || t.shape[t.shape.size() - 2] != sl)
              return std::nullopt;
            std::vector<float> half;
            for (int64_t i = 0; i < sl; ++i)
              for (int64_t j = 0; j < h; ++j) {
                if (t.fps[i * d + j] != t.fps[i * d + j + h])
                  return std::nullopt;
                half.push_back(float(t.fps[i * d + j]));
              }
            return half;
          };
          Value cosV, sinV;
          if (constantTables) {
            auto cosT = table(*cv->second.cst), sinT = table(*sv->second.cst);
            if (!cosT || !sinT)
              continue;
            OpBuilder::InsertionGuard guard(b);
            auto func = cast<func::FuncOp>(b.getInsertionBlock()->getParentOp());
            b.setInsertionPointToStart(&func.getBody().front());
            cosV = constantF32({sl, h}, *cosT);
            sinV = constantF32({sl, h}, *sinT);
          } else {
            // Tables computed in the graph, as exporters write Hugging
            // Face's rotary embedding: [1.., S, D] = (Unsqueeze of)
            // Cos / Sin of Concat(F, F) along the last axis, F [1.., S, D/2]
            // (positions times inverse frequencies). Both halves are the
            // same, so the op's [S, D/2] tables are Cos(F) and Sin(F).
            auto angles = [&](const std::string &name,
                              StringRef fn) -> std::string {
              std::string t = name;
              while (auto u = producer(t, "Unsqueeze"))
                t = inputOf(u, 0);
              auto trig = producer(t, fn);
              auto twice = trig ? producer(inputOf(trig, 0), "Concat")
                                : nullptr;
              if (!twice || twice->input_size() != 2 ||
                  inputOf(twice, 0) != inputOf(twice, 1))
                return "";
              Value f = f32Tensor(inputOf(twice, 0));
              if (!f)
                return "";
              ArrayRef<int64_t> fs = typeOf(f).getShape();
              int64_t axis = -1;
              for (const auto &at : twice->attribute())
                if (at.name() == "axis")
                  axis = at.i();
              if (fs.size() < 2 || (axis != -1 && axis != int64_t(fs.size()) - 1) ||
                  fs.back() != h || fs[fs.size() - 2] != sl)
                return "";
              for (int64_t dim : fs.drop_back(2))
                if (dim != 1)
                  return "";
              return inputOf(twice, 0);
            };
            std::string cosAngles = angles(cosName, "Cos"),
                        sinAngles = angles(sinName, "Sin");
            if (cosAngles.empty() || sinAngles.empty())
              continue;
            auto half = [&](const std::string &name, bool cosine) {
              Value f = reshape(f32Tensor(name), {sl, h});
              return elementwise(
                  {f}, {sl, h}, b.getF32Type(),
                  [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                    if (cosine)
                      return math::CosOp::create(nb, l, a[0]);
                    return math::SinOp::create(nb, l, a[0]);
                  });
            };
            auto &tables = ropeTables[cosAngles + "\n" + sinAngles];
            if (!tables.first) {
              // After the first rope that needs them; the second one (k's)
              // follows it in the block.
              tables = {half(cosAngles, true), half(sinAngles, false)};
            }
            std::tie(cosV, sinV) = tables;
          }
          define(0, RopeOp::create(b, loc, tx, xv, cosV, sinV));
          raised = true;
          return success();
        }
      }
    }
    // LayerNorm with a bias: Add(Mul(N, gamma), beta).
    for (int side = 0; side < 2; ++side)
      if (auto norm = matchNorm(producer(inputName(side), "Mul")))
        if (norm->layer) {
          raised = emitNorm(*norm, inputName(1 - side));
          if (raised)
            return success();
        }
  }
  if (op == "MatMul" && node->input_size() == 2) {
    // Attention: MatMul(Softmax(scale * MatMul(Q, K^T) [+ mask]), V) with
    // Q [B, H, S, D], K^T [B, H, D, T], V [B, H, T, Dv].
    auto sm = producer(inputName(0), "Softmax");
    if (!sm)
      return success();
    int64_t axis = -1;
    for (const auto &a : sm->attribute())
      if (a.name() == "axis")
        axis = a.i();
    std::string s = inputOf(sm, 0), mask;
    if (auto add = producer(s, "Add"))
      for (int side = 0; side < 2; ++side)
        if (producer(inputOf(add, side), "MatMul") ||
            producer(inputOf(add, side), "Mul") ||
            producer(inputOf(add, side), "Div")) {
          mask = inputOf(add, 1 - side);
          s = inputOf(add, side);
          break;
        }
    double scale = 1;
    bool hasScale = false;
    if (auto m = producer(s, "Mul")) {
      for (int side = 0; side < 2 && !hasScale; ++side)
        if (auto c = scalarConst(inputOf(m, side))) {
          scale = *c;
          s = inputOf(m, 1 - side);
          hasScale = true;
        }
    } else if (auto dv = producer(s, "Div")) {
      if (auto c = scalarConst(inputOf(dv, 1)); c && *c != 0) {
        scale = 1.0 / *c;
        s = inputOf(dv, 0);
        hasScale = true;
      }
    }
    auto qk = producer(s, "MatMul");
    if (!qk)
      return success();
    Value q = f32Tensor(inputOf(qk, 0)), kt = f32Tensor(inputOf(qk, 1)),
          v = f32Tensor(inputName(1));
    if (!q || !kt || !v || typeOf(q).getRank() != 4 ||
        typeOf(kt).getRank() != 4 || typeOf(v).getRank() != 4 ||
        (axis != -1 && axis != 3))
      return success();
    auto tq = typeOf(q), tk = typeOf(kt), tv = typeOf(v);
    if (tq.getShape().take_front(2) != tk.getShape().take_front(2) ||
        tk.getShape().take_front(2) != tv.getShape().take_front(2) ||
        tq.getDimSize(3) != tk.getDimSize(2) ||
        tk.getDimSize(3) != tv.getDimSize(2))
      return success();
    // Grouped-query attention as exporters write it (Hugging Face's
    // repeat_kv): K and V of Hkv heads repeated to H by Unsqueeze(axis 2),
    // Expand to [B, Hkv, G, T, D] and Reshape to [B, H, T, D], head h
    // reading kv head h / G, which is qlow.attention's grouping. The op then
    // takes the Hkv heads themselves: the repeated copies become dead, and
    // the kernel reads each kv head once for its G query heads.
    auto repeatedKvSource = [&](const std::string &name) -> Value {
      auto reshape = producer(name, "Reshape");
      auto expand = reshape ? producer(inputOf(reshape, 0), "Expand") : nullptr;
      auto unsqueeze =
          expand ? producer(inputOf(expand, 0), "Unsqueeze") : nullptr;
      if (!unsqueeze)
        return nullptr;
      SmallVector<int64_t> axes;
      for (const auto &a : unsqueeze->attribute())
        if (a.name() == "axes")
          axes.assign(a.ints().begin(), a.ints().end());
      if (unsqueeze->input_size() > 1) {
        auto it = values.find(inputOf(unsqueeze, 1));
        if (it == values.end() || !it->second.cst ||
            it->second.cst->isFloat())
          return nullptr;
        axes.assign(it->second.cst->ints.begin(), it->second.cst->ints.end());
      }
      Value src = f32Tensor(inputOf(unsqueeze, 0));
      Value repeated = f32Tensor(name);
      Value expanded = f32Tensor(inputOf(reshape, 0));
      if (!src || !repeated || !expanded || axes.size() != 1 ||
          (axes[0] != 2 && axes[0] != -3))
        return nullptr;
      ArrayRef<int64_t> from = typeOf(src).getShape(),
                        mid = typeOf(expanded).getShape(),
                        to = typeOf(repeated).getShape();
      if (from.size() != 4 || mid.size() != 5 || to.size() != 4 ||
          mid[0] != from[0] || mid[1] != from[1] || mid[3] != from[2] ||
          mid[4] != from[3] || to[0] != from[0] ||
          to[1] != from[1] * mid[2] || to[2] != from[2] || to[3] != from[3])
        return nullptr;
      return src;
    };
    Value kvK, kvV;
    if (auto tr = producer(inputOf(qk, 1), "Transpose")) {
      SmallVector<int64_t> perm;
      for (const auto &a : tr->attribute())
        if (a.name() == "perm")
          perm.assign(a.ints().begin(), a.ints().end());
      if (perm == SmallVector<int64_t>{0, 1, 3, 2}) {
        kvK = repeatedKvSource(inputOf(tr, 0));
        kvV = repeatedKvSource(inputName(1));
      }
    }
    const bool grouped =
        kvK && kvV && typeOf(kvK).getDimSize(1) == typeOf(kvV).getDimSize(1);
    if (grouped)
      v = kvV;
    Value maskValue;
    if (!mask.empty()) {
      maskValue = f32Tensor(mask);
      if (!maskValue) {
        auto mv = values.find(mask);
        if (mv == values.end() || !mv->second.cst || !mv->second.cst->isFloat())
          return success();
        auto m2 = valueOf(mask);
        if (failed(m2))
          return failure();
        maskValue = *m2;
      }
    }
    // A constant additive mask that is 0 where key j <= query i + (T - S)
    // and -inf or at most -1e9 above is a causal mask (exporters write
    // triu(-1e9) or finfo.min): raised as {causal}, the kernel skips the
    // hidden key blocks instead of adding the mask. The results are the
    // same: exp(mask + s - max) underflows to 0 in f32 unless a hidden score
    // exceeds its row's kept maximum by about 1e9. Any other mask (-1e4
    // padding or causal masks included) stays an operand.
    bool causal = false;
    if (maskValue)
      if (auto mv = values.find(mask);
          mv != values.end() && mv->second.cst && mv->second.cst->isFloat()) {
        const Const &c = *mv->second.cst;
        int64_t rows = tq.getDimSize(2), cols = tk.getDimSize(3);
        ArrayRef<int64_t> ms = c.shape;
        bool shaped = ms.size() >= 2 && ms[ms.size() - 2] == rows &&
                      ms.back() == cols && c.size() == rows * cols;
        causal = shaped && rows <= cols;
        for (int64_t i = 0; causal && i < rows; ++i)
          for (int64_t j = 0; causal && j < cols; ++j) {
            double m = c.at(i * cols + j);
            causal = j <= i + (cols - rows) ? m == 0.0 : m <= -1e9;
          }
      }
    Value k = grouped ? kvK : transpose(kt, {0, 1, 3, 2});
    SmallVector<int64_t> shape(tq.getShape());
    shape[3] = tv.getDimSize(3);
    SmallVector<Value> operands = {q, k, v};
    if (maskValue && !causal)
      operands.push_back(maskValue);
    SmallVector<NamedAttribute> attrs = {
        b.getNamedAttr("scale", b.getF32FloatAttr(float(hasScale ? scale : 1.0)))};
    if (causal)
      attrs.push_back(b.getNamedAttr("causal", b.getUnitAttr()));
    define(0, AttentionOp::create(b, loc,
                                  TypeRange{RankedTensorType::get(shape, b.getF32Type())},
                                  operands, attrs)
                  .getResult());
    raised = true;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

LogicalResult Importer::importNode() {
  StringRef op = node->op_type();
  StringRef domain = node->domain();
  bool ms = domain == "com.microsoft";
  if (!domain.empty() && domain != "ai.onnx" && !ms)
    return error() << "unknown op '" << op << "' in domain '" << domain
                   << "'";

  // The dynamic-quantization chain: Cast and Mul on its pieces.
  if (op == "Cast" || op == "Mul") {
    auto first = lookup(inputName(0));
    if (failed(first))
      return failure();
    Val *x = *first;
    if (op == "Cast" && (x->kind == Val::PendingMatmul)) {
      if (attrInt("to", 0) != kFloat)
        return error() << "the MatMulInteger result must be cast to float";
      values[node->output(0)] = *x;
      return success();
    }
    if (op == "Mul" && node->input_size() == 2) {
      auto second = lookup(inputName(1));
      if (failed(second))
        return failure();
      Val *y = *second;
      if (y->kind == Val::PendingMatmul ||
          (y->kind == Val::DynScale && x->kind != Val::PendingMatmul))
        std::swap(x, y);
      // factor * scale(x): fold the constant factor (the weight scale).
      if (x->kind == Val::DynScale) {
        if (!y->cst || !y->cst->isFloat())
          return error() << "the DynamicQuantizeLinear scale may only be "
                            "multiplied by a constant weight scale";
        Val s = *x;
        s.factor = y->cst;
        values[node->output(0)] = s;
        return success();
      }
      if (x->kind == Val::PendingMatmul) {
        if (y->kind != Val::DynScale || y->source != x->source)
          return error() << "the MatMulInteger result must be multiplied by "
                            "the DynamicQuantizeLinear scale times the weight "
                            "scale";
        // qlow.matmul with the weights at scale `factor` and zero point
        // `wzp`, the activations quantized at run time as
        // DynamicQuantizeLinear does (u8, asymmetric, per tensor).
        const Const &w = *x->weights;
        const Const &ws = *y->factor;
        int64_t n = w.shape[1];
        Const scale = ws;
        if (scale.size() != 1 && scale.size() != n)
          return error() << "the weight scale has " << scale.size()
                         << " elements for " << n << " columns";
        Const zp;
        zp.dtype = w.dtype;
        zp.shape = scale.shape;
        zp.ints.assign(scale.size(), 0);
        if (x->wzp) {
          if (x->wzp->isFloat())
            return error() << "the weight zero point must be an integer";
          if (x->wzp->size() != 1 && x->wzp->size() != scale.size())
            return error() << "the weight zero point and scale disagree in "
                              "size";
          for (int64_t i = 0; i < scale.size(); ++i)
            zp.ints[i] = x->wzp->ints[x->wzp->size() == 1 ? 0 : i];
          zp.dtype = x->wzp->dtype;
        }
        auto qt = quantType(scale, &zp, w.dtype, 1, 2);
        if (failed(qt))
          return failure();
        Val wv;
        wv.kind = Val::Constant;
        wv.cst = x->weights;
        auto wq = asQuantized(wv, *qt);
        if (failed(wq))
          return failure();
        auto ta = typeOf(x->value);
        if (ta.getShape().back() != w.shape[0])
          return error() << "MatMulInteger inner dimensions differ";
        SmallVector<int64_t> shape(ta.getShape());
        shape.back() = n;
        auto dyn = DynamicQuantAttr::get(ctx, DynamicGranularity::PerTensor,
                                         DynamicStorage::U8,
                                         QuantScheme::Asymmetric);
        define(0, MatmulOp::create(b, loc,
                                   RankedTensorType::get(shape, b.getF32Type()),
                                   x->value, *wq, Value(),
                                   RoundingMode::Float, dyn));
        return success();
      }
    }
  }

  if (ms && op == "GatherBlockQuantized")
    return importGatherBlockQuantized();

  if (ms && op == "MatMulNBits") {
    // A [..., K] f32; B uint8 [N, K/bs, bs * bits / 8]; scales [N * K/bs];
    // zero points (optional, uint8: two per byte for 4 bits, one for 8)
    // default to 2^(bits - 1).
    int64_t k = attrInt("K", 0), n = attrInt("N", 0),
            bits = attrInt("bits", 4), bs = attrInt("block_size", 0);
    if (bits != 4 && bits != 8)
      return error() << "only bits = 4 and bits = 8 are supported, not "
                     << bits;
    if (bs < 16 || bs > 4096 || (bs & (bs - 1)) || k <= 0 || n <= 0 ||
        k > (int64_t(1) << 20) || n > (int64_t(1) << 20))
      return error() << "invalid K = " << k << ", N = " << n
                     << ", block_size = " << bs;
    if (hasInput(4))
      return error() << "the g_idx input (act-order groups) is not supported";
    auto x = tensorInput(0);
    auto wb = constInput(1), sc = constInput(2);
    if (failed(x) || failed(wb) || failed(sc))
      return failure();
    int64_t blocks = (k + bs - 1) / bs;
    if (k % bs != 0)
      return error() << "K = " << k << " must be a multiple of block_size "
                     << bs;
    const int64_t blockBytes = bs * bits / 8;
    if ((*wb)->size() != n * blocks * blockBytes || (*wb)->dtype != kUint8)
      return error() << "B must be uint8 [N, K / block_size, block_size"
                     << (bits == 4 ? " / 2]" : "]");
    if ((*sc)->size() != n * blocks || !(*sc)->isFloat())
      return error() << "scales must be float [N * K / block_size]";
    std::vector<int64_t> zps(n * blocks, int64_t(1) << (bits - 1));
    if (hasInput(3)) {
      auto z = constInput(3);
      if (failed(z))
        return failure();
      if ((*z)->dtype != kUint8)
        return error() << "only uint8 zero points are supported";
      int64_t perRow = bits == 4 ? (blocks + 1) / 2 : blocks;
      if ((*z)->size() != n * perRow)
        return error() << "zero points must be [N * "
                       << (bits == 4 ? "ceil(blocks / 2)]" : "blocks]");
      for (int64_t c = 0; c < n; ++c)
        for (int64_t g = 0; g < blocks; ++g)
          zps[c * blocks + g] =
              bits == 8 ? (*z)->ints[c * perRow + g]
                        : ((*z)->ints[c * perRow + g / 2] >> (4 * (g % 2))) &
                              0xF;
    }
    auto type = typeOf(*x);
    if (type.getRank() == 0 || type.getShape().back() != k ||
        !type.getElementType().isF32())
      return error() << "A must be f32 [..., " << k << "], got " << type;
    // The weights keep their stored values. With positive scales and one
    // zero point they stay 4-bit (u4, that zero point: the int4 kernel's
    // form). ORT's symmetric quantizer gives negative scales (the largest
    // magnitude maps to -8) and its asymmetric one a zero point per block:
    // then the weights are stored as i8 `sign(s) * (q - zp)` (in [-15, 15],
    // zero point 0) with scale |s|, which is the same value exactly. 8-bit
    // weights become i8 blocks (nbits8Weights).
    SmallVector<float> scales(blocks * n);
    for (int64_t c = 0; c < n; ++c)
      for (int64_t g = 0; g < blocks; ++g)
        scales[g * n + c] = float((*sc)->fps[c * blocks + g]);
    for (float s : scales)
      if (!std::isfinite(s) || s == 0)
        return error() << "scale " << s << " is not a finite non-zero number";
    Value wc;
    if (bits == 8) {
      auto weights = nbits8Weights(**wb, scales, zps, k, n, bs);
      if (failed(weights))
        return failure();
      wc = *weights;
    } else {
      bool packed4 = llvm::all_of(scales, [](float s) { return s > 0; }) &&
                     llvm::all_of(zps, [&](int64_t z) { return z == zps[0]; });
      // Upstream's quant printer writes a sub-channel zero point of 8 or more
      // in u4 as a negative number (8 as -8), which no parser reads back as
      // u4. Such weights are stored as i4 `q - 8` with zero point `zp - 8`
      // (ORT's default 8 gives symmetric i4), the same values: the printed
      // module then parses again (qlow-import-onnx | qlow-opt).
      bool signed4 = packed4 && zps[0] >= 8;
      int64_t nibbleShift = signed4 ? 8 : 0;
      unsigned wbits = packed4 ? 4 : 8;
      const auto &raw = (*wb)->ints;
      SmallVector<APInt> w(k * n);
      for (int64_t c = 0; c < n; ++c)
        for (int64_t r = 0; r < k; ++r) {
          int64_t g = r / bs;
          int64_t byte = raw[(c * blocks + g) * (bs / 2) + (r % bs) / 2];
          int64_t q = (byte >> (4 * (r % 2))) & 0xF;
          int64_t v = packed4 ? q - nibbleShift
                              : (scales[g * n + c] < 0 ? -1 : 1) *
                                    (q - zps[c * blocks + g]);
          w[r * n + c] = APInt(wbits, uint64_t(v),
                               /*isSigned=*/!packed4 || signed4,
                               /*implicitTrunc=*/true);
        }
      for (float &s : scales)
        s = std::fabs(s);
      Type st = b.getIntegerType(wbits);
      auto scaleAttr = DenseElementsAttr::get(
          RankedTensorType::get({blocks, n}, b.getF32Type()),
          ArrayRef<float>(scales));
      bool isSigned = !packed4 || signed4;
      auto zeroAttr = DenseElementsAttr::get(
          RankedTensorType::get({blocks, n}, st),
          APInt(wbits, packed4 ? uint64_t(zps[0] - nibbleShift) : 0,
                /*isSigned=*/isSigned, /*implicitTrunc=*/true));
      auto qt = quant::UniformQuantizedSubChannelType::get(
          isSigned ? quant::QuantizationFlags::Signed : 0, st, b.getF32Type(),
          scaleAttr, zeroAttr, {0, 1}, {bs, 1},
          packed4 ? (signed4 ? -8 : 0) : -128,
          packed4 ? (signed4 ? 7 : 15) : 127);
      {
        OpBuilder::InsertionGuard guard(b);
        auto func = cast<func::FuncOp>(b.getInsertionBlock()->getParentOp());
        b.setInsertionPointToStart(&func.getBody().front());
        auto wt = RankedTensorType::get({k, n}, st);
        wc = arith::ConstantOp::create(b, loc, wt, DenseElementsAttr::get(wt, w));
        wc = quant::StorageCastOp::create(b, loc, RankedTensorType::get({k, n}, qt),
                                          wc);
      }
    }
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = n;
    // The optional f32 bias [N] is the matmul's: the int4 kernels add it to
    // their f32 results in the epilogue.
    Value bias;
    if (node->input_size() > 5 && hasInput(5)) {
      auto bv = tensorInput(5);
      if (failed(bv))
        return failure();
      auto biasType = typeOf(*bv);
      if (biasType.getRank() != 1 || biasType.getDimSize(0) != n ||
          !biasType.getElementType().isF32())
        return error() << "bias must be f32 [" << n << "], got " << biasType;
      bias = *bv;
    }
    auto dyn = DynamicQuantAttr::get(ctx, DynamicGranularity::PerRow,
                                     DynamicStorage::I8, QuantScheme::Symmetric);
    define(0, MatmulOp::create(b, loc, RankedTensorType::get(shape, b.getF32Type()),
                               *x, wc, bias, RoundingMode::Float, dyn));
    return success();
  }
  if (ms && op == "DynamicQuantizeMatMul") {
    // A f32, B int8/uint8 const, b_scale, b_zero_point, bias.
    auto x = tensorInput(0);
    auto wv = lookup(inputName(1));
    if (failed(x) || failed(wv))
      return failure();
    if (!(*wv)->cst || (*wv)->cst->shape.size() != 2)
      return error() << "B must be a 2-D integer initializer";
    if (typeOf(*x).getRank() == 0 ||
        typeOf(*x).getShape().back() != (*wv)->cst->shape[0])
      return error() << "A must be [..., " << (*wv)->cst->shape[0]
                     << "], got " << typeOf(*x);
    auto scale = constInput(2);
    if (failed(scale))
      return failure();
    std::shared_ptr<Const> zp;
    if (hasInput(3)) {
      auto z = constInput(3);
      if (failed(z))
        return failure();
      zp = *z;
    }
    auto qt = quantType(**scale, zp.get(), (*wv)->cst->dtype, 1, 2);
    if (failed(qt))
      return failure();
    auto wq = asQuantized(**wv, *qt);
    if (failed(wq))
      return failure();
    Value bias;
    if (hasInput(4)) {
      auto bv = tensorInput(4);
      if (failed(bv))
        return failure();
      bias = *bv;
    }
    SmallVector<int64_t> shape(typeOf(*x).getShape());
    shape.back() = typeOf(*wq).getDimSize(1);
    auto dyn = DynamicQuantAttr::get(ctx, DynamicGranularity::PerTensor,
                                     DynamicStorage::U8,
                                     QuantScheme::Asymmetric);
    define(0, MatmulOp::create(b, loc, RankedTensorType::get(shape, b.getF32Type()),
                               *x, *wq, bias, RoundingMode::Float, dyn));
    return success();
  }

  if (options.raisePatterns && !ms) {
    bool raised = false;
    if (failed(tryRaise(op, raised)))
      return failure();
    if (raised)
      return success();
  }

  bool folded = false;
  if (failed(foldShapeOp(op, folded)))
    return failure();
  if (folded)
    return success();
  bool handled = false;
  if (failed(importQuantOp(op, handled)))
    return failure();
  if (handled)
    return success();
  if (failed(importFloatOp(op, handled)))
    return failure();
  if (handled)
    return success();
  return error() << "unknown op '" << opName() << "': the importer does not "
                                                  "support it";
}

//===----------------------------------------------------------------------===//
// The graph
//===----------------------------------------------------------------------===//

LogicalResult Importer::importGraph(const onnx::GraphProto &graph,
                                    ModuleOp module) {
  // Initializers.
  for (const auto &init : graph.initializer()) {
    loc = NameLoc::get(b.getStringAttr(init.name()), fileLoc);
    Const c;
    if (failed(readTensor(init, c)))
      return failure();
    // Folding may reshape and cast the initializers (a model's weights).
    int64_t extra = 0;
    if (!__builtin_mul_overflow(c.size(), kFoldElementsPerInitializerElement,
                                &extra))
      foldBudget = std::min(kMaxElements, foldBudget + extra);
    Val v;
    v.kind = Val::Constant;
    v.cst = std::make_shared<Const>(std::move(c));
    values[init.name()] = v;
  }
  // Inputs that are not initializers become the function's arguments.
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &in : graph.input()) {
    if (values.count(in.name()))
      continue;
    loc = NameLoc::get(b.getStringAttr(in.name()), fileLoc);
    if (!in.type().has_tensor_type())
      return emitError(loc) << "graph input '" << in.name()
                            << "' is not a tensor";
    const auto &tt = in.type().tensor_type();
    auto elt = elementType(tt.elem_type());
    if (failed(elt))
      return failure();
    if (!isa<FloatType>(*elt) && !elt->isInteger(64) && !elt->isInteger(32))
      return emitError(loc) << "graph input '" << in.name() << "' has element "
                            << "type " << typeName(tt.elem_type())
                            << "; inputs must be float, int32 or int64";
    if (!tt.has_shape())
      return emitError(loc) << "graph input '" << in.name()
                            << "' has no shape; the importer needs static "
                               "shapes";
    SmallVector<int64_t> shape;
    for (auto [i, d] : llvm::enumerate(tt.shape().dim())) {
      if (!d.has_dim_value() || d.dim_value() <= 0)
        return emitError(loc)
               << "graph input '" << in.name() << "' has a dynamic dimension "
               << (d.has_dim_param() ? "'" + d.dim_param() + "'"
                                     : std::string("(unnamed)"))
               << " at axis " << i
               << "; the importer needs static shapes (fix them, e.g. with "
                  "onnxruntime.tools.make_dynamic_shape_fixed)";
      shape.push_back(d.dim_value());
    }
    if (elementCount(shape) < 0)
      return emitError(loc) << "graph input '" << in.name()
                            << "' is too large";
    argTypes.push_back(RankedTensorType::get(shape, *elt));
    argNames.push_back(in.name());
  }
  loc = fileLoc;
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, fileLoc, options.functionName,
                                   b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, "qlow.onnx_name", b.getStringAttr(name));
    values[name] = tensorVal(entry->getArgument(i));
  }
  b.setInsertionPointToEnd(entry);

  for (const auto &n : graph.node())
    for (const auto &out : n.output())
      producers[out] = &n;
  for (const auto &n : graph.node()) {
    node = &n;
    std::string name = n.name().empty() ? n.op_type() : n.name();
    loc = NameLoc::get(b.getStringAttr(name), fileLoc);
    if (n.output_size() == 0)
      return error() << "the node has no outputs";
    if (failed(importNode()))
      return failure();
    for (const auto &out : n.output())
      if (!out.empty() && !values.count(out))
        return error() << "output '" << out << "' is not supported";
  }
  node = nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &out : graph.output()) {
    loc = NameLoc::get(b.getStringAttr(out.name()), fileLoc);
    auto it = values.find(out.name());
    if (it == values.end())
      return emitError(loc) << "graph output '" << out.name()
                            << "' is not produced by any node";
    Val &v = it->second;
    if (v.kind == Val::Constant) {
      v.value = materialize(*v.cst);
      v.kind = Val::Tensor;
    }
    if (v.kind != Val::Tensor)
      return emitError(loc) << "graph output '" << out.name()
                            << "' comes from an unsupported dynamic "
                               "quantization pattern";
    results.push_back(v.value);
    resultTypes.push_back(v.value.getType());
  }
  if (results.empty())
    return emitError(fileLoc) << "the graph has no outputs";
  func::ReturnOp::create(b, fileLoc, results);
  // Drop what no result needs: raised decompositions (GELU), constants that
  // fed only shape computations.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (isOpTriviallyDead(&op))
      op.erase();
  func.setFunctionType(b.getFunctionType(argTypes, resultTypes));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "qlow.onnx_name", b.getStringAttr(out.name()));
  return success();
}

OwningOpRef<ModuleOp> Importer::run(StringRef bytes) {
  onnx::ModelProto model;
  if (bytes.size() > size_t(std::numeric_limits<int>::max())) {
    emitError(fileLoc) << "the model is larger than 2 GiB; keep the weights "
                          "as external data";
    return nullptr;
  }
  if (!model.ParseFromArray(bytes.data(), int(bytes.size()))) {
    emitError(fileLoc) << "not a valid ONNX model: the protobuf is "
                          "truncated or corrupt";
    return nullptr;
  }
  if (!model.has_graph() || model.graph().node_size() == 0) {
    emitError(fileLoc) << "not a valid ONNX model: it has no graph nodes "
                          "(truncated, or not an ONNX file)";
    return nullptr;
  }
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  if (failed(importGraph(model.graph(), *module)))
    return nullptr;
  // Constants used before their first use were placed at the start; drop the
  // ones no op used (shape computations).
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

OwningOpRef<ModuleOp> mlir::qlow::importOnnxModel(StringRef bytes,
                                                  StringRef modelPath,
                                                  MLIRContext *context,
                                                  const OnnxImportOptions &options) {
  context->loadDialect<QlowDialect, func::FuncDialect, arith::ArithDialect,
                       tensor::TensorDialect, linalg::LinalgDialect,
                       math::MathDialect, quant::QuantDialect>();
  Importer importer(context, modelPath, options);
  return importer.run(bytes);
}

OwningOpRef<ModuleOp> mlir::qlow::importOnnxFile(StringRef path,
                                                 MLIRContext *context,
                                                 const OnnxImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/false,
                                                   /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << "cannot read '" << path << "': " << buffer.getError().message();
    return nullptr;
  }
  return importOnnxModel((*buffer)->getBuffer(), path, context, options);
}

bool mlir::qlow::isOnnxFile(StringRef path) {
  return llvm::sys::path::extension(path).equals_insensitive(".onnx");
}

void mlir::qlow::stripOnnxNames(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>()) {
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.removeArgAttr(i, "qlow.onnx_name");
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      func.removeResultAttr(i, StringAttr::get(module.getContext(),
                                               "qlow.onnx_name"));
  }
}

LogicalResult mlir::qlow::foldImportedModel(ModuleOp module, bool keepNames) {
  if (!keepNames)
    stripOnnxNames(module);
  // qlow-fold-qdq remarks on every op it leaves in float: in a float or
  // partly quantized model that is most of them, and expected.
  ScopedDiagnosticHandler quiet(module.getContext(), [](Diagnostic &d) {
    return success(d.getSeverity() == DiagnosticSeverity::Remark);
  });
  PassManager pm(module.getContext());
  pm.addNestedPass<func::FuncOp>(createQlowFoldQdqPass());
  pm.addPass(createCanonicalizerPass());
  return pm.run(module);
}
