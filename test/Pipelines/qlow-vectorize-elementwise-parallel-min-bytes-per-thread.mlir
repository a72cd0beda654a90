// RUN: qlow-opt %s --qlow-cpu-pipeline="cpu=znver4" | FileCheck %s
// RUN: qlow-opt %s --convert-qlow-to-linalg --qlow-vectorize-elementwise="cpu=znver4 parallel-min-bytes-per-thread=0" | FileCheck %s --check-prefix=ALL
// RUN: qlow-opt %s --convert-qlow-to-linalg --qlow-vectorize-elementwise="cpu=znver4 parallel-min-bytes-per-thread=1099511627776" | FileCheck %s --check-prefix=NONE

// Whether a loop nest outside the kernels gets a parallel region is the
// TargetDesc's cost model (worthParallelRegion): the bytes its ops read and
// write against parallelMinBytesPerThread (128 KiB on znver4) for each of two
// threads. A decode step's ops (one row of 768, twelve heads of one token)
// are far below it and stay on the calling thread (no omp.parallel, no fork
// and join); the same ops over 128 tokens are far above it and get one
// region each.

// CHECK-LABEL: llvm.func @decode_rms_norm_quantize(
// CHECK-NOT:     omp.parallel
// CHECK:         llvm.return
// ALL-LABEL:   func.func @decode_rms_norm_quantize(
// ALL-NOT:       scf.forall
// ALL:           return
func.func @decode_rms_norm_quantize(%x: tensor<1x768xf32>, %g: tensor<768xf32>) -> tensor<1x768x!quant.uniform<u8:f32, 0.04:127>> {
  %n = qlow.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<1x768xf32>, tensor<768xf32>) -> tensor<1x768xf32>
  %q = qlow.quantize %n : tensor<1x768xf32> -> tensor<1x768x!quant.uniform<u8:f32, 0.04:127>>
  return %q : tensor<1x768x!quant.uniform<u8:f32, 0.04:127>>
}

// CHECK-LABEL: llvm.func @prefill_rms_norm_quantize(
// CHECK:         omp.parallel
// CHECK-NOT:     omp.parallel
// CHECK:         llvm.return
// NONE-LABEL:  func.func @prefill_rms_norm_quantize(
// NONE-NOT:      scf.forall
// NONE:          scf.for
// NONE-NOT:      scf.forall
// NONE:          return
func.func @prefill_rms_norm_quantize(%x: tensor<128x768xf32>, %g: tensor<768xf32>) -> tensor<128x768x!quant.uniform<u8:f32, 0.04:127>> {
  %n = qlow.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<128x768xf32>, tensor<768xf32>) -> tensor<128x768xf32>
  %q = qlow.quantize %n : tensor<128x768xf32> -> tensor<128x768x!quant.uniform<u8:f32, 0.04:127>>
  return %q : tensor<128x768x!quant.uniform<u8:f32, 0.04:127>>
}

// A decode step's heads ([1, 1, 12, 64] -> [1, 12, 1, 64]) and rope: serial.
// CHECK-LABEL: llvm.func @decode_heads_rope(
// CHECK-NOT:     omp.parallel
// CHECK:         llvm.return
func.func @decode_heads_rope(%x: tensor<1x1x12x64xf32>, %cos: tensor<1x32xf32>, %sin: tensor<1x32xf32>) -> tensor<1x12x1x64xf32> {
  %e = tensor.empty() : tensor<1x12x1x64xf32>
  %t = linalg.transpose ins(%x : tensor<1x1x12x64xf32>) outs(%e : tensor<1x12x1x64xf32>) permutation = [0, 2, 1, 3]
  %r = qlow.rope %t, %cos, %sin : (tensor<1x12x1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x12x1x64xf32>
  return %r : tensor<1x12x1x64xf32>
}

// The same over 128 tokens: the transpose and the rope each get a region.
// CHECK-LABEL: llvm.func @prefill_heads_rope(
// CHECK:         omp.parallel
// CHECK:         omp.parallel
// CHECK:         llvm.return
func.func @prefill_heads_rope(%x: tensor<1x128x12x64xf32>, %cos: tensor<128x32xf32>, %sin: tensor<128x32xf32>) -> tensor<1x12x128x64xf32> {
  %e = tensor.empty() : tensor<1x12x128x64xf32>
  %t = linalg.transpose ins(%x : tensor<1x128x12x64xf32>) outs(%e : tensor<1x12x128x64xf32>) permutation = [0, 2, 1, 3]
  %r = qlow.rope %t, %cos, %sin : (tensor<1x12x128x64xf32>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x12x128x64xf32>
  return %r : tensor<1x12x128x64xf32>
}

// The threshold in bytes, not iterations: an f32 add of two [R, 768] inputs
// moves 12 bytes per element, so 2 x 128 KiB is reached at R = 29 (267264
// bytes; 28 rows: 258048). (A count of 16384 iterations would thread
// both.)
// CHECK-LABEL: llvm.func @add_28_rows(
// CHECK-NOT:     omp.parallel
// CHECK:         llvm.return
// CHECK-LABEL: llvm.func @add_29_rows(
// CHECK:         omp.parallel
// CHECK:         llvm.return
// ALL-LABEL:   func.func @add_28_rows(
// ALL:           scf.forall ({{.+}}) in (28)
// NONE-LABEL:  func.func @add_29_rows(
// NONE-NOT:      scf.forall
// NONE:          return
func.func @add_28_rows(%a: tensor<28x768xf32>, %b: tensor<28x768xf32>) -> tensor<28x768xf32> {
  %y = qlow.add %a, %b : (tensor<28x768xf32>, tensor<28x768xf32>) -> tensor<28x768xf32>
  return %y : tensor<28x768xf32>
}
func.func @add_29_rows(%a: tensor<29x768xf32>, %b: tensor<29x768xf32>) -> tensor<29x768xf32> {
  %y = qlow.add %a, %b : (tensor<29x768xf32>, tensor<29x768xf32>) -> tensor<29x768xf32>
  return %y : tensor<29x768xf32>
}
