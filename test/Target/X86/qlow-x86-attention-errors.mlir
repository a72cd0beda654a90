// RUN: qlow-opt %s --split-input-file --qlow-x86-attention="cpu=znver4" -verify-diagnostics
// Without qlow-x86-attention, convert-qlow-to-linalg says what to run.
// RUN: not qlow-opt %s --split-input-file --convert-qlow-to-linalg 2>&1 | FileCheck %s --check-prefix=CONV
// CONV: error: convert-qlow-to-linalg has no lowering for qlow.attention: run qlow-x86-attention first (qlow-cpu-pipeline does when given a cpu)
// The whole pipeline fails with the pass's diagnostic, not a crash.
// RUN: not qlow-opt %s --split-input-file --qlow-cpu-pipeline="cpu=znver4" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// PIPE: error: qlow-x86-attention cannot lower this attention: dynamic shapes are not supported
// An unknown CPU is an error at the function.
// RUN: not qlow-opt %s --split-input-file --qlow-x86-attention="cpu=nocpu" -o /dev/null 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: error: unknown x86_64 CPU 'nocpu'; known:

// The kernel's tiles have static sizes: a dynamic sequence length is not
// supported yet.
func.func @dynamic(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x7x16xf32>, %v: tensor<1x2x7x16xf32>) -> tensor<1x2x?x16xf32> {
  // expected-error @+1 {{qlow-x86-attention cannot lower this attention: dynamic shapes are not supported (operand of type 'tensor<1x2x?x16xf32>')}}
  %o = qlow.attention %q, %k, %v : (tensor<1x2x?x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> tensor<1x2x?x16xf32>
  return %o : tensor<1x2x?x16xf32>
}

// -----

// Sub-channel (blockwise) quantized q: qlow.dequantize has no lowering for
// it, so neither has the kernel.
func.func @sub_channel(%q: tensor<1x1x1x4x!quant.uniform<i8:f32:{3:2}, {{{{0.1, 0.2}}}}>>, %k: tensor<1x1x7x4xf32>, %v: tensor<1x1x7x4xf32>) -> tensor<1x1x1x4xf32> {
  // expected-error @+1 {{q must be f32 or quantized per tensor or per axis, but has type}}
  %o = qlow.attention %q, %k, %v : (tensor<1x1x1x4x!quant.uniform<i8:f32:{3:2}, {{{{0.1, 0.2}}}}>>, tensor<1x1x7x4xf32>, tensor<1x1x7x4xf32>) -> tensor<1x1x1x4xf32>
  return %o : tensor<1x1x1x4xf32>
}
