// RUN: not qlow-opt %s -split-input-file 2>&1 | FileCheck %s
//
// Unknown ops, attributes and types are rejected with a diagnostic and a
// non-zero exit, never a crash (`not` fails on a signal). Each case is checked
// in order.

// An op qlow does not define, in custom form.
// CHECK: error: custom op 'qlow.frobnicate' is unknown
func.func @custom_unknown_qlow_op(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = qlow.frobnicate %x : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// The same op in generic form: qlow does not allow unknown ops.
// CHECK: error: unregistered operation 'qlow.frobnicate' found in dialect ('qlow') that does not allow unknown operations
func.func @generic_unknown_qlow_op(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = "qlow.frobnicate"(%x) : (tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// An op of a dialect qlow-opt does not register, in custom form.
// CHECK: error: Dialect `frob' not found for custom op 'frob.nicate'
func.func @custom_unknown_dialect(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = frob.nicate %x : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// The same in generic form.
// CHECK: error: operation being parsed with an unregistered dialect
func.func @generic_unknown_dialect(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = "frob.nicate"(%x) : (tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// An attribute qlow does not define.
// CHECK: error: unknown attribute `frobnicate` in dialect `qlow`
func.func @unknown_qlow_attribute(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.2>> {
  %r = qlow.requantize %q {rounding = #qlow.frobnicate<float>} : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i8:f32, 0.2>>
  return %r : tensor<8x!quant.uniform<i8:f32, 0.2>>
}

// -----

// qlow defines no types.
// CHECK: error: dialect 'qlow' provides no type parsing hook
func.func @qlow_type(%x: tensor<8x!qlow.int4>) {
  return
}

// -----

// A type of an unregistered dialect.
// CHECK: error: `!"frob"<"int4">` type created with unregistered dialect
func.func @unknown_dialect_type(%x: tensor<8x!frob.int4>) {
  return
}

// -----

// An op outside any function that is not a qlow op either.
// CHECK: error: custom op 'frobnicate' is unknown
frobnicate
