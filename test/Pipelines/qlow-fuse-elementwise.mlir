// RUN: qlow-opt %s --convert-qlow-to-linalg --qlow-fuse-elementwise --split-input-file | FileCheck %s

// The requantizing epilogue of a matmul, the GELU table after it and a
// residual add become one elementwise generic next to the contraction.
// CHECK-LABEL: func.func @epilogue_chain
// CHECK-SAME: (%[[A:.+]]: tensor<4x8xi8>, %[[R:.+]]: tensor<4x3xi8>)
// CHECK: %[[ACC:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: %[[OUT:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%[[ACC]], %{{.+}}, %[[R]] : tensor<4x3xi32>, tensor<3xi32>, tensor<4x3xi8>)
// CHECK: tensor.extract
// CHECK: linalg.yield
// CHECK-NOT: linalg.generic
// CHECK: return %[[OUT]]
func.func @epilogue_chain(%a: tensor<4x8x!quant.uniform<u8:f32, 0.02:128>>, %r: tensor<4x3x!quant.uniform<i8:f32, 0.05:3>>) -> tensor<4x3x!quant.uniform<i8:f32, 0.06:-5>> {
  %w = arith.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [-10, 11, 12], [13, -14, 15], [16, 17, 18], [-19, 20, 21], [22, 23, -24]]> : tensor<8x3xi8>
  %wq = quant.scast %w : tensor<8x3xi8> to tensor<8x3x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<4x8x!quant.uniform<u8:f32, 0.02:128>>, tensor<8x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<4x3x!quant.uniform<i8:f32, 0.04:2>>
  %g = qlow.gelu %y : tensor<4x3x!quant.uniform<i8:f32, 0.04:2>> -> tensor<4x3x!quant.uniform<i8:f32, 0.03:-10>>
  %s = qlow.add %g, %r : (tensor<4x3x!quant.uniform<i8:f32, 0.03:-10>>, tensor<4x3x!quant.uniform<i8:f32, 0.05:3>>) -> tensor<4x3x!quant.uniform<i8:f32, 0.06:-5>>
  return %s : tensor<4x3x!quant.uniform<i8:f32, 0.06:-5>>
}

// -----

// A producer with two users stays: fusing it would compute it twice.
// CHECK-LABEL: func.func @shared_producer
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: linalg.generic
func.func @shared_producer(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  %g = qlow.gelu %a : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %s = qlow.silu %g : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %t = qlow.add %g, %a : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %s, %t : tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// The dynamic quantization of a matmul's activations is elementwise, but its
// consumer is the contraction: fusing would quantize each value N times.
// CHECK-LABEL: func.func @not_into_contraction
// CHECK: %[[Q:[0-9]+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<4x8xi8>)
// CHECK: arith.divf
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[Q]], %{{.+}} : tensor<4x8xi8>, tensor<8x3xi8>)
// CHECK-NOT: arith.divf
// CHECK: return
func.func @not_into_contraction(%x: tensor<4x8xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [-10, 11, 12], [13, -14, 15], [16, 17, 18], [-19, 20, 21], [22, 23, -24]]> : tensor<8x3xi8>
  %wq = quant.scast %w : tensor<8x3xi8> to tensor<8x3x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<4x8xf32>, tensor<8x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
