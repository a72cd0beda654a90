//===- Elementwise.cpp - add, mul, gelu, silu -----------------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Arithmetic.h"
#include "qlow/Reference/Ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

using namespace qlow::ref;

namespace {
__extension__ typedef __int128 Int128;

// M_PI is POSIX, not ISO C++.
constexpr double kPi = 3.14159265358979323846;

/// Maps a flat index of the broadcast result to flat indices of the operands.
class BroadcastIndexer {
public:
  BroadcastIndexer(const std::vector<int64_t> &result,
                   const std::vector<int64_t> &a, const std::vector<int64_t> &b)
      : resultShape(result), aStrides(paddedStrides(result, a)),
        bStrides(paddedStrides(result, b)) {}

  /// Sets ia and ib to the operand positions read by result element `flat`.
  void map(int64_t flat, int64_t &ia, int64_t &ib) const {
    ia = ib = 0;
    for (size_t d = resultShape.size(); d-- > 0;) {
      int64_t c = flat % resultShape[d];
      flat /= resultShape[d];
      ia += c * aStrides[d];
      ib += c * bStrides[d];
    }
  }

private:
  /// Strides of `operand` aligned to the result's trailing dims, 0 where the
  /// operand is broadcast.
  static std::vector<int64_t>
  paddedStrides(const std::vector<int64_t> &result,
                const std::vector<int64_t> &operand) {
    std::vector<int64_t> own = rowMajorStrides(operand);
    std::vector<int64_t> s(result.size(), 0);
    size_t offset = result.size() - operand.size();
    for (size_t d = 0; d < operand.size(); ++d)
      s[offset + d] = operand[d] == 1 ? 0 : own[d];
    return s;
  }

  std::vector<int64_t> resultShape, aStrides, bStrides;
};

enum class BinaryOp { Add, Mul };

const char *opName(BinaryOp op) { return op == BinaryOp::Add ? "add" : "mul"; }

int64_t clampTo(Int128 v, int64_t lo, int64_t hi) {
  return static_cast<int64_t>(v < lo ? lo : (v > hi ? hi : v));
}

Expected<QuantizedBinaryPlan> planQuantized(BinaryOp op, const QuantParams &pa,
                                            const QuantParams &pb,
                                            const QuantParams &po) {
  QuantizedBinaryPlan plan;
  const double sa = pa.scales[0], sb = pb.scales[0], so = po.scales[0];
  if (op == BinaryOp::Mul) {
    Expected<FixedPointMultiplier> m = quantizeMultiplier(sa * sb / so);
    if (!m)
      return m.status;
    plan.out = *m;
    return plan;
  }
  // TFLite's quantized Add: both inputs are brought to a common scale with
  // leftShift bits of headroom, summed, then rescaled to the output.
  unsigned bits = std::max({pa.storage.bits, pb.storage.bits, po.storage.bits});
  if (bits > 16)
    return Status::error("fixed-point quantized add supports storage of at "
                         "most 16 bits, got " +
                         std::to_string(bits) + " (use float rounding)");
  plan.leftShift = bits <= 8 ? 20 : 15;
  const double twiceMax = 2.0 * std::max(sa, sb);
  Expected<FixedPointMultiplier> ma = quantizeMultiplier(sa / twiceMax);
  Expected<FixedPointMultiplier> mb = quantizeMultiplier(sb / twiceMax);
  Expected<FixedPointMultiplier> mo = quantizeMultiplier(
      twiceMax / (static_cast<double>(int64_t(1) << plan.leftShift) * so));
  if (!ma)
    return ma.status;
  if (!mb)
    return mb.status;
  if (!mo)
    return mo.status;
  plan.a = *ma;
  plan.b = *mb;
  plan.out = *mo;
  return plan;
}

Expected<Tensor> binary(BinaryOp op, const Tensor &a, const Tensor &b,
                        const TensorType &resultType, Rounding rounding) {
  const std::string name = opName(op);
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(a).withContext(name + ": lhs"));
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(b).withContext(name + ": rhs"));
  QLOW_REF_RETURN_IF_ERROR(
      verifyTensorType(resultType).withContext(name + ": result type"));
  Expected<std::vector<int64_t>> shape = broadcastShapes(a.shape(), b.shape());
  if (!shape)
    return shape.status.withContext(name);
  if (*shape != resultType.shape)
    return Status::error(
        name + ": result shape " + shapeToString(resultType.shape) +
        " should be the broadcast shape " + shapeToString(*shape));
  if (a.type.kind != b.type.kind || a.type.kind != resultType.kind)
    return Status::error(name +
                         ": operands and result must all be f32, all "
                         "integer or all quantized, got " +
                         a.type.str() + ", " + b.type.str() + " -> " +
                         resultType.str());

  BroadcastIndexer indexer(*shape, a.shape(), b.shape());
  Tensor out = Tensor::zeros(resultType);
  const int64_t n = out.numElements();
  int64_t ia = 0, ib = 0;
  switch (resultType.kind) {
  case ElemKind::Float:
    for (int64_t e = 0; e < n; ++e) {
      indexer.map(e, ia, ib);
      out.f[e] = op == BinaryOp::Add ? a.f[ia] + b.f[ib] : a.f[ia] * b.f[ib];
    }
    return out;

  case ElemKind::Int: {
    const IntType t = resultType.intType;
    for (int64_t e = 0; e < n; ++e) {
      indexer.map(e, ia, ib);
      Int128 v = op == BinaryOp::Add ? static_cast<Int128>(a.i[ia]) + b.i[ib]
                                     : static_cast<Int128>(a.i[ia]) * b.i[ib];
      if (v < t.min() || v > t.max())
        return Status::error(name + ": " + t.str() +
                             " overflow at flat index " + std::to_string(e) +
                             ": " + std::to_string(a.i[ia]) +
                             (op == BinaryOp::Add ? " + " : " * ") +
                             std::to_string(b.i[ib]) + " is out of range");
      out.i[e] = static_cast<int64_t>(v);
    }
    return out;
  }

  case ElemKind::Quant:
    break;
  }

  const QuantParams &pa = a.type.quant, &pb = b.type.quant,
                    &po = resultType.quant;
  if (!pa.isPerTensor() || !pb.isPerTensor() || !po.isPerTensor())
    return Status::error(name +
                         ": quantized operands and result must be "
                         "per-tensor, got " +
                         a.type.str() + ", " + b.type.str() + " -> " +
                         resultType.str());
  const double sa = pa.scales[0], sb = pb.scales[0], so = po.scales[0];
  const int64_t za = pa.zeroPoints[0], zb = pb.zeroPoints[0],
                zo = po.zeroPoints[0];
  const int64_t qmin = po.qmin(), qmax = po.qmax();

  if (rounding == Rounding::Float) {
    const float fsa = static_cast<float>(sa), fsb = static_cast<float>(sb),
                fso = static_cast<float>(so);
    const float mulM = static_cast<float>(sa * sb / so);
    for (int64_t e = 0; e < n; ++e) {
      indexer.map(e, ia, ib);
      const Int128 da = static_cast<Int128>(a.i[ia]) - za;
      const Int128 db = static_cast<Int128>(b.i[ib]) - zb;
      float v =
          op == BinaryOp::Add
              ? (fsa * static_cast<float>(da) + fsb * static_cast<float>(db)) /
                    fso
              : static_cast<float>(da * db) * mulM;
      out.i[e] = roundToQuantized(v, zo, qmin, qmax);
    }
    return out;
  }

  Expected<QuantizedBinaryPlan> plan = planQuantized(op, pa, pb, po);
  if (!plan)
    return plan.status.withContext(name);
  for (int64_t e = 0; e < n; ++e) {
    indexer.map(e, ia, ib);
    const Int128 da = static_cast<Int128>(a.i[ia]) - za;
    const Int128 db = static_cast<Int128>(b.i[ib]) - zb;
    int32_t raw = 0;
    if (op == BinaryOp::Mul) {
      const Int128 p = da * db;
      if (p < std::numeric_limits<int32_t>::min() ||
          p > std::numeric_limits<int32_t>::max())
        return Status::error("mul: the product of zero-point-corrected values "
                             "at flat index " +
                             std::to_string(e) +
                             " does not fit int32 (use float rounding)");
      raw = multiplyByQuantizedMultiplier(static_cast<int32_t>(p), plan->out);
    } else {
      // |q - z| < 2^16 and leftShift <= 15 for 16-bit storage (20 for 8-bit),
      // so the shifted values fit int32 and the scaled ones sum without
      // overflow (each input multiplier is at most 1/2).
      const int32_t shiftedA =
          static_cast<int32_t>(da * (int64_t(1) << plan->leftShift));
      const int32_t shiftedB =
          static_cast<int32_t>(db * (int64_t(1) << plan->leftShift));
      const int32_t scaledA = multiplyByQuantizedMultiplier(shiftedA, plan->a);
      const int32_t scaledB = multiplyByQuantizedMultiplier(shiftedB, plan->b);
      raw = multiplyByQuantizedMultiplier(scaledA + scaledB, plan->out);
    }
    out.i[e] = clampTo(static_cast<Int128>(zo) + raw, qmin, qmax);
  }
  return out;
}

/// Applies `fn` (double -> double) to every element: Quant inputs are
/// dequantized first and the result converted to resultType.
template <typename Fn>
Expected<Tensor> unaryFloat(const char *name, const Tensor &x,
                            const TensorType &resultType, Fn fn) {
  Expected<std::vector<float>> values = toFloatValues(x);
  if (!values)
    return values.status.withContext(std::string(name) + ": input");
  if (resultType.shape != x.shape())
    return Status::error(std::string(name) + ": result shape " +
                         shapeToString(resultType.shape) +
                         " differs from the input shape " +
                         shapeToString(x.shape()));
  for (float &v : *values)
    v = static_cast<float>(fn(static_cast<double>(v)));
  Expected<Tensor> out = fromFloatValues(std::move(*values), resultType);
  if (!out)
    return out.status.withContext(name);
  return out;
}
} // namespace

Expected<Tensor> qlow::ref::add(const Tensor &a, const Tensor &b,
                                const TensorType &resultType,
                                Rounding rounding) {
  return binary(BinaryOp::Add, a, b, resultType, rounding);
}

Expected<Tensor> qlow::ref::mul(const Tensor &a, const Tensor &b,
                                const TensorType &resultType,
                                Rounding rounding) {
  return binary(BinaryOp::Mul, a, b, resultType, rounding);
}

Expected<Tensor> qlow::ref::gelu(const Tensor &x,
                                 GeluApproximation approximation,
                                 const TensorType &resultType) {
  if (approximation == GeluApproximation::Tanh)
    return unaryFloat("gelu", x, resultType, [](double v) {
      const double k = std::sqrt(2.0 / kPi);
      return 0.5 * v * (1.0 + std::tanh(k * (v + 0.044715 * v * v * v)));
    });
  return unaryFloat("gelu", x, resultType, [](double v) {
    return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
  });
}

Expected<Tensor> qlow::ref::silu(const Tensor &x,
                                 const TensorType &resultType) {
  return unaryFloat("silu", x, resultType,
                    [](double v) { return v / (1.0 + std::exp(-v)); });
}

Expected<QuantizedBinaryPlan>
qlow::ref::planQuantizedAdd(const QuantParams &a, const QuantParams &b,
                            const QuantParams &out) {
  return planQuantized(BinaryOp::Add, a, b, out);
}

Expected<QuantizedBinaryPlan>
qlow::ref::planQuantizedMul(const QuantParams &a, const QuantParams &b,
                            const QuantParams &out) {
  return planQuantized(BinaryOp::Mul, a, b, out);
}
