// RUN: qlow-opt %s --qlow-float-matmul=cpu=haswell --canonicalize --cse | FileCheck %s
// RUN: qlow-opt %s --qlow-float-matmul=cpu=znver4 --canonicalize --cse | FileCheck %s --check-prefix=ZMM

#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (k, n)>
#out = affine_map<(m, n, k) -> (m, n)>
#blhs = affine_map<(b, m, n, k) -> (b, m, k)>
#brhs = affine_map<(b, m, n, k) -> (b, k, n)>
#bout = affine_map<(b, m, n, k) -> (b, m, n)>
#id = affine_map<(m, n) -> (m, n)>
#col = affine_map<(m, n) -> (n)>

// Constant weights: packed at compile time into panels of 16 columns (2 ymm
// on haswell; on znver4 one panel of 2 zmm, as N = 20 needs no third),
// zeros past N = 20. Rows 0-5 are
// a 6 x 2 tile (12 accumulators through K), row 6 a 1-row tile of its own.
// CHECK-LABEL: func.func @constant_weights
// CHECK-DAG:     %[[PACKED:.+]] = arith.constant dense<"0x{{.+}}"> : tensor<2x5x16xf32>
// CHECK:         scf.forall ({{.+}}) in (2, 2) shared_outs({{.+}}) -> (tensor<7x32xf32>)
// CHECK:           scf.for
// CHECK:             scf.for {{.+}} iter_args({{.+}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:               vector.transfer_read %[[PACKED]]
// CHECK:               tensor.extract %arg0
// CHECK:               vector.broadcast
// CHECK:               vector.fma {{.+}} : vector<8xf32>
// CHECK:         tensor.extract_slice {{.+}} : tensor<7x32xf32> to tensor<7x20xf32>
// CHECK-NOT:     linalg.generic
// ZMM-LABEL: func.func @constant_weights
// ZMM:         arith.constant dense<"0x{{.+}}"> : tensor<1x5x32xf32>
// ZMM:         vector.fma {{.+}} : vector<16xf32>
func.func @constant_weights(%a: tensor<7x5xf32>) -> tensor<7x20xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0],
                             [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0],
                             [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0],
                             [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0],
                             [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0]]> : tensor<5x20xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<7x20xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<7x20xf32>) -> tensor<7x20xf32>
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<7x5xf32>, tensor<5x20xf32>) outs(%f : tensor<7x20xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<7x20xf32>
  return %r : tensor<7x20xf32>
}

// Run-time weights are read in place, padded to whole panels by tensor.pad.
// M = 2 < 4: a wider tile of 2 rows x 3 vectors (8 columns each, so 20 -> 24
// columns) keeps 6 FMA chains in flight; the accumulators start at the
// fill's value.
// CHECK-LABEL: func.func @runtime_weights
// CHECK-SAME:    (%[[A:.+]]: tensor<2x5xf32>, %[[W:.+]]: tensor<5x20xf32>)
// CHECK-DAG:     %[[START:.+]] = arith.constant dense<1.500000e+00> : vector<8xf32>
// CHECK-DAG:     %[[PAD:.+]] = tensor.pad %[[W]] low[0, 0] high[0, 4]
// CHECK:         tensor<5x20xf32> to tensor<5x24xf32>
// CHECK:         scf.for {{.+}} iter_args(%{{.+}} = %[[START]], %{{.+}} = %[[START]], %{{.+}} = %[[START]], %{{.+}} = %[[START]], %{{.+}} = %[[START]], %{{.+}} = %[[START]]) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:           vector.transfer_read %[[PAD]]
// CHECK:           vector.fma
func.func @runtime_weights(%a: tensor<2x5xf32>, %w: tensor<5x20xf32>) -> tensor<2x20xf32> {
  %start = arith.constant 1.5 : f32
  %e = tensor.empty() : tensor<2x20xf32>
  %f = linalg.fill ins(%start : f32) outs(%e : tensor<2x20xf32>) -> tensor<2x20xf32>
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<2x5xf32>, tensor<5x20xf32>) outs(%f : tensor<2x20xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %y, %x : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2x20xf32>
  return %r : tensor<2x20xf32>
}

// A batched product of two activations: one work item per (batch, panel),
// weights per batch read in place.
// CHECK-LABEL: func.func @batched
// CHECK:         scf.forall ({{.+}}) in (3) shared_outs({{.+}}) -> (tensor<3x9x16xf32>)
// CHECK:           vector.fma
func.func @batched(%a: tensor<3x9x4xf32>, %w: tensor<3x4x16xf32>) -> tensor<3x9x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x9x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x9x16xf32>) -> tensor<3x9x16xf32>
  %r = linalg.generic {indexing_maps = [#blhs, #brhs, #bout], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<3x9x4xf32>, tensor<3x4x16xf32>) outs(%f : tensor<3x9x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<3x9x16xf32>
  return %r : tensor<3x9x16xf32>
}

// The bias add and the activation after the matmul are applied to the
// accumulators before they are stored: no generic is left.
// CHECK-LABEL: func.func @epilogue
// CHECK:         scf.for
// CHECK:           vector.fma
// CHECK:         vector.transfer_read %arg1
// CHECK:         arith.addf {{.+}} : vector<8xf32>
// CHECK:         math.tanh {{.+}} : vector<8xf32>
// CHECK:         vector.transfer_write
// CHECK-NOT:     linalg.generic
func.func @epilogue(%a: tensor<8x8xf32>, %bias: tensor<8xf32>, %w: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<8x8xf32>, tensor<8x8xf32>) outs(%f : tensor<8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x8xf32>
  %e2 = tensor.empty() : tensor<8x8xf32>
  %t = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%r, %bias : tensor<8x8xf32>, tensor<8xf32>) outs(%e2 : tensor<8x8xf32>) {
  ^bb0(%x: f32, %b: f32, %o: f32):
    %s = arith.addf %x, %b : f32
    %h = math.tanh %s : f32
    linalg.yield %h : f32
  } -> tensor<8x8xf32>
  return %t : tensor<8x8xf32>
}

// Left to the loops: fast-math flags (other results allowed), and a
// contraction whose accumulator is not a fill.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT:     vector.fma
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT:     vector.fma
func.func @left_alone(%a: tensor<4x4xf32>, %w: tensor<4x4xf32>, %c: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%f : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y fastmath<contract> : f32
    %s = arith.addf %acc, %p fastmath<contract> : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %q = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%c : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  return %r, %q : tensor<4x4xf32>, tensor<4x4xf32>
}
