// A linalg.generic copy that reads its input transposed along the innermost
// loop ([1, 128, 12, 64] -> [1, 12, 64, 128] bytes, what a K^T of split heads
// is) compiles and equals numpy's transpose. qlow-vectorize-elementwise used
// to vectorize it into a strided transfer_read that the LLVM lowering
// rejected ("could not convert to LLVM IR").
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; x = np.random.default_rng(0).integers(-128, 128, size=(1, 128, 12, 64), dtype=np.int8); np.save('%t/x.npy', x); np.save('%t/ref.npy', np.transpose(x, (0, 2, 3, 1)))"
// RUN: qlow-run %s -i %t/x.npy -o %t/y.npy --threads 2
// RUN: %python %S/compare_exact.py %t/ref.npy %t/y.npy | FileCheck %s
// CHECK: 1 of 1 outputs identical
func.func @kt(%x: tensor<1x128x12x64xi8>) -> tensor<1x12x64x128xi8> {
  %e = tensor.empty() : tensor<1x12x64x128xi8>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x128x12x64xi8>) outs(%e : tensor<1x12x64x128xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  } -> tensor<1x12x64x128xi8>
  return %y : tensor<1x12x64x128xi8>
}
