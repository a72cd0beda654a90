//===- IntegerOnly.h - I-BERT integer-only softmax, layer_norm, gelu -*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The reference semantics of qlow.int_softmax, qlow.int_layer_norm and
// qlow.int_gelu: integer-only forms of softmax, layer normalization and GELU
// after I-BERT (Kim et al., "I-BERT: Integer-only BERT Quantization", 2021):
// exp by range reduction x = -z ln2 + p and a second-order polynomial on p
// (i-exp), integer Newton square root (i-sqrt), and GELU through I-BERT's
// clipped second-order polynomial for erf (i-erf). Every step is exact integer
// arithmetic; the constants that depend on the scales (and on gamma and beta)
// are computed once by the plan functions, which the lowering calls too, so
// compiled kernels are bit-exact against these functions.
//
// The exact formulas are in the op descriptions (dialects/Qlow/IR/QlowOps.td)
// and in docs/Reference.md; the comments below restate them.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_REFERENCE_INTEGERONLY_H
#define QLOW_REFERENCE_INTEGERONLY_H

#include "qlow/Reference/Arithmetic.h"
#include "qlow/Reference/Status.h"
#include "qlow/Reference/Types.h"

#include <cstdint>
#include <vector>

namespace qlow::ref {

//===----------------------------------------------------------------------===//
// i-exp and int_softmax
//===----------------------------------------------------------------------===//

/// x of i-exp is in units of 2^-kIExpFracBits.
constexpr int kIExpFracBits = 14;
/// round(ln 2 * 2^14).
constexpr int32_t kIExpLn2 = 11357;
/// round(1.353 * 2^14): b of exp(p) ~ a (p + b)^2 + c, a = 0.3585, c = 0.344.
constexpr int32_t kIExpB = 22168;
/// round(c / a * 2^28).
constexpr int32_t kIExpC = 257578234;
/// The lowest x: 1 - 31 * ln2, so that z = floor(-x / ln2) <= 30.
constexpr int32_t kIExpMinX = 1 - 31 * kIExpLn2;
/// The largest softmax axis: the i32 sum of i-exp values (< 45716 each) stays
/// exact. The dialect verifier checks the same bound.
constexpr int64_t kIntSoftmaxMaxAxisSize = 32768;

/// i-exp of x <= 0 given in units of 2^-14 (x is clamped to kIExpMinX):
///   z = floor(-x / kIExpLn2), p = x + kIExpLn2 * z (in (-ln 2, 0]),
///   e = ((p + kIExpB)^2 + kIExpC) >> min(z + 14, 31).
/// e ~ exp(x) * 2^14 / a with a = 0.3585; e(0) = 45715.
int32_t iExp(int32_t x);

/// The fixed-point constants of qlow.int_softmax.
struct IntSoftmaxPlan {
  /// QM(si * 2^14): stored-value differences to i-exp's x.
  FixedPointMultiplier input;
  /// QM(1 / (so * 2^30)): probabilities in units of 2^-30 to the output.
  FixedPointMultiplier output;
};
/// Errors when a multiplier is not representable (a scale <= 0, or one that
/// makes QM's shift exceed 30).
Expected<IntSoftmaxPlan> planIntSoftmax(double inputScale, double outputScale);

/// qlow.int_softmax along `axis` (negative counts from the end). x is Quant
/// per tensor with 8-, 16- or 32-bit storage; the result type Quant per tensor
/// with 8- or 16-bit storage and x's shape. Per slice along the axis (at most
/// kIntSoftmaxMaxAxisSize elements):
///   m = max q;  d = max(q - m, -2^31);
///   x = max(MBQM(d, plan.input), kIExpMinX);  e = iExp(x);
///   S = sum e (i32);  R = floor(2^61 / S) (i64);
///   P = (e * R + 2^30) >> 31 (i64);  out = saturate(zo + MBQM(P, plan.output)).
Expected<Tensor> intSoftmax(const Tensor &x, int64_t axis,
                            const TensorType &resultType);

//===----------------------------------------------------------------------===//
// i-sqrt and int_layer_norm
//===----------------------------------------------------------------------===//

/// floor(sqrt(v)) for v >= 0 by integer Newton iteration: x0 =
/// 2^ceil(bits(v) / 2) (bits(v) = 64 - countl_zero(v); x0 >= sqrt(v) and
/// x0 < 2 sqrt(v) + 1), then x <- (x + v / x) >> 1 while that decreases x.
/// Negative v is clamped to 0.
int64_t isqrt(int64_t v);

/// The same iteration run exactly `steps` times as x <- min(x, (x + v / x) >>
/// 1), for v >= 1 (a branch-free form for vector code). kIsqrtNewtonSteps
/// steps give isqrt(v) for every v in [1, 2^63); the unit tests check it.
int64_t isqrtFixedSteps(int64_t v, int steps);
constexpr int kIsqrtNewtonSteps = 7;

/// The largest normalized dimension of qlow.int_layer_norm.
constexpr int64_t kIntLayerNormMaxDim = 65536;

/// The fixed-point constants of qlow.int_layer_norm.
struct IntLayerNormPlan {
  /// G_i = roundHalfEven(gamma_i * 2^16 / so), |G_i| < 2^31.
  std::vector<int64_t> gamma;
  /// B_i = roundHalfEven(beta_i * 2^32 / so), |B_i| < 2^61 (0 without beta).
  std::vector<int64_t> beta;
  /// E = roundHalfEven(min(epsilon * 2^8 / si^2, 2^62)).
  int64_t epsilon = 0;
};
/// All in double. Errors: non-finite gamma or beta, |G| or |B| out of range
/// (gamma or beta too large for the output scale), bad scales or epsilon.
/// `beta` may be null.
Expected<IntLayerNormPlan> planIntLayerNorm(double inputScale,
                                            double outputScale,
                                            const std::vector<float> &gamma,
                                            const std::vector<float> *beta,
                                            float epsilon);

/// qlow.int_layer_norm over the last dimension D (<= kIntLayerNormMaxDim).
/// x is Quant per tensor with 8- or 16-bit storage; gamma and beta are Float
/// [D] (beta may be null); the result type Quant per tensor, 8 or 16 bits.
/// Per row of stored values q (zero point cancels), in i64:
///   sum = sum q;  mu = floor((32 sum + D) / (2 D));  c = 16 q - mu;
///   V = sum c^2;  v = floor(V / D) + E;  sd = max(isqrt(v), 1);
///   R = floor(2^44 / sd);  n = (c R + 2^27) >> 28;
///   out = saturate(zo + ((n G + B + 2^31) >> 32)).
Expected<Tensor> intLayerNorm(const Tensor &x, const Tensor &gamma,
                              const Tensor *beta, float epsilon,
                              const TensorType &resultType);

//===----------------------------------------------------------------------===//
// i-erf and int_gelu
//===----------------------------------------------------------------------===//

/// round(1.769 * 2^14): I-BERT's erf clip, in units of 2^-14.
constexpr int32_t kIErfClip = 28983;
/// round(0.2888 * 2^15): I-BERT's erf polynomial coefficient.
constexpr int32_t kIErfA = 9463;

/// I-BERT's erf of u (units 2^-14), result in units of 2^-14:
///   s = clamp(u, -kIErfClip, kIErfClip), t = |s| - kIErfClip,
///   v = 2^14 - ((((t t) >> 14) kIErfA + 2^14) >> 15),
///   erf = s > 0 ? v : (s < 0 ? -v : 0).
int32_t iErf(int32_t u);

/// The fixed-point constants of qlow.int_gelu.
struct IntGeluPlan {
  /// QM(si * 2^14 / sqrt(2)): d to u = x / sqrt(2) in units of 2^-14.
  FixedPointMultiplier input;
  /// QM(si / (so * 2^15)): d * (1 + erf) 2^14 to the output.
  FixedPointMultiplier output;
};
Expected<IntGeluPlan> planIntGelu(double inputScale, double outputScale);

/// One element of qlow.int_gelu: d = q - zi (|d| <= 65535) to the output
/// before the zero point and saturation:
///   u = MBQM(d, plan.input), w = 2^14 + iErf(u), MBQM(d * w, plan.output).
int32_t intGeluScalar(int32_t d, const IntGeluPlan &plan);

/// qlow.int_gelu: x Quant per tensor (8 or 16 bits) to a Quant per-tensor
/// result (8 or 16 bits) of the same shape:
///   out = saturate(zo + intGeluScalar(q - zi, plan)).
Expected<Tensor> intGelu(const Tensor &x, const TensorType &resultType);

} // namespace qlow::ref

#endif // QLOW_REFERENCE_INTEGERONLY_H
