// A small model used by the qlow-run error tests.
func.func @main(%x: tensor<2x3xf32>, %q: tensor<3x!quant.uniform<u8:f32, 0.5:128>>) -> (tensor<2x3xf32>, tensor<3xf32>) {
  %y = qlow.silu %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %d = qlow.dequantize %q : tensor<3x!quant.uniform<u8:f32, 0.5:128>> -> tensor<3xf32>
  return %y, %d : tensor<2x3xf32>, tensor<3xf32>
}

func.func @gather(%ids: tensor<2xi32>) -> tensor<2x4xf32> {
  %t = arith.constant dense<1.0> : tensor<5x4xf32>
  %e = qlow.embedding %t, %ids : (tensor<5x4xf32>, tensor<2xi32>) -> tensor<2x4xf32>
  return %e : tensor<2x4xf32>
}

// K = 70000 with a = 127 - (-128) = 255 and w = -128: the exact sum
// -2284800000 is outside the i32 range of the accumulator.
func.func @overflow() -> tensor<1x1xi32> {
  %a = arith.constant dense<127> : tensor<1x70000xi8>
  %aq = quant.scast %a : tensor<1x70000xi8> to tensor<1x70000x!quant.uniform<i8:f32, 1.0:-128>>
  %w = arith.constant dense<-128> : tensor<70000x1xi8>
  %wq = quant.scast %w : tensor<70000x1xi8> to tensor<70000x1x!quant.uniform<i8:f32, 1.0>>
  %y = qlow.matmul %aq, %wq : (tensor<1x70000x!quant.uniform<i8:f32, 1.0:-128>>, tensor<70000x1x!quant.uniform<i8:f32, 1.0>>) -> tensor<1x1xi32>
  return %y : tensor<1x1xi32>
}

func.func @unsupported(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

func.func @dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}
