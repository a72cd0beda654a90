// RUN: qlow-opt %s --qlow-read-only-arguments --split-input-file -verify-diagnostics | FileCheck %s

// Every tensor argument of a public function becomes read-only; scalars
// are left alone.
// CHECK-LABEL: func.func @append
// CHECK-SAME:    %{{.+}}: tensor<1x4xf32> {bufferization.writable = false}
// CHECK-SAME:    %{{.+}}: tensor<8x4xf32> {bufferization.writable = false}
// CHECK-SAME:    %{{[^:]+}}: index)
func.func @append(%row: tensor<1x4xf32>, %cache: tensor<8x4xf32>, %at: index) -> tensor<8x4xf32> {
  %c = tensor.insert_slice %row into %cache[%at, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<8x4xf32>
  return %c : tensor<8x4xf32>
}

// -----

// What an argument says already stands: a cache the caller lets the
// function write stays writable, and an explicit false stays false.
// CHECK-LABEL: func.func @given
// CHECK-SAME:    %{{.+}}: tensor<1x4xf32> {bufferization.writable = false}
// CHECK-SAME:    %{{.+}}: tensor<8x4xf32> {bufferization.writable = true}
// CHECK-SAME:    %{{.+}}: tensor<8x4xf32> {bufferization.writable = false}
func.func @given(%row: tensor<1x4xf32>, %cache: tensor<8x4xf32> {bufferization.writable = true}, %other: tensor<8x4xf32> {bufferization.writable = false}) -> tensor<8x4xf32> {
  %c = tensor.insert_slice %row into %cache[7, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<8x4xf32>
  return %c : tensor<8x4xf32>
}

// -----

// Private functions (bufferization analyses their calls) and declarations
// are left alone.
// CHECK-LABEL: func.func private @helper
// CHECK-SAME:    (%{{.+}}: tensor<8x4xf32>) -> tensor<8x4xf32> {
// CHECK-LABEL: func.func private @external
// CHECK-SAME:    (tensor<4xf32>) -> tensor<4xf32>{{$}}
func.func private @helper(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
  return %x : tensor<8x4xf32>
}
func.func private @external(tensor<4xf32>) -> tensor<4xf32>

// -----

// Only a tensor's buffer can be written in place.
// expected-error @+1 {{argument 1 of 'scalar' is marked bufferization.writable = true but is 'f32', not a tensor: only a tensor's buffer can be written in place}}
func.func @scalar(%x: tensor<4xf32>, %s: f32 {bufferization.writable = true}) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
