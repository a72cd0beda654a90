// RUN: qlow-opt %s --pass-pipeline='builtin.module(func.func(qlow-x86-int8-matmul{cpu=pentium}))' -verify-diagnostics

// An unknown CPU has no target description to take tile sizes from.
// expected-error @+1 {{unknown x86_64 CPU 'pentium'; known: host,}}
func.func @f() {
  return
}
