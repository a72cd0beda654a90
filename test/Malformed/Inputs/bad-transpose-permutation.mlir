// A linalg.transpose whose permutation is not a list of integers.
func.func @t(%e: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %init = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%e : tensor<2x3xf32>) outs(%init : tensor<3x2xf32>) permutation = [1, 0
  return %t : tensor<3x2xf32>
}
