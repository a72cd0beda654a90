// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file -verify-diagnostics

// u8 activations with zero point 0 and i8 weights: |a - za| <= 255, |w| <= 128,
// and 255 * 128 * 70000 > 2^31 - 1, so the i32 accumulator could overflow.
func.func @k_too_large(%a: tensor<1x70000x!quant.uniform<u8:f32, 0.5>>, %w: tensor<70000x1x!quant.uniform<i8:f32, 0.25>>) -> tensor<1x1xi32> {
  // expected-error @+1 {{'qlow.matmul' op K = 70000 can overflow the i32 accumulator (worst case |sum| = 2284800000); split K into chunks whose partial sums are requantized}}
  %y = qlow.matmul %a, %w : (tensor<1x70000x!quant.uniform<u8:f32, 0.5>>, tensor<70000x1x!quant.uniform<i8:f32, 0.25>>) -> tensor<1x1xi32>
  return %y : tensor<1x1xi32>
}

// -----

// Ops without a lowering yet are reported, not dropped: the float ops are
// lowered on static shapes only.
func.func @softmax_dynamic_shape(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{failed to legalize operation 'qlow.softmax'}}
  %y = qlow.softmax %x : tensor<?x4xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A sub-channel (blockwise) quantized input of a float op has no dequantizing
// lowering yet.
func.func @gelu_blockwise_input(%x: tensor<2x4x!quant.uniform<i8:f32:{1:2}, {{0.1, 0.2}}>>) -> tensor<2x4xf32> {
  // expected-error @+1 {{failed to legalize operation 'qlow.gelu'}}
  %y = qlow.gelu %x : tensor<2x4x!quant.uniform<i8:f32:{1:2}, {{0.1, 0.2}}>> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
