// Compiled qlow.embedding checks every index against the table's rows before
// gathering: an index out of range (here 5 of 5 rows, and -1) stops the
// compiled code with a message, which qlow-run reports as a crash, leaving
// no output behind. Indices in range run.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; np.save('%t/t.npy', np.arange(15, dtype=np.float32).reshape(5, 3)); np.save('%t/far.npy', np.array([0, 5], np.int64)); np.save('%t/neg.npy', np.array([-1, 2], np.int64)); np.save('%t/ok.npy', np.array([4, 1], np.int64))"
// RUN: not qlow-run %s -i %t/t.npy -i %t/far.npy -o %t/far_out.npy 2>&1 | FileCheck %s --check-prefix=FAR
// RUN: not ls %t/far_out.npy
// RUN: not qlow-run %s -i %t/t.npy -i %t/neg.npy -o %t/neg_out.npy 2>&1 | FileCheck %s --check-prefix=FAR
// RUN: qlow-run %s -i %t/t.npy -i %t/ok.npy -o %t/ok_out.npy --print | FileCheck %s --check-prefix=OK
// FAR-DAG: qlow.embedding: an index is outside [0, 5)
// FAR-DAG: error: the compiled code of 'rows' crashed
// OK: values: 12 13 14 3 4 5
func.func @rows(%t: tensor<5x3xf32>, %i: tensor<2xi64>) -> tensor<2x3xf32> {
  %y = qlow.embedding %t, %i : (tensor<5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
