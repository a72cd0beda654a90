// RUN: qlow-opt %s --qlow-aarch64-int4-matmul="cpu=neoverse-n1" --split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-aarch64-int4-matmul="cpu=neoverse-n2" --split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-aarch64-int4-matmul="cpu=cortex-a57" --split-input-file | FileCheck %s --check-prefix=NEON
// RUN: qlow-opt %s --qlow-aarch64-int4-matmul="cpu=neoverse-n1 report=true" --split-input-file -verify-diagnostics -o /dev/null
// RUN: not qlow-opt %s --qlow-aarch64-int4-matmul="cpu=x86_64-znver4" --split-input-file 2>&1 | FileCheck %s --check-prefix=X86
// RUN: qlow-compile %s --target=aarch64 --cpu=neoverse-n1 --emit=asm -o - | FileCheck %s --check-prefix=ASM

// i4 weights in groups of 32 along K (so 2 groups), activations quantized per
// row at run time. The tile is chosen by counting instructions: 3 rows x 6
// vectors of 4 columns (one panel of 24 for N = 20; three packed 16-byte
// loads per step of 4 along K); nibbles packed at compile time (XORed with
// 8), [panels, K/4, nr*2] = [1, 16, 48]; the group scales a [1, 2, 24] f32
// table; the activations quantized per row by vector loops of one byte
// register (16 values, 4 f32 registers) per iteration: the largest |x| as a
// signed max of the bits with the sign cleared, scale = amax / 127 (1 for
// 0), then x / scale rounded by adding 1.5 * 2^23 (0x4B400000), the low 16
// bits of each register joined in pairs, saturated to i8 and joined into one
// 16-byte write (fdiv, fadd, uzp1, sqxtn, sqxtn2 per 16 values); then packed for the
// tile, its 3 rows interleaved by words per 16 bytes of K ([1, 4, 12] i32:
// one ld3). Zero point 0: the signed nibbles need no correction, so no row
// sums.
// CHECK-LABEL: func.func @int4_groups
// CHECK-SAME: (%[[X:.+]]: tensor<3x64xf32>, %[[B:.+]]: tensor<20xf32>) -> tensor<3x20xf32>
// CHECK-DAG: %[[PACKED:.+]] = arith.constant dense<{{.+}}> : tensor<1x16x48xi8>
// CHECK-DAG: %[[SCALES:.+]] = arith.constant dense<{{.+}}> : tensor<1x2x24xf32>
// CHECK-DAG: %[[DIV:.+]] = arith.constant dense<{{.*}}3.125000e-02{{.*}}> : tensor<1x2x24xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[QS:.+]]:2 = scf.for %[[ROW:.+]] = %{{.+}} iter_args({{.+}}) -> (tensor<3xf32>, tensor<3x64xi8>)
// CHECK: %[[MASK:.+]] = arith.constant dense<2147483647> : vector<4xi32>
// CHECK: scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %c16 iter_args({{.+}}) -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// CHECK-COUNT-4: vector.transfer_read %[[X]][%[[ROW]], %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<3x64xf32>, vector<4xf32>
// CHECK: arith.andi %{{.+}}, %[[MASK]] : vector<4xi32>
// CHECK: arith.maxsi
// CHECK: scf.yield
// CHECK: vector.reduction <maxsi>, %{{.+}} : vector<4xi32> into i32
// CHECK: %[[AMAX:.+]] = arith.bitcast %{{.+}} : i32 to f32
// CHECK: %[[S0:.+]] = arith.divf %[[AMAX]], %{{.+}} : f32
// CHECK: %[[ZERO:.+]] = arith.cmpf oeq, %[[S0]]
// CHECK: %[[S:.+]] = arith.select %[[ZERO]], %{{.+}}, %[[S0]] : f32
// CHECK: tensor.insert %[[S]]
// CHECK: %[[SV:.+]] = vector.broadcast %[[S]] : f32 to vector<4xf32>
// CHECK: %[[MAGIC:.+]] = arith.constant dense<0x4B400000> : vector<4xf32>
// CHECK: scf.for %{{.+}} step %c16 iter_args(%{{.+}}) -> (tensor<3x64xi8>)
// CHECK: %[[V:.+]] = arith.divf %{{.+}}, %[[SV]] : vector<4xf32>
// CHECK: %[[R:.+]] = arith.addf %[[V]], %[[MAGIC]] : vector<4xf32>
// CHECK: %[[RB:.+]] = arith.bitcast %[[R]] : vector<4xf32> to vector<4xi32>
// CHECK: arith.trunci %[[RB]] : vector<4xi32> to vector<4xi16>
// CHECK-COUNT-3: arith.trunci %{{.+}} : vector<4xi32> to vector<4xi16>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 3, 4, 5, 6, 7] : vector<4xi16>, vector<4xi16>
// CHECK: arith.maxsi %{{.+}}, %{{.+}} : vector<8xi16>
// CHECK: arith.minsi %{{.+}}, %{{.+}} : vector<8xi16>
// CHECK: arith.trunci %{{.+}} : vector<8xi16> to vector<8xi8>
// CHECK: arith.trunci %{{.+}} : vector<8xi16> to vector<8xi8>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<8xi8>, vector<8xi8>
// CHECK: vector.transfer_write %{{.+}} {in_bounds = [true]} : vector<16xi8>, tensor<3x64xi8>
// CHECK-NOT: tensor.expand_shape
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.transfer_read %[[QS]]#1{{.*}} : tensor<3x64xi8>, vector<16xi8>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11] : vector<12xi32>, vector<12xi32>
// CHECK: %[[QP:.+]] = vector.transfer_write %{{.+}} : vector<12xi32>, tensor<1x4x12xi32>
// CHECK: scf.forall (%[[P:.+]]) in (1)
// CHECK: scf.for
// A row tile whose row scales s keep s * w / 16 normal for every scale w
// of the low vectors (s >= 2^-122 / min |w| or s = 0, s <= 2^126 / max |w|)
// takes the groups that read the low vectors' scales divided by 16 (0.5 /
// 16, %[[DIV]]) and divide no sums; the others the groups as before.
// CHECK: arith.cmpf oge
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpf ole
// CHECK: vector.reduction <and>
// CHECK: scf.if
// CHECK: scf.for
// CHECK: scf.for {{.+}} iter_args({{.+}}) -> (vector<4xi32>,
// One ld3 of the tile's activations per 4 steps, used by element.
// CHECK: vector.transfer_read %{{.+}} : tensor<1x4x12xi32>, vector<12xi32>
// CHECK: %[[RAW:.+]] = vector.transfer_read %[[PACKED]][%[[P]], %{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<1x16x48xi8>, vector<16xi8>
// One shift per register: the low nibbles times 16, the high ones signed.
// CHECK: %[[LO:.+]] = arith.shli %[[RAW]], %{{.+}} : vector<16xi8>
// CHECK: %[[HI:.+]] = arith.shrsi %[[RAW]], %{{.+}} : vector<16xi8>
// CHECK-NOT: arith.andi
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 0, 0, 0] : vector<4xi32>, vector<4xi32>
// CHECK: arm_neon.intr.sdot %{{.+}}, %[[LO]], %{{.+}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
// CHECK: arm_neon.intr.sdot %{{.+}}, %[[HI]], %{{.+}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [3, 3, 3, 3] : vector<4xi32>, vector<4xi32>
// CHECK: vector.transfer_read %[[DIV]]
// CHECK-NOT: arith.divf
// CHECK: } else {
// After each group: to f32 (the low vectors' sums divided by 16, exact),
// times s_row * s_w, added; no correction.
// CHECK-NOT: arith.subi
// CHECK: vector.transfer_read %[[SCALES]]
// CHECK: %[[LOF:.+]] = arith.sitofp %{{.+}} : vector<4xi32> to vector<4xf32>
// CHECK: arith.divf %[[LOF]], %{{.+}} : vector<4xf32>
// CHECK: arith.addf %{{.+}}, %{{.+}} : vector<4xf32>
// CHECK: vector.transfer_read %[[SCALES]]
// CHECK: %[[HIF:.+]] = arith.sitofp %{{.+}} : vector<4xi32> to vector<4xf32>
// CHECK-NEXT: arith.mulf %{{.+}}, %[[HIF]] : vector<4xf32>
// The bias after the last group, read masked (the last panel runs past N).
// CHECK: vector.transfer_read %[[B]][%{{.+}}], %{{.+}} : tensor<20xf32>, vector<4xf32>
// CHECK: tensor.parallel_insert_slice
// CHECK: tensor.extract_slice %{{.+}}[0, 0] [3, 20] [1, 1] : tensor<{{[0-9]+}}x24xf32> to tensor<3x20xf32>
// CHECK-NOT: qlow.matmul
// CHECK-NOT: quant.scast

// Cortex-A57 (Armv8.0) has no sdot: the matmul stays for
// convert-qlow-to-linalg.
// NEON-LABEL: func.func @int4_groups
// NEON: qlow.matmul
// NEON-NOT: arm_neon

// Assembly: sdot by element in the loop over a group's K, the nibbles
// unpacked by one shl or sshr each per 16 bytes, and no stack access
// between the loop's first dot product and its back edge. Before it, the
// activations' quantization: the row's max, then per 16 values 4 fdiv, 4
// fadd, 2 uzp1 and sqxtn/sqxtn2 into one byte register.
// ASM-LABEL: {{^}}int4_groups:
// ASM: smaxv s{{[0-9]+}}, v{{[0-9]+}}.4s
// ASM: fdiv v{{[0-9]+}}.4s
// ASM-COUNT-3: fdiv v{{[0-9]+}}.4s
// ASM-COUNT-4: fadd v{{[0-9]+}}.4s
// ASM-NEXT: uzp1 v{{[0-9]+}}.8h
// ASM-NEXT: uzp1 v{{[0-9]+}}.8h
// ASM-NEXT: sqxtn v{{[0-9]+}}.8b, v{{[0-9]+}}.8h
// ASM-NEXT: sqxtn2 v{{[0-9]+}}.16b, v{{[0-9]+}}.8h
// ASM: sdot v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.4b[0]
// ASM-NOT: {{\[sp}}
// ASM: sshr v{{[0-9]+}}.16b, v{{[0-9]+}}.16b, #4
// ASM-NOT: {{\[sp}}
// ASM: sdot v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.4b[3]
// ASM-NOT: {{\[sp}}
// ASM: b.ne
func.func @int4_groups(%x: tensor<3x64xf32>, %b: tensor<20xf32>) -> tensor<3x20xf32> {
  %w = arith.constant dense<[[6, 6, 6, -2, -3, 7, -3, -5, 6, 1, -4, -6, -7, 4, 6, -3, -8, -6, -7, -7], [-2, -1, -8, 6, 2, 6, -2, -1, 1, 7, -8, -6, 6, 0, 5, -6, 0, 2, -1, 1], [-8, -6, -5, 4, -5, 1, 4, -6, -8, -8, -2, -2, -7, 7, 4, 4, 5, -6, -2, 0], [2, -6, 1, 2, -8, 5, -5, -4, -1, -5, -8, -7, 6, 7, -3, -2, 6, -2, -4, 5], [4, -5, 4, 5, -2, -8, 0, 1, -8, -2, -3, 4, -5, -7, -4, -2, 6, 0, -8, 2], [1, 4, -6, -6, -6, -2, -1, -8, 3, 3, 6, -4, 7, -4, 4, -3, -4, 1, -1, -1], [-2, -3, -2, 4, 7, -6, 5, -7, -5, -5, -7, 0, -1, 4, 0, 5, 7, 1, -3, -6], [-4, -1, 7, -6, 0, -2, -2, -8, -6, 0, 5, 6, -1, -7, -7, -3, 1, 3, -4, -6], [3, -4, 6, 2, -4, -7, -8, 7, 3, 1, -7, -8, -6, 7, -6, 1, 2, -4, -6, -6], [6, 3, -7, -4, 2, 3, -6, 7, -6, 5, -8, 7, -8, 4, 4, -8, -6, -6, -6, -5], [0, 5, 2, 4, 6, 6, 6, -6, -8, 1, -6, 7, -8, -1, -5, 7, 7, 0, -8, 3], [1, -4, -2, -3, 2, 6, 7, -1, 2, 4, 0, -2, 5, -2, -2, 4, -1, 2, -2, -4], [-4, 7, 3, -7, -6, 0, -3, -5, 6, 7, 0, -2, 5, 4, 7, 2, 6, 2, -6, -7], [0, -7, 0, 3, 1, -8, -4, 4, 6, -2, -8, 0, -1, -4, -7, -5, 6, -5, 3, -6], [-2, -2, 7, 0, -3, -8, 7, -7, -3, -1, 0, 3, -3, 4, -1, -6, 5, 4, -4, 6], [6, -2, -8, 4, 2, 6, 2, -2, -5, -5, -2, -1, 4, -6, 1, 2, 0, -8, 3, -6], [-7, 6, 2, 5, 0, 7, -8, -2, -6, 5, -7, -3, 2, -4, 7, -4, 6, 7, -6, -1], [6, 1, -3, 0, 1, 4, -2, 1, -4, 0, 7, -2, 5, -5, -8, 4, -8, -7, 4, -5], [7, -6, -3, -6, 6, 5, 4, 0, -1, 7, 7, -4, 2, 5, 7, 2, -5, -2, 5, -8], [0, -4, -8, -7, -2, -4, -1, -8, 1, 2, 3, -1, 7, -5, 7, -5, 0, -2, 5, -8], [4, 5, -3, -2, -2, -2, -4, -1, 3, -3, 2, 2, -2, -2, -2, -5, -4, -1, -4, -6], [0, 4, -5, 5, 5, -4, -2, 4, -8, -5, -2, 3, 3, -5, 2, -2, -6, 7, -5, -8], [-7, 7, -4, -2, -3, -5, -2, -3, -3, 1, -5, -7, -4, 6, -6, -5, 2, 4, 6, 5], [3, 5, -2, 3, -8, -7, -2, -3, 5, 6, 3, 3, 4, -2, -3, -5, -8, 2, -6, 4], [-2, 2, 0, 0, -5, -3, 4, -4, 2, 3, 5, -3, 4, -2, -3, -6, 2, 1, 7, -5], [-8, 3, -7, -1, 0, 1, 2, -2, 4, -3, -6, 4, 7, -2, -5, 4, -8, -5, -5, -1], [0, 6, 4, -7, -2, 4, -8, -5, 0, 0, 0, 2, 5, -5, 6, -6, -7, 4, -3, 4], [7, -3, 7, -7, 5, 7, 5, 1, 4, 1, 3, 1, 7, 0, 1, 1, -8, -8, -1, -7], [-3, 5, 4, -7, 2, 4, -7, 2, -6, -1, 5, 7, 0, -1, -7, -5, 6, -4, -1, -5], [-7, 5, 6, -5, -2, -7, 3, -4, -5, 3, 6, -4, 5, 6, 0, 5, 3, -4, 1, -4], [-1, 7, -5, 1, 3, 0, 0, -2, 0, -1, -2, -1, -2, -7, -7, -8, 0, 0, 5, -8], [-7, -5, -1, 0, -6, -6, -3, -1, 3, 7, 7, 3, -2, 2, 2, 7, -4, -6, -5, 6], [-2, 6, 5, 0, 4, -4, 3, -4, 2, 1, -3, 5, 3, -5, 6, 2, -6, -6, 5, 7], [6, 1, -8, -6, 1, -2, -6, 1, 7, 2, 1, -4, -1, 3, 2, 3, -5, 2, 6, 0], [6, 1, 6, 2, -1, 4, -1, -6, 3, 3, -8, 3, 4, 4, -2, 3, 4, -4, -3, -3], [-6, 6, 1, -8, -1, -7, -3, 1, -8, 5, -6, 1, -6, 2, -6, 0, -5, 2, -6, -8], [-4, -5, 5, -1, -1, 7, 2, 6, 4, 3, 2, 2, -4, 7, 7, -6, -7, 5, 3, -8], [4, -6, 6, -8, 3, -8, -5, 5, 5, -4, -1, -3, 4, -3, 2, -2, 4, 5, 1, 0], [-7, 7, 1, -5, 1, -4, -3, -7, 6, -8, 7, -7, 2, -5, -2, -3, 3, -2, -1, 7], [-1, 6, -3, 0, 4, -3, 1, 7, 0, 7, 4, 2, -6, 7, -1, 4, -7, -2, -4, 4], [0, -7, -1, -8, 7, 3, 6, -1, 5, -3, 5, -3, 2, -4, 0, -4, 0, -7, -4, -3], [-8, -2, -4, -4, -6, 3, 0, -5, 7, 6, -6, 1, -8, -2, 5, -2, -6, 6, -2, -7], [5, 7, -3, 1, 2, 1, 4, -6, 1, 6, -6, 3, -6, -4, -5, 4, 6, -5, 6, -8], [4, 7, -1, 1, -5, 6, -8, -2, -4, 1, 4, 1, 2, 4, -6, 0, -2, -2, 4, -5], [2, 1, 0, 7, 2, 6, 4, -6, -5, -4, -5, -4, -3, -3, -2, 4, -7, 6, -6, -5], [-1, -7, -3, -5, 5, 5, -6, 2, 5, -4, -2, -4, 4, 7, 2, 5, -8, 4, 2, -1], [-8, 0, 2, -2, 2, 1, 6, -5, 4, -2, 2, 1, -5, -3, 0, 1, -1, 3, -4, -2], [-2, -8, -2, -6, -4, -1, 7, 5, 2, 2, -6, 3, 0, 6, -5, 6, -4, -1, -6, 0], [-3, 2, -4, -5, -8, 1, 3, -1, 3, -3, -3, -6, 6, -7, 4, -3, -4, 1, 4, -8], [-3, -2, 5, 6, -7, -4, 4, -5, 4, -3, 2, -4, 0, -1, 2, -7, -7, -4, 4, 7], [-5, 7, 3, 5, 5, 1, 7, 6, 5, 5, -5, -5, 2, 5, 5, -8, 2, -7, 1, 5], [4, 2, 1, -6, -1, -5, 6, -1, 4, -7, 7, -5, -1, 1, 4, -1, -6, 3, 5, -3], [-1, 5, -5, -6, -5, -4, -5, 6, -8, 1, -1, 1, -8, 2, -3, -6, 6, 6, 4, -4], [3, -1, -7, 1, -8, 6, 2, 1, 2, 7, -4, 7, -2, -2, 1, -7, -2, 2, 3, 7], [-8, -3, -2, -1, -2, -7, -5, 1, 2, 0, 5, -4, 2, 6, 5, -6, -3, -1, 1, -5], [-2, 0, -3, -1, 1, 0, 3, -5, -1, 1, -3, -1, 0, -4, -6, 6, -6, 6, -6, -7], [-8, 1, 0, 5, -6, -3, 1, -2, -1, -3, 0, -8, -3, -4, -7, 6, 4, -8, 7, -7], [-3, -6, 3, 2, 7, -7, 1, -3, -3, -5, 5, -1, 6, 0, -1, 0, 7, -1, 7, 0], [-7, -2, -7, 6, -3, 2, -4, -8, 7, 5, 6, 0, -8, -6, -5, -3, -1, -4, -7, 1], [5, -7, 2, 0, 7, -6, -3, 4, 0, -1, -3, 7, 6, -7, 2, 5, 6, 3, -2, -7], [-4, 7, -4, -4, 6, -7, -8, -1, 5, -4, -6, 4, 1, 7, 5, -6, -7, -1, 1, 0], [-5, -1, 5, 6, -6, -1, 3, 1, 2, -2, -7, -3, 4, -7, 2, -3, 6, 4, -2, 4], [4, -7, -2, 5, 3, -1, -3, -3, 7, -2, 4, -2, 6, 1, 7, 6, 7, -3, 7, -2], [4, 5, -6, -7, 0, 3, 0, -8, -3, 0, 4, -2, 0, -5, 3, -7, -4, 3, -4, -1]]> : tensor<64x20xi4>
  %wq = quant.scast %w : tensor<64x20xi4> to tensor<64x20x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25}, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.125}}>>
  %y = qlow.matmul %x, %wq, %b {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<3x64xf32>, tensor<64x20x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25}, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.125}}>>, tensor<20xf32>) -> tensor<3x20xf32>
  return %y : tensor<3x20xf32>
}

// -----

// M = 16 with groups of 128: the instruction-counting tile model takes a
// transposed 8 x 2 tile (16 i32 sums, each 4 rows of one column): the
// activations are sdot's vector operand, each row quad in a tensor of its
// own with its rows one after the other ([2, 16, 16] words: an ld4 gives a
// register per step of K with the quad's 4 rows), and the nibbles are
// regrouped so that one ld4 loads 4 steps ([1, 16, 16] words, used by
// element). One block of 16 bytes of K per iteration: three ld4 (post-
// indexed), 8 shifts and 64 sdot by element, with no stack access; after
// the last group the sums are transposed in 4 x 4 blocks (zip1/zip2 of
// words, then of pairs).
// CHECK-LABEL: func.func @int4_m16_groups_128
// CHECK-DAG: %[[NIB:.+]] = arith.constant dense<{{.+}}> : tensor<1x16x16xi32>
// CHECK: scf.for {{.+}} -> (tensor<2x16x16xi32>, tensor<2x16x16xi32>)
// CHECK: vector.transfer_write %{{.+}} : vector<16xi32>, tensor<2x16x16xi32>
// CHECK: vector.transfer_write %{{.+}} : vector<16xi32>, tensor<2x16x16xi32>
// CHECK: scf.for {{.+}} -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// CHECK: vector.transfer_read %{{.+}} : tensor<2x16x16xi32>, vector<16xi32>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 4, 8, 12] : vector<16xi32>, vector<16xi32>
// CHECK: vector.transfer_read %{{.+}} : tensor<2x16x16xi32>, vector<16xi32>
// CHECK: vector.transfer_read %[[NIB]]
// CHECK-COUNT-64: arm_neon.intr.sdot
// CHECK-NOT: arm_neon.intr.sdot
// CHECK: scf.yield
// CHECK: arith.sitofp
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 4, 1, 5] : vector<4xf32>, vector<4xf32>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [2, 3, 6, 7] : vector<4xf32>, vector<4xf32>
// ASM-LABEL: {{^}}int4_m16_groups_128:
// ASM: ld4 { v{{[0-9]+}}.4s, v{{[0-9]+}}.4s, v{{[0-9]+}}.4s, v{{[0-9]+}}.4s }, [x{{[0-9]+}}], #64
// ASM-NEXT: ld4 { v{{[0-9]+}}.4s, v{{[0-9]+}}.4s, v{{[0-9]+}}.4s, v{{[0-9]+}}.4s }, [x{{[0-9]+}}], #64
// ASM-NEXT: ld4 { v{{[0-9]+}}.4s, v{{[0-9]+}}.4s, v{{[0-9]+}}.4s, v{{[0-9]+}}.4s }, [x{{[0-9]+}}], #64
// ASM-NOT: {{\[sp|ldr|ldp|mov|add x|sub x}}
// ASM: sdot v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.4b[0]
// ASM-COUNT-63: sdot v{{[0-9]+}}.4s
// ASM-NOT: {{\[sp|sdot|ld}}
// ASM: {{b.ne|b.lo}}
func.func @int4_m16_groups_128(%x: tensor<16x256xf32>) -> tensor<16x8xf32> {
  %w = arith.constant dense<-3> : tensor<256x8xi4>
  %wq = quant.scast %w : tensor<256x8xi4> to tensor<256x8x!quant.uniform<i4:f32:{0:128, 1:1}, {{0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25}, {0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<16x256xf32>, tensor<256x8x!quant.uniform<i4:f32:{0:128, 1:1}, {{0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25}, {0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25}}>>) -> tensor<16x8xf32>
  return %y : tensor<16x8xf32>
}

// -----

// u4 weights with zero point 3 (not the 8 that the signed nibbles are
// relative to): each group's sums are corrected by (3 - 8) x the row's group
// sum (times 16 for the low vectors' scaled sums), from the activations'
// sums per row and group. 2 rows x 2 vectors: one packed load per step.
// CHECK-LABEL: func.func @u4_zero_point_3
// CHECK: %[[QS:.+]]:2 = scf.for {{.+}} -> (tensor<2xf32>, tensor<2x64xi8>)
// CHECK: %[[QG:.+]] = tensor.expand_shape %[[QS]]#1 {{\[}}[0], [1, 2]] output_shape [2, 2, 32]
// CHECK: %[[RS:.+]] = linalg.generic
// CHECK-SAME: ins(%[[QG]] : tensor<2x2x32xi8>)
// CHECK: scf.forall
// CHECK: arm_neon.intr.sdot
// CHECK: %[[SUM:.+]] = tensor.extract %[[RS]]
// CHECK-DAG: arith.muli %[[SUM]], %c-80_i32 : i32
// CHECK-DAG: arith.muli %[[SUM]], %c-5_i32 : i32
// CHECK: arith.subi %{{.+}}, %{{.+}} : vector<4xi32>
// CHECK: arith.sitofp
func.func @u4_zero_point_3(%x: tensor<2x64xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<11> : tensor<64x8xi4>
  %wq = quant.scast %w : tensor<64x8xi4> to tensor<64x8x!quant.uniform<u4:f32:{0:32, 1:1}, {{0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3}, {0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x64xf32>, tensor<64x8x!quant.uniform<u4:f32:{0:32, 1:1}, {{0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3}, {0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3, 0.5:3}}>>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// u4 weights with a zero point per group and column (ORT's asymmetric
// MatMulNBits blocks): each sum is corrected by a table of (zp - 8) per
// group and column, times 16 for the low vectors' scaled sums ([1, 2, 8]
// i32: group 0's first column 16 * (3 - 8) = -80, its fifth (a high
// vector) 8 - 8 = 0), read once per group and vector, times the row's
// group sum.
// CHECK-LABEL: func.func @u4_zero_points_per_group
// CHECK-DAG: %[[CORR:.+]] = arith.constant dense<{{\[\[}}[-80, 0, -128, 112, 0, -7, -6, 1], [0, 0, -48, -32, -1, 6, 4, -4]]]> : tensor<1x2x8xi32>
// CHECK: %[[RS:.+]] = linalg.generic
// CHECK: scf.forall
// CHECK: arm_neon.intr.sdot
// CHECK: vector.transfer_read %[[CORR]]
// CHECK: %[[SUM:.+]] = tensor.extract %[[RS]]
// CHECK: %[[SUMV:.+]] = vector.broadcast %[[SUM]] : i32 to vector<4xi32>
// CHECK: %[[C:.+]] = arith.muli %[[SUMV]], %{{.+}} : vector<4xi32>
// CHECK: arith.subi %{{.+}}, %[[C]] : vector<4xi32>
// CHECK: arith.sitofp
func.func @u4_zero_points_per_group(%x: tensor<2x64xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<11> : tensor<64x8xi4>
  %wq = quant.scast %w : tensor<64x8xi4> to tensor<64x8x!quant.uniform<u4:f32:{0:32, 1:1}, {{0.5:3, 0.5:8, 0.5:0, 0.5:15, 0.5:8, 0.5:1, 0.5:2, 0.5:9}, {0.5:8, 0.5:8, 0.5:5, 0.5:6, 0.5:7, 0.5:14, 0.5:12, 0.5:4}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x64xf32>, tensor<64x8x!quant.uniform<u4:f32:{0:32, 1:1}, {{0.5:3, 0.5:8, 0.5:0, 0.5:15, 0.5:8, 0.5:1, 0.5:2, 0.5:9}, {0.5:8, 0.5:8, 0.5:5, 0.5:6, 0.5:7, 0.5:14, 0.5:12, 0.5:4}}>>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// u8 weights of any range in groups of 32 with zero point 128
// (MatMulNBits with bits = 8): whole bytes w - 0 XORed with 0x80, which sdot
// reads as w - 128 = w - zw, so no correction and no row sums. The packed
// weights are [panels, K/4, nr * 4] bytes (4 bytes of K per column); one
// load per register and step, nothing unpacked. (K is so short here that
// LLVM unrolls the groups: the assembly is checked from the first dot
// product to the first group's conversion to f32.)
// CHECK-LABEL: func.func @u8_groups_any_range
// CHECK-DAG: %[[BYTES:.+]] = arith.constant dense<{{.+}}> : tensor<1x16x32xi8>
// CHECK-NOT: linalg.generic
// CHECK: scf.forall
// CHECK: %[[W:.+]] = vector.transfer_read %[[BYTES]]{{.+}} : tensor<1x16x32xi8>, vector<16xi8>
// CHECK-NOT: arith.shli
// CHECK-NOT: arith.shrsi
// CHECK: arm_neon.intr.sdot %{{.+}}, %[[W]], %{{.+}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
// CHECK-NOT: arith.subi
// CHECK-NOT: arith.divf
// CHECK: arith.sitofp
// ASM-LABEL: {{^}}u8_groups_any_range:
// ASM: sdot v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.4b[0]
// ASM-NOT: {{\[sp|shl|sshr}}
// ASM: sdot v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.4b[3]
// ASM-NOT: {{\[sp|shl|sshr}}
// ASM: scvtf
func.func @u8_groups_any_range(%x: tensor<2x64xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<[[130, 183, 14, 238, 127, 26, 80, 57], [190, 240, 126, 194, 52, 127, 6, 110], [208, 143, 93, 199, 81, 36, 71, 227], [64, 67, 0, 2, 107, 110, 84, 85], [148, 160, 101, 104, 93, 100, 196, 152], [11, 184, 212, 84, 74, 135, 33, 169], [154, 1, 173, 33, 158, 181, 156, 246], [161, 94, 246, 241, 90, 29, 131, 11], [183, 206, 9, 214, 187, 192, 4, 231], [23, 92, 100, 60, 125, 236, 176, 181], [128, 236, 55, 188, 151, 18, 221, 46], [106, 174, 185, 75, 174, 141, 47, 159], [162, 156, 90, 40, 76, 158, 247, 82], [24, 41, 207, 16, 121, 176, 128, 233], [215, 74, 28, 16, 252, 171, 106, 66], [67, 211, 54, 86, 222, 190, 76, 30], [215, 150, 72, 232, 86, 232, 249, 162], [245, 140, 149, 240, 206, 75, 57, 193], [91, 255, 173, 92, 45, 251, 139, 184], [32, 182, 17, 156, 186, 143, 248, 135], [150, 174, 91, 5, 242, 128, 166, 140], [237, 147, 182, 178, 140, 176, 209, 179], [88, 230, 186, 171, 72, 85, 101, 185], [244, 144, 40, 213, 87, 215, 154, 138], [14, 100, 81, 225, 92, 112, 92, 21], [241, 115, 84, 27, 68, 56, 162, 92], [247, 99, 18, 212, 238, 179, 194, 36], [104, 121, 191, 0, 179, 207, 142, 209], [58, 191, 18, 154, 48, 151, 173, 150], [180, 66, 214, 209, 189, 239, 72, 80], [195, 244, 101, 68, 46, 179, 0, 195], [55, 166, 72, 166, 192, 219, 221, 115], [252, 149, 245, 194, 196, 81, 133, 154], [254, 128, 212, 10, 163, 157, 251, 146], [73, 244, 12, 62, 227, 125, 150, 20], [69, 200, 6, 245, 140, 124, 242, 18], [125, 250, 137, 79, 146, 150, 252, 243], [60, 8, 64, 153, 144, 172, 151, 13], [237, 179, 184, 67, 18, 1, 129, 233], [55, 97, 7, 219, 218, 246, 197, 243], [200, 100, 151, 238, 33, 155, 1, 221], [146, 241, 159, 73, 84, 244, 254, 169], [78, 217, 24, 35, 117, 136, 43, 32], [13, 170, 219, 35, 207, 249, 25, 63], [62, 112, 56, 68, 149, 224, 76, 93], [94, 211, 82, 34, 109, 22, 55, 194], [36, 143, 29, 60, 204, 68, 5, 221], [46, 161, 250, 250, 180, 191, 28, 70], [150, 77, 148, 112, 134, 32, 120, 130], [145, 68, 120, 190, 232, 199, 91, 67], [9, 174, 43, 18, 46, 63, 232, 122], [199, 236, 245, 165, 55, 15, 196, 27], [77, 219, 114, 59, 42, 251, 108, 71], [192, 181, 120, 148, 170, 178, 197, 193], [69, 183, 151, 221, 185, 18, 110, 92], [202, 32, 49, 18, 16, 95, 103, 100], [20, 250, 246, 178, 0, 218, 240, 153], [219, 165, 238, 236, 51, 98, 79, 81], [36, 191, 197, 240, 77, 130, 56, 142], [82, 146, 120, 16, 246, 16, 176, 188], [161, 30, 11, 233, 241, 79, 60, 166], [149, 232, 122, 83, 17, 102, 12, 118], [40, 205, 186, 159, 94, 239, 185, 144], [34, 239, 83, 123, 89, 106, 22, 220]]> : tensor<64x8xi8>
  %wq = quant.scast %w : tensor<64x8xi8> to tensor<64x8x!quant.uniform<u8:f32:{0:32, 1:1}, {{0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128}, {0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x64xf32>, tensor<64x8x!quant.uniform<u8:f32:{0:32, 1:1}, {{0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128}, {0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128, 0.25:128}}>>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// The same bytes with a zero point per group and column: the sums are
// corrected by (zp - 128) x the row's group sum (a [1, 2, 8] table: 138 -
// 128 = 10, 3 - 128 = -125, ...).
// CHECK-LABEL: func.func @u8_groups_zero_points
// CHECK-DAG: %[[CORR:.+]] = arith.constant dense<{{\[\[}}[10, -125, 108, -97, 103, 82, -42, -105], [-111, 51, -80, -92, -7, 123, -81, 113]]]> : tensor<1x2x8xi32>
// CHECK: %[[RS:.+]] = linalg.generic
// CHECK: scf.forall
// CHECK: arm_neon.intr.sdot
// CHECK: vector.transfer_read %[[CORR]]
// CHECK: arith.muli %{{.+}}, %{{.+}} : vector<4xi32>
// CHECK: arith.subi
func.func @u8_groups_zero_points(%x: tensor<2x64xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<[[130, 183, 14, 238, 127, 26, 80, 57], [190, 240, 126, 194, 52, 127, 6, 110], [208, 143, 93, 199, 81, 36, 71, 227], [64, 67, 0, 2, 107, 110, 84, 85], [148, 160, 101, 104, 93, 100, 196, 152], [11, 184, 212, 84, 74, 135, 33, 169], [154, 1, 173, 33, 158, 181, 156, 246], [161, 94, 246, 241, 90, 29, 131, 11], [183, 206, 9, 214, 187, 192, 4, 231], [23, 92, 100, 60, 125, 236, 176, 181], [128, 236, 55, 188, 151, 18, 221, 46], [106, 174, 185, 75, 174, 141, 47, 159], [162, 156, 90, 40, 76, 158, 247, 82], [24, 41, 207, 16, 121, 176, 128, 233], [215, 74, 28, 16, 252, 171, 106, 66], [67, 211, 54, 86, 222, 190, 76, 30], [215, 150, 72, 232, 86, 232, 249, 162], [245, 140, 149, 240, 206, 75, 57, 193], [91, 255, 173, 92, 45, 251, 139, 184], [32, 182, 17, 156, 186, 143, 248, 135], [150, 174, 91, 5, 242, 128, 166, 140], [237, 147, 182, 178, 140, 176, 209, 179], [88, 230, 186, 171, 72, 85, 101, 185], [244, 144, 40, 213, 87, 215, 154, 138], [14, 100, 81, 225, 92, 112, 92, 21], [241, 115, 84, 27, 68, 56, 162, 92], [247, 99, 18, 212, 238, 179, 194, 36], [104, 121, 191, 0, 179, 207, 142, 209], [58, 191, 18, 154, 48, 151, 173, 150], [180, 66, 214, 209, 189, 239, 72, 80], [195, 244, 101, 68, 46, 179, 0, 195], [55, 166, 72, 166, 192, 219, 221, 115], [252, 149, 245, 194, 196, 81, 133, 154], [254, 128, 212, 10, 163, 157, 251, 146], [73, 244, 12, 62, 227, 125, 150, 20], [69, 200, 6, 245, 140, 124, 242, 18], [125, 250, 137, 79, 146, 150, 252, 243], [60, 8, 64, 153, 144, 172, 151, 13], [237, 179, 184, 67, 18, 1, 129, 233], [55, 97, 7, 219, 218, 246, 197, 243], [200, 100, 151, 238, 33, 155, 1, 221], [146, 241, 159, 73, 84, 244, 254, 169], [78, 217, 24, 35, 117, 136, 43, 32], [13, 170, 219, 35, 207, 249, 25, 63], [62, 112, 56, 68, 149, 224, 76, 93], [94, 211, 82, 34, 109, 22, 55, 194], [36, 143, 29, 60, 204, 68, 5, 221], [46, 161, 250, 250, 180, 191, 28, 70], [150, 77, 148, 112, 134, 32, 120, 130], [145, 68, 120, 190, 232, 199, 91, 67], [9, 174, 43, 18, 46, 63, 232, 122], [199, 236, 245, 165, 55, 15, 196, 27], [77, 219, 114, 59, 42, 251, 108, 71], [192, 181, 120, 148, 170, 178, 197, 193], [69, 183, 151, 221, 185, 18, 110, 92], [202, 32, 49, 18, 16, 95, 103, 100], [20, 250, 246, 178, 0, 218, 240, 153], [219, 165, 238, 236, 51, 98, 79, 81], [36, 191, 197, 240, 77, 130, 56, 142], [82, 146, 120, 16, 246, 16, 176, 188], [161, 30, 11, 233, 241, 79, 60, 166], [149, 232, 122, 83, 17, 102, 12, 118], [40, 205, 186, 159, 94, 239, 185, 144], [34, 239, 83, 123, 89, 106, 22, 220]]> : tensor<64x8xi8>
  %wq = quant.scast %w : tensor<64x8xi8> to tensor<64x8x!quant.uniform<u8:f32:{0:32, 1:1}, {{0.25:138, 0.25:3, 0.25:236, 0.25:31, 0.25:231, 0.25:210, 0.25:86, 0.25:23}, {0.25:17, 0.25:179, 0.25:48, 0.25:36, 0.25:121, 0.25:251, 0.25:47, 0.25:241}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x64xf32>, tensor<64x8x!quant.uniform<u8:f32:{0:32, 1:1}, {{0.25:138, 0.25:3, 0.25:236, 0.25:31, 0.25:231, 0.25:210, 0.25:86, 0.25:23}, {0.25:17, 0.25:179, 0.25:48, 0.25:36, 0.25:121, 0.25:251, 0.25:47, 0.25:241}}>>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// What the kernel does not take stays a qlow.matmul (report=true says why):
// groups of 16 rows (one iteration of the kernel's 16 bytes of K per group,
// which LLVM unrolls into the group's update), asymmetric activations and
// 8-bit weights per channel (qlow-aarch64-int8-matmul's, after
// convert-qlow-to-linalg).
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-3: qlow.matmul
func.func @left_alone(%x: tensor<2x16xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %w = arith.constant dense<5> : tensor<16x4xi4>
  %wq = quant.scast %w : tensor<16x4xi4> to tensor<16x4x!quant.uniform<i4:f32:{0:16, 1:1}, {{0.5, 0.5, 0.5, 0.5}}>>
  // expected-remark @+1 {{not an int4 kernel: group size is not a multiple of 32}}
  %0 = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x16xf32>, tensor<16x4x!quant.uniform<i4:f32:{0:16, 1:1}, {{0.5, 0.5, 0.5, 0.5}}>>) -> tensor<2x4xf32>
  %w2 = arith.constant dense<5> : tensor<16x4xi4>
  %wq2 = quant.scast %w2 : tensor<16x4xi4> to tensor<16x4x!quant.uniform<i4:f32:{0:16, 1:1}, {{0.5, 0.5, 0.5, 0.5}}>>
  // expected-remark @+1 {{not an int4 kernel: asymmetric activations}}
  %1 = qlow.matmul %x, %wq2 {dynamic = #qlow.dynamic<per_row, u8, asymmetric>} : (tensor<2x16xf32>, tensor<16x4x!quant.uniform<i4:f32:{0:16, 1:1}, {{0.5, 0.5, 0.5, 0.5}}>>) -> tensor<2x4xf32>
  %w3 = arith.constant dense<5> : tensor<16x4xi8>
  %wq3 = quant.scast %w3 : tensor<16x4xi8> to tensor<16x4x!quant.uniform<i8:f32:1, {0.5, 0.5, 0.5, 0.5}>>
  // expected-remark @+1 {{not an int4 kernel: weights are neither 4-bit nor 8-bit in groups along K}}
  %2 = qlow.matmul %x, %wq3 {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x16xf32>, tensor<16x4x!quant.uniform<i8:f32:1, {0.5, 0.5, 0.5, 0.5}>>) -> tensor<2x4xf32>
  return %0, %1, %2 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// X86: error: qlow-aarch64-int4-matmul needs an aarch64 CPU; 'x86_64-znver4' is x86_64
