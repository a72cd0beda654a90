// RUN: qlow-opt %s --qlow-parallel-to-openmp --split-input-file --verify-diagnostics

// A symbol named like OpenMP's runtime function with another type: the pass
// would call it to split the loop among threads, so it refuses.
// expected-error @below {{symbol 'omp_get_thread_num' is not OpenMP's runtime function of type () -> i32, which qlow-parallel-to-openmp calls to split parallel loops among threads}}
func.func private @omp_get_thread_num() -> i64
func.func @loop(%m: memref<8xf32>) {
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

// -----

// Not a function at all.
// expected-error @below {{symbol 'omp_get_num_threads' is not OpenMP's runtime function of type () -> i32}}
memref.global "private" @omp_get_num_threads : memref<1xi32>
func.func @loop(%m: memref<8xf32>) {
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
