// RUN: qlow-opt %s --qlow-fold-qdq -split-input-file -verify-diagnostics | FileCheck %s
// RUN: qlow-opt %s --qlow-fold-qdq=report=false -split-input-file | FileCheck %s
// RUN: not qlow-opt %s --qlow-fold-qdq=rounding=nearest 2>&1 | FileCheck %s --check-prefix=BADOPT
//
// Graphs qlow-fold-qdq must not fold (or folds only in part): each op left in
// float keeps its dequantize inputs and quantize users, and is reported with
// a remark naming the reason (`report`, on by default). Each case says why it
// cannot fold. With report=false the same output comes without remarks.

// BADOPT: for the --rounding option: Cannot find option named 'nearest'!

// Weights quantized along K (axis 0) have no integer matmul: the scale would
// vary inside the sum.
// CHECK-LABEL: func.func @rhs_per_k(
// CHECK:         qlow.matmul %{{.+}}, %{{.+}} : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
// CHECK:         qlow.quantize
func.func @rhs_per_k(%x: tensor<4x8x!quant.uniform<u8:f32, 0.02:128>>, %w: tensor<8x2x!quant.uniform<i8:f32:0, {0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.2}>>) -> tensor<4x2x!quant.uniform<i8:f32, 0.1>> {
  %a = qlow.dequantize %x : tensor<4x8x!quant.uniform<u8:f32, 0.02:128>> -> tensor<4x8xf32>
  %wd = qlow.dequantize %w : tensor<8x2x!quant.uniform<i8:f32:0, {0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.2}>> -> tensor<8x2xf32>
  // expected-remark @+1 {{left in float: qlow.matmul (rhs is quantized per axis 0; the integer matmul needs rhs per tensor, per output channel (axis 1) or in blocks along K)}}
  %y = qlow.matmul %a, %wd : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
  %yq = qlow.quantize %y : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32, 0.1>>
  return %yq : tensor<4x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Activations quantized per column (axis K) cannot be factored out of the sum.
// CHECK-LABEL: func.func @lhs_per_k(
// CHECK:         qlow.matmul %{{.+}}, %{{.+}} : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
func.func @lhs_per_k(%x: tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>, %w: tensor<3x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x2xf32> {
  %a = qlow.dequantize %x : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> -> tensor<2x3xf32>
  %wd = qlow.dequantize %w : tensor<3x2x!quant.uniform<i8:f32, 0.1>> -> tensor<3x2xf32>
  // expected-remark @+1 {{left in float: qlow.matmul (lhs is quantized per axis 1; the integer matmul needs lhs per tensor or per row (axis 0))}}
  %y = qlow.matmul %a, %wd : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// Float weights (no dequantize): quantizing them is qlow-quantize's job.
// CHECK-LABEL: func.func @float_weights(
// CHECK:         qlow.matmul %{{.+}}, %{{.+}} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
func.func @float_weights(%x: tensor<2x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x2x!quant.uniform<i8:f32, 0.1>> {
  %a = qlow.dequantize %x : tensor<2x2x!quant.uniform<i8:f32, 0.1>> -> tensor<2x2xf32>
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-remark @+1 {{left in float: qlow.matmul (rhs comes from arith.constant, not from qlow.dequantize)}}
  %y = qlow.matmul %a, %w : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %yq = qlow.quantize %y : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<i8:f32, 0.1>>
  return %yq : tensor<2x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// f32 activations straight from the function's arguments.
// CHECK-LABEL: func.func @float_activations(
// CHECK:         qlow.matmul %{{.+}}, %{{.+}} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
func.func @float_activations(%x: tensor<2x2xf32>, %w: tensor<2x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x2xf32> {
  %wd = qlow.dequantize %w : tensor<2x2x!quant.uniform<i8:f32, 0.1>> -> tensor<2x2xf32>
  // expected-remark @+1 {{left in float: qlow.matmul (lhs is a block argument, not the result of qlow.dequantize)}}
  %y = qlow.matmul %x, %wd : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// i16 x i16 with K = 4: 4 * 32768 * 32768 = 2^32 can overflow the i32
// accumulator (convert-qlow-to-linalg would reject the integer matmul).
// CHECK-LABEL: func.func @accumulator_overflow(
// CHECK:         qlow.matmul %{{.+}}, %{{.+}} : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
func.func @accumulator_overflow(%x: tensor<2x4x!quant.uniform<i16:f32, 0.001>>, %w: tensor<4x2x!quant.uniform<i16:f32, 0.001>>) -> tensor<2x2xf32> {
  %a = qlow.dequantize %x : tensor<2x4x!quant.uniform<i16:f32, 0.001>> -> tensor<2x4xf32>
  %wd = qlow.dequantize %w : tensor<4x2x!quant.uniform<i16:f32, 0.001>> -> tensor<4x2xf32>
  // expected-remark @+1 {{left in float: qlow.matmul (the i32 accumulator can overflow: K * max|q_lhs - z_lhs| * max|q_rhs - z_rhs| = 4294967296 > 2^31 - 1)}}
  %y = qlow.matmul %a, %wd : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// A dynamic K: the accumulator bound cannot be checked.
// CHECK-LABEL: func.func @dynamic_k(
// CHECK:         qlow.matmul %{{.+}}, %{{.+}} : (tensor<2x?xf32>, tensor<?x2xf32>) -> tensor<2x2xf32>
func.func @dynamic_k(%x: tensor<2x?x!quant.uniform<i8:f32, 0.1>>, %w: tensor<?x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x2xf32> {
  %a = qlow.dequantize %x : tensor<2x?x!quant.uniform<i8:f32, 0.1>> -> tensor<2x?xf32>
  %wd = qlow.dequantize %w : tensor<?x2x!quant.uniform<i8:f32, 0.1>> -> tensor<?x2xf32>
  // expected-remark @+1 {{left in float: qlow.matmul (K is dynamic, so the i32 accumulator bound cannot be checked)}}
  %y = qlow.matmul %a, %wd : (tensor<2x?xf32>, tensor<?x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// A result quantized per row (axis 0) is not a quantized matmul result, and
// a bias of 1e10 is outside i32 in units of 0.1 * 0.1: the integer matmul
// keeps an f32 result, the bias an f32 add (reported), the quantize stays.
// CHECK-LABEL: func.func @f32_result_form(
// CHECK:         %[[Y:.+]] = qlow.matmul %{{.+}}, %{{.+}} : (tensor<2x2x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<2x2x!quant.uniform<i8:f32, 1.000000e-01>>) -> tensor<2x2xf32>
// CHECK:         qlow.quantize %[[Y]] : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>>
// CHECK:         %[[Z:.+]] = qlow.matmul %{{.+}}, %{{.+}} : ({{.+}}) -> tensor<2x2xf32>
// CHECK:         %[[S:.+]] = qlow.add %[[Z]], %{{.+}} : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
// CHECK:         qlow.quantize %[[S]]
func.func @f32_result_form(%x: tensor<2x2x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x2x!quant.uniform<i8:f32, 0.1>>) -> (tensor<2x2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>, tensor<2x2x!quant.uniform<i8:f32, 0.1>>) {
  %a = qlow.dequantize %x : tensor<2x2x!quant.uniform<i8:f32, 0.1>> -> tensor<2x2xf32>
  %wd = qlow.dequantize %w : tensor<2x2x!quant.uniform<i8:f32, 0.1>> -> tensor<2x2xf32>
  %y = qlow.matmul %a, %wd : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %yq = qlow.quantize %y : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  %b = arith.constant dense<[1.0e10, 0.0]> : tensor<2xf32>
  // expected-remark @+1 {{left in float: qlow.add (lhs is the f32 result of an integer qlow.matmul)}}
  %z = qlow.matmul %a, %wd, %b : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %zq = qlow.quantize %z : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<i8:f32, 0.1>>
  return %yq, %zq : tensor<2x2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>, tensor<2x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// No quantize after the softmax: its input stays dequantized.
// CHECK-LABEL: func.func @no_quantize(
// CHECK:         %[[D:.+]] = qlow.dequantize
// CHECK:         qlow.softmax %[[D]] : tensor<2x4xf32> -> tensor<2x4xf32>
func.func @no_quantize(%x: tensor<2x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x4xf32> {
  %d = qlow.dequantize %x : tensor<2x4x!quant.uniform<i8:f32, 0.1>> -> tensor<2x4xf32>
  // expected-remark @+1 {{left in float: qlow.softmax (no qlow.quantize on its result)}}
  %s = qlow.softmax %d : tensor<2x4xf32> -> tensor<2x4xf32>
  return %s : tensor<2x4xf32>
}

// -----

// The f32 result is also returned: that user would see other numbers.
// CHECK-LABEL: func.func @also_used_in_f32(
// CHECK:         %[[G:.+]] = qlow.gelu %{{.+}} : tensor<4xf32> -> tensor<4xf32>
// CHECK:         qlow.quantize %[[G]]
func.func @also_used_in_f32(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4xf32>) {
  %d = qlow.dequantize %x : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf32>
  // expected-remark @+1 {{left in float: qlow.gelu (its result is also used in f32 by func.return)}}
  %g = qlow.gelu %d : tensor<4xf32> -> tensor<4xf32>
  %q = qlow.quantize %g : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %q, %g : tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4xf32>
}

// -----

// Quantized to two different types: one op cannot produce both.
// CHECK-LABEL: func.func @two_types(
// CHECK:         qlow.silu %{{.+}} : tensor<4xf32> -> tensor<4xf32>
func.func @two_types(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.2>>) {
  %d = qlow.dequantize %x : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf32>
  // expected-remark @+1 {{left in float: qlow.silu (its result is quantized to two types, tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> and tensor<4x!quant.uniform<i8:f32, 2.000000e-01>>)}}
  %s = qlow.silu %d : tensor<4xf32> -> tensor<4xf32>
  %q1 = qlow.quantize %s : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %q2 = qlow.quantize %s : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.2>>
  return %q1, %q2 : tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.2>>
}

// -----

// The quantized add is per tensor only.
// CHECK-LABEL: func.func @add_per_axis(
// CHECK:         qlow.add %{{.+}}, %{{.+}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
func.func @add_per_axis(%a: tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>, %b: tensor<2x3x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x3x!quant.uniform<i8:f32, 0.2>> {
  %ad = qlow.dequantize %a : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> -> tensor<2x3xf32>
  %bd = qlow.dequantize %b : tensor<2x3x!quant.uniform<i8:f32, 0.1>> -> tensor<2x3xf32>
  // expected-remark @+1 {{left in float: qlow.add (the quantized add needs per-tensor parameters, but its lhs is quantized per axis 1)}}
  %s = qlow.add %ad, %bd : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %q = qlow.quantize %s : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32, 0.2>>
  return %q : tensor<2x3x!quant.uniform<i8:f32, 0.2>>
}

// -----

// A float operand: a residual that was never quantized.
// CHECK-LABEL: func.func @mul_float_operand(
// CHECK:         qlow.mul %{{.+}}, %{{.+}} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
func.func @mul_float_operand(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.2>> {
  %ad = qlow.dequantize %a : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf32>
  // expected-remark @+1 {{left in float: qlow.mul (rhs is a block argument, not the result of qlow.dequantize)}}
  %p = qlow.mul %ad, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %q = qlow.quantize %p : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.2>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.2>>
}

// -----

// An observe probe between the dequantize and the op hides the quantization.
// CHECK-LABEL: func.func @observed(
// CHECK:         qlow.rms_norm %{{.+}}, %{{.+}} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
func.func @observed(%x: tensor<2x4x!quant.uniform<i8:f32, 0.1>>, %g: tensor<4xf32>) -> tensor<2x4x!quant.uniform<i8:f32, 0.1>> {
  %d = qlow.dequantize %x : tensor<2x4x!quant.uniform<i8:f32, 0.1>> -> tensor<2x4xf32>
  %o = qlow.observe %d {name = "probe"} : tensor<2x4xf32>
  // expected-remark @+1 {{left in float: qlow.rms_norm (input comes from qlow.observe, not from qlow.dequantize)}}
  %r = qlow.rms_norm %o, %g : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %q = qlow.quantize %r : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<i8:f32, 0.1>>
  return %q : tensor<2x4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Only k is dequantized: attention needs q, k and v quantized.
// CHECK-LABEL: func.func @attention_partly_quantized(
// CHECK:         qlow.attention %{{.+}}, %{{.+}}, %{{.+}} : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
func.func @attention_partly_quantized(%q: tensor<1x1x2x4xf32>, %k: tensor<1x1x2x4x!quant.uniform<i8:f32, 0.1>>, %v: tensor<1x1x2x4xf32>) -> tensor<1x1x2x4x!quant.uniform<i8:f32, 0.1>> {
  %kd = qlow.dequantize %k : tensor<1x1x2x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x1x2x4xf32>
  // expected-remark @+1 {{left in float: qlow.attention (q is a block argument, not the result of qlow.dequantize)}}
  %o = qlow.attention %q, %kd, %v : (tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
  %oq = qlow.quantize %o : tensor<1x1x2x4xf32> -> tensor<1x1x2x4x!quant.uniform<i8:f32, 0.1>>
  return %oq : tensor<1x1x2x4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Boundaries are not reported: the quantize of an argument, the dequantize
// of a result.
// CHECK-LABEL: func.func @boundaries(
// CHECK:         qlow.quantize
// CHECK:         qlow.dequantize
func.func @boundaries(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = qlow.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %d = qlow.dequantize %q : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// With fixed-point rounding, TFLite's quantized add works on storage of at
// most 16 bits (its 2^20 or 2^15 headroom) and the quantized mul needs the
// product of two stored values in int32: with i32 storage both stay float
// (with float rounding, the CHECK lines, both fold).
// RUN: qlow-opt %s --qlow-fold-qdq=rounding=fixedpoint -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=FIXED
// FIXED: remark: left in float: qlow.add (the fixed-point quantized add supports storage of at most 16 bits, but an operand or the result has 32)
// FIXED: remark: left in float: qlow.mul (the product of two stored values can leave the int32 range that a fixed-point mul needs)
// CHECK-LABEL: func.func @wide_storage(
// CHECK:         qlow.add %{{.+}}, %{{.+}} {rounding = #qlow.rounding<float>} : ({{.+}}) -> tensor<4x!quant.uniform<i32:f32, 1.000000e-01>>
// CHECK:         qlow.mul %{{.+}}, %{{.+}} {rounding = #qlow.rounding<float>} : ({{.+}}) -> tensor<4x!quant.uniform<i16:f32, 1.000000e-01>>
func.func @wide_storage(%a: tensor<4x!quant.uniform<i32:f32, 0.1>>, %b: tensor<4x!quant.uniform<i16:f32, 0.1>>) -> (tensor<4x!quant.uniform<i32:f32, 0.1>>, tensor<4x!quant.uniform<i16:f32, 0.1>>) {
  %ad = qlow.dequantize %a : tensor<4x!quant.uniform<i32:f32, 0.1>> -> tensor<4xf32>
  %bd = qlow.dequantize %b : tensor<4x!quant.uniform<i16:f32, 0.1>> -> tensor<4xf32>
  %s = qlow.add %ad, %bd : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %sq = qlow.quantize %s : tensor<4xf32> -> tensor<4x!quant.uniform<i32:f32, 0.1>>
  %p = qlow.mul %ad, %bd : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %pq = qlow.quantize %p : tensor<4xf32> -> tensor<4x!quant.uniform<i16:f32, 0.1>>
  return %sq, %pq : tensor<4x!quant.uniform<i32:f32, 0.1>>, tensor<4x!quant.uniform<i16:f32, 0.1>>
}

// -----

// A reshape or transpose between a dequantize and a quantize moves only the
// stored bytes when the quantize's parameters are the source's: another
// scale is a requantize (the f32 transpose stays, quantized afterwards).
// CHECK-LABEL: func.func @transpose_other_scale(
// CHECK:         qlow.dequantize
// CHECK:         linalg.transpose ins(%{{.+}} : tensor<2x3xf32>)
// CHECK:         qlow.quantize %{{.+}} : tensor<3x2xf32> -> tensor<3x2x!quant.uniform<u8:f32, 3.000000e-02:128>>
func.func @transpose_other_scale(%q: tensor<2x3x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<3x2x!quant.uniform<u8:f32, 0.03:128>> {
  %d = qlow.dequantize %q : tensor<2x3x!quant.uniform<u8:f32, 0.02:128>> -> tensor<2x3xf32>
  %init = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%d : tensor<2x3xf32>) outs(%init : tensor<3x2xf32>) permutation = [1, 0]
  // expected-remark @+1 {{left in float: qlow.dequantize -> linalg.transpose -> qlow.quantize (the quantize's parameters (!quant.uniform<u8:f32, 3.000000e-02:128>) are not those of the dequantized source after the reshapes and transposes (!quant.uniform<u8:f32, 2.000000e-02:128>))}}
  %r = qlow.quantize %t : tensor<3x2xf32> -> tensor<3x2x!quant.uniform<u8:f32, 0.03:128>>
  return %r : tensor<3x2x!quant.uniform<u8:f32, 0.03:128>>
}

// -----

// Per axis, the quantize must name the axis where the transpose moved the
// quantized dimension (axis 1 of [2, 3] is axis 0 of [3, 2]): along axis 1
// of [3, 2] the same scales would belong to other elements.
// CHECK-LABEL: func.func @per_axis_not_moved(
// CHECK:         linalg.transpose ins(%{{.+}} : tensor<2x3xf32>)
// CHECK:         qlow.quantize
func.func @per_axis_not_moved(%q: tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>) -> tensor<3x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>> {
  %d = qlow.dequantize %q : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> -> tensor<2x3xf32>
  %init = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%d : tensor<2x3xf32>) outs(%init : tensor<3x2xf32>) permutation = [1, 0]
  // expected-remark @+1 {{left in float: qlow.dequantize -> linalg.transpose -> qlow.quantize (the quantize's parameters (!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01}>) are not those of the dequantized source after the reshapes and transposes (!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01,3.000000e-01}>))}}
  %r = qlow.quantize %t : tensor<3x2xf32> -> tensor<3x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  return %r : tensor<3x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
}

// -----

// Per axis, a reshape that splits the quantized dimension spreads each
// channel's parameters over several positions: no per-axis type says that.
// CHECK-LABEL: func.func @per_axis_split(
// CHECK:         tensor.expand_shape %{{.+}} : tensor<2x4xf32> into tensor<2x2x2xf32>
// CHECK:         qlow.quantize
func.func @per_axis_split(%q: tensor<2x4x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3, 0.4}>>) -> tensor<2x2x2x!quant.uniform<i8:f32:2, {0.1, 0.2}>> {
  %d = qlow.dequantize %q : tensor<2x4x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3, 0.4}>> -> tensor<2x4xf32>
  %e = tensor.expand_shape %d [[0], [1, 2]] output_shape [2, 2, 2] : tensor<2x4xf32> into tensor<2x2x2xf32>
  // expected-remark @+1 {{left in float: qlow.dequantize -> tensor.expand_shape -> qlow.quantize (the source is quantized per axis 1, and tensor.expand_shape splits or merges that axis with others)}}
  %r = qlow.quantize %e : tensor<2x2x2xf32> -> tensor<2x2x2x!quant.uniform<i8:f32:2, {0.1, 0.2}>>
  return %r : tensor<2x2x2x!quant.uniform<i8:f32:2, {0.1, 0.2}>>
}
