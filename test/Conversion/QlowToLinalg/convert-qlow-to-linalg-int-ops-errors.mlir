// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file -verify-diagnostics
//
// Preconditions of the integer-only lowering, each reported at the op.

// gamma is folded into fixed-point multipliers: it must be a constant.
func.func @gamma_not_constant(%x: tensor<2x4x!quant.uniform<i8:f32, 0.1>>, %g: tensor<4xf32>) -> tensor<2x4x!quant.uniform<i8:f32, 0.05>> {
  // expected-error @+2 {{'qlow.int_layer_norm' op lowering needs gamma to be a constant (it is folded into fixed-point multipliers)}}
  // expected-error @+1 {{failed to legalize operation 'qlow.int_layer_norm'}}
  %y = qlow.int_layer_norm %x, %g : (tensor<2x4x!quant.uniform<i8:f32, 0.1>>, tensor<4xf32>) -> tensor<2x4x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<2x4x!quant.uniform<i8:f32, 0.05>>
}

// -----

// gamma / so = 2000 / 0.05 = 40000 >= 2^15 has no i32 fixed-point form.
func.func @gamma_too_large(%x: tensor<2x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x4x!quant.uniform<i8:f32, 0.05>> {
  %g = arith.constant dense<2000.0> : tensor<4xf32>
  // expected-error @+2 {{'qlow.int_layer_norm' op int_layer_norm: gamma[0] = 2000.000000 is not finite or too large for the output scale (|gamma / so| must be below 2^15)}}
  // expected-error @+1 {{failed to legalize operation 'qlow.int_layer_norm'}}
  %y = qlow.int_layer_norm %x, %g : (tensor<2x4x!quant.uniform<i8:f32, 0.1>>, tensor<4xf32>) -> tensor<2x4x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<2x4x!quant.uniform<i8:f32, 0.05>>
}

// -----

// Dynamic shapes are not lowered.
func.func @dynamic_gelu(%x: tensor<?x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<?x4x!quant.uniform<i8:f32, 0.05>> {
  // expected-error @+2 {{'qlow.int_gelu' op lowering needs static shapes}}
  // expected-error @+1 {{failed to legalize operation 'qlow.int_gelu'}}
  %y = qlow.int_gelu %x : tensor<?x4x!quant.uniform<i8:f32, 0.1>> -> tensor<?x4x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<?x4x!quant.uniform<i8:f32, 0.05>>
}
