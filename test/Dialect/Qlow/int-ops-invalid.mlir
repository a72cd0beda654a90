// RUN: qlow-opt %s -split-input-file -verify-diagnostics
//
// Every verifier message of the integer-only ops.

// An f32 input belongs to qlow.softmax, not the integer-only form.
func.func @int_softmax_f32_input(%x: tensor<8xf32>) -> tensor<8x!quant.uniform<u8:f32, 0.00390625>> {
  // expected-error @+1 {{'qlow.int_softmax' op input must be a tensor of a quantized type (integer-only ops compute on stored values; use the float form for f32), but has type 'tensor<8xf32>'}}
  %y = qlow.int_softmax %x : tensor<8xf32> -> tensor<8x!quant.uniform<u8:f32, 0.00390625>>
  return %y : tensor<8x!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// The result must be quantized too: dequantize it afterwards for f32.
func.func @int_softmax_f32_result(%x: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.int_softmax' op result must be a tensor of a quantized type (integer-only ops compute on stored values; use the float form for f32), but has type 'tensor<8xf32>'}}
  %y = qlow.int_softmax %x : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// Per-axis scales would make the max subtraction meaningless.
func.func @int_softmax_per_axis(%x: tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>) -> tensor<2x3x!quant.uniform<u8:f32, 0.00390625>> {
  // expected-error @+1 {{'qlow.int_softmax' op input must be quantized per tensor, but has type 'tensor<2x3x!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01,3.000000e-01}>>'}}
  %y = qlow.int_softmax %x : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> -> tensor<2x3x!quant.uniform<u8:f32, 0.00390625>>
  return %y : tensor<2x3x!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// A 4-bit input is not supported.
func.func @int_softmax_i4(%x: tensor<8x!quant.uniform<i4:f32, 0.5>>) -> tensor<8x!quant.uniform<u8:f32, 0.00390625>> {
  // expected-error @+1 {{'qlow.int_softmax' op input storage must be 8, 16 or 32 bits wide, but has type 'tensor<8x!quant.uniform<i4:f32, 5.000000e-01>>'}}
  %y = qlow.int_softmax %x : tensor<8x!quant.uniform<i4:f32, 0.5>> -> tensor<8x!quant.uniform<u8:f32, 0.00390625>>
  return %y : tensor<8x!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// Results are 8 or 16 bits: a 32-bit probability would waste the output.
func.func @int_softmax_i32_result(%x: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i32:f32, 1.0e-9>> {
  // expected-error @+1 {{'qlow.int_softmax' op result storage must be 8 or 16 bits wide, but has type 'tensor<8x!quant.uniform<i32:f32, 1.000000e-09>>'}}
  %y = qlow.int_softmax %x : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i32:f32, 1.0e-9>>
  return %y : tensor<8x!quant.uniform<i32:f32, 1.0e-9>>
}

// -----

// The axis must name a dimension.
func.func @int_softmax_axis(%x: tensor<2x8x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x8x!quant.uniform<u8:f32, 0.00390625>> {
  // expected-error @+1 {{'qlow.int_softmax' op axis -3 is out of range for rank 2: use a value in [-2, 1]}}
  %y = qlow.int_softmax %x {axis = -3 : i64} : tensor<2x8x!quant.uniform<i8:f32, 0.1>> -> tensor<2x8x!quant.uniform<u8:f32, 0.00390625>>
  return %y : tensor<2x8x!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// Input and result shapes differ.
func.func @int_softmax_shape(%x: tensor<2x8x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x7x!quant.uniform<u8:f32, 0.00390625>> {
  // expected-error @+1 {{'qlow.int_softmax' op result shape [2, 7] must equal the input shape [2, 8]}}
  %y = qlow.int_softmax %x : tensor<2x8x!quant.uniform<i8:f32, 0.1>> -> tensor<2x7x!quant.uniform<u8:f32, 0.00390625>>
  return %y : tensor<2x7x!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// The i32 sum of i-exp values would overflow on a longer axis.
func.func @int_softmax_long_axis(%x: tensor<2x40000x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x40000x!quant.uniform<u8:f32, 0.00390625>> {
  // expected-error @+1 {{'qlow.int_softmax' op the softmax axis has 40000 elements; at most 32768 keep the i32 sum of i-exp values exact}}
  %y = qlow.int_softmax %x : tensor<2x40000x!quant.uniform<i8:f32, 0.1>> -> tensor<2x40000x!quant.uniform<u8:f32, 0.00390625>>
  return %y : tensor<2x40000x!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// A scalar has no axis to normalize along.
func.func @int_softmax_scalar(%x: tensor<!quant.uniform<i8:f32, 0.1>>) -> tensor<!quant.uniform<u8:f32, 0.00390625>> {
  // expected-error @+1 {{'qlow.int_softmax' op input must have rank >= 1}}
  %y = qlow.int_softmax %x : tensor<!quant.uniform<i8:f32, 0.1>> -> tensor<!quant.uniform<u8:f32, 0.00390625>>
  return %y : tensor<!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// layer_norm takes 8- or 16-bit inputs only (the residual add produces them).
func.func @int_layer_norm_i32(%x: tensor<4x8x!quant.uniform<i32:f32, 0.001>>, %g: tensor<8xf32>) -> tensor<4x8x!quant.uniform<i8:f32, 0.05>> {
  // expected-error @+1 {{'qlow.int_layer_norm' op input storage must be 8 or 16 bits wide, but has type 'tensor<4x8x!quant.uniform<i32:f32, 1.000000e-03>>'}}
  %y = qlow.int_layer_norm %x, %g : (tensor<4x8x!quant.uniform<i32:f32, 0.001>>, tensor<8xf32>) -> tensor<4x8x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<4x8x!quant.uniform<i8:f32, 0.05>>
}

// -----

// gamma must have one value per normalized element.
func.func @int_layer_norm_gamma(%x: tensor<4x8x!quant.uniform<i8:f32, 0.1>>, %g: tensor<7xf32>) -> tensor<4x8x!quant.uniform<i8:f32, 0.05>> {
  // expected-error @+1 {{'qlow.int_layer_norm' op gamma has 7 elements, but the normalized (last) dimension has size 8}}
  %y = qlow.int_layer_norm %x, %g : (tensor<4x8x!quant.uniform<i8:f32, 0.1>>, tensor<7xf32>) -> tensor<4x8x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<4x8x!quant.uniform<i8:f32, 0.05>>
}

// -----

// gamma and beta are f32 (folded into fixed point), not quantized.
func.func @int_layer_norm_beta(%x: tensor<4x8x!quant.uniform<i8:f32, 0.1>>, %g: tensor<8xf32>, %b: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x8x!quant.uniform<i8:f32, 0.05>> {
  // expected-error @+1 {{'qlow.int_layer_norm' op beta must be a 1-D tensor of f32, but has type 'tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>'}}
  %y = qlow.int_layer_norm %x, %g, %b : (tensor<4x8x!quant.uniform<i8:f32, 0.1>>, tensor<8xf32>, tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x8x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<4x8x!quant.uniform<i8:f32, 0.05>>
}

// -----

// A negative epsilon is not a variance floor.
func.func @int_layer_norm_epsilon(%x: tensor<4x8x!quant.uniform<i8:f32, 0.1>>, %g: tensor<8xf32>) -> tensor<4x8x!quant.uniform<i8:f32, 0.05>> {
  // expected-error @+1 {{'qlow.int_layer_norm' op epsilon must be finite and >= 0, but is -1.000000e+00}}
  %y = qlow.int_layer_norm %x, %g {epsilon = -1.0 : f32} : (tensor<4x8x!quant.uniform<i8:f32, 0.1>>, tensor<8xf32>) -> tensor<4x8x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<4x8x!quant.uniform<i8:f32, 0.05>>
}

// -----

// The fixed-point normalization holds for rows of at most 65536 elements.
func.func @int_layer_norm_long_row(%x: tensor<1x70000x!quant.uniform<i8:f32, 0.1>>, %g: tensor<70000xf32>) -> tensor<1x70000x!quant.uniform<i8:f32, 0.05>> {
  // expected-error @+1 {{'qlow.int_layer_norm' op the normalized (last) dimension has 70000 elements; at most 65536 keep the fixed-point normalization in range}}
  %y = qlow.int_layer_norm %x, %g : (tensor<1x70000x!quant.uniform<i8:f32, 0.1>>, tensor<70000xf32>) -> tensor<1x70000x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<1x70000x!quant.uniform<i8:f32, 0.05>>
}

// -----

// A per-axis result of layer_norm is not supported.
func.func @int_layer_norm_per_axis_result(%x: tensor<4x2x!quant.uniform<i8:f32, 0.1>>, %g: tensor<2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>> {
  // expected-error @+1 {{'qlow.int_layer_norm' op result must be quantized per tensor, but has type 'tensor<4x2x!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01}>>'}}
  %y = qlow.int_layer_norm %x, %g : (tensor<4x2x!quant.uniform<i8:f32, 0.1>>, tensor<2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  return %y : tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
}

// -----

// gelu on a plain integer tensor: there is no scale to apply.
func.func @int_gelu_int_input(%x: tensor<8xi8>) -> tensor<8x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.int_gelu' op input must be a tensor of a quantized type (integer-only ops compute on stored values; use the float form for f32), but has type 'tensor<8xi8>'}}
  %y = qlow.int_gelu %x : tensor<8xi8> -> tensor<8x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<8x!quant.uniform<i8:f32, 0.1>>
}

// -----

// gelu takes 8- or 16-bit inputs: d * (1 + erf) must fit i32.
func.func @int_gelu_i32(%x: tensor<8x!quant.uniform<i32:f32, 0.001>>) -> tensor<8x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.int_gelu' op input storage must be 8 or 16 bits wide, but has type 'tensor<8x!quant.uniform<i32:f32, 1.000000e-03>>'}}
  %y = qlow.int_gelu %x : tensor<8x!quant.uniform<i32:f32, 0.001>> -> tensor<8x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<8x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Shapes must match.
func.func @int_gelu_shape(%x: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.int_gelu' op result shape [4] must equal the input shape [8]}}
  %y = qlow.int_gelu %x : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<4x!quant.uniform<i8:f32, 0.1>>
}
