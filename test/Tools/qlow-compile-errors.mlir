// qlow-compile reports bad targets and unlowerable input with a diagnostic,
// exit 1, and leaves no output file behind.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not qlow-compile %s --cpu=pentium -o %t/a.o 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: qlow-compile: error: unknown x86_64 CPU 'pentium'; known: host,
// RUN: not ls %t/a.o %t/a.h
// RUN: not qlow-compile %s --target=riscv64 -o %t/b.o 2>&1 | FileCheck %s --check-prefix=ARCH
// ARCH: qlow-compile: error: unknown --target 'riscv64'; known: x86_64
// RUN: not qlow-compile %s --cpu=znver4 -o %t/c.o 2>&1 | FileCheck %s --check-prefix=LOWER
// LOWER: error: failed to legalize operation 'qlow.softmax'
// RUN: not ls %t/c.o %t/c.h
// RUN: qlow-compile --list-cpus | FileCheck %s --check-prefix=LIST
// RUN: not qlow-compile 2>&1 | FileCheck %s --check-prefix=USAGE
// USAGE: qlow-compile: error: usage: qlow-compile <input.mlir> -o <output>
// LIST: host, {{.*}}znver4

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = qlow.softmax %x : tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
