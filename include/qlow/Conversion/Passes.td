//===- Passes.td - qlow conversion passes ------------------*- tablegen -*-===//
//
// Conversions out of the qlow dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_CONVERSION_PASSES_TD
#define QLOW_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQlowToLinalgPass : Pass<"convert-qlow-to-linalg", "ModuleOp"> {
  let summary = "Lower qlow ops to linalg and arith on integer and f32 tensors";
  let description = [{
    This is where quantized types leave the IR. Every tensor of a
    `!quant.uniform` type becomes a tensor of its storage integer (signless:
    `u8` storage is carried as `i8` bits and extended with `arith.extui`), in
    function signatures too, and each qlow op becomes `linalg.generic` ops
    whose bodies implement exactly the semantics that lib/Reference defines.
    Reshapes (`tensor.expand_shape`, `tensor.collapse_shape`), transposes
    (`linalg.transpose`) and `tensor.empty` of quantized tensors become the
    same ops on their storage: only the bytes move.

    * `qlow.quantize`: `saturate(roundeven(x / s) + z)`, NaN to `z`;
    * `qlow.dequantize`: `f32(q - z) * s`;
    * both (and `qlow.fake_quant`) with a sub-channel (blocked) type: the
      same, with the scale and zero point of element `(i, j, ...)` read from
      block `(i floordiv b_i, j floordiv b_j, ...)` (constant tensors indexed
      by those affine maps);
    * `qlow.requantize`: the fixed-point multiplier and shift of each channel
      are derived at compile time by lib/Reference's `quantizeMultiplier`
      (the same code the oracle uses), and the gemmlowp
      saturating-rounding-doubling-high-multiply and rounding right shift are
      expanded in `arith`; or the `float` rounding;
    * `qlow.matmul` (integer path): the raw i32 sum `sum_k a*w` as one
      contraction `linalg.generic`, then an epilogue `linalg.generic` that
      applies the zero-point corrections
      `- z_a * colsum(w) - z_w * rowsum(a) + K * z_a * z_w`, adds the bias and
      requantizes or dequantizes. Column sums of constant weights are computed
      here, at compile time, never in the inner loop. A K for which the i32
      accumulator could overflow is rejected with a diagnostic.
    * `qlow.matmul` (float path): an f32 contraction accumulating in k order.
    * the float-semantics ops (softmax, layer_norm, rms_norm, gelu, silu,
      rope): a quantized input is dequantized and a quantized result
      quantized around an f32 computation of reductions (`reduction`
      iterators) and elementwise generics; layer_norm, rms_norm and rope
      compute in f64 in lib/Reference's order of operations and are
      bit-exact, softmax, gelu and silu use f32 `math.exp`/`math.erfc`
      (tolerances in FloatOpsToLinalg.cpp);
    * `qlow.embedding`: every index is checked against the table's rows
      (`cf.assert`: an index out of range aborts), then the rows are gathered
      (and dequantized for an f32 result, with each element's row, column
      or block parameters).

    The contraction stays a plain `linalg.generic` so that data tiling,
    tiling and vectorization (later passes, driven by the target description)
    can recognise it. Ops without a lowering yet (sub-channel types other
    than in quantize, dequantize, fake_quant, embedding tables and the
    matmul's weights, attention, dynamic shapes) are reported with a diagnostic and the pass
    fails.

    Example:

    ```mlir
    // Before
    %y = qlow.matmul %a, %w : (tensor<4x8x!quant.uniform<u8:f32, 0.5:128>>,
                               tensor<8x2x!quant.uniform<i8:f32, 0.25>>) -> tensor<4x2xi32>
    // After (sketch)
    %acc = linalg.generic {iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %w : tensor<4x8xi8>, tensor<8x2xi8>) outs(%zero : tensor<4x2xi32>) {
      ^bb0(%x: i8, %y: i8, %c: i32):
        %x32 = arith.extui %x : i8 to i32
        %y32 = arith.extsi %y : i8 to i32
        ...
    }
    %colsum = arith.constant dense<[...]> : tensor<2xi32>
    %r = linalg.generic ins(%acc, %colsum ...) { %acc - 128 * %colsum }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def QlowFlattenMatmulBatchesPass
    : Pass<"qlow-flatten-matmul-batches", "::mlir::func::FuncOp"> {
  let summary = "Makes matmuls of batched activations with shared weights 2-D";
  let description = [{
    A `qlow.matmul` whose activations are `[B..., M, K]` and whose weights are
    one `[K, N]` matrix shared by every batch computes the same as one 2-D
    matmul over the `B * ... * M` rows: the rows are contiguous, so the
    reshapes are free. This pass rewrites it so, between a
    `tensor.collapse_shape` of the activations and a `tensor.expand_shape` of
    the result (convert-qlow-to-linalg lowers reshapes of quantized tensors to
    reshapes of their storage). The kernels (qlow-x86-int8-matmul,
    qlow-x86-int4-matmul, the AArch64 ones) recognise 2-D matmuls: ONNX
    exporters write `[1, S, D]` activations, which without this pass run as
    generic loops.

    Left alone: weights with batch dimensions (a product of two activations),
    rank-2 activations, dynamic shapes, activations quantized per row
    (static, axis M), whose M scales repeat in every batch, and results
    quantized per channel (a reshape cannot move their axis).
    qlow-cpu-pipeline runs this first, and convert-qlow-to-linalg applies the
    same rewrite to the matmuls it lowers.

    Example:

    ```mlir
    // Before
    %y = qlow.matmul %x, %w : (tensor<1x128x768x!qa>, tensor<768x768x!qw>)
        -> tensor<1x128x768xf32>
    // After
    %x2 = tensor.collapse_shape %x [[0, 1], [2]]
        : tensor<1x128x768x!qa> into tensor<128x768x!qa>
    %y2 = qlow.matmul %x2, %w : (tensor<128x768x!qa>, tensor<768x768x!qw>)
        -> tensor<128x768xf32>
    %y = tensor.expand_shape %y2 [[0, 1], [2]] output_shape [1, 128, 768]
        : tensor<128x768xf32> into tensor<1x128x768xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

#endif // QLOW_CONVERSION_PASSES_TD
