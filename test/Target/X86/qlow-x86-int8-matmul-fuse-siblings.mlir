// RUN: qlow-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-x86-int8-matmul{cpu=znver4}), canonicalize)' \
// RUN:   | FileCheck %s --check-prefix=ZMM
// RUN: qlow-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-x86-int8-matmul{cpu=haswell}), canonicalize)' \
// RUN:   | FileCheck %s --check-prefix=AVX2
// RUN: qlow-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-x86-int8-matmul{cpu=znver4 fuse-siblings=false}), canonicalize)' \
// RUN:   | FileCheck %s --check-prefix=SPLIT

// SwiGLU: gate and up projections of the same s8 activations, silu(gate) *
// up, quantized. After qlow-fuse-elementwise one generic reads both
// contractions; the kernel computes both. Chosen as one matmul of 2N = 80
// columns, the zmm tile is 2 x 8, split into 3 vectors of gate and 3 of up
// (N = 40 needs 3): each packed panel holds 48 gate columns, then 48 up
// columns (96 x 4 bytes of K per step, K = 10 -> 3 steps), the initial
// accumulators (-128 * colsum for the s8 -> u8 shift) follow the same
// layout, and every broadcast of 4 activation bytes feeds 6 dot products.
// Neither set of accumulators is stored: the only tensor the kernel writes
// is the u8 result.
// ZMM-LABEL: func.func @swiglu
// ZMM-DAG: arith.constant dense<{{.*}}> : tensor<1x3x384xi8>
// ZMM-DAG: arith.constant dense<{{.*}}> : tensor<96xi32>
// ZMM: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// ZMM-COUNT-6: qlow_x86.dot_u8s8 {{.*}} : vector<64xi8> -> vector<16xi32>
// ZMM: math.exp {{.*}} : vector<16xf32>
// ZMM: vector.transfer_write {{.*}} : vector<16xi8>, tensor<{{.*}}xi8>
// ZMM-NOT: linalg.generic
// ZMM-NOT: tensor<{{[0-9]+}}x{{[0-9]+}}xi32>
// ZMM: return
// On AVX2, vpmaddubsw pairs cannot saturate with either matrix (|w| <= 3),
// so the shared kernel keeps the byte form; its 5 x 2 tile (fitted to 16
// ymm) is 1 vector of gate and 1 of up per row: 5 panels of 8 + 8 columns,
// whose initial accumulators alternate -128 * colsum(gate) = -3840 and
// -128 * colsum(up) = 2560 in blocks of 8.
// AVX2-LABEL: func.func @swiglu
// AVX2-DAG: arith.constant dense<[-3840, -3840, -3840, -3840, -3840, -3840, -3840, -3840, 2560, 2560, 2560, 2560, 2560, 2560, 2560, 2560, -3840, {{.*}}]> : tensor<80xi32>
// AVX2-DAG: arith.constant dense<{{.*}}> : tensor<5x3x64xi8>
// AVX2-COUNT-2: qlow_x86.dot_u8s8_pairs {{.*}} : vector<32xi8> -> vector<8xi32>
// AVX2-NOT: linalg.generic
// AVX2: return
// Without fuse-siblings the up projection is a kernel of its own whose i32
// accumulators go through memory, and the gate kernel's epilogue reads them.
// SPLIT-LABEL: func.func @swiglu
// SPLIT-COUNT-2: arith.constant dense<{{.*}}> : tensor<1x3x192xi8>
// SPLIT: tensor.empty() : tensor<24x48xi32>
// SPLIT: vector.transfer_write {{.*}} : vector<16xi32>, tensor<24x48xi32>
// SPLIT: vector.transfer_read {{.*}} : tensor<24x40xi32>, vector<16xi32>
// SPLIT: vector.transfer_write {{.*}} : vector<16xi8>, tensor<24x48xi8>
func.func @swiglu(%x: tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>) -> tensor<24x40x!quant.uniform<u8:f32, 0.02:100>> {
  %wg = arith.constant dense<3> : tensor<10x40xi8>
  %wgq = quant.scast %wg : tensor<10x40xi8> to tensor<10x40x!quant.uniform<i8:f32, 0.01>>
  %wu = arith.constant dense<-2> : tensor<10x40xi8>
  %wuq = quant.scast %wu : tensor<10x40xi8> to tensor<10x40x!quant.uniform<i8:f32, 0.02>>
  %g = qlow.matmul %x, %wgq : (tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>, tensor<10x40x!quant.uniform<i8:f32, 0.01>>) -> tensor<24x40xf32>
  %u = qlow.matmul %x, %wuq : (tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>, tensor<10x40x!quant.uniform<i8:f32, 0.02>>) -> tensor<24x40xf32>
  %s = qlow.silu %g : tensor<24x40xf32> -> tensor<24x40xf32>
  %p = qlow.mul %s, %u : (tensor<24x40xf32>, tensor<24x40xf32>) -> tensor<24x40xf32>
  %q = qlow.quantize %p : tensor<24x40xf32> -> tensor<24x40x!quant.uniform<u8:f32, 0.02:100>>
  return %q : tensor<24x40x!quant.uniform<u8:f32, 0.02:100>>
}

// -----

// Different activations: each projection reads its own, so there is nothing
// to share; the up projection's accumulators stay a kernel of their own.
// ZMM-LABEL: func.func @different_activations
// ZMM-COUNT-2: arith.constant dense<{{.*}}> : tensor<1x3x192xi8>
// ZMM: vector.transfer_write {{.*}} : vector<16xi32>, tensor<24x48xi32>
func.func @different_activations(%x: tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>, %y: tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>) -> tensor<24x40x!quant.uniform<u8:f32, 0.02:100>> {
  %wg = arith.constant dense<3> : tensor<10x40xi8>
  %wgq = quant.scast %wg : tensor<10x40xi8> to tensor<10x40x!quant.uniform<i8:f32, 0.01>>
  %wu = arith.constant dense<-2> : tensor<10x40xi8>
  %wuq = quant.scast %wu : tensor<10x40xi8> to tensor<10x40x!quant.uniform<i8:f32, 0.02>>
  %g = qlow.matmul %x, %wgq : (tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>, tensor<10x40x!quant.uniform<i8:f32, 0.01>>) -> tensor<24x40xf32>
  %u = qlow.matmul %y, %wuq : (tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>, tensor<10x40x!quant.uniform<i8:f32, 0.02>>) -> tensor<24x40xf32>
  %s = qlow.silu %g : tensor<24x40xf32> -> tensor<24x40xf32>
  %p = qlow.mul %s, %u : (tensor<24x40xf32>, tensor<24x40xf32>) -> tensor<24x40xf32>
  %q = qlow.quantize %p : tensor<24x40xf32> -> tensor<24x40x!quant.uniform<u8:f32, 0.02:100>>
  return %q : tensor<24x40x!quant.uniform<u8:f32, 0.02:100>>
}

// -----

// The up projection is also a result: its f32 values must be in memory
// anyway, so its epilogue is not fused into the mul and no kernel is shared
// (two packed weight matrices of their own; up's kernel stores f32).
// ZMM-LABEL: func.func @up_also_returned
// ZMM-COUNT-2: arith.constant dense<{{.*}}> : tensor<1x3x192xi8>
// ZMM: vector.transfer_write {{.*}} : vector<16xf32>, tensor<24x48xf32>
func.func @up_also_returned(%x: tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>) -> (tensor<24x40x!quant.uniform<u8:f32, 0.02:100>>, tensor<24x40xf32>) {
  %wg = arith.constant dense<3> : tensor<10x40xi8>
  %wgq = quant.scast %wg : tensor<10x40xi8> to tensor<10x40x!quant.uniform<i8:f32, 0.01>>
  %wu = arith.constant dense<-2> : tensor<10x40xi8>
  %wuq = quant.scast %wu : tensor<10x40xi8> to tensor<10x40x!quant.uniform<i8:f32, 0.02>>
  %g = qlow.matmul %x, %wgq : (tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>, tensor<10x40x!quant.uniform<i8:f32, 0.01>>) -> tensor<24x40xf32>
  %u = qlow.matmul %x, %wuq : (tensor<24x10x!quant.uniform<i8:f32, 0.05:-3>>, tensor<10x40x!quant.uniform<i8:f32, 0.02>>) -> tensor<24x40xf32>
  %s = qlow.silu %g : tensor<24x40xf32> -> tensor<24x40xf32>
  %p = qlow.mul %s, %u : (tensor<24x40xf32>, tensor<24x40xf32>) -> tensor<24x40xf32>
  %q = qlow.quantize %p : tensor<24x40xf32> -> tensor<24x40x!quant.uniform<u8:f32, 0.02:100>>
  return %q, %u : tensor<24x40x!quant.uniform<u8:f32, 0.02:100>>, tensor<24x40xf32>
}
