// Assembly of the int8 matmul kernel as qlow-compile emits it.
// For a VNNI CPU the inner loop is vpdpbusd on zmm registers, and the
// accumulators stay in registers: no spill or reload anywhere in the kernel.
// RUN: qlow-compile %s --cpu=znver4 --emit=asm -o - | FileCheck %s --check-prefix=ZNVER4
// RUN: qlow-compile %s --cpu=sapphirerapids --emit=asm -o - | FileCheck %s --check-prefix=ZNVER4
// ZNVER4-LABEL: kernel:
// ZNVER4-NOT: Spill
// ZNVER4-NOT: Reload
// ZNVER4-COUNT-8: vpdpbusd {{.*}}%zmm{{[0-9]+}}, %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// ZNVER4-NOT: Spill
// ZNVER4-NOT: Reload
// ZNVER4: .Lfunc_end

// AVX-VNNI (Alder Lake) uses the ymm form.
// RUN: qlow-compile %s --cpu=alderlake --emit=asm -o - | FileCheck %s --check-prefix=ADL
// ADL: {vex} vpdpbusd {{.*}}%ymm

// Haswell (AVX2): the exact pair form, vpmaddwd on ymm, no vpmaddubsw (its i16
// saturation would break bit-exactness), and no spills.
// RUN: qlow-compile %s --cpu=haswell --emit=asm -o - | FileCheck %s --check-prefix=HSW
// HSW-LABEL: kernel:
// HSW-NOT: vpmaddubsw
// HSW-NOT: Spill
// HSW: vpmaddwd {{.*}}%ymm
// HSW-NOT: vpmaddubsw
// HSW-NOT: Spill
// HSW: .Lfunc_end

func.func @kernel(%a: tensor<128x256x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<128x256xi32> {
  %w = arith.constant dense<3> : tensor<256x256xi8>
  %wq = quant.scast %w : tensor<256x256xi8> to tensor<256x256x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<128x256x!quant.uniform<u8:f32, 0.02:128>>, tensor<256x256x!quant.uniform<i8:f32, 0.01>>) -> tensor<128x256xi32>
  return %y : tensor<128x256xi32>
}
