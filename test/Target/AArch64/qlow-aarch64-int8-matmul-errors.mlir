// RUN: qlow-opt %s --pass-pipeline='builtin.module(func.func(qlow-aarch64-int8-matmul{cpu=pentium}))' -verify-diagnostics
// RUN: not qlow-opt %s --pass-pipeline='builtin.module(func.func(qlow-aarch64-int8-matmul{cpu=x86_64-znver4}))' 2>&1 | FileCheck %s --check-prefix=X86
// RUN: not qlow-opt %s --pass-pipeline='builtin.module(func.func(qlow-x86-int8-matmul{cpu=aarch64-neoverse-n1}))' 2>&1 | FileCheck %s --check-prefix=ARM

// An unknown CPU has no target description to take the ISA and tile from.
// expected-error @+1 {{unknown aarch64 CPU 'pentium'; known: host, cortex-a53}}
func.func @f() {
  return
}

// A registry key names its architecture: an x86 CPU has no NEON kernel, and
// the x86 pass refuses an AArch64 CPU.
// X86: error: qlow-aarch64-int8-matmul needs an aarch64 CPU; 'x86_64-znver4' is x86_64
// ARM: error: qlow-x86-int8-matmul needs an x86_64 CPU; 'aarch64-neoverse-n1' is aarch64
