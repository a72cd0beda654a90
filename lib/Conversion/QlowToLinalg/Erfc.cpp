//===- Erfc.cpp - qlow's f32 erfc polynomial ------------------------------===//
//
// The core of qlow's f32 erfc approximation, shared by qlow-approximate-math
// (math.erfc) and the erf form of qlow.gelu, which gives it a^2 = x^2 / 2
// without rounding x / sqrt 2 first.
//
//===----------------------------------------------------------------------===//

#include "qlow/Conversion/QlowToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <iterator>

using namespace mlir;

namespace {
/// Q(t) = sum kQ[i] t^i, fitted by scripts/fit_erfc.py to erfc(a) exp(a^2)
/// / t for t = 1 / (1 + a / 2), a in [0, 10]: relative error 6e-8 with the
/// coefficients rounded to f32, and Q(1) = 1 exactly in f32 (erfc(0) = 1).
constexpr float kQ[] = {0.2820878f,   0.28234687f,  0.2433451f,
                        0.20158133f,  -0.023627346f, 0.2731193f,
                        -0.48232844f, 0.28194797f,  -0.058472574f};
} // namespace

Value mlir::qlow::f32Splat(OpBuilder &b, Location loc, Type type,
                           float value) {
  Attribute attr = b.getF32FloatAttr(value);
  if (auto shaped = dyn_cast<ShapedType>(type))
    attr = DenseElementsAttr::get(shaped, value);
  return arith::ConstantOp::create(b, loc, type, cast<TypedAttr>(attr));
}

Value mlir::qlow::buildErfcTail(OpBuilder &b, Location loc, Value t, Value hi,
                                Value lo) {
  Type type = t.getType();
  auto fma = [&](Value x, Value y, Value z) -> Value {
    return math::FmaOp::create(b, loc, x, y, z);
  };
  Value q = f32Splat(b, loc, type, kQ[std::size(kQ) - 1]);
  for (size_t i = std::size(kQ) - 1; i-- > 0;)
    q = fma(q, t, f32Splat(b, loc, type, kQ[i]));
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, hi));
  Value m =
      arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, t, q), e);
  // exp(-hi - lo) = exp(-hi) (1 - lo) to within lo^2 (|lo| <= 2^-18).
  return fma(arith::NegFOp::create(b, loc, lo), m, m);
}
