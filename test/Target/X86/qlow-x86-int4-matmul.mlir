// RUN: qlow-opt %s --qlow-x86-int4-matmul="cpu=znver4" --split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-x86-int4-matmul="cpu=alderlake" --split-input-file | FileCheck %s --check-prefix=YMM
// RUN: qlow-opt %s --qlow-x86-int4-matmul="cpu=haswell" --split-input-file | FileCheck %s --check-prefix=AVX2
// RUN: qlow-opt %s --qlow-x86-int4-matmul="cpu=znver4 report=true" --split-input-file -verify-diagnostics -o /dev/null

// i4 weights in groups of 8 along K (so 2 groups), activations quantized per
// row at run time. On AVX-512 VNNI: 32 columns pad to one panel of 2 zmm
// column vectors (one packed load per step of 4 along K: 64 bytes), nibbles
// packed at compile time, [panels, K/4, nr*2] = [1, 4, 64]; the group scales
// a [1, 2, 32] f32 table; the activations quantized by linalg generics and
// summed per group (the nibbles stand for w + 8).
// CHECK-LABEL: func.func @int4_groups
// CHECK-SAME: (%[[X:.+]]: tensor<3x16xf32>, %[[B:.+]]: tensor<20xf32>) -> tensor<3x20xf32>
// CHECK-DAG: %[[PACKED:.+]] = arith.constant dense<{{.+}}> : tensor<1x4x64xi8>
// CHECK-DAG: %[[SCALES:.+]] = arith.constant dense<{{.+}}> : tensor<1x2x32xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[X]] : tensor<3x16xf32>)
// CHECK: linalg.generic
// CHECK: %[[Q:.+]] = linalg.generic
// CHECK: %[[QG:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0], [1, 2]] output_shape [3, 2, 8]
// CHECK: %[[RS:.+]] = linalg.generic
// CHECK-SAME: ins(%[[QG]] : tensor<3x2x8xi8>)
// CHECK: scf.forall (%[[P:.+]]) in (1)
// CHECK: scf.for
// CHECK: scf.for {{.+}} iter_args({{.+}}) -> (vector<16xf32>,
// CHECK: scf.for {{.+}} iter_args({{.+}}) -> (vector<16xi32>,
// CHECK: %[[RAW:.+]] = vector.transfer_read %[[PACKED]][%[[P]], %{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<1x4x64xi8>, vector<64xi8>
// CHECK: %[[LO:.+]] = arith.andi %[[RAW]], %{{.+}} : vector<64xi8>
// CHECK: %[[HALF:.+]] = vector.bitcast %[[RAW]] : vector<64xi8> to vector<32xi16>
// CHECK: %[[SH:.+]] = arith.shrui %[[HALF]], %{{.+}} : vector<32xi16>
// CHECK: %[[HI8:.+]] = vector.bitcast %[[SH]] : vector<32xi16> to vector<64xi8>
// CHECK: %[[HI:.+]] = arith.andi %[[HI8]], %{{.+}} : vector<64xi8>
// CHECK: qlow_x86.dot_u8s8 %{{.+}}, %[[LO]], %{{.+}} : vector<64xi8> -> vector<16xi32>
// CHECK: qlow_x86.dot_u8s8 %{{.+}}, %[[HI]], %{{.+}} : vector<64xi8> -> vector<16xi32>
// After each group: minus 8 x the row's group sum, to f32, times
// s_row * s_w, added.
// CHECK: tensor.extract %[[RS]]
// CHECK: arith.subi %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK: vector.transfer_read %[[SCALES]]
// CHECK: arith.sitofp %{{.+}} : vector<16xi32> to vector<16xf32>
// CHECK: arith.addf %{{.+}}, %{{.+}} : vector<16xf32>
// The bias after the last group, read masked (the panel runs past N = 20).
// CHECK: vector.transfer_read %[[B]][%{{.+}}], %{{.+}} : tensor<20xf32>, vector<16xf32>
// CHECK: tensor.parallel_insert_slice
// CHECK: tensor.extract_slice %{{.+}}[0, 0] [3, 20] [1, 1] : tensor<3x32xf32> to tensor<3x20xf32>
// CHECK-NOT: qlow.matmul
// CHECK-NOT: quant.scast

// AVX-VNNI: ymm vectors (8 lanes), 32-byte packed loads.
// YMM-LABEL: func.func @int4_groups
// YMM: vector.transfer_read {{.+}} vector<32xi8>
// YMM: qlow_x86.dot_u8s8 %{{.+}}, %{{.+}}, %{{.+}} : vector<32xi8> -> vector<8xi32>

// AVX2 without VNNI: the same ymm kernel with vpmaddubsw
// (qlow_x86.pair_sums_u8s8) in vpdpbusd's place, exact since one operand is
// a nibble (0..15): a pair sum is at most 3840 in magnitude, so the steps of
// a chunk (here the group's 2 steps) add them in i16, and one vpmaddwd by
// ones (qlow_x86.dot_i16x2) per chunk adds them to the i32 sums.
// AVX2-LABEL: func.func @int4_groups
// AVX2: scf.for {{.+}} iter_args({{.+}}) -> (vector<8xi32>,
// AVX2: scf.for {{.+}} iter_args({{.+}}) -> (vector<16xi16>,
// AVX2: vector.transfer_read {{.+}} vector<32xi8>
// AVX2: %[[PS:.+]] = qlow_x86.pair_sums_u8s8 %{{.+}}, %{{.+}} : vector<32xi8> -> vector<16xi16>
// AVX2: arith.addi %{{.+}}, %[[PS]] : vector<16xi16>
// AVX2: qlow_x86.dot_i16x2 %{{.+}}, %{{.+}}, %{{.+}} : vector<16xi16> -> vector<8xi32>
// AVX2-NOT: qlow_x86.dot_u8s8 %
func.func @int4_groups(%x: tensor<3x16xf32>, %b: tensor<20xf32>) -> tensor<3x20xf32> {
  %w = arith.constant dense<3> : tensor<16x20xi4>
  %wq = quant.scast %w : tensor<16x20xi4> to tensor<16x20x!quant.uniform<i4:f32:{0:8, 1:1}, {{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25}, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.125}}>>
  %y = qlow.matmul %x, %wq, %b {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<3x16xf32>, tensor<16x20x!quant.uniform<i4:f32:{0:8, 1:1}, {{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25}, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.125}}>>, tensor<20xf32>) -> tensor<3x20xf32>
  return %y : tensor<3x20xf32>
}

// -----

// u4 weights with zero point 8 are the same nibbles with no offset; a u4
// zero point of 0 needs no row sums at all.
// CHECK-LABEL: func.func @u4_zero_point_zero
// CHECK-NOT: tensor.expand_shape
// CHECK: scf.forall
// CHECK-NOT: tensor.extract %{{.+}}[%{{.+}}, %{{.+}}] : tensor<2x
// CHECK: qlow_x86.dot_u8s8
func.func @u4_zero_point_zero(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<5> : tensor<8x4xi4>
  %wq = quant.scast %w : tensor<8x4xi4> to tensor<8x4x!quant.uniform<u4:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_tensor, i8, symmetric>} : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<u4:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// u4 weights with a zero point per group and column (ORT's asymmetric
// MatMulNBits blocks): the same nibbles, and after each group the row's
// group sum times a vector of zero points per column, read from an i32
// [panels, groups, nr] table (zero past N).
// CHECK-LABEL: func.func @zero_points_per_column
// CHECK-DAG: arith.constant dense<{{\[\[\[}}1, 0, 0, 0, 0, {{.+}}], [0, 0, 0, 0, 0, {{.+}}]]]> : tensor<1x2x32xi32>
// CHECK: tensor.expand_shape
// CHECK: scf.forall
// CHECK: qlow_x86.dot_u8s8
// CHECK: %[[ZP:.+]] = vector.transfer_read %{{.+}} : tensor<1x2x32xi32>, vector<16xi32>
// CHECK: %[[CORR:.+]] = arith.muli %{{.+}}, %[[ZP]] : vector<16xi32>
// CHECK: arith.subi %{{.+}}, %[[CORR]] : vector<16xi32>
// CHECK-NOT: qlow.matmul
func.func @zero_points_per_column(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<5> : tensor<8x4xi4>
  %wq = quant.scast %w : tensor<8x4xi4> to tensor<8x4x!quant.uniform<u4:f32:{0:4, 1:1}, {{0.5:1, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<u4:f32:{0:4, 1:1}, {{0.5:1, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// i8 weights in groups along K whose values span at most 16 integers per
// group and column: what qlow-import-onnx makes of MatMulNBits blocks with
// negative scales or their own zero points (sign(s) * (q - zp), scale |s|).
// Each group and column is a nibble plus its smallest value (the base), so
// the zero points the nibbles carry are -base: group 0 columns -15, 1, 0, 0
// and group 1 all 7. Column 0 of group 0 is -15 + nibbles 0, 12, 15, 8.
// CHECK-LABEL: func.func @i8_groups_of_16_values
// CHECK-DAG: arith.constant dense<"0x000C0F08{{.+}}"> : tensor<1x2x64xi8>
// CHECK-DAG: arith.constant dense<{{\[\[\[}}15, -1, 0, 0, 0, {{.+}}], [-7, -7, -7, -7, 0, {{.+}}]]]> : tensor<1x2x32xi32>
// CHECK: scf.forall
// CHECK: qlow_x86.dot_u8s8
// CHECK: arith.muli %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK-NOT: qlow.matmul
func.func @i8_groups_of_16_values(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<[[-15, 1, 0, 15], [-3, 2, 0, 0], [0, 3, 0, 5], [-7, 4, 0, 5], [7, 7, 7, 7], [7, 7, 7, 7], [7, 7, 7, 7], [7, 7, 7, 7]]> : tensor<8x4xi8>
  %wq = quant.scast %w : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<i8:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// i8 weights in groups along K of any range (17 values, -8 to 8, in column
// 1 of group 1; MatMulNBits with bits = 8). Each packed byte is one weight
// plus 128 (column 0's first step: 0x80 four times), the unsigned operand of
// the dot products as it is (no unpacking); one load is one register of
// columns (N = 4: one vector of 16 columns on zmm, so the tables have 16
// columns per panel). With VNNI (zmm here, ymm below) vpdpbusd adds u8 x s8
// products in i32 without saturating: whole bytes against whole activations,
// one dot product per row and vector (2 rows: 2), and each group's sum less
// the zero point's correction (128 x row sum).
// CHECK-LABEL: func.func @i8_groups_any_range
// CHECK-DAG: arith.constant dense<"0x80808080{{.+}}"> : tensor<1x2x64xi8>
// CHECK-DAG: arith.constant dense<{{.+}}> : tensor<1x2x16xf32>
// CHECK-NOT: arith.shrsi
// CHECK: scf.forall (%{{.+}}) in (1)
// CHECK: tensor.extract_slice {{.+}} to tensor<2x16xf32>
// CHECK-NOT: arith.shrui
// CHECK-COUNT-2: qlow_x86.dot_u8s8
// CHECK-NOT: qlow_x86.dot_u8s8
// CHECK: arith.muli %{{.+}}, %{{.+}} : i32
// CHECK-NOT: arith.shli
// CHECK: arith.subi %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK-NOT: qlow.matmul
// YMM-LABEL: func.func @i8_groups_any_range
// YMM: tensor<1x2x32xi8>
// YMM-COUNT-2: qlow_x86.dot_u8s8
// YMM-NOT: qlow_x86.dot_u8s8
// YMM: return
// AVX2 (vpmaddubsw saturates on such bytes): the two-plane form. The
// activations are split into signed nibble planes, a >> 4 and (a & 15) - 8,
// each row's two broadcast per step: two dot products per row (4 for the 2
// rows). Each group's sums add as (high << 4) + low + 8 * sum(w) (a table:
// 8 * 4 * 128 = 4096 for the columns of 0x80), less the zero point's
// correction (128 x row sum).
// AVX2-LABEL: func.func @i8_groups_any_range
// AVX2-DAG: arith.constant dense<{{\[\[\[}}-128, -128, -128, -128, {{.+}}> : tensor<1x2x32xi8>
// AVX2-DAG: %[[SUMS:.+]] = arith.constant dense<{{\[\[\[}}4096, 4096, 4096, 4096, 0, {{.+}}> : tensor<1x2x8xi32>
// AVX2: arith.shrsi %{{.+}}, %{{.+}} : i8
// AVX2: arith.andi %{{.+}}, %{{.+}} : i8
// AVX2: arith.subi %{{.+}}, %{{.+}} : i8
// AVX2: scf.forall (%{{.+}}) in (1)
// AVX2-NOT: arith.shrui
// AVX2-COUNT-4: qlow_x86.pair_sums_u8s8
// AVX2: arith.shli %{{.+}}, %{{.+}} : vector<8xi32>
// AVX2: vector.transfer_read %[[SUMS]]
func.func @i8_groups_any_range(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<[[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, -8, 0, 0], [0, 8, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]> : tensor<8x4xi8>
  %wq = quant.scast %w : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<i8:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// What the kernel does not take stays a qlow.matmul (report=true says why).
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-4: qlow.matmul
func.func @left_alone(%x: tensor<2x8xf32>, %w8: tensor<8x4x!quant.uniform<i4:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %w = arith.constant dense<5> : tensor<8x4xi4>
  %wq = quant.scast %w : tensor<8x4xi4> to tensor<8x4x!quant.uniform<i4:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>
  // expected-remark @+1 {{not an int4 kernel: asymmetric activations}}
  %0 = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, u8, asymmetric>} : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<i4:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>) -> tensor<2x4xf32>
  // expected-remark @+1 {{not an int4 kernel: weights are not a constant}}
  %1 = qlow.matmul %x, %w8 {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<i4:f32:{0:4, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>) -> tensor<2x4xf32>
  %w2 = arith.constant dense<5> : tensor<8x4xi4>
  %wq2 = quant.scast %w2 : tensor<8x4xi4> to tensor<8x4x!quant.uniform<i4:f32:{0:2, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>
  // expected-remark @+1 {{not an int4 kernel: group size is not a multiple of 4}}
  %2 = qlow.matmul %x, %wq2 {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<i4:f32:{0:2, 1:1}, {{0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}}>>) -> tensor<2x4xf32>
  // Per-channel i8 weights (one group) are the int8 kernels' matmuls.
  %w4 = arith.constant dense<1> : tensor<8x4xi8>
  %wq4 = quant.scast %w4 : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32:1, {0.5, 0.5, 0.5, 0.5}>>
  // expected-remark @+1 {{not an int4 kernel: weights are neither 4-bit nor 8-bit in groups along K}}
  %4 = qlow.matmul %x, %wq4 {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x8xf32>, tensor<8x4x!quant.uniform<i8:f32:1, {0.5, 0.5, 0.5, 0.5}>>) -> tensor<2x4xf32>
  return %0, %1, %2, %4 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

func.func @bad_cpu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  return %x : tensor<2x8xf32>
}

// -----

// The tile: the f32 update after each group costs more in the output tile
// than in registers, so groups of 32 (8 steps) keep 3 rows of f32
// accumulators in registers at M = 48, while M = 16 in groups of 64 takes
// 4 rows with the f32 accumulators in the output tile (no padding).
// CHECK-LABEL: func.func @tile_small_groups
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-LABEL: func.func @tile_groups_of_64
// CHECK-NOT: -> (vector<16xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (tensor<16x64xf32>)
// CHECK: -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
func.func @tile_small_groups(%x: tensor<48x64xf32>) -> tensor<48x64xf32> {
  %w = arith.constant dense<1> : tensor<64x64xi4>
  %wq = quant.scast %w : tensor<64x64xi4> to tensor<64x64x!quant.uniform<i4:f32:{0:32, 1:64}, {{0.5}, {0.25}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<48x64xf32>, tensor<64x64x!quant.uniform<i4:f32:{0:32, 1:64}, {{0.5}, {0.25}}>>) -> tensor<48x64xf32>
  return %y : tensor<48x64xf32>
}
func.func @tile_groups_of_64(%x: tensor<16x128xf32>) -> tensor<16x64xf32> {
  %w = arith.constant dense<1> : tensor<128x64xi4>
  %wq = quant.scast %w : tensor<128x64xi4> to tensor<128x64x!quant.uniform<i4:f32:{0:64, 1:64}, {{0.5}, {0.25}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<16x128xf32>, tensor<128x64x!quant.uniform<i4:f32:{0:64, 1:64}, {{0.5}, {0.25}}>>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
