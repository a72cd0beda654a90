//===- QlowOps.td - qlow operations ------------------------*- tablegen -*-===//
//
// Operations of the qlow dialect. Each description gives the exact semantics
// that lib/Reference implements and every code generator must reproduce.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOWOPS_TD
#define QLOW_DIALECT_QLOWOPS_TD

include "dialects/Qlow/IR/QlowBase.td"
include "dialects/Qlow/IR/QlowAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"

// Element-type checks are in the C++ verifiers, whose messages say what is
// wrong and what would be right; ODS only requires ranked tensors.
defvar Qlow_Tensor = AnyRankedTensor;

//===----------------------------------------------------------------------===//
// Quantization ops
//===----------------------------------------------------------------------===//

def Qlow_QuantizeOp : Qlow_Op<"quantize", [Pure]> {
  let summary = "Quantizes an f32 tensor to a quantized type";
  let description = [{
    Converts each real value `x` to its quantized storage value with the scale
    `s` and zero point `z` that apply to its position (per tensor, per axis or
    per block):

    ```
    q = saturate(round_half_to_even(x / s) + z)
    ```

    The division is done in f32 (as ONNX QuantizeLinear does), NaN maps to `z`,
    and `saturate` clamps to the storage range of the result type.

    Example:

    ```mlir
    %q = qlow.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.05:128>>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qlow_DequantizeOp : Qlow_Op<"dequantize", [Pure]> {
  let summary = "Converts a quantized tensor to f32";
  let description = [{
    Computes `x = f32(q - z) * f32(s)` per element, with the scale and zero
    point that apply to the element's position. Exact: the product of two f32
    values rounded once.

    `dequantize(quantize(x))` canonicalizes to `fake_quant(x)`.

    Example:

    ```mlir
    %x = qlow.dequantize %q : tensor<16x!quant.uniform<i8:f32, 0.1>> -> tensor<16xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Qlow_RequantizeOp : Qlow_Op<"requantize", [Pure]> {
  let summary = "Changes the quantization parameters of a quantized tensor";
  let description = [{
    Maps each stored value `q` (input scale `si`, zero point `zi`) to the output
    parameters (`so`, `zo`) with the real multiplier `M = si / so` (computed in
    double):

    * `fixedpoint`: `saturate(zo + MultiplyByQuantizedMultiplier(q - zi, M))`,
      with M as an int32 multiplier and shift (gemmlowp/TFLite);
    * `float`: `saturate(round_half_to_even(f32(q - zi) * f32(M)) + zo)`.

    Requantizing to identical parameters folds to the input.

    Example:

    ```mlir
    %r = qlow.requantize %q {rounding = #qlow.rounding<float>}
        : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<u8:f32, 0.2:128>>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input,
      DefaultValuedAttr<Qlow_RoundingModeAttr,
                        "::mlir::qlow::RoundingMode::FixedPoint">:$rounding);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qlow_FakeQuantOp : Qlow_Op<"fake_quant", [Pure, SameOperandsAndResultType]> {
  let summary = "Quantizes and dequantizes an f32 tensor (QAT)";
  let description = [{
    `fake_quant(x) = dequantize(quantize(x))` with the parameters of
    `quant_type`, all in f32: it rounds the values to the grid the quantized
    type can represent, as quantization-aware training graphs do. The result
    has the input's type. Two consecutive fake_quant ops with the same
    parameters fold to one.

    Example:

    ```mlir
    %y = qlow.fake_quant %x as !quant.uniform<i8:f32, 0.1> : tensor<4xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input, TypeAttr:$quant_type);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat =
      "$input `as` $quant_type attr-dict `:` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qlow_ObserveOp : Qlow_Op<"observe", [SameOperandsAndResultType]> {
  let summary = "Calibration probe: records the range of an f32 tensor";
  let description = [{
    Returns its input unchanged. When a graph is evaluated for calibration,
    each probe records the minimum, maximum and (for histogram methods) the
    distribution of the values that flow through it, under its `name`; probes
    that share a name record into one range. The op has a side effect (the recording), so
    it is never removed as dead code.

    Example:

    ```mlir
    %y = qlow.observe %x {name = "block0.attn.in"} : tensor<8x32xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input, StrAttr:$name);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Matmul and elementwise arithmetic
//===----------------------------------------------------------------------===//

def Qlow_MatmulOp : Qlow_Op<"matmul", [Pure]> {
  let summary = "Batched matrix multiplication with an optional bias";
  let description = [{
    `lhs` is `[..., M, K]`; `rhs` is `[K, N]` (shared by every batch) or
    `[..., K, N]` with the same batch dimensions; the optional `bias` is `[N]`;
    the result is `[..., M, N]`.

    **Integer path** (quantized `lhs` and `rhs`): `lhs` is quantized per tensor
    or per row (axis M, for dynamic per-row quantization); `rhs` per tensor, per
    output channel (axis N) or in blocks along K (sub-channel). With
    `a = q_lhs - z_lhs` and `w = q_rhs - z_rhs`, the accumulator is

    ```
    acc[m, n] = sum_k a[m, k] * w[k, n]    (exact in i32; a sum that could
                                            leave the i32 range is an error)
    ```

    The bias is i32 (plain `i32` or `!quant.uniform<i32:f32, s>` with zero point
    0) in units of `s_lhs * s_rhs[n]`, and is added to `acc`. The result type
    chooses the epilogue:

    * `i32`: `acc + bias`;
    * `f32`: `f32(acc + bias) * f32(s_lhs * s_rhs[n])`;
    * quantized (scale `so`, zero point `zo`, per tensor or per axis N): with
      `M = s_lhs * s_rhs[n] / so`, `rounding = fixedpoint` gives
      `saturate(zo + MultiplyByQuantizedMultiplier(acc + bias, M))` and
      `rounding = float` gives `saturate(round_half_to_even(f32(acc + bias) * f32(M)) + zo)`.

    With `rhs` in blocks along K (grouped int4 weights) the result is f32:
    `sum_g f32(s_lhs * s_rhs[g, n]) * f32(sum_{k in g} a[m, k] * w[k, n])`.

    **Dynamic path** (`lhs` f32 with a `dynamic` attribute, `rhs` quantized):
    `lhs` is quantized at run time as the `#qlow.dynamic` attribute describes,
    giving `q_lhs` with a scale `s_lhs` (f32) and zero point `z_lhs` per tensor
    or per row; then the integer path above runs with these, and the result is
    f32, computed in f32 as `f32(acc) * (s_lhs * f32(s_rhs[n]))` plus the
    optional f32 bias, or with `rhs` in blocks along K as
    `sum_g (s_lhs * f32(s_rhs[g, n])) * f32(sum_{k in g} a[m, k] * w[k, n])`
    summed over g in order from 0, then plus the bias. This is how int4
    weight-only matmuls run on integer dot products (f32 activations,
    `i4` weights with per-group scales), and how dynamic (online) activation
    quantization is expressed.

    **Float path** (`lhs` f32, no `dynamic`): `rhs` is f32, or quantized
    (weight-only: it is dequantized first); bias and result are f32; products
    are accumulated in f32. Compiled float paths are compared with a
    tolerance.

    Example:

    ```mlir
    %y = qlow.matmul %a, %w, %b {rounding = #qlow.rounding<fixedpoint>}
        : (tensor<16x64x!quant.uniform<u8:f32, 0.02:128>>,
           tensor<64x32x!quant.uniform<i8:f32:1, {0.01, ...}>>,
           tensor<32xi32>) -> tensor<16x32x!quant.uniform<i8:f32, 0.1:-3>>

    // int4 weights in groups of 32 along K, activations quantized per row.
    %z = qlow.matmul %x, %w4 {dynamic = #qlow.dynamic<per_row, i8, symmetric>}
        : (tensor<1x64xf32>,
           tensor<64x32x!quant.uniform<i4:f32:{0:32, 1:1}, {{...}, {...}}>>)
          -> tensor<1x32xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$lhs, Qlow_Tensor:$rhs,
      Optional<Qlow_Tensor>:$bias,
      DefaultValuedAttr<Qlow_RoundingModeAttr,
                        "::mlir::qlow::RoundingMode::FixedPoint">:$rounding,
      OptionalAttr<Qlow_DynamicQuantAttr>:$dynamic);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

class Qlow_BinaryElementwiseOp<string mnemonic, string operation, string intFormula,
                               string floatFormula>
    : Qlow_Op<mnemonic, [Pure]> {
  let arguments = (ins Qlow_Tensor:$lhs, Qlow_Tensor:$rhs,
      DefaultValuedAttr<Qlow_RoundingModeAttr,
                        "::mlir::qlow::RoundingMode::FixedPoint">:$rounding);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let summary = "Elementwise " # operation # " with numpy broadcasting";
  let description = [{
    Operands broadcast as in numpy; the result has the broadcast shape. All
    operands and the result are f32, all are the same signless integer type
    (exact; overflow is an error), or all are quantized per tensor with the same
    expressed type. On quantized operands, with `a = qa - za` and `b = qb - zb`:
  }] # intFormula # [{

    With `rounding = float` the op computes
  }] # floatFormula # [{

    and rounds half to even. Both roundings add the output zero point and
    saturate to the storage range.
  }];
}

def Qlow_AddOp : Qlow_BinaryElementwiseOp<"add", "addition", [{

    `rounding = fixedpoint` is TFLite's quantized Add: with `L = 20` (8-bit
    storage) or `15` (16-bit), `t = 2 * max(sa, sb)`, the multipliers `sa / t`,
    `sb / t` and `t / (2^L * so)` as int32 fixed point,
    `out = zo + MBQM(MBQM(a * 2^L, sa/t) + MBQM(b * 2^L, sb/t), t/(2^L so))`.

    ```mlir
    %y = qlow.add %a, %b : (tensor<8x!quant.uniform<i8:f32, 0.1>>,
                            tensor<8x!quant.uniform<i8:f32, 0.2>>)
                           -> tensor<8x!quant.uniform<i8:f32, 0.3>>
    ```
  }], [{ `(f32(sa) * a + f32(sb) * b) / f32(so)` in f32 }]>;

def Qlow_MulOp : Qlow_BinaryElementwiseOp<"mul", "multiplication", [{

    `rounding = fixedpoint`: `out = zo + MBQM(a * b, sa * sb / so)`.

    ```mlir
    %y = qlow.mul %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
    ```
  }], [{ `f32(a * b) * f32(sa * sb / so)` in f32 }]>;

//===----------------------------------------------------------------------===//
// Float-semantics ops (normalization, activations, attention)
//===----------------------------------------------------------------------===//

defvar Qlow_FloatOpNote = [{

    The input and the result are f32 or quantized. A quantized input is
    dequantized; the reference computes the op in double precision from the f32
    inputs and rounds the result once to f32; a quantized result is then
    quantized as `qlow.quantize` does. Integer-only forms are produced by the quantization passes as
    separate ops. Compiled code is compared with the reference with a
    tolerance.
}];

def Qlow_SoftmaxOp : Qlow_Op<"softmax", [Pure]> {
  let summary = "Softmax along one axis";
  let description = [{
    `y_i = exp(x_i - max_j x_j) / sum_j exp(x_j - max_j x_j)` along `axis`
    (negative values count from the last dimension; default -1).
  }] # Qlow_FloatOpNote # [{

    ```mlir
    %p = qlow.softmax %s {axis = -1 : i64} : tensor<2x8x8xf32> -> tensor<2x8x8xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input,
      DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Qlow_LayerNormOp : Qlow_Op<"layer_norm", [Pure]> {
  let summary = "Layer normalization over the last dimension";
  let description = [{
    `y = (x - mean(x)) / sqrt(var(x) + epsilon) * gamma + beta` over the last
    dimension `D` (population variance); `gamma` and the optional `beta` are
    f32 tensors of shape `[D]`.
  }] # Qlow_FloatOpNote # [{

    ```mlir
    %y = qlow.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32}
        : (tensor<8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input, Qlow_Tensor:$gamma,
      Optional<Qlow_Tensor>:$beta,
      DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $gamma (`,` $beta^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Qlow_RmsNormOp : Qlow_Op<"rms_norm", [Pure]> {
  let summary = "RMS normalization over the last dimension";
  let description = [{
    `y = x / sqrt(mean(x^2) + epsilon) * gamma` over the last dimension `D`;
    `gamma` is an f32 tensor of shape `[D]`.
  }] # Qlow_FloatOpNote # [{

    ```mlir
    %y = qlow.rms_norm %x, %g {epsilon = 1.0e-06 : f32}
        : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input, Qlow_Tensor:$gamma,
      DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $gamma attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Qlow_GeluOp : Qlow_Op<"gelu", [Pure]> {
  let summary = "Gaussian error linear unit, erf or tanh form";
  let description = [{
    `approximate = none`: `y = 0.5 x (1 + erf(x / sqrt(2)))`;
    `approximate = tanh`: `y = 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`.
  }] # Qlow_FloatOpNote # [{

    ```mlir
    %y = qlow.gelu %x {approximate = #qlow.gelu_approximation<tanh>}
        : tensor<8x64xf32> -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input,
      DefaultValuedAttr<Qlow_GeluApproximationAttr,
                        "::mlir::qlow::GeluApproximation::None">:$approximate);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Qlow_SiluOp : Qlow_Op<"silu", [Pure]> {
  let summary = "Sigmoid linear unit";
  let description = [{
    `y = x * sigmoid(x) = x / (1 + exp(-x))`.
  }] # Qlow_FloatOpNote # [{

    ```mlir
    %y = qlow.silu %x : tensor<8x64xf32> -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Qlow_AttentionOp : Qlow_Op<"attention", [Pure]> {
  let summary = "Scaled dot-product attention with grouped-query heads";
  let description = [{
    `q` is `[B, H, S, D]`, `k` is `[B, Hkv, T, D]`, `v` is `[B, Hkv, T, Dv]`;
    the result is `[B, H, S, Dv]`. `H` must be a multiple of `Hkv`: query head
    `h` uses key/value head `h / (H / Hkv)` (grouped-query attention; `Hkv = H`
    is multi-head attention).

    ```
    scores[b,h,i,j] = scale * sum_d q[b,h,i,d] * k[b,h',j,d]   (+ mask[b,h,i,j])
    out = softmax_j(scores) . v
    ```

    `scale` defaults to `1 / sqrt(D)`. The optional `mask` broadcasts (numpy
    rules) to `[B, H, S, T]`; an f32 mask is added to the scores, an i1 mask
    keeps the positions where it is true. `causal` masks key `j > i + (T - S)`,
    so a decode step (S = 1) against a KV cache of T keys sees all of them. A
    row whose keys are all masked yields zeros.

    **int8 attention** (`int8`, with `key_block = Bk`): integer Q K^T and
    P V around an f32 online softmax whose probabilities are quantized to u8.
    q, k and v must be quantized per tensor with 8-bit storage (i8 or u8):
    `(s_q, z_q)`, `(s_k, z_k)`, `(s_v, z_v)` from their types. Bk is part of
    the meaning (the softmax is rescaled per block of Bk keys, so the result
    depends on it); 1 <= Bk <= 4096. With `c = f32(scale * s_q * s_k)`
    (computed in double, rounded once) and every f32 operation below a
    single IEEE operation in the order written (`fma` fused, nothing else):

    ```
    a[i,j] = sum_d (q[i,d] - z_q) * (k[j,d] - z_k)        exact, in i32
    s[i,j] = f32(a[i,j]) * c  (+ mask[i,j] for an f32 mask)
    kept[i,j] = not causally hidden, i1 mask true, s[i,j] != -inf
    m = -inf; l = 0; acc[e] = 0                            (f32, per row i)
    for each block J = [t*Bk, min(T, (t+1)*Bk)), in order, that has a kept key:
      m' = max(m, max_{j in J, kept} s[i,j])
      u[j] = kept ? roundeven(E(s[i,j] - m') * 255) : 0    u8, P in 1/255ths
      alpha = (m == -inf) ? 0 : E(m - m')
      acc[e] = acc[e] * alpha + f32(sum_{j in J} u[j] * (v[j,e] - z_v))  (i32 sum)
      l = l * alpha + f32(sum_{j in J} u[j])                             (i32 sum)
      m = m'
    out[i,e] = (l == 0) ? 0 : acc[e] / l * f32(s_v)
    ```

    `E(t)` is this f32 exponential (for `t <= 0`): `t = max(t, -87)`;
    `n = roundeven(t * 1.44269504)`; `r = fma(n, -0.693359375, t)`;
    `r = fma(n, 2.12194440e-4, r)`; `p = 1.98756915e-4`, then
    `p = fma(p, r, c)` for `c` = 1.39819995e-3, 8.33345191e-3,
    4.16657959e-2, 1.66666655e-1, 5.00000012e-1; `p = fma(p, r * r, r)`;
    `p = p + 1`; `E = p * 2^n` (Cephes' expf coefficients). The largest key of
    a block that raises the maximum has `u = 255`, so `l > 0` once a key is
    kept. A quantized result is quantized from `out` as `qlow.quantize` does.
    `D * 255 * 255` must fit in i32 (D <= 33025). Compiled kernels are bit
    for bit equal to this (lib/Reference `attentionInt8`).
  }] # Qlow_FloatOpNote # [{

    ```mlir
    %o = qlow.attention %q, %k, %v {causal}
        : (tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>)
          -> tensor<1x8x16x64xf32>
    %o8 = qlow.attention %q8, %k8, %v8 {causal, int8, key_block = 32 : i64}
        : (tensor<1x8x16x64x!quant.uniform<i8:f32, 0.05>>,
           tensor<1x2x16x64x!quant.uniform<i8:f32, 0.04:3>>,
           tensor<1x2x16x64x!quant.uniform<u8:f32, 0.02:128>>)
          -> tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$q, Qlow_Tensor:$k, Qlow_Tensor:$v,
      Optional<Qlow_Tensor>:$mask, UnitAttr:$causal,
      OptionalAttr<F32Attr>:$scale, UnitAttr:$int8,
      OptionalAttr<I64Attr>:$key_block);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`,` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Qlow_EmbeddingOp : Qlow_Op<"embedding", [Pure]> {
  let summary = "Gathers rows of an embedding table";
  let description = [{
    `table` is `[V, D]`: f32, or quantized per tensor, per row (axis 0), per
    column (axis 1) or in blocks (a sub-channel type, such as the 4-bit
    tables of ONNX Runtime's GatherBlockQuantized: blocks of `B` along `D`);
    `indices` is a tensor of i32 or i64 of any shape; the result is
    `indices.shape + [D]`: `out[..., d] = table[indices[...], d]`. An index
    outside `[0, V)` is an error at run time. The result element type is the
    table's (the stored values are copied; a quantized table must then be per
    tensor), or f32 for a quantized table: each gathered element is
    dequantized with the scale and zero point of its own row, column or
    block, so only the rows used are read and the table stays quantized in
    memory.

    ```mlir
    %e = qlow.embedding %table, %ids
        : (tensor<1000x64x!quant.uniform<i8:f32:0, {...}>>, tensor<1x16xi64>)
          -> tensor<1x16x64xf32>
    %b = qlow.embedding %blocked, %ids
        : (tensor<1000x64x!quant.uniform<i4:f32:{0:1, 1:32}, {...}>>,
           tensor<1x16xi64>) -> tensor<1x16x64xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$table, Qlow_Tensor:$indices);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = [{
    $table `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Qlow_RopeOp : Qlow_Op<"rope", [Pure]> {
  let summary = "Rotary position embedding";
  let description = [{
    `input` is `[..., S, D]` with `D` even; `cos` and `sin` are f32 `[S, D/2]`.
    Each pair `(x1, x2)` of position `s` and frequency `i` becomes
    `(x1 cos[s,i] - x2 sin[s,i], x2 cos[s,i] + x1 sin[s,i])`. The pairs are
    `(i, i + D/2)` (rotate-half form, GPT-NeoX and Llama in Hugging Face), or
    `(2i, 2i + 1)` when `interleaved` is set (GPT-J form).
  }] # Qlow_FloatOpNote # [{

    ```mlir
    %y = qlow.rope %x, %cos, %sin
        : (tensor<1x8x16x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<1x8x16x64xf32>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input, Qlow_Tensor:$cos, Qlow_Tensor:$sin,
      UnitAttr:$interleaved);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $cos `,` $sin attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Integer-only ops (I-BERT: i-exp, i-sqrt, polynomial GELU)
//===----------------------------------------------------------------------===//

defvar Qlow_IntegerOnlyNote = [{

    Integer-only form (Kim et al., I-BERT, 2021): every step below is exact
    integer arithmetic on the stored values; compiled code is bit-exact with
    lib/Reference. The input and the result are quantized per tensor (scale
    `si`, zero point `zi`; `so`, `zo`). `QM(M)` is TFLite's QuantizeMultiplier
    of a real multiplier computed in double, `MBQM` TFLite's
    MultiplyByQuantizedMultiplier (see `qlow.requantize`); `>>` is an
    arithmetic shift (floor), `floordiv` rounds toward -infinity, and
    `saturate` clamps to the result's storage range (narrowed range included).
    `ref::plan...` in lib/Reference computes every constant once for the
    reference and the lowering.
}];

def Qlow_IntSoftmaxOp : Qlow_Op<"int_softmax", [Pure]> {
  let summary = "Integer-only softmax along one axis (I-BERT i-exp)";
  let description = [{
    Softmax along `axis` (negative values count from the last dimension;
    default -1) computed with integers only. The input is quantized per tensor
    with 8-, 16- or 32-bit storage (a 32-bit input is the i32 result of a
    matmul given a per-tensor scale); the result per tensor with 8- or 16-bit
    storage (u8 with scale 1/256 or 1/255 is the usual choice). The reduced
    dimension may have at most 32768 elements. For each slice `q_j` along
    `axis` (the zero point cancels):

    ```
    m   = max_j q_j
    d_j = max(q_j - m, -2^31)                     (exact, <= 0)
    x_j = max(MBQM(d_j, QM(si * 2^14)), -352066)  (x in units of 2^-14;
                                                   -352066 = 1 - 31 * 11357)
    i-exp, exp(x) = 2^-z exp(p) with p in (-ln 2, 0]:
      z_j = floordiv(-x_j, 11357)                 (11357 = round(ln 2 * 2^14); z in [0, 30])
      p_j = x_j + 11357 * z_j
      e_j = ((p_j + 22168)^2 + 257578234) >> min(z_j + 14, 31)
            (exp(p) ~ 0.3585 (p + 1.353)^2 + 0.344: 22168 = round(1.353 * 2^14),
             257578234 = round(0.344 / 0.3585 * 2^28); e_j < 45716)
    S   = sum_j e_j                               (i32; S >= 45715)
    R   = floordiv(2^61, S)                       (i64, once per slice)
    P_j = (e_j * R + 2^30) >> 31                  (i64; P_j = y_j * 2^30 <= 2^30)
    out_j = saturate(zo + MBQM(P_j, QM(1 / (so * 2^30))))
    ```
  }] # Qlow_IntegerOnlyNote # [{

    ```mlir
    %p = qlow.int_softmax %s {axis = -1 : i64}
        : tensor<2x8x8x!quant.uniform<i8:f32, 0.0625>>
          -> tensor<2x8x8x!quant.uniform<u8:f32, 0.00390625>>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input,
      DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Qlow_IntLayerNormOp : Qlow_Op<"int_layer_norm", [Pure]> {
  let summary = "Integer-only layer normalization (I-BERT i-sqrt)";
  let description = [{
    Layer normalization over the last dimension `D` (at most 65536) with
    integers only. The input is quantized per tensor with 8- or 16-bit
    storage, the result likewise. `gamma` and the optional `beta` are f32
    tensors of shape `[D]`, as for `qlow.layer_norm`; they are folded into
    fixed-point constants (so the lowering requires them to be constants, and
    the quantization passes can emit this op in place of `qlow.layer_norm`
    without touching them):

    ```
    G_i = roundHalfEven(gamma_i * 2^16 / so)      (double; |G_i| < 2^31)
    B_i = roundHalfEven(beta_i * 2^32 / so)       (double; |B_i| < 2^61; 0 without beta)
    E   = roundHalfEven(min(epsilon * 2^8 / si^2, 2^62))   (double)
    ```

    For each row `q_i` (stored values; the zero point cancels), in i64:

    ```
    sum = sum_i q_i
    mu  = floordiv(32 * sum + D, 2 * D)           (16 * mean, rounded half up)
    c_i = 16 * q_i - mu                           (centred, units of si / 16)
    V   = sum_i c_i^2
    v   = floordiv(V, D) + E                      (variance + epsilon, units of si^2 / 256)
    sd  = max(isqrt(v), 1)                        (isqrt(v) = floor(sqrt(v)) by integer
                                                   Newton iteration from 2^ceil(bits(v) / 2))
    R   = floordiv(2^44, sd)
    n_i = (c_i * R + 2^27) >> 28                  ((x - mean) / sqrt(var + eps) * 2^16)
    out_i = saturate(zo + ((n_i * G_i + B_i + 2^31) >> 32))
    ```
  }] # Qlow_IntegerOnlyNote # [{

    ```mlir
    %y = qlow.int_layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32}
        : (tensor<8x32x!quant.uniform<i8:f32, 0.05>>, tensor<32xf32>, tensor<32xf32>)
          -> tensor<8x32x!quant.uniform<i8:f32, 0.03:-2>>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input, Qlow_Tensor:$gamma,
      Optional<Qlow_Tensor>:$beta,
      DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $gamma (`,` $beta^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Qlow_IntGeluOp : Qlow_Op<"int_gelu", [Pure]> {
  let summary = "Integer-only GELU (I-BERT polynomial i-erf)";
  let description = [{
    `gelu(x) = x / 2 (1 + erf(x / sqrt(2)))` with erf replaced by I-BERT's
    second-order polynomial `erf(u) ~ sgn(u) (1 - 0.2888 (min(|u|, 1.769) - 1.769)^2)`,
    with integers only. Input and result are quantized per tensor with 8- or
    16-bit storage. Per element, with `d = q - zi`:

    ```
    u   = clamp(MBQM(d, QM(si * 2^14 / sqrt(2))), -28983, 28983)
                                                  (x / sqrt(2) in units of 2^-14;
                                                   28983 = round(1.769 * 2^14))
    t   = |u| - 28983
    v   = 16384 - ((((t * t) >> 14) * 9463 + 16384) >> 15)
                                                  (9463 = round(0.2888 * 2^15))
    erf = u > 0 ? v : (u < 0 ? -v : 0)            (erf(x / sqrt(2)) * 2^14)
    w   = 16384 + erf                             ((1 + erf) * 2^14, in [0, 32768])
    out = saturate(zo + MBQM(d * w, QM(si / (so * 2^15))))
    ```
  }] # Qlow_IntegerOnlyNote # [{

    ```mlir
    %y = qlow.int_gelu %x
        : tensor<8x64x!quant.uniform<i8:f32, 0.04>>
          -> tensor<8x64x!quant.uniform<i8:f32, 0.03:-40>>
    ```
  }];
  let arguments = (ins Qlow_Tensor:$input);
  let results = (outs Qlow_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

#endif // QLOW_DIALECT_QLOWOPS_TD
