// RUN: qlow-opt %s --qlow-fold-qdq=report=false -split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-fold-qdq="report=false rounding=fixedpoint" -split-input-file | FileCheck %s --check-prefix=FIXED
// RUN: qlow-opt %s --qlow-fold-qdq=report=false -split-input-file | qlow-opt -split-input-file | FileCheck %s --check-prefix=ROUNDTRIP
//
// One case per pattern of qlow-fold-qdq (Passes.td), in QDQ form (float ops
// between qlow.dequantize and qlow.quantize) and in QAT form (fake_quant).
// The FIXED prefix checks the same rewrites with rounding = fixedpoint, the
// attribute's default (so it is not printed); the ROUNDTRIP prefix that the
// output parses back.
// The cases that must not fold, with the remark naming the reason, are in
// qlow-fold-qdq-fallback.mlir; the numerics (reference outputs before and
// after folding) in test/e2e/qlow-fold-qdq.test.

// ROUNDTRIP-LABEL: func.func @requantize_same_type

//===----------------------------------------------------------------------===//
// quantize(dequantize(q))
//===----------------------------------------------------------------------===//

// To the type of q it is q.
// CHECK-LABEL: func.func @requantize_same_type(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01:3>>)
// CHECK-NEXT:    return %[[Q]] :
func.func @requantize_same_type(%q: tensor<8x!quant.uniform<i8:f32, 0.1:3>>) -> tensor<8x!quant.uniform<i8:f32, 0.1:3>> {
  %d = qlow.dequantize %q : tensor<8x!quant.uniform<i8:f32, 0.1:3>> -> tensor<8xf32>
  %r = qlow.quantize %d : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.1:3>>
  return %r : tensor<8x!quant.uniform<i8:f32, 0.1:3>>
}

// -----

// To another type it is a requantize with the pass's rounding. The
// dequantize stays for its other (f32) user.
// CHECK-LABEL: func.func @requantize_other_type(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[D:.+]] = qlow.dequantize %[[Q]]
// CHECK:         %[[R:.+]] = qlow.requantize %[[Q]] {rounding = #qlow.rounding<float>} : tensor<8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<8x!quant.uniform<u8:f32, 3.000000e-01:128>>
// CHECK-NOT:     qlow.quantize
// CHECK:         return %[[R]], %[[D]] :
// FIXED-LABEL: func.func @requantize_other_type(
// FIXED:         qlow.requantize %{{.+}} : tensor<8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<8x!quant.uniform<u8:f32, 3.000000e-01:128>>
func.func @requantize_other_type(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> (tensor<8x!quant.uniform<u8:f32, 0.3:128>>, tensor<8xf32>) {
  %d = qlow.dequantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8xf32>
  %r = qlow.quantize %d : tensor<8xf32> -> tensor<8x!quant.uniform<u8:f32, 0.3:128>>
  return %r, %d : tensor<8x!quant.uniform<u8:f32, 0.3:128>>, tensor<8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// fake_quant and constants
//===----------------------------------------------------------------------===//

// fake_quant is quantize + dequantize (its definition); alone it stays so.
// CHECK-LABEL: func.func @fake_quant_alone(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4xf32>)
// CHECK:         %[[Q:.+]] = qlow.quantize %[[X]] : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK:         %[[D:.+]] = qlow.dequantize %[[Q]]
// CHECK:         return %[[D]]
func.func @fake_quant_alone(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = qlow.fake_quant %x as !quant.uniform<i8:f32, 0.1> : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// quantize of an f32 constant is computed at compile time (ONNX rounding:
// 0.25 / 0.1 -> 2 (tie to even), f32(0.35) / f32(0.1) = 3.5 -> 4, 20 / 0.1
// saturates to 127; u8: 10 / 0.5 + 128 = 148, stored as the i8 bits -108;
// -100 / 0.5 + 128 saturates to 0).
// CHECK-LABEL: func.func @constant_quantize(
// CHECK-DAG:     %[[C:.+]] = arith.constant dense<[2, 4, -10, 127]> : tensor<4xi8>
// CHECK-DAG:     %[[U:.+]] = arith.constant dense<[-108, 0]> : tensor<2xi8>
// CHECK-DAG:     %[[Q:.+]] = quant.scast %[[C]] : tensor<4xi8> to tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK-DAG:     %[[V:.+]] = quant.scast %[[U]] : tensor<2xi8> to tensor<2x!quant.uniform<u8:f32, 5.000000e-01:128>>
// CHECK-NOT:     qlow.quantize
// CHECK:         return %[[Q]], %[[V]]
func.func @constant_quantize() -> (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<2x!quant.uniform<u8:f32, 0.5:128>>) {
  %c = arith.constant dense<[0.25, 0.35, -1.0, 20.0]> : tensor<4xf32>
  %q = qlow.quantize %c : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %u = arith.constant dense<[10.0, -100.0]> : tensor<2xf32>
  %v = qlow.quantize %u : tensor<2xf32> -> tensor<2x!quant.uniform<u8:f32, 0.5:128>>
  return %q, %v : tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<2x!quant.uniform<u8:f32, 0.5:128>>
}

// -----

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

// Quantized result and an f32 constant bias: the bias becomes i32 in units of
// s_a * s_w[n] = 0.02 * {0.01, 0.02}: 0.5 / 2e-4 = 2500, -0.25 / 4e-4 = -625.
// CHECK-LABEL: func.func @matmul_quantized_result(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x8x!quant.uniform<u8:f32, 2.000000e-02:128>>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<8x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>)
// CHECK:         %[[B:.+]] = arith.constant dense<[2500, -625]> : tensor<2xi32>
// CHECK:         %[[Y:.+]] = qlow.matmul %[[X]], %[[W]], %[[B]] {rounding = #qlow.rounding<float>} : (tensor<4x8x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<8x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>, tensor<2xi32>) -> tensor<4x2x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK-NEXT:    return %[[Y]]
// FIXED-LABEL: func.func @matmul_quantized_result(
// FIXED:         qlow.matmul %{{[^{]+}} : (
func.func @matmul_quantized_result(%x: tensor<4x8x!quant.uniform<u8:f32, 0.02:128>>, %w: tensor<8x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>) -> tensor<4x2x!quant.uniform<i8:f32, 0.1:-3>> {
  %a = qlow.dequantize %x : tensor<4x8x!quant.uniform<u8:f32, 0.02:128>> -> tensor<4x8xf32>
  %wd = qlow.dequantize %w : tensor<8x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>> -> tensor<8x2xf32>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %y = qlow.matmul %a, %wd, %b : (tensor<4x8xf32>, tensor<8x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %yq = qlow.quantize %y : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32, 0.1:-3>>
  return %yq : tensor<4x2x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// An ONNX QDQ bias (dequantize of i32 with scale s_a * s_w[n], zero point 0)
// is used as is, for a quantized and for an f32 result.
// CHECK-LABEL: func.func @matmul_i32_bias(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x8x!quant.uniform<u8:f32, 2.000000e-02:128>>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<8x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<2x!quant.uniform<i32:f32:0, {2.000000e-04,4.000000e-04}>>)
// CHECK-NOT:     qlow.dequantize
// CHECK:         %[[Y:.+]] = qlow.matmul %[[X]], %[[W]], %[[B]] {rounding = #qlow.rounding<float>} : ({{.+}}) -> tensor<4x2x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK:         %[[Z:.+]] = qlow.matmul %[[X]], %[[W]], %[[B]] : ({{.+}}) -> tensor<4x2xf32>
// CHECK-NEXT:    return %[[Y]], %[[Z]]
func.func @matmul_i32_bias(%x: tensor<4x8x!quant.uniform<u8:f32, 0.02:128>>, %w: tensor<8x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, %bq: tensor<2x!quant.uniform<i32:f32:0, {0.0002, 0.0004}>>) -> (tensor<4x2x!quant.uniform<i8:f32, 0.1:-3>>, tensor<4x2xf32>) {
  %a = qlow.dequantize %x : tensor<4x8x!quant.uniform<u8:f32, 0.02:128>> -> tensor<4x8xf32>
  %wd = qlow.dequantize %w : tensor<8x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>> -> tensor<8x2xf32>
  %b = qlow.dequantize %bq : tensor<2x!quant.uniform<i32:f32:0, {0.0002, 0.0004}>> -> tensor<2xf32>
  %y = qlow.matmul %a, %wd, %b : (tensor<4x8xf32>, tensor<8x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %yq = qlow.quantize %y : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32, 0.1:-3>>
  %z = qlow.matmul %a, %wd, %b : (tensor<4x8xf32>, tensor<8x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %yq, %z : tensor<4x2x!quant.uniform<i8:f32, 0.1:-3>>, tensor<4x2xf32>
}

// -----

// No quantize after it: the integer matmul with an f32 result; an f32 bias
// is added afterwards in f32, as the reference's f32-result form does.
// CHECK-LABEL: func.func @matmul_f32_result(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x8x!quant.uniform<i8:f32, 5.000000e-02>>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<8x3x!quant.uniform<i8:f32, 2.500000e-02>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<3xf32>)
// CHECK:         %[[Y:.+]] = qlow.matmul %[[X]], %[[W]] : ({{.+}}) -> tensor<4x3xf32>
// CHECK:         %[[S:.+]] = qlow.add %[[Y]], %[[B]] : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    return %[[S]]
func.func @matmul_f32_result(%x: tensor<4x8x!quant.uniform<i8:f32, 0.05>>, %w: tensor<8x3x!quant.uniform<i8:f32, 0.025>>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %a = qlow.dequantize %x : tensor<4x8x!quant.uniform<i8:f32, 0.05>> -> tensor<4x8xf32>
  %wd = qlow.dequantize %w : tensor<8x3x!quant.uniform<i8:f32, 0.025>> -> tensor<8x3xf32>
  %y = qlow.matmul %a, %wd, %b : (tensor<4x8xf32>, tensor<8x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Activations quantized per row (axis 0): a bias has no i32 form (its unit
// varies by row), so the matmul gets an f32 result, the bias an f32 add, and
// the quantize stays.
// CHECK-LABEL: func.func @matmul_per_row_lhs(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<3x8x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01,3.000000e-01}>>,
// CHECK:         %[[Y:.+]] = qlow.matmul %[[X]], %{{.+}} : ({{.+}}) -> tensor<3x2xf32>
// CHECK:         %[[S:.+]] = qlow.add %[[Y]], %{{.+}} : (tensor<3x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
// CHECK:         %[[Q:.+]] = qlow.quantize %[[S]]
// CHECK-NEXT:    return %[[Q]]
func.func @matmul_per_row_lhs(%x: tensor<3x8x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3}>>, %w: tensor<8x2x!quant.uniform<i8:f32, 0.01>>, %b: tensor<2xf32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.1>> {
  %a = qlow.dequantize %x : tensor<3x8x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3}>> -> tensor<3x8xf32>
  %wd = qlow.dequantize %w : tensor<8x2x!quant.uniform<i8:f32, 0.01>> -> tensor<8x2xf32>
  %y = qlow.matmul %a, %wd, %b : (tensor<3x8xf32>, tensor<8x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %yq = qlow.quantize %y : tensor<3x2xf32> -> tensor<3x2x!quant.uniform<i8:f32, 0.1>>
  return %yq : tensor<3x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Per-row activations without a bias: the quantized result directly.
// CHECK-LABEL: func.func @matmul_per_row_no_bias(
// CHECK:         %[[Y:.+]] = qlow.matmul %{{.+}}, %{{.+}} {rounding = #qlow.rounding<float>} : ({{.+}}) -> tensor<3x2x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK-NEXT:    return %[[Y]]
func.func @matmul_per_row_no_bias(%x: tensor<3x8x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3}>>, %w: tensor<8x2x!quant.uniform<i8:f32, 0.01>>) -> tensor<3x2x!quant.uniform<i8:f32, 0.1>> {
  %a = qlow.dequantize %x : tensor<3x8x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3}>> -> tensor<3x8xf32>
  %wd = qlow.dequantize %w : tensor<8x2x!quant.uniform<i8:f32, 0.01>> -> tensor<8x2xf32>
  %y = qlow.matmul %a, %wd : (tensor<3x8xf32>, tensor<8x2xf32>) -> tensor<3x2xf32>
  %yq = qlow.quantize %y : tensor<3x2xf32> -> tensor<3x2x!quant.uniform<i8:f32, 0.1>>
  return %yq : tensor<3x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Weights in blocks along K (grouped): only the f32-result form exists.
// CHECK-LABEL: func.func @matmul_blocked_rhs(
// CHECK:         %[[Y:.+]] = qlow.matmul %{{.+}}, %{{.+}} : ({{.+}}) -> tensor<2x2xf32>
// CHECK:         %[[Q:.+]] = qlow.quantize %[[Y]]
// CHECK-NEXT:    return %[[Q]]
func.func @matmul_blocked_rhs(%x: tensor<2x4x!quant.uniform<i8:f32, 0.1>>, %w: tensor<4x2x!quant.uniform<i8:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<2x2x!quant.uniform<i8:f32, 0.5>> {
  %a = qlow.dequantize %x : tensor<2x4x!quant.uniform<i8:f32, 0.1>> -> tensor<2x4xf32>
  %wd = qlow.dequantize %w : tensor<4x2x!quant.uniform<i8:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>> -> tensor<4x2xf32>
  %y = qlow.matmul %a, %wd : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  %yq = qlow.quantize %y : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<i8:f32, 0.5>>
  return %yq : tensor<2x2x!quant.uniform<i8:f32, 0.5>>
}

// -----

// Batched activations times batched activations (attention scores), and a
// result quantized per output channel.
// CHECK-LABEL: func.func @matmul_batched(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<2x4x8x!quant.uniform<i8:f32, 5.000000e-02>>,
// CHECK-SAME:    %[[K:[^:]+]]: tensor<2x8x3x!quant.uniform<u8:f32, 5.000000e-02:128>>)
// CHECK:         %[[Y:.+]] = qlow.matmul %[[Q]], %[[K]] {rounding = #qlow.rounding<float>} : ({{.+}}) -> tensor<2x4x3x!quant.uniform<i8:f32:2, {1.000000e-01,2.000000e-01,3.000000e-01}>>
// CHECK-NEXT:    return %[[Y]]
func.func @matmul_batched(%q: tensor<2x4x8x!quant.uniform<i8:f32, 0.05>>, %k: tensor<2x8x3x!quant.uniform<u8:f32, 0.05:128>>) -> tensor<2x4x3x!quant.uniform<i8:f32:2, {0.1, 0.2, 0.3}>> {
  %a = qlow.dequantize %q : tensor<2x4x8x!quant.uniform<i8:f32, 0.05>> -> tensor<2x4x8xf32>
  %b = qlow.dequantize %k : tensor<2x8x3x!quant.uniform<u8:f32, 0.05:128>> -> tensor<2x8x3xf32>
  %y = qlow.matmul %a, %b : (tensor<2x4x8xf32>, tensor<2x8x3xf32>) -> tensor<2x4x3xf32>
  %yq = qlow.quantize %y : tensor<2x4x3xf32> -> tensor<2x4x3x!quant.uniform<i8:f32:2, {0.1, 0.2, 0.3}>>
  return %yq : tensor<2x4x3x!quant.uniform<i8:f32:2, {0.1, 0.2, 0.3}>>
}

// -----

// QAT: fake_quant around float activations and constant float weights.
// The weights are quantized at compile time (per channel: 0.2 / 0.01 = 20,
// -0.2 / 0.02 = -10), and the chain of fake_quants becomes integer ops.
// CHECK-LABEL: func.func @qat_linear_mul(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x3xf32>)
// CHECK-DAG:     %[[WC:.+]] = arith.constant dense<{{\[}}[20, -10], [10, 2], [-30, 5]]> : tensor<3x2xi8>
// CHECK-DAG:     %[[XQ:.+]] = qlow.quantize %[[X]] : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<u8:f32, 2.000000e-02:128>>
// CHECK-DAG:     %[[W:.+]] = quant.scast %[[WC]]
// CHECK:         %[[Y:.+]] = qlow.matmul %[[XQ]], %[[W]] {rounding = #qlow.rounding<float>} : ({{.+}}) -> tensor<2x2x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK:         %[[M:.+]] = qlow.mul %[[Y]], %[[Y]] {rounding = #qlow.rounding<float>} : ({{.+}}) -> tensor<2x2x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK:         %[[D:.+]] = qlow.dequantize %[[M]]
// CHECK-NEXT:    return %[[D]]
func.func @qat_linear_mul(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %xf = qlow.fake_quant %x as !quant.uniform<u8:f32, 0.02:128> : tensor<2x3xf32>
  %w = arith.constant dense<[[0.2, -0.2], [0.1, 0.04], [-0.3, 0.1]]> : tensor<3x2xf32>
  %wf = qlow.fake_quant %w as !quant.uniform<i8:f32:1, {0.01, 0.02}> : tensor<3x2xf32>
  %y = qlow.matmul %xf, %wf : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %yf = qlow.fake_quant %y as !quant.uniform<i8:f32, 0.1:-3> : tensor<2x2xf32>
  %m = qlow.mul %yf, %yf : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %mf = qlow.fake_quant %m as !quant.uniform<i8:f32, 0.1:-3> : tensor<2x2xf32>
  return %mf : tensor<2x2xf32>
}

// -----

//===----------------------------------------------------------------------===//
// add, mul
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @add_mul(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4x8x!quant.uniform<i8:f32, 1.000000e-01>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<8x!quant.uniform<u8:f32, 5.000000e-02:128>>)
// CHECK:         %[[S:.+]] = qlow.add %[[A]], %[[B]] {rounding = #qlow.rounding<float>} : (tensor<4x8x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<8x!quant.uniform<u8:f32, 5.000000e-02:128>>) -> tensor<4x8x!quant.uniform<i8:f32, 2.000000e-01:2>>
// CHECK:         %[[P:.+]] = qlow.mul %[[A]], %[[B]] {rounding = #qlow.rounding<float>} : ({{.+}}) -> tensor<4x8x!quant.uniform<i8:f32, 7.310000e-02>>
// CHECK-NEXT:    return %[[S]], %[[P]]
// FIXED-LABEL: func.func @add_mul(
// FIXED:         qlow.add %{{.+}}, %{{.+}} : (
// FIXED:         qlow.mul %{{.+}}, %{{.+}} : (
func.func @add_mul(%a: tensor<4x8x!quant.uniform<i8:f32, 0.1>>, %b: tensor<8x!quant.uniform<u8:f32, 0.05:128>>) -> (tensor<4x8x!quant.uniform<i8:f32, 0.2:2>>, tensor<4x8x!quant.uniform<i8:f32, 0.0731>>) {
  %ad = qlow.dequantize %a : tensor<4x8x!quant.uniform<i8:f32, 0.1>> -> tensor<4x8xf32>
  %bd = qlow.dequantize %b : tensor<8x!quant.uniform<u8:f32, 0.05:128>> -> tensor<8xf32>
  %s = qlow.add %ad, %bd : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %sq = qlow.quantize %s : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.2:2>>
  %p = qlow.mul %ad, %bd : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %pq = qlow.quantize %p : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.0731>>
  return %sq, %pq : tensor<4x8x!quant.uniform<i8:f32, 0.2:2>>, tensor<4x8x!quant.uniform<i8:f32, 0.0731>>
}

// -----

// Several quantize users of one type share the quantized op.
// CHECK-LABEL: func.func @two_quantize_users(
// CHECK:         %[[S:.+]] = qlow.add
// CHECK-NOT:     qlow.quantize
// CHECK:         return %[[S]], %[[S]]
func.func @two_quantize_users(%a: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> (tensor<8x!quant.uniform<i8:f32, 0.2>>, tensor<8x!quant.uniform<i8:f32, 0.2>>) {
  %ad = qlow.dequantize %a : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8xf32>
  %s = qlow.add %ad, %ad : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %q1 = qlow.quantize %s : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.2>>
  %q2 = qlow.quantize %s : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.2>>
  return %q1, %q2 : tensor<8x!quant.uniform<i8:f32, 0.2>>, tensor<8x!quant.uniform<i8:f32, 0.2>>
}

// -----

//===----------------------------------------------------------------------===//
// Float-semantics ops
//===----------------------------------------------------------------------===//

// Each takes its quantized input and the quantized result type; attributes,
// gamma/beta and cos/sin stay.
// CHECK-LABEL: func.func @float_semantics(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x8x!quant.uniform<u8:f32, 2.000000e-02:128>>,
// CHECK-SAME:    %[[G:[^:]+]]: tensor<8xf32>, %[[BETA:[^:]+]]: tensor<8xf32>, %[[COS:[^:]+]]: tensor<4x4xf32>, %[[SIN:[^:]+]]: tensor<4x4xf32>)
// CHECK:         %[[GE:.+]] = qlow.gelu %[[X]] {approximate = #qlow.gelu_approximation<tanh>} : tensor<4x8x!quant.uniform<u8:f32, 2.000000e-02:128>> -> tensor<4x8x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK:         %[[SI:.+]] = qlow.silu %[[GE]] : tensor<4x8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<4x8x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK:         %[[SM:.+]] = qlow.softmax %[[X]] {axis = 0 : i64} : tensor<4x8x!quant.uniform<u8:f32, 2.000000e-02:128>> -> tensor<4x8x!quant.uniform<u8:f32, 3.906250e-03>>
// CHECK:         %[[LN:.+]] = qlow.layer_norm %[[X]], %[[G]], %[[BETA]] {epsilon = 1.000000e-03 : f32} : (tensor<4x8x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK:         %[[RN:.+]] = qlow.rms_norm %[[X]], %[[G]] {{.*}}: (tensor<4x8x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<8xf32>) -> tensor<4x8x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK:         %[[RO:.+]] = qlow.rope %[[X]], %[[COS]], %[[SIN]] {interleaved} : (tensor<4x8x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x8x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK-NOT:     qlow.quantize
// CHECK:         return %[[SI]], %[[SM]], %[[LN]], %[[RN]], %[[RO]]
func.func @float_semantics(%x: tensor<4x8x!quant.uniform<u8:f32, 0.02:128>>, %g: tensor<8xf32>, %beta: tensor<8xf32>, %cos: tensor<4x4xf32>, %sin: tensor<4x4xf32>)
    -> (tensor<4x8x!quant.uniform<i8:f32, 0.1>>, tensor<4x8x!quant.uniform<u8:f32, 0.00390625>>, tensor<4x8x!quant.uniform<i8:f32, 0.1>>, tensor<4x8x!quant.uniform<i8:f32, 0.1>>, tensor<4x8x!quant.uniform<i8:f32, 0.1>>) {
  %xd = qlow.dequantize %x : tensor<4x8x!quant.uniform<u8:f32, 0.02:128>> -> tensor<4x8xf32>
  %ge = qlow.gelu %xd {approximate = #qlow.gelu_approximation<tanh>} : tensor<4x8xf32> -> tensor<4x8xf32>
  %geq = qlow.quantize %ge : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.1>>
  %ged = qlow.dequantize %geq : tensor<4x8x!quant.uniform<i8:f32, 0.1>> -> tensor<4x8xf32>
  %si = qlow.silu %ged : tensor<4x8xf32> -> tensor<4x8xf32>
  %siq = qlow.quantize %si : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.1>>
  %sm = qlow.softmax %xd {axis = 0 : i64} : tensor<4x8xf32> -> tensor<4x8xf32>
  %smq = qlow.quantize %sm : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.00390625>>
  %ln = qlow.layer_norm %xd, %g, %beta {epsilon = 1.0e-3 : f32} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %lnq = qlow.quantize %ln : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.1>>
  %rn = qlow.rms_norm %xd, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %rnq = qlow.quantize %rn : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.1>>
  %ro = qlow.rope %xd, %cos, %sin {interleaved} : (tensor<4x8xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x8xf32>
  %roq = qlow.quantize %ro : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.1>>
  return %siq, %smq, %lnq, %rnq, %roq : tensor<4x8x!quant.uniform<i8:f32, 0.1>>, tensor<4x8x!quant.uniform<u8:f32, 0.00390625>>, tensor<4x8x!quant.uniform<i8:f32, 0.1>>, tensor<4x8x!quant.uniform<i8:f32, 0.1>>, tensor<4x8x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Attention: q, k and v quantized; the f32 mask stays.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x2x4x8x!quant.uniform<i8:f32, 5.000000e-02>>, %[[K:[^:]+]]: tensor<1x1x4x8x!quant.uniform<i8:f32, 5.000000e-02>>, %[[V:[^:]+]]: tensor<1x1x4x8x!quant.uniform<i8:f32, 5.000000e-02>>, %[[M:[^:]+]]: tensor<4x4xf32>)
// CHECK:         %[[O:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]], %[[M]] {causal, scale = 2.500000e-01 : f32} : ({{.+}}) -> tensor<1x2x4x8x!quant.uniform<i8:f32, 2.000000e-02>>
// CHECK-NEXT:    return %[[O]]
func.func @attention(%q: tensor<1x2x4x8x!quant.uniform<i8:f32, 0.05>>, %k: tensor<1x1x4x8x!quant.uniform<i8:f32, 0.05>>, %v: tensor<1x1x4x8x!quant.uniform<i8:f32, 0.05>>, %m: tensor<4x4xf32>) -> tensor<1x2x4x8x!quant.uniform<i8:f32, 0.02>> {
  %qd = qlow.dequantize %q : tensor<1x2x4x8x!quant.uniform<i8:f32, 0.05>> -> tensor<1x2x4x8xf32>
  %kd = qlow.dequantize %k : tensor<1x1x4x8x!quant.uniform<i8:f32, 0.05>> -> tensor<1x1x4x8xf32>
  %vd = qlow.dequantize %v : tensor<1x1x4x8x!quant.uniform<i8:f32, 0.05>> -> tensor<1x1x4x8xf32>
  %o = qlow.attention %qd, %kd, %vd, %m {causal, scale = 0.25 : f32} : (tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<4x4xf32>) -> tensor<1x2x4x8xf32>
  %oq = qlow.quantize %o : tensor<1x2x4x8xf32> -> tensor<1x2x4x8x!quant.uniform<i8:f32, 0.02>>
  return %oq : tensor<1x2x4x8x!quant.uniform<i8:f32, 0.02>>
}

// -----

// An input that is already quantized counts as quantized: only the result is
// taken over from the quantize.
// CHECK-LABEL: func.func @quantized_input_f32_result(
// CHECK:         %[[G:.+]] = qlow.gelu %{{.+}} : tensor<8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<8x!quant.uniform<i8:f32, 2.000000e-01>>
// CHECK-NEXT:    return %[[G]]
func.func @quantized_input_f32_result(%x: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.2>> {
  %g = qlow.gelu %x : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8xf32>
  %q = qlow.quantize %g : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.2>>
  return %q : tensor<8x!quant.uniform<i8:f32, 0.2>>
}

// -----

//===----------------------------------------------------------------------===//
// embedding
//===----------------------------------------------------------------------===//

// A per-tensor table is gathered in its stored form; the quantize after it
// becomes a requantize (another type) or disappears (the same type).
// CHECK-LABEL: func.func @embedding(
// CHECK-SAME:    %[[T:[^:]+]]: tensor<16x8x!quant.uniform<u8:f32, 2.000000e-02:128>>, %[[I:[^:]+]]: tensor<3xi32>)
// CHECK:         %[[E:.+]] = qlow.embedding %[[T]], %[[I]] : (tensor<16x8x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<3xi32>) -> tensor<3x8x!quant.uniform<u8:f32, 2.000000e-02:128>>
// CHECK-DAG:     %[[R:.+]] = qlow.requantize %[[E]] {rounding = #qlow.rounding<float>} : tensor<3x8x!quant.uniform<u8:f32, 2.000000e-02:128>> -> tensor<3x8x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK-DAG:     %[[D:.+]] = qlow.dequantize %[[E]]
// CHECK:         return %[[R]], %[[E]], %[[D]]
func.func @embedding(%t: tensor<16x8x!quant.uniform<u8:f32, 0.02:128>>, %i: tensor<3xi32>) -> (tensor<3x8x!quant.uniform<i8:f32, 0.1>>, tensor<3x8x!quant.uniform<u8:f32, 0.02:128>>, tensor<3x8xf32>) {
  %td = qlow.dequantize %t : tensor<16x8x!quant.uniform<u8:f32, 0.02:128>> -> tensor<16x8xf32>
  %e = qlow.embedding %td, %i : (tensor<16x8xf32>, tensor<3xi32>) -> tensor<3x8xf32>
  %q = qlow.quantize %e : tensor<3x8xf32> -> tensor<3x8x!quant.uniform<i8:f32, 0.1>>
  %s = qlow.quantize %e : tensor<3x8xf32> -> tensor<3x8x!quant.uniform<u8:f32, 0.02:128>>
  return %q, %s, %e : tensor<3x8x!quant.uniform<i8:f32, 0.1>>, tensor<3x8x!quant.uniform<u8:f32, 0.02:128>>, tensor<3x8xf32>
}

// -----

// A table quantized per row or in blocks (ONNX's blocked DequantizeLinear of
// a 4-bit table, then Gather) is gathered by the embedding, which
// dequantizes each gathered element with its own parameters (f32 result):
// the whole table is never dequantized.
// CHECK-LABEL: func.func @embedding_per_row_and_blocked(
// CHECK-SAME:    %[[T:[^:]+]]: tensor<2x4x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>>, %[[B:[^:]+]]: tensor<4x8x!quant.uniform<i4:f32:{0:1, 1:4}
// CHECK-SAME:    %[[I:[^:]+]]: tensor<3xi32>)
// CHECK-NOT:     qlow.dequantize
// CHECK:         %[[E:.+]] = qlow.embedding %[[T]], %[[I]] : (tensor<2x4x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>>, tensor<3xi32>) -> tensor<3x4xf32>
// CHECK:         qlow.quantize %[[E]]
// CHECK:         %[[F:.+]] = qlow.embedding %[[B]], %[[I]] : (tensor<4x8x!quant.uniform<i4:f32:{0:1, 1:4}, {{.+}}>>, tensor<3xi32>) -> tensor<3x8xf32>
// CHECK:         return {{.*}}%[[F]]
func.func @embedding_per_row_and_blocked(%t: tensor<2x4x!quant.uniform<i8:f32:0, {0.1, 0.2}>>, %b: tensor<4x8x!quant.uniform<i4:f32:{0:1, 1:4}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}}>>, %i: tensor<3xi32>) -> (tensor<3x4x!quant.uniform<i8:f32, 0.1>>, tensor<3x8xf32>) {
  %td = qlow.dequantize %t : tensor<2x4x!quant.uniform<i8:f32:0, {0.1, 0.2}>> -> tensor<2x4xf32>
  %e = qlow.embedding %td, %i : (tensor<2x4xf32>, tensor<3xi32>) -> tensor<3x4xf32>
  %q = qlow.quantize %e : tensor<3x4xf32> -> tensor<3x4x!quant.uniform<i8:f32, 0.1>>
  %bd = qlow.dequantize %b : tensor<4x8x!quant.uniform<i4:f32:{0:1, 1:4}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}}>> -> tensor<4x8xf32>
  %f = qlow.embedding %bd, %i : (tensor<4x8xf32>, tensor<3xi32>) -> tensor<3x8xf32>
  return %q, %f : tensor<3x4x!quant.uniform<i8:f32, 0.1>>, tensor<3x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// reshapes and transposes between dequantize and quantize
//===----------------------------------------------------------------------===//

// Split heads (ONNX QDQ: DequantizeLinear -> Reshape -> Transpose ->
// QuantizeLinear, same parameters): the expand_shape and the transpose move
// the stored bytes; no f32 is left.
// CHECK-LABEL: func.func @split_heads(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<4x6x!quant.uniform<u8:f32, 2.000000e-02:128>>)
// CHECK-NOT:     qlow.dequantize
// CHECK:         %[[E:.+]] = tensor.expand_shape %[[Q]] {{\[\[}}0], [1, 2]] output_shape [4, 3, 2] : tensor<4x6x!quant.uniform<u8:f32, 2.000000e-02:128>> into tensor<4x3x2x!quant.uniform<u8:f32, 2.000000e-02:128>>
// CHECK:         %[[I:.+]] = tensor.empty() : tensor<3x4x2x!quant.uniform<u8:f32, 2.000000e-02:128>>
// CHECK:         %[[T:.+]] = linalg.transpose ins(%[[E]] : tensor<4x3x2x!quant.uniform<u8:f32, 2.000000e-02:128>>) outs(%[[I]] : tensor<3x4x2x!quant.uniform<u8:f32, 2.000000e-02:128>>) permutation = [1, 0, 2]
// CHECK-NOT:     qlow.quantize
// CHECK:         return %[[T]]
// ROUNDTRIP-LABEL: func.func @split_heads
func.func @split_heads(%q: tensor<4x6x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<3x4x2x!quant.uniform<u8:f32, 0.02:128>> {
  %d = qlow.dequantize %q : tensor<4x6x!quant.uniform<u8:f32, 0.02:128>> -> tensor<4x6xf32>
  %e = tensor.expand_shape %d [[0], [1, 2]] output_shape [4, 3, 2] : tensor<4x6xf32> into tensor<4x3x2xf32>
  %init = tensor.empty() : tensor<3x4x2xf32>
  %t = linalg.transpose ins(%e : tensor<4x3x2xf32>) outs(%init : tensor<3x4x2xf32>) permutation = [1, 0, 2]
  %r = qlow.quantize %t : tensor<3x4x2xf32> -> tensor<3x4x2x!quant.uniform<u8:f32, 0.02:128>>
  return %r : tensor<3x4x2x!quant.uniform<u8:f32, 0.02:128>>
}

// -----

// Merged heads: transpose then collapse_shape, i8 per tensor. The f32
// transpose stays for its other (f32) user.
// CHECK-LABEL: func.func @merge_heads(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<3x4x2x!quant.uniform<i8:f32, 5.000000e-02:-3>>)
// CHECK:         %[[D:.+]] = qlow.dequantize %[[Q]]
// CHECK:         %[[F:.+]] = linalg.transpose ins(%[[D]] : tensor<3x4x2xf32>)
// CHECK:         %[[T:.+]] = linalg.transpose ins(%[[Q]] : tensor<3x4x2x!quant.uniform<i8:f32, 5.000000e-02:-3>>) outs(%{{.+}} : tensor<4x3x2x!quant.uniform<i8:f32, 5.000000e-02:-3>>) permutation = [1, 0, 2]
// CHECK:         %[[C:.+]] = tensor.collapse_shape %[[T]] {{\[\[}}0], [1, 2]] : tensor<4x3x2x!quant.uniform<i8:f32, 5.000000e-02:-3>> into tensor<4x6x!quant.uniform<i8:f32, 5.000000e-02:-3>>
// CHECK-NOT:     qlow.quantize
// CHECK:         return %[[C]], %[[F]]
func.func @merge_heads(%q: tensor<3x4x2x!quant.uniform<i8:f32, 0.05:-3>>) -> (tensor<4x6x!quant.uniform<i8:f32, 0.05:-3>>, tensor<4x3x2xf32>) {
  %d = qlow.dequantize %q : tensor<3x4x2x!quant.uniform<i8:f32, 0.05:-3>> -> tensor<3x4x2xf32>
  %init = tensor.empty() : tensor<4x3x2xf32>
  %t = linalg.transpose ins(%d : tensor<3x4x2xf32>) outs(%init : tensor<4x3x2xf32>) permutation = [1, 0, 2]
  %c = tensor.collapse_shape %t [[0], [1, 2]] : tensor<4x3x2xf32> into tensor<4x6xf32>
  %r = qlow.quantize %c : tensor<4x6xf32> -> tensor<4x6x!quant.uniform<i8:f32, 0.05:-3>>
  return %r, %t : tensor<4x6x!quant.uniform<i8:f32, 0.05:-3>>, tensor<4x3x2xf32>
}

// -----

// Per axis: the quantized dimension moves with the transpose (axis 1 of
// [2, 3] is axis 0 of [3, 2]) and past the unit dimensions an expand_shape
// adds (axis 0 of [3, 2] is axis 1 of [1, 3, 2]); the quantize has the
// moved axis and the same scales and zero points, so it folds. The storage
// integers move (a linalg.transpose keeps its element type; quant.scast on
// either side).
// CHECK-LABEL: func.func @per_axis_moved(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<2x3x!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01:1,3.000000e-01:-1}>>)
// CHECK-NOT:     qlow.dequantize
// CHECK:         %[[S:.+]] = quant.scast %[[Q]] : {{.+}} to tensor<2x3xi8>
// CHECK:         %[[T:.+]] = linalg.transpose ins(%[[S]] : tensor<2x3xi8>) outs(%{{.+}} : tensor<3x2xi8>) permutation = [1, 0]
// CHECK:         %[[E:.+]] = tensor.expand_shape %[[T]] {{.+}} into tensor<1x3x2xi8>
// CHECK:         %[[R:.+]] = quant.scast %[[E]] : tensor<1x3x2xi8> to tensor<1x3x2x!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01:1,3.000000e-01:-1}>>
// CHECK-NOT:     qlow.quantize
// CHECK:         return %[[R]]
func.func @per_axis_moved(%q: tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>>) -> tensor<1x3x2x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>> {
  %d = qlow.dequantize %q : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>> -> tensor<2x3xf32>
  %init = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%d : tensor<2x3xf32>) outs(%init : tensor<3x2xf32>) permutation = [1, 0]
  %e = tensor.expand_shape %t [[0, 1], [2]] output_shape [1, 3, 2] : tensor<3x2xf32> into tensor<1x3x2xf32>
  %r = qlow.quantize %e : tensor<1x3x2xf32> -> tensor<1x3x2x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>>
  return %r : tensor<1x3x2x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>>
}
