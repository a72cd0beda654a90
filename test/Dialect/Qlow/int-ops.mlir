// RUN: qlow-opt %s | qlow-opt | FileCheck %s
// RUN: qlow-opt %s --mlir-print-op-generic | qlow-opt | FileCheck %s
//
// Round trip of the integer-only ops (qlow.int_softmax, qlow.int_layer_norm,
// qlow.int_gelu) with every storage width they accept, optional beta, and
// non-default attributes. Defaults (axis = -1, epsilon = 1e-5) are elided.

// CHECK-LABEL: func.func @int_softmax_u8(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x8x8x!quant.uniform<i8:f32, 6.250000e-02>>)
// CHECK:         %[[P:.+]] = qlow.int_softmax %[[X]] : tensor<2x8x8x!quant.uniform<i8:f32, 6.250000e-02>> -> tensor<2x8x8x!quant.uniform<u8:f32, 3.906250e-03>>
// CHECK:         return %[[P]] :
func.func @int_softmax_u8(%x: tensor<2x8x8x!quant.uniform<i8:f32, 0.0625>>) -> tensor<2x8x8x!quant.uniform<u8:f32, 0.00390625>> {
  %p = qlow.int_softmax %x {axis = -1 : i64} : tensor<2x8x8x!quant.uniform<i8:f32, 0.0625>> -> tensor<2x8x8x!quant.uniform<u8:f32, 0.00390625>>
  return %p : tensor<2x8x8x!quant.uniform<u8:f32, 0.00390625>>
}

// CHECK-LABEL: func.func @int_softmax_axis_widths(
// CHECK:         qlow.int_softmax %{{.+}} {axis = 0 : i64} : tensor<5x3x!quant.uniform<i32:f32, 1.000000e-03>> -> tensor<5x3x!quant.uniform<i16:f32, 3.000000e-05>>
// CHECK:         qlow.int_softmax %{{.+}} {axis = -2 : i64} : tensor<5x3x!quant.uniform<u16:f32, 1.000000e-03:300>> -> tensor<5x3x!quant.uniform<u8:f32, 3.921000e-03>>
func.func @int_softmax_axis_widths(%a: tensor<5x3x!quant.uniform<i32:f32, 0.001>>, %b: tensor<5x3x!quant.uniform<u16:f32, 0.001:300>>)
    -> (tensor<5x3x!quant.uniform<i16:f32, 3.0e-5>>, tensor<5x3x!quant.uniform<u8:f32, 0.003921>>) {
  %0 = qlow.int_softmax %a {axis = 0 : i64} : tensor<5x3x!quant.uniform<i32:f32, 0.001>> -> tensor<5x3x!quant.uniform<i16:f32, 3.0e-5>>
  %1 = qlow.int_softmax %b {axis = -2 : i64} : tensor<5x3x!quant.uniform<u16:f32, 0.001:300>> -> tensor<5x3x!quant.uniform<u8:f32, 0.003921>>
  return %0, %1 : tensor<5x3x!quant.uniform<i16:f32, 3.0e-5>>, tensor<5x3x!quant.uniform<u8:f32, 0.003921>>
}

// CHECK-LABEL: func.func @int_layer_norm(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x32x!quant.uniform<i8:f32, 5.000000e-02>>, %[[G:[^:]+]]: tensor<32xf32>, %[[B:[^:]+]]: tensor<32xf32>)
// CHECK:         %[[Y0:.+]] = qlow.int_layer_norm %[[X]], %[[G]], %[[B]] : (tensor<8x32x!quant.uniform<i8:f32, 5.000000e-02>>, tensor<32xf32>, tensor<32xf32>) -> tensor<8x32x!quant.uniform<i8:f32, 3.000000e-02:-2>>
// CHECK:         %[[Y1:.+]] = qlow.int_layer_norm %[[X]], %[[G]] {epsilon = 9.99999997E-7 : f32} : (tensor<8x32x!quant.uniform<i8:f32, 5.000000e-02>>, tensor<32xf32>) -> tensor<8x32x!quant.uniform<i16:f32, 1.000000e-04>>
// CHECK:         return %[[Y0]], %[[Y1]] :
func.func @int_layer_norm(%x: tensor<8x32x!quant.uniform<i8:f32, 0.05>>, %g: tensor<32xf32>, %b: tensor<32xf32>)
    -> (tensor<8x32x!quant.uniform<i8:f32, 0.03:-2>>, tensor<8x32x!quant.uniform<i16:f32, 1.0e-4>>) {
  %0 = qlow.int_layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<8x32x!quant.uniform<i8:f32, 0.05>>, tensor<32xf32>, tensor<32xf32>) -> tensor<8x32x!quant.uniform<i8:f32, 0.03:-2>>
  %1 = qlow.int_layer_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<8x32x!quant.uniform<i8:f32, 0.05>>, tensor<32xf32>) -> tensor<8x32x!quant.uniform<i16:f32, 1.0e-4>>
  return %0, %1 : tensor<8x32x!quant.uniform<i8:f32, 0.03:-2>>, tensor<8x32x!quant.uniform<i16:f32, 1.0e-4>>
}

// CHECK-LABEL: func.func @int_gelu(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x64x!quant.uniform<i8:f32, 4.000000e-02>>, %[[H:[^:]+]]: tensor<?x3x!quant.uniform<u16:f32, 1.000000e-03:32768>>)
// CHECK:         %[[Y0:.+]] = qlow.int_gelu %[[X]] : tensor<8x64x!quant.uniform<i8:f32, 4.000000e-02>> -> tensor<8x64x!quant.uniform<i8:f32, 3.000000e-02:-40>>
// CHECK:         %[[Y1:.+]] = qlow.int_gelu %[[H]] : tensor<?x3x!quant.uniform<u16:f32, 1.000000e-03:32768>> -> tensor<?x3x!quant.uniform<u8<1:255>:f32, 2.000000e-02:10>>
// CHECK:         return %[[Y0]], %[[Y1]] :
func.func @int_gelu(%x: tensor<8x64x!quant.uniform<i8:f32, 0.04>>, %h: tensor<?x3x!quant.uniform<u16:f32, 0.001:32768>>)
    -> (tensor<8x64x!quant.uniform<i8:f32, 0.03:-40>>, tensor<?x3x!quant.uniform<u8<1:255>:f32, 0.02:10>>) {
  %0 = qlow.int_gelu %x : tensor<8x64x!quant.uniform<i8:f32, 0.04>> -> tensor<8x64x!quant.uniform<i8:f32, 0.03:-40>>
  %1 = qlow.int_gelu %h : tensor<?x3x!quant.uniform<u16:f32, 0.001:32768>> -> tensor<?x3x!quant.uniform<u8<1:255>:f32, 0.02:10>>
  return %0, %1 : tensor<8x64x!quant.uniform<i8:f32, 0.03:-40>>, tensor<?x3x!quant.uniform<u8<1:255>:f32, 0.02:10>>
}
