// qlow.quantize, qlow.dequantize and qlow.fake_quant of sub-channel (blocked)
// types, compiled (convert-qlow-to-linalg indexes the scales and zero points
// of element (i, j) by (i floordiv b0, j floordiv b1)) against lib/Reference,
// bit for bit: u8 in 4 x 3 blocks with zero points up to 127 (upstream prints
// a u8 sub-channel zero point of 128 or more as a negative number), i8 in
// blocks along each dimension, and an i4 constant (what the ONNX importer
// makes of a blocked DequantizeLinear) dequantized in blocks of 8 rows.
// Dimensions (6, 5, 3) are not multiples of any vector width.
// DEFINE: %{entries} = quantize_blocked,dequantize_blocked,fake_quant_blocked,dequantize_i4_constant
// RUN: rm -rf %t && mkdir -p %t
// RUN: qlow-run --reference %s --entry %{entries} --random-inputs --seed 3 --output-dir %t/ref
// RUN: qlow-run %s --entry %{entries} --random-inputs --seed 3 --output-dir %t/jit
// RUN: %python %S/compare_exact.py %t/ref %t/jit | FileCheck %s
// CHECK: 4 of 4 outputs identical
// The generic's parameter maps:
// RUN: qlow-opt %s --convert-qlow-to-linalg | FileCheck %s --check-prefix=MAPS
// MAPS-DAG: affine_map<(d0, d1) -> (d0 floordiv 4, d1 floordiv 3)>
// MAPS-DAG: affine_map<(d0, d1) -> (d0 floordiv 32, d1)>
// MAPS-DAG: affine_map<(d0, d1) -> (d0, d1 floordiv 16)>
// MAPS-DAG: affine_map<(d0, d1) -> (d0 floordiv 8, 0)>

!qa = !quant.uniform<u8:f32:{0:4, 1:3}, {{0.05:3, 0.1:100}, {0.2:127, 0.025:0}}>
!qb = !quant.uniform<i8:f32:{0:32, 1:1}, {{0.5:1, 0.25:-2, 2.0:0, 0.125:7, 1.0:-8}, {1.0:-1, 0.125:3, 4.0:0, 0.5:0, 0.75:2}}>
!qc = !quant.uniform<i8:f32:{0:1, 1:16}, {{0.03:-5, 0.07:100}, {0.011:0, 0.09:-128}, {0.05:3, 0.1:1}}>
!q4 = !quant.uniform<i4:f32:{0:8, 1:5}, {{0.5:1}, {0.25:-2}, {2.0:0}, {0.125:7}}>
func.func @quantize_blocked(%x: tensor<8x6xf32>) -> tensor<8x6x!qa> {
  %q = qlow.quantize %x : tensor<8x6xf32> -> tensor<8x6x!qa>
  return %q : tensor<8x6x!qa>
}
func.func @dequantize_blocked(%q: tensor<64x5x!qb>) -> tensor<64x5xf32> {
  %d = qlow.dequantize %q : tensor<64x5x!qb> -> tensor<64x5xf32>
  return %d : tensor<64x5xf32>
}
func.func @fake_quant_blocked(%x: tensor<3x32xf32>) -> tensor<3x32xf32> {
  %y = qlow.fake_quant %x as !qc : tensor<3x32xf32>
  return %y : tensor<3x32xf32>
}
func.func @dequantize_i4_constant() -> tensor<32x5xf32> {
  %c = arith.constant dense<[
    [2, 4, -8, 4, -1],
    [0, 2, -4, 7, -8],
    [-4, -2, 1, -2, -6],
    [-8, -8, -8, -6, 7],
    [-5, 2, 4, -5, -4],
    [-2, -4, 7, -6, 6],
    [4, 5, -7, -2, 2],
    [-1, 2, 2, 2, -8],
    [7, 0, 6, -4, -3],
    [6, -6, -7, -3, 2],
    [-7, 5, -3, -5, 0],
    [6, 6, 5, -4, -8],
    [4, 3, 4, -8, -8],
    [0, -3, -2, 6, -5],
    [0, -3, -4, 4, -6],
    [-3, -7, -6, -4, 3],
    [1, -1, -6, 4, 4],
    [-5, -8, -3, -6, 4],
    [0, 0, -4, 0, 7],
    [-5, 4, -8, -3, 6],
    [5, -7, 5, 5, -1],
    [-3, 7, 7, 2, -2],
    [-5, 6, -4, 0, 2],
    [-5, -3, 3, -5, 2],
    [7, 2, 2, -1, 7],
    [-5, -3, 2, 2, -7],
    [-6, 3, 5, 2, 6],
    [-2, -3, 4, -8, -5],
    [-5, -2, -6, 4, 5],
    [-2, -8, 3, -7, 1],
    [-6, 7, 2, 7, 1],
    [3, -2, 4, -7, -6]]> : tensor<32x5xi4>
  %q = quant.scast %c : tensor<32x5xi4> to tensor<32x5x!q4>
  %d = qlow.dequantize %q : tensor<32x5x!q4> -> tensor<32x5xf32>
  return %d : tensor<32x5xf32>
}
