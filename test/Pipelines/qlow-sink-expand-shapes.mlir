// RUN: qlow-opt %s --split-input-file --qlow-sink-expand-shapes | FileCheck %s

// A flattened matmul's epilogue, expanded to [1, S, N], then a per-column
// bias add: the add runs on [S, N] (the bias through the collapsed map) and
// the expand_shape moves after it.
// CHECK-LABEL: func.func @bias_after_epilogue
// CHECK-SAME: (%[[ACC:.+]]: tensor<4x6xi32>, %[[B:.+]]: tensor<6xi8>)
// CHECK: %[[E:.+]] = linalg.generic
// CHECK-SAME: ins(%[[ACC]] : tensor<4x6xi32>)
// CHECK: %[[A:.+]] = linalg.generic
// CHECK-SAME: indexing_maps = [#[[$ID:.+]], #[[$COL:.+]], #[[$ID]]]
// CHECK-SAME: ins(%[[E]], %[[B]] : tensor<4x6xi8>, tensor<6xi8>)
// CHECK: } -> tensor<4x6xi8>
// CHECK: %[[X:.+]] = tensor.expand_shape %[[A]] {{\[}}[0, 1], [2]] output_shape [1, 4, 6]
// CHECK: return %[[X]]
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#col3 = affine_map<(d0, d1, d2) -> (d2)>
func.func @bias_after_epilogue(%acc: tensor<4x6xi32>, %b: tensor<6xi8>) -> tensor<1x4x6xi8> {
  %e0 = tensor.empty() : tensor<4x6xi8>
  %e = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%acc : tensor<4x6xi32>) outs(%e0 : tensor<4x6xi8>) {
  ^bb0(%a: i32, %o: i8):
    %t = arith.trunci %a : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4x6xi8>
  %x = tensor.expand_shape %e [[0, 1], [2]] output_shape [1, 4, 6] : tensor<4x6xi8> into tensor<1x4x6xi8>
  %e1 = tensor.empty() : tensor<1x4x6xi8>
  %r = linalg.generic {indexing_maps = [#id3, #col3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %b : tensor<1x4x6xi8>, tensor<6xi8>) outs(%e1 : tensor<1x4x6xi8>) {
  ^bb0(%a: i8, %c: i8, %o: i8):
    %s = arith.addi %a, %c : i8
    linalg.yield %s : i8
  } -> tensor<1x4x6xi8>
  return %r : tensor<1x4x6xi8>
}

// -----

// Reshapes of function arguments, of values with other users, and reads by
// reductions stay where they are: only an epilogue's single consumer moves.
// CHECK-LABEL: func.func @not_epilogues
// CHECK-COUNT-3: tensor.expand_shape
// CHECK-NOT: tensor.collapse_shape
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#red3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @not_epilogues(%arg: tensor<4x6xi8>, %acc: tensor<4x6xi32>) -> (tensor<1x4x6xi8>, tensor<1x4x6xi8>, tensor<4x6xi8>, tensor<1x4xi8>) {
  %e1 = tensor.empty() : tensor<1x4x6xi8>
  %xa = tensor.expand_shape %arg [[0, 1], [2]] output_shape [1, 4, 6] : tensor<4x6xi8> into tensor<1x4x6xi8>
  %ra = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xa : tensor<1x4x6xi8>) outs(%e1 : tensor<1x4x6xi8>) {
  ^bb0(%a: i8, %o: i8):
    %s = arith.addi %a, %a : i8
    linalg.yield %s : i8
  } -> tensor<1x4x6xi8>
  %e0 = tensor.empty() : tensor<4x6xi8>
  %e = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%acc : tensor<4x6xi32>) outs(%e0 : tensor<4x6xi8>) {
  ^bb0(%a: i32, %o: i8):
    %t = arith.trunci %a : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4x6xi8>
  %xe = tensor.expand_shape %e [[0, 1], [2]] output_shape [1, 4, 6] : tensor<4x6xi8> into tensor<1x4x6xi8>
  %re = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xe : tensor<1x4x6xi8>) outs(%e1 : tensor<1x4x6xi8>) {
  ^bb0(%a: i8, %o: i8):
    %s = arith.addi %a, %a : i8
    linalg.yield %s : i8
  } -> tensor<1x4x6xi8>
  %f = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%acc : tensor<4x6xi32>) outs(%e0 : tensor<4x6xi8>) {
  ^bb0(%a: i32, %o: i8):
    %t = arith.trunci %a : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4x6xi8>
  %xf = tensor.expand_shape %f [[0, 1], [2]] output_shape [1, 4, 6] : tensor<4x6xi8> into tensor<1x4x6xi8>
  %z = arith.constant dense<0> : tensor<1x4xi8>
  %sum = linalg.generic {indexing_maps = [#id3, #red3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%xf : tensor<1x4x6xi8>) outs(%z : tensor<1x4xi8>) {
  ^bb0(%a: i8, %o: i8):
    %s = arith.addi %a, %o : i8
    linalg.yield %s : i8
  } -> tensor<1x4xi8>
  return %ra, %re, %e, %sum : tensor<1x4x6xi8>, tensor<1x4x6xi8>, tensor<4x6xi8>, tensor<1x4xi8>
}
