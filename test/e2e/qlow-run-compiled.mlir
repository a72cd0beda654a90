// Compiled execution (qlow-cpu-pipeline + JIT, qlow-run's default) against the
// reference semantics (qlow-run --reference), bit for bit, on one function per
// lowered op family: quantize/dequantize, per-axis quantize, requantize with
// both roundings and to i16, fake_quant, matmul with each epilogue (i32, f32,
// quantized with fixedpoint and float rounding), batched matmul, the upstream
// reshape/transpose ops qlow graphs use, and results that alias (one value
// returned twice, arguments and constants returned). All functions are
// compiled into one module; random inputs are the same for both modes (one
// generator per function). The float matmul is bit for bit at opt-level 0
// (the loops compute it as written); at the default level qlow-float-matmul's
// kernel rounds each step's multiply-add once (FMA) where the reference
// rounds twice: within 1e-6 of the largest result there.
// DEFINE: %{exact} = quantize_roundtrip,quantize_per_axis,requantize,fake_quant,matmul_epilogues,batched_matmul,reshape_transpose,same_result_twice,arguments_back,constant_results
// RUN: rm -rf %t && mkdir -p %t
// RUN: qlow-run --reference %s --entry %{exact} --random-inputs --seed 3 --output-dir %t/ref
// RUN: qlow-run %s --entry %{exact} --random-inputs --seed 3 --output-dir %t/jit
// RUN: %python %S/compare_exact.py %t/ref %t/jit | FileCheck %s
// CHECK: 20 of 20 outputs identical
// RUN: qlow-run --reference %s --entry %{exact},float_matmul --random-inputs --seed 3 --output-dir %t/ref0
// RUN: qlow-run %s --opt-level 0 --entry %{exact},float_matmul --random-inputs --seed 3 --output-dir %t/jit0
// RUN: %python %S/compare_exact.py %t/ref0 %t/jit0 | FileCheck %s --check-prefix=O0
// O0: 21 of 21 outputs identical
// RUN: qlow-run %s --entry float_matmul --random-inputs --seed 3 --output-dir %t/jitf
// RUN: %python -c "import numpy as np; r = np.load('%t/ref0/float_matmul.0.npy'); c = np.load('%t/jitf/float_matmul.0.npy'); d = float(np.abs(r - c).max()); print('float_matmul', 'ok' if d <= 1e-6 * float(np.abs(r).max()) else 'off by %%g' %% d)" | FileCheck %s --check-prefix=FLOAT
// FLOAT: float_matmul ok

// A single entry with -i/-o, u8 in and out, and --repeat timing.
// RUN: %python -c "import numpy as np; np.save('%t/q.npy', np.arange(0, 256, 4, dtype=np.uint8))"
// RUN: qlow-run --reference %s --entry requantize -i %t/q.npy -o %t/r0.npy -o %t/r1.npy -o %t/r2.npy
// RUN: qlow-run %s --entry requantize -i %t/q.npy -o %t/c0.npy -o %t/c1.npy -o %t/c2.npy --repeat 3 --threads 3 | FileCheck %s --check-prefix=TIME
// RUN: %python %S/compare_exact.py %t/r0.npy %t/c0.npy
// RUN: %python %S/compare_exact.py %t/r1.npy %t/c1.npy
// RUN: %python %S/compare_exact.py %t/r2.npy %t/c2.npy
// TIME: compilation: {{[0-9.]+}} ms
// TIME: compiled execution: {{[0-9.e+-]+}} ms per run (3 runs, 3 threads)

// --threads and --num-threads set the kernels' thread count (libLLVM's own
// `--threads` option must not take it).
// RUN: qlow-run %s --entry requantize -i %t/q.npy --repeat 2 --num-threads 1 | FileCheck %s --check-prefix=ONE
// RUN: OMP_NUM_THREADS=1 qlow-run %s --entry requantize -i %t/q.npy --repeat 2 --threads=2 | FileCheck %s --check-prefix=TWO
// ONE: ms per run (2 runs, 1 threads)
// TWO: ms per run (2 runs, 2 threads)

// A call returning two results (the reference does not evaluate func.call):
// same inputs as same_result_twice, so the same outputs, swapped.
// RUN: qlow-run %s --entry call_swapped --random-inputs --seed 3 --output-dir %t/call
// RUN: %python %S/compare_exact.py %t/ref/same_result_twice.1.npy %t/call/call_swapped.0.npy
// RUN: %python %S/compare_exact.py %t/ref/same_result_twice.0.npy %t/call/call_swapped.1.npy

// Bad options are refused before anything runs.
// RUN: not qlow-run %s --opt-level 4 --random-inputs 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: qlow-run: error: --opt-level must be 0, 1, 2 or 3
// RUN: not qlow-run %s --random-inputs --print-ranges 2>&1 | FileCheck %s --check-prefix=RANGES
// RANGES: qlow-run: error: --print-ranges needs --reference
// RUN: not qlow-run %s --entry fake_quant,requantize -i %t/q.npy 2>&1 | FileCheck %s --check-prefix=SEVERAL
// SEVERAL: qlow-run: error: with several --entry functions, give inputs with --input-dir or --random-inputs

func.func @quantize_roundtrip(%x: tensor<4x8xf32>) -> (tensor<4x8x!quant.uniform<u8:f32, 0.05:128>>, tensor<4x8xf32>) {
  %q = qlow.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.05:128>>
  %d = qlow.dequantize %q : tensor<4x8x!quant.uniform<u8:f32, 0.05:128>> -> tensor<4x8xf32>
  return %q, %d : tensor<4x8x!quant.uniform<u8:f32, 0.05:128>>, tensor<4x8xf32>
}
func.func @quantize_per_axis(%x: tensor<3x4xf32>) -> tensor<3x4x!quant.uniform<i8:f32:1, {0.01:3, 0.02:-5, 0.25, 0.125:127}>> {
  %q = qlow.quantize %x : tensor<3x4xf32> -> tensor<3x4x!quant.uniform<i8:f32:1, {0.01:3, 0.02:-5, 0.25, 0.125:127}>>
  return %q : tensor<3x4x!quant.uniform<i8:f32:1, {0.01:3, 0.02:-5, 0.25, 0.125:127}>>
}
func.func @requantize(%q: tensor<64x!quant.uniform<u8:f32, 0.037:121>>) -> (tensor<64x!quant.uniform<i8:f32, 0.011:-7>>, tensor<64x!quant.uniform<i8:f32, 0.011:-7>>, tensor<64x!quant.uniform<i16:f32, 0.0003:12>>) {
  %a = qlow.requantize %q : tensor<64x!quant.uniform<u8:f32, 0.037:121>> -> tensor<64x!quant.uniform<i8:f32, 0.011:-7>>
  %b = qlow.requantize %q {rounding = #qlow.rounding<float>} : tensor<64x!quant.uniform<u8:f32, 0.037:121>> -> tensor<64x!quant.uniform<i8:f32, 0.011:-7>>
  %c = qlow.requantize %q : tensor<64x!quant.uniform<u8:f32, 0.037:121>> -> tensor<64x!quant.uniform<i16:f32, 0.0003:12>>
  return %a, %b, %c : tensor<64x!quant.uniform<i8:f32, 0.011:-7>>, tensor<64x!quant.uniform<i8:f32, 0.011:-7>>, tensor<64x!quant.uniform<i16:f32, 0.0003:12>>
}
func.func @fake_quant(%x: tensor<16xf32>) -> tensor<16xf32> {
  %y = qlow.fake_quant %x as !quant.uniform<i8:f32, 0.1:2> : tensor<16xf32>
  return %y : tensor<16xf32>
}
func.func @matmul_epilogues(%a: tensor<5x7x!quant.uniform<u8:f32, 0.02:131>>, %bias: tensor<3xi32>) -> (tensor<5x3xi32>, tensor<5x3xf32>, tensor<5x3x!quant.uniform<i8:f32, 0.05:-3>>, tensor<5x3x!quant.uniform<u8:f32, 0.05:100>>) {
  %w = arith.constant dense<[[1, -2, 3], [-128, 127, 0], [5, 6, -7], [8, -9, 10], [-11, 12, 13], [14, 15, -16], [100, -100, 50]]> : tensor<7x3xi8>
  %wq = quant.scast %w : tensor<7x3xi8> to tensor<7x3x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.005}>>
  %i = qlow.matmul %a, %wq, %bias : (tensor<5x7x!quant.uniform<u8:f32, 0.02:131>>, tensor<7x3x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.005}>>, tensor<3xi32>) -> tensor<5x3xi32>
  %f = qlow.matmul %a, %wq, %bias : (tensor<5x7x!quant.uniform<u8:f32, 0.02:131>>, tensor<7x3x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.005}>>, tensor<3xi32>) -> tensor<5x3xf32>
  %q = qlow.matmul %a, %wq : (tensor<5x7x!quant.uniform<u8:f32, 0.02:131>>, tensor<7x3x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.005}>>) -> tensor<5x3x!quant.uniform<i8:f32, 0.05:-3>>
  %r = qlow.matmul %a, %wq {rounding = #qlow.rounding<float>} : (tensor<5x7x!quant.uniform<u8:f32, 0.02:131>>, tensor<7x3x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.005}>>) -> tensor<5x3x!quant.uniform<u8:f32, 0.05:100>>
  return %i, %f, %q, %r : tensor<5x3xi32>, tensor<5x3xf32>, tensor<5x3x!quant.uniform<i8:f32, 0.05:-3>>, tensor<5x3x!quant.uniform<u8:f32, 0.05:100>>
}
func.func @batched_matmul(%a: tensor<2x3x4x!quant.uniform<i8:f32, 0.1:-20>>, %b: tensor<2x4x5x!quant.uniform<i8:f32, 0.2:0>>) -> tensor<2x3x5xi32> {
  %y = qlow.matmul %a, %b : (tensor<2x3x4x!quant.uniform<i8:f32, 0.1:-20>>, tensor<2x4x5x!quant.uniform<i8:f32, 0.2:0>>) -> tensor<2x3x5xi32>
  return %y : tensor<2x3x5xi32>
}
func.func @float_matmul(%x: tensor<3x6xf32>, %bias: tensor<4xf32>) -> tensor<3x4xf32> {
  %w = arith.constant dense<[[0.1, -0.2, 0.3, 0.4], [-1.28, 1.27, 0.0, 0.01], [0.5, 0.6, -0.7, 0.2], [0.8, -0.9, 1.0, 0.3], [-1.1, 1.2, 1.3, 0.4], [1.4, 1.5, -1.6, 0.5]]> : tensor<6x4xf32>
  %y = qlow.matmul %x, %w, %bias : (tensor<3x6xf32>, tensor<6x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}
func.func @reshape_transpose(%x: tensor<6xf32>) -> tensor<3x2xf32> {
  %e = tensor.expand_shape %x [[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
  %init = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%e : tensor<2x3xf32>) outs(%init : tensor<3x2xf32>) permutation = [1, 0]
  return %t : tensor<3x2xf32>
}
func.func @same_result_twice(%a: tensor<3x4x!quant.uniform<u8:f32, 0.5:128>>) -> (tensor<3x4xf32>, tensor<3x4xf32>) {
  %d = qlow.dequantize %a : tensor<3x4x!quant.uniform<u8:f32, 0.5:128>> -> tensor<3x4xf32>
  return %d, %d : tensor<3x4xf32>, tensor<3x4xf32>
}
func.func @arguments_back(%a: tensor<3x4x!quant.uniform<u8:f32, 0.5:128>>, %x: tensor<2xf32>) -> (tensor<3x4x!quant.uniform<u8:f32, 0.5:128>>, tensor<2xf32>, tensor<2xf32>) {
  return %a, %x, %x : tensor<3x4x!quant.uniform<u8:f32, 0.5:128>>, tensor<2xf32>, tensor<2xf32>
}
func.func @constant_results() -> (tensor<2x3xi8>, tensor<2x3x!quant.uniform<u8:f32, 1.0:3>>) {
  %c = arith.constant dense<[[1, -2, 3], [-128, 127, 0]]> : tensor<2x3xi8>
  %q = quant.scast %c : tensor<2x3xi8> to tensor<2x3x!quant.uniform<u8:f32, 1.0:3>>
  return %c, %q : tensor<2x3xi8>, tensor<2x3x!quant.uniform<u8:f32, 1.0:3>>
}
func.func @call_swapped(%a: tensor<3x4x!quant.uniform<u8:f32, 0.5:128>>) -> (tensor<3x4xf32>, tensor<3x4xf32>) {
  %r:2 = func.call @same_result_twice(%a) : (tensor<3x4x!quant.uniform<u8:f32, 0.5:128>>) -> (tensor<3x4xf32>, tensor<3x4xf32>)
  return %r#1, %r#0 : tensor<3x4xf32>, tensor<3x4xf32>
}
