//===- Passes.td - graph-level passes of the qlow dialect --*- tablegen -*-===//
//
// Passes that rewrite qlow graphs before lowering: folding of imported
// quantize/dequantize pairs and fake-quant (QAT) markers into quantized ops.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOW_TRANSFORMS_PASSES_TD
#define QLOW_DIALECT_QLOW_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QlowFoldQdqPass : Pass<"qlow-fold-qdq", "::mlir::func::FuncOp"> {
  let summary = "Folds quantize/dequantize pairs and fake_quant ops into "
                "quantized qlow ops";
  let description = [{
    ONNX QDQ models and quantization-aware-training (QAT) graphs arrive as
    float ops whose inputs come from `qlow.dequantize` of quantized values and
    whose results go into `qlow.quantize` (QDQ), or with `qlow.fake_quant`
    (quantize and dequantize in one) around the float ops (QAT). The numbers
    those graphs compute are already the numbers of a quantized model; this
    pass makes the quantization explicit, so that later passes see integer
    matmuls with quantized operands, quantized adds and multiplies, and the
    quantized forms of the float-semantics ops, instead of float ops between
    conversions. What does not match stays float with its explicit
    quantize/dequantize boundary, and each op left in float is reported.

    ```mlir
    // Before (QDQ form)
    %a = qlow.dequantize %xq : tensor<4x8x!qa> -> tensor<4x8xf32>
    %w = qlow.dequantize %wq : tensor<8x2x!qw> -> tensor<8x2xf32>
    %y = qlow.matmul %a, %w, %bias : (tensor<4x8xf32>, tensor<8x2xf32>,
                                      tensor<2xf32>) -> tensor<4x2xf32>
    %yq = qlow.quantize %y : tensor<4x2xf32> -> tensor<4x2x!qo>
    // After
    %b = arith.constant dense<[...]> : tensor<2xi32>   // bias / (s_a * s_w[n])
    %yq = qlow.matmul %xq, %wq, %b {rounding = #qlow.rounding<float>}
        : (tensor<4x8x!qa>, tensor<8x2x!qw>, tensor<2xi32>) -> tensor<4x2x!qo>
    ```

    ### Patterns

    A value "is dequantized" when it is the result of `qlow.dequantize %q`; its
    quantized source is `%q`. A float op "is quantized on its result" when
    every use of its result is a `qlow.quantize` to one and the same type (a
    result also used in f32 is never folded: those users would see other
    numbers).

    1. **fake_quant** `fake_quant %x as T` becomes
       `dequantize(quantize %x : T)`, exactly its definition, so that the QDQ
       patterns below apply to QAT graphs too.
    2. **Constant quantize** `quantize(arith.constant f32)` becomes
       `quant.scast(arith.constant <storage integers>)`, the integers computed
       by lib/Reference's `quantize` (the op's semantics): QAT weights become
       constant quantized weights that codegen can pack.
    3. **quantize(dequantize(q))**: to the type of `q` it is `q` (the
       `qlow.quantize` folder); to another type it becomes
       `qlow.requantize %q {rounding}`.
    4. **matmul** (float path) with dequantized `lhs` and `rhs` becomes the
       integer `qlow.matmul` on their quantized sources:
       * quantized on its result (per tensor or per output channel N): the
         integer matmul with that quantized result and `{rounding}`. A bias
         that is `dequantize` of an `i32` value with zero point 0 and scale
         `s_lhs * s_rhs[n]` is used as is; an f32 constant bias becomes an
         `i32` constant `round_half_even(b[n] / (s_lhs * s_rhs[n]))`
         (computed in double). That is exact when `b[n]` lies on the grid of
         `s_lhs * s_rhs[n]` (it does in ONNX QDQ models, whose bias is
         `DequantizeLinear(int32, s_a * s_w)`); otherwise the bias moves by
         at most half a unit of `s_lhs * s_rhs[n]`. A value outside the i32
         range, a per-row `lhs` (whose bias unit varies by row) or any other
         bias falls back to the next form.
       * otherwise the integer matmul with an f32 result (no `rounding`);
         a matching `i32` bias as above is kept as the matmul's bias, any
         other bias is added afterwards by an f32 `qlow.add` (the f32 result
         form of the reference adds an f32 bias the same way), and the
         `qlow.quantize` users, if any, stay.
       Preconditions (each failure leaves the matmul in float, with the
       reason): `lhs` quantized per tensor or per row (axis M, rank - 2);
       `rhs` per tensor, per output channel (axis N, rank - 1) or in blocks
       along K and N (then only the f32-result form); a static K with
       `K * max|q_lhs - z_lhs| * max|q_rhs - z_rhs|` within the i32 range (the
       precondition that convert-qlow-to-linalg checks); with `fixedpoint`
       every multiplier `s_lhs * s_rhs[n] / s_out` representable.
    5. **add, mul** whose operands are dequantized and whose result is
       quantized, all three per tensor, become the quantized `qlow.add` /
       `qlow.mul` with `{rounding}`. With `fixedpoint`, what lib/Reference's
       fixed-point forms accept: storage of at most 16 bits for add (TFLite's
       headroom of 2^20 or 2^15), a product of two stored values within
       int32 for mul (and `q - z` within int32 for the requantize of 3).
    6. **softmax, layer_norm, rms_norm, gelu, silu, rope, attention** whose
       data inputs (`input`; `q`, `k`, `v` for attention) are all dequantized
       and whose result is quantized take their quantized sources and the
       quantized result type. `gamma`, `beta`, `cos`, `sin` and the mask stay
       f32, and every attribute is kept.
    7. **embedding** of a dequantized per-tensor table becomes the
       `dequantize` of the embedding of the quantized table (a gather commutes
       with per-tensor dequantization); a following `quantize` then folds by
       pattern 3. A table quantized per row, per column or in blocks (ONNX's
       blocked DequantizeLinear of a 4-bit table) becomes the embedding of the
       quantized table into f32, which dequantizes only the gathered rows.
    8. **Reshapes and transposes** `quantize(ops(dequantize(q)))`, where
       `ops` is a chain of `linalg.transpose`, `tensor.expand_shape` and
       `tensor.collapse_shape` (ONNX QDQ graphs' split and merged attention
       heads: DequantizeLinear -> Reshape/Transpose -> QuantizeLinear),
       becomes the same chain on `q`, so that only stored bytes move. The
       quantize's type must be `q`'s after the chain: the same per-tensor
       type, or per axis the same scales and zero points on the axis where
       the chain moves the quantized dimension (a reshape may only add or
       remove unit dimensions beside it; a per-axis type whose axis moves
       is carried across the op by `quant.scast` to and from its storage).
       Another scale or zero point, a per-axis dimension that is split or
       merged, or a dynamic shape leaves the chain in float, with the
       reason. convert-qlow-to-linalg turns the chain into the same ops on
       storage integers.

    Every rewrite is built and verified on its own first; one whose verifier
    would fail is not made, and the verifier's message becomes the reason the
    op stays in float. The pass therefore always leaves a valid graph.

    ### Numerics

    The rewrites are compared with lib/Reference (`qlow-run --reference`):

    * exact by definition: patterns 1, 2, 6, 7, 8 and the identical-type case
      of 3 (the reference dequantizes a quantized input and quantizes a
      quantized result exactly as the removed ops did);
    * `add` with `rounding = float` is exact: it evaluates
      `(f32(sa) * f32(a) + f32(sb) * f32(b)) / f32(so)`, the same f32
      operations as dequantize, f32 add, quantize;
    * `requantize`, `mul` and `add` with `fixedpoint`: the pass compares the
      rewrite with the float graph on every stored value (every pair for
      add/mul), with lib/Reference, when that is at most 2^22 evaluations
      (per tensor 8-bit: always). A rewrite that is not bit-exact is still
      made (each difference is then at most one quantization step at a
      rounding tie; one that differs by more is never made) unless
      `exact-only` is set; with `exact-only` only rewrites proven exact are
      made. `requantize` with `float` rounding computes
      `f32(q - zi) * f32(si / so)` where the float graph computes
      `(f32(q - zi) * f32(si)) / f32(so)`, so the two can differ only where
      the value lands within an f32 rounding of a half-integer; `mul`
      computes `f32(a * b) * f32(sa * sb / so)` against
      `(f32(a) * f32(sa)) * (f32(b) * f32(sb)) / f32(so)`.
    * `matmul` is never bit-exact (it is never made with `exact-only`): the
      float matmul accumulates rounded f32 products in k order, the integer
      one sums exactly in i32 and rescales once. With a quantized result the
      difference is at most one quantization step of the result wherever the
      float accumulation error (at most `K * 2^-24 * sum_k |a_k w_k|`) plus
      the bias rounding (at most `s_lhs * s_rhs[n] / 2`) is below half a step
      and no value is at a rounding tie; with an f32 result it is that
      accumulation error plus one f32 rounding of the rescale.
      test/e2e/qlow-fold-qdq.test measures it on a synthetic MLP block in
      QDQ and QAT form: the quantized matmul outputs differ by at most one
      step (on up to 2.5% of their elements), ops downstream of them by at
      most two (gelu's slope and layer_norm's 1/std amplify a step of their
      input), an f32-result matmul by at most 3e-7 of its largest value.

    ### Fallback and report

    An op that does not match keeps its float form, its `qlow.dequantize`
    inputs and its `qlow.quantize` users, so the graph computes what it
    computed before. With `report` (the default) each op left in float gets a
    remark naming the reason, e.g.
    `left in float: qlow.softmax (no qlow.quantize on its result)`, as does a
    `quantize(dequantize)` pair of different types that was not turned into a
    requantize. Boundaries (a `quantize` of a function argument, a
    `dequantize` feeding `func.return`) are not reported; the f32 bias add
    that the f32-result form of a matmul leaves is (its lhs "is the f32
    result of an integer qlow.matmul"). Leftover
    `dequantize(quantize(x))` pairs from pattern 1 compute exactly what the
    fake_quant did; `canonicalize` turns them back into `qlow.fake_quant`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::quant::QuantDialect",
    "::mlir::qlow::QlowDialect",
  ];
  let options = [
    Option<"rounding", "rounding", "::mlir::qlow::RoundingMode",
           /*default=*/"::mlir::qlow::RoundingMode::Float",
           "Rounding of the requantization step of the quantized ops made: "
           "float (ONNX QuantizeLinear, which QDQ graphs compute) or "
           "fixedpoint (gemmlowp/TFLite)",
           [{::llvm::cl::values(
               clEnumValN(::mlir::qlow::RoundingMode::Float, "float",
                          "f32 multiply, round half to even"),
               clEnumValN(::mlir::qlow::RoundingMode::FixedPoint,
                          "fixedpoint", "int32 multiplier and shift"))}]>,
    Option<"exactOnly", "exact-only", "bool", /*default=*/"false",
           "Make only the rewrites that are bit-exact against the float "
           "graph (no integer matmul; requantize, mul and fixed-point add "
           "only where checked exhaustively)">,
    Option<"report", "report", "bool", /*default=*/"true",
           "Emit a remark for each op left in float, with the reason">,
  ];
}

def QlowFoldQuantizedActivationsPass
    : Pass<"qlow-fold-quantized-activations", "::mlir::func::FuncOp"> {
  let summary = "Folds dequantize -> f32 gelu/silu -> quantize into the "
                "quantized gelu/silu, proven exact on every stored value";
  let description = [{
    A transformer layer written with float activations between quantized
    matmuls (a BERT FFN: `matmul (-> u8); dequantize; gelu; quantize`)
    computes the activation on at most 256 distinct values: those of the
    8-bit input. The quantized `qlow.gelu`/`qlow.silu` on that input, whose
    semantics are the float chain's (dequantize, the op in double rounded
    once to f32, quantize), becomes a table of the reference's own values
    (convert-qlow-to-linalg), which the int8 matmul kernels apply to their
    accumulator registers as one gather instead of the f32 polynomial erfc or
    exp, and which is the reference, bit for bit, where the polynomial is
    within a tolerance of it.

    The chain is folded when the activation's input is `qlow.dequantize` of
    a per-tensor quantized value of at most 8 bits, its f32 result has no
    other use than one `qlow.quantize` to a per-tensor quantized type, and
    lib/Reference gives the same stored result for the chain and for the
    quantized op on every stored input value (checked here, 256 evaluations
    at most; a chain that differs anywhere stays float). The `dequantize`
    stays for its other users. qlow-cpu-pipeline runs this pass first.

    ```mlir
    // Before
    %f = qlow.dequantize %h : tensor<128x3072x!quant.uniform<u8:f32, 0.039:127>>
                              -> tensor<128x3072xf32>
    %g = qlow.gelu %f : tensor<128x3072xf32> -> tensor<128x3072xf32>
    %q = qlow.quantize %g : tensor<128x3072xf32>
                            -> tensor<128x3072x!quant.uniform<u8:f32, 0.02:10>>
    // After
    %q = qlow.gelu %h : tensor<128x3072x!quant.uniform<u8:f32, 0.039:127>>
                        -> tensor<128x3072x!quant.uniform<u8:f32, 0.02:10>>
    ```
  }];
  let dependentDialects = ["::mlir::qlow::QlowDialect"];
}

//===----------------------------------------------------------------------===//
// Calibration probes
//===----------------------------------------------------------------------===//

def QlowInsertObserversPass
    : Pass<"qlow-insert-observers", "::mlir::func::FuncOp"> {
  let summary = "Inserts named qlow.observe calibration probes on the f32 "
                "activations";
  let description = [{
    Static quantization needs a range for every activation it quantizes, and
    those ranges are measured by running the float graph on calibration
    inputs. This pass marks the values to measure: each gets one
    `qlow.observe` probe, placed right after the value is defined (at the
    top of the body for a function argument), and every other use of the
    value reads the probe's result. The probe is the identity, so the graph
    computes what it computed before; `qlow-run --reference --print-ranges`
    and `qlow-calibrate` (docs/Calibration.md) record what flows through it.

    ```mlir
    // Before
    func.func @mlp(%x: tensor<4x8xf32>) -> tensor<4x2xf32> {
      %w = arith.constant dense<...> : tensor<8x2xf32>
      %y = qlow.matmul %x, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
      %g = qlow.gelu %y : tensor<4x2xf32> -> tensor<4x2xf32>
      return %g : tensor<4x2xf32>
    }
    // After
    func.func @mlp(%x: tensor<4x8xf32>) -> tensor<4x2xf32> {
      %0 = qlow.observe %x {name = "mlp.arg0"} : tensor<4x8xf32>
      %w = arith.constant dense<...> : tensor<8x2xf32>
      %y = qlow.matmul %0, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
      %1 = qlow.observe %y {name = "mlp.matmul_0"} : tensor<4x2xf32>
      %g = qlow.gelu %1 : tensor<4x2xf32> -> tensor<4x2xf32>
      %2 = qlow.observe %g {name = "mlp.gelu_0"} : tensor<4x2xf32>
      return %2 : tensor<4x2xf32>
    }
    ```

    ### What is observed

    Only ranked f32 tensors that depend on a function argument, defined in
    the function body (not block arguments of nested regions). A value
    computed from constants alone (weights, whether plain, dequantized,
    reshaped or transposed; `tensor.empty`) is never observed: its range is
    known at compile time. A value already observed (the result of a
    `qlow.observe`, or one that feeds a `qlow.observe`) gets no second
    probe, so running the pass twice changes nothing.

    * `targets=activations` (the default): the data operands and the results
      of the ops named in `ops`. Data operands are `lhs` and `rhs` of
      `qlow.matmul`, `qlow.add` and `qlow.mul`; `q`, `k` and `v` of
      `qlow.attention`; the input of `qlow.gelu`, `qlow.silu`,
      `qlow.softmax`, `qlow.layer_norm`, `qlow.rms_norm` and `qlow.rope`;
      none for `qlow.embedding` (its table is a weight). Parameters (bias,
      gamma, beta, cos, sin, mask) are not observed. `ops` defaults to
      matmul, add, mul, gelu, silu, softmax, layer_norm, rms_norm and
      attention; `qlow.rope` and `qlow.embedding` may be added.
    * `targets=all`: every f32 function argument and op result that depends
      on an argument, whatever its op (reshapes and transposes included).

    A value used by several ops gets one probe, named after its definition.

    ### Names

    Names are stable (the same graph gives the same names, whatever options
    select) and unique within the function:

    * an op result is named after the op: the name of its location when it
      has one (`loc("encoder.0.q_proj")`, also inside a fused or call-site
      location), else `<function>.<kind>_<k>`, where `<kind>` is the op name
      without the `qlow.` prefix (other dialects keep theirs, with `_` for
      `.`: `tensor_collapse_shape`) and `k` counts the ops of that name in
      the function in program order, starting at 0, observed or not (so
      `@mlp.matmul_1` is the second matmul of `@mlp` whatever `targets`
      says); an op with several results adds `#<result number>`;
    * a function argument is named by its location's name, else
      `<function>.arg<i>`;
    * a name already taken gets the first free suffix `_1`, `_2`, ...: the
      names of the probes already in the function are taken first, then
      every argument and op gets its name in program order (arguments
      first), whether it is observed or not, so that names do not depend on
      the options.

    Probes that share a name record into one range (two functions whose ops
    carry the same location name, for example).

    ### Errors

    An unknown `targets` value, an op in `ops` that the pass cannot observe,
    or `ops` given with `targets=all` is an error at the function.
    `qlow-strip-observers` removes the probes again.
  }];
  let dependentDialects = ["::mlir::qlow::QlowDialect"];
  let options = [
    Option<"targets", "targets", "std::string", /*default=*/"\"activations\"",
           "What to observe: 'activations' (the data operands and results of "
           "the ops in ops=) or 'all' (every f32 value that depends on a "
           "function argument)">,
    ListOption<"ops", "ops", "std::string",
               "With targets=activations: the ops to observe, by full name "
               "(default qlow.matmul, qlow.add, qlow.mul, qlow.gelu, "
               "qlow.silu, qlow.softmax, qlow.layer_norm, qlow.rms_norm, "
               "qlow.attention; qlow.rope and qlow.embedding may be added)">,
  ];
}

def QlowStripObserversPass
    : Pass<"qlow-strip-observers", "::mlir::func::FuncOp"> {
  let summary = "Removes every qlow.observe probe";
  let description = [{
    The reverse of `qlow-insert-observers`: each `qlow.observe` is replaced
    by its input, which is exactly what the probe computed, so the graph's
    results do not change. Probes have a side effect (recording) and are
    never removed as dead code, so once calibration is done this pass is how
    they go; compiled pipelines never see them.

    ```mlir
    // Before
    %0 = qlow.observe %x {name = "mlp.arg0"} : tensor<4x8xf32>
    %y = qlow.gelu %0 : tensor<4x8xf32> -> tensor<4x8xf32>
    // After
    %y = qlow.gelu %x : tensor<4x8xf32> -> tensor<4x8xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Quantization of float graphs
//===----------------------------------------------------------------------===//

def QlowQuantizePass : Pass<"qlow-quantize", "::mlir::ModuleOp"> {
  let summary = "Quantizes a float qlow graph: static (calibrated) or dynamic "
                "activations, int8/int4 weights per tensor, channel or group";
  let description = [{
    Turns the f32 `qlow.matmul`s with constant f32 weights (and, with
    `ops=full`, the f32 `qlow.add` and `qlow.mul`, and `softmax`,
    `layer_norm` and `gelu` in integer-only form) of a float graph into
    quantized ops. Weights are quantized at compile time into new constants;
    activation scales come from calibration (`mode=static`, the JSON file
    that `qlow-calibrate` writes, looked up by the probe names that
    `qlow-insert-observers` assigns) or are computed at run time
    (`mode=dynamic`, `#qlow.dynamic` matmuls). What is not quantized stays
    f32, with explicit `qlow.quantize`/`qlow.dequantize` at the boundary, and
    (with `report`) a remark says why.

    ```mlir
    // Before
    %w = arith.constant dense<...> : tensor<64x32xf32>
    %b = arith.constant dense<...> : tensor<32xf32>
    %y = qlow.matmul %x, %w, %b : (tensor<16x64xf32>, tensor<64x32xf32>,
                                   tensor<32xf32>) -> tensor<16x32xf32>
    // After (mode=static ops=partial, weights per channel)
    %xq = qlow.quantize %x : tensor<16x64xf32> -> tensor<16x64x!quant.uniform<u8:f32, 0.03:121>>
    %wq = quant.scast %wi : tensor<64x32xi8> -> tensor<64x32x!quant.uniform<i8:f32:1, {...}>>
    %bq = quant.scast %bi : tensor<32xi32> -> tensor<32x!quant.uniform<i32:f32:0, {...}>>
    %y = qlow.matmul %xq, %wq, %bq : (...) -> tensor<16x32xf32>
    ```

    ### How

    The pass first checks everything (ranges present with the value's shape,
    precision rules naming existing layers, bits each op supports) and fails,
    with the module unchanged, on the first problem. Then, in static mode,
    it writes the graph in QDQ form and lets the `qlow-fold-qdq` patterns
    make the quantized ops, so both passes share one set of numerics:

    * each data operand of a quantized op gets `dequantize(quantize(x))`
      with the activation type of that op (scale and zero point from
      `ref::chooseScaleZeroPoint` on the probe's `clip_min`/`clip_max`, for
      the storage `activation-bits` and `activation-scheme` give: `i8`
      symmetric, `u8` asymmetric, `i16` for 16 bits); a value shared by ops of
      different precisions is quantized once per type, and a type change
      between two quantized ops becomes a `qlow.requantize`;
    * the result of an `add`/`mul` or integer-only op, and of a matmul that
      feeds another quantized op, is quantized with the range of its own
      probe and every user reads its dequantization; a matmul whose users are all float
      keeps an f32 result (the integer matmul's f32 epilogue);
    * weights (`rhs` from an `arith.constant`) are quantized symmetrically,
      `scale = max|w| / (2^(bits-1) - 1)` per tensor, per output channel
      (axis N) or per group of `group-size` rows along K and output channel
      (the sub-channel type `!quant.uniform<i4:f32:{0:G, 1:1}, ...>`), with
      `round_half_even(w / scale)` (lib/Reference's `quantize`);
    * an f32 constant bias becomes `i32` with scale `s_a * s_w[n]` and zero
      point 0 (with group-wise weights, which have no single scale per
      column, it stays an f32 add after the f32-result matmul);
    * a non-constant `rhs` (activation times activation) is quantized like
      an activation.

    In dynamic mode each quantized matmul becomes
    `qlow.matmul %x, %wq, %bias {dynamic = #qlow.dynamic<per_row|per_tensor,
    i8|u8, symmetric|asymmetric>}` with an f32 result and f32 bias; the
    activations are quantized at run time, so add, mul and the other ops
    stay f32.

    With `ops=full` (static), `softmax`, `layer_norm` and `gelu` become the
    integer-only `qlow.int_softmax`, `qlow.int_layer_norm` and
    `qlow.int_gelu` (I-BERT), reading the quantized input (the range of the
    input's probe) and making a quantized result (the range of the op's own
    probe); `gamma`/`beta` must be constants (else the op stays f32 with a
    remark). `int_gelu` is the erf form (I-BERT's polynomial); a tanh-form
    `qlow.gelu` gets it too. With `attention-key-block=Bk` (> 0),
    `qlow.attention` becomes int8 attention (`{int8, key_block = Bk}`: integer
    Q K^T and P V, QlowOps.td gives its semantics): q, k and v are quantized
    per tensor with the ranges of their probes (8-bit activations; the mask
    is left as it is) and the result stays f32. Only x86 CPUs with vpdpbusd
    compile it (qlow-x86-attention says so for others), which is why it is
    asked for rather than the default. `silu`, `rms_norm`, `rope`,
    `embedding` and (by default) `attention` have no integer-only form and
    stay f32 between a `dequantize` and a `quantize`, as does everything but
    matmuls with `ops=partial` or `mode=dynamic`; each gets a remark.

    ### Precision file

    `precision-file` is JSON:

    ```json
    {"format": "qlow-precision", "version": 1,
     "layers": [
       {"match": "block.*", "weight_bits": 8},
       {"match": "fc1", "weight_bits": 4, "granularity": "per-group",
        "group_size": 32},
       {"match": "block.add_0", "activation_bits": 16, "scheme": "symmetric"},
       {"match": "fc2", "skip": true}
     ]
    }
    ```

    `match` is a layer name (the op's probe name: its location name, or
    `<func>.<kind>_<k>`) or a glob pattern (`*`, `?`, `[...]`). Rules apply
    in order, later fields overriding earlier ones. Fields: `skip`,
    `activation_bits` (8, 16), `scheme` (activation scheme), `weight_bits`
    (8, 4), `granularity` (`per-tensor`, `per-channel`, `per-group`),
    `group_size`. A name that is no layer, a pattern that matches none, an
    unknown field, weight fields on an op without weights and bits an op
    does not support (4-bit activations, 16-bit activations in dynamic mode,
    an i16 x i8 matmul whose K could overflow the i32 accumulator, a group
    size that does not divide K) are errors.

    ### Errors

    Static mode without `ranges`, a ranges file that is missing, malformed,
    of another format or version, calibrated for a function the module does
    not have, without a probe the pass needs, or whose probe has another
    shape than the value: an error naming the file and the probe; nothing
    changes.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::quant::QuantDialect",
    "::mlir::qlow::QlowDialect",
  ];
  let options = [
    Option<"mode", "mode", "::mlir::qlow::QuantizeMode",
           /*default=*/"::mlir::qlow::QuantizeMode::Static",
           "Activation quantization: static (calibrated ranges) or dynamic "
           "(run time)",
           [{::llvm::cl::values(
               clEnumValN(::mlir::qlow::QuantizeMode::Static, "static",
                          "scales from the ranges= calibration file"),
               clEnumValN(::mlir::qlow::QuantizeMode::Dynamic, "dynamic",
                          "scales computed at run time"))}]>,
    Option<"ranges", "ranges", "std::string", /*default=*/"\"\"",
           "qlow-calibrate JSON file with the activation ranges (static "
           "mode)">,
    Option<"activationScheme", "activation-scheme", "::mlir::qlow::QuantScheme",
           /*default=*/"::mlir::qlow::QuantScheme::Asymmetric",
           "Activation zero point: symmetric (0, i8) or asymmetric (u8)",
           [{::llvm::cl::values(
               clEnumValN(::mlir::qlow::QuantScheme::Symmetric, "symmetric",
                          "zero point 0"),
               clEnumValN(::mlir::qlow::QuantScheme::Asymmetric, "asymmetric",
                          "zero point chosen from the range"))}]>,
    Option<"activationBits", "activation-bits", "unsigned", /*default=*/"8",
           "Activation storage bits: 8 or 16 (static only)">,
    Option<"weightBits", "weight-bits", "unsigned", /*default=*/"8",
           "Weight storage bits: 8 or 4">,
    Option<"weightGranularity", "weight-granularity",
           "::mlir::qlow::WeightGranularity",
           /*default=*/"::mlir::qlow::WeightGranularity::PerChannel",
           "Weight scales per tensor, per output channel or per group along K",
           [{::llvm::cl::values(
               clEnumValN(::mlir::qlow::WeightGranularity::PerTensor,
                          "per-tensor", "one scale"),
               clEnumValN(::mlir::qlow::WeightGranularity::PerChannel,
                          "per-channel", "one scale per output channel N"),
               clEnumValN(::mlir::qlow::WeightGranularity::PerGroup,
                          "per-group",
                          "one scale per group-size rows of K and channel"))}]>,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"32",
           "Rows of K per weight scale with weight-granularity=per-group">,
    Option<"ops", "ops", "::mlir::qlow::QuantizeOpsScope",
           /*default=*/"::mlir::qlow::QuantizeOpsScope::Partial",
           "Which ops are quantized",
           [{::llvm::cl::values(
               clEnumValN(::mlir::qlow::QuantizeOpsScope::Partial, "partial",
                          "matmuls only"),
               clEnumValN(::mlir::qlow::QuantizeOpsScope::Full, "full",
                          "matmuls, add, mul, and integer-only softmax, "
                          "layer_norm, gelu"))}]>,
    Option<"rounding", "rounding", "::mlir::qlow::RoundingMode",
           /*default=*/"::mlir::qlow::RoundingMode::FixedPoint",
           "Requantization rounding of the quantized ops",
           [{::llvm::cl::values(
               clEnumValN(::mlir::qlow::RoundingMode::FixedPoint,
                          "fixedpoint", "int32 multiplier and shift"),
               clEnumValN(::mlir::qlow::RoundingMode::Float, "float",
                          "f32 multiply, round half to even"))}]>,
    Option<"dynamicGranularity", "dynamic-granularity",
           "::mlir::qlow::DynamicGranularity",
           /*default=*/"::mlir::qlow::DynamicGranularity::PerRow",
           "mode=dynamic: one run-time scale per row or per tensor",
           [{::llvm::cl::values(
               clEnumValN(::mlir::qlow::DynamicGranularity::PerRow,
                          "per-row", "one scale per row of the activations"),
               clEnumValN(::mlir::qlow::DynamicGranularity::PerTensor,
                          "per-tensor", "one scale per tensor"))}]>,
    Option<"precisionFile", "precision-file", "std::string",
           /*default=*/"\"\"",
           "Per-layer precision rules (JSON; qlow-mixed-precision writes it)">,
    Option<"report", "report", "bool", /*default=*/"true",
           "Emit a remark for each op left in float, with the reason">,
    Option<"attentionKeyBlock", "attention-key-block", "int64_t",
           /*default=*/"0",
           "With ops=full (static): qlow.attention becomes int8 attention "
           "with this key_block, q, k and v quantized per tensor (0: it "
           "stays float; 1..4096)">,
  ];
}

#endif // QLOW_DIALECT_QLOW_TRANSFORMS_PASSES_TD
