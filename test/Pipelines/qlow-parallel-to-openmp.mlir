// RUN: qlow-opt %s --split-input-file --qlow-parallel-to-openmp | FileCheck %s
// RUN: qlow-opt %s --split-input-file --qlow-parallel-to-openmp | qlow-opt --split-input-file | FileCheck %s
// RUN: qlow-opt %s --split-input-file --qlow-parallel-to-openmp --canonicalize | FileCheck %s --check-prefix=FOLD
// The pipeline runs it: no omp.wsloop (and no __kmpc_for_static_init) left.
// RUN: qlow-opt %S/Inputs/forall_thread_ids.mlir --qlow-cpu-pipeline | FileCheck %s --check-prefix=PIPE
// PIPE: llvm.call @omp_get_num_threads
// PIPE-NOT: omp.wsloop
// Run on 1, 3 and 8 threads: every element is computed once, by the thread
// that OpenMP's static schedule gives it (35 iterations over 3 threads:
// 12, 12, 11; over 8: 5, 5, 5, 4, 4, 4, 4, 4).
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', (np.arange(35, dtype=np.int32) * 100000).reshape(7, 5))"
// RUN: qlow-run %S/Inputs/forall_thread_ids.mlir --input %t/x.npy --threads 1 --output-dir %t/t1
// RUN: qlow-run %S/Inputs/forall_thread_ids.mlir --input %t/x.npy --threads 3 --output-dir %t/t3
// RUN: qlow-run %S/Inputs/forall_thread_ids.mlir --input %t/x.npy --threads 8 --output-dir %t/t8
// RUN: %python %S/Inputs/check_thread_split.py %t | FileCheck %s --check-prefix=RUNS
// RUNS: threads=1 iterations=35 per_thread=35 ok
// RUNS: threads=3 iterations=35 per_thread=12,12,11 ok
// RUNS: threads=8 iterations=35 per_thread=5,5,5,4,4,4,4,4 ok

// A loop with a reduction stays for convert-scf-to-openmp, and so do the
// loops nested in it; a loop nested in a converted one stays too. No
// runtime functions are declared for a module without a loop to convert.
// CHECK-NOT: @omp_get
// CHECK-LABEL: func.func @reduction
// CHECK-NOT: omp.parallel
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.reduce(
func.func @reduction(%m: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %sum = scf.parallel (%i) = (%c0) to (%c8) step (%c1) init (%zero) -> f32 {
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %one, %m[%j] : memref<8xf32>
      scf.reduce
    }
    %v = memref.load %m[%i] : memref<8xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

// -----

// Two dimensions, constant bounds: one omp.parallel whose threads each run
// their block of the 6 * 3 flattened iterations, the body in an alloca
// scope.
// CHECK-DAG: func.func private @omp_get_thread_num() -> i32
// CHECK-DAG: func.func private @omp_get_num_threads() -> i32
// CHECK-LABEL: func.func @two_dims
// CHECK-NOT: scf.parallel
// CHECK: omp.parallel {
// CHECK: %[[T32:.+]] = func.call @omp_get_thread_num() : () -> i32
// CHECK: %[[T:.+]] = arith.index_castui %[[T32]] : i32 to index
// CHECK: %[[N32:.+]] = func.call @omp_get_num_threads() : () -> i32
// CHECK: %[[N:.+]] = arith.index_castui %[[N32]] : i32 to index
// CHECK: %[[Q:.+]] = arith.divui %{{.+}}, %[[N]] : index
// CHECK: %[[R:.+]] = arith.remui %{{.+}}, %[[N]] : index
// CHECK: arith.muli %[[T]], %[[Q]]
// CHECK: arith.minui %[[T]], %[[R]]
// CHECK: arith.cmpi ult, %[[T]], %[[R]]
// CHECK: scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: arith.remui %[[K]]
// CHECK: arith.divui %[[K]]
// CHECK: memref.alloca_scope {
// CHECK: memref.alloca() : memref<4xf32>
// CHECK: memref.store
// CHECK: }
// CHECK: }
// CHECK: omp.terminator
// CHECK-NOT: omp.wsloop
// FOLD-LABEL: func.func @two_dims
// FOLD-DAG: %[[C3:.+]] = arith.constant 3 : index
// FOLD-DAG: %[[C5:.+]] = arith.constant 5 : index
// FOLD-DAG: %[[C18:.+]] = arith.constant 18 : index
// FOLD: omp.parallel
// FOLD: arith.divui %[[C18]], %{{.+}} : index
// FOLD: arith.remui %[[C18]], %{{.+}} : index
// FOLD: scf.for %[[K:.+]] =
// FOLD: %[[J:.+]] = arith.remui %[[K]], %[[C3]] : index
// FOLD: %[[I:.+]] = arith.divui %[[K]], %[[C3]] : index
// FOLD: %[[J2:.+]] = arith.muli %[[J]], %{{.+}} : index
// FOLD: %[[I2:.+]] = arith.minui %[[I]], %[[C5]] : index
// FOLD: memref.store %{{.+}}, %{{.+}}[%[[I2]], %[[J2]]]
func.func @two_dims(%m: memref<6x5xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c6, %c5) step (%c1, %c2) {
    %buf = memref.alloca() : memref<4xf32>
    memref.store %one, %buf[%c0] : memref<4xf32>
    memref.store %one, %m[%i, %j] : memref<6x5xf32>
    scf.reduce
  }
  return
}

// -----

// Dynamic bounds: the trip count max(ub - lb, 0) ceildiv step, computed
// before the region; the induction variable is lb + k * step, with k
// clamped to trip - 1 (which it never exceeds: the clamp tells LLVM).
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%[[M:.+]]: memref<?xf32>, %[[LB:.+]]: index, %[[UB:.+]]: index, %[[S:.+]]: index)
// CHECK: %[[SPAN:.+]] = arith.subi %[[UB]], %[[LB]] : index
// CHECK: %[[POS:.+]] = arith.maxsi %[[SPAN]], %{{.+}} : index
// CHECK: %[[TRIP:.+]] = arith.ceildivui %[[POS]], %[[S]] : index
// CHECK: omp.parallel
// CHECK: scf.for %[[K:.+]] =
// CHECK: %[[LAST:.+]] = arith.subi %[[TRIP]], %{{.+}} : index
// CHECK: %[[P:.+]] = arith.minui %[[K]], %[[LAST]] : index
// CHECK: %[[OFF:.+]] = arith.muli %[[P]], %[[S]] : index
// CHECK: %[[IV:.+]] = arith.addi %[[LB]], %[[OFF]] : index
// CHECK: memref.store %{{.+}}, %[[M]][%[[IV]]]
func.func @dynamic(%m: memref<?xf32>, %lb: index, %ub: index, %s: index) {
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%lb) to (%ub) step (%s) {
    memref.store %one, %m[%i] : memref<?xf32>
    scf.reduce
  }
  return
}

// -----

// CHECK-LABEL: func.func @nested
// CHECK: omp.parallel
// CHECK: scf.for
// CHECK: memref.alloca_scope
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%{{.+}}) step (%{{.+}})
// CHECK: omp.terminator
func.func @nested(%m: memref<8x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %one, %m[%i, %j] : memref<8x8xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// The runtime functions declared already (with their type) are used as
// they are.
// CHECK: func.func private @omp_get_num_threads() -> i32
// CHECK-NOT: func.func private @omp_get_num_threads
// CHECK-LABEL: func.func @declared
// CHECK: func.call @omp_get_thread_num()
// CHECK: func.call @omp_get_num_threads()
func.func private @omp_get_thread_num() -> i32
func.func @declared(%m: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %one, %m[%i] : memref<8xf32>
    scf.reduce
  }
  return
}
