//===- Passes.td - AArch64 codegen passes ------------------*- tablegen -*-===//
//
// Passes that only AArch64 needs; everything else in codegen is
// target-neutral and reads the TargetDesc.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_AARCH64_PASSES_TD
#define QLOW_TARGET_AARCH64_PASSES_TD

include "mlir/Pass/PassBase.td"

def QlowAArch64Int8MatmulPass
    : Pass<"qlow-aarch64-int8-matmul", "func::FuncOp"> {
  let summary = "Int8 matmul contractions to packed-weight NEON sdot or "
                "smmla/usmmla kernels";
  let description = [{
    The AArch64 counterpart of qlow-x86-int8-matmul: it rewrites the
    i8 x i8 -> i32 contraction that convert-qlow-to-linalg emits (u8 or s8
    activations, s8 constant weights) into a register-tiled kernel on 128-bit
    NEON registers, with the tile from the target description, and fuses the
    elementwise epilogue after it (zero-point corrections, bias,
    requantization with either rounding or dequantization, relu, gelu/silu
    tables, residual adds) on the accumulator registers. Upstream's vector
    contraction lowerings do not produce sdot or smmla from this IR, so the
    kernel is built here from vector ops and the `arm_neon` dialect's
    intrinsic ops, which translate to the LLVM intrinsics.

    * dotprod (`Int8DotKind::NeonSdot`): the weights are packed at compile
      time into `[N/nr][K/4][nr*4]` bytes (4 bytes of K per i32 lane, one
      16-byte load per 4 output columns and step). The activations are
      packed once, before the kernel, into `[M/rows][K/kb][rows][kb]` bytes
      (kb = 32 where K is a multiple of 32 or at least 512, else 16): a
      register tile's rows side by side for each block of K, so that a
      row's block is one ldp (rows K bytes apart are out of ldp's reach).
      The K loop takes kb bytes per iteration: per 16 bytes of each row, used
      by element (`sdot v.4s, w.16b, a.4b[t]`, what LLVM selects for a sdot
      of a lane broadcast) in 4 steps. `sdot` is s8 x s8: u8 activations are
      shifted to s8 by flipping their sign bit (`a - 128`) in that packing,
      and the accumulators start at `128 * colsum(w)` (computed here), so
      the sum is exact.
    * i8mm (`Int8DotKind::NeonI8mm`): each 16-byte register of weights is
      the 8x2 block of two columns that `smmla` takes as its second operand;
      the activations are packed at run time into row pairs (8 bytes of K of
      each row per register: the layout of a `linalg.pack` with inner tiles
      [2, 8], built as loops that move 8 bytes at a time). Registers that a
      step loads together (the tile's column pairs, in groups of up to 4; its
      row pairs, in groups of the largest of 4, 3, 2 dividing their count)
      are stored interleaved by 4-byte words, so that one `ld4` (`ld3`,
      `ld2`) loads a group: LLVM's interleaved-access pass turns the wide
      load and its de-interleaving shuffles into that instruction. Per step
      of 8 along K each row pair and column pair takes one `smmla` (s8
      activations) or `usmmla` (u8 activations, exact without a shift) into
      a 2x2 block of i32; the K loop takes up to 4 steps per iteration (fewer
      where K would be padded by much), and step t of an iteration reads its
      weights and activations from tensors of their own, so that each `ld4`
      (which has no immediate offset) post-increments its own pointer; the
      TargetDesc asks LLVM's loop strength reduction for post-indexed
      addressing (`TargetDesc::llvmOptions`). After the K loop the blocks are
      shuffled back into row vectors for the epilogue. A one-row matmul takes
      the sdot kernel instead (half of every smmla would multiply a padding
      row).
    * Rows are tiled by the tile's rows with a smaller last tile (the packed
      activations padded with zero rows to whole tiles for sdot, to whole
      groups of row pairs for smmla); columns by
      panels of `nr` columns, padded with zero weights; K padded with zeros.
      Row blocks (for activations beyond half of L2) and panels are the
      iterations of an `scf.forall`.

    Targets without an int8 dot product (Armv8.0 NEON, cortex-a57) keep the
    contraction for the generic lowering.

    ```mlir
    // After (sketch, dotprod):
    %a = vector.transfer_read %lhs[%tile, %kk, %r, %c0] : tensor<4x2x4x32xi8>, vector<16xi8>
    %a32 = vector.bitcast %a : vector<16xi8> to vector<4xi32>
    %l0 = vector.shuffle %a32, %a32 [0, 0, 0, 0] : vector<4xi32>, vector<4xi32>
    %b0 = vector.bitcast %l0 : vector<4xi32> to vector<16xi8>
    %w0 = vector.transfer_read %wp[%p, %k, %c0] : tensor<1x16x64xi8>, vector<16xi8>
    %d = arm_neon.intr.sdot %acc, %w0, %b0 : vector<16xi8>, vector<16xi8> to vector<4xi32>
    // i8mm, one step: 4 row pairs and 4 column pairs, one ld4 each.
    %aw = vector.transfer_read %lhs0[%g, %kk, %c0] : tensor<2x24x16xi32>, vector<16xi32>
    %a1 = vector.shuffle %aw, %aw [1, 5, 9, 13] : vector<16xi32>, vector<16xi32>
    %ww = vector.transfer_read %wp0[%p, %kk, %c0] : tensor<96x24x16xi32>, vector<16xi32>
    %w2 = vector.shuffle %ww, %ww [2, 6, 10, 14] : vector<16xi32>, vector<16xi32>
    %m = arm_neon.intr.usmmla %acc, %a1b, %w2b : vector<16xi8> to vector<4xi32>
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"neoverse-n1\"",
           "AArch64 CPU (or a registry key such as aarch64-neoverse-n2) "
           "whose TargetDesc supplies the ISA and the register tile">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::arm_neon::ArmNeonDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def QlowAArch64SveInt8MatmulPass
    : Pass<"qlow-aarch64-sve-int8-matmul", "func::FuncOp"> {
  let summary = "Int8 matmul contractions to packed-weight SVE smmla/usmmla "
                "kernels at a fixed vector length";
  let description = [{
    For CPUs whose TargetDesc has SVE kernels (`sveVectorBits`, e.g.
    Neoverse-V1 at 256 bits): the contractions qlow-aarch64-int8-matmul
    takes (u8 or s8 activations, s8 constant weights, the same fused
    epilogues) become kernels on SVE registers, which do twice the MACs per
    `smmla` of 128-bit NEON at 256 bits. It runs before
    qlow-aarch64-int8-matmul, which keeps what it leaves.

    An SVE `smmla` (`usmmla` for u8 activations) multiplies a 2x8 by an 8x2
    block of bytes into a 2x2 block of i32 in each 128-bit segment. The
    kernel gives the two segments of a register consecutive 8-byte steps of
    K of the same row pair (activations) or column pair (weights): every
    operand is one whole 32-byte register, each accumulator holds the even
    and the odd steps' sums of its 2x2 block, and after the K loop the two
    segments are added. Weights are packed at compile time, activations at
    run time, in `[tiles][K/16][words]` i32 tensors whose registers of a step
    are stored interleaved by words in groups of up to 4, so that one `ld4w`
    (`ld2w`, `ldr`) loads a group: the group is read as one fixed-length
    vector and de-interleaved by shuffles, which LLVM's interleaved-access
    pass turns into that instruction, and each register is inserted into a
    scalable vector (no instruction at the compiled length); steps follow
    each other in one tensor and their loads have immediate offsets
    (`#imm, mul vl`). The K loop runs 4 steps per iteration and the rest
    once after it; the tile (row pairs x column pairs, 16 accumulators
    at most) is the TargetDesc candidate whose kernel executes the fewest
    instructions (`TargetDesc::chooseSveInt8Tile`); the epilogue's leading
    `acc - za * colsum(w)` starts the accumulators.

    The kernel is built with scalable vector types (`vector<[16]xi8>`,
    `vector<[4]xi32>`) whose size is known only because the variant is
    compiled for one vector length: the emitter sets LLVM's
    `vscale_range(vl/128, vl/128)` on its functions, and the run-time
    dispatch calls the variant only on a CPU with that vector length.

    ```mlir
    // One step of a 4 x 4 tile (sketch).
    %aw = vector.transfer_read %lhs[%t, %s, %c0] : tensor<12x8x32xi32>, vector<32xi32>
    %a0 = vector.shuffle %aw, %aw [0, 4, 8, 12, 16, 20, 24, 28] : vector<32xi32>, vector<32xi32>
    %a0s = vector.scalable.insert %a0, %poison[0] : vector<8xi32> into vector<[4]xi32>
    %m = arm_sve.intr.usmmla %acc, %a0b, %w0b : (vector<[4]xi32>, vector<[16]xi8>, vector<[16]xi8>) -> vector<[4]xi32>
    ```

    Preconditions: the CPU's TargetDesc has SVE kernels (`sveVectorBits` of
    256); any other AArch64 CPU is left alone, an x86 CPU is an error.
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"neoverse-v1\"",
           "AArch64 CPU (or a registry key such as aarch64-neoverse-v1) "
           "whose TargetDesc supplies the SVE vector length and tiles">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::arm_sve::ArmSVEDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::ub::UBDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def QlowAArch64Int4MatmulPass
    : Pass<"qlow-aarch64-int4-matmul", "func::FuncOp"> {
  let summary = "Int4 weight-only matmuls to nibble-unpacking NEON sdot "
                "kernels";
  let description = [{
    The AArch64 counterpart of qlow-x86-int4-matmul, for CPUs with dotprod
    (`sdot`; i8mm CPUs have it too). It rewrites `qlow.matmul` ops with f32
    activations quantized at run time (`#qlow.dynamic<per_row | per_tensor,
    i8, symmetric>`) and constant 4-bit weights (`i4` or `u4`, in groups
    along K of a multiple of 32 rows, or per channel, with one zero point for
    all weights or one per group and column), or 8-bit weights in such
    groups (`i8` or `u8`, any range: MatMulNBits with bits = 8, blocked
    DequantizeLinear), into a register-tiled kernel. (Groups of 16 would make the
    loop over K within a group one iteration, which LLVM unrolls into the
    group's f32 update, spilling the accumulators.) It runs before
    convert-qlow-to-linalg, which lowers every matmul this pass leaves.

    * The activations are quantized as the reference does (per-tensor by
      the linalg generics that convert-qlow-to-linalg builds; per row by
      vector loops of 16 values per iteration: the row's max |x| as an
      integer max of the bits of |x|, x / scale rounded to even by adding
      1.5 * 2^23, saturated to i8 by sqxtn/sqxtn2), and summed per row and
      group where a zero-point correction needs it.
    * Data tiling at compile time: 4-bit weights become nibbles (stored
      value minus the type's minimum, so 0..15, XORed with 8) packed two per
      byte, `[N/nr][K/4][nr*2]`: one 16-byte load holds two registers of 4
      columns x 4 bytes of K (sdot's layout), the low nibbles one register
      and the high nibbles the other, unpacked as signed values by one `shl`
      (the low ones times 16, divided out when converted to f32) and one
      `sshr` on bytes. (ORT's 8-bit blocks of 16 values, `sign(s) * (q -
      zp)`, are nibbles over a base per group and column.) 8-bit weights of
      any range are whole bytes `w - min` XORed with 0x80, `[N/nr][K/4][nr*4]`,
      one load per register and nothing to unpack. The group scales are a
      table `[N/nr][groups][nr]` of f32, and zero points per group and
      column a table of their corrections.
    * Per iteration of 16 bytes of K the kernel loads 16 activation bytes
      per row and uses them by element in 4 steps
      (`sdot v.4s, w.16b, a.4b[t]`), nibbles and activations both s8, into
      `rows x vectors` i32 sums for the current group. After each group it
      subtracts `(zero point - 8 or 128) x row sum` (sdot reads nibble - 8
      and byte - 128; nothing for the usual zero point of i4 and u4),
      converts to f32 and adds
      `(s_lhs * s_w[g, n]) * sum` to f32 accumulators (in registers when
      few rows fit, else in the output tile), in the order of the op's
      reference semantics, so the result is bit-exact; the bias is added at
      the end.
    * Column panels are the iterations of an `scf.forall`; the tile follows
      from the TargetDesc's register count.

    With `report`, each dynamic matmul the pass does not take gets a remark
    saying why (a group size that is not a multiple of 32, asymmetric
    activations, 8-bit weights per channel, ...).

    ```mlir
    // After (sketch): one packed load, two weight registers.
    %raw = vector.transfer_read %wp[%p, %s, %c0] : tensor<8x64x32xi8>, vector<16xi8>
    %w0 = arith.shli %raw, %four : vector<16xi8>
    %w1 = arith.shrsi %raw, %four : vector<16xi8>
    %d = arm_neon.intr.sdot %acc, %w0, %a_t : vector<16xi8>, vector<16xi8> to vector<4xi32>
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"neoverse-n1\"",
           "AArch64 CPU (or a registry key such as aarch64-neoverse-n2) "
           "whose TargetDesc supplies the ISA and the register count">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark for each dynamic matmul left to the generic lowering">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::arm_neon::ArmNeonDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // QLOW_TARGET_AARCH64_PASSES_TD
