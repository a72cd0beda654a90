// RUN: qlow-opt %s --split-input-file --qlow-x86-attention="cpu=znver4" | FileCheck %s
// RUN: qlow-opt %s --split-input-file --qlow-x86-attention="cpu=znver4" --canonicalize | qlow-opt | FileCheck %s --check-prefix=ROUND
// RUN: qlow-opt %s --split-input-file --qlow-cpu-pipeline="cpu=znver4" | FileCheck %s --check-prefix=LLVM
// AVX2 without VNNI (haswell): the same kernels on ymm, multiplying in i16
// (dot_i16x2, vpmaddwd) on operands widened and centred on their zero
// points: see @int8_gqa_causal (packed) and @int8_decode_grouped (direct).
// No vpdpbusd, and no vpmaddubsw either (dot_u8s8's exact AVX2 lowering
// would take twice the multiplies).
// RUN: qlow-opt %s --split-input-file --qlow-cpu-pipeline="cpu=haswell" | FileCheck %s --check-prefix=HSW --implicit-check-not=vpdpbusd --implicit-check-not=pmadd.ub.sw
// RUN: qlow-opt %s --split-input-file --qlow-x86-attention="cpu=haswell" | FileCheck %s --check-prefix=WIDE
//
// qlow-x86-attention on int8 attention (`int8`, `key_block`): the vpdpbusd
// kernel (lib/Target/X86/Int8Attention.cpp). Its errors are in
// qlow-x86-attention-errors.mlir; its bit-exactness in
// test/e2e/random-int8-attention.test.

// int8 attention (q i8, k and v u8; causal GQA, S = 5, T = 37, D = Dv = 20,
// key_block = 32) on AVX-512 VNNI: q, k, v are read as their stored bytes;
// K is packed once per kv head into vpdpbusd's layout ([1, 2, T padded to 64
// / 16 lanes, D / 4 = 5 groups, 16 keys x 4 bytes]) with its per-key
// zero-point corrections ([1, 2, 64] i32), V into [1, 2, 64 / 4 key groups,
// 2 vectors of 16 columns, 16 x 4 bytes]. The scores are vpdpbusd of four
// query bytes (i8 flipped to u8 by xor 0x80808080) against packed K in a loop
// over D; the softmax uses the exact exponential of the semantics (fma,
// roundeven, no math.exp), P is rounded to u8 in i32 lanes, and P * V is
// vpdpbusd of four probabilities against packed V, converted to f32 per
// key block.
// CHECK-LABEL: func.func @int8_gqa_causal
// CHECK: %[[Q8:.+]] = quant.scast %{{.+}} : tensor<1x4x5x20x!quant.uniform<i8:f32, 5.000000e-02>> to tensor<1x4x5x20xi8>
// CHECK: quant.scast %{{.+}} to tensor<1x2x37x20xi8>
// CHECK-NOT: linalg.fill
// CHECK: %[[KP:.+]]:2 = scf.forall (%{{.+}}) in (2) shared_outs({{.+}}) -> (tensor<1x2x4x5x64xi8>, tensor<1x2x64xi32>)
// Only what the loops do not write is zeroed (not the whole buffers): the
// key chunks from 32 on (the last 5 keys and the padding), and their
// corrections.
// CHECK: %[[KT:.+]] = tensor.extract_slice %{{.+}}[0, 0, 2, 0, 0] [1, 1, 2, 5, 64] [1, 1, 1, 1, 1] : tensor<1x1x4x5x64xi8> to tensor<1x1x2x5x64xi8>
// CHECK: linalg.fill ins(%{{.+}} : i8) outs(%[[KT]] : tensor<1x1x2x5x64xi8>)
// CHECK: %[[CT:.+]] = tensor.extract_slice %{{.+}}[0, 0, 32] [1, 1, 32] [1, 1, 1] : tensor<1x1x64xi32> to tensor<1x1x32xi32>
// CHECK: linalg.fill ins(%{{.+}} : i32) outs(%[[CT]] : tensor<1x1x32xi32>)
// Keys 0..31 in chunks of 16: a key row is 5 words (20 bytes), widened to
// 16 and flipped; 16 rows transposed by shuffles; a column of words is one
// packed vector of 64 bytes; the chunk's 16 column sums are one vpdpbusd
// of bytes 1 per packed vector.
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (tensor<1x1x4x5x64xi8>, tensor<1x1x64xi32>)
// CHECK: vector.bitcast {{.+}} : vector<20xi8> to vector<5xi32>
// CHECK: arith.xori {{.+}} : vector<16xi32>
// CHECK: vector.shuffle {{.+}} : vector<16xi32>, vector<16xi32>
// CHECK: %[[COL:.+]] = vector.bitcast {{.+}} : vector<16xi32> to vector<64xi8>
// CHECK: qlow_x86.dot_u8s8 %{{.+}}, %{{.+}}, %[[COL]] : vector<64xi8> -> vector<16xi32>
// CHECK: vector.transfer_write %[[COL]], {{.+}} : vector<64xi8>, tensor<1x1x4x5x64xi8>
// CHECK-NOT: vector.reduction
// CHECK: vector.transfer_write {{.+}} : vector<16xi32>, tensor<1x1x64xi32>
// The last 5 keys byte by byte.
// CHECK: scf.for
// CHECK: arith.xori {{.+}} : i8
// CHECK: %[[VP:.+]] = scf.forall (%{{.+}}) in (2) shared_outs({{.+}}) -> (tensor<1x2x16x2x64xi8>)
// V: keys 0..35 in groups of 4; per 16 columns, the 4 rows interleaved by
// byte shuffles into one packed vector; key 36 byte by byte; zeros from
// group 9 (key 36) on.
// CHECK: %[[VT:.+]] = tensor.extract_slice %{{.+}}[0, 0, 9, 0, 0] [1, 1, 7, 2, 64] [1, 1, 1, 1, 1]
// CHECK: linalg.fill ins(%{{.+}} : i8) outs(%[[VT]] : tensor<1x1x7x2x64xi8>)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (tensor<1x1x16x2x64xi8>)
// CHECK: vector.shuffle {{.+}} [0, 16, 1, 17, 2, 18, {{.+}}] : vector<16xi8>, vector<16xi8>
// CHECK: vector.shuffle {{.+}} [0, 1, 32, 33, 2, 3, 34, 35, {{.+}}] : vector<32xi8>, vector<32xi8>
// CHECK: vector.transfer_write {{.+}} : vector<64xi8>, tensor<1x1x16x2x64xi8>
// CHECK: tensor.insert {{.+}} : tensor<1x1x16x2x64xi8>
// All 5 rows of a head in one work item (rows: 32 registers / (2 * 2
// value vectors) = 8, at most S).
// CHECK: scf.forall (%{{.+}}) in (4) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<1x4x5x20xf32>)
// CHECK: vector.reduction <add>, {{.+}} : vector<20xi32> into i32
// CHECK: scf.for
// 5 rows x 2 vectors of 16 keys of raw scores through the loop over D.
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// CHECK: vector.transfer_read %[[KP]]#0{{.+}} : tensor<1x2x4x5x64xi8>, vector<64xi8>
// CHECK: vector.transfer_read %[[Q8]]{{.+}} : tensor<1x4x5x20xi8>, vector<4xi8>
// CHECK: arith.xori {{.+}} : vector<16xi32>
// CHECK: qlow_x86.dot_u8s8 {{.+}} : vector<64xi8> -> vector<16xi32>
// CHECK: scf.yield
// CHECK: vector.transfer_read %[[KP]]#1{{.+}} : tensor<1x2x64xi32>, vector<16xi32>
// CHECK: arith.sitofp {{.+}} : vector<16xi32> to vector<16xf32>
// The block maximum: lane-wise over the key vectors, then by halving
// (a compare and select, as the reference's std::max: one vmaxps each).
// CHECK: arith.cmpf olt, {{.+}} : vector<16xf32>
// CHECK: vector.extract_strided_slice {{.+}} {offsets = [8], sizes = [8], strides = [1]} : vector<16xf32> to vector<8xf32>
// CHECK: arith.cmpf olt, {{.+}} : vector<8xf32>
// CHECK-NOT: arith.maximumf
// CHECK-NOT: vector.reduction
// CHECK-NOT: math.exp
// CHECK: math.roundeven {{.+}} : vector<16xf32>
// CHECK: math.fma
// CHECK: arith.fptosi {{.+}} : vector<16xf32> to vector<16xi32>
// CHECK: arith.trunci {{.+}} : vector<16xi32> to vector<16xi8>
// CHECK: vector.transfer_read %[[VP]]{{.+}} : tensor<1x2x16x2x64xi8>, vector<64xi8>
// CHECK: qlow_x86.dot_u8s8 {{.+}} : vector<64xi8> -> vector<16xi32>
// CHECK: arith.sitofp {{.+}} : vector<16xi32> to vector<16xf32>
// CHECK: scf.yield
// The partial last key block (37 - 32 = 5 keys: one vector, two groups of
// four keys for P * V) is under an scf.if (causal).
// CHECK: scf.if
// CHECK: qlow_x86.dot_u8s8 {{.+}} : vector<64xi8> -> vector<16xi32>
// CHECK: vector.transfer_read %[[VP]]{{.+}} : tensor<1x2x16x2x64xi8>, vector<64xi8>
// CHECK: qlow_x86.dot_u8s8 {{.+}} : vector<64xi8> -> vector<16xi32>
// CHECK: arith.divf {{.+}} : vector<16xf32>
// CHECK: vector.extract_strided_slice {{.+}} {offsets = [0], sizes = [4], strides = [1]} : vector<16xf32> to vector<4xf32>
// Through the whole pipeline, both products are vpdpbusd on zmm.
// LLVM-LABEL: llvm.func @int8_gqa_causal
// LLVM: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// HSW-LABEL: llvm.func @int8_gqa_causal
// HSW: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// On AVX2 without VNNI: Q, K and V packed as i16 values minus their zero
// points, pairs of D (of keys for V) in i32 words: Q as [1, 4, 5, 16]
// (20 of D padded to 32, 2 per word), K as [1, 2, 64 / 8 chunks, 16 pairs
// of D, 8 keys] (8 x 8 word tiles transposed), V as [1, 2, 64 / 2 pairs of
// keys, 4 vectors of 8 columns, 8]; the storage's zero point pads (z_k =
// 130 is byte -126). Scores: a loop over the 10 pairs of D, per chunk one
// packed K vector, per row the pair of q broadcast, one dot_i16x2 each;
// no per-key corrections. P * V: per pair of keys the two probabilities
// as i16 halves of a broadcast word against each packed V vector.
// WIDE-LABEL: func.func @int8_gqa_causal
// WIDE-NOT: qlow_x86.dot_u8s8
// WIDE: %[[QE:.+]] = tensor.empty() : tensor<1x4x5x16xi32>
// WIDE: scf.forall (%{{.+}}) in (4) shared_outs(%{{.+}} = %[[QE]])
// WIDE: arith.extsi %{{.+}} : vector<16xi8> to vector<16xi16>
// WIDE: vector.transfer_write {{.+}} : vector<8xi32>, tensor<1x1x5x16xi32>
// WIDE: %[[KE:.+]] = tensor.empty() : tensor<1x2x8x16x8xi32>
// WIDE: scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %[[KE]])
// WIDE: vector.transfer_read {{.+}}, %c-126_i8{{.*}} : tensor<1x2x37x20xi8>, vector<16xi8>
// WIDE: arith.extui %{{.+}} : vector<16xi8> to vector<16xi16>
// WIDE: arith.subi
// WIDE: vector.shuffle
// WIDE: vector.transfer_write {{.+}} : vector<8xi32>, tensor<1x1x8x16x8xi32>
// WIDE: %[[VE:.+]] = tensor.empty() : tensor<1x2x32x4x8xi32>
// WIDE: scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %[[VE]])
// WIDE: vector.transfer_write {{.+}} : vector<8xi32>, tensor<1x1x32x4x8xi32>
// WIDE: scf.forall
// WIDE: scf.for
// WIDE: scf.for %{{.+}} = %{{.+}} to %c10
// WIDE: %[[KV:.+]] = vector.transfer_read {{.+}} : tensor<1x2x8x16x8xi32>, vector<8xi32>
// WIDE: %[[KW:.+]] = vector.bitcast %[[KV]] : vector<8xi32> to vector<16xi16>
// WIDE: %[[QP:.+]] = tensor.extract {{.+}} : tensor<1x4x5x16xi32>
// WIDE: %[[QB:.+]] = vector.broadcast %[[QP]] : i32 to vector<8xi32>
// WIDE: %[[Q:.+]] = vector.bitcast %[[QB]] : vector<8xi32> to vector<16xi16>
// WIDE: qlow_x86.dot_i16x2 %{{.+}}, %[[KW]], %[[Q]] : vector<16xi16> -> vector<8xi32>
// WIDE: math.roundeven
// WIDE-NOT: qlow_x86.dot_u8s8
// WIDE: %[[VV:.+]] = vector.transfer_read {{.+}} : tensor<1x2x32x4x8xi32>, vector<8xi32>
// WIDE: %[[VW:.+]] = vector.bitcast %[[VV]] : vector<8xi32> to vector<16xi16>
// WIDE: qlow_x86.dot_i16x2 %{{.+}}, %[[VW]], %{{.+}} : vector<16xi16> -> vector<8xi32>
// WIDE-NOT: qlow_x86.dot_u8s8
// WIDE: scf.yield
// ROUND-LABEL: func.func @int8_gqa_causal
// ROUND-NOT: qlow.attention
// ROUND: return
func.func @int8_gqa_causal(%q: tensor<1x4x5x20x!quant.uniform<i8:f32, 0.05>>, %k: tensor<1x2x37x20x!quant.uniform<u8:f32, 0.04:130>>, %v: tensor<1x2x37x20x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x4x5x20xf32> {
  %o = qlow.attention %q, %k, %v {causal, int8, key_block = 32 : i64} : (tensor<1x4x5x20x!quant.uniform<i8:f32, 0.05>>, tensor<1x2x37x20x!quant.uniform<u8:f32, 0.04:130>>, tensor<1x2x37x20x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x4x5x20xf32>
  return %o : tensor<1x4x5x20xf32>
}

// -----

// Split heads (q, k, v as a model makes them: a [S, H * D] f32 projection,
// expand_shape to [1, S, H, D], linalg.transpose [0, 2, 1, 3], quantize per
// tensor) and merged heads (the result's only use transposes it back): the
// quantize moves before the expand_shape, so the projection's epilogue
// stores bytes, and the kernel reads the [1, S, H, D] bytes and writes
// [1, S, H, Dv] in place; no transpose is left and no f32 copy of the heads
// is made. (Per-tensor quantize is elementwise: the same integers.)
// CHECK-LABEL: func.func @int8_split_heads
// CHECK-SAME: %[[X:[^:]+]]: tensor<9x32xf32>
// CHECK-NOT: linalg.transpose
// CHECK: %[[QQ:.+]] = qlow.quantize %[[X]] : tensor<9x32xf32> -> tensor<9x32x!quant.uniform<i8:f32, 5.000000e-02>>
// CHECK: %[[QS:.+]] = quant.scast %[[QQ]] : {{.+}} to tensor<9x32xi8>
// CHECK: %[[Q8:.+]] = tensor.expand_shape %[[QS]] {{\[}}[0, 1], [2, 3]] output_shape [1, 9, 2, 16] : tensor<9x32xi8> into tensor<1x9x2x16xi8>
// CHECK: qlow.quantize %{{.+}} : tensor<9x32xf32> -> tensor<9x32x!quant.uniform<u8:f32, 4.000000e-02:130>>
// CHECK: tensor.expand_shape {{.+}} into tensor<1x9x2x16xi8>
// V is [1, S, H, D] already: quantized as it is.
// CHECK: %[[VQ:.+]] = qlow.quantize %{{.+}} : tensor<1x9x2x16xf32> -> tensor<1x9x2x16x!quant.uniform<u8:f32, 2.000000e-02:120>>
// CHECK: quant.scast %[[VQ]] {{.+}} to tensor<1x9x2x16xi8>
// CHECK: scf.forall
// CHECK: vector.transfer_read %{{.+}} : tensor<1x9x2x16xi8>, vector<16xi8>
// Eight rows per work item, then the ninth row (a forall of its own).
// CHECK: scf.forall (%{{.+}}) in (2) shared_outs({{.+}}) -> (tensor<1x9x2x16xf32>)
// CHECK: tensor.extract_slice {{.+}} [1, 8, 1, 16] [1, 1, 1, 1] : tensor<1x9x2x16xf32> to tensor<1x8x1x16xf32>
// CHECK: vector.transfer_read %[[Q8]]{{.+}} : tensor<1x9x2x16xi8>, vector<4xi8>
// CHECK: %[[OUT:.+]] = scf.forall (%{{.+}}) in (2) shared_outs({{.+}}) -> (tensor<1x9x2x16xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: return %[[OUT]] : tensor<1x9x2x16xf32>
// ROUND-LABEL: func.func @int8_split_heads
// ROUND-NOT: linalg.transpose
// ROUND-NOT: qlow.attention
// ROUND: return
func.func @int8_split_heads(%x: tensor<9x32xf32>, %y: tensor<9x32xf32>, %z: tensor<1x9x2x16xf32>) -> tensor<1x9x2x16xf32> {
  %qe = tensor.expand_shape %x [[0, 1], [2, 3]] output_shape [1, 9, 2, 16] : tensor<9x32xf32> into tensor<1x9x2x16xf32>
  %q0 = tensor.empty() : tensor<1x2x9x16xf32>
  %qt = linalg.transpose ins(%qe : tensor<1x9x2x16xf32>) outs(%q0 : tensor<1x2x9x16xf32>) permutation = [0, 2, 1, 3]
  %q = qlow.quantize %qt : tensor<1x2x9x16xf32> -> tensor<1x2x9x16x!quant.uniform<i8:f32, 0.05>>
  %ke = tensor.expand_shape %y [[0, 1], [2, 3]] output_shape [1, 9, 2, 16] : tensor<9x32xf32> into tensor<1x9x2x16xf32>
  %k0 = tensor.empty() : tensor<1x2x9x16xf32>
  %kt = linalg.transpose ins(%ke : tensor<1x9x2x16xf32>) outs(%k0 : tensor<1x2x9x16xf32>) permutation = [0, 2, 1, 3]
  %k = qlow.quantize %kt : tensor<1x2x9x16xf32> -> tensor<1x2x9x16x!quant.uniform<u8:f32, 0.04:130>>
  %v0 = tensor.empty() : tensor<1x2x9x16xf32>
  %vt = linalg.transpose ins(%z : tensor<1x9x2x16xf32>) outs(%v0 : tensor<1x2x9x16xf32>) permutation = [0, 2, 1, 3]
  %v = qlow.quantize %vt : tensor<1x2x9x16xf32> -> tensor<1x2x9x16x!quant.uniform<u8:f32, 0.02:120>>
  %o = qlow.attention %q, %k, %v {int8, key_block = 16 : i64} : (tensor<1x2x9x16x!quant.uniform<i8:f32, 0.05>>, tensor<1x2x9x16x!quant.uniform<u8:f32, 0.04:130>>, tensor<1x2x9x16x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x2x9x16xf32>
  %m0 = tensor.empty() : tensor<1x9x2x16xf32>
  %m = linalg.transpose ins(%o : tensor<1x2x9x16xf32>) outs(%m0 : tensor<1x9x2x16xf32>) permutation = [0, 2, 1, 3]
  return %m : tensor<1x9x2x16xf32>
}

// -----

// Operands that are not quantized split-heads transposes stay as they are:
// a transpose that also feeds something else is kept (its quantize still
// moves; the kernel reads the new bytes), a quantized argument is read
// through its quant.scast, and a result with two uses is written
// [1, H, S, Dv] and transposed by the user's linalg.transpose.
// CHECK-LABEL: func.func @int8_heads_kept
// CHECK: %[[KT:.+]] = linalg.transpose
// CHECK: quant.scast %{{.+}} : tensor<1x2x5x16x!quant.uniform<i8:f32, 5.000000e-02>> to tensor<1x2x5x16xi8>
// CHECK: qlow.quantize %{{.+}} : tensor<1x5x2x16xf32> -> tensor<1x5x2x16x!quant.uniform<u8:f32, 4.000000e-02:130>>
// CHECK: quant.scast %{{.+}} : tensor<1x2x5x16x!quant.uniform<u8:f32, 2.000000e-02:120>> to tensor<1x2x5x16xi8>
// CHECK: %[[OUT:.+]] = scf.forall (%{{.+}}) in (2) shared_outs({{.+}}) -> (tensor<1x2x5x16xf32>)
// CHECK: %[[M:.+]] = linalg.transpose ins(%[[OUT]] : tensor<1x2x5x16xf32>)
// CHECK: return %[[KT]], %[[M]], %[[OUT]]
func.func @int8_heads_kept(%q: tensor<1x2x5x16x!quant.uniform<i8:f32, 0.05>>, %z: tensor<1x5x2x16xf32>, %v: tensor<1x2x5x16x!quant.uniform<u8:f32, 0.02:120>>) -> (tensor<1x2x5x16xf32>, tensor<1x5x2x16xf32>, tensor<1x2x5x16xf32>) {
  %k0 = tensor.empty() : tensor<1x2x5x16xf32>
  %kt = linalg.transpose ins(%z : tensor<1x5x2x16xf32>) outs(%k0 : tensor<1x2x5x16xf32>) permutation = [0, 2, 1, 3]
  %k = qlow.quantize %kt : tensor<1x2x5x16xf32> -> tensor<1x2x5x16x!quant.uniform<u8:f32, 0.04:130>>
  %o = qlow.attention %q, %k, %v {int8, key_block = 16 : i64} : (tensor<1x2x5x16x!quant.uniform<i8:f32, 0.05>>, tensor<1x2x5x16x!quant.uniform<u8:f32, 0.04:130>>, tensor<1x2x5x16x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x2x5x16xf32>
  %m0 = tensor.empty() : tensor<1x5x2x16xf32>
  %m = linalg.transpose ins(%o : tensor<1x2x5x16xf32>) outs(%m0 : tensor<1x5x2x16xf32>) permutation = [0, 2, 1, 3]
  return %kt, %m, %o : tensor<1x2x5x16xf32>, tensor<1x5x2x16xf32>, tensor<1x2x5x16xf32>
}

// -----

// A GQA decode step (H = 4 query heads on Hkv = 2, S = 1, T = 37, causal):
// H / Hkv * S = 2 query rows per kv head, at most 4, so K and V are read in
// place (no packing forall, no packed buffers): one work item per kv head
// takes the rows of both of its query heads ([1, 2, 1, 20] tiles). Scores:
// per key row (u8 storage, flipped; 20 bytes of D read as 64), one vpdpbusd
// of the query row (i8, flipped to u8) and one of z_q, subtracted; the 16
// key rows of a chunk summed lane-wise (within 128-bit blocks first, then
// halving the blocks). P * V: 4 value rows interleaved by byte and word unpacks within
// 16-byte blocks, flipped once per interleaved vector.
// CHECK-LABEL: func.func @int8_decode_grouped
// CHECK: %[[K8:.+]] = quant.scast %{{.+}} to tensor<1x2x37x20xi8>
// CHECK: %[[V8:.+]] = quant.scast %{{.+}} to tensor<1x2x37x20xi8>
// CHECK-NOT: scf.forall
// CHECK: scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<1x4x1x20xf32>)
// CHECK: tensor.extract_slice %{{.+}} [1, 2, 1, 20] [1, 1, 1, 1] : tensor<1x4x1x20xf32> to tensor<1x2x1x20xf32>
// The key block's phases are loops over its keys (as on the AVX2 path
// below): scores stored to scratch tensors (carried by the key loop), then
// probabilities stored as words of 4 u8, then P * V per group of 4 keys.
// CHECK: %[[SCORES:.+]] = tensor.empty() : tensor<2x32xf32>
// CHECK: %[[WORDS:.+]] = tensor.empty() : tensor<2x8xi32>
// CHECK: scf.for {{.+}} iter_args({{.+}}, %{{.+}} = %[[SCORES]], %{{.+}} = %[[WORDS]])
// CHECK: scf.for {{.+}} -> (tensor<2x32xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: %[[KROW:.+]] = vector.transfer_read %[[K8]]{{.+}} : tensor<1x2x37x20xi8>, vector<64xi8>
// CHECK: %[[KS8:.+]] = arith.xori %[[KROW]], %{{.+}} : vector<64xi8>
// CHECK: %[[ZQ:.+]] = qlow_x86.dot_u8s8 %{{.+}}, %{{.+}}, %[[KS8]] : vector<64xi8> -> vector<16xi32>
// CHECK: %[[QK:.+]] = qlow_x86.dot_u8s8 %{{.+}}, %{{.+}}, %[[KS8]] : vector<64xi8> -> vector<16xi32>
// CHECK: arith.subi %[[QK]], %[[ZQ]] : vector<16xi32>
// CHECK: vector.shuffle {{.+}} [0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29] : vector<16xi32>, vector<16xi32>
// CHECK: vector.shuffle {{.+}} [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31] : vector<16xi32>, vector<16xi32>
// CHECK: scf.for {{.+}} -> (tensor<2x8xi32>, vector<16xi32>, vector<16xi32>)
// CHECK: math.roundeven
// CHECK: arith.trunci %{{.+}} : vector<16xi32> to vector<16xi8>
// CHECK: vector.transfer_write %{{.+}} : vector<4xi32>, tensor<2x8xi32>
// CHECK: scf.for %[[G:.+]] = %{{.+}} to %c8{{.*}} step
// CHECK: vector.transfer_read %[[V8]]{{.+}} : tensor<1x2x37x20xi8>, vector<64xi8>
// CHECK: vector.shuffle {{.+}} [0, 64, 1, 65, 2, 66, 3, 67, 4, 68, 5, 69, 6, 70, 7, 71, 16, 80, {{.+}}] : vector<64xi8>, vector<64xi8>
// CHECK: vector.shuffle {{.+}} [0, 32, 1, 33, 2, 34, 3, 35, 8, 40, {{.+}}] : vector<32xi16>, vector<32xi16>
// CHECK: %[[VS8:.+]] = arith.xori {{.+}} : vector<64xi8>
// CHECK: tensor.extract %{{.+}}[%c0{{.*}}, %[[G]]] : tensor<2x8xi32>
// CHECK: qlow_x86.dot_u8s8 %{{.+}}, %{{.+}}, %[[VS8]] : vector<64xi8> -> vector<16xi32>
// CHECK: scf.yield
// CHECK: scf.if
// The permuted columns of P * V back in order, 4 at a time, at the end.
// CHECK: arith.divf
// CHECK: vector.shuffle {{.+}} [0, 1, 2, 3, 16, 17, 18, 19] : vector<16xf32>, vector<16xf32>
// CHECK: vector.transfer_write {{.+}} : vector<16xf32>, tensor<1x2x1x20xf32>
// CHECK: tensor.parallel_insert_slice %{{.+}} [1, 2, 1, 20] [1, 1, 1, 1] : tensor<1x2x1x20xf32> into tensor<1x4x1x20xf32>
// On AVX2 without VNNI (haswell) the direct path works in i16, with no
// dot_u8s8 at all: the query rows are read 16 bytes at a time as
// q - z_q (sign-extended, then minus z_q = 0 here) and reordered per 32 of
// D as the key words come (0-7 and 16-23, 8-15 and 24-31); per key row,
// 32 bytes of K made words by in-lane byte unpacks with zero (u8 storage:
// zero-extended; no cross-lane extui) and dot_i16x2 against them, the
// chunk's 8 key rows summed lane-wise as above, plus the row's constant
// (D z_q z_k - 128 sum(q - z_q) for u8 storage). The key block's phases
// are loops over its keys, not straight-line code: the scores of each
// chunk of 8 keys are stored to the work item's scratch tensors (f32
// [rows, key block], carried through the key blocks); the probabilities
// of each chunk are stored as pairs (two i16 halves of a word); P * V: per
// 32 columns and pair of keys, the two value rows' bytes interleaved (byte
// unpacks), then unpacked with zero into four word vectors, times the
// pair's probabilities (the stored word, broadcast); of the four vectors'
// columns (0-3 and 16-19, 4-7 and 20-23, 8-11 and 24-27, 12-15 and 28-31)
// 0-7, 8-15 and 16-19 are put back in order at the end.
// WIDE-LABEL: func.func @int8_decode_grouped
// WIDE-NOT: qlow_x86.dot_u8s8
// WIDE: scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<1x4x1x20xf32>)
// WIDE: %[[QB:.+]] = vector.transfer_read {{.+}} : tensor<1x4x1x20xi8>, vector<16xi8>
// WIDE: %[[QW:.+]] = arith.extsi %[[QB]] : vector<16xi8> to vector<16xi16>
// WIDE: %[[Q0:.+]] = arith.subi %[[QW]], %{{.+}} : vector<16xi16>
// WIDE: %[[Q1:.+]] = arith.subi %{{.+}}, %{{.+}} : vector<16xi16>
// WIDE: %[[QLO:.+]] = vector.shuffle %[[Q0]], %[[Q1]] [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xi16>, vector<16xi16>
// WIDE: %[[QHI:.+]] = vector.shuffle %[[Q0]], %[[Q1]] [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi16>, vector<16xi16>
// WIDE: %[[SCORES:.+]] = tensor.empty() : tensor<2x32xf32>
// WIDE: %[[WORDS:.+]] = tensor.empty() : tensor<2x16xi32>
// WIDE: scf.for {{.+}} iter_args({{.+}}, %{{.+}} = %[[SCORES]], %{{.+}} = %[[WORDS]]) -> ({{.+}}, tensor<2x32xf32>, tensor<2x16xi32>)
// The scores of the block's 4 chunks.
// WIDE: scf.for %{{.+}} = %{{.+}} to %c4{{.*}} step %{{.+}} iter_args(%[[SC:.+]] = %{{.+}}, %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (tensor<2x32xf32>, vector<8xf32>, vector<8xf32>)
// WIDE-NOT: qlow_x86.dot_u8s8
// WIDE: %[[KB:.+]] = vector.transfer_read %{{.+}} : tensor<1x2x37x20xi8>, vector<32xi8>
// WIDE: %[[KL:.+]] = vector.shuffle %[[KB]], %{{.+}} [0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39, 16, 48, {{.+}}] : vector<32xi8>, vector<32xi8>
// WIDE: %[[KLW:.+]] = vector.bitcast %[[KL]] : vector<32xi8> to vector<16xi16>
// WIDE: %[[KH:.+]] = vector.shuffle %[[KB]], %{{.+}} [8, 40, 9, 41, {{.+}}] : vector<32xi8>, vector<32xi8>
// WIDE: %[[KHW:.+]] = vector.bitcast %[[KH]] : vector<32xi8> to vector<16xi16>
// WIDE: %[[S:.+]] = qlow_x86.dot_i16x2 %{{.+}}, %[[QLO]], %[[KLW]] : vector<16xi16> -> vector<8xi32>
// WIDE: qlow_x86.dot_i16x2 %[[S]], %[[QHI]], %[[KHW]] : vector<16xi16> -> vector<8xi32>
// WIDE-NOT: arith.extui
// WIDE: vector.shuffle {{.+}} [0, 8, 1, 9, 4, 12, 5, 13] : vector<8xi32>, vector<8xi32>
// WIDE: vector.shuffle {{.+}} [4, 5, 6, 7, 12, 13, 14, 15] : vector<8xi32>, vector<8xi32>
// WIDE: %[[S1:.+]] = vector.transfer_write %{{.+}}, %[[SC]][%c0{{.*}}, %{{.+}}] {in_bounds = [true]} : vector<8xf32>, tensor<2x32xf32>
// WIDE: %[[S2:.+]] = vector.transfer_write %{{.+}}, %[[S1]][%c1{{.*}}, %{{.+}}] {in_bounds = [true]} : vector<8xf32>, tensor<2x32xf32>
// WIDE: scf.yield %[[S2]], %{{.+}}, %{{.+}} : tensor<2x32xf32>, vector<8xf32>, vector<8xf32>
// WIDE: math.roundeven
// The probabilities, from the stored scores.
// WIDE: scf.for {{.+}} -> (tensor<2x16xi32>, vector<8xi32>, vector<8xi32>)
// WIDE: vector.transfer_read {{.+}} : tensor<2x32xf32>, vector<8xf32>
// WIDE: math.roundeven
// WIDE: %[[PAIRS:.+]] = vector.bitcast %{{.+}} : vector<8xi16> to vector<4xi32>
// WIDE: vector.transfer_write %[[PAIRS]], %{{.+}} {in_bounds = [true]} : vector<4xi32>, tensor<2x16xi32>
// WIDE-NOT: qlow_x86.dot_u8s8
// P * V over the block's 16 pairs of keys, for the first 32 columns.
// WIDE: %[[PV:.+]]:8 = scf.for %[[G:.+]] = %{{.+}} to %c16{{.*}} step
// WIDE: %[[VA:.+]] = vector.transfer_read {{.+}} : tensor<1x2x37x20xi8>, vector<32xi8>
// WIDE: %[[VB:.+]] = vector.transfer_read {{.+}} : tensor<1x2x37x20xi8>, vector<32xi8>
// WIDE: %[[PAIR:.+]] = tensor.extract %{{.+}}[%c0{{.*}}, %[[G]]] : tensor<2x16xi32>
// WIDE: %[[PB:.+]] = vector.broadcast %[[PAIR]] : i32 to vector<8xi32>
// WIDE: %[[P:.+]] = vector.bitcast %[[PB]] : vector<8xi32> to vector<16xi16>
// WIDE: %[[IL:.+]] = vector.shuffle %[[VA]], %[[VB]] [0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39, 16, 48, {{.+}}] : vector<32xi8>, vector<32xi8>
// WIDE: %[[IH:.+]] = vector.shuffle %[[VA]], %[[VB]] [8, 40, 9, 41, {{.+}}] : vector<32xi8>, vector<32xi8>
// WIDE: %[[W0:.+]] = vector.shuffle %[[IL]], %{{.+}} [0, 32, 1, 33, {{.+}}] : vector<32xi8>, vector<32xi8>
// WIDE: %[[V0:.+]] = vector.bitcast %[[W0]] : vector<32xi8> to vector<16xi16>
// WIDE: qlow_x86.dot_i16x2 %{{.+}}, %[[V0]], %[[P]] : vector<16xi16> -> vector<8xi32>
// WIDE: vector.shuffle %[[IL]], %{{.+}} [8, 40, 9, 41, {{.+}}] : vector<32xi8>, vector<32xi8>
// WIDE: vector.shuffle %[[IH]], %{{.+}} [0, 32, 1, 33, {{.+}}] : vector<32xi8>, vector<32xi8>
// WIDE: vector.shuffle %[[IH]], %{{.+}} [8, 40, 9, 41, {{.+}}] : vector<32xi8>, vector<32xi8>
// WIDE-NOT: arith.extui
// WIDE-NOT: qlow_x86.dot_u8s8
// WIDE: scf.yield
// WIDE: arith.divf
// WIDE: vector.shuffle {{.+}} [0, 1, 2, 3, 8, 9, 10, 11] : vector<8xf32>, vector<8xf32>
// WIDE: vector.transfer_write {{.+}} : vector<8xf32>, tensor<1x2x1x20xf32>
// WIDE: vector.shuffle {{.+}} [0, 1, 2, 3, 8, 9, 10, 11] : vector<8xf32>, vector<8xf32>
// WIDE: vector.transfer_write {{.+}} : vector<8xf32>, tensor<1x2x1x20xf32>
// WIDE: vector.shuffle {{.+}} [4, 5, 6, 7, 12, 13, 14, 15] : vector<8xf32>, vector<8xf32>
// WIDE: tensor.parallel_insert_slice
// LLVM-LABEL: llvm.func @int8_decode_grouped
// LLVM: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// ROUND-LABEL: func.func @int8_decode_grouped
// ROUND-NOT: qlow.attention
// ROUND: return
func.func @int8_decode_grouped(%q: tensor<1x4x1x20x!quant.uniform<i8:f32, 0.05>>, %k: tensor<1x2x37x20x!quant.uniform<u8:f32, 0.04:130>>, %v: tensor<1x2x37x20x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x4x1x20xf32> {
  %o = qlow.attention %q, %k, %v {causal, int8, key_block = 32 : i64} : (tensor<1x4x1x20x!quant.uniform<i8:f32, 0.05>>, tensor<1x2x37x20x!quant.uniform<u8:f32, 0.04:130>>, tensor<1x2x37x20x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x4x1x20xf32>
  return %o : tensor<1x4x1x20xf32>
}

// -----

// Five query rows per kv head (H / Hkv = 1, S = 5) are more than the direct
// path takes: K and V are packed (two packing foralls before the kernel's).
// CHECK-LABEL: func.func @int8_five_rows_packed
// CHECK: scf.forall (%{{.+}}) in (1) shared_outs({{.+}}) -> (tensor<1x1x3x5x64xi8>, tensor<1x1x48xi32>)
// CHECK: scf.forall (%{{.+}}) in (1) shared_outs({{.+}}) -> (tensor<1x1x12x2x64xi8>)
// CHECK: scf.forall (%{{.+}}) in (1) shared_outs({{.+}}) -> (tensor<1x1x5x20xf32>)
func.func @int8_five_rows_packed(%q: tensor<1x1x5x20x!quant.uniform<i8:f32, 0.05>>, %k: tensor<1x1x37x20x!quant.uniform<u8:f32, 0.04:130>>, %v: tensor<1x1x37x20x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x1x5x20xf32> {
  %o = qlow.attention %q, %k, %v {int8, key_block = 48 : i64} : (tensor<1x1x5x20x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x37x20x!quant.uniform<u8:f32, 0.04:130>>, tensor<1x1x37x20x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x1x5x20xf32>
  return %o : tensor<1x1x5x20xf32>
}

// -----

// The merged heads feed only a per-tensor 8-bit quantize (through the
// collapse to [S, H * Dv], as the output projection's input is built): the
// kernel quantizes its output rows in registers (x / 0.03 in f32, clamped
// to [0 - 128, 255 - 128], rounded half to even, plus 128) and stores bytes
// [1, S, H, Dv]; the collapse of those bytes, cast to the quantized type,
// replaces the quantize. No f32 result, transpose or quantize is left.
// CHECK-LABEL: func.func @int8_output_quantized
// CHECK-NOT: qlow.quantize
// CHECK: scf.forall (%{{.+}}) in (2) shared_outs({{.+}}) -> (tensor<1x9x2x16xi8>)
// CHECK: tensor.extract_slice {{.+}} [1, 8, 1, 16] [1, 1, 1, 1] : tensor<1x9x2x16xi8> to tensor<1x8x1x16xi8>
// CHECK: %[[S:.+]] = arith.constant dense<3.000000e-02> : vector<16xf32>
// CHECK-NEXT: %[[DIV:.+]] = arith.divf %{{.+}}, %[[S]] : vector<16xf32>
// CHECK-NEXT: %[[LO:.+]] = arith.constant dense<-1.280000e+02> : vector<16xf32>
// CHECK-NEXT: %[[HI:.+]] = arith.constant dense<1.270000e+02> : vector<16xf32>
// CHECK-NEXT: %[[L:.+]] = arith.cmpf olt, %[[DIV]], %[[LO]] : vector<16xf32>
// CHECK-NEXT: %[[X:.+]] = arith.select %[[L]], %[[LO]], %[[DIV]]
// CHECK-NEXT: %[[H:.+]] = arith.cmpf olt, %[[HI]], %[[X]] : vector<16xf32>
// CHECK-NEXT: %[[Y:.+]] = arith.select %[[H]], %[[HI]], %[[X]]
// CHECK-NEXT: %[[R:.+]] = math.roundeven %[[Y]] : vector<16xf32>
// CHECK-NEXT: %[[I:.+]] = arith.fptosi %[[R]] : vector<16xf32> to vector<16xi32>
// CHECK-NEXT: %[[Z:.+]] = arith.constant dense<128> : vector<16xi32>
// CHECK-NEXT: %[[A:.+]] = arith.addi %[[I]], %[[Z]] : vector<16xi32>
// CHECK-NEXT: %[[NAN:.+]] = arith.cmpf uno, %[[DIV]], %[[DIV]] : vector<16xf32>
// CHECK-NEXT: %[[SEL:.+]] = arith.select %[[NAN]], %[[Z]], %[[A]]
// CHECK-NEXT: %[[B:.+]] = arith.trunci %[[SEL]] : vector<16xi32> to vector<16xi8>
// CHECK: vector.transfer_write %[[B]], {{.+}} : vector<16xi8>, tensor<1x8x1x16xi8>
// CHECK: %[[OUT:.+]] = scf.forall (%{{.+}}) in (2) shared_outs({{.+}}) -> (tensor<1x9x2x16xi8>)
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[OUT]] {{\[}}[0, 1], [2, 3]] : tensor<1x9x2x16xi8> into tensor<9x32xi8>
// CHECK: %[[R:.+]] = quant.scast %[[C]] : tensor<9x32xi8> to tensor<9x32x!quant.uniform<u8:f32, 3.000000e-02:128>>
// CHECK-NOT: qlow.quantize
// CHECK-NOT: linalg.transpose
// CHECK: return %[[R]]
// LLVM-LABEL: llvm.func @int8_output_quantized
// LLVM: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// ROUND-LABEL: func.func @int8_output_quantized
// ROUND-NOT: qlow.quantize
// ROUND: return
func.func @int8_output_quantized(%q: tensor<1x2x9x16x!quant.uniform<i8:f32, 0.05>>, %k: tensor<1x2x9x16x!quant.uniform<u8:f32, 0.04:130>>, %v: tensor<1x2x9x16x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<9x32x!quant.uniform<u8:f32, 0.03:128>> {
  %o = qlow.attention %q, %k, %v {int8, key_block = 16 : i64} : (tensor<1x2x9x16x!quant.uniform<i8:f32, 0.05>>, tensor<1x2x9x16x!quant.uniform<u8:f32, 0.04:130>>, tensor<1x2x9x16x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x2x9x16xf32>
  %m0 = tensor.empty() : tensor<1x9x2x16xf32>
  %m = linalg.transpose ins(%o : tensor<1x2x9x16xf32>) outs(%m0 : tensor<1x9x2x16xf32>) permutation = [0, 2, 1, 3]
  %c = tensor.collapse_shape %m [[0, 1], [2, 3]] : tensor<1x9x2x16xf32> into tensor<9x32xf32>
  %r = qlow.quantize %c : tensor<9x32xf32> -> tensor<9x32x!quant.uniform<u8:f32, 0.03:128>>
  return %r : tensor<9x32x!quant.uniform<u8:f32, 0.03:128>>
}

// -----

// The direct path (a GQA decode step) with the result quantized as it is
// ([B, H, S, Dv], no merge), narrow-range i8 with zero point -3: the clamp
// bounds are -127 + 3 and 127 + 3 before the zero point is added.
// CHECK-LABEL: func.func @int8_decode_output_quantized
// CHECK: %[[OUT:.+]] = scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<1x4x1x20xi8>)
// CHECK: arith.constant dense<2.500000e-02> : vector<16xf32>
// CHECK: arith.constant dense<-1.240000e+02> : vector<16xf32>
// CHECK: arith.constant dense<1.300000e+02> : vector<16xf32>
// CHECK: arith.constant dense<-3> : vector<16xi32>
// CHECK: vector.transfer_write %{{.+}} : vector<16xi8>, tensor<1x2x1x20xi8>
// CHECK: %[[R:.+]] = quant.scast %[[OUT]] : tensor<1x4x1x20xi8> to tensor<1x4x1x20x!quant.uniform<i8<-127:127>:f32, 2.500000e-02:-3>>
// CHECK-NOT: qlow.quantize
// CHECK: return %[[R]]
func.func @int8_decode_output_quantized(%q: tensor<1x4x1x20x!quant.uniform<i8:f32, 0.05>>, %k: tensor<1x2x37x20x!quant.uniform<u8:f32, 0.04:130>>, %v: tensor<1x2x37x20x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x4x1x20x!quant.uniform<i8<-127:127>:f32, 0.025:-3>> {
  %o = qlow.attention %q, %k, %v {causal, int8, key_block = 32 : i64} : (tensor<1x4x1x20x!quant.uniform<i8:f32, 0.05>>, tensor<1x2x37x20x!quant.uniform<u8:f32, 0.04:130>>, tensor<1x2x37x20x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x4x1x20xf32>
  %r = qlow.quantize %o : tensor<1x4x1x20xf32> -> tensor<1x4x1x20x!quant.uniform<i8<-127:127>:f32, 0.025:-3>>
  return %r : tensor<1x4x1x20x!quant.uniform<i8<-127:127>:f32, 0.025:-3>>
}

// -----

// The merged and collapsed heads also have another user (returned as f32):
// the quantize is not fused. The kernel writes f32 [1, S, H, Dv] (the merge
// transpose still goes), and the quantize of the collapse stays.
// CHECK-LABEL: func.func @int8_output_quantize_not_only_use
// CHECK: scf.forall (%{{.+}}) in (2) shared_outs({{.+}}) -> (tensor<1x9x2x16xf32>)
// CHECK: %[[OUT:.+]] = scf.forall (%{{.+}}) in (2) shared_outs({{.+}}) -> (tensor<1x9x2x16xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[OUT]] {{\[}}[0, 1], [2, 3]] : tensor<1x9x2x16xf32> into tensor<9x32xf32>
// CHECK: %[[R:.+]] = qlow.quantize %[[C]] : tensor<9x32xf32> -> tensor<9x32x!quant.uniform<u8:f32, 3.000000e-02:128>>
// CHECK: return %[[R]], %[[C]]
func.func @int8_output_quantize_not_only_use(%q: tensor<1x2x9x16x!quant.uniform<i8:f32, 0.05>>, %k: tensor<1x2x9x16x!quant.uniform<u8:f32, 0.04:130>>, %v: tensor<1x2x9x16x!quant.uniform<u8:f32, 0.02:120>>) -> (tensor<9x32x!quant.uniform<u8:f32, 0.03:128>>, tensor<9x32xf32>) {
  %o = qlow.attention %q, %k, %v {int8, key_block = 16 : i64} : (tensor<1x2x9x16x!quant.uniform<i8:f32, 0.05>>, tensor<1x2x9x16x!quant.uniform<u8:f32, 0.04:130>>, tensor<1x2x9x16x!quant.uniform<u8:f32, 0.02:120>>) -> tensor<1x2x9x16xf32>
  %m0 = tensor.empty() : tensor<1x9x2x16xf32>
  %m = linalg.transpose ins(%o : tensor<1x2x9x16xf32>) outs(%m0 : tensor<1x9x2x16xf32>) permutation = [0, 2, 1, 3]
  %c = tensor.collapse_shape %m [[0, 1], [2, 3]] : tensor<1x9x2x16xf32> into tensor<9x32xf32>
  %r = qlow.quantize %c : tensor<9x32xf32> -> tensor<9x32x!quant.uniform<u8:f32, 0.03:128>>
  return %r, %c : tensor<9x32x!quant.uniform<u8:f32, 0.03:128>>, tensor<9x32xf32>
}
