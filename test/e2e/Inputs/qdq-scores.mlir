// ONNX QDQ attention scores Q * K^T with K^T a split-heads transpose
// [0, 2, 3, 1] of the key projection's bytes (after qlow-fold-qdq: a
// linalg.transpose of u8 storage), for qlow-x86-int8-matmul-transposed-keys.test.
// @scores: H = 2 heads of D = 64 over S = 32 keys (N = 32, one panel of two
// zmm vectors: the kernel packs K^T's words from the key rows in place);
// @scores_40: S = 40 keys, not a multiple of 16 (the kernel pads N: the
// transposed copy and its packing stay); @scores_d128: D = 128 (two blocks
// of 16 words per key row), 3 heads, 64 keys.
func.func @scores(%q: tensor<1x2x32x64x!quant.uniform<u8:f32, 0.04:133>>, %x: tensor<1x32x128x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<1x2x32x32x!quant.uniform<u8:f32, 0.3:133>> {
  %d = qlow.dequantize %x : tensor<1x32x128x!quant.uniform<u8:f32, 0.038:132>> -> tensor<1x32x128xf32>
  %e = tensor.expand_shape %d [[0], [1], [2, 3]] output_shape [1, 32, 2, 64] : tensor<1x32x128xf32> into tensor<1x32x2x64xf32>
  %i = tensor.empty() : tensor<1x2x64x32xf32>
  %k = linalg.transpose ins(%e : tensor<1x32x2x64xf32>) outs(%i : tensor<1x2x64x32xf32>) permutation = [0, 2, 3, 1]
  %kq = qlow.quantize %k : tensor<1x2x64x32xf32> -> tensor<1x2x64x32x!quant.uniform<u8:f32, 0.038:132>>
  %s = qlow.matmul %q, %kq {rounding = #qlow.rounding<float>} : (tensor<1x2x32x64x!quant.uniform<u8:f32, 0.04:133>>, tensor<1x2x64x32x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<1x2x32x32x!quant.uniform<u8:f32, 0.3:133>>
  return %s : tensor<1x2x32x32x!quant.uniform<u8:f32, 0.3:133>>
}

func.func @scores_40(%q: tensor<1x2x32x64x!quant.uniform<u8:f32, 0.04:133>>, %x: tensor<1x40x128x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<1x2x32x40x!quant.uniform<u8:f32, 0.3:133>> {
  %d = qlow.dequantize %x : tensor<1x40x128x!quant.uniform<u8:f32, 0.038:132>> -> tensor<1x40x128xf32>
  %e = tensor.expand_shape %d [[0], [1], [2, 3]] output_shape [1, 40, 2, 64] : tensor<1x40x128xf32> into tensor<1x40x2x64xf32>
  %i = tensor.empty() : tensor<1x2x64x40xf32>
  %k = linalg.transpose ins(%e : tensor<1x40x2x64xf32>) outs(%i : tensor<1x2x64x40xf32>) permutation = [0, 2, 3, 1]
  %kq = qlow.quantize %k : tensor<1x2x64x40xf32> -> tensor<1x2x64x40x!quant.uniform<u8:f32, 0.038:132>>
  %s = qlow.matmul %q, %kq {rounding = #qlow.rounding<float>} : (tensor<1x2x32x64x!quant.uniform<u8:f32, 0.04:133>>, tensor<1x2x64x40x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<1x2x32x40x!quant.uniform<u8:f32, 0.3:133>>
  return %s : tensor<1x2x32x40x!quant.uniform<u8:f32, 0.3:133>>
}

func.func @scores_d128(%q: tensor<1x3x16x128x!quant.uniform<u8:f32, 0.04:133>>, %x: tensor<1x64x384x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<1x3x16x64x!quant.uniform<u8:f32, 0.5:120>> {
  %d = qlow.dequantize %x : tensor<1x64x384x!quant.uniform<u8:f32, 0.038:132>> -> tensor<1x64x384xf32>
  %e = tensor.expand_shape %d [[0], [1], [2, 3]] output_shape [1, 64, 3, 128] : tensor<1x64x384xf32> into tensor<1x64x3x128xf32>
  %i = tensor.empty() : tensor<1x3x128x64xf32>
  %k = linalg.transpose ins(%e : tensor<1x64x3x128xf32>) outs(%i : tensor<1x3x128x64xf32>) permutation = [0, 2, 3, 1]
  %kq = qlow.quantize %k : tensor<1x3x128x64xf32> -> tensor<1x3x128x64x!quant.uniform<u8:f32, 0.038:132>>
  %s = qlow.matmul %q, %kq {rounding = #qlow.rounding<float>} : (tensor<1x3x16x128x!quant.uniform<u8:f32, 0.04:133>>, tensor<1x3x128x64x!quant.uniform<u8:f32, 0.038:132>>) -> tensor<1x3x16x64x!quant.uniform<u8:f32, 0.5:120>>
  return %s : tensor<1x3x16x64x!quant.uniform<u8:f32, 0.5:120>>
}
