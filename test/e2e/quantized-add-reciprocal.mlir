// qlow.add with float rounding multiplies by f32(1 / so), or a neighbour,
// instead of dividing by so where convert-qlow-to-linalg has checked on every
// pair of stored inputs that the stored results are the same (8-bit inputs:
// 2^16 pairs); otherwise it keeps the division. Here both kinds run compiled
// on all 2^16 pairs (a [256, 1] and a [1, 256] input broadcast to [256, 256])
// against the reference's division, bit for bit.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; b = np.arange(256, dtype=np.uint8); np.save('%t/x.npy', b.reshape(256, 1)); np.save('%t/y.npy', b.reshape(1, 256))"
// RUN: qlow-run --reference %s --entry residual_add -i %t/x.npy -i %t/y.npy -o %t/ref_residual.npy
// RUN: qlow-run %s --entry residual_add -i %t/x.npy -i %t/y.npy -o %t/jit_residual.npy
// RUN: %python %S/compare_exact.py %t/ref_residual.npy %t/jit_residual.npy | FileCheck %s
// RUN: qlow-run --reference %s --entry divided_add -i %t/x.npy -i %t/y.npy -o %t/ref_divided.npy
// RUN: qlow-run %s --entry divided_add -i %t/x.npy -i %t/y.npy -o %t/jit_divided.npy
// RUN: %python %S/compare_exact.py %t/ref_divided.npy %t/jit_divided.npy | FileCheck %s
// The lowering's choice: a multiplication for the first, the division for
// the second (RN(1 / so) and both neighbours each change one or more of the
// 2^16 results: numpy's f32 counts 1, 1 and 1 pairs).
// RUN: qlow-opt %s --convert-qlow-to-linalg | FileCheck %s --check-prefix=LOWERED
// CHECK: 1 of 1 outputs identical
// LOWERED-LABEL: func.func @residual_add
// LOWERED-NOT: arith.divf
// LOWERED: arith.mulf %{{.+}}, %{{.+}} : f32
// LOWERED-NOT: arith.divf
// LOWERED-LABEL: func.func @divided_add
// LOWERED: arith.divf %{{.+}}, %{{.+}} : f32

// encoder_qdq's first residual add (o1 + x): scales and zero points of
// ORT's quantize_static at S = 128, D = 768.
func.func @residual_add(%a: tensor<256x1x!quant.uniform<u8:f32, 0.0058594709262251854:126>>,
                        %b: tensor<1x256x!quant.uniform<u8:f32, 0.038539662957191467:124>>)
    -> tensor<256x256x!quant.uniform<u8:f32, 0.038726866245269775:123>> {
  %y = qlow.add %a, %b {rounding = #qlow.rounding<float>} : (tensor<256x1x!quant.uniform<u8:f32, 0.0058594709262251854:126>>, tensor<1x256x!quant.uniform<u8:f32, 0.038539662957191467:124>>) -> tensor<256x256x!quant.uniform<u8:f32, 0.038726866245269775:123>>
  return %y : tensor<256x256x!quant.uniform<u8:f32, 0.038726866245269775:123>>
}

// Scales for which no multiplier near 1 / so gives the division's results
// (found by a search over random scales and zero points).
func.func @divided_add(%a: tensor<256x1x!quant.uniform<u8:f32, 0.0012007529148831964:194>>,
                       %b: tensor<1x256x!quant.uniform<u8:f32, 0.021899735555052757:251>>)
    -> tensor<256x256x!quant.uniform<u8:f32, 0.013048593886196613:122>> {
  %y = qlow.add %a, %b {rounding = #qlow.rounding<float>} : (tensor<256x1x!quant.uniform<u8:f32, 0.0012007529148831964:194>>, tensor<1x256x!quant.uniform<u8:f32, 0.021899735555052757:251>>) -> tensor<256x256x!quant.uniform<u8:f32, 0.013048593886196613:122>>
  return %y : tensor<256x256x!quant.uniform<u8:f32, 0.013048593886196613:122>>
}
