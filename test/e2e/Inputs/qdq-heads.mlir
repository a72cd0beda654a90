// ONNX QDQ attention heads (DequantizeLinear -> Reshape/Transpose ->
// QuantizeLinear with the same parameters) for qlow-fold-qdq-heads.test:
// split heads of a [1, 8, 4 * 16] projection (q and v: [0, 2, 1, 3]; k
// transposed for K^T: [0, 2, 3, 1]), merged heads back to [1, 8, 64], and
// a per-axis tensor whose axis a transpose and an expand_shape move.
func.func @heads(%x: tensor<1x8x64x!quant.uniform<u8:f32, 0.02:131>>, %o: tensor<1x4x8x16x!quant.uniform<i8:f32, 0.05:-3>>, %w: tensor<5x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>>)
    -> (tensor<1x4x8x16x!quant.uniform<u8:f32, 0.02:131>>, tensor<1x4x16x8x!quant.uniform<u8:f32, 0.02:131>>, tensor<1x8x64x!quant.uniform<i8:f32, 0.05:-3>>, tensor<1x3x5x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>>) {
  %d = qlow.dequantize %x : tensor<1x8x64x!quant.uniform<u8:f32, 0.02:131>> -> tensor<1x8x64xf32>
  %e = tensor.expand_shape %d [[0], [1], [2, 3]] output_shape [1, 8, 4, 16] : tensor<1x8x64xf32> into tensor<1x8x4x16xf32>
  %i0 = tensor.empty() : tensor<1x4x8x16xf32>
  %q = linalg.transpose ins(%e : tensor<1x8x4x16xf32>) outs(%i0 : tensor<1x4x8x16xf32>) permutation = [0, 2, 1, 3]
  %qq = qlow.quantize %q : tensor<1x4x8x16xf32> -> tensor<1x4x8x16x!quant.uniform<u8:f32, 0.02:131>>
  %i1 = tensor.empty() : tensor<1x4x16x8xf32>
  %k = linalg.transpose ins(%e : tensor<1x8x4x16xf32>) outs(%i1 : tensor<1x4x16x8xf32>) permutation = [0, 2, 3, 1]
  %kq = qlow.quantize %k : tensor<1x4x16x8xf32> -> tensor<1x4x16x8x!quant.uniform<u8:f32, 0.02:131>>
  %od = qlow.dequantize %o : tensor<1x4x8x16x!quant.uniform<i8:f32, 0.05:-3>> -> tensor<1x4x8x16xf32>
  %i2 = tensor.empty() : tensor<1x8x4x16xf32>
  %m = linalg.transpose ins(%od : tensor<1x4x8x16xf32>) outs(%i2 : tensor<1x8x4x16xf32>) permutation = [0, 2, 1, 3]
  %mc = tensor.collapse_shape %m [[0], [1], [2, 3]] : tensor<1x8x4x16xf32> into tensor<1x8x64xf32>
  %mq = qlow.quantize %mc : tensor<1x8x64xf32> -> tensor<1x8x64x!quant.uniform<i8:f32, 0.05:-3>>
  %wd = qlow.dequantize %w : tensor<5x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>> -> tensor<5x3xf32>
  %i3 = tensor.empty() : tensor<3x5xf32>
  %wt = linalg.transpose ins(%wd : tensor<5x3xf32>) outs(%i3 : tensor<3x5xf32>) permutation = [1, 0]
  %we = tensor.expand_shape %wt [[0, 1], [2]] output_shape [1, 3, 5] : tensor<3x5xf32> into tensor<1x3x5xf32>
  %wq = qlow.quantize %we : tensor<1x3x5xf32> -> tensor<1x3x5x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>>
  return %qq, %kq, %mq, %wq : tensor<1x4x8x16x!quant.uniform<u8:f32, 0.02:131>>, tensor<1x4x16x8x!quant.uniform<u8:f32, 0.02:131>>, tensor<1x8x64x!quant.uniform<i8:f32, 0.05:-3>>, tensor<1x3x5x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-1}>>
}
