// ONNX Runtime's QDQ GELU (quantize_static's encoder FFN, scales and zero
// points of the bench model): dequantize, x / sqrt(2), erf (1 - erfc),
// requantize, + 1, * x, requantize, * 0.5, requantize. Used by
// qlow-tabulate-byte-functions.mlir on all 256 stored values.
#id = affine_map<(d0, d1) -> (d0, d1)>
#sc = affine_map<(d0, d1) -> ()>
func.func @gelu_qdq(%x: tensor<8x32x!quant.uniform<u8:f32, 0.041867304593324661:144>>) -> tensor<8x32x!quant.uniform<u8:f32, 0.01890048012137413:9>> {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %d = qlow.dequantize %x : tensor<8x32x!quant.uniform<u8:f32, 0.041867304593324661:144>> -> tensor<8x32xf32>
  %e = tensor.empty() : tensor<8x32xf32>
  %div = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel"]} ins(%d, %sqrt2 : tensor<8x32xf32>, tensor<f32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %q = arith.divf %a, %s : f32
    linalg.yield %q : f32
  } -> tensor<8x32xf32>
  %erf = linalg.generic {indexing_maps = [#id, #sc, #id], iterator_types = ["parallel", "parallel"]} ins(%div, %one : tensor<8x32xf32>, tensor<f32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%a: f32, %c1: f32, %o: f32):
    %c = math.erfc %a : f32
    %r = arith.subf %c1, %c : f32
    linalg.yield %r : f32
  } -> tensor<8x32xf32>
  %q1 = qlow.quantize %erf : tensor<8x32xf32> -> tensor<8x32x!quant.uniform<u8:f32, 0.0078431237488985062:128>>
  %oc = arith.constant dense<255> : tensor<i8>
  %oq = quant.scast %oc : tensor<i8> to tensor<!quant.uniform<u8:f32, 0.0039215688593685627>>
  %p1 = qlow.add %q1, %oq {rounding = #qlow.rounding<float>} : (tensor<8x32x!quant.uniform<u8:f32, 0.0078431237488985062:128>>, tensor<!quant.uniform<u8:f32, 0.0039215688593685627>>) -> tensor<8x32x!quant.uniform<u8:f32, 0.0078431237488985062>>
  %m = qlow.mul %x, %p1 {rounding = #qlow.rounding<float>} : (tensor<8x32x!quant.uniform<u8:f32, 0.041867304593324661:144>>, tensor<8x32x!quant.uniform<u8:f32, 0.0078431237488985062>>) -> tensor<8x32x!quant.uniform<u8:f32, 0.03780096024274826:9>>
  %hc = arith.constant dense<255> : tensor<i8>
  %hq = quant.scast %hc : tensor<i8> to tensor<!quant.uniform<u8:f32, 0.0019607844296842813>>
  %h = qlow.mul %m, %hq {rounding = #qlow.rounding<float>} : (tensor<8x32x!quant.uniform<u8:f32, 0.03780096024274826:9>>, tensor<!quant.uniform<u8:f32, 0.0019607844296842813>>) -> tensor<8x32x!quant.uniform<u8:f32, 0.01890048012137413:9>>
  return %h : tensor<8x32x!quant.uniform<u8:f32, 0.01890048012137413:9>>
}
