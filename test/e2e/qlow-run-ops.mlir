// Each op through the interpreter on hand-picked inputs whose results can be
// worked out by hand (the arithmetic itself is unit-tested in test/unit).
// RUN: qlow-run --reference %s --entry requantize_chain --random-inputs --print | FileCheck %s --check-prefix=REQ
// RUN: qlow-run --reference %s --entry int_matmul --random-inputs --print | FileCheck %s --check-prefix=MM
// RUN: qlow-run --reference %s --entry u8_weights --random-inputs --print | FileCheck %s --check-prefix=U8
// RUN: qlow-run --reference %s --entry reshape_transpose --random-inputs --print | FileCheck %s --check-prefix=TR
// RUN: qlow-run --reference %s --entry float_ops --random-inputs --seed 3 --print --print-ranges | FileCheck %s --check-prefix=FL

// Quantize: 0.25 / 0.1 = 2.5 rounds half to even -> 2; f32(0.35) / f32(0.1)
// rounds to exactly 3.5 in f32 -> 4; -1.0 -> -10; 20.0 -> 200 saturates to 127.
// Requantize (M = 0.1 / 0.05 = 2): 2 -> 132, 4 -> 136, -10 -> 108, 127 -> 382
// saturates to 255. Dequantize: 0.2, 0.4, -1.0, 6.35.
// REQ: result #0: tensor<4xf32>
// REQ: values: 0.2 0.4 -1 6.35
func.func @requantize_chain() -> tensor<4xf32> {
  %x = arith.constant dense<[0.25, 0.35, -1.0, 20.0]> : tensor<4xf32>
  %q = qlow.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %r = qlow.requantize %q : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<u8:f32, 0.05:128>>
  %d = qlow.dequantize %r : tensor<4x!quant.uniform<u8:f32, 0.05:128>> -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// lhs = [[1, 2], [3, 4]] stored with zero point 1 -> a = [[0, 1], [2, 3]];
// rhs = [[1, -1], [2, 0]]; a @ rhs = [[2, 0], [8, -2]]; + bias [10, 20].
// MM: result #0: tensor<2x2xi32>
// MM: values: 12 20 18 18
func.func @int_matmul() -> tensor<2x2xi32> {
  %a = arith.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>
  %aq = quant.scast %a : tensor<2x2xi8> to tensor<2x2x!quant.uniform<u8:f32, 0.5:1>>
  %w = arith.constant dense<[[1, -1], [2, 0]]> : tensor<2x2xi8>
  %wq = quant.scast %w : tensor<2x2xi8> to tensor<2x2x!quant.uniform<i8:f32:1, {0.25, 0.125}>>
  %b = arith.constant dense<[10, 20]> : tensor<2xi32>
  %y = qlow.matmul %aq, %wq, %b : (tensor<2x2x!quant.uniform<u8:f32, 0.5:1>>, tensor<2x2x!quant.uniform<i8:f32:1, {0.25, 0.125}>>, tensor<2xi32>) -> tensor<2x2xi32>
  return %y : tensor<2x2xi32>
}

// Signless i8 bits -1 and -128 are 255 and 128 in u8 storage: (255 - 128) * 1.0
// and (128 - 128) * 1.0.
// U8: values: 127 0
func.func @u8_weights() -> tensor<2xf32> {
  %c = arith.constant dense<[-1, -128]> : tensor<2xi8>
  %q = quant.scast %c : tensor<2xi8> to tensor<2x!quant.uniform<u8:f32, 1.0:128>>
  %d = qlow.dequantize %q : tensor<2x!quant.uniform<u8:f32, 1.0:128>> -> tensor<2xf32>
  return %d : tensor<2xf32>
}

// [[0, 1, 2], [3, 4, 5]] transposed is [[0, 3], [1, 4], [2, 5]].
// TR: result #0: tensor<3x2xf32>
// TR: values: 0 3 1 4 2 5
func.func @reshape_transpose() -> tensor<3x2xf32> {
  %x = arith.constant dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]> : tensor<6xf32>
  %e = tensor.expand_shape %x [[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
  %init = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%e : tensor<2x3xf32>) outs(%init : tensor<3x2xf32>) permutation = [1, 0]
  return %t : tensor<3x2xf32>
}

// Every float-semantics op runs through the interpreter on random inputs; the
// softmax rows sum to one, so the mean of the [2, 4] result is 0.25.
// FL: result #0: tensor<2x4xf32>
// FL: mean 2.5{{0*}}e-01
// FL: result #1: tensor<1x2x3x4xf32>
// FL: observe probe: min {{.*}} over 8 values
func.func @float_ops(%x: tensor<2x4xf32>, %q: tensor<1x2x3x4xf32>) -> (tensor<2x4xf32>, tensor<1x2x3x4xf32>) {
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %o = qlow.observe %x {name = "probe"} : tensor<2x4xf32>
  %ln = qlow.layer_norm %o, %g : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %rn = qlow.rms_norm %ln, %g : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %ge = qlow.gelu %rn {approximate = #qlow.gelu_approximation<tanh>} : tensor<2x4xf32> -> tensor<2x4xf32>
  %si = qlow.silu %ge : tensor<2x4xf32> -> tensor<2x4xf32>
  %m = qlow.mul %si, %g : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %a = qlow.add %m, %g : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %sm = qlow.softmax %a : tensor<2x4xf32> -> tensor<2x4xf32>
  %cos = arith.constant dense<1.0> : tensor<3x2xf32>
  %sin = arith.constant dense<0.0> : tensor<3x2xf32>
  %r = qlow.rope %q, %cos, %sin : (tensor<1x2x3x4xf32>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<1x2x3x4xf32>
  %at = qlow.attention %r, %q, %q {causal} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %sm, %at : tensor<2x4xf32>, tensor<1x2x3x4xf32>
}
