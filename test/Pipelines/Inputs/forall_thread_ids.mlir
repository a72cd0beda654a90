// Input of qlow-parallel-to-openmp.mlir: a 7 x 5 scf.forall whose element
// (i, j) is x[i, j] + 10 * i + j + 1000 * (the OpenMP thread that ran it).
func.func private @omp_get_thread_num() -> i32

func.func @tiles(%x: tensor<7x5xi32>) -> tensor<7x5xi32> {
  %c10 = arith.constant 10 : index
  %c1000 = arith.constant 1000 : i32
  %e = tensor.empty() : tensor<7x5xi32>
  %r = scf.forall (%i, %j) in (7, 5) shared_outs(%o = %e) -> tensor<7x5xi32> {
    %v = tensor.extract %x[%i, %j] : tensor<7x5xi32>
    %s = arith.muli %i, %c10 : index
    %t = arith.addi %s, %j : index
    %w = arith.index_cast %t : index to i32
    %thread = func.call @omp_get_thread_num() : () -> i32
    %k = arith.muli %thread, %c1000 : i32
    %y0 = arith.addi %v, %w : i32
    %y = arith.addi %y0, %k : i32
    %one = tensor.from_elements %y : tensor<1x1xi32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %one into %o[%i, %j] [1, 1] [1, 1] : tensor<1x1xi32> into tensor<7x5xi32>
    }
  }
  return %r : tensor<7x5xi32>
}
