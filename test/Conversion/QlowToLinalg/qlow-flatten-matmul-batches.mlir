// RUN: qlow-opt %s --qlow-flatten-matmul-batches --split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-flatten-matmul-batches --split-input-file | qlow-opt --split-input-file | FileCheck %s

// [1, 6, 8] activations (as ONNX writes them) with one [8, 4] weight matrix:
// one matmul over 6 rows between reshapes; bias and rounding carried over.
// CHECK-LABEL: func.func @shared_weights
// CHECK: %[[X:.+]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<1x6x8x!quant.uniform<u8:f32, 5.000000e-02:120>> into tensor<6x8x!quant.uniform<u8:f32, 5.000000e-02:120>>
// CHECK: %[[Y:.+]] = qlow.matmul %[[X]], %{{.+}}, %{{.+}} {rounding = #qlow.rounding<float>} : (tensor<6x8x!quant.uniform<u8:f32, 5.000000e-02:120>>, tensor<8x4x!quant.uniform<i8:f32, 1.000000e-02>>, tensor<4xi32>) -> tensor<6x4x!quant.uniform<u8:f32, 1.000000e-01:3>>
// CHECK: %[[R:.+]] = tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2]] output_shape [1, 6, 4]
// CHECK: return %[[R]]
func.func @shared_weights(%a: tensor<1x6x8x!quant.uniform<u8:f32, 0.05:120>>, %b: tensor<4xi32>) -> tensor<1x6x4x!quant.uniform<u8:f32, 0.1:3>> {
  %wi = arith.constant dense<3> : tensor<8x4xi8>
  %w = quant.scast %wi : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %w, %b {rounding = #qlow.rounding<float>} : (tensor<1x6x8x!quant.uniform<u8:f32, 0.05:120>>, tensor<8x4x!quant.uniform<i8:f32, 0.01>>, tensor<4xi32>) -> tensor<1x6x4x!quant.uniform<u8:f32, 0.1:3>>
  return %y : tensor<1x6x4x!quant.uniform<u8:f32, 0.1:3>>
}

// -----

// Two batch dimensions, f32 activations quantized at run time per row, and a
// per-channel result axis moved from 3 to 1.
// CHECK-LABEL: func.func @dynamic_two_batches
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1, 2], [3]] : tensor<2x3x5x8xf32> into tensor<30x8xf32>
// CHECK: qlow.matmul {{.+}} {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<30x8xf32>, tensor<8x4x!quant.uniform<i8:f32, 1.000000e-02>>) -> tensor<30x4xf32>
// CHECK: tensor.expand_shape {{.+}} output_shape [2, 3, 5, 4] : tensor<30x4xf32> into tensor<2x3x5x4xf32>
func.func @dynamic_two_batches(%a: tensor<2x3x5x8xf32>) -> tensor<2x3x5x4xf32> {
  %wi = arith.constant dense<3> : tensor<8x4xi8>
  %w = quant.scast %wi : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %w {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<2x3x5x8xf32>, tensor<8x4x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x3x5x4xf32>
  return %y : tensor<2x3x5x4xf32>
}

// -----

// Left alone: batched weights (a product of two activations), rank-2
// activations, static per-row activations (one scale per M, repeated in
// each batch), and a result quantized per channel (its axis would move).
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: tensor.collapse_shape
// CHECK-NOT: tensor.expand_shape
// CHECK: return
func.func @left_alone(%a: tensor<1x6x8x!quant.uniform<u8:f32, 0.05:120>>, %q: tensor<2x5x8x!quant.uniform<u8:f32, 0.05:120>>, %k: tensor<2x8x3x!quant.uniform<u8:f32, 0.04:132>>, %x: tensor<5x8x!quant.uniform<u8:f32, 0.05:120>>, %r: tensor<2x3x8x!quant.uniform<u8:f32:1, {0.05:120, 0.06:121, 0.07:122}>>) -> (tensor<2x5x3xi32>, tensor<5x4xi32>, tensor<2x3x4xi32>, tensor<1x6x4x!quant.uniform<i8:f32:2, {0.1:1, 0.2:2, 0.3:3, 0.4:4}>>) {
  %wi = arith.constant dense<3> : tensor<8x4xi8>
  %w = quant.scast %wi : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32, 0.01>>
  %y0 = qlow.matmul %q, %k : (tensor<2x5x8x!quant.uniform<u8:f32, 0.05:120>>, tensor<2x8x3x!quant.uniform<u8:f32, 0.04:132>>) -> tensor<2x5x3xi32>
  %y1 = qlow.matmul %x, %w : (tensor<5x8x!quant.uniform<u8:f32, 0.05:120>>, tensor<8x4x!quant.uniform<i8:f32, 0.01>>) -> tensor<5x4xi32>
  %y2 = qlow.matmul %r, %w : (tensor<2x3x8x!quant.uniform<u8:f32:1, {0.05:120, 0.06:121, 0.07:122}>>, tensor<8x4x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x3x4xi32>
  %y3 = qlow.matmul %a, %w : (tensor<1x6x8x!quant.uniform<u8:f32, 0.05:120>>, tensor<8x4x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x4x!quant.uniform<i8:f32:2, {0.1:1, 0.2:2, 0.3:3, 0.4:4}>>
  return %y0, %y1, %y2, %y3 : tensor<2x5x3xi32>, tensor<5x4xi32>, tensor<2x3x4xi32>, tensor<1x6x4x!quant.uniform<i8:f32:2, {0.1:1, 0.2:2, 0.3:3, 0.4:4}>>
}
