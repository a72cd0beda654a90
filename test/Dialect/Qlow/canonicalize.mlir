// RUN: qlow-opt %s -canonicalize -split-input-file | FileCheck %s
//
// Folders and canonicalization patterns of the qlow ops: only the ones that
// are exact for every input fire.

// Requantizing to identical parameters is the identity (M = 1 exactly).
// CHECK-LABEL: func.func @requantize_same_type(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01:3>>)
// CHECK-NOT:     qlow.requantize
// CHECK:         return %[[Q]] :
func.func @requantize_same_type(%q: tensor<8x!quant.uniform<i8:f32, 0.1:3>>) -> tensor<8x!quant.uniform<i8:f32, 0.1:3>> {
  %r = qlow.requantize %q {rounding = #qlow.rounding<float>} : tensor<8x!quant.uniform<i8:f32, 0.1:3>> -> tensor<8x!quant.uniform<i8:f32, 0.1:3>>
  return %r : tensor<8x!quant.uniform<i8:f32, 0.1:3>>
}

// -----

// Per-axis with identical scales and zero points folds too.
// CHECK-LABEL: func.func @requantize_same_per_axis_type(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<4x2x
// CHECK-NOT:     qlow.requantize
// CHECK:         return %[[Q]] :
func.func @requantize_same_per_axis_type(%q: tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>) -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>> {
  %r = qlow.requantize %q : tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  return %r : tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
}

// -----

// A different scale is a real rescale and stays.
// CHECK-LABEL: func.func @requantize_different_scale(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[R:.+]] = qlow.requantize %[[Q]] : tensor<8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<8x!quant.uniform<i8:f32, 2.000000e-01>>
// CHECK:         return %[[R]] :
func.func @requantize_different_scale(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.2>> {
  %r = qlow.requantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i8:f32, 0.2>>
  return %r : tensor<8x!quant.uniform<i8:f32, 0.2>>
}

// -----

// Same scale, different zero point: a shift, stays.
// CHECK-LABEL: func.func @requantize_different_zero_point(
// CHECK:         %[[R:.+]] = qlow.requantize
// CHECK-SAME:      -> tensor<8x!quant.uniform<i8:f32, 1.000000e-01:5>>
// CHECK:         return %[[R]] :
func.func @requantize_different_zero_point(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.1:5>> {
  %r = qlow.requantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i8:f32, 0.1:5>>
  return %r : tensor<8x!quant.uniform<i8:f32, 0.1:5>>
}

// -----

// Same scale and zero point, different storage (i8 -> i16): a widening that
// stays.
// CHECK-LABEL: func.func @requantize_different_storage(
// CHECK:         %[[R:.+]] = qlow.requantize
// CHECK-SAME:      -> tensor<8x!quant.uniform<i16:f32, 1.000000e-01>>
// CHECK:         return %[[R]] :
func.func @requantize_different_storage(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i16:f32, 0.1>> {
  %r = qlow.requantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i16:f32, 0.1>>
  return %r : tensor<8x!quant.uniform<i16:f32, 0.1>>
}

// -----

// dequantize(quantize(x)) is fake_quant(x) with the quantize's element type.
// CHECK-LABEL: func.func @dequantize_of_quantize(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x8xf32>)
// CHECK-NOT:     qlow.quantize
// CHECK-NOT:     qlow.dequantize
// CHECK:         %[[FQ:.+]] = qlow.fake_quant %[[X]] as !quant.uniform<u8:f32, 5.000000e-02:128> : tensor<4x8xf32>
// CHECK-NOT:     qlow.quantize
// CHECK-NOT:     qlow.dequantize
// CHECK:         return %[[FQ]] :
func.func @dequantize_of_quantize(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %q = qlow.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.05:128>>
  %y = qlow.dequantize %q : tensor<4x8x!quant.uniform<u8:f32, 0.05:128>> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// The same with a per-axis type: fake_quant carries the per-axis element type.
// CHECK-LABEL: func.func @dequantize_of_quantize_per_axis(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x2xf32>)
// CHECK:         %[[FQ:.+]] = qlow.fake_quant %[[X]] as !quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01}> : tensor<4x2xf32>
// CHECK:         return %[[FQ]] :
func.func @dequantize_of_quantize_per_axis(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  %y = qlow.dequantize %q : tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>> -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// When the quantized value has another use, the quantize stays for it; the
// dequantize still becomes a fake_quant of x.
// CHECK-LABEL: func.func @dequantize_of_quantize_shared(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8xf32>)
// CHECK-DAG:     %[[Q:.+]] = qlow.quantize %[[X]]
// CHECK-DAG:     %[[FQ:.+]] = qlow.fake_quant %[[X]] as !quant.uniform<i8:f32, 1.000000e-01> : tensor<8xf32>
// CHECK-NOT:     qlow.dequantize
// CHECK:         return %[[FQ]], %[[Q]] :
func.func @dequantize_of_quantize_shared(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8x!quant.uniform<i8:f32, 0.1>>) {
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.1>>
  %y = qlow.dequantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8xf32>
  return %y, %q : tensor<8xf32>, tensor<8x!quant.uniform<i8:f32, 0.1>>
}

// -----

// A dequantize of a value that was not produced by quantize stays.
// CHECK-LABEL: func.func @dequantize_of_argument(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[X:.+]] = qlow.dequantize %[[Q]]
// CHECK:         return %[[X]] :
func.func @dequantize_of_argument(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8xf32> {
  %x = qlow.dequantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8xf32>
  return %x : tensor<8xf32>
}

// -----

// quantize(dequantize(q)) with q's own type is q: dequantize is exact and
// x / s rounds back to the stored integer.
// CHECK-LABEL: func.func @quantize_of_dequantize_same_type(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01:-2>>)
// CHECK-NOT:     qlow.quantize
// CHECK-NOT:     qlow.dequantize
// CHECK:         return %[[Q]] :
func.func @quantize_of_dequantize_same_type(%q: tensor<8x!quant.uniform<i8:f32, 0.1:-2>>) -> tensor<8x!quant.uniform<i8:f32, 0.1:-2>> {
  %x = qlow.dequantize %q : tensor<8x!quant.uniform<i8:f32, 0.1:-2>> -> tensor<8xf32>
  %r = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.1:-2>>
  return %r : tensor<8x!quant.uniform<i8:f32, 0.1:-2>>
}

// -----

// Into another type the round trip rounds: both ops stay.
// CHECK-LABEL: func.func @quantize_of_dequantize_different_type(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[X:.+]] = qlow.dequantize %[[Q]] : tensor<8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<8xf32>
// CHECK:         %[[R:.+]] = qlow.quantize %[[X]] : tensor<8xf32> -> tensor<8x!quant.uniform<u8:f32, 3.000000e-01:128>>
// CHECK:         return %[[R]] :
func.func @quantize_of_dequantize_different_type(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<u8:f32, 0.3:128>> {
  %x = qlow.dequantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8xf32>
  %r = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<u8:f32, 0.3:128>>
  return %r : tensor<8x!quant.uniform<u8:f32, 0.3:128>>
}

// -----

// fake_quant is idempotent: the second of two with the same parameters goes.
// CHECK-LABEL: func.func @fake_quant_twice_same(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8xf32>)
// CHECK:         %[[FQ:.+]] = qlow.fake_quant %[[X]] as !quant.uniform<i8:f32, 1.000000e-01> : tensor<8xf32>
// CHECK-NOT:     qlow.fake_quant
// CHECK:         return %[[FQ]] :
func.func @fake_quant_twice_same(%x: tensor<8xf32>) -> tensor<8xf32> {
  %a = qlow.fake_quant %x as !quant.uniform<i8:f32, 0.1> : tensor<8xf32>
  %b = qlow.fake_quant %a as !quant.uniform<i8:f32, 0.1> : tensor<8xf32>
  return %b : tensor<8xf32>
}

// -----

// Three in a row fold to one.
// CHECK-LABEL: func.func @fake_quant_three_times(
// CHECK:         qlow.fake_quant
// CHECK-NOT:     qlow.fake_quant
// CHECK:         return
func.func @fake_quant_three_times(%x: tensor<8xf32>) -> tensor<8xf32> {
  %a = qlow.fake_quant %x as !quant.uniform<u8:f32, 0.1:128> : tensor<8xf32>
  %b = qlow.fake_quant %a as !quant.uniform<u8:f32, 0.1:128> : tensor<8xf32>
  %c = qlow.fake_quant %b as !quant.uniform<u8:f32, 0.1:128> : tensor<8xf32>
  return %c : tensor<8xf32>
}

// -----

// Different parameters: the second rounds to another grid, both stay.
// CHECK-LABEL: func.func @fake_quant_twice_different(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8xf32>)
// CHECK:         %[[A:.+]] = qlow.fake_quant %[[X]] as !quant.uniform<i8:f32, 1.000000e-01> : tensor<8xf32>
// CHECK:         %[[B:.+]] = qlow.fake_quant %[[A]] as !quant.uniform<i8:f32, 3.000000e-01> : tensor<8xf32>
// CHECK:         return %[[B]] :
func.func @fake_quant_twice_different(%x: tensor<8xf32>) -> tensor<8xf32> {
  %a = qlow.fake_quant %x as !quant.uniform<i8:f32, 0.1> : tensor<8xf32>
  %b = qlow.fake_quant %a as !quant.uniform<i8:f32, 0.3> : tensor<8xf32>
  return %b : tensor<8xf32>
}

// -----

// Same scale, different storage range (i4 vs i8): the clamp differs, both stay.
// CHECK-LABEL: func.func @fake_quant_twice_different_storage(
// CHECK:         %[[A:.+]] = qlow.fake_quant %{{.+}} as !quant.uniform<i8:f32, 1.000000e-01>
// CHECK:         %[[B:.+]] = qlow.fake_quant %[[A]] as !quant.uniform<i4:f32, 1.000000e-01>
// CHECK:         return %[[B]] :
func.func @fake_quant_twice_different_storage(%x: tensor<8xf32>) -> tensor<8xf32> {
  %a = qlow.fake_quant %x as !quant.uniform<i8:f32, 0.1> : tensor<8xf32>
  %b = qlow.fake_quant %a as !quant.uniform<i4:f32, 0.1> : tensor<8xf32>
  return %b : tensor<8xf32>
}

// -----

// observe records its input: it stays even when its result is unused.
// CHECK-LABEL: func.func @observe_unused(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8xf32>)
// CHECK:         qlow.observe %[[X]] {name = "probe"} : tensor<8xf32>
// CHECK:         return %[[X]] :
func.func @observe_unused(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = qlow.observe %x {name = "probe"} : tensor<8xf32>
  return %x : tensor<8xf32>
}

// -----

// Two probes with the same name on the same value are two recordings: CSE-like
// merging would be wrong, and canonicalize keeps both.
// CHECK-LABEL: func.func @observe_twice(
// CHECK:         qlow.observe %{{.+}} {name = "probe"}
// CHECK:         qlow.observe %{{.+}} {name = "probe"}
// CHECK:         return
func.func @observe_twice(%x: tensor<8xf32>) -> tensor<8xf32> {
  %a = qlow.observe %x {name = "probe"} : tensor<8xf32>
  %b = qlow.observe %x {name = "probe"} : tensor<8xf32>
  return %x : tensor<8xf32>
}

// -----

// Pure ops whose results are unused are removed (contrast with observe).
// CHECK-LABEL: func.func @dead_pure_ops(
// CHECK-NOT:     qlow.
// CHECK:         return
func.func @dead_pure_ops(%x: tensor<8xf32>) -> tensor<8xf32> {
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.1>>
  %s = qlow.silu %x : tensor<8xf32> -> tensor<8xf32>
  return %x : tensor<8xf32>
}
