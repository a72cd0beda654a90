//===- Erfc.cpp - qlow's f32 erfc polynomial ------------------------------===//
//
// The core of qlow's f32 erfc approximation, shared by qlow-approximate-math
// (math.erfc) and the erf form of qlow.gelu, which gives it a^2 = x^2 / 2
// without rounding x / sqrt 2 first; and the f32 exp of non-positive
// arguments it uses, which the attention kernels' softmax uses too.
//
//===----------------------------------------------------------------------===//

#include "qlow/Conversion/QlowToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <array>
#include <iterator>

using namespace mlir;

namespace {
/// Q(t) = sum kQ[i] t^i, fitted by scripts/fit_erfc.py to erfc(a) exp(a^2)
/// / t for t = 1 / (1 + a / 2), a in [0, 10]: relative error 6e-8 with the
/// coefficients rounded to f32, and Q(1) = 1 exactly in f32 (erfc(0) = 1).
constexpr float kQ[] = {0.2820878f,   0.28234687f,  0.2433451f,
                        0.20158133f,  -0.023627346f, 0.2731193f,
                        -0.48232844f, 0.28194797f,  -0.058472574f};
/// R(t) = sum kR[i] t^i = (Q(t) - Q(1)) / (t - 1) by synthetic division:
/// kR[i] = the sum of kQ[j] for j > i, in double, rounded to f32. (The kQ
/// sum to 1 + 9e-9; the kernel takes Q(1) = 1.)
constexpr std::array<float, std::size(kQ) - 1> remainderCoefficients() {
  std::array<float, std::size(kQ) - 1> r{};
  for (size_t i = 0; i < r.size(); ++i) {
    double sum = 0.0;
    for (size_t j = i + 1; j < std::size(kQ); ++j)
      sum += kQ[j];
    r[i] = static_cast<float>(sum);
  }
  return r;
}
constexpr auto kR = remainderCoefficients();

Value fmaOf(OpBuilder &b, Location loc, Value x, Value y, Value z) {
  return math::FmaOp::create(b, loc, x, y, z);
}

/// high * x + low for f32 constants high and low (splats of x's type), the
/// constants created in that order: the IR's order must not depend on the
/// compiler's order of evaluating arguments.
Value constantFma(OpBuilder &b, Location loc, float high, Value x, float low) {
  Value h = mlir::qlow::f32Splat(b, loc, x.getType(), high);
  Value l = mlir::qlow::f32Splat(b, loc, x.getType(), low);
  return fmaOf(b, loc, h, x, l);
}
} // namespace

Value mlir::qlow::f32Splat(OpBuilder &b, Location loc, Type type,
                           float value) {
  Attribute attr = b.getF32FloatAttr(value);
  if (auto shaped = dyn_cast<ShapedType>(type))
    attr = DenseElementsAttr::get(shaped, value);
  return arith::ConstantOp::create(b, loc, type, cast<TypedAttr>(attr));
}

Value mlir::qlow::selectGreater(OpBuilder &b, Location loc, Value x, Value y) {
  Value greater =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, y);
  return arith::SelectOp::create(b, loc, greater, x, y);
}

// exp(x) = 2^n e^r with n = roundeven(x / ln 2), r = x - n ln 2 (Cody-Waite,
// ln 2 split as Cephes' expf does) and e^r = 1 + r + r^2 C(r), C Cephes'
// degree-5 polynomial evaluated by Estrin's scheme; 2^n from the exponent
// bits, n clamped to -127 (whose bits are 0.0). Written for erfc's tail,
// where upstream's math.exp polynomial (a clamp of its input, Horner's
// chain) made the exponential the longest dependency chain of the GELU loop,
// which ran at about 32 cycles per 8 elements for about 44 FP operations.
// With this and Q's shorter form below: the erf GELU of a 128 x 3072 f32
// tensor, Zen 3, 1 thread, 0.485 -> 0.400 ms. The attention kernels' softmax
// takes it too (clampInput: their masked scores are -inf).
Value mlir::qlow::buildExpOfNonPositive(OpBuilder &b, Location loc, Value x,
                                        bool clampInput) {
  Type type = x.getType();
  Type intType = b.getI32Type();
  if (auto shaped = dyn_cast<ShapedType>(type))
    intType = shaped.clone(intType);
  auto cst = [&](float v) { return mlir::qlow::f32Splat(b, loc, type, v); };
  auto icst = [&](int32_t v) {
    return createScalarOrSplatConstant(b, loc, intType, v);
  };
  auto fma = [&](Value x, Value y, Value z) { return fmaOf(b, loc, x, y, z); };
  // Below -104, n <= -150 is clamped to -127 below and the result is 0; the
  // clamp keeps r finite for x = -inf (and keeps NaN: x is selectGreater's
  // second operand).
  if (clampInput)
    x = mlir::qlow::selectGreater(b, loc, cst(-104.0f), x);
  Value log2e = cst(1.44269504088896341f);
  Value xLog2e = arith::MulFOp::create(b, loc, x, log2e);
  Value n = math::RoundEvenOp::create(b, loc, xLog2e);
  Value ln2High = cst(-0.693359375f);
  Value r = fma(n, ln2High, x);
  Value ln2Low = cst(2.12194440e-4f);
  r = fma(n, ln2Low, r);
  Value r2 = arith::MulFOp::create(b, loc, r, r);
  Value c01 = constantFma(b, loc, 1.6666665459e-1f, r, 5.0000001201e-1f);
  Value c23 = constantFma(b, loc, 8.3334519073e-3f, r, 4.1665795894e-2f);
  Value c45 = constantFma(b, loc, 1.9875691500e-4f, r, 1.3981999507e-3f);
  Value c2345 = fma(c45, r2, c23);
  Value c = fma(c2345, r2, c01);
  Value onePlusR = arith::AddFOp::create(b, loc, r, cst(1.0f));
  Value er = fma(c, r2, onePlusR);
  // n is NaN only where x is, and er is NaN there whatever the clamp gives.
  Value clamped = mlir::qlow::selectGreater(b, loc, n, cst(-127.0f));
  Value k = arith::FPToSIOp::create(b, loc, intType, clamped);
  Value biased = arith::AddIOp::create(b, loc, k, icst(127));
  Value bits = arith::ShLIOp::create(b, loc, biased, icst(23));
  Value scale = arith::BitcastOp::create(b, loc, type, bits);
  return arith::MulFOp::create(b, loc, er, scale);
}

namespace {
/// exp(-h) for h in [0, 104] (or NaN): erfc's tail, h = a^2 <= 100.
Value expOfNegative(OpBuilder &b, Location loc, Value h) {
  return mlir::qlow::buildExpOfNonPositive(b, loc,
                                           arith::NegFOp::create(b, loc, h),
                                           /*clampInput=*/false);
}
} // namespace

Value mlir::qlow::buildErfcTail(OpBuilder &b, Location loc, Value t, Value hi,
                                Value lo) {
  Type type = t.getType();
  auto fma = [&](Value x, Value y, Value z) { return fmaOf(b, loc, x, y, z); };
  // Q(t) = 1 + (t - 1) R(t), R(t) = (Q(t) - Q(1)) / (t - 1) (kR), so that
  // Q(1) is 1 however R rounds; R by Estrin's scheme (pairs in t, then t^2
  // and t^4): 4 operations deep where Horner's Q was 8. (Operands built one
  // statement at a time, as in constantFma.)
  auto pair = [&](size_t i) { return constantFma(b, loc, kR[i + 1], t, kR[i]); };
  Value t2 = arith::MulFOp::create(b, loc, t, t);
  Value t4 = arith::MulFOp::create(b, loc, t2, t2);
  Value r01 = pair(0);
  Value r23 = pair(2);
  Value r0123 = fma(r23, t2, r01);
  Value r45 = pair(4);
  Value r67 = pair(6);
  Value r4567 = fma(r67, t2, r45);
  Value rt = fma(r4567, t4, r0123);
  Value one = f32Splat(b, loc, type, 1.0f);
  Value tMinusOne = arith::SubFOp::create(b, loc, t, one);
  Value q = fma(tMinusOne, rt, one);
  Value e = expOfNegative(b, loc, hi);
  Value m =
      arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, t, q), e);
  // exp(-hi - lo) = exp(-hi) (1 - lo) to within lo^2 (|lo| <= 2^-18).
  return fma(arith::NegFOp::create(b, loc, lo), m, m);
}
