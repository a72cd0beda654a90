// RUN: qlow-opt %s --split-input-file --qlow-merge-sibling-foralls | FileCheck %s
// RUN: qlow-opt %s --split-input-file --qlow-merge-sibling-foralls | qlow-opt --split-input-file | FileCheck %s
// RUN: qlow-opt %s --split-input-file --qlow-cpu-pipeline="cpu=znver4" | FileCheck %s --check-prefix=OMP

// Three independent loops of 6 iterations (a decode step's q, k and v
// projections, here a scaled copy of one row each): one loop whose iteration
// runs the three bodies, with three shared outputs. The op that uses the
// first loop's result (q's rows doubled: its heads transpose and rope in a
// layer) moves after the merged loop. After the pipeline: one omp.parallel
// instead of three.
// CHECK-LABEL: func.func @qkv
// CHECK:         %[[M:.+]]:3 = scf.forall (%{{.+}}) in (6) shared_outs({{.+}}) -> (tensor<6x16xf32>, tensor<6x16xf32>, tensor<6x16xf32>)
// CHECK-COUNT-3:   arith.mulf
// CHECK:           scf.forall.in_parallel
// CHECK-COUNT-3:     tensor.parallel_insert_slice
// CHECK-NOT:     scf.forall
// CHECK:         %[[D:.+]] = linalg.add ins(%[[M]]#0, %[[M]]#0
// CHECK:         return %[[D]], %[[M]]#1, %[[M]]#2
// OMP-LABEL:   llvm.func @qkv(
// OMP-COUNT-1:   omp.parallel
// OMP-NOT:       omp.parallel
// OMP:           llvm.return
func.func @qkv(%x: tensor<6x16xf32>) -> (tensor<6x16xf32>, tensor<6x16xf32>, tensor<6x16xf32>) {
  %cq = arith.constant 2.0 : f32
  %ck = arith.constant 3.0 : f32
  %cv = arith.constant 4.0 : f32
  %eq = tensor.empty() : tensor<6x16xf32>
  %q = scf.forall (%i) in (6) shared_outs(%o = %eq) -> (tensor<6x16xf32>) {
    %r = tensor.extract_slice %x[%i, 0] [1, 16] [1, 1] : tensor<6x16xf32> to tensor<1x16xf32>
    %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%r : tensor<1x16xf32>) {
    ^bb0(%a: f32):
      %m = arith.mulf %a, %cq : f32
      linalg.yield %m : f32
    } -> tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<6x16xf32>
    }
  }
  %ed = tensor.empty() : tensor<6x16xf32>
  %d = linalg.add ins(%q, %q : tensor<6x16xf32>, tensor<6x16xf32>) outs(%ed : tensor<6x16xf32>) -> tensor<6x16xf32>
  %ek = tensor.empty() : tensor<6x16xf32>
  %k = scf.forall (%i) in (6) shared_outs(%o = %ek) -> (tensor<6x16xf32>) {
    %r = tensor.extract_slice %x[%i, 0] [1, 16] [1, 1] : tensor<6x16xf32> to tensor<1x16xf32>
    %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%r : tensor<1x16xf32>) {
    ^bb0(%a: f32):
      %m = arith.mulf %a, %ck : f32
      linalg.yield %m : f32
    } -> tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<6x16xf32>
    }
  }
  %ev = tensor.empty() : tensor<6x16xf32>
  %v = scf.forall (%i) in (6) shared_outs(%o = %ev) -> (tensor<6x16xf32>) {
    %r = tensor.extract_slice %x[%i, 0] [1, 16] [1, 1] : tensor<6x16xf32> to tensor<1x16xf32>
    %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%r : tensor<1x16xf32>) {
    ^bb0(%a: f32):
      %m = arith.mulf %a, %cv : f32
      linalg.yield %m : f32
    } -> tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<6x16xf32>
    }
  }
  return %d, %k, %v : tensor<6x16xf32>, tensor<6x16xf32>, tensor<6x16xf32>
}

// -----

// The second loop reads what the first computed (through an op between
// them): the output projection after the attention. Both loops stay.
// CHECK-LABEL: func.func @dependent
// CHECK:         scf.forall (%{{.+}}) in (6)
// CHECK:         linalg.add
// CHECK:         scf.forall (%{{.+}}) in (6)
// OMP-LABEL:   llvm.func @dependent(
// OMP-COUNT-2:   omp.parallel
func.func @dependent(%x: tensor<6x16xf32>) -> tensor<6x16xf32> {
  %c = arith.constant 2.0 : f32
  %e1 = tensor.empty() : tensor<6x16xf32>
  %a = scf.forall (%i) in (6) shared_outs(%o = %e1) -> (tensor<6x16xf32>) {
    %r = tensor.extract_slice %x[%i, 0] [1, 16] [1, 1] : tensor<6x16xf32> to tensor<1x16xf32>
    %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%r : tensor<1x16xf32>) {
    ^bb0(%v: f32):
      %m = arith.mulf %v, %c : f32
      linalg.yield %m : f32
    } -> tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<6x16xf32>
    }
  }
  %ed = tensor.empty() : tensor<6x16xf32>
  %d = linalg.add ins(%a, %a : tensor<6x16xf32>, tensor<6x16xf32>) outs(%ed : tensor<6x16xf32>) -> tensor<6x16xf32>
  %e2 = tensor.empty() : tensor<6x16xf32>
  %b = scf.forall (%i) in (6) shared_outs(%o = %e2) -> (tensor<6x16xf32>) {
    %r = tensor.extract_slice %d[%i, 0] [1, 16] [1, 1] : tensor<6x16xf32> to tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %r into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<6x16xf32>
    }
  }
  return %b : tensor<6x16xf32>
}

// -----

// Different iteration spaces (6 and 12 work items: a projection and the
// attention's heads): both loops stay.
// CHECK-LABEL: func.func @other_space
// CHECK:         scf.forall (%{{.+}}) in (6)
// CHECK:         scf.forall (%{{.+}}) in (12)
func.func @other_space(%x: tensor<6x16xf32>, %y: tensor<12x16xf32>) -> (tensor<6x16xf32>, tensor<12x16xf32>) {
  %e1 = tensor.empty() : tensor<6x16xf32>
  %a = scf.forall (%i) in (6) shared_outs(%o = %e1) -> (tensor<6x16xf32>) {
    %r = tensor.extract_slice %x[%i, 0] [1, 16] [1, 1] : tensor<6x16xf32> to tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %r into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<6x16xf32>
    }
  }
  %e2 = tensor.empty() : tensor<12x16xf32>
  %b = scf.forall (%i) in (12) shared_outs(%o = %e2) -> (tensor<12x16xf32>) {
    %r = tensor.extract_slice %y[%i, 0] [1, 16] [1, 1] : tensor<12x16xf32> to tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %r into %o[%i, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<12x16xf32>
    }
  }
  return %a, %b : tensor<6x16xf32>, tensor<12x16xf32>
}
