// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file | FileCheck %s
// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file | qlow-opt --split-input-file | FileCheck %s
// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file | FileCheck %s --check-prefix=INT

// The integer-only ops (IntegerOnlyToLinalg.cpp): integer arith in
// linalg.generic ops, row statistics as reductions along the op's axis. The
// numbers are checked bit for bit by test/e2e/random-integer-only-ops.test.
// No floating-point arithmetic anywhere:
// INT-NOT: arith.{{(addf|subf|mulf|divf|sitofp|uitofp|fptosi|fptoui|extf|truncf|maximumf|minimumf)}}
// INT-NOT: math.{{(exp|erf|erfc|sqrt|rsqrt|tanh)}}

// int_softmax along axis 0 of a 5x7 i8 tensor: the max and the sum reduce
// loop 0 (the maps read per-column values through (d0, d1) -> (d1)).
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[COL:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @int_softmax_axis0(
// CHECK-SAME:    %[[X:.+]]: tensor<5x7xi8>) -> tensor<5x7xi8>
// CHECK-DAG:     arith.constant -2147483648 : i32
// CHECK:         %[[MAX:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[COL]]], iterator_types = ["reduction", "parallel"]} ins(%[[X]] : tensor<5x7xi8>)
// CHECK:           arith.maxsi
// CHECK:         %[[E:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[MAX]] : tensor<5x7xi8>, tensor<7xi32>)
// CHECK-DAG:       arith.constant -352066 : i32
// CHECK-DAG:       arith.constant 11357 : i32
// CHECK-DAG:       arith.constant 22168 : i32
// CHECK-DAG:       arith.constant 257578234 : i32
// CHECK:           arith.shrsi %{{.+}}, %{{.+}} : i32
// CHECK:           -> tensor<5x7xi32>
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[COL]]], iterator_types = ["reduction", "parallel"]} ins(%[[E]] : tensor<5x7xi32>)
// CHECK:           arith.addi
// CHECK:         %[[R:.+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<7xi32>)
// CHECK:           arith.divsi %{{.+}}, %{{.+}} : i64
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[E]], %[[R]] : tensor<5x7xi32>, tensor<7xi64>)
// CHECK:           arith.muli %{{.+}}, %{{.+}} : i64
// CHECK:           arith.trunci %{{.+}} : i32 to i8
// CHECK:         return %[[Y]]
func.func @int_softmax_axis0(%x: tensor<5x7x!quant.uniform<i8:f32, 0.0625>>) -> tensor<5x7x!quant.uniform<u8:f32, 0.00390625>> {
  %p = qlow.int_softmax %x {axis = 0 : i64} : tensor<5x7x!quant.uniform<i8:f32, 0.0625>> -> tensor<5x7x!quant.uniform<u8:f32, 0.00390625>>
  return %p : tensor<5x7x!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// A 32-bit input: q - max is computed in i32 and a wrapped (positive)
// difference saturates to -2^31.
// CHECK-LABEL: func.func @int_softmax_i32(
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK:         linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK:           %[[D:.+]] = arith.subi %{{.+}}, %{{.+}} : i32
// CHECK:           %[[WRAP:.+]] = arith.cmpi sgt, %[[D]], %{{.+}} : i32
// CHECK:           arith.select %[[WRAP]], %{{.+}}, %[[D]] : i32
func.func @int_softmax_i32(%x: tensor<2x9x!quant.uniform<i32:f32, 0.001>>) -> tensor<2x9x!quant.uniform<i16:f32, 3.0e-5>> {
  %p = qlow.int_softmax %x : tensor<2x9x!quant.uniform<i32:f32, 0.001>> -> tensor<2x9x!quant.uniform<i16:f32, 3.0e-5>>
  return %p : tensor<2x9x!quant.uniform<i16:f32, 3.0e-5>>
}

// -----

// int_layer_norm: i64 row sum and sum of squares (reductions along the last
// loop), the rounded mean and the Newton square root per row, then one
// parallel generic that reads the folded gamma (G_i = gamma_i 2^16 / so: 1.5
// and 0.75 at so = 0.03 give 3276800 and 1638400) and beta (B_i = beta_i 2^32
// / so: 0.25 -> 35791394133) as constants.
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG:   #[[FEAT:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @int_layer_norm(
// CHECK-SAME:    %[[X:.+]]: tensor<3x2xi8>) -> tensor<3x2xi8>
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<3x2xi8>)
// CHECK:           arith.addi %{{.+}}, %{{.+}} : i64
// CHECK:         %[[MU:.+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<3xi64>)
// CHECK:           arith.floordivsi
// CHECK:         %[[SQ:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]], %[[MU]] : tensor<3x2xi8>, tensor<3xi64>)
// CHECK:         %[[R:.+]] = linalg.generic {{.*}} ins(%[[SQ]] : tensor<3xi64>)
// CHECK:           math.ctlz
// CHECK-COUNT-7:   arith.minsi %{{.+}}, %{{.+}} : i64
// CHECK:           arith.divsi
// CHECK-DAG:     %[[G:.+]] = arith.constant dense<[3276800, 1638400]> : tensor<2xi64>
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]], #[[FEAT]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[MU]], %[[R]], %[[G]] : tensor<3x2xi8>, tensor<3xi64>, tensor<3xi64>, tensor<2xi64>)
// CHECK-DAG:       arith.constant 35791394133 : i64
// CHECK:           arith.shrsi
// CHECK:           arith.trunci %{{.+}} : i64 to i8
// CHECK:         return %[[Y]]
func.func @int_layer_norm(%x: tensor<3x2x!quant.uniform<i8:f32, 0.05>>) -> tensor<3x2x!quant.uniform<i8:f32, 0.03:-2>> {
  %g = arith.constant dense<[1.5, 0.75]> : tensor<2xf32>
  %b = arith.constant dense<0.25> : tensor<2xf32>
  %y = qlow.int_layer_norm %x, %g, %b : (tensor<3x2x!quant.uniform<i8:f32, 0.05>>, tensor<2xf32>, tensor<2xf32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.03:-2>>
  return %y : tensor<3x2x!quant.uniform<i8:f32, 0.03:-2>>
}

// -----

// int_gelu: one parallel generic, I-BERT's clipped erf polynomial.
// CHECK-LABEL: func.func @int_gelu(
// CHECK-SAME:    %[[X:.+]]: tensor<4x5xi16>) -> tensor<4x5xi8>
// CHECK:         %[[Y:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<4x5xi16>)
// CHECK:           arith.extsi %{{.+}} : i16 to i32
// CHECK:           arith.constant 28983 : i32
// CHECK:           math.absi
// CHECK:           arith.constant 9463 : i32
// CHECK:           arith.trunci %{{.+}} : i32 to i8
// CHECK:         return %[[Y]]
// CHECK-NOT:     linalg.generic
func.func @int_gelu(%x: tensor<4x5x!quant.uniform<i16:f32, 0.001:5>>) -> tensor<4x5x!quant.uniform<u8:f32, 0.03:20>> {
  %y = qlow.int_gelu %x : tensor<4x5x!quant.uniform<i16:f32, 0.001:5>> -> tensor<4x5x!quant.uniform<u8:f32, 0.03:20>>
  return %y : tensor<4x5x!quant.uniform<u8:f32, 0.03:20>>
}
