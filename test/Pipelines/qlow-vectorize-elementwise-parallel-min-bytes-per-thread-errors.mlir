// RUN: qlow-opt %s --qlow-vectorize-elementwise="cpu=znver4 parallel-min-bytes-per-thread=-2" --verify-diagnostics -o /dev/null
// RUN: rm -f %t.mlir
// RUN: not qlow-opt %s --qlow-vectorize-elementwise="cpu=znver4 parallel-min-bytes-per-thread=-2" -o %t.mlir 2>&1 | FileCheck %s
// RUN: not test -s %t.mlir

// A negative threshold other than -1 (the target description's) means
// nothing: an error at the function that names the target's value, and no
// output is written.
// CHECK: error: qlow-vectorize-elementwise: parallel-min-bytes-per-thread must be -1 (the target description's, 131072 for x86_64-znver4) or at least 0; got -2
// expected-error @+1 {{parallel-min-bytes-per-thread must be -1 (the target description's, 131072 for x86_64-znver4) or at least 0; got -2}}
func.func @negative_threshold(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %y = qlow.gelu %x : tensor<4x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
