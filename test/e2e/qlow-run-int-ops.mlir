// The integer-only ops through the reference interpreter (qlow-run
// --reference) on inputs whose results are worked out by hand; the unit tests
// (test/unit/IntegerOnlyTest.cpp) derive the same numbers step by step.
// RUN: qlow-run --reference %s --entry int_softmax --print | FileCheck %s --check-prefix=SM
// RUN: qlow-run --reference %s --entry int_layer_norm --print | FileCheck %s --check-prefix=LN
// RUN: qlow-run --reference %s --entry int_gelu --print | FileCheck %s --check-prefix=GE
// RUN: not qlow-run --reference %s --entry big_gamma 2>&1 | FileCheck %s --check-prefix=ERR

// Four equal values: 64 / 256 each. [0, 0, 0, 127] at scale 1: e^-127 is 0
// and the max gets 2^30 -> 256, saturated to 255.
// SM: result #0: tensor<2x4xf32>
// SM: values: 0.25 0.25 0.25 0.25 0 0 0 0.9960938
func.func @int_softmax() -> tensor<2x4xf32> {
  %c = arith.constant dense<[[5, 5, 5, 5], [0, 0, 0, 127]]> : tensor<2x4xi8>
  %x = quant.scast %c : tensor<2x4xi8> to tensor<2x4x!quant.uniform<i8:f32, 1.0>>
  %p = qlow.int_softmax %x : tensor<2x4x!quant.uniform<i8:f32, 1.0>> -> tensor<2x4x!quant.uniform<u8:f32, 0.00390625>>
  %d = qlow.dequantize %p : tensor<2x4x!quant.uniform<u8:f32, 0.00390625>> -> tensor<2x4xf32>
  return %d : tensor<2x4xf32>
}

// Row [1, -1]: mean 0, variance 1 -> [1, -1]. Row [3, 3]: variance 0 -> beta.
// LN: result #0: tensor<2x2xf32>
// LN: values: 1 -0.5 0 0.5
func.func @int_layer_norm() -> tensor<2x2xf32> {
  %c = arith.constant dense<[[1, -1], [3, 3]]> : tensor<2x2xi8>
  %x = quant.scast %c : tensor<2x2xi8> to tensor<2x2x!quant.uniform<i8:f32, 1.0>>
  %g = arith.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %b = arith.constant dense<[0.0, 0.5]> : tensor<2xf32>
  %y = qlow.int_layer_norm %x, %g, %b {epsilon = 0.0 : f32} : (tensor<2x2x!quant.uniform<i8:f32, 1.0>>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2x!quant.uniform<i8:f32, 0.015625>>
  %d = qlow.dequantize %y : tensor<2x2x!quant.uniform<i8:f32, 0.015625>> -> tensor<2x2xf32>
  return %d : tensor<2x2xf32>
}

// erf(4 / sqrt(2)) is clipped to 1: gelu(4) = 4; gelu(-4) = 0; gelu(0) = 0.
// GE: result #0: tensor<3xf32>
// GE: values: 4 0 0
func.func @int_gelu() -> tensor<3xf32> {
  %c = arith.constant dense<[4, -4, 0]> : tensor<3xi8>
  %x = quant.scast %c : tensor<3xi8> to tensor<3x!quant.uniform<i8:f32, 1.0>>
  %y = qlow.int_gelu %x : tensor<3x!quant.uniform<i8:f32, 1.0>> -> tensor<3x!quant.uniform<i8:f32, 0.0625>>
  %d = qlow.dequantize %y : tensor<3x!quant.uniform<i8:f32, 0.0625>> -> tensor<3xf32>
  return %d : tensor<3xf32>
}

// gamma / output scale = 1e5 does not fit the i32 fixed-point multiplier.
// ERR: error: reference evaluation failed: int_layer_norm: gamma[1] = 1000.000000 is not finite or too large for the output scale
func.func @big_gamma() -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, -1]]> : tensor<1x2xi8>
  %x = quant.scast %c : tensor<1x2xi8> to tensor<1x2x!quant.uniform<i8:f32, 1.0>>
  %g = arith.constant dense<[1.0, 1000.0]> : tensor<2xf32>
  %y = qlow.int_layer_norm %x, %g : (tensor<1x2x!quant.uniform<i8:f32, 1.0>>, tensor<2xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.01>>
  %d = qlow.dequantize %y : tensor<1x2x!quant.uniform<i8:f32, 0.01>> -> tensor<1x2xf32>
  return %d : tensor<1x2xf32>
}
