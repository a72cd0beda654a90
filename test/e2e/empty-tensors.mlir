// Tensors with a dimension of size 0 compile and run: the elementwise
// vectorizer leaves their empty loops alone (qlow-vectorize-elementwise
// crashed in upstream's tiling on them), and the result is empty.
// RUN: rm -rf %t && mkdir -p %t
// RUN: qlow-run %s --random-inputs --print | FileCheck %s
// RUN: qlow-run %s --reference --random-inputs --print | FileCheck %s
// RUN: qlow-compile %s --cpu=haswell -o %t/empty.o
// RUN: qlow-opt %s --qlow-cpu-pipeline=cpu=haswell -o /dev/null
// CHECK: result #0: tensor<16x0xf32>

func.func @gelu_tanh(%x: tensor<16x0xf32>) -> tensor<16x0xf32> {
  %y = qlow.gelu %x {approximate = #qlow.gelu_approximation<tanh>} : tensor<16x0xf32> -> tensor<16x0xf32>
  return %y : tensor<16x0xf32>
}
