// RUN: not qlow-opt %s -split-input-file 2>&1 | FileCheck %s
//
// Bad quantized types get a diagnostic (from upstream's quant type parser or
// from qlow's re-verification) and a non-zero exit, never a crash. Each case
// is checked in order; invalid.mlir checks the qlow messages in detail.

// Zero scale.
// CHECK: error: scale 0.000000e+00 out of expressed type range
func.func @zero_scale(%x: tensor<8x!quant.uniform<i8:f32, 0.0>>) {
  return
}

// -----

// Zero point 300 for i8 storage: accepted by upstream, rejected by qlow.
// CHECK: error: 'qlow.dequantize' op operand #0 has zero point 300 outside the storage range [-128, 127] of i8
func.func @zero_point_300(%q: tensor<8x!quant.uniform<i8:f32, 0.1:300>>) -> tensor<8xf32> {
  %x = qlow.dequantize %q : tensor<8x!quant.uniform<i8:f32, 0.1:300>> -> tensor<8xf32>
  return %x : tensor<8xf32>
}

// -----

// A zero point too large for any integer.
// CHECK: error: integer value too large
func.func @zero_point_huge(%q: tensor<8x!quant.uniform<i8:f32, 0.1:99999999999999999999>>) {
  return
}

// -----

// NaN scale (f64 bit pattern).
// CHECK: error: 'qlow.dequantize' op operand #0 has scale nan: scales must be positive and finite
!nan = !quant.uniform<i8:f32, 0x7FF8000000000000>
func.func @nan_scale(%q: tensor<8x!nan>) -> tensor<8xf32> {
  %x = qlow.dequantize %q : tensor<8x!nan> -> tensor<8xf32>
  return %x : tensor<8xf32>
}

// -----

// Infinite scale (f64 bit pattern).
// CHECK: error: scale INF out of expressed type range
func.func @inf_scale(%q: tensor<8x!quant.uniform<i8:f32, 0x7FF0000000000000>>) {
  return
}

// -----

// A scale that overflows double.
// CHECK: error: scale INF out of expressed type range
func.func @overflowing_scale(%q: tensor<8x!quant.uniform<i8:f32, 1.0e309>>) {
  return
}

// -----

// 9-bit storage: accepted by upstream, rejected by qlow.
// CHECK: error: 'qlow.dequantize' op operand #0 has 9-bit storage; qlow supports 4, 8, 16 and 32 bits
func.func @storage_i9(%q: tensor<8x!quant.uniform<i9:f32, 0.1>>) -> tensor<8xf32> {
  %x = qlow.dequantize %q : tensor<8x!quant.uniform<i9:f32, 0.1>> -> tensor<8xf32>
  return %x : tensor<8xf32>
}

// -----

// 64-bit storage.
// CHECK: error: illegal storage type size: 64
func.func @storage_i64(%q: tensor<8x!quant.uniform<i64:f32, 0.1>>) {
  return
}

// -----

// A float storage type. (Upstream's message prints a garbage width here, so
// only its start is checked.)
// CHECK: error: illegal storage type size:
func.func @storage_f8(%q: tensor<8x!quant.uniform<f8E4M3FN:f32, 0.1>>) {
  return
}

// -----

// An integer expressed type.
// CHECK: error: invalid kind of type specified
func.func @expressed_i8(%q: tensor<8x!quant.uniform<i8:i8, 0.1>>) {
  return
}

// -----

// No scale at all.
// CHECK: error: expected ','
func.func @no_scale(%q: tensor<8x!quant.uniform<i8:f32>>) {
  return
}

// -----

// A scale that is not a number.
// CHECK: error: expected floating point literal
func.func @scale_not_a_number(%q: tensor<8x!quant.uniform<i8:f32, abc>>) {
  return
}

// -----

// A quantized axis too large for an integer.
// CHECK: error: integer value too large
func.func @axis_huge(%q: tensor<8x!quant.uniform<i8:f32:99999999999, {0.1}>>) {
  return
}

// -----

// A negative quantized axis.
// CHECK: error: illegal quantized dimension: -1
func.func @axis_negative(%q: tensor<8x!quant.uniform<i8:f32:-1, {0.1}>>) {
  return
}

// -----

// A block size larger than the dimension.
// CHECK: error: 'qlow.dequantize' op operand #0 has block size 99999999999999 along axis 0, which does not divide the dimension size 4
func.func @block_size_huge(%q: tensor<4x2x!quant.uniform<i8:f32:{0:99999999999999}, {{0.1}}>>) -> tensor<4x2xf32> {
  %x = qlow.dequantize %q : tensor<4x2x!quant.uniform<i8:f32:{0:99999999999999}, {{0.1}}>> -> tensor<4x2xf32>
  return %x : tensor<4x2xf32>
}

// -----

// Scale rows of different lengths.
// CHECK: error: tensor literal is invalid; ranks are not consistent between elements
func.func @ragged_scales(%q: tensor<4x2x!quant.uniform<i8:f32:{0:2}, {{0.1}, {0.2, 0.3}}>>) {
  return
}

// -----

// An unbalanced brace in a sub-channel scale list.
// CHECK: error: unbalanced '{' character in pretty dialect name
func.func @unbalanced_scales(%q: tensor<4x2x!quant.uniform<i8:f32:{0:2}, {{0.1}>>) {
  return
}

// -----

// An unknown quantized type.
// CHECK: error: unknown quantized type frobnicated
func.func @unknown_quant_type(%q: tensor<8x!quant.frobnicated<i8:f32, 0.1>>) {
  return
}

// -----

// A quantized type on a scalar-like rank-0 tensor with a per-axis type.
// CHECK: error: 'qlow.dequantize' op operand #0 is quantized along axis 0, which is out of range for a tensor of rank 0
func.func @per_axis_rank0(%q: tensor<!quant.uniform<i8:f32:0, {0.1}>>) -> tensor<f32> {
  %x = qlow.dequantize %q : tensor<!quant.uniform<i8:f32:0, {0.1}>> -> tensor<f32>
  return %x : tensor<f32>
}

// -----

// A sub-channel type on a rank-0 tensor.
// CHECK: error: 'qlow.dequantize' op operand #0 has a scale tensor of rank 1 for a tensor of rank 0
func.func @sub_channel_rank0(%q: tensor<!quant.uniform<i8:f32:{0:1}, {0.1}>>) -> tensor<f32> {
  %x = qlow.dequantize %q : tensor<!quant.uniform<i8:f32:{0:1}, {0.1}>> -> tensor<f32>
  return %x : tensor<f32>
}
