// Assembly of the int4 weight-only kernel as qlow-compile emits it for a
// decode step (M = 1). For an AVX-512 VNNI CPU the inner loop unpacks nibbles
// with vpsrlw and vpand on zmm registers and feeds vpdpbusd on zmm; nothing
// in the function is spilled.
// RUN: qlow-compile %s --cpu=znver4 --emit=asm -o - | FileCheck %s
// RUN: qlow-compile %s --cpu=sapphirerapids --emit=asm -o - | FileCheck %s
// CHECK-LABEL: decode:
// CHECK-NOT: Spill
// CHECK-NOT: Reload
// CHECK: vpsrlw $4, %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// CHECK: vpdpbusd {{.*}}%zmm{{[0-9]+}}, %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// CHECK-NOT: Spill
// CHECK-NOT: Reload
// CHECK: .Lfunc_end

// AVX-VNNI (Alder Lake): the same kernel on ymm.
// RUN: qlow-compile %s --cpu=alderlake --emit=asm -o - | FileCheck %s --check-prefix=ADL
// ADL-LABEL: decode:
// ADL: vpsrlw $4, %ymm
// ADL: {vex} vpdpbusd {{.*}}%ymm

func.func @decode(%x: tensor<1x256xf32>) -> tensor<1x256xf32> {
  %w = arith.constant dense<3> : tensor<256x256xi4>
  %wq = quant.scast %w : tensor<256x256xi4> to tensor<256x256x!quant.uniform<i4:f32:{0:32, 1:256}, {{0.01}, {0.02}, {0.03}, {0.04}, {0.05}, {0.06}, {0.07}, {0.08}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<1x256xf32>, tensor<256x256x!quant.uniform<i4:f32:{0:32, 1:256}, {{0.01}, {0.02}, {0.03}, {0.04}, {0.05}, {0.06}, {0.07}, {0.08}}>>) -> tensor<1x256xf32>
  return %y : tensor<1x256xf32>
}
