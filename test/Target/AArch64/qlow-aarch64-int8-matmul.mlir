// RUN: qlow-opt %s --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-aarch64-int8-matmul{cpu=neoverse-n1}), cse)' | FileCheck %s --check-prefix=DOT
// RUN: qlow-opt %s --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-aarch64-int8-matmul{cpu=neoverse-n2}), cse)' | FileCheck %s --check-prefix=MMLA
// RUN: qlow-opt %s --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-aarch64-int8-matmul{cpu=aarch64-neoverse-v1}), cse)' | FileCheck %s --check-prefix=MMLA
// RUN: qlow-opt %s --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-aarch64-int8-matmul{cpu=cortex-a57}))' | FileCheck %s --check-prefix=NONE

// M = 5, K = 24, N = 12: a partial row tile, K padded to the step, one panel.

// dotprod: weights packed [N/nr][K/4][nr*4] at compile time, w[0..3][0] in
// the first 4 bytes (w[k][0] = 0x86, 0x4E, 0x17, 0xE0); u8 activations
// flipped to s8 (xor 0x80) once, before the kernel; K padded to 16 bytes per
// iteration, one 16-byte load per row used lane by lane (shuffles) by sdot.
// DOT-LABEL: func.func @u8_i32
// DOT-DAG: arith.constant dense<"0x864E17E0{{[0-9A-F]+}}"> : tensor<1x8x48xi8>
// DOT-DAG: %[[S8:.+]] = linalg.generic {{.*}} ins(%arg0 : tensor<5x24xi8>)
// DOT-DAG: arith.xori %{{.*}}, %{{.*}} : i8
// DOT-DAG: tensor.pad %[[S8]] low[0, 0] high[0, 8]
// DOT: scf.forall
// DOT-NOT: arith.xori
// DOT: vector.shuffle %{{.*}} [0, 0, 0, 0] : vector<4xi32>, vector<4xi32>
// DOT: arm_neon.intr.sdot %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
// DOT: vector.shuffle %{{.*}} [3, 3, 3, 3] : vector<4xi32>, vector<4xi32>
// DOT: arm_neon.intr.sdot
// DOT: vector.transfer_write %{{.*}} : vector<4xi32>, tensor<5x12xi32>
// s8 activations need no shift; the requantizing epilogue is fused and the
// kernel stores bytes.
// DOT-LABEL: func.func @s8_requant
// DOT-NOT: arith.xori
// DOT: arm_neon.intr.sdot
// DOT-NOT: linalg.generic
// DOT: vector.transfer_write %{{.*}} : vector<4xi8>, tensor<5x12xi8>
// DOT: return

// i8mm: weights packed [N/nr][K/8][nr*8] (two columns of 8 bytes per 16);
// the activations padded to an even M and packed into row pairs at run time
// (8 bytes of each row per 16-byte vector); usmmla for u8, smmla for s8; 2x2
// blocks shuffled back into rows.
// MMLA-LABEL: func.func @u8_i32
// MMLA: tensor<1x3x96xi8>
// MMLA: %[[PAD:.+]] = tensor.pad %arg0 low[0, 0] high[1, 0]
// MMLA: scf.for
// MMLA: %[[LO:.+]] = vector.transfer_read %[[PAD]]{{.*}} : tensor<6x24xi8>, vector<8xi8>
// MMLA: %[[HI:.+]] = vector.transfer_read %[[PAD]]{{.*}} : tensor<6x24xi8>, vector<8xi8>
// MMLA: vector.shuffle %[[LO]], %[[HI]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// MMLA: vector.transfer_write %{{.*}} : vector<16xi8>, tensor<3x3x16xi8>
// MMLA: scf.forall
// MMLA-NOT: arm_neon.intr.smmla
// MMLA: arm_neon.intr.usmmla %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8> to vector<4xi32>
// MMLA-NOT: arm_neon.intr.smmla
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 4, 5] : vector<4xi32>, vector<4xi32>
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [2, 3, 6, 7] : vector<4xi32>, vector<4xi32>
// MMLA-LABEL: func.func @s8_requant
// MMLA-NOT: arm_neon.intr.usmmla
// MMLA: arm_neon.intr.smmla
// MMLA-NOT: arm_neon.intr.usmmla
// MMLA: vector.transfer_write %{{.*}} : vector<4xi8>, tensor<5x12xi8>

// One row: sdot (every i8mm CPU has dotprod) rather than smmla on a padding
// row.
// MMLA-LABEL: func.func @one_row
// MMLA-NOT: mmla
// MMLA: arm_neon.intr.sdot
// MMLA-NOT: mmla
// MMLA: return

// Armv8.0 NEON has no int8 dot product: the contractions stay.
// NONE-NOT: arm_neon
// NONE: linalg.generic
// NONE-NOT: arm_neon

func.func @u8_i32(%a: tensor<5x24x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<5x12xi32> {
  %w = arith.constant dense<"0x86ABD0F51A3F648AAFD4F91E4E7399BEE3082D52779DC2E7173C6187ACD1F61B40658BB0E0052A4F749ABFE4092E5378A9CEF3183D6288ADD2F71C417197BCE1062B50759BC0E50A3A5F85AACFF4193E6389AED303284D7298BDE2072C51769CCCF1163B6086ABD0F51A3F6495BADF04294E7399BEE3082D5D83A8CDF2173C6187ACD1F6264B7096BBE0052A4F749ABFEF14395E84A9CEF3183D6288B8DD02274C7197BCE1062B5081A6CBF0153A5F85AACFF419496E94B9DE03284D7298BDE212375C82A7CCF1163B6086ABDB00254A6F95BADF04294E73A4C9EE13385D83A8CDF2173C6C92B7DC01264B7096BBE005355A7FA5CAEF14395E84A9CEFE23486D93B8DD02274C7197C7EC11365B81A6CBF0153A5F90B5DAFF24496E94B9DE0328"> : tensor<24x12xi8>
  %wq = quant.scast %w : tensor<24x12xi8> to tensor<24x12x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<5x24x!quant.uniform<u8:f32, 0.02:128>>, tensor<24x12x!quant.uniform<i8:f32, 0.01>>) -> tensor<5x12xi32>
  return %y : tensor<5x12xi32>
}

func.func @s8_requant(%a: tensor<5x24x!quant.uniform<i8:f32, 0.02:-3>>, %b: tensor<12xi32>) -> tensor<5x12x!quant.uniform<i8:f32, 0.3:-5>> {
  %w = arith.constant dense<"0x86ABD0F51A3F648AAFD4F91E4E7399BEE3082D52779DC2E7173C6187ACD1F61B40658BB0E0052A4F749ABFE4092E5378A9CEF3183D6288ADD2F71C417197BCE1062B50759BC0E50A3A5F85AACFF4193E6389AED303284D7298BDE2072C51769CCCF1163B6086ABD0F51A3F6495BADF04294E7399BEE3082D5D83A8CDF2173C6187ACD1F6264B7096BBE0052A4F749ABFEF14395E84A9CEF3183D6288B8DD02274C7197BCE1062B5081A6CBF0153A5F85AACFF419496E94B9DE03284D7298BDE212375C82A7CCF1163B6086ABDB00254A6F95BADF04294E73A4C9EE13385D83A8CDF2173C6C92B7DC01264B7096BBE005355A7FA5CAEF14395E84A9CEFE23486D93B8DD02274C7197C7EC11365B81A6CBF0153A5F90B5DAFF24496E94B9DE0328"> : tensor<24x12xi8>
  %wq = quant.scast %w : tensor<24x12xi8> to tensor<24x12x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq, %b {rounding = #qlow.rounding<fixedpoint>} : (tensor<5x24x!quant.uniform<i8:f32, 0.02:-3>>, tensor<24x12x!quant.uniform<i8:f32, 0.01>>, tensor<12xi32>) -> tensor<5x12x!quant.uniform<i8:f32, 0.3:-5>>
  return %y : tensor<5x12x!quant.uniform<i8:f32, 0.3:-5>>
}

func.func @one_row(%a: tensor<1x24x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<1x12xi32> {
  %w = arith.constant dense<"0x86ABD0F51A3F648AAFD4F91E4E7399BEE3082D52779DC2E7173C6187ACD1F61B40658BB0E0052A4F749ABFE4092E5378A9CEF3183D6288ADD2F71C417197BCE1062B50759BC0E50A3A5F85AACFF4193E6389AED303284D7298BDE2072C51769CCCF1163B6086ABD0F51A3F6495BADF04294E7399BEE3082D5D83A8CDF2173C6187ACD1F6264B7096BBE0052A4F749ABFEF14395E84A9CEF3183D6288B8DD02274C7197BCE1062B5081A6CBF0153A5F85AACFF419496E94B9DE03284D7298BDE212375C82A7CCF1163B6086ABDB00254A6F95BADF04294E73A4C9EE13385D83A8CDF2173C6C92B7DC01264B7096BBE005355A7FA5CAEF14395E84A9CEFE23486D93B8DD02274C7197C7EC11365B81A6CBF0153A5F90B5DAFF24496E94B9DE0328"> : tensor<24x12xi8>
  %wq = quant.scast %w : tensor<24x12xi8> to tensor<24x12x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<1x24x!quant.uniform<u8:f32, 0.02:128>>, tensor<24x12x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x12xi32>
  return %y : tensor<1x12xi32>
}
