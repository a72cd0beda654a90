// Attention scores as a QDQ graph leaves them (see qlow-tabulate-byte-
// functions.mlir): Q * K^T of u8 activations requantized to u8, then
// multiplied by a quantized constant (the 1 / sqrt(D) Mul) and requantized
// again; at opt-level 2 the second requantization is a table lookup in the
// act x act kernel's epilogue.
func.func @scores(%q: tensor<2x3x16x64x!quant.uniform<u8:f32, 0.0418:133>>, %k: tensor<2x3x64x37x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<2x3x16x37x!quant.uniform<u8:f32, 0.0407:133>> {
  %s = qlow.matmul %q, %k {rounding = #qlow.rounding<float>} : (tensor<2x3x16x64x!quant.uniform<u8:f32, 0.0418:133>>, tensor<2x3x64x37x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<2x3x16x37x!quant.uniform<u8:f32, 0.3258:133>>
  %c = arith.constant dense<255> : tensor<i8>
  %cq = quant.scast %c : tensor<i8> to tensor<!quant.uniform<u8:f32, 4.9019610742107034E-4>>
  %r = qlow.mul %s, %cq {rounding = #qlow.rounding<float>} : (tensor<2x3x16x37x!quant.uniform<u8:f32, 0.3258:133>>, tensor<!quant.uniform<u8:f32, 4.9019610742107034E-4>>) -> tensor<2x3x16x37x!quant.uniform<u8:f32, 0.0407:133>>
  return %r : tensor<2x3x16x37x!quant.uniform<u8:f32, 0.0407:133>>
}
