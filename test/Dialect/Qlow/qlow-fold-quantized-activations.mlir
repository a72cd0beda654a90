// RUN: qlow-opt %s --qlow-fold-quantized-activations -split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-fold-quantized-activations -split-input-file | qlow-opt -split-input-file | FileCheck %s
//
// qlow-fold-quantized-activations: dequantize -> f32 gelu/silu -> quantize
// on an input of at most 8 bits becomes the quantized activation when
// lib/Reference gives the same stored values on every input value.

// The encoder FFN's chain after its first matmul (u8 in, u8 out): folded; the
// gelu keeps its approximation attribute.
// CHECK-LABEL: func.func @gelu_u8(
// CHECK-SAME:    %[[H:.+]]: tensor<4x8x!quant.uniform<u8:f32, 3.920000e-02:127>>
// CHECK-NEXT:    %[[G:.+]] = qlow.gelu %[[H]] : tensor<4x8x!quant.uniform<u8:f32, 3.920000e-02:127>> -> tensor<4x8x!quant.uniform<u8:f32, 2.040000e-02:10>>
// CHECK-NEXT:    return %[[G]]
func.func @gelu_u8(%h: tensor<4x8x!quant.uniform<u8:f32, 0.0392:127>>) -> tensor<4x8x!quant.uniform<u8:f32, 0.0204:10>> {
  %f = qlow.dequantize %h : tensor<4x8x!quant.uniform<u8:f32, 0.0392:127>> -> tensor<4x8xf32>
  %g = qlow.gelu %f : tensor<4x8xf32> -> tensor<4x8xf32>
  %q = qlow.quantize %g : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.0204:10>>
  return %q : tensor<4x8x!quant.uniform<u8:f32, 0.0204:10>>
}

// -----

// tanh GELU and SiLU from i8 to i8; the dequantized value is also returned,
// so the dequantize stays for that use.
// CHECK-LABEL: func.func @tanh_gelu_and_silu(
// CHECK-SAME:    %[[X:.+]]: tensor<16x!quant.uniform<i8:f32, 5.000000e-02:-3>>
// CHECK-DAG:     %[[F:.+]] = qlow.dequantize %[[X]]
// CHECK-DAG:     %[[G:.+]] = qlow.gelu %[[X]] {approximate = #qlow.gelu_approximation<tanh>} : tensor<16x!quant.uniform<i8:f32, 5.000000e-02:-3>> -> tensor<16x!quant.uniform<i8:f32, 4.000000e-02:-20>>
// CHECK-DAG:     %[[S:.+]] = qlow.silu %[[X]] : tensor<16x!quant.uniform<i8:f32, 5.000000e-02:-3>> -> tensor<16x!quant.uniform<i8:f32, 3.000000e-02:-40>>
// CHECK:         return %[[G]], %[[S]], %[[F]]
func.func @tanh_gelu_and_silu(%x: tensor<16x!quant.uniform<i8:f32, 0.05:-3>>) -> (tensor<16x!quant.uniform<i8:f32, 0.04:-20>>, tensor<16x!quant.uniform<i8:f32, 0.03:-40>>, tensor<16xf32>) {
  %f = qlow.dequantize %x : tensor<16x!quant.uniform<i8:f32, 0.05:-3>> -> tensor<16xf32>
  %g = qlow.gelu %f {approximate = #qlow.gelu_approximation<tanh>} : tensor<16xf32> -> tensor<16xf32>
  %gq = qlow.quantize %g : tensor<16xf32> -> tensor<16x!quant.uniform<i8:f32, 0.04:-20>>
  %s = qlow.silu %f : tensor<16xf32> -> tensor<16xf32>
  %sq = qlow.quantize %s : tensor<16xf32> -> tensor<16x!quant.uniform<i8:f32, 0.03:-40>>
  return %gq, %sq, %f : tensor<16x!quant.uniform<i8:f32, 0.04:-20>>, tensor<16x!quant.uniform<i8:f32, 0.03:-40>>, tensor<16xf32>
}

// -----

// Not folded: the f32 GELU is also a result (its users would see other
// numbers); a 16-bit input (65536 values: no table); an f32 input that is
// not dequantized (the decoder's gate projection); a per-channel result.
// CHECK-LABEL: func.func @not_folded(
// CHECK-COUNT-4: qlow.quantize
// CHECK-NOT:     qlow.gelu %arg
// CHECK-NOT:     qlow.silu %arg
// CHECK:         return
func.func @not_folded(%a: tensor<8x!quant.uniform<u8:f32, 0.04:128>>, %b: tensor<8x!quant.uniform<i16:f32, 0.001>>, %c: tensor<8xf32>, %d: tensor<2x8x!quant.uniform<u8:f32, 0.04:128>>)
    -> (tensor<8x!quant.uniform<u8:f32, 0.02:10>>, tensor<8xf32>, tensor<8x!quant.uniform<u8:f32, 0.02:10>>, tensor<8x!quant.uniform<u8:f32, 0.02:10>>, tensor<2x8x!quant.uniform<u8:f32:1, {0.02:10, 0.03:10, 0.02:10, 0.03:10, 0.02:10, 0.03:10, 0.02:10, 0.03:10}>>) {
  %af = qlow.dequantize %a : tensor<8x!quant.uniform<u8:f32, 0.04:128>> -> tensor<8xf32>
  %ag = qlow.gelu %af : tensor<8xf32> -> tensor<8xf32>
  %aq = qlow.quantize %ag : tensor<8xf32> -> tensor<8x!quant.uniform<u8:f32, 0.02:10>>
  %bf = qlow.dequantize %b : tensor<8x!quant.uniform<i16:f32, 0.001>> -> tensor<8xf32>
  %bg = qlow.gelu %bf : tensor<8xf32> -> tensor<8xf32>
  %bq = qlow.quantize %bg : tensor<8xf32> -> tensor<8x!quant.uniform<u8:f32, 0.02:10>>
  %cs = qlow.silu %c : tensor<8xf32> -> tensor<8xf32>
  %cq = qlow.quantize %cs : tensor<8xf32> -> tensor<8x!quant.uniform<u8:f32, 0.02:10>>
  %df = qlow.dequantize %d : tensor<2x8x!quant.uniform<u8:f32, 0.04:128>> -> tensor<2x8xf32>
  %dg = qlow.gelu %df : tensor<2x8xf32> -> tensor<2x8xf32>
  %dq = qlow.quantize %dg : tensor<2x8xf32> -> tensor<2x8x!quant.uniform<u8:f32:1, {0.02:10, 0.03:10, 0.02:10, 0.03:10, 0.02:10, 0.03:10, 0.02:10, 0.03:10}>>
  return %aq, %ag, %bq, %cq, %dq : tensor<8x!quant.uniform<u8:f32, 0.02:10>>, tensor<8xf32>, tensor<8x!quant.uniform<u8:f32, 0.02:10>>, tensor<8x!quant.uniform<u8:f32, 0.02:10>>, tensor<2x8x!quant.uniform<u8:f32:1, {0.02:10, 0.03:10, 0.02:10, 0.03:10, 0.02:10, 0.03:10, 0.02:10, 0.03:10}>>
}
