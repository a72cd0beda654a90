// Fixed-point multipliers above 1 take the saturating left-shift step (shift
// > 0): requantize to a finer scale and a matmul whose s_a*s_w/s_o > 1,
// compiled and compared bit for bit with the reference.
// RUN: rm -rf %t && mkdir -p %t
// RUN: qlow-run %s --entry up,mm_up --random-inputs --seed 9 --output-dir %t/c
// RUN: qlow-run --reference %s --entry up,mm_up --random-inputs --seed 9 --output-dir %t/r
// RUN: %python %S/compare_exact.py %t/c/up.0.npy %t/r/up.0.npy | FileCheck %s
// RUN: %python %S/compare_exact.py %t/c/mm_up.0.npy %t/r/mm_up.0.npy | FileCheck %s
// CHECK: 1 of 1 outputs identical

// M = 0.5 / 0.1 = 5: multiplier 2^30 * 1.25, shift 3; many values saturate.
func.func @up(%q: tensor<7x33x!quant.uniform<i8:f32:1, {0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125}>>) -> tensor<7x33x!quant.uniform<i16:f32, 0.1:7>> {
  %r = qlow.requantize %q : tensor<7x33x!quant.uniform<i8:f32:1, {0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125, 0.5, 0.25, 0.125}>> -> tensor<7x33x!quant.uniform<i16:f32, 0.1:7>>
  return %r : tensor<7x33x!quant.uniform<i16:f32, 0.1:7>>
}

// s_a * s_w / s_o = 0.5 * 0.5 / 0.05 = 5 > 1, through the int8 kernel's fused
// epilogue on a VNNI or AVX2 host.
func.func @mm_up(%a: tensor<13x20x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<13x17x!quant.uniform<i8:f32, 0.05:-2>> {
  %w = arith.constant dense<"0x2B4E854EF80321C97A8DC7E212E8A18B808CA67FB02740BCC8EFC379AD654C589DE420FE2A2D298F750E67C5DC61AF90DF2D9F5ED7BA0B65625FCE84473545808900D5EF6EB407D3CB4EA7D19EA6C73214F2AB4C4CBC8FD1A54C0501CA0177BC4483D06E5F955758F4DE7A732DE6B56FC40E2CBDD03DB22C712F25F677B8DB24279BA93157226EE0D44C8AB1B1E3A84C58E187369B1CAB702D7D1D39E04F9CA7DC36FC5871E6EC0D25FA1A753BD1ECE6A6804AEBDA21106F1D6C14D3D27D16B0545282A831E7D792B05B555412A3D2067EC20CFD000D349B7B5D44C7F0F2CF8E3E8043B124D7BC6DF963B0FBD8F4832AD85BB6D68B4B08E66A18763C1500B3304A32E9813C8A4DA6CEB60AB4C28C7BB7B119A46248D9E6DD3CEAC92EA349ED70C2E05F348AD78452EABB395E9A01DD396E083FD014FE3B8CBC8B7A07FDFA885558851F0EE1FD6119FD3A310654101EFD171D66BF"> : tensor<20x17xi8>
  %wq = quant.scast %w : tensor<20x17xi8> to tensor<20x17x!quant.uniform<i8:f32, 0.5>>
  %y = qlow.matmul %a, %wq : (tensor<13x20x!quant.uniform<u8:f32, 0.5:128>>, tensor<20x17x!quant.uniform<i8:f32, 0.5>>) -> tensor<13x17x!quant.uniform<i8:f32, 0.05:-2>>
  return %y : tensor<13x17x!quant.uniform<i8:f32, 0.05:-2>>
}
