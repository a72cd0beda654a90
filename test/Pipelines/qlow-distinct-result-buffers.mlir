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
