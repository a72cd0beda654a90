// RUN: qlow-opt %s --pass-pipeline='builtin.module(func.func(qlow-aarch64-sve-int8-matmul{cpu=pentium}))' -verify-diagnostics
// RUN: not qlow-opt %s --pass-pipeline='builtin.module(func.func(qlow-aarch64-sve-int8-matmul{cpu=x86_64-znver4}))' 2>&1 | FileCheck %s --check-prefix=X86
// RUN: not qlow-opt %s --pass-pipeline='builtin.module(func.func(qlow-aarch64-sve-int8-matmul{cpu=znver4}))' 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// An unknown CPU has no target description to take the vector length and
// tiles from.
// expected-error @+1 {{unknown aarch64 CPU 'pentium'; known: host, cortex-a53}}
func.func @f() {
  return
}

// A registry key names its architecture: an x86 CPU has no SVE kernel.
// X86: error: qlow-aarch64-sve-int8-matmul needs an aarch64 CPU; 'x86_64-znver4' is x86_64
// A bare x86 CPU name is looked up among the AArch64 CPUs.
// UNKNOWN: error: unknown aarch64 CPU 'znver4'; known: host, {{.*}}neoverse-v1
