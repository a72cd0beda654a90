// qlow-compile --target=aarch64 writes aarch64-linux-gnu objects and the same
// C header as for x86; bad CPUs are errors with no output left behind.
// RUN: rm -rf %t && mkdir -p %t
// RUN: qlow-compile %s --target=aarch64 --cpu=neoverse-n2 -o %t/m.o
// RUN: llvm-readobj --file-headers %t/m.o | FileCheck %s --check-prefix=ELF
// ELF: Format: elf64-littleaarch64
// ELF: Machine: EM_AARCH64
// RUN: FileCheck %s --check-prefix=HDR < %t/m.h
// HDR: /* requant: in0 uint8_t[7][40], in1 int32_t[9], out2 int8_t[7][9]. */
// HDR: static inline void qlow_requant(const uint8_t *in0, const int32_t *in1, int8_t *out2)

// Without --cpu, the Armv8.0 baseline (generic): no dotprod instruction.
// RUN: qlow-compile %s --target=aarch64 --emit=asm -o - | FileCheck %s --check-prefix=GENERIC
// GENERIC: requant:
// GENERIC-NOT: sdot
// GENERIC-NOT: mmla

// RUN: qlow-compile --target=aarch64 --list-cpus | FileCheck %s --check-prefix=LIST
// LIST: host, {{.*}}cortex-a57, {{.*}}neoverse-n1, neoverse-n2, neoverse-v1

// RUN: not qlow-compile %s --target=aarch64 --cpu=znver4 -o %t/bad.o 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: qlow-compile: error: unknown aarch64 CPU 'znver4'; known: host, cortex-a53
// RUN: not ls %t/bad.o %t/bad.h
// RUN: not qlow-compile %s --target=arm64 -o %t/bad.o 2>&1 | FileCheck %s --check-prefix=ARCH
// ARCH: qlow-compile: error: unknown --target 'arm64'; known: x86_64, aarch64

func.func @requant(%a: tensor<7x40x!quant.uniform<u8:f32, 0.02:128>>, %b: tensor<9xi32>) -> tensor<7x9x!quant.uniform<i8:f32, 0.3:-5>> {
  %w = arith.constant dense<3> : tensor<40x9xi8>
  %wq = quant.scast %w : tensor<40x9xi8> to tensor<40x9x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq, %b : (tensor<7x40x!quant.uniform<u8:f32, 0.02:128>>, tensor<40x9x!quant.uniform<i8:f32, 0.01>>, tensor<9xi32>) -> tensor<7x9x!quant.uniform<i8:f32, 0.3:-5>>
  return %y : tensor<7x9x!quant.uniform<i8:f32, 0.3:-5>>
}

// Several CPUs, best first: one variant each, and a dispatcher per entry
// point that reads HWCAP (getauxval) and calls the best the CPU runs.
// RUN: qlow-compile %s --target=aarch64 --cpu=neoverse-n2,neoverse-n1,generic -o %t/v.o
// RUN: llvm-objdump -d -r %t/v.o | FileCheck %s --check-prefix=VARIANTS
// VARIANTS-DAG: <_mlir_ciface_requant__neoverse_n2>:
// VARIANTS-DAG: <_mlir_ciface_requant__neoverse_n1>:
// VARIANTS-DAG: <_mlir_ciface_requant>:
// VARIANTS-DAG: R_AARCH64_CALL26 getauxval
// VARIANTS-DAG: usmmla
// VARIANTS-DAG: sdot
// RUN: FileCheck %s --check-prefix=HDR < %t/v.h
// RUN: not qlow-compile %s --target=aarch64 --cpu=neoverse-n2,neoverse-n1 -o %t/nobase.o 2>&1 | FileCheck %s --check-prefix=NOBASE
// NOBASE: error: the last of several --cpu variants must run on every AArch64 CPU (no dotprod or i8mm, e.g. generic or cortex-a57); 'neoverse-n1' needs dotprod
// RUN: not ls %t/nobase.o
// RUN: not qlow-compile %s --cpu=znver4,haswell -o %t/x86.o 2>&1 | FileCheck %s --check-prefix=X86MULTI
// X86MULTI: qlow-compile: error: several --cpu variants are for --target=aarch64 only
