// qlow.embedding of quantized tables into f32, compiled against lib/Reference,
// bit for bit: tables in blocks along D (i4 in blocks of 8, as ONNX Runtime's
// GatherBlockQuantized and a Gather of a blocked DequantizeLinear make them;
// u4 in blocks of 5), in blocks along both dimensions (u8, 3 x 4), per column
// (i8, axis 1) and per row (i8, axis 0). The 4-bit tables are constants
// (4-bit values do not cross the compiled code's boundary), the others the
// functions' arguments (random stored values over the whole storage range);
// the indices are constants that repeat rows and use the first and the last.
// No size is a multiple of a vector width.
// DEFINE: %{entries} = blocked_i4,blocked_u4,blocked_both,per_column,per_row
// RUN: rm -rf %t && mkdir -p %t
// RUN: qlow-run --reference %s --entry %{entries} --random-inputs --seed 11 --output-dir %t/ref
// RUN: qlow-run %s --entry %{entries} --random-inputs --seed 11 --output-dir %t/jit
// RUN: %python %S/compare_exact.py %t/ref %t/jit | FileCheck %s
// CHECK: 5 of 5 outputs identical
// The compiled gather takes one row per index (a slice of the table, read
// with contiguous vector loads) and splits it into (block, element) loops,
// the block's parameters invariant along the innermost; the i4 table is
// widened to i8 first (LLVM loads a vector of i4 as packed nibbles).
// RUN: qlow-opt %s --convert-qlow-to-linalg | FileCheck %s --check-prefix=LOWER
// LOWER-LABEL: func.func @blocked_i4
// LOWER:       scf.for
// LOWER:       %[[ROW:.+]] = tensor.extract_slice %{{.+}}[%{{.+}}, 0] [1, 24] [1, 1] : tensor<11x24xi8> to tensor<24xi8>
// LOWER:       tensor.extract_slice %{{.+}}[%{{.+}}, 0] [1, 3] [1, 1] : tensor<11x3xf32> to tensor<3xf32>
// LOWER:       tensor.expand_shape %[[ROW]] {{\[}}[0, 1]] output_shape [3, 8]
// LOWER:       linalg.generic {{.*}} ins(%{{.+}} : tensor<3x8xi8>, tensor<3xf32>, tensor<3xi64>)
// LOWER:       tensor.insert_slice
// LOWER-LABEL: func.func @blocked_both
// LOWER:       scf.for
// LOWER:       arith.divui %{{.+}}, %c3 : index

!q1 = !quant.uniform<i4:f32:{0:1, 1:8}, {{0.15625:3, 0.03125:6, 0.25:-3}, {2.5:7, 1.75:-5, 0.09375:-8}, {1.75, 1.75:-3, 1.5:6}, {0.75:-8, 1.5:-2, 0.75:1}, {0.375:-2, 0.75:4, 0.125:3}, {0.1875:-4, 0.125:2, 0.125:2}, {2.5:3, 0.875:2, 1.75:7}, {0.25, 2.5:4, 3.5:3}, {0.0625:6, 1.5:-2, 1.5:6}, {0.625, 0.0625:3, 0.125:5}, {1.5:2, 0.15625:-4, 0.625:-6}}>
!q2 = !quant.uniform<u4:f32:{0:1, 1:5}, {{0.625:4, 0.25:2, 0.875:2}, {0.5:6, 1.5:5, 0.875:6}, {0.25, 0.3125:3, 0.75:6}, {1.5:6, 0.375, 0.3125:2}, {0.1875:7, 0.3125:7, 0.625:7}, {0.1875:1, 0.1875:7, 0.375:1}}>
!q4 = !quant.uniform<u8:f32:{0:3, 1:4}, {{0.3125:92, 2.5:8}, {0.625:71, 0.3125:75}, {0.375:2, 0.3125:83}}>
!q3 = !quant.uniform<i8:f32:1, {0.375:-2, 0.375:-3, 0.625:6, 0.125:8, 0.375:13}>
!q5 = !quant.uniform<i8:f32:0, {0.5:-3, 0.75:0, 0.125:4, 1.5:0}>
func.func @blocked_i4() -> tensor<2x4x24xf32> {
  %s = arith.constant dense<[[6, 3, 0, -4, -3, -8, 2, 6, -6, 2, -7, 4, -3, 6, 5, -3, -3, -1, -7, -5, -4, -6, 4, -5], [1, -2, -1, 5, -6, 0, -2, 4, 0, 2, -7, -2, -8, 5, -7, 4, 7, -4, -8, -1, 5, -5, -8, -5], [-2, -2, 2, -8, -6, -4, -8, -6, 7, -2, 5, -6, 4, -2, -6, -4, -3, -7, -7, 0, -4, 0, -7, -5], [4, -1, -3, -7, 3, -6, 3, -5, 3, 6, -2, 4, -2, -8, 4, 2, -8, 5, -5, -2, -1, 6, 0, 2], [-6, 1, 1, -5, -7, -8, 4, 5, 7, 3, -1, -6, 5, -1, -5, 4, 3, 3, -4, 1, -3, 0, -8, -7], [-3, 0, -3, -5, -4, -8, -7, -7, 6, -2, 4, 1, -8, 3, 1, -4, 7, 0, -4, -6, 1, -5, -6, 5], [6, -4, 4, -3, 0, 7, 3, -5, -7, 0, -4, -3, -6, -3, -1, -8, -2, -3, 7, 6, 4, -6, -3, 7], [0, -6, -8, 5, 1, -6, 1, -6, -1, -4, -5, -5, 7, 6, -7, 7, -7, -8, 3, -1, 6, -1, 3, 7], [-1, -7, -6, -7, 5, 5, -6, -6, -2, -7, -3, -6, -6, -8, 3, 7, 7, -8, -6, 2, -6, 2, -8, 6], [6, -4, 4, 7, -4, -5, 3, -1, 6, -4, -2, -1, -5, -5, -7, -5, -6, -6, 3, -5, -8, 6, -2, 3], [-6, -1, -8, 0, -2, -8, 6, 0, -8, -5, 5, -7, 0, 7, 2, -1, -7, 0, -4, 1, -7, -3, 3, 4]]> : tensor<11x24xi4>
  %t = quant.scast %s : tensor<11x24xi4> to tensor<11x24x!q1>
  %i = arith.constant dense<[[10, 0, 3, 3], [7, 1, 9, 10]]> : tensor<2x4xi32>
  %y = qlow.embedding %t, %i : (tensor<11x24x!q1>, tensor<2x4xi32>) -> tensor<2x4x24xf32>
  return %y : tensor<2x4x24xf32>
}
func.func @blocked_u4() -> tensor<7x15xf32> {
  %s = arith.constant dense<[[0, 9, 3, 0, 10, 14, 7, 13, 10, 15, 11, 12, 13, 6, 2], [8, 9, 14, 14, 14, 14, 12, 5, 10, 12, 1, 10, 2, 5, 10], [0, 6, 6, 11, 4, 2, 10, 14, 12, 6, 10, 2, 0, 13, 15], [7, 10, 3, 14, 0, 9, 6, 2, 7, 0, 10, 1, 2, 4, 10], [5, 3, 12, 12, 12, 4, 11, 11, 8, 6, 10, 12, 5, 5, 5], [0, 9, 0, 8, 15, 13, 2, 8, 9, 4, 14, 15, 7, 5, 10]]> : tensor<6x15xi4>
  %t = quant.scast %s : tensor<6x15xi4> to tensor<6x15x!q2>
  %i = arith.constant dense<[5, 0, 2, 2, 4, 1, 3]> : tensor<7xi64>
  %y = qlow.embedding %t, %i : (tensor<6x15x!q2>, tensor<7xi64>) -> tensor<7x15xf32>
  return %y : tensor<7x15xf32>
}
func.func @blocked_both(%t: tensor<9x8x!q4>) -> tensor<5x8xf32> {
  %i = arith.constant dense<[8, 0, 4, 3, 5]> : tensor<5xi32>
  %y = qlow.embedding %t, %i : (tensor<9x8x!q4>, tensor<5xi32>) -> tensor<5x8xf32>
  return %y : tensor<5x8xf32>
}
func.func @per_column(%t: tensor<9x5x!q3>) -> tensor<3x5xf32> {
  %i = arith.constant dense<[8, 0, 8]> : tensor<3xi32>
  %y = qlow.embedding %t, %i : (tensor<9x5x!q3>, tensor<3xi32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}
func.func @per_row(%t: tensor<4x7x!q5>) -> tensor<6x7xf32> {
  %i = arith.constant dense<[3, 2, 1, 0, 1, 3]> : tensor<6xi64>
  %y = qlow.embedding %t, %i : (tensor<4x7x!q5>, tensor<6xi64>) -> tensor<6x7xf32>
  return %y : tensor<6x7xf32>
}
