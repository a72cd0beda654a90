// qlow-compile reports bad targets and unlowerable input with a diagnostic,
// exit 1, and leaves no output file behind.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not qlow-compile %s --cpu=pentium -o %t/a.o 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: qlow-compile: error: unknown x86_64 CPU 'pentium'; known: host,
// RUN: not ls %t/a.o %t/a.h
// RUN: not qlow-compile %s --target=riscv64 -o %t/b.o 2>&1 | FileCheck %s --check-prefix=ARCH
// ARCH: qlow-compile: error: unknown --target 'riscv64'; known: x86_64
// RUN: not qlow-compile %s --cpu=znver4 -o %t/c.o 2>&1 | FileCheck %s --check-prefix=LOWER
// LOWER: error: failed to legalize operation 'qlow.gelu'
// RUN: not ls %t/c.o %t/c.h
// `--threads` is no option of qlow-compile (libLLVM's own took it silently).
// RUN: not qlow-compile %s --threads 2 -o %t/t.o 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: Unknown command line argument '--threads'
// RUN: not ls %t/t.o
// RUN: qlow-compile --list-cpus | FileCheck %s --check-prefix=LIST
// RUN: not qlow-compile 2>&1 | FileCheck %s --check-prefix=USAGE
// USAGE: qlow-compile: error: usage: qlow-compile <input.mlir> -o <output>
// LIST: host, {{.*}}znver4

// (A float op on a sub-channel quantized value has no lowering yet.)
func.func @f(%x: tensor<2x4xi8>) -> tensor<2x4xf32> {
  %q = quant.scast %x : tensor<2x4xi8> to tensor<2x4x!quant.uniform<i8:f32:{1:2}, {{0.1, 0.2}}>>
  %y = qlow.gelu %q : tensor<2x4x!quant.uniform<i8:f32:{1:2}, {{0.1, 0.2}}>> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// Malformed input: random bytes, a truncated file, and deep nesting get a
// located diagnostic and no output.
// RUN: %python -c "import random; r = random.Random(11); open('%t/random.mlir','wb').write(bytes(r.randrange(256) for _ in range(3000)))"
// RUN: not qlow-compile %t/random.mlir -o %t/r.o 2>&1 | FileCheck %s --check-prefix=BYTES
// BYTES: random.mlir:{{[0-9]+}}:{{[0-9]+}}: error:
// RUN: not ls %t/r.o %t/r.h
// RUN: head -c 150 %S/../Malformed/Inputs/run-model.mlir > %t/truncated.mlir
// RUN: not qlow-compile %t/truncated.mlir -o %t/t.o 2>&1 | FileCheck %s --check-prefix=TRUNC
// TRUNC: truncated.mlir:{{[0-9]+}}:{{[0-9]+}}: error:
// RUN: %python %S/../Malformed/gen_malformed.py nested --kind array --depth 50000 > %t/deep.mlir
// RUN: not qlow-compile %t/deep.mlir -o %t/d.o 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: error: input nests brackets more than 2048 levels deep
// A type that cannot cross the C boundary (i4 storage) is refused for the header.
// RUN: echo 'func.func @g(%%x: tensor<8x!quant.uniform<i4:f32, 0.5>>) -> tensor<8xf32> { %%y = qlow.dequantize %%x : tensor<8x!quant.uniform<i4:f32, 0.5>> -> tensor<8xf32> return %%y : tensor<8xf32> }' > %t/i4.mlir
// RUN: not qlow-compile %t/i4.mlir -o %t/i4.o 2>&1 | FileCheck %s --check-prefix=I4
// I4: error: cannot declare 'g' in C: 'tensor<8x!quant.uniform<i4:f32, 5.000000e-01>>' is not a static tensor of f32 or 8/16/32/64-bit integers
// RUN: not ls %t/i4.o %t/i4.h
