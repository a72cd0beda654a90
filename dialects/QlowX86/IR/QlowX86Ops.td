//===- QlowX86Ops.td - x86 kernel-level ops ----------------*- tablegen -*-===//
//
// Kernel-level ops for x86 micro-kernels: instructions that upstream's vector
// and x86vector dialects do not expose, as pure ops on vectors so that
// bufferization and deallocation can reason about them. They become LLVM
// intrinsic calls at the very end (qlow-x86-lower-intrinsics).
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOWX86OPS_TD
#define QLOW_DIALECT_QLOWX86OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def QlowX86_Dialect : Dialect {
  let name = "qlow_x86";
  let cppNamespace = "::mlir::qlow::x86";
  let summary = "x86 instructions for qlow's generated micro-kernels";
  let description = [{
    Ops that stand for single x86 instructions qlow's kernels need and that
    upstream MLIR has no op for. Each is pure and lowers to one LLVM
    intrinsic call, or a short fixed sequence of them and an i32 add.
  }];
}

def QlowX86_DotU8S8Op : Op<QlowX86_Dialect, "dot_u8s8", [Pure,
    AllTypesMatch<["acc", "result"]>, AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "vpdpbusd: u8 x s8 dot products of 4, accumulated in i32";
  let description = [{
    For each i32 lane `i`:
    `result[i] = acc[i] + sum_{j<4} zext(lhs[4i+j]) * sext(rhs[4i+j])`,
    with wrapping i32 addition (the instruction's non-saturating form). On
    `vector<16xi32>` this is AVX-512 VNNI `vpdpbusd zmm`; on `vector<8xi32>`
    the ymm form (AVX-512 VL or AVX-VNNI).

    ```mlir
    %d = qlow_x86.dot_u8s8 %acc, %a, %w : vector<64xi8> -> vector<16xi32>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I32]>:$acc,
                   VectorOfRankAndType<[1], [I8]>:$lhs,
                   VectorOfRankAndType<[1], [I8]>:$rhs);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = [{
    $acc `,` $lhs `,` $rhs attr-dict `:` type($lhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def QlowX86_DotI16x2Op : Op<QlowX86_Dialect, "dot_i16x2", [Pure,
    AllTypesMatch<["acc", "result"]>, AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "vpmaddwd + vpaddd: i16 dot products of 2, accumulated in i32";
  let description = [{
    For each i32 lane `i`:
    `result[i] = acc[i] + lhs[2i] * rhs[2i] + lhs[2i+1] * rhs[2i+1]`, products
    of signed i16 and wrapping i32 addition: exact for u8/s8 values widened
    to i16. This is the AVX2 int8 dot product for weights that
    `qlow_x86.dot_u8s8_pairs` cannot take: `vpmaddubsw` saturates its i16
    pair sums (up to 255 * 128 * 2 = 65280 > 32767), which would break
    bit-exactness against lib/Reference, so the bytes are widened first and
    `vpmaddwd` (no saturation below 2^31) does the multiply.

    ```mlir
    %d = qlow_x86.dot_i16x2 %acc, %a, %w : vector<16xi16> -> vector<8xi32>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I32]>:$acc,
                   VectorOfRankAndType<[1], [I16]>:$lhs,
                   VectorOfRankAndType<[1], [I16]>:$rhs);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = [{
    $acc `,` $lhs `,` $rhs attr-dict `:` type($lhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def QlowX86_DotU8S8PairsOp : Op<QlowX86_Dialect, "dot_u8s8_pairs", [Pure,
    AllTypesMatch<["acc", "result"]>, AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "vpmaddubsw + vpmaddwd(1) + vpaddd: u8 x s8 dot products of 4 "
                "as two i16-saturated pairs, accumulated in i32";
  let description = [{
    The AVX2 int8 dot product of 4: `vpmaddubsw` sums the u8 x s8 products
    of adjacent bytes into i16 with signed saturation, `vpmaddwd` against a
    vector of i16 ones adds adjacent i16 into i32, and `vpaddd` accumulates.
    With `p(j) = zext(lhs[j]) * sext(rhs[j])` (exact in i32), for each i32
    lane `i`:

    `result[i] = acc[i] + sat16(p(4i) + p(4i+1)) + sat16(p(4i+2) + p(4i+3))`

    where `sat16` clamps to [-32768, 32767] and the i32 additions wrap. Only
    `vector<32xi8> -> vector<8xi32>` (ymm) exists: the CPUs that need this
    form (AVX2 without VNNI) have no zmm.

    Precondition for exactness: no pair saturates. Then the op equals
    `qlow_x86.dot_u8s8`. As `lhs` is unsigned, `|p(2j) + p(2j+1)| <=
    255 * (|rhs[2j]| + |rhs[2j+1]|)`, so it suffices that
    `|rhs[2j]| + |rhs[2j+1]| <= 128` for every pair (255 * 128 = 32640);
    7-bit weights in [-64, 63] always satisfy it. With full-range s8 operands
    the sum can reach 255 * 128 * 2 = 65280 and saturate. The op itself does
    not check this (`rhs` is a run-time vector): qlow-x86-int8-matmul emits it
    only after checking its constant weights.

    ```mlir
    %d = qlow_x86.dot_u8s8_pairs %acc, %a, %w : vector<32xi8> -> vector<8xi32>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I32]>:$acc,
                   VectorOfRankAndType<[1], [I8]>:$lhs,
                   VectorOfRankAndType<[1], [I8]>:$rhs);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = [{
    $acc `,` $lhs `,` $rhs attr-dict `:` type($lhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def QlowX86_PairSumsU8S8Op : Op<QlowX86_Dialect, "pair_sums_u8s8", [Pure,
    AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "vpmaddubsw: sums of adjacent u8 x s8 products, saturated "
                "to i16";
  let description = [{
    With `p(j) = zext(lhs[j]) * sext(rhs[j])` (exact in i32), for each i16
    lane `i`:

    `result[i] = sat16(p(2i) + p(2i+1))`

    where `sat16` clamps to [-32768, 32767]. This is AVX2's `vpmaddubsw` on
    ymm (`vector<32xi8> -> vector<16xi16>`), the first half of
    `qlow_x86.dot_u8s8_pairs`. A kernel that knows its operands' bounds adds
    several of these in i16 (`arith.addi`, vpaddw) before one
    `qlow_x86.dot_i16x2` by ones widens them to i32: the AVX2 int4 kernel,
    whose unsigned operand is a nibble (0..15), adds up to 8 (each at most
    3840 in magnitude). The op itself does not check bounds.

    ```mlir
    %s = qlow_x86.pair_sums_u8s8 %w, %a : vector<32xi8> -> vector<16xi16>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I8]>:$lhs,
                   VectorOfRankAndType<[1], [I8]>:$rhs);
  let results = (outs VectorOfRankAndType<[1], [I16]>:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def QlowX86_PermuteBytes2Op : Op<QlowX86_Dialect, "permute_bytes2", [Pure,
    AllTypesMatch<["indices", "lo", "hi", "result"]>]> {
  let summary = "vpermi2b: each byte lane looked up in a table of two "
                "registers of bytes";
  let description = [{
    With `n` byte lanes, `lo` and `hi` together are a table of `2n` bytes
    (`lo` first) and each lane of `indices` picks one of them by its low
    `log2(2n)` bits; the other bits are ignored:

    `result[i] = (idx & n) == 0 ? lo[idx & (n - 1)] : hi[idx & (n - 1)]`,
    with `idx = indices[i] & (2n - 1)`.

    This is AVX-512 VBMI `vpermi2b` (on 16 or 32 lanes also AVX-512 VL): on
    a zmm, one instruction looks up 64 bytes in a 128-byte table, where a
    gather needs one load per lane. A 256-entry table is two of these and a
    select on bit 7 of the index (vpmovb2m + vpblendmb); see
    qlow-x86-int8-matmul's epilogue lookups.

    ```mlir
    %r = qlow_x86.permute_bytes2 %idx, %lo, %hi : vector<64xi8>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I8]>:$indices,
                   VectorOfRankAndType<[1], [I8]>:$lo,
                   VectorOfRankAndType<[1], [I8]>:$hi);
  let results = (outs VectorOfRankAndType<[1], [I8]>:$result);
  let assemblyFormat = [{
    $indices `,` $lo `,` $hi attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def QlowX86_PermuteF32Op : Op<QlowX86_Dialect, "permute_f32", [Pure,
    AllTypesMatch<["table", "result"]>]> {
  let summary = "vpermps: each f32 lane looked up in a table of one register";
  let description = [{
    With `n` lanes, `table` holds `n` f32 values and each lane of `indices`
    picks one of them by its low `log2(n)` bits; the other bits are ignored:

    `result[i] = table[indices[i] & (n - 1)]`.

    This is `vpermps` (AVX-512F on a zmm, AVX2 on a ymm): one instruction
    per vector where a gather needs a load per lane. qlow-x86-int8-softmax
    computes `exp(-s * d)` of an 8-bit `d` as the product of two such
    lookups, `exp(-16 s (d >> 4)) * exp(-s (d & 15))`.

    ```mlir
    %r = qlow_x86.permute_f32 %idx, %table : vector<16xi32>, vector<16xf32>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I32]>:$indices,
                   VectorOfRankAndType<[1], [F32]>:$table);
  let results = (outs VectorOfRankAndType<[1], [F32]>:$result);
  let assemblyFormat = [{
    $indices `,` $table attr-dict `:` type($indices) `,` type($result)
  }];
  let hasVerifier = 1;
}

#endif // QLOW_DIALECT_QLOWX86OPS_TD
