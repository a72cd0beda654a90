// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file | FileCheck %s
// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file | qlow-opt --split-input-file | FileCheck %s

// Quantized types leave the IR: signatures use the storage integer, u8 as i8
// bits read with extui.
// CHECK-LABEL: func.func @matmul_u8_s8_requant
// CHECK-SAME: (%[[A:.+]]: tensor<3x5xi8>, %[[B:.+]]: tensor<2xi32>) -> tensor<3x2xi8>
// CHECK: %[[ACC:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[A]], %{{.+}} : tensor<3x5xi8>, tensor<5x2xi8>)
// CHECK: arith.extui %{{.+}} : i8 to i32
// CHECK: arith.extsi %{{.+}} : i8 to i32
// CHECK: arith.muli
// CHECK: arith.addi
// The column sums of the constant weights are computed at compile time:
// [1+2+3-5+7, -1+0+4+6-8] = [8, 1].
// CHECK-DAG: %[[COLSUM:.+]] = arith.constant dense<[8, 1]> : tensor<2xi32>
// Per-channel shifts of M = 0.5 * {0.25, 0.125} / 0.7 (same multiplier).
// CHECK-DAG: %[[SHIFTS:.+]] = arith.constant dense<[-2, -3]> : tensor<2xi32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%[[ACC]], %[[B]], %[[COLSUM]], %[[SHIFTS]] :
// Correction: acc - 128 * colsum, then the bias.
// CHECK: %[[ZC:.+]] = arith.muli %{{.+}}, %{{.+}} : i32
// CHECK: %[[CORR:.+]] = arith.subi %{{.+}}, %[[ZC]] : i32
// CHECK: arith.addi %[[CORR]], %{{.+}} : i32
// CHECK: arith.shrsi %{{.+}}, %{{.+}} : i64
// CHECK: arith.shrsi
// CHECK: arith.trunci %{{.+}} : i64 to i8
// CHECK-NOT: qlow.
// CHECK-NOT: quant.
func.func @matmul_u8_s8_requant(%a: tensor<3x5x!quant.uniform<u8:f32, 0.5:128>>, %b: tensor<2xi32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.7:-3>> {
  %w = arith.constant dense<[[1, -1], [2, 0], [3, 4], [-5, 6], [7, -8]]> : tensor<5x2xi8>
  %wq = quant.scast %w : tensor<5x2xi8> to tensor<5x2x!quant.uniform<i8:f32:1, {0.25, 0.125}>>
  %y = qlow.matmul %a, %wq, %b : (tensor<3x5x!quant.uniform<u8:f32, 0.5:128>>, tensor<5x2x!quant.uniform<i8:f32:1, {0.25, 0.125}>>, tensor<2xi32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.7:-3>>
  return %y : tensor<3x2x!quant.uniform<i8:f32, 0.7:-3>>
}

// -----

// Symmetric activations and weights: no correction, and the f32 epilogue is a
// single multiply by f32(s_a * s_w).
// CHECK-LABEL: func.func @matmul_f32_result
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: arith.subi
// CHECK: %[[F:.+]] = arith.sitofp %{{.+}} : i32 to f32
// CHECK: arith.mulf %[[F]], %{{.+}} : f32
func.func @matmul_f32_result(%a: tensor<4x8x!quant.uniform<i8:f32, 0.5>>, %w: tensor<8x3x!quant.uniform<i8:f32, 0.25>>) -> tensor<4x3xf32> {
  %y = qlow.matmul %a, %w : (tensor<4x8x!quant.uniform<i8:f32, 0.5>>, tensor<8x3x!quant.uniform<i8:f32, 0.25>>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Weights known only at run time: their column sums are a reduction over K,
// not folded. Batched operands keep the batch loop.
// CHECK-LABEL: func.func @matmul_batched_runtime_weights
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%{{.+}} : tensor<2x8x3xi8>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]
func.func @matmul_batched_runtime_weights(%a: tensor<2x4x8x!quant.uniform<u8:f32, 0.5:10>>, %w: tensor<2x8x3x!quant.uniform<i8:f32, 0.25>>) -> tensor<2x4x3xi32> {
  %y = qlow.matmul %a, %w : (tensor<2x4x8x!quant.uniform<u8:f32, 0.5:10>>, tensor<2x8x3x!quant.uniform<i8:f32, 0.25>>) -> tensor<2x4x3xi32>
  return %y : tensor<2x4x3xi32>
}

// -----

// quantize: x / s, roundeven, + z in f64, clamp, NaN to z.
// CHECK-LABEL: func.func @quantize
// CHECK-SAME: -> tensor<4xi8>
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.cmpf uno
// CHECK: arith.select
// CHECK: arith.trunci %{{.+}} : i64 to i8
func.func @quantize(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<u8:f32, 0.05:128>> {
  %q = qlow.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<u8:f32, 0.05:128>>
  return %q : tensor<4x!quant.uniform<u8:f32, 0.05:128>>
}

// -----

// Per-axis dequantize indexes its scales by the quantized dimension.
// CHECK: #[[AXIS1:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @dequantize_per_axis
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[AXIS1]], #{{.+}}]
// CHECK: arith.extsi %{{.+}} : i8 to i64
// CHECK: arith.sitofp
// CHECK: arith.mulf
func.func @dequantize_per_axis(%q: tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>) -> tensor<2x3xf32> {
  %x = qlow.dequantize %q : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> -> tensor<2x3xf32>
  return %x : tensor<2x3xf32>
}

// -----

// requantize with float rounding multiplies by f32(M), no fixed point.
// CHECK-LABEL: func.func @requantize_float
// CHECK: arith.mulf
// CHECK-NOT: arith.divsi
// CHECK: math.roundeven
func.func @requantize_float(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<u8:f32, 0.2:128>> {
  %r = qlow.requantize %q {rounding = #qlow.rounding<float>} : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<u8:f32, 0.2:128>>
  return %r : tensor<8x!quant.uniform<u8:f32, 0.2:128>>
}

// -----

// f32 matmul with bias: an f32 contraction, then the bias after the k loop.
// CHECK-LABEL: func.func @matmul_float
// CHECK: linalg.generic {{.*}}"reduction"
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.addf
func.func @matmul_float(%a: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %y = qlow.matmul %a, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
