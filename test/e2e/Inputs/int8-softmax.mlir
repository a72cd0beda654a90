// 8-bit quantized softmax functions for qlow-x86-int8-softmax.test.

// ONNX QDQ attention's shape class: u8 scores with a zero point, u8
// probabilities whose scale saturates the largest ones (1 / 0.0013 > 255).
func.func @u8_scores(%s: tensor<3x5x128x!quant.uniform<u8:f32, 0.04:133>>) -> tensor<3x5x128x!quant.uniform<u8:f32, 0.0013>> {
  %p = qlow.softmax %s {axis = 2 : i64} : tensor<3x5x128x!quant.uniform<u8:f32, 0.04:133>> -> tensor<3x5x128x!quant.uniform<u8:f32, 0.0013>>
  return %p : tensor<3x5x128x!quant.uniform<u8:f32, 0.0013>>
}

// Signed input, probabilities in 1/255ths; 48 = 3 vectors of 16 lanes.
func.func @i8_rows(%s: tensor<7x48x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<7x48x!quant.uniform<u8:f32, 0.003921568859368563>> {
  %p = qlow.softmax %s {axis = -1 : i64} : tensor<7x48x!quant.uniform<i8:f32, 0.1:-3>> -> tensor<7x48x!quant.uniform<u8:f32, 0.003921568859368563>>
  return %p : tensor<7x48x!quant.uniform<u8:f32, 0.003921568859368563>>
}

// Signed result with a negative zero point; 256 = 16 vectors, the most the
// kernel keeps in registers.
func.func @i8_result(%s: tensor<2x256x!quant.uniform<u8:f32, 0.02:10>>) -> tensor<2x256x!quant.uniform<i8:f32, 0.00390625:-128>> {
  %p = qlow.softmax %s : tensor<2x256x!quant.uniform<u8:f32, 0.02:10>> -> tensor<2x256x!quant.uniform<i8:f32, 0.00390625:-128>>
  return %p : tensor<2x256x!quant.uniform<i8:f32, 0.00390625:-128>>
}

// One row (rank 1) with a coarse input scale: few distinct exponentials.
func.func @one_row(%s: tensor<64x!quant.uniform<u8:f32, 0.5>>) -> tensor<64x!quant.uniform<u8:f32, 0.00390625>> {
  %p = qlow.softmax %s {axis = 0 : i64} : tensor<64x!quant.uniform<u8:f32, 0.5>> -> tensor<64x!quant.uniform<u8:f32, 0.00390625>>
  return %p : tensor<64x!quant.uniform<u8:f32, 0.00390625>>
}
