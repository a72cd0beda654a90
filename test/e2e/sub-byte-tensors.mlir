// Tensors of 4-bit integers in elementwise code, compiled against
// lib/Reference bit for bit. A tensor of i4 keeps one value per byte in
// memory, but LLVM loads and stores a vector of i4 as packed nibbles:
// qlow-vectorize-elementwise leaves generics that touch sub-byte integers
// to scalar loops (a vectorized dequantize of this 4 x 5 i4 constant read
// shifted values), and qlow.embedding widens a dequantized i4 table to i8
// before its row loads. Covered: a per-tensor i4 constant dequantized, a
// per-tensor i4 table gathered in its stored form (rows copied) then
// dequantized, and quantize/dequantize round trips through i4 and u4 over
// rows of 19 and 37 values.
// DEFINE: %{entries} = dequantize_i4,gather_i4_stored,roundtrip_i4,roundtrip_u4
// RUN: rm -rf %t && mkdir -p %t
// RUN: qlow-run --reference %s --entry %{entries} --random-inputs --seed 2 --output-dir %t/ref
// RUN: qlow-run %s --entry %{entries} --random-inputs --seed 2 --output-dir %t/jit
// RUN: %python %S/compare_exact.py %t/ref %t/jit | FileCheck %s
// CHECK: 4 of 4 outputs identical

!q = !quant.uniform<i4:f32, 0.5:1>
!u = !quant.uniform<u4:f32, 0.25:7>
func.func @dequantize_i4() -> tensor<4x5xf32> {
  %s = arith.constant dense<[[1, -2, 3, -4, 5], [-8, 7, 6, 0, -1], [2, 2, -3, 4, -7], [0, 1, 2, 3, 4]]> : tensor<4x5xi4>
  %t = quant.scast %s : tensor<4x5xi4> to tensor<4x5x!q>
  %d = qlow.dequantize %t : tensor<4x5x!q> -> tensor<4x5xf32>
  return %d : tensor<4x5xf32>
}
func.func @gather_i4_stored() -> tensor<3x5xf32> {
  %s = arith.constant dense<[[1, -2, 3, -4, 5], [-8, 7, 6, 0, -1], [2, 2, -3, 4, -7], [0, 1, 2, 3, 4]]> : tensor<4x5xi4>
  %t = quant.scast %s : tensor<4x5xi4> to tensor<4x5x!q>
  %i = arith.constant dense<[3, 0, 2]> : tensor<3xi32>
  %y = qlow.embedding %t, %i : (tensor<4x5x!q>, tensor<3xi32>) -> tensor<3x5x!q>
  %d = qlow.dequantize %y : tensor<3x5x!q> -> tensor<3x5xf32>
  return %d : tensor<3x5xf32>
}
func.func @roundtrip_i4(%x: tensor<7x19xf32>) -> tensor<7x19xf32> {
  %q = qlow.quantize %x : tensor<7x19xf32> -> tensor<7x19x!q>
  %d = qlow.dequantize %q : tensor<7x19x!q> -> tensor<7x19xf32>
  return %d : tensor<7x19xf32>
}
func.func @roundtrip_u4(%x: tensor<3x37xf32>) -> tensor<3x37xf32> {
  %q = qlow.quantize %x : tensor<3x37xf32> -> tensor<3x37x!u>
  %d = qlow.dequantize %q : tensor<3x37x!u> -> tensor<3x37xf32>
  return %d : tensor<3x37xf32>
}
