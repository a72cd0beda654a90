// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file -verify-diagnostics

// u8 activations with zero point 0 and i8 weights: |a - za| <= 255, |w| <= 128,
// and 255 * 128 * 70000 > 2^31 - 1, so the i32 accumulator could overflow.
func.func @k_too_large(%a: tensor<1x70000x!quant.uniform<u8:f32, 0.5>>, %w: tensor<70000x1x!quant.uniform<i8:f32, 0.25>>) -> tensor<1x1xi32> {
  // expected-error @+1 {{'qlow.matmul' op K = 70000 can overflow the i32 accumulator (worst case |sum| = 2284800000); split K into chunks whose partial sums are requantized}}
  %y = qlow.matmul %a, %w : (tensor<1x70000x!quant.uniform<u8:f32, 0.5>>, tensor<70000x1x!quant.uniform<i8:f32, 0.25>>) -> tensor<1x1xi32>
  return %y : tensor<1x1xi32>
}

// -----

// Ops without a lowering yet are reported, not dropped.
func.func @softmax_not_lowered(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{failed to legalize operation 'qlow.softmax'}}
  %y = qlow.softmax %x : tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
