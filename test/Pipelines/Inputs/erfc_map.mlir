// Elementwise f32 erfc on 4099 values (not a multiple of any vector width),
// for qlow-approximate-math-erfc-accuracy.test.
func.func @erfc(%x: tensor<4099xf32>) -> tensor<4099xf32> {
  %e = tensor.empty() : tensor<4099xf32>
  %y = linalg.map { math.erfc } ins(%x : tensor<4099xf32>) outs(%e : tensor<4099xf32>)
  return %y : tensor<4099xf32>
}
