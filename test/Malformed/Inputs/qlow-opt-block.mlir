// A valid quantized attention block: the input that qlow-opt-truncated.test
// cuts short at several byte offsets. Not a test by itself (Inputs/ is
// excluded from discovery).
func.func @block(%x: tensor<1x16x64xf32>, %g: tensor<64xf32>,
                 %wq: tensor<64x64x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04}>>,
                 %cos: tensor<16x8xf32>, %sin: tensor<16x8xf32>) -> tensor<1x4x16x16xf32> {
  %n = qlow.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<1x16x64xf32>, tensor<64xf32>) -> tensor<1x16x64xf32>
  %o = qlow.observe %n {name = "block.norm"} : tensor<1x16x64xf32>
  %a = qlow.quantize %o : tensor<1x16x64xf32> -> tensor<1x16x64x!quant.uniform<u8:f32, 0.05:128>>
  %p = qlow.matmul %a, %wq : (tensor<1x16x64x!quant.uniform<u8:f32, 0.05:128>>, tensor<64x64x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04, 0.01, 0.02, 0.03, 0.04}>>) -> tensor<1x16x64xf32>
  %shape = arith.constant dense<[1, 4, 16, 16]> : tensor<4xi64>
  %h = tensor.reshape %p(%shape) : (tensor<1x16x64xf32>, tensor<4xi64>) -> tensor<1x4x16x16xf32>
  %r = qlow.rope %h, %cos, %sin {interleaved} : (tensor<1x4x16x16xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<1x4x16x16xf32>
  %t = qlow.attention %r, %r, %r {causal, scale = 2.500000e-01 : f32} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %s = qlow.softmax %t {axis = -1 : i64} : tensor<1x4x16x16xf32> -> tensor<1x4x16x16xf32>
  %y = qlow.gelu %s {approximate = #qlow.gelu_approximation<tanh>} : tensor<1x4x16x16xf32> -> tensor<1x4x16x16xf32>
  return %y : tensor<1x4x16x16xf32>
}
