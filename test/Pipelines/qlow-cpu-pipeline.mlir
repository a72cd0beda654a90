// qlow-cpu-pipeline takes linalg/arith/math on tensors to the LLVM dialect:
// every result becomes a caller-allocated out-parameter, every public
// function gets a void _mlir_ciface_ wrapper taking one descriptor pointer per
// argument, temporaries are freed, and nothing calls MLIR's runtime library.
// RUN: qlow-opt %s --qlow-cpu-pipeline | FileCheck %s
// RUN: qlow-opt %s --qlow-cpu-pipeline | FileCheck %s --check-prefix=ONLY-LLVM
// RUN: qlow-opt %s --qlow-cpu-pipeline | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR
// RUN: qlow-opt %s --qlow-cpu-pipeline="opt-level=0 cpu=znver4" | FileCheck %s --check-prefix=CPU
// RUN: qlow-opt %s --qlow-cpu-pipeline="opt-level=0" | FileCheck %s --check-prefix=O0

// Nothing but the LLVM dialect is left, and no call into libmlir_c_runner_utils.
// ONLY-LLVM-NOT: {{(^|[^.a-z_])(affine|arith|bufferization|cf|func|linalg|math|memref|scf|tensor)\.[a-z_]+}}
// ONLY-LLVM-NOT: memrefCopy

// An i8 x i8 -> i32 contraction: the result is written straight into the
// out-parameter (no temporary, no copy).
// CHECK-LABEL: llvm.func @matmul_i8(
// CHECK-NOT:     llvm.call @_mlir_memref_to_llvm_alloc
// CHECK:         llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_matmul_i8(
// CHECK-SAME:      %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr)
// CHECK-SAME:      attributes {llvm.emit_c_interface} {
// CHECK:         llvm.call @matmul_i8(
// LLVMIR: define void @_mlir_ciface_matmul_i8(ptr %0, ptr %1, ptr %2)
// CPU: llvm.func @matmul_i8({{.*}}target_cpu = "znver4"
func.func @matmul_i8(%a: tensor<3x5xi8>, %w: tensor<5x4xi8>) -> tensor<3x4xi32> {
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<3x4xi32>
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<3x4xi32>) -> tensor<3x4xi32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %w : tensor<3x5xi8>, tensor<5x4xi8>) outs(%z : tensor<3x4xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extui %x : i8 to i32
    %ye = arith.extsi %y : i8 to i32
    %p = arith.muli %xe, %ye : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  } -> tensor<3x4xi32>
  return %r : tensor<3x4xi32>
}

// A temporary (the constant copied, then partly overwritten) is allocated and
// freed, through the generic functions that qlow's emitters define as a cache
// of freed blocks (lib/Emit/BufferCache.cpp); inserting into and extracting
// from its middle copies with loops, not with memrefCopy. Two results: two
// out-parameters.
// CHECK-LABEL: llvm.func @temporaries(
// CHECK:         llvm.call @_mlir_memref_to_llvm_alloc
// CHECK:         llvm.call @_mlir_memref_to_llvm_free
// CHECK-LABEL: llvm.func @_mlir_ciface_temporaries(
// CHECK-SAME:      %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr)
// CHECK-SAME:      attributes {llvm.emit_c_interface} {
func.func @temporaries(%x: tensor<2x4xi32>) -> (tensor<2x4xi32>, tensor<4x6xi32>) {
  %big = arith.constant dense<7> : tensor<4x6xi32>
  %ins = tensor.insert_slice %x into %big[1, 1] [2, 4] [1, 1] : tensor<2x4xi32> into tensor<4x6xi32>
  %o = tensor.extract_slice %ins[2, 2] [2, 4] [1, 1] : tensor<4x6xi32> to tensor<2x4xi32>
  return %o, %big : tensor<2x4xi32>, tensor<4x6xi32>
}

// Math without an LLVM intrinsic becomes a libm call; a private helper is
// called but gets no C interface.
// CHECK-LABEL: llvm.func @activation(
// CHECK:         llvm.call @erff(
// CHECK-LABEL: llvm.func @_mlir_ciface_activation(
// CHECK-NOT:   @_mlir_ciface_scale
// O0-LABEL: llvm.func @activation(
func.func @activation(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %y = math.erf %in : f32
    linalg.yield %y : f32
  } -> tensor<8xf32>
  %s = func.call @scale(%t) : (tensor<8xf32>) -> tensor<8xf32>
  return %s : tensor<8xf32>
}

func.func private @scale(%x: tensor<8xf32>) -> tensor<8xf32> {
  %c = arith.constant dense<2.0> : tensor<8xf32>
  %e = tensor.empty() : tensor<8xf32>
  %m = linalg.mul ins(%x, %c : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  return %m : tensor<8xf32>
}
