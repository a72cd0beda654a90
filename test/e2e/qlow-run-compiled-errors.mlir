// Compiled execution fails with a diagnostic and exit code 1, never a crash,
// and leaves no output behind: when the pipeline cannot lower an op, when a
// type cannot cross the boundary of compiled code, and when the compiled code
// itself crashes. (`not` fails on a crash.)
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', np.ones(4, np.float32)); np.save('%t/far.npy', np.array([1 << 60], np.int64)); np.save('%t/two.npy', np.array([2], np.int64))"

// An op the pipeline cannot lower is reported where it is (arith on whole
// tensors: qlow graphs use qlow.add, and bufferization refuses it).
// RUN: not qlow-run %s --entry unlowered --random-inputs -o %t/unlowered.npy 2>&1 | FileCheck %s --check-prefix=UNLOWERED
// RUN: not ls %t/unlowered.npy
// UNLOWERED: qlow-run-compiled-errors.mlir:[[# @LINE + 3]]:8: error:
// UNLOWERED: error: cannot compile with qlow-cpu-pipeline
func.func @unlowered(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// int4 storage stays inside compiled code; the reference still runs it.
// RUN: not qlow-run %s --entry int4_argument --random-inputs 2>&1 | FileCheck %s --check-prefix=INT4
// RUN: qlow-run --reference %s --entry int4_argument --random-inputs
// INT4: error: cannot pass 'tensor<4x!quant.uniform<i4:f32, 5.000000e-01>>' to or from compiled code
func.func @int4_argument(%q: tensor<4x!quant.uniform<i4:f32, 0.5>>) -> tensor<4xf32> {
  %d = qlow.dequantize %q : tensor<4x!quant.uniform<i4:f32, 0.5>> -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// A read far outside a buffer crashes the compiled code; qlow-run reports it.
// The same function with an index in range runs.
// RUN: not qlow-run %s --entry wild_read -i %t/x.npy -i %t/far.npy -o %t/wild.npy 2>&1 | FileCheck %s --check-prefix=CRASH
// RUN: not ls %t/wild.npy
// RUN: qlow-run %s --entry wild_read -i %t/x.npy -i %t/two.npy --print | FileCheck %s --check-prefix=INRANGE
// CRASH: error: the compiled code of 'wild_read' crashed
// INRANGE: values: 1
func.func @wild_read(%x: tensor<4xf32>, %i: tensor<1xi64>) -> tensor<1xf32> {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %i[%c0] : tensor<1xi64>
  %idx = arith.index_cast %v : i64 to index
  %e = tensor.extract %x[%idx] : tensor<4xf32>
  %r = tensor.from_elements %e : tensor<1xf32>
  return %r : tensor<1xf32>
}
