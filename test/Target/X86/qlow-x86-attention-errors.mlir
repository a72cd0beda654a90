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

// -----

// A key block of int8 attention is whole vectors of 16 i32 lanes on
// AVX-512 VNNI (the block size is the op's semantics: the pass cannot pick
// another one).
func.func @int8_key_block_lanes(%q: tensor<1x1x5x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x5x8xf32> {
  // expected-error @+1 {{qlow-x86-attention cannot lower this attention: key_block 24 is not a multiple of 16 (the i32 lanes of one vpdpbusd on 'znver4')}}
  %o = qlow.attention %q, %q, %q {int8, key_block = 24 : i64} : (tensor<1x1x5x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x5x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x5x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x5x8xf32>
  return %o : tensor<1x1x5x8xf32>
}

// -----

// Valid int8 attention with a block that is whole vectors: no error on
// znver4 (haswell reports it, above).
func.func @int8_on_avx2(%q: tensor<1x1x5x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x5x8xf32> {
  %o = qlow.attention %q, %q, %q {int8, key_block = 32 : i64} : (tensor<1x1x5x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x5x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x5x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x5x8xf32>
  return %o : tensor<1x1x5x8xf32>
}
