// RUN: qlow-opt %s --qlow-distinct-result-buffers --split-input-file | FileCheck %s

// The second and third return of the same buffer get buffers of their own.
// CHECK-LABEL: func.func @returned_three_times
// CHECK:         %[[R:.+]] = memref.alloc() : memref<4xf32>
// CHECK:         %[[C1:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
// CHECK:         memref.copy %[[R]], %[[C1]]
// CHECK:         %[[C2:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
// CHECK:         memref.copy %[[R]], %[[C2]]
// CHECK:         return %[[R]], %[[C1]], %[[C2]]
func.func @returned_three_times() -> (memref<4xf32>, memref<4xf32>, memref<4xf32>) {
  %r = memref.alloc() : memref<4xf32>
  return %r, %r, %r : memref<4xf32>, memref<4xf32>, memref<4xf32>
}

// -----

// Distinct buffers, scalars and dynamic shapes are left alone.
// CHECK-LABEL: func.func @unchanged
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     memref.copy
// CHECK:         return %arg0, %arg1, %arg2, %arg2, %arg3, %arg3
func.func @unchanged(%a: memref<4xf32>, %b: memref<4xf32>, %d: memref<?xf32>, %i: i32) -> (memref<4xf32>, memref<4xf32>, memref<?xf32>, memref<?xf32>, i32, i32) {
  return %a, %b, %d, %d, %i, %i : memref<4xf32>, memref<4xf32>, memref<?xf32>, memref<?xf32>, i32, i32
}

// -----

// A row op computed on its [rows, last] matrix and reshaped back: the
// allocation takes the returned shape (which buffer-results-to-out-params
// then hoists into the out-parameter) and its writer sees the matrix view.
// CHECK-LABEL: func.func @returned_expand_shape
// CHECK:         %[[W:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x8xf32>
// CHECK:         %[[V:.+]] = memref.collapse_shape %[[W]] {{\[\[}}0, 1], [2]] : memref<1x4x8xf32> into memref<4x8xf32>
// CHECK:         linalg.fill ins(%{{.+}} : f32) outs(%[[V]] : memref<4x8xf32>)
// CHECK-NOT:     memref.expand_shape
// CHECK:         return %[[W]] : memref<1x4x8xf32>
func.func @returned_expand_shape(%x: f32) -> memref<1x4x8xf32> {
  %m = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
  linalg.fill ins(%x : f32) outs(%m : memref<4x8xf32>)
  %r = memref.expand_shape %m [[0, 1], [2]] output_shape [1, 4, 8] : memref<4x8xf32> into memref<1x4x8xf32>
  return %r : memref<1x4x8xf32>
}

// -----

// The same for a returned collapse_shape.
// CHECK-LABEL: func.func @returned_collapse_shape
// CHECK:         %[[W:.+]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[V:.+]] = memref.expand_shape %[[W]] {{\[\[}}0, 1]] output_shape [4, 8] : memref<32xf32> into memref<4x8xf32>
// CHECK:         linalg.fill ins(%{{.+}} : f32) outs(%[[V]] : memref<4x8xf32>)
// CHECK:         return %[[W]] : memref<32xf32>
func.func @returned_collapse_shape(%x: f32) -> memref<32xf32> {
  %m = memref.alloc() : memref<4x8xf32>
  linalg.fill ins(%x : f32) outs(%m : memref<4x8xf32>)
  %r = memref.collapse_shape %m [[0, 1]] : memref<4x8xf32> into memref<32xf32>
  return %r : memref<32xf32>
}

// -----

// An allocation also returned as it is keeps its shape (the reshape is a
// second view of one result buffer); a reshape of an argument is left alone.
// CHECK-LABEL: func.func @also_returned
// CHECK:         %[[M:.+]] = memref.alloc() : memref<4x8xf32>
// CHECK:         %[[R:.+]] = memref.expand_shape %[[M]]
// CHECK:         %[[A:.+]] = memref.expand_shape %arg1
// CHECK:         return %[[M]], %[[R]], %[[A]]
func.func @also_returned(%x: f32, %y: memref<4x8xf32>) -> (memref<4x8xf32>, memref<1x4x8xf32>, memref<1x4x8xf32>) {
  %m = memref.alloc() : memref<4x8xf32>
  linalg.fill ins(%x : f32) outs(%m : memref<4x8xf32>)
  %r = memref.expand_shape %m [[0, 1], [2]] output_shape [1, 4, 8] : memref<4x8xf32> into memref<1x4x8xf32>
  %a = memref.expand_shape %y [[0, 1], [2]] output_shape [1, 4, 8] : memref<4x8xf32> into memref<1x4x8xf32>
  return %m, %r, %a : memref<4x8xf32>, memref<1x4x8xf32>, memref<1x4x8xf32>
}
