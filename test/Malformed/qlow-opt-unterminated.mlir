// RUN: not qlow-opt %s -split-input-file 2>&1 | FileCheck %s
//
// Constructs left open at the end of the input get a diagnostic and a
// non-zero exit, never a crash (`not` fails on a signal). With
// -split-input-file each case ends at the next split marker. Each case is
// checked in order.

// A function body without its closing brace.
// CHECK: error: expected operation name in quotes
func.func @open_region(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = qlow.silu %x : tensor<8xf32> -> tensor<8xf32>
  return %y : tensor<8xf32>

// -----

// A string attribute without its closing quote.
// CHECK: error: expected '"' in string literal
func.func @open_string(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = qlow.observe %x {name = "open : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// An attribute dictionary without its closing brace.
// CHECK: error: expected attribute name
func.func @open_attr_dict(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %y = qlow.softmax %x {axis = 1 : i64,

// -----

// A tensor type without its closing bracket.
// CHECK: error: expected non-function type
func.func @open_tensor_type(%x: tensor<8x

// -----

// A functional type without its closing parenthesis.
// CHECK: error: expected ')'
func.func @open_function_type(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %y = qlow.matmul %a, %a : (tensor<4x4xf32>, tensor<4x4xf32>

// -----

// A quantized type without its closing bracket.
// CHECK: error: unbalanced '<' character in pretty dialect name
func.func @open_quant_type(%x: tensor<8xf32>) {
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.1

// -----

// An operand list cut off after a comma.
// CHECK: error: expected SSA operand
func.func @open_operands(%x: tensor<1x1x4x8xf32>) {
  %o = qlow.attention %x, %x,

// -----

// An op that stops after its name.
// CHECK: error: expected SSA operand
func.func @open_op(%x: tensor<8xf32>) {
  %y = qlow.gelu
