// qlow.gelu (erf form) on 4099 f32 values, for
// qlow-approximate-math-erfc-accuracy.test.
func.func @gelu(%x: tensor<4099xf32>) -> tensor<4099xf32> {
  %y = qlow.gelu %x : tensor<4099xf32> -> tensor<4099xf32>
  return %y : tensor<4099xf32>
}
