// RUN: qlow-opt %s --qlow-strip-observers -split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-strip-observers --qlow-insert-observers --qlow-strip-observers -split-input-file | FileCheck %s
//
// qlow-strip-observers replaces every qlow.observe by its input, whoever put
// it there (qlow-insert-observers or a hand-written probe); the second RUN
// line checks that inserting and stripping again gives the same graph.

// CHECK-LABEL: func.func @probes(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4xf32>)
// CHECK-NEXT:    %[[G:.+]] = qlow.gelu %[[X]]
// CHECK-NEXT:    %[[S:.+]] = qlow.add %[[G]], %[[X]]
// CHECK-NEXT:    return %[[S]], %[[G]]
func.func @probes(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = qlow.observe %x {name = "probes.arg0"} : tensor<4xf32>
  %g = qlow.gelu %0 : tensor<4xf32> -> tensor<4xf32>
  %1 = qlow.observe %g {name = "probes.gelu_0"} : tensor<4xf32>
  // A second probe on the same value, under another name.
  %2 = qlow.observe %1 {name = "hand.placed"} : tensor<4xf32>
  %s = qlow.add %2, %0 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = qlow.observe %s {name = "probes.add_0"} : tensor<4xf32>
  return %3, %2 : tensor<4xf32>, tensor<4xf32>
}

// -----

// An unused probe goes too (canonicalize keeps it: it records).
// CHECK-LABEL: func.func @unused(
// CHECK-NEXT:    return
func.func @unused(%x: tensor<4xf32>) {
  %0 = qlow.observe %x {name = "unused"} : tensor<4xf32>
  return
}
