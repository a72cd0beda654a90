// A linalg.broadcast whose dimensions are not a list of integers.
func.func @b(%e: tensor<3xf32>) -> tensor<2x3xf32> {
  %init = tensor.empty() : tensor<2x3xf32>
  %b = linalg.broadcast ins(%e : tensor<3xf32>) outs(%init : tensor<2x3xf32>) dimensions = x
  return %b : tensor<2x3xf32>
}
