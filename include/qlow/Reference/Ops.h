//===- Ops.h - Reference semantics of every qlow op -------------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// One function per qlow op. Each takes its operands as Tensors and, where the
// result may be quantized, the result TensorType; it checks every operand and
// shape and returns an error Status (never crashes) on a mismatch. An MLIR
// interpreter calls these op by op; docs/Reference.md restates the semantics.
//
// Conventions shared by all ops:
//  - Integer kernels are bit-exact against these functions. Float results are
//    compared with a tolerance.
//  - "Float ops" (softmax, layerNorm, rmsNorm, gelu, silu, attention, rope)
//    accept Quant operands, which are dequantized first, and a Quant result
//    type, whose values are then quantized with ONNX QuantizeLinear rounding
//    (see quantize). Their internal arithmetic is done in double from the f32
//    inputs and each result is rounded once to f32, which makes them the most
//    accurate oracle for tolerance checks. (The float matmul is the exception:
//    it accumulates in f32 in k order, as the compiled kernels do.)
//  - Saturation of quantized results is to [qmin(), qmax()] of the result's
//    parameters (the narrowed range when one is set).
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_REFERENCE_OPS_H
#define QLOW_REFERENCE_OPS_H

#include "qlow/Reference/Arithmetic.h"
#include "qlow/Reference/Status.h"
#include "qlow/Reference/Types.h"

#include <cstdint>
#include <vector>

namespace qlow::ref {

/// How a quantized op rounds its rescaling step.
enum class Rounding {
  /// int32 multiplier and shift, gemmlowp/TFLite rounding
  /// (multiplyByQuantizedMultiplier): exact and reproducible on every target.
  FixedPoint,
  /// Multiply in f32, round half to even (ONNX QuantizeLinear style).
  Float,
};

/// The two GELU formulas.
enum class GeluApproximation {
  /// 0.5 x (1 + erf(x / sqrt(2))).
  None,
  /// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  Tanh,
};

//===----------------------------------------------------------------------===//
// Float <-> tensor helpers
//===----------------------------------------------------------------------===//

/// The f32 values of a tensor: a Float tensor's values, or a Quant tensor
/// dequantized. Int tensors are an error.
Expected<std::vector<float>> toFloatValues(const Tensor &tensor);

/// Wraps f32 `values` as a tensor of `resultType`: Float as is, Quant by
/// quantize (ONNX rounding). Int result types and a size mismatch are errors.
Expected<Tensor> fromFloatValues(std::vector<float> values,
                                 const TensorType &resultType);

//===----------------------------------------------------------------------===//
// Quantization ops
//===----------------------------------------------------------------------===//

/// qlow.quantize: Float -> Quant of the same shape. Per element with the
/// parameters at that element: q = saturate(roundHalfEven(x / (float)scale) +
/// zp) to [qmin, qmax], the division in f32 (ONNX QuantizeLinear). NaN -> zp,
/// +-inf saturate.
Expected<Tensor> quantize(const Tensor &x, const TensorType &resultType);

/// qlow.dequantize: Quant -> Float: (float)(q - zp) * (float)scale.
Expected<Tensor> dequantize(const Tensor &q);

/// qlow.requantize: Quant -> Quant of the same shape, each element using the
/// input and output parameters at its index, M = s_in / s_out (double):
///   FixedPoint: saturate(z_out + multiplyByQuantizedMultiplier(q - z_in,
///               quantizeMultiplier(M)))   (q - z_in must fit int32);
///   Float:      saturate(roundHalfEven((float)(q - z_in) * (float)M) + z_out).
Expected<Tensor> requantize(const Tensor &q, const TensorType &resultType,
                            Rounding rounding);

/// Run-time (dynamic) quantization of an f32 tensor: the `#qlow.dynamic`
/// attribute of qlow.matmul.
struct DynamicQuant {
  enum class Granularity { PerTensor, PerRow };
  Granularity granularity = Granularity::PerRow;
  /// i8 or u8.
  IntType storage = IntType::i8();
  /// Zero point fixed at 0 (needs signed storage).
  bool symmetric = true;
};

/// Quantizes x [..., M, K] (Float, rank >= 2) as `dq` describes. For each set
/// V of values sharing a scale (the whole tensor, or each row x[..., m, :]),
/// in f32: lo = min(0, min V), hi = max(0, max V); symmetric: scale =
/// max(-lo, hi) / qmax, zp = 0; asymmetric: scale = (hi - lo) / (qmax - qmin),
/// zp = saturate(roundHalfEven(qmin - lo / scale)); a zero scale becomes 1;
/// q = quantizeScalar(x, scale, zp). The result is Quant with scaleShape all
/// ones (per tensor) or [..., M, 1] (per row); its scales are the f32 scales.
/// Non-finite values in x (or a non-finite scale) are an error.
Expected<Tensor> dynamicQuantize(const Tensor &x, const DynamicQuant &dq);

/// qlow.fake_quant: Float -> Float, dequantize(quantize(x, params)).
Expected<Tensor> fakeQuant(const Tensor &x, const QuantParams &params);

/// Running range of calibration data: min/max over every non-NaN value seen
/// (infinities included) and how many values that was. min and max are
/// meaningful once count > 0.
struct RangeStats {
  float min = 0.0f;
  float max = 0.0f;
  int64_t count = 0;

  /// Folds in a tensor's values: Float as is, Quant dequantized, Int converted
  /// to float. NaN values are skipped.
  Status update(const Tensor &tensor);
  /// Folds in raw values (NaN skipped).
  void update(const std::vector<float> &values);
};

/// qlow.observe: the identity (returns a copy of x, any kind). When `stats` is
/// given, x is folded into it first.
Expected<Tensor> observe(const Tensor &x, RangeStats *stats = nullptr);

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

/// qlow.matmul. lhs [..., M, K]; rhs [K, N] (shared by every batch) or
/// [..., K, N] with the same batch dims as lhs; bias [N] or null; result
/// [..., M, N].
///
/// Integer path (lhs and rhs Quant). lhs parameters must be constant along K
/// (per-tensor, per-row on M, or varying over batch dims); rhs parameters may
/// vary along N and batch dims, and along K in blocks (sub-channel).
/// acc = sum_k (qa - za) * (qw - zw) is exact; any partial sum (k order) or
/// acc + bias outside int32 is an error ("i32 accumulator overflow").
/// Bias: Int i32 or Quant with i32 storage and zero point 0, whose raw values
/// are in units of sa * sw[n] and added to acc (its scale is not checked);
/// with a Float result a Float bias is also accepted and added after scaling.
/// Results (sa, za at the row; sw, zw at the column; so, zo at the result):
///   Int i32: acc + bias;
///   Float:   (float)(acc + bias) * (float)(sa * sw)   [Int/Quant bias]
///            (float)acc * (float)(sa * sw) + bias      [Float bias];
///   Quant:   M = sa * sw / so (double); with MBQM and QM as in Arithmetic.h
///            FixedPoint: saturate(zo + MBQM(acc + bias, QM(M)));
///            Float: saturate(roundHalfEven((float)(acc + bias) * (float)M)
///                            + zo).
/// Sub-channel rhs (blocked along K into groups): the result must be Float:
///   out = sum over groups g, in order, in f32, of
///         (float)(sa * sw[g, n]) * (float)(int32 group sum) [+ bias],
/// where a Float bias is added as is and a Quant bias is dequantized.
///
/// Dynamic path (`dynamic` given; lhs Float, rhs Quant, result Float, bias
/// Float or null): lhs is quantized with dynamicQuantize, then the integer
/// path runs with the combined scale computed in f32 as
/// (float)sa * (float)sw instead of (float)(sa * sw):
///   out = (float)acc * ((float)sa * (float)sw) [+ bias], or, for sub-channel
///   rhs, sum over groups in order of ((float)sa * (float)sw[g, n]) *
///   (float)(group sum) [+ bias].
///
/// Float path (lhs Float, no `dynamic`; rhs Float, or Quant which is
/// dequantized first = weight-only quantization; bias Float): f32 result,
/// accumulated in f32 in k order starting from 0, then + bias. Quant lhs with
/// Float rhs is an error.
Expected<Tensor> matmul(const Tensor &lhs, const Tensor &rhs,
                        const Tensor *bias, const TensorType &resultType,
                        Rounding rounding,
                        const DynamicQuant *dynamic = nullptr);

//===----------------------------------------------------------------------===//
// Elementwise binary ops
//===----------------------------------------------------------------------===//

/// The fixed-point constants of a quantized add or mul with rounding =
/// fixedpoint (per-tensor parameters), as add and mul compute them: the
/// headroom shift of add, and the multipliers of a, b (add only) and of the
/// result. Compiled code derives its constants from these.
struct QuantizedBinaryPlan {
  int leftShift = 0;
  FixedPointMultiplier a, b, out;
};
Expected<QuantizedBinaryPlan> planQuantizedAdd(const QuantParams &a,
                                               const QuantParams &b,
                                               const QuantParams &out);
Expected<QuantizedBinaryPlan> planQuantizedMul(const QuantParams &a,
                                               const QuantParams &b,
                                               const QuantParams &out);

/// qlow.add with numpy broadcasting; all three of a, b and the result must be
/// Float, all Int, or all Quant.
///  Float: f32 a + b.
///  Int:   exact; a result outside the result type's range is an error.
///  Quant (per-tensor operands and result only):
///   FixedPoint (TFLite quantized Add): leftShift = 20 when every storage type
///     has <= 8 bits, 15 when <= 16 bits (wider is an error);
///     twiceMax = 2 * max(sa, sb); ma = QM(sa / twiceMax), mb = QM(sb /
///     twiceMax), mo = QM(twiceMax / (2^leftShift * so)) (QM =
///     quantizeMultiplier, ratios in double); per element
///     x_a = MBQM((qa - za) * 2^leftShift, ma), x_b likewise,
///     out = saturate(zo + MBQM(x_a + x_b, mo)).
///   Float: saturate(roundHalfEven(((float)sa * (float)(qa - za) +
///          (float)sb * (float)(qb - zb)) / (float)so) + zo).
Expected<Tensor> add(const Tensor &a, const Tensor &b,
                     const TensorType &resultType, Rounding rounding);

/// qlow.mul with numpy broadcasting; kinds as for add.
///  Float: f32 a * b.  Int: exact, out-of-range result is an error.
///  Quant (per-tensor): p = (qa - za) * (qb - zb), M = sa * sb / so (double);
///   FixedPoint: saturate(zo + MBQM(p, quantizeMultiplier(M))) (p must fit
///   int32); Float: saturate(roundHalfEven((float)p * (float)M) + zo).
Expected<Tensor> mul(const Tensor &a, const Tensor &b,
                     const TensorType &resultType, Rounding rounding);

//===----------------------------------------------------------------------===//
// Float ops (see the file comment for Quant operands and results)
//===----------------------------------------------------------------------===//

/// qlow.softmax along `axis` (negative counts from the end): exp(x - max) /
/// sum exp(x - max). NaN and infinities propagate as IEEE arithmetic does.
Expected<Tensor> softmax(const Tensor &x, int64_t axis,
                         const TensorType &resultType);

/// qlow.layer_norm over the last dimension D: mean and population variance of
/// the row, (x - mean) / sqrt(var + epsilon) * gamma + beta. gamma and beta
/// are [D]; beta may be null (0). epsilon must be finite and >= 0.
Expected<Tensor> layerNorm(const Tensor &x, const Tensor &gamma,
                           const Tensor *beta, float epsilon,
                           const TensorType &resultType);

/// qlow.rms_norm over the last dimension D: x / sqrt(mean(x^2) + epsilon) *
/// gamma, gamma [D].
Expected<Tensor> rmsNorm(const Tensor &x, const Tensor &gamma, float epsilon,
                         const TensorType &resultType);

/// qlow.gelu, exact (erf) or tanh approximation.
Expected<Tensor> gelu(const Tensor &x, GeluApproximation approximation,
                      const TensorType &resultType);

/// qlow.silu: x * sigmoid(x) = x / (1 + exp(-x)).
Expected<Tensor> silu(const Tensor &x, const TensorType &resultType);

/// qlow.attention. q [B, H, S, D], k [B, Hkv, T, D], v [B, Hkv, T, Dv] ->
/// [B, H, S, Dv]. H must be a multiple of Hkv (grouped-query attention: query
/// head h reads kv head h / (H / Hkv)).
///   score[i, j] = scale * dot(q[i], k[j])  (the caller passes the scale,
///                 usually 1/sqrt(D));
///   mask (optional, numpy-broadcastable to [B, H, S, T]): Float is added to
///                 the score; Int i1 keeps keys where true and masks them
///                 where false;
///   causal:       masks j > i + (T - S) (decode with S = 1 sees every key);
///   softmax over the keys not masked and whose score is not -inf; a row in
///   which every key is masked yields zeros; out = P v.
Expected<Tensor> attention(const Tensor &q, const Tensor &k, const Tensor &v,
                           const Tensor *mask, bool causal, float scale,
                           const TensorType &resultType);

/// qlow.attention with `int8` (see its description in QlowOps.td for the
/// exact semantics): q, k, v quantized per tensor with 8-bit storage; integer
/// Q K^T, f32 online softmax over blocks of `keyBlock` keys with P quantized
/// to u8 in units of 1/255, integer P V, f32 rescale per key block.
Expected<Tensor> attentionInt8(const Tensor &q, const Tensor &k,
                               const Tensor &v, const Tensor *mask, bool causal,
                               float scale, int64_t keyBlock,
                               const TensorType &resultType);

/// The exponential of int8 attention's softmax (exact f32 operations: clamp
/// to -87, n = roundeven(t * log2(e)), Cody-Waite reduction with fma, degree-6
/// polynomial in fma, times 2^n). For t <= 0.
float attentionExp(float t);

/// qlow.embedding: table [V, D], indices Int [...] -> [..., D], row gather.
/// An index outside [0, V) is an error naming the index and its position.
///  Float table: Float result copies rows; Quant result quantizes them.
///  Quant table: a Quant result must carry the same parameters as a
///  per-tensor table (storage copied); a Float result dequantizes the rows
///  with the table's parameters (per-tensor, per-row or any other layout).
Expected<Tensor> embedding(const Tensor &table, const Tensor &indices,
                           const TensorType &resultType);

/// qlow.rope: x [..., S, D] (D even), cos and sin [S, D/2].
///  half form (GPT-NeoX, rotate_half): x1 = x[..., :D/2], x2 = x[..., D/2:],
///    out1 = x1 cos - x2 sin, out2 = x2 cos + x1 sin;
///  interleaved (GPT-J): pairs (2i, 2i+1) rotated the same way with
///    cos[:, i], sin[:, i].
Expected<Tensor> rope(const Tensor &x, const Tensor &cos, const Tensor &sin,
                      bool interleaved, const TensorType &resultType);

} // namespace qlow::ref

#endif // QLOW_REFERENCE_OPS_H
