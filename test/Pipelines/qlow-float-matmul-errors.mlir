// RUN: qlow-opt %s --pass-pipeline='builtin.module(func.func(qlow-float-matmul{cpu=pentium}))' -verify-diagnostics

// An unknown CPU has no target description to take the tile from.
// expected-error @+1 {{qlow-float-matmul: unknown x86_64 CPU 'pentium'; known: host,}}
func.func @f() {
  return
}
