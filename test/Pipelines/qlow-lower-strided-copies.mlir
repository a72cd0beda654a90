// RUN: qlow-opt %s --qlow-lower-strided-copies | FileCheck %s

// Copies between non-contiguous buffers become linalg.copy.
// CHECK-LABEL: func.func @strided
// CHECK-SAME:    (%[[SRC:.+]]: memref<2x4xi32, strided<[4, 1]>>, %[[DST:.+]]: memref<2x4xi32, strided<[6, 1], offset: 7>>)
// CHECK:         linalg.copy ins(%[[SRC]] : {{.*}}) outs(%[[DST]] : {{.*}})
// CHECK-NOT:     memref.copy
func.func @strided(%src: memref<2x4xi32, strided<[4, 1]>>, %dst: memref<2x4xi32, strided<[6, 1], offset: 7>>) {
  memref.copy %src, %dst : memref<2x4xi32, strided<[4, 1]>> to memref<2x4xi32, strided<[6, 1], offset: 7>>
  return
}

// One non-contiguous side is enough; dynamic sizes too.
// CHECK-LABEL: func.func @one_side_dynamic
// CHECK:         linalg.copy
// CHECK-NOT:     memref.copy
func.func @one_side_dynamic(%src: memref<?x?xf32>, %dst: memref<?x?xf32, strided<[?, 1], offset: ?>>) {
  memref.copy %src, %dst : memref<?x?xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// Copies that finalize-memref-to-llvm turns into llvm.memcpy stay: identity
// layouts, and static contiguous ones with an offset.
// CHECK-LABEL: func.func @contiguous
// CHECK:         memref.copy
// CHECK:         memref.copy
// CHECK-NOT:     linalg.copy
func.func @contiguous(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<2x8xf32, strided<[8, 1], offset: 16>>, %d: memref<2x8xf32>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32>
  memref.copy %c, %d : memref<2x8xf32, strided<[8, 1], offset: 16>> to memref<2x8xf32>
  return
}
