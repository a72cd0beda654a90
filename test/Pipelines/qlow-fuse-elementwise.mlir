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

// -----

// A producer the consumer reads through a broadcast is not fused: a
// layer_norm's 1/sqrt(var / D + eps) has one value per row, and fused into
// the normalization it would be computed once per element (a vector f64
// division and square root per 16 elements instead of one per row). The
// per-row generics stay, and the normalization reads their results.
// CHECK-LABEL: func.func @row_statistic_not_broadcast
// CHECK: %[[MEAN:.+]] = linalg.generic {{.+}} iterator_types = ["parallel"]} ins(%{{.+}} : tensor<4xf64>) outs(%{{.+}} : tensor<4xf64>)
// CHECK: %[[RSTD:.+]] = linalg.generic {{.+}} iterator_types = ["parallel"]} ins(%{{.+}} : tensor<4xf64>) outs(%{{.+}} : tensor<4xf64>)
// CHECK: math.sqrt
// CHECK: %[[Y:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]} ins(%{{.+}}, %[[MEAN]], %[[RSTD]], %{{.+}}, %{{.+}} : tensor<4x64xf32>, tensor<4xf64>, tensor<4xf64>, tensor<64xf32>, tensor<64xf32>)
// CHECK-NOT: math.sqrt
// CHECK: return %[[Y]]
func.func @row_statistic_not_broadcast(%x: tensor<4x64xf32>, %g: tensor<64xf32>) -> tensor<4x64xf32> {
  %y = qlow.layer_norm %x, %g, %g : (tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

// -----

// A per-row producer read elementwise by a consumer over the same rows (a
// permutation map: nothing is recomputed) is still fused into one generic.
// CHECK-LABEL: func.func @row_chain_fused
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel"]
// CHECK: arith.divf
// CHECK: math.sqrt
// CHECK: arith.mulf
// CHECK: linalg.yield
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @row_chain_fused(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf64>
  %a = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf64>) {
  ^bb0(%in: f32, %out: f64):
    %w = arith.extf %in : f32 to f64
    %c = arith.constant 7.680000e+02 : f64
    %d = arith.divf %w, %c : f64
    %s = math.sqrt %d : f64
    linalg.yield %s : f64
  } -> tensor<4xf64>
  %e2 = tensor.empty() : tensor<4xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%a, %x : tensor<4xf64>, tensor<4xf32>) outs(%e2 : tensor<4xf32>) {
  ^bb0(%r: f64, %in: f32, %out: f32):
    %w = arith.extf %in : f32 to f64
    %m = arith.mulf %w, %r : f64
    %t = arith.truncf %m : f64 to f32
    linalg.yield %t : f32
  } -> tensor<4xf32>
  return %b : tensor<4xf32>
}
