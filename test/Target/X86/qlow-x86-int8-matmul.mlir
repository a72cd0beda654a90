// RUN: qlow-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-x86-int8-matmul{cpu=znver4}))' \
// RUN:   | FileCheck %s --check-prefix=ZMM
// RUN: qlow-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-x86-int8-matmul{cpu=alderlake}))' \
// RUN:   | FileCheck %s --check-prefix=YMM
// RUN: qlow-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-x86-int8-matmul{cpu=haswell}))' \
// RUN:   | FileCheck %s --check-prefix=AVX2

// M = 24, N = 40: the cost model picks the 8 x 3 tile of zmm (nr = 48
// columns, one panel): 3 row tiles, against 4 tiles of 12 x 2 or 6 x 4. N pads
// to 48, K = 10 to 12 (3 steps of 4), M stays 24.
// ZMM-LABEL: func.func @s8_activations
// ZMM: arith.constant dense<{{.*}}> : tensor<1x3x192xi8>
// ZMM: %[[PAD:.+]] = tensor.pad %{{.+}} low[0, 0] high[0, 2]
// ZMM: scf.forall
// ZMM: scf.for {{.*}} step %c8
// ZMM: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>,
// ZMM: vector.transfer_read %[[PAD]]{{.*}} : tensor<24x12xi8>, vector<4xi8>
// Signed activations flip the sign bit to become u8 ...
// ZMM: arith.xori
// ZMM-COUNT-2: qlow_x86.dot_u8s8 {{.*}} : vector<64xi8> -> vector<16xi32>
// ZMM: tensor.extract_slice %{{.+}}[0, 0] [24, 40] [1, 1] : tensor<24x48xi32> to tensor<24x40xi32>
// YMM-LABEL: func.func @s8_activations
// YMM: qlow_x86.dot_u8s8 {{.*}} : vector<32xi8> -> vector<8xi32>
// AVX2 (no VNNI): no pair of weights can make vpmaddubsw saturate (|3| + |3|
// <= 128), so the bytes are packed as for VNNI (K = 10 to 3 steps of 4), the
// activations flip their sign bit and the accumulators start at -128 *
// colsum(w) = -3840; each step is the vpmaddubsw form on ymm.
// AVX2-LABEL: func.func @s8_activations
// AVX2-DAG: arith.constant dense<"0x{{.*}}"> : tensor<1x3x160xi8>
// AVX2-DAG: arith.constant dense<-3840> : tensor<40xi32>
// AVX2: arith.xori
// AVX2: qlow_x86.dot_u8s8_pairs {{.*}} : vector<32xi8> -> vector<8xi32>
// AVX2-NOT: qlow_x86.dot_i16x2
func.func @s8_activations(%a: tensor<24x10x!quant.uniform<i8:f32, 0.5>>, %w: tensor<10x40xi8>) -> tensor<24x40xi32> {
  %wc = arith.constant dense<3> : tensor<10x40xi8>
  %wq = quant.scast %wc : tensor<10x40xi8> to tensor<10x40x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<24x10x!quant.uniform<i8:f32, 0.5>>, tensor<10x40x!quant.uniform<i8:f32, 0.25>>) -> tensor<24x40xi32>
  return %y : tensor<24x40xi32>
}

// -----

// ... and start from -128 * colsum(w): with every weight 3 and K = 8 that is
// -3072 in each column. u8 activations need neither.
// ZMM-LABEL: func.func @decode_row
// ZMM-DAG: arith.constant dense<-3072> : tensor<64xi32>
// ZMM: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// ZMM-COUNT-4: qlow_x86.dot_u8s8
// ZMM-LABEL: func.func @u8_activations
// ZMM-NOT: arith.xori
// ZMM: qlow_x86.dot_u8s8
func.func @decode_row(%a: tensor<1x8x!quant.uniform<i8:f32, 0.5>>) -> tensor<1x64xi32> {
  %wc = arith.constant dense<3> : tensor<8x64xi8>
  %wq = quant.scast %wc : tensor<8x64xi8> to tensor<8x64x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<1x8x!quant.uniform<i8:f32, 0.5>>, tensor<8x64x!quant.uniform<i8:f32, 0.25>>) -> tensor<1x64xi32>
  return %y : tensor<1x64xi32>
}

func.func @u8_activations(%a: tensor<1x8x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<1x16xi32> {
  %wc = arith.constant dense<3> : tensor<8x16xi8>
  %wq = quant.scast %wc : tensor<8x16xi8> to tensor<8x16x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<1x8x!quant.uniform<u8:f32, 0.5:128>>, tensor<8x16x!quant.uniform<i8:f32, 0.25>>) -> tensor<1x16xi32>
  return %y : tensor<1x16xi32>
}

// -----

// AVX2 picks the form per matmul from its constant weights: vpmaddubsw sums a
// pair of u8 x s8 products into a saturating i16, exact when |w[2k][n]| +
// |w[2k+1][n]| <= 128 for every pair (255 * 128 <= 32767). 7-bit weights in
// [-64, 63] always pass.
// AVX2-LABEL: func.func @seven_bit_weights
// AVX2: arith.constant dense<{{.*}}> : tensor<1x1x32xi8>
// AVX2-NOT: arith.xori
// AVX2: qlow_x86.dot_u8s8_pairs {{.*}} : vector<32xi8> -> vector<8xi32>
// AVX2-NOT: qlow_x86.dot_i16x2
func.func @seven_bit_weights(%a: tensor<2x4x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<2x8xi32> {
  %wc = arith.constant dense<[[-64, 63, -64, 63, 0, 1, -1, 5], [-64, -64, 63, 63, 0, -1, 1, -5], [63, -64, 2, 0, -64, 7, 9, 11], [-64, 63, -30, 40, 63, -64, 13, 17]]> : tensor<4x8xi8>
  %wq = quant.scast %wc : tensor<4x8xi8> to tensor<4x8x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<2x4x!quant.uniform<u8:f32, 0.5:128>>, tensor<4x8x!quant.uniform<i8:f32, 0.25>>) -> tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// The vpmaddubsw form also holds the i16 ones and the product (and here the
// sign flip) in registers, so AVX2's 6 x 2 tile is cut to 5 rows to fit 16
// ymm registers without spilling.
// AVX2-LABEL: func.func @byte_pairs_tile
// AVX2: scf.for {{.*}} step %c5
// AVX2: scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>)
// AVX2-COUNT-10: qlow_x86.dot_u8s8_pairs
func.func @byte_pairs_tile(%a: tensor<20x8x!quant.uniform<i8:f32, 0.5>>) -> tensor<20x80xi32> {
  %wc = arith.constant dense<-64> : tensor<8x80xi8>
  %wq = quant.scast %wc : tensor<8x80xi8> to tensor<8x80x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<20x8x!quant.uniform<i8:f32, 0.5>>, tensor<8x80x!quant.uniform<i8:f32, 0.25>>) -> tensor<20x80xi32>
  return %y : tensor<20x80xi32>
}

// A pair summing to exactly 128 in magnitude (127 + 1), and the K tail (K =
// 3: -128 paired with the zero padding), still cannot saturate.
// AVX2-LABEL: func.func @pair_sum_128
// AVX2: qlow_x86.dot_u8s8_pairs
// AVX2-NOT: qlow_x86.dot_i16x2
func.func @pair_sum_128(%a: tensor<2x3x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<2x8xi32> {
  %wc = arith.constant dense<[[127, 127, 127, 127, 127, 127, 127, 127], [1, 1, 1, 1, 1, 1, 1, 1], [-128, -128, -128, -128, -128, -128, -128, -128]]> : tensor<3x8xi8>
  %wq = quant.scast %wc : tensor<3x8xi8> to tensor<3x8x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<2x3x!quant.uniform<u8:f32, 0.5:128>>, tensor<3x8x!quant.uniform<i8:f32, 0.25>>) -> tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// Pairs are K rows (2k, 2k + 1) as the packing lays them out: rows 1 and 2
// (127 + 127) are never added in one i16.
// AVX2-LABEL: func.func @pairing_follows_packing
// AVX2: qlow_x86.dot_u8s8_pairs
// AVX2-NOT: qlow_x86.dot_i16x2
func.func @pairing_follows_packing(%a: tensor<2x4x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<2x8xi32> {
  %wc = arith.constant dense<[[0, 0, 0, 0, 0, 0, 0, 0], [127, 127, 127, 127, 127, 127, 127, 127], [127, 127, 127, 127, 127, 127, 127, 127], [0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<4x8xi8>
  %wq = quant.scast %wc : tensor<4x8xi8> to tensor<4x8x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<2x4x!quant.uniform<u8:f32, 0.5:128>>, tensor<4x8x!quant.uniform<i8:f32, 0.25>>) -> tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// One pair of one column at 129 (127 + 2) could saturate: the whole matmul
// keeps the exact wide form, weights as i16 pairs (K = 2: 1 step of 2) and
// activations widened by their signedness before the kernel (one generic over
// [M, K]), with no sign flip; the K loop reads their i16 pairs.
// AVX2-LABEL: func.func @pair_sum_129
// AVX2: arith.constant dense<{{.*}}> : tensor<1x1x16xi16>
// AVX2: %[[WIDE:.+]] = linalg.generic
// AVX2: arith.extsi %{{.+}} : i8 to i16
// AVX2-NOT: arith.xori
// AVX2: vector.transfer_read %[[WIDE]][%{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<2x2xi16>, vector<2xi16>
// AVX2: qlow_x86.dot_i16x2 {{.*}} : vector<16xi16> -> vector<8xi32>
// AVX2-NOT: qlow_x86.dot_u8s8_pairs
func.func @pair_sum_129(%a: tensor<2x2x!quant.uniform<i8:f32, 0.5>>) -> tensor<2x8xi32> {
  %wc = arith.constant dense<[[0, 0, 0, 0, 0, 127, 0, 0], [1, 1, 1, 1, 1, 2, 1, 1]]> : tensor<2x8xi8>
  %wq = quant.scast %wc : tensor<2x8xi8> to tensor<2x8x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<2x2x!quant.uniform<i8:f32, 0.5>>, tensor<2x8x!quant.uniform<i8:f32, 0.25>>) -> tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// Full-range weights (100 + 100) take the wide form too.
// AVX2-LABEL: func.func @full_range_weights
// AVX2: qlow_x86.dot_i16x2
// AVX2-NOT: qlow_x86.dot_u8s8_pairs
func.func @full_range_weights(%a: tensor<2x8x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<2x16xi32> {
  %wc = arith.constant dense<100> : tensor<8x16xi8>
  %wq = quant.scast %wc : tensor<8x16xi8> to tensor<8x16x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<2x8x!quant.uniform<u8:f32, 0.5:128>>, tensor<8x16x!quant.uniform<i8:f32, 0.25>>) -> tensor<2x16xi32>
  return %y : tensor<2x16xi32>
}

// -----

// Weights known only at run time are not packed here: the contraction stays.
// ZMM-LABEL: func.func @runtime_weights
// ZMM-NOT: qlow_x86.dot_u8s8
// ZMM: linalg.generic {{.*}}"reduction"
// AVX2-LABEL: func.func @runtime_weights
// AVX2-NOT: qlow_x86
// AVX2: linalg.generic {{.*}}"reduction"
func.func @runtime_weights(%a: tensor<4x8x!quant.uniform<u8:f32, 0.5:128>>, %w: tensor<8x16x!quant.uniform<i8:f32, 0.25>>) -> tensor<4x16xi32> {
  %y = qlow.matmul %a, %w : (tensor<4x8x!quant.uniform<u8:f32, 0.5:128>>, tensor<8x16x!quant.uniform<i8:f32, 0.25>>) -> tensor<4x16xi32>
  return %y : tensor<4x16xi32>
}

// -----

// The epilogue that follows the contraction (zero-point correction, bias,
// fixed-point requantization) is computed on the accumulators in registers
// and the kernel stores i8: no i32 tensor and no second linalg.generic. The
// bias is read per column with a masked read (the last panel runs past N).
// ZMM-LABEL: func.func @fused_requantize
// ZMM-NOT: linalg.generic
// ZMM: scf.forall {{.*}} -> (tensor<12x16xi8>)
// ZMM: qlow_x86.dot_u8s8
// ZMM: vector.transfer_read %arg1[%{{.+}}], %{{.+}} : tensor<5xi32>, vector<16xi32>
// ZMM: arith.shrsi {{.*}} : vector<16xi64>
// ZMM: arith.trunci {{.*}} : vector<16xi64> to vector<16xi8>
// ZMM: vector.transfer_write {{.*}} : vector<16xi8>, tensor<12x16xi8>
// ZMM-NOT: linalg.generic
// ZMM: return
func.func @fused_requantize(%a: tensor<12x8x!quant.uniform<u8:f32, 0.5:128>>, %b: tensor<5xi32>) -> tensor<12x5x!quant.uniform<i8:f32, 0.7:-3>> {
  %wc = arith.constant dense<3> : tensor<8x5xi8>
  %wq = quant.scast %wc : tensor<8x5xi8> to tensor<8x5x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq, %b : (tensor<12x8x!quant.uniform<u8:f32, 0.5:128>>, tensor<8x5x!quant.uniform<i8:f32, 0.25>>, tensor<5xi32>) -> tensor<12x5x!quant.uniform<i8:f32, 0.7:-3>>
  return %y : tensor<12x5x!quant.uniform<i8:f32, 0.7:-3>>
}

// -----

// M = 16, K = 2048, N = 256: a 2 x 8 tile's weight panel (2048 x 128 bytes)
// would not fit L1 and every one of its 8 row tiles would stream it from L2
// (512 bytes per step of K for 16 dot products), so the cost model takes the
// 8 x 3 tile (192 bytes per step for 24): 6 panels of 48 columns, 512 steps.
// ZMM-LABEL: func.func @panel_beyond_l1
// ZMM-NOT: tensor.pad
// ZMM: arith.constant dense<"0x0303{{[0-9A-F]+}}"> : tensor<6x512x192xi8>
func.func @panel_beyond_l1(%a: tensor<16x2048x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<16x256xi32> {
  %w = arith.constant dense<3> : tensor<2048x256xi8>
  %wq = quant.scast %w : tensor<2048x256xi8> to tensor<2048x256x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<16x2048x!quant.uniform<u8:f32, 0.02:128>>, tensor<2048x256x!quant.uniform<i8:f32, 0.01>>) -> tensor<16x256xi32>
  return %y : tensor<16x256xi32>
}

// -----

// The same with K = 4096: the 8 rows of a tile, 4096 bytes apart, would all
// fall in one set of L1 (sets repeat every 4 KB), where the weights stream
// through too. The activations are copied with a stride one cache line
// longer (4160 bytes: each row in a set of its own); the K loop still reads
// K = 4096 bytes of each row. (K = 2048 above: 4 rows per set, no copy.)
// The ymm and AVX2 tiles have at most 4 rows: no copy.
// ZMM-LABEL: func.func @rows_in_one_set
// ZMM: arith.constant dense<"0x0303{{[0-9A-F]+}}"> : tensor<6x1024x192xi8>
// ZMM: tensor.pad %{{.+}} low[0, 0] high[0, 64]
// ZMM: tensor<16x4096xi8> to tensor<16x4160xi8>
// YMM-LABEL: func.func @rows_in_one_set
// YMM-NOT: tensor.pad
// YMM: return
// AVX2-LABEL: func.func @rows_in_one_set
// AVX2-NOT: tensor.pad
// AVX2: return
func.func @rows_in_one_set(%a: tensor<16x4096x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<16x256xi32> {
  %w = arith.constant dense<3> : tensor<4096x256xi8>
  %wq = quant.scast %w : tensor<4096x256xi8> to tensor<4096x256x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<16x4096x!quant.uniform<u8:f32, 0.02:128>>, tensor<4096x256x!quant.uniform<i8:f32, 0.01>>) -> tensor<16x256xi32>
  return %y : tensor<16x256xi32>
}

// -----

// Activations beyond half of L2 (1001 x 1024 bytes > 512 KiB) while a weight
// panel fits L1 (1024 x 32 bytes; the cost model takes the 2-row tile here):
// the rows are cut into the fewest equal cache blocks that fit, 2 blocks of
// 502 rows (501 rounded up to the tile's 2), and the scf.forall runs over
// blocks x panels. Each iteration takes its block's rows of the panel,
// [row0, min(row0 + 502, 1001)), as a dynamic slice; the full row tiles stop
// at 1000, and the partial tile of 1 row starts at max(row0, 1000), so that
// its loop is empty in the first block.
// ZMM-LABEL: func.func @row_blocks
// ZMM-DAG: %[[C502:.+]] = arith.constant 502 : index
// ZMM-DAG: %[[C1000:.+]] = arith.constant 1000 : index
// ZMM: scf.forall (%[[RB:.+]], %[[P:.+]]) in (2, 1)
// ZMM: %[[ROW0:.+]] = arith.muli %[[RB]], %[[C502]]
// ZMM: %[[END:.+]] = arith.minsi %{{.+}}, %c1001
// ZMM: tensor.extract_slice %{{.+}}[%[[ROW0]], %{{.+}}] [%{{.+}}, 32] [1, 1] : tensor<1001x32xi32> to tensor<?x32xi32>
// ZMM: %[[MAINEND:.+]] = arith.minsi %[[END]], %[[C1000]]
// ZMM: scf.for %{{.+}} = %[[ROW0]] to %[[MAINEND]] step %c2
// ZMM: %[[REST:.+]] = arith.maxsi %[[ROW0]], %c1000
// ZMM: scf.for %{{.+}} = %[[REST]] to %[[END]] step %c1
// ZMM: tensor.parallel_insert_slice {{.*}} : tensor<?x32xi32> into tensor<1001x32xi32>
// A narrower activation (400 x 1024 bytes) keeps one block and a 1-D forall.
// ZMM-LABEL: func.func @one_row_block
// ZMM: scf.forall (%{{[^,]+}}) in (1)
func.func @row_blocks(%a: tensor<1001x1024x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<1001x32xi32> {
  %wc = arith.constant dense<3> : tensor<1024x32xi8>
  %wq = quant.scast %wc : tensor<1024x32xi8> to tensor<1024x32x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<1001x1024x!quant.uniform<u8:f32, 0.5:128>>, tensor<1024x32x!quant.uniform<i8:f32, 0.25>>) -> tensor<1001x32xi32>
  return %y : tensor<1001x32xi32>
}

func.func @one_row_block(%a: tensor<400x1024x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<400x32xi32> {
  %wc = arith.constant dense<3> : tensor<1024x32xi8>
  %wq = quant.scast %wc : tensor<1024x32xi8> to tensor<1024x32x!quant.uniform<i8:f32, 0.25>>
  %y = qlow.matmul %a, %wq : (tensor<400x1024x!quant.uniform<u8:f32, 0.5:128>>, tensor<1024x32x!quant.uniform<i8:f32, 0.25>>) -> tensor<400x32xi32>
  return %y : tensor<400x32xi32>
}

// -----

// A product of two activations, batched (attention's Q * K^T, heads 2 x 3):
// the weights are known only at run time, so the kernel packs them when it
// runs (pad K = 10 to 12 and N = 20 to 32, then the [B][panel][K/4][nr * 4]
// layout by a transpose), and one scf.forall runs over batches x panels. The
// activations are u8 (convert-qlow-to-linalg flips the sign bits of s8 ones
// and of u8 weights), so the accumulators start at zero; the kernel computes
// the requantizing epilogue of each batch too.
// ZMM-LABEL: func.func @activation_product
// ZMM: tensor.collapse_shape %{{.+}} {{\[\[}}0, 1], [2], [3]] : tensor<2x3x10x20xi8> into tensor<6x10x20xi8>
// ZMM: tensor.pad %{{.+}} low[0, 0, 0] high[0, 2, 12]
// ZMM: tensor.expand_shape {{.+}} into tensor<6x3x4x1x32xi8>
// ZMM: linalg.transpose ins(%{{.+}} : tensor<6x3x4x1x32xi8>) outs(%{{.+}} : tensor<6x1x3x32x4xi8>) permutation = [0, 3, 1, 4, 2]
// ZMM: tensor.collapse_shape {{.+}} into tensor<6x1x3x128xi8>
// ZMM: tensor.collapse_shape %{{.+}} {{\[\[}}0, 1], [2], [3]] : tensor<2x3x7x10xi8> into tensor<6x7x10xi8>
// ZMM: tensor.pad %{{.+}} low[0, 0, 0] high[0, 0, 2]
// ZMM: scf.forall (%[[B:.+]], %[[P:.+]]) in (6, 1)
// ZMM: tensor.extract_slice %{{.+}}[%[[B]], %{{.+}}, %{{.+}}] [1, 7, 32] [1, 1, 1] : tensor<6x7x32xf32> to tensor<7x32xf32>
// ZMM-COUNT-2: qlow_x86.dot_u8s8 {{.*}} : vector<64xi8> -> vector<16xi32>
// The f32 result's epilogue (the zero points' corrections and the scale) is
// computed on the accumulators in registers: the batch index, delinearized
// into the heads' [2, 3], reads the key column sums and the query row sums.
// ZMM: %[[B1:.+]] = arith.remui %[[B]], %{{.+}} : index
// ZMM: %[[B0:.+]] = arith.divui %[[B]], %{{.+}} : index
// ZMM: vector.transfer_read %{{.+}}[%[[B0]], %[[B1]], %{{.+}}], %{{.+}} : tensor<2x3x20xi32>, vector<16xi32>
// ZMM: tensor.extract %{{.+}}[%[[B0]], %[[B1]], %{{.+}}] : tensor<2x3x7xi32>
// ZMM: arith.sitofp {{.+}} : vector<16xi32> to vector<16xf32>
// ZMM: vector.transfer_write {{.+}} : vector<16xf32>, tensor<7x32xf32>
// ZMM: tensor.extract_slice %{{.+}}[0, 0, 0] [6, 7, 20] [1, 1, 1] : tensor<6x7x32xf32> to tensor<6x7x20xf32>
// ZMM: tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2], [3]] output_shape [2, 3, 7, 20] : tensor<6x7x20xf32> into tensor<2x3x7x20xf32>
// ZMM-NOT: linalg.generic
// ZMM: return
// YMM-LABEL: func.func @activation_product
// YMM: linalg.transpose
// YMM: qlow_x86.dot_u8s8 {{.*}} : vector<32xi8> -> vector<8xi32>
// Without VNNI, run-time weights cannot be checked for vpmaddubsw's
// saturation: the kernel packs them widened to i16 (one generic moves and
// sign-extends them, 2 elements of K per i32 lane) and uses the wide form,
// vpmaddwd (qlow_x86.dot_i16x2), on activations widened as it reads them.
// AVX2-LABEL: func.func @activation_product
// AVX2: linalg.generic {{.+}} ins(%{{.+}} : tensor<6x5x2x1x24xi8>) outs(%{{.+}} : tensor<6x1x5x24x2xi16>)
// AVX2: arith.extsi %{{.+}} : i8 to i16
// AVX2: tensor.collapse_shape {{.+}} into tensor<6x1x5x48xi16>
// AVX2: scf.forall (%{{.+}}, %{{.+}}) in (6, 1)
// AVX2: qlow_x86.dot_i16x2 {{.*}} : vector<16xi16> -> vector<8xi32>
// AVX2-NOT: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// AVX2: return
func.func @activation_product(%q: tensor<2x3x7x10x!quant.uniform<u8:f32, 0.05:130>>, %k: tensor<2x3x10x20x!quant.uniform<u8:f32, 0.04:120>>) -> tensor<2x3x7x20xf32> {
  %y = qlow.matmul %q, %k : (tensor<2x3x7x10x!quant.uniform<u8:f32, 0.05:130>>, tensor<2x3x10x20x!quant.uniform<u8:f32, 0.04:120>>) -> tensor<2x3x7x20xf32>
  return %y : tensor<2x3x7x20xf32>
}

// -----

// Run-time weights without padding (K = 8, N = 32: one panel of two zmm
// vectors): the packing is one scf.forall over batches x panels (6 x 1),
// and per step of 4 rows of K (2 steps) and 16 columns (2 per panel) four
// 16-byte row reads interleaved into one 64-byte vector (byte 4 j + r = row
// r, column j) and one write; no transpose.
// ZMM-LABEL: func.func @activation_product_unpadded
// ZMM-NOT: linalg.transpose
// ZMM: scf.forall (%[[I:.+]]) in (6) shared_outs(%[[P:.+]] = %{{.+}}) -> (tensor<6x1x2x128xi8>)
// ZMM: scf.for %[[S:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<1x1x2x128xi8>)
// ZMM-COUNT-4: vector.transfer_read %{{.+}} : tensor<6x8x32xi8>, vector<16xi8>
// ZMM: vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
// ZMM: vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
// ZMM: vector.shuffle %{{.+}}, %{{.+}} [0, 16, 32, 48, 1, 17, 33, 49, 2, 18, 34, 50, {{.+}}, 15, 31, 47, 63] : vector<32xi8>, vector<32xi8>
// ZMM: vector.transfer_write %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}, %[[S]], %{{.+}}] {in_bounds = [true]} : vector<64xi8>, tensor<1x1x2x128xi8>
// ZMM-COUNT-4: vector.transfer_read %{{.+}} : tensor<6x8x32xi8>, vector<16xi8>
// ZMM: tensor.parallel_insert_slice %{{.+}} into %[[P]][%{{.+}}, %{{.+}}, 0, 0] [1, 1, 2, 128] [1, 1, 1, 1]
// ZMM: qlow_x86.dot_u8s8
func.func @activation_product_unpadded(%q: tensor<2x3x7x8x!quant.uniform<u8:f32, 0.05:130>>, %k: tensor<2x3x8x32x!quant.uniform<u8:f32, 0.04:120>>) -> tensor<2x3x7x32xf32> {
  %y = qlow.matmul %q, %k : (tensor<2x3x7x8x!quant.uniform<u8:f32, 0.05:130>>, tensor<2x3x8x32x!quant.uniform<u8:f32, 0.04:120>>) -> tensor<2x3x7x32xf32>
  return %y : tensor<2x3x7x32xf32>
}

// -----

// ONNX QDQ attention scores: K^T is the split-heads transpose [0, 2, 3, 1]
// of the key projection's bytes [1, S = 32, H = 2, D = 64]. The kernel packs
// the flipped words from the key rows (16 rows of 64 bytes, xor 0x80, a
// 16 x 16 word transpose in four shuffle stages per block) and the
// zero-point column sums read the key rows through the permutation, so the
// transposed copy is left without users (the cleanups erase it).
// The column sums are computed before the kernel, whose epilogue (the
// u8 requantization of the scores) reads them.
// ZMM-LABEL: func.func @transposed_keys
// ZMM: linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg1 : tensor<1x32x2x64xi8>)
// ZMM: arith.xori
// ZMM: scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<2x1x16x128xi8>)
// ZMM-COUNT-16: vector.transfer_read %arg1{{.+}} : tensor<1x32x2x64xi8>, vector<64xi8>
// ZMM-COUNT-64: vector.shuffle {{.+}} : vector<16xi32>, vector<16xi32>
// ZMM-COUNT-16: vector.transfer_write {{.+}} : vector<64xi8>, tensor<1x1x16x128xi8>
// ZMM: qlow_x86.dot_u8s8
// ZMM: vector.transfer_write {{.+}} : vector<16xi8>, tensor<32x32xi8>
func.func @transposed_keys(%q: tensor<1x2x32x64x!quant.uniform<u8:f32, 0.04:133>>, %x: tensor<1x32x2x64x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<1x2x32x32x!quant.uniform<u8:f32, 0.3:133>> {
  %i = tensor.empty() : tensor<1x2x64x32x!quant.uniform<u8:f32, 0.038:132>>
  %k = linalg.transpose ins(%x : tensor<1x32x2x64x!quant.uniform<u8:f32, 0.038:132>>) outs(%i : tensor<1x2x64x32x!quant.uniform<u8:f32, 0.038:132>>) permutation = [0, 2, 3, 1]
  %s = qlow.matmul %q, %k {rounding = #qlow.rounding<float>} : (tensor<1x2x32x64x!quant.uniform<u8:f32, 0.04:133>>, tensor<1x2x64x32x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<1x2x32x32x!quant.uniform<u8:f32, 0.3:133>>
  return %s : tensor<1x2x32x32x!quant.uniform<u8:f32, 0.3:133>>
}
