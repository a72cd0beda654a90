// RUN: qlow-opt %s --qlow-vectorize-elementwise=cpu=pentium-nonsense --verify-diagnostics -o /dev/null
// RUN: rm -f %t.mlir
// RUN: not qlow-opt %s --qlow-vectorize-elementwise=cpu=pentium-nonsense -o %t.mlir 2>&1 | FileCheck %s
// RUN: not test -s %t.mlir

// The vector width comes from the target description: a CPU qlow does not
// describe is an error at the function, with the CPUs it knows, and no
// output is written.
// CHECK: error: unknown x86_64 CPU 'pentium-nonsense'; known: host,
// expected-error @+1 {{unknown x86_64 CPU 'pentium-nonsense'; known: host,}}
func.func @unknown_cpu(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %y = qlow.gelu %x : tensor<4x16xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
