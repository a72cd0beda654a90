//===- Passes.td - x86 codegen passes ----------------------*- tablegen -*-===//
//
// Passes that only x86 needs; everything else in codegen is target-neutral
// and reads the TargetDesc.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_X86_PASSES_TD
#define QLOW_TARGET_X86_PASSES_TD

include "mlir/Pass/PassBase.td"

def QlowX86Int8MatmulPass : Pass<"qlow-x86-int8-matmul", "func::FuncOp"> {
  let summary = "Int8 matmul contractions to packed-weight vpdpbusd kernels";
  let description = [{
    Rewrites the i8 x i8 -> i32 contraction that convert-qlow-to-linalg emits
    (u8 or s8 activations, s8 constant weights) into a register-tiled kernel
    built on `vpdpbusd` (AVX-512 VNNI on zmm, AVX-VNNI on ymm), with tile
    shapes from the target description:

    * data tiling: the constant weights are packed at compile time into
      `[N/nr][K/4][nr*4]` bytes, the layout the kernel reads with one vector
      load per register of output columns per step of 4 along K; N and K are
      padded with zeros;
    * the activations are padded to a multiple of the tile rows and of 4
      along K (`tensor.pad`), so every access is in bounds;
    * the kernel keeps `rows x vectors` i32 accumulators in registers over
      the whole K loop: per step it loads `vectors` weight registers,
      broadcasts 4 activation bytes per row and issues `rows x vectors`
      `vpdpbusd` (the `qlow_x86.dot_u8s8` kernel op, because upstream's
      x86vector dialect has no u8 x s8 dot product);
    * s8 activations are shifted to u8 by flipping the sign bit (+128), and
      the accumulators start at `-128 * colsum(w)` (computed here), so the
      result is still the exact signed sum.

    * the elementwise epilogue that consumes the contraction (zero-point
      corrections, bias, requantization or dequantization, as
      convert-qlow-to-linalg emits it, and what qlow-fuse-elementwise fused
      into it: a relu, the table of a quantized gelu or silu, a residual add)
      is fused: its body is applied lane-wise to the accumulator registers
      after the K loop, reading per-column parameters with masked vector
      reads, per-row ones as broadcasts and residuals at the row and column,
      and table lookups as gathers (a constant table of narrow integers is
      widened to i32 at compile time). On AVX-512 VBMI CPUs a constant table
      of at most 256 bytes is instead held in four zmm registers and read with
      `qlow_x86.permute_bytes2` (two vpermi2b and a blend on bit 7 of the
      index per 16 lanes: a vpgatherdd on Zen 4 costs about as much as the
      whole rest of the epilogue); the kernel stores the epilogue's
      element type. No i32 accumulator makes a round trip through memory;
    * column panels are the iterations of an `scf.forall`: the threads' work;
    * sibling contractions: when the epilogue also reads, element for element,
      the accumulators of a second contraction of the same activations (with
      the same M, N and K) that nothing else reads, as SwiGLU's
      `silu(x Wg) * (x Wu)` is after qlow-fuse-elementwise, one kernel
      computes both: each packed panel holds `nr` columns of the first
      weights and the same `nr` columns of the second, a register tile is
      `rows x 2 * vectors` accumulators (tiles with an even number of vectors
      from the TargetDesc, halved), every activation broadcast feeds both
      halves, and the epilogue reads both accumulators from registers.
      Without this (`fuse-siblings=false`) the second contraction's i32
      accumulators are written to memory by a kernel of their own and read
      back by the epilogue. The integer results are the same either way.

    Without a fusible epilogue the result is the i32 tensor of the
    contraction. On AVX2 (no VNNI) the same kernel uses vpmaddubsw when the
    constant weights cannot saturate it, and otherwise widened i16 pairs with
    vpmaddwd; targets without an int8 dot product keep the contraction.

    Before:

    ```mlir
    %acc = linalg.generic {... iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %w : tensor<16x64xi8>, tensor<64x32xi8>) outs(%zero : tensor<16x32xi32>) {...}
    ```

    After (sketch):

    ```mlir
    %wp = arith.constant dense<...> : tensor<1x16x128xi8>   // packed weights
    %r = scf.for %p ... {
      scf.for %i ... {
        scf.for %k ... iter_args(%acc0 = ..., ...) -> (vector<16xi32>, ...) {
          %w0 = vector.transfer_read %wp[%p, %k, %c0] : tensor<1x16x128xi8>, vector<64xi8>
          %b = vector.broadcast ... : i32 to vector<16xi32>
          %d = qlow_x86.dot_u8s8 %acc0, %b8, %w0 : vector<64xi8> -> vector<16xi32>
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"host\"",
           "CPU whose TargetDesc supplies the ISA and the register tile">,
    Option<"fuseSiblings", "fuse-siblings", "bool", /*default=*/"true",
           "Compute two contractions of the same activations whose "
           "accumulators one epilogue combines (SwiGLU's gate and up) in one "
           "kernel">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::qlow::x86::QlowX86Dialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def QlowX86Int4MatmulPass : Pass<"qlow-x86-int4-matmul", "func::FuncOp"> {
  let summary = "Int4 weight-only matmuls to nibble-unpacking vpdpbusd kernels";
  let description = [{
    Rewrites `qlow.matmul` ops with f32 activations quantized at run time
    (`#qlow.dynamic<per_row | per_tensor, i8, symmetric>`) and constant 4-bit
    weights (`i4` or `u4`, in groups along K of a multiple of 4 rows, or per
    channel, with one zero point for all weights or one per group and
    column) into a kernel for targets with `vpdpbusd` (AVX-512 VNNI on zmm,
    AVX-VNNI on ymm) and for AVX2 CPUs without VNNI, where
    `qlow_x86.dot_u8s8_pairs` (vpmaddubsw + vpmaddwd by ones + vpaddd, on
    ymm) takes each `vpdpbusd`'s place: exact for every input, because its
    unsigned operand is a nibble (0..15), so no pair of products comes near
    vpmaddubsw's i16 saturation (|pair| <= 15 * 128 * 2 = 3840). It also takes `i8` weights in such groups whose stored
    values span at most 16 consecutive integers in every group and column:
    qlow-import-onnx's form of MatMulNBits blocks with negative scales or a
    zero point per block (`sign(s) * (q - zp)`, scale `|s|`); each group and
    column is then a nibble plus its smallest value, exactly. Other `i8`
    or `u8` weights in groups along K (more than one group: MatMulNBits with
    `bits = 8`, an 8-bit blocked DequantizeLinear) take the two-plane form:
    each packed byte is one whole weight minus the type's minimum (0..255),
    the unsigned operand as it is (a load holds one register of columns, no
    unpacking), and the activations are split at run time into two planes
    of signed nibbles, `a >> 4` and `(a & 15) - 8` (both in [-8, 7]), each
    broadcast per row and step. The kernel adds each group's sums as
    `16 * high + low + 8 * sum(w)` in i32 (the last a compile-time table
    per group and column) before the zero-point correction. Exact for the
    same reason: a `vpmaddubsw` pair is at most 255 * 8 * 2 = 4080, so 8 add
    in i16. It issues twice the dot products of int4 per weight. It runs
    before convert-qlow-to-linalg, which lowers every matmul this pass
    leaves.

    * The activations are quantized by the same linalg generics that
      convert-qlow-to-linalg builds, and summed per row and group.
    * Data tiling at compile time: the weights become nibbles (stored value
      minus the type's minimum, so 0..15) packed two per byte,
      `[N/nr][K/4][nr*2]`, where one vector load holds two registers of
      columns (low and high nibbles) in VNNI order, and the group scales a
      table `[N/nr][groups][nr]` of f32.
    * The kernel keeps `rows x vectors` i32 sums for the current group and
      as many f32 accumulators in registers; per step of 4 along K it loads
      `vectors / 2` packed registers, unpacks each with a shift and two ands,
      broadcasts 4 activation bytes per row and issues `rows x vectors`
      `vpdpbusd` (nibbles unsigned, activations signed). On AVX2 each
      `vpdpbusd` is a `vpmaddubsw` (`qlow_x86.pair_sums_u8s8`) whose i16
      pair sums the steps of a chunk (up to 8, the largest divisor of a
      group's steps) add with `vpaddw`; one `vpmaddwd` by ones
      (`qlow_x86.dot_i16x2`) per chunk adds them to the i32 sums. A pair
      sum is at most 15 * 128 * 2 = 3840 in magnitude, so 8 of them fit
      i16. After each group it
      subtracts `zero-point nibble x row sum` (a scalar, or with zero points
      per group and column a vector read from an i32 table
      `[N/nr][groups][nr]`), converts to f32 and adds
      `(s_lhs * s_w[g, n]) * sum` to the f32 accumulators, in the order of
      the op's reference semantics, so the result is bit-exact; the bias is
      added at the end.
    * Column panels are the iterations of an `scf.forall` (the threads'
      work); the tile comes from the TargetDesc's vector width and register
      count.
    * When the tile covers all rows (each weight byte is read once: the
      decode case, M = 1), each step prefetches its weight lines
      `TargetDesc::int4PrefetchBytes` ahead in the contiguous packed stream
      (`memref.prefetch` on a flat view of the constant's buffer, clamped to
      its last step; locality `int4PrefetchLocality`, 0 = prefetchnta);
      none where that is 0.

    With `report`, each dynamic matmul the pass does not take gets a remark
    saying why (asymmetric activations, 8-bit weights per channel (one
    group: the int8 kernels take those), a group size that is not a
    multiple of 4, non-constant weights, ...).
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"host\"",
           "CPU whose TargetDesc supplies the ISA and the register tile">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark for each dynamic matmul left to the generic lowering">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::qlow::x86::QlowX86Dialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def QlowX86AttentionPass : Pass<"qlow-x86-attention", "func::FuncOp"> {
  let summary = "qlow.attention to one fused flash-attention kernel";
  let description = [{
    Rewrites each `qlow.attention` (before convert-qlow-to-linalg) into one
    kernel that never materializes the `S x T` score matrix beyond a tile
    held in registers (the online softmax of flash attention):

    * `scf.forall` over (batch, head, block of query rows): the threads'
      work. The TargetDesc (`chooseAttentionTile`) sizes the tile: key
      blocks of `vectorRegisters / 8` vectors (64 keys on AVX-512), and as
      many rows as keep the block's scores (`rows x keyVectors`) in half
      the register file and the P * V step (`rows x ceil(Dv / lanes)`
      accumulators, a value row, a broadcast per row) in all of it; the
      last, partial block of rows is a second forall with a smaller static
      tile.
    * For each key block (an `scf.for`; the partial last block is built
      once more at its static width, in vectors of `lanes` and a narrower
      last one): the scores of each row are `keyVectors` vectors,
      `sum_d q[i, d] * kT[d, keys]` by `vector.fma` of a broadcast query
      element and the block's vectors of a row of the transposed keys
      (loaded once for all rows; or by dot products, below), times `scale`;
      plus the f32 mask, or `-inf` where an i1 mask is false or the key is
      causally hidden (`j > i + T - S`).
    * Online softmax per row, once per key block (its full vectors combined
      lanewise, then reduced once): the new maximum `m' = max(m, max_j s)`,
      `p = exp(s - m')` (0 for `-inf` scores), `alpha = exp(m - m')`,
      `l = l * alpha + sum p`, `acc = acc * alpha + p . V` (a value row is
      loaded once per key for all rows of the block). At the end
      `out = acc / l`, and zeros for a row with no visible key.
    * Causal: key blocks wholly above the diagonal of a query block are
      never visited (the key loop's bound depends on the block).
    * Grouped-query attention: query head `h` reads kv head `h / (H / Hkv)`;
      K and V are not copied per head. When at least `lanes` query rows share
      a kv head (`S * H / Hkv`), K is transposed once to `[B, Hkv, D, T]`
      (one scf.forall over the kv heads) so that a key block's row for one
      `d` is one load; with fewer (a decode step), each score is instead a
      dot product of a query row and a key row in vectors along `d`, reduced
      across lanes, and K is read as it is.
    * Split and merged heads: a q, k or v that is a heads transpose
      (`linalg.transpose` with permutation `[0, 2, 1, 3]`) of a
      `[B, S, H, D]` f32 projection is read in place (a row along `D` is
      contiguous in both layouts, only the row stride differs), and an f32
      result whose only use is such a transpose back to `[B, S, H, Dv]` is
      written in that layout; the transposed copies (four per layer) are
      never made, and transposes left without uses are erased.
    * Quantized q, k, v (per tensor or per axis) become `qlow.dequantize`
      and a quantized result a `qlow.quantize` of the f32 kernel's output,
      the op's float semantics; convert-qlow-to-linalg lowers them.
    * `int8` attention (q, k, v quantized per tensor, 8-bit; `key_block`):
      K and V are packed once per kv head at run time into vpdpbusd's
      layout (u8 storage flipped to s8; K with its per-key zero-point
      correction), and the kernel takes key blocks of `key_block` keys:
      scores by `qlow_x86.dot_u8s8` (4 query bytes broadcast against packed
      K), the exact f32 softmax step of the op's semantics with P as u8 in
      1/255ths, and P * V by `qlow_x86.dot_u8s8` (4 probabilities broadcast
      against packed V) into i32, rescaled per block in f32. A work item
      has `vectorRegisters / (2 * ceil(Dv / lanes))` query rows (at most
      8): its f32 accumulators and i32 P * V sums. Block maxima and sums
      are taken lane-wise and then by halving, with the reference's
      `(a < b) ? b : a`. Split and merged heads: a q, k or v that is a
      per-tensor `qlow.quantize` of a heads transpose (of the
      `tensor.expand_shape` of a `[B * S, H * D]` projection) is quantized
      before the transpose and the expand instead (per-tensor quantization
      is elementwise: the same integers), so the projection's epilogue
      stores bytes and the kernel reads and packs the `[B, S, H, D]` bytes
      in place; an f32 result merged back is written as `[B, S, H, Dv]`.
      An f32 result (or its merge) whose only use is a per-tensor 8-bit
      `qlow.quantize`, directly or through one `tensor.collapse_shape`, is
      quantized in the kernel's epilogue with that op's f32 steps (`x / s`,
      clamp, round half to even, `+ z`, NaN to `z`) and stored as bytes;
      the quantize goes. Bit for bit equal to lib/Reference's
      `attentionInt8` (test/e2e/random_int8_attention.py, `--split-heads`
      for the in-place forms, `--quantize-result` for the fused quantize). Needs vpdpbusd (AVX-512 VNNI or AVX-VNNI) or AVX2, and
      `key_block` a multiple of the i32 lanes. On AVX2 without VNNI the
      kernel is the same on ymm and qlow-x86-lower-intrinsics
      (`avx2-dot-u8s8`) lowers each `dot_u8s8` to an exact AVX2 sequence
      (test/e2e/random-int8-attention-avx2.test).

    Accuracy: f32 throughout (the reference computes in double); tested by
    test/e2e/random_attention.py within `2^-18 * max|v| * max(1, max|score|)`
    (measured 2.1e-7), quantized results within one step. Dynamic shapes and sub-channel quantized operands are
    rejected with an error at the op.

    ```mlir
    %o = qlow.attention %q, %k, %v {causal}
        : (tensor<1x8x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>)
          -> tensor<1x8x5x16xf32>
    // becomes (sketch)
    %kt = scf.forall ... -> (tensor<1x2x16x5xf32>) { ... tensor.insert ... }
    %r = scf.forall (%i) in (8) shared_outs(%o = %empty) -> (tensor<1x8x5x16xf32>) {
      %st = scf.for %kb = %c0 to %end step %c1 iter_args(%acc = ..., %m = ..., %l = ...) {
        %s = scf.for %d ... iter_args(%s0 = ...) -> (vector<16xf32>, ...) {
          %kr = vector.transfer_read %kt[...] : tensor<1x2x16x5xf32>, vector<16xf32>
          %f = vector.fma %qd, %kr, %s0 : vector<16xf32>
        ...
        %mx = vector.reduction <maximumf>, %s : vector<16xf32> into f32
        %p = math.exp %sm : vector<16xf32>
        ...
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"host\"",
           "CPU whose TargetDesc supplies the vector width and register count">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::qlow::x86::QlowX86Dialect",
    "::mlir::quant::QuantDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def QlowX86Int8SoftmaxPass : Pass<"qlow-x86-int8-softmax", "func::FuncOp"> {
  let summary = "8-bit quantized softmax rows to one register-resident pass";
  let description = [{
    Why: convert-qlow-to-linalg computes `qlow.softmax` in the reference's
    steps (dequantize, f32 maximum, exp, f64 sum, divide, quantize), which
    qlow-vectorize-elementwise turns into two passes over an f32 copy of the
    scores with per-row temporaries (heap buffers) and two divisions per
    element. With 8-bit inputs and results (ONNX QDQ attention: u8 scores
    with the calibrated scale in, u8 probabilities with theirs out) a row
    fits in vector registers, so this pass (before convert-qlow-to-linalg)
    rewrites a softmax along the last axis whose input and result are
    quantized per tensor with at most 8 bits, static shapes and a last
    dimension `L` that is a multiple of the TargetDesc's f32 lanes and at
    most 16 vectors, into one `scf.forall` over the rows that, per row:

    * reads the `L` stored integers `q` and takes their maximum `qm` (the
      dequantized maximum is the dequantized `qm`: dequantization is
      monotonic for a positive scale);
    * `e = exp(s * (q - qm))`: with 16 f32 lanes (AVX-512) the product of
      two `qlow_x86.permute_f32` (vpermps) lookups in 16-entry tables of
      exponentials, `exp(-16 s (d >> 4)) * exp(-s (d & 15))` with
      `d = qm - q` in [0, 255] (each rounded once from double: within
      1.5 ulp); otherwise `math.exp` (upstream's polynomial after
      qlow-approximate-math); `sum = sum(e)` in f32 (reassociated);
    * `y = saturate(roundeven(e * (1 / (sum * s_out))) + z_out)`.

    Accuracy: the reference rounds `e / sum` once from double; this is the
    op's float semantics with f32 steps, so a stored result may be one step
    off the reference where `p / s_out` is within about 1e-6 (relative) of a
    rounding boundary (test/e2e/random_float_ops.py checks quantized
    softmax results within one step). Other softmax ops are left to
    convert-qlow-to-linalg (a remark says why with `report=true`).

    ```mlir
    %p = qlow.softmax %s {axis = 3 : i64}
        : tensor<1x12x128x128x!quant.uniform<u8:f32, 0.04:133>>
          -> tensor<1x12x128x128x!quant.uniform<u8:f32, 0.0013>>
    // becomes
    %q = quant.scast %s : ... to tensor<1x12x128x128xi8>
    %rows = tensor.collapse_shape %q [[0, 1, 2], [3]] : ... into tensor<1536x128xi8>
    %r = scf.forall (%i) in (1536) shared_outs(%o = %empty) -> (tensor<1536x128xi8>) {
      %x = vector.transfer_read %rows[%i, %c0] ... : tensor<1536x128xi8>, vector<128xi8>
      %m = vector.reduction <maxui>, %x : vector<128xi8> into i8
      ...
      %e = math.exp %d : vector<128xf32>
      %sum = vector.reduction <add>, %e fastmath<reassoc> : vector<128xf32> into f32
      ...
    }
    %p = quant.scast (tensor.expand_shape %r ...) : ... to tensor<...x!quant.uniform<u8:f32, 0.0013>>
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"host\"",
           "CPU whose TargetDesc supplies the vector width">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark for each softmax left to convert-qlow-to-linalg, "
           "saying why">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::qlow::x86::QlowX86Dialect",
    "::mlir::quant::QuantDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def QlowX86LowerIntrinsicsPass : Pass<"qlow-x86-lower-intrinsics"> {
  let summary = "Lower qlow_x86 kernel ops to LLVM intrinsic calls";
  let description = [{
    `dot_u8s8` becomes one `vpdpbusd`; `dot_i16x2` a `vpmaddwd` and an i32
    add; `dot_u8s8_pairs` a `vpmaddubsw`, a `vpmaddwd` by ones and an i32
    add; `pair_sums_u8s8` one `vpmaddubsw`; `permute_bytes2` one `vpermi2b`. The qlow_x86 ops are pure so that
    bufferization and deallocation can reason about the kernels; an
    `llvm.call_intrinsic` has unknown memory
    effects and would stop them. This pass runs after those, just before the
    rest of the lowering to the LLVM dialect.

    ```mlir
    %d = qlow_x86.dot_u8s8 %acc, %a, %w : vector<64xi8> -> vector<16xi32>
    // becomes
    %d = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%acc, %a, %w)
        : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
    ```

    With `avx2-dot-u8s8` (CPUs with AVX2 but no VNNI: qlow-cpu-pipeline
    sets it from the TargetDesc), a ymm `dot_u8s8` becomes an exact AVX2
    sequence instead: its s8 operand split into nibbles, `b = 16 h + l`,
    two `vpmaddubsw` (pair sums of at most 4080 and 7650 in magnitude, so
    no saturation), `vpmaddwd` by 16s and by 1s, and two adds. The int8
    attention kernel, whose operands are run-time bytes of any value, uses
    it on such CPUs.
  }];
  let options = [
    Option<"avx2DotU8S8", "avx2-dot-u8s8", "bool", /*default=*/"false",
           "Lower ymm dot_u8s8 to the exact AVX2 vpmaddubsw sequence "
           "(CPUs without VNNI)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // QLOW_TARGET_X86_PASSES_TD
