// The float ops leave qlow-cpu-pipeline vectorized and without libm calls:
// exp and erfc are polynomials on vector<16xf32> (AVX-512), the f64 row sums
// (softmax's denominator) accumulate vector<16xf64> partial sums that one
// horizontal reduction per row combines.
// RUN: qlow-opt %s --qlow-cpu-pipeline="cpu=znver4" | FileCheck %s

// CHECK-NOT: llvm.call @expf
// CHECK-NOT: llvm.call @erfcf
// CHECK-LABEL: llvm.func @gelu(
// CHECK: llvm.intr.fma({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// CHECK: llvm.fdiv {{.*}} : vector<16xf32>
// CHECK-LABEL: llvm.func @_mlir_ciface_gelu(
func.func @gelu(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %y = qlow.gelu %x : tensor<4x64xf32> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

// CHECK-LABEL: llvm.func @softmax(
// CHECK: llvm.intr.fma({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// CHECK: llvm.fadd {{.*}} : vector<16xf64>
// CHECK: llvm.intr.vector.reduce.fadd"({{.*}}) {{.*}} : (f64, vector<16xf64>) -> f64
// CHECK: llvm.fdiv {{.*}} : vector<16xf32>
// CHECK-LABEL: llvm.func @_mlir_ciface_softmax(
func.func @softmax(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %y = qlow.softmax %x : tensor<4x64xf32> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
// CHECK-NOT: llvm.call @expf
// CHECK-NOT: llvm.call @erfcf

// rope (rotate-half) in f64 vectors, each half's products and sum on
// vector<16xf64> lanes: the two per-half generics vectorize (the earlier
// single generic with an index-dependent select stayed scalar). Both halves
// are computed straight into the result: empty-tensor elimination makes the
// first half's tensor.empty a slice of the result's, where it used to be a
// buffer of its own that a scalar loop then copied into the result.
// CHECK-LABEL: llvm.func @rope(
// CHECK-NOT: llvm.call @_mlir_memref_to_llvm_alloc
// CHECK: llvm.fpext {{.*}} : vector<16xf32> to vector<16xf64>
// CHECK: llvm.fmul {{.*}} : vector<16xf64>
// CHECK: llvm.fadd {{.*}} : vector<16xf64>
// CHECK: llvm.fptrunc {{.*}} : vector<16xf64> to vector<16xf32>
// CHECK-NOT: llvm.call @_mlir_memref_to_llvm_alloc
// CHECK-LABEL: llvm.func @_mlir_ciface_rope(
func.func @rope(%x: tensor<1x4x16x64xf32>, %c: tensor<16x32xf32>, %s: tensor<16x32xf32>) -> tensor<1x4x16x64xf32> {
  %y = qlow.rope %x, %c, %s : (tensor<1x4x16x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<1x4x16x64xf32>
  return %y : tensor<1x4x16x64xf32>
}
