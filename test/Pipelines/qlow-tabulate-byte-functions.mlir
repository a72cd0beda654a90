// RUN: qlow-opt %s --split-input-file --convert-qlow-to-linalg --canonicalize --cse --qlow-fuse-elementwise --qlow-tabulate-byte-functions | FileCheck %s
// RUN: qlow-opt %s --split-input-file --convert-qlow-to-linalg --canonicalize --cse --qlow-fuse-elementwise --qlow-tabulate-byte-functions=report=true -verify-diagnostics -o /dev/null
// The tables hold what the compiled generics computed: same outputs on all
// 256 stored values with and without the pass.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', np.arange(256, dtype=np.uint8).reshape(8, 32))"
// RUN: qlow-run %S/Inputs/gelu_qdq_chain.mlir --input %t/x.npy --opt-level 0 --output-dir %t/plain
// RUN: qlow-run %S/Inputs/gelu_qdq_chain.mlir --input %t/x.npy --opt-level 2 --output-dir %t/table
// RUN: %python %S/../e2e/compare_exact.py %t/plain %t/table | FileCheck %s --check-prefix=SAME
// RUN: qlow-opt %S/Inputs/gelu_qdq_chain.mlir --qlow-cpu-pipeline="opt-level=2" --mlir-print-ir-after=qlow-tabulate-byte-functions -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// The tail of attention scores' requantization in the act x act kernel's
// epilogue: the same outputs with and without its table.
// RUN: qlow-run %S/Inputs/requantized_scores.mlir --random-inputs --seed 3 --opt-level 0 --output-dir %t/scores-plain
// RUN: qlow-run %S/Inputs/requantized_scores.mlir --random-inputs --seed 3 --opt-level 2 --output-dir %t/scores-table
// RUN: %python %S/../e2e/compare_exact.py %t/scores-plain %t/scores-table | FileCheck %s --check-prefix=SAME
// RUN: qlow-opt %S/Inputs/requantized_scores.mlir --qlow-cpu-pipeline="opt-level=2" --mlir-print-ir-after=qlow-tabulate-byte-functions -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// SAME: 1 of 1 outputs identical
// PIPE: IR Dump After QlowTabulateByteFunctionsPass
// PIPE: arith.constant dense<{{.+}}> : tensor<256xi8>
// PIPE-NOT: math.erfc
// PIPE: tensor.extract

// ONNX Runtime's QDQ GELU between two FFN matmuls: dequantize, x / sqrt(2),
// erf (1 - erfc), requantize, + 1, * x, requantize, * 0.5, requantize. The
// fused generic reads %x twice and constants; it becomes one lookup.
// CHECK-LABEL: func.func @gelu_qdq
// CHECK-SAME: (%[[X:.+]]: tensor<4x8xi8>)
// CHECK: %[[T:.+]] = arith.constant dense<{{.+}}> : tensor<256xi8>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[X]] : tensor<4x8xi8>)
// CHECK: ^bb0(%[[IN:.+]]: i8, %{{.+}}: i8):
// CHECK: %[[W:.+]] = arith.extui %[[IN]] : i8 to i32
// CHECK: %[[I:.+]] = arith.index_cast %[[W]] : i32 to index
// CHECK: %[[V:.+]] = tensor.extract %[[T]][%[[I]]] : tensor<256xi8>
// CHECK: linalg.yield %[[V]]
// CHECK-NOT: math.erfc
#id = affine_map<(d0, d1) -> (d0, d1)>
#sc = affine_map<(d0, d1) -> ()>
func.func @gelu_qdq(%x: tensor<4x8x!quant.uniform<u8:f32, 0.0419:144>>) -> tensor<4x8x!quant.uniform<u8:f32, 0.0189:9>> {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %d = qlow.dequantize %x : tensor<4x8x!quant.uniform<u8:f32, 0.0419:144>> -> tensor<4x8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %div = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel"]} ins(%d, %sqrt2 : tensor<4x8xf32>, tensor<f32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %q = arith.divf %a, %s : f32
    linalg.yield %q : f32
  } -> tensor<4x8xf32>
  %erf = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel"]} ins(%div, %one : tensor<4x8xf32>, tensor<f32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %c1: f32, %o: f32):
    %c = math.erfc %a : f32
    %r = arith.subf %c1, %c : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %q1 = qlow.quantize %erf : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.00784:128>>
  %oc = arith.constant dense<255> : tensor<i8>
  %oq = quant.scast %oc : tensor<i8> to tensor<!quant.uniform<u8:f32, 0.00392>>
  %p1 = qlow.add %q1, %oq : (tensor<4x8x!quant.uniform<u8:f32, 0.00784:128>>, tensor<!quant.uniform<u8:f32, 0.00392>>) -> tensor<4x8x!quant.uniform<u8:f32, 0.00784>>
  %m = qlow.mul %x, %p1 : (tensor<4x8x!quant.uniform<u8:f32, 0.0419:144>>, tensor<4x8x!quant.uniform<u8:f32, 0.00784>>) -> tensor<4x8x!quant.uniform<u8:f32, 0.0378:9>>
  %hc = arith.constant dense<255> : tensor<i8>
  %hq = quant.scast %hc : tensor<i8> to tensor<!quant.uniform<u8:f32, 0.00196>>
  // expected-remark @below {{tabulated: 256 entries}}
  %h = qlow.mul %m, %hq : (tensor<4x8x!quant.uniform<u8:f32, 0.0378:9>>, tensor<!quant.uniform<u8:f32, 0.00196>>) -> tensor<4x8x!quant.uniform<u8:f32, 0.0189:9>>
  return %h : tensor<4x8x!quant.uniform<u8:f32, 0.0189:9>>
}

// -----

// A 4-bit input gives 16 entries. Constants captured from above and read at
// constant indices of a non-splat tensor count as constants; the result is
// read through the input's map (a transpose) and written through the
// output's.
// CHECK-LABEL: func.func @i4_transposed
// CHECK-SAME: (%[[X:.+]]: tensor<3x5xi4>)
// CHECK: %[[T:.+]] = arith.constant dense<[{{.+}}]> : tensor<16xi8>
// CHECK: linalg.generic
// CHECK-SAME: indexing_maps = [#[[$T:.+]], #[[$ID:.+]]]
// CHECK-SAME: ins(%[[X]] : tensor<3x5xi4>)
// CHECK: arith.extui %{{.+}} : i4 to i32
// CHECK: tensor.extract %[[T]]
#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
#at2 = affine_map<(d0, d1) -> (2)>
func.func @i4_transposed(%x: tensor<3x5xi4>) -> tensor<5x3xi8> {
  %scales = arith.constant dense<[0.5, 0.25, 0.125, 2.0]> : tensor<4xf32>
  %half = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<5x3xi8>
  // expected-remark @below {{tabulated: 16 entries}}
  %r = linalg.generic {indexing_maps = [#tr, #at2, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %scales : tensor<3x5xi4>, tensor<4xf32>) outs(%e : tensor<5x3xi8>) {
  ^bb0(%a: i4, %s: f32, %o: i8):
    %f = arith.sitofp %a : i4 to f32
    %m = arith.mulf %f, %s : f32
    %p = arith.addf %m, %half : f32
    %i = arith.fptosi %p : f32 to i8
    linalg.yield %i : i8
  } -> tensor<5x3xi8>
  return %r : tensor<5x3xi8>
}

// -----

// A per-column constant makes the result depend on the column, not only on
// the byte: no table.
// CHECK-LABEL: func.func @per_column_constant
// CHECK-NOT: tensor.extract
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @per_column_constant(%x: tensor<2x3xi8>) -> tensor<2x3xi8> {
  %b = arith.constant dense<[0.5, 1.5, 2.5]> : tensor<3xf32>
  %e = tensor.empty() : tensor<2x3xi8>
  // expected-remark @below {{not tabulated: more than one varying input}}
  %r = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %b : tensor<2x3xi8>, tensor<3xf32>) outs(%e : tensor<2x3xi8>) {
  ^bb0(%a: i8, %c: f32, %o: i8):
    %f = arith.uitofp %a : i8 to f32
    %m = arith.mulf %f, %c : f32
    %i = arith.fptoui %m : f32 to i8
    linalg.yield %i : i8
  } -> tensor<2x3xi8>
  return %r : tensor<2x3xi8>
}

// -----

// The same tensor through two different maps is two varying values.
// CHECK-LABEL: func.func @two_maps
// CHECK-NOT: tensor.extract
#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
func.func @two_maps(%x: tensor<3x3xi8>) -> tensor<3x3xi8> {
  %e = tensor.empty() : tensor<3x3xi8>
  // expected-remark @below {{not tabulated: more than one varying input}}
  %r = linalg.generic {indexing_maps = [#id, #tr, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %x : tensor<3x3xi8>, tensor<3x3xi8>) outs(%e : tensor<3x3xi8>) {
  ^bb0(%a: i8, %b: i8, %o: i8):
    %f = arith.sitofp %a : i8 to f32
    %g = arith.sitofp %b : i8 to f32
    %m = arith.mulf %f, %g : f32
    %i = arith.fptosi %m : f32 to i8
    linalg.yield %i : i8
  } -> tensor<3x3xi8>
  return %r : tensor<3x3xi8>
}

// -----

// 16-bit inputs would need 65536 entries; f32 results are not bytes.
// CHECK-LABEL: func.func @too_wide
// CHECK-NOT: tensor.extract
#id = affine_map<(d0) -> (d0)>
func.func @too_wide(%x: tensor<4xi16>, %y: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xi8>
  // expected-remark @below {{not tabulated: the varying input is not an integer of at most 8 bits}}
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<4xi16>) outs(%e : tensor<4xi8>) {
  ^bb0(%a: i16, %o: i8):
    %f = arith.sitofp %a : i16 to f32
    %i = arith.fptosi %f : f32 to i8
    linalg.yield %i : i8
  } -> tensor<4xi8>
  %ef = tensor.empty() : tensor<4xf32>
  // expected-remark @below {{not tabulated: the result is not an integer of at most 8 bits}}
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%y : tensor<4xi8>) outs(%ef : tensor<4xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    linalg.yield %f : f32
  } -> tensor<4xf32>
  return %r, %s : tensor<4xi8>, tensor<4xf32>
}

// -----

// Integer-only bodies cost no more than the lookup; loop indices and values
// from above that are not constants make the result depend on more than the
// byte; a reduction is not elementwise.
// CHECK-LABEL: func.func @not_functions_of_the_byte
// CHECK-NOT: tensor.extract
#id = affine_map<(d0) -> (d0)>
#red = affine_map<(d0) -> ()>
func.func @not_functions_of_the_byte(%x: tensor<4xi8>, %s: f32) -> (tensor<4xi8>, tensor<4xi8>, tensor<4xi8>, tensor<i8>) {
  %e = tensor.empty() : tensor<4xi8>
  %c3 = arith.constant 3 : i8
  // expected-remark @below {{not tabulated: no float arithmetic in the body}}
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<4xi8>) outs(%e : tensor<4xi8>) {
  ^bb0(%a: i8, %o: i8):
    %m = arith.muli %a, %c3 : i8
    linalg.yield %m : i8
  } -> tensor<4xi8>
  // expected-remark @below {{not tabulated: the body reads loop indices}}
  %i = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<4xi8>) outs(%e : tensor<4xi8>) {
  ^bb0(%a: i8, %o: i8):
    %k = linalg.index 0 : index
    %k8 = arith.index_cast %k : index to i8
    %f = arith.sitofp %a : i8 to f32
    %g = arith.fptosi %f : f32 to i8
    %t = arith.addi %g, %k8 : i8
    linalg.yield %t : i8
  } -> tensor<4xi8>
  // expected-remark @below {{not tabulated: the body reads a value defined above that is not a constant}}
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<4xi8>) outs(%e : tensor<4xi8>) {
  ^bb0(%b: i8, %o: i8):
    %f = arith.sitofp %b : i8 to f32
    %m = arith.mulf %f, %s : f32
    %g = arith.fptosi %m : f32 to i8
    linalg.yield %g : i8
  } -> tensor<4xi8>
  %z = arith.constant dense<0> : tensor<i8>
  // expected-remark @below {{not tabulated: has reduction loops}}
  %sum = linalg.generic {indexing_maps = [#id, #red], iterator_types = ["reduction"]} ins(%x : tensor<4xi8>) outs(%z : tensor<i8>) {
  ^bb0(%b: i8, %o: i8):
    %f = arith.sitofp %b : i8 to f32
    %g = arith.fptosi %f : f32 to i8
    %t = arith.addi %g, %o : i8
    linalg.yield %t : i8
  } -> tensor<i8>
  return %r, %i, %a, %sum : tensor<4xi8>, tensor<4xi8>, tensor<4xi8>, tensor<i8>
}

// -----

// An op without a folder (math.rsqrt has none) cannot be evaluated at
// compile time: the generic stays.
// CHECK-LABEL: func.func @no_folder
// CHECK: math.rsqrt
// CHECK-NOT: tensor.extract
#id = affine_map<(d0) -> (d0)>
func.func @no_folder(%x: tensor<4xi8>) -> tensor<4xi8> {
  %e = tensor.empty() : tensor<4xi8>
  // expected-remark @below {{not tabulated: 'math.rsqrt' does not fold}}
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<4xi8>) outs(%e : tensor<4xi8>) {
  ^bb0(%a: i8, %o: i8):
    %f = arith.uitofp %a : i8 to f32
    %g = math.rsqrt %f : f32
    %i = arith.fptoui %g : f32 to i8
    linalg.yield %i : i8
  } -> tensor<4xi8>
  return %r : tensor<4xi8>
}

// -----

// A requantization fused after its matmul's (the attention scores of a QDQ
// graph: Q * K^T rounded to u8, then multiplied by a quantized constant and
// rounded again) reads the i32 accumulators, so the generic is not a function
// of a byte; its tail after the first rounding is, and becomes the lookup.
// CHECK-LABEL: func.func @requantized_tail
// CHECK-SAME: (%[[ACC:.+]]: tensor<2x16xi32>)
// CHECK: %[[T:.+]] = arith.constant dense<{{.+}}> : tensor<256xi8>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[ACC]] : tensor<2x16xi32>)
// CHECK: arith.sitofp %{{.+}} : i32 to f32
// CHECK: math.roundeven
// CHECK: %[[B:.+]] = arith.trunci %{{.+}} : i32 to i8
// CHECK-NEXT: %[[W:.+]] = arith.extui %[[B]] : i8 to i32
// CHECK-NEXT: %[[I:.+]] = arith.index_cast %[[W]] : i32 to index
// CHECK-NEXT: %[[V:.+]] = tensor.extract %[[T]][%[[I]]] : tensor<256xi8>
// CHECK-NEXT: linalg.yield %[[V]] : i8
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @requantized_tail(%acc: tensor<2x16xi32>) -> tensor<2x16xi8> {
  %e = tensor.empty() : tensor<2x16xi8>
  %s0 = arith.constant 0.326 : f32
  %s1 = arith.constant 0.125 : f32
  %lo = arith.constant -133.0 : f32
  %hi = arith.constant 122.0 : f32
  %z = arith.constant 133 : i32
  %c255 = arith.constant 255 : i32
  // expected-remark @below {{tabulated its tail after a byte value: 256 entries}}
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%acc : tensor<2x16xi32>) outs(%e : tensor<2x16xi8>) {
  ^bb0(%a: i32, %o: i8):
    %f = arith.sitofp %a : i32 to f32
    %m = arith.mulf %f, %s0 : f32
    %c = arith.maximumf %m, %lo : f32
    %d = arith.minimumf %c, %hi : f32
    %n = math.roundeven %d : f32
    %i = arith.fptosi %n : f32 to i32
    %q = arith.addi %i, %z : i32
    %b = arith.trunci %q : i32 to i8
    %u = arith.extui %b : i8 to i32
    %v = arith.subi %u, %z : i32
    %w = arith.muli %v, %c255 : i32
    %g = arith.sitofp %w : i32 to f32
    %h = arith.mulf %g, %s1 : f32
    %k = arith.maximumf %h, %lo : f32
    %l = arith.minimumf %k, %hi : f32
    %p = math.roundeven %l : f32
    %t = arith.fptosi %p : f32 to i32
    %x = arith.addi %t, %z : i32
    %y = arith.trunci %x : i32 to i8
    linalg.yield %y : i8
  } -> tensor<2x16xi8>
  return %r : tensor<2x16xi8>
}

// -----

// A tail that reads another varying value (a per-column offset) is not a
// function of the byte: no table.
// CHECK-LABEL: func.func @tail_reads_another_input
// CHECK-NOT: tensor.extract
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @tail_reads_another_input(%acc: tensor<2x4xi32>, %off: tensor<4xf32>) -> tensor<2x4xi8> {
  %e = tensor.empty() : tensor<2x4xi8>
  %s0 = arith.constant 0.326 : f32
  // expected-remark @below {{not tabulated: the varying input is not an integer of at most 8 bits}}
  %r = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%acc, %off : tensor<2x4xi32>, tensor<4xf32>) outs(%e : tensor<2x4xi8>) {
  ^bb0(%a: i32, %c: f32, %o: i8):
    %f = arith.sitofp %a : i32 to f32
    %m = arith.mulf %f, %s0 : f32
    %i = arith.fptosi %m : f32 to i8
    %g = arith.sitofp %i : i8 to f32
    %h = arith.addf %g, %c : f32
    %k = arith.mulf %h, %s0 : f32
    %l = math.roundeven %k : f32
    %y = arith.fptosi %l : f32 to i8
    linalg.yield %y : i8
  } -> tensor<2x4xi8>
  return %r : tensor<2x4xi8>
}
