// RUN: qlow-opt %s --qlow-insert-observers -split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-insert-observers --qlow-insert-observers -split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-insert-observers -split-input-file | qlow-opt -split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-insert-observers=targets=all -split-input-file | FileCheck %s --check-prefix=ALL
// RUN: qlow-opt %s --qlow-insert-observers="ops=qlow.gelu,qlow.embedding" -split-input-file | FileCheck %s --check-prefix=OPS
// RUN: qlow-opt %s --qlow-insert-observers --qlow-strip-observers -split-input-file | FileCheck %s --check-prefix=STRIP
//
// qlow-insert-observers (Passes.td): one named qlow.observe per f32 value
// that calibration measures, right after its definition. The second RUN line
// checks that a second run adds nothing, the third that the output parses
// back; ALL is targets=all, OPS an explicit op list; STRIP that
// qlow-strip-observers gives the graph back. Bad options are in
// qlow-insert-observers-errors.mlir.

// An MLP: the argument, the matmul result (its constant weight and bias are
// not observed), gelu's result and the residual add, named by its location.
// CHECK-LABEL: func.func @mlp(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x8xf32>, %[[R:[^:]+]]: tensor<4x2xf32>)
// CHECK-NEXT:    %[[OX:.+]] = qlow.observe %[[X]] {name = "mlp.arg0"} : tensor<4x8xf32>
// CHECK-NEXT:    %[[OR:.+]] = qlow.observe %[[R]] {name = "mlp.arg1"} : tensor<4x2xf32>
// CHECK-NOT:     qlow.observe
// CHECK:         %[[Y:.+]] = qlow.matmul %[[OX]], %{{.+}}, %{{.+}} :
// CHECK-NEXT:    %[[OY:.+]] = qlow.observe %[[Y]] {name = "mlp.matmul_0"} : tensor<4x2xf32>
// CHECK-NEXT:    %[[G:.+]] = qlow.gelu %[[OY]]
// CHECK-NEXT:    %[[OG:.+]] = qlow.observe %[[G]] {name = "mlp.gelu_0"} : tensor<4x2xf32>
// CHECK-NEXT:    %[[S:.+]] = qlow.add %[[OG]], %[[OR]]
// CHECK-NEXT:    %[[OS:.+]] = qlow.observe %[[S]] {name = "block0.residual"} : tensor<4x2xf32>
// CHECK-NEXT:    return %[[OS]]
// ALL-LABEL: func.func @mlp(
// ALL-COUNT-5: qlow.observe
// ALL-NOT:     qlow.observe
// OPS-LABEL: func.func @mlp(
// OPS-NOT:     qlow.observe {{.*}}arg0
// OPS:         qlow.observe %{{.+}} {name = "mlp.matmul_0"}
// OPS-NEXT:    qlow.gelu
// OPS-NEXT:    qlow.observe %{{.+}} {name = "mlp.gelu_0"}
// OPS-NOT:     qlow.observe
// STRIP-LABEL: func.func @mlp(
// STRIP-NOT:   qlow.observe
func.func @mlp(%x: tensor<4x8xf32>, %r: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<0.5> : tensor<8x2xf32>
  %b = arith.constant dense<0.1> : tensor<2xf32>
  %y = qlow.matmul %x, %w, %b : (tensor<4x8xf32>, tensor<8x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %g = qlow.gelu %y : tensor<4x2xf32> -> tensor<4x2xf32>
  %s = qlow.add %g, %r : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32> loc("block0.residual")
  return %s : tensor<4x2xf32>
}

// -----

// Weights computed from constants only (dequantized, reshaped) are never
// observed; a weight passed as an argument is (it is not a constant). A value
// used by two ops gets one probe. Quantized values are not f32: the integer
// matmul contributes only its f32 result.
// CHECK-LABEL: func.func @weights(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x4xf32>, %[[W:[^:]+]]: tensor<4x4xf32>, %[[Q:[^:]+]]: tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK-NEXT:    %[[OX:.+]] = qlow.observe %[[X]] {name = "weights.arg0"}
// CHECK-NEXT:    %[[OW:.+]] = qlow.observe %[[W]] {name = "weights.arg1"}
// CHECK-NOT:     qlow.observe
// CHECK:         %[[A:.+]] = qlow.matmul %[[OX]], %{{.+}} :
// CHECK-NEXT:    %[[OA:.+]] = qlow.observe %[[A]] {name = "weights.matmul_0"}
// CHECK-NEXT:    %[[B:.+]] = qlow.matmul %[[OA]], %[[OW]] :
// CHECK-NEXT:    %[[OB:.+]] = qlow.observe %[[B]] {name = "weights.matmul_1"}
// CHECK:         %[[C:.+]] = qlow.matmul %[[Q]], %{{.+}} :
// CHECK-NEXT:    %[[OC:.+]] = qlow.observe %[[C]] {name = "weights.matmul_2"}
// CHECK-NEXT:    %[[D:.+]] = qlow.mul %[[OA]], %[[OA]]
// CHECK-NEXT:    %[[OD:.+]] = qlow.observe %[[D]] {name = "weights.mul_0"}
// CHECK-NEXT:    %[[S:.+]] = qlow.add %[[OC]], %[[OD]]
// CHECK-NEXT:    %[[OS:.+]] = qlow.observe %[[S]] {name = "weights.add_0"}
// CHECK-NEXT:    return %[[OB]], %[[OS]], %[[OS]]
// ALL-LABEL: func.func @weights(
// ALL-COUNT-7: qlow.observe
// ALL-NOT:     qlow.observe
func.func @weights(%x: tensor<2x4xf32>, %w: tensor<4x4xf32>, %q: tensor<2x4x!quant.uniform<i8:f32, 0.1>>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %c = arith.constant dense<3> : tensor<16xi8>
  %cs = quant.scast %c : tensor<16xi8> to tensor<16x!quant.uniform<i8:f32, 0.5>>
  %flat = qlow.dequantize %cs : tensor<16x!quant.uniform<i8:f32, 0.5>> -> tensor<16xf32>
  %wc = tensor.expand_shape %flat [[0, 1]] output_shape [4, 4] : tensor<16xf32> into tensor<4x4xf32>
  %a = qlow.matmul %x, %wc : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %b = qlow.matmul %a, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %wq = quant.scast %c : tensor<16xi8> to tensor<16x!quant.uniform<i8:f32, 0.5>>
  %c2 = arith.constant dense<1> : tensor<4x4xi8>
  %wq2 = quant.scast %c2 : tensor<4x4xi8> to tensor<4x4x!quant.uniform<i8:f32, 0.5>>
  %i = qlow.matmul %q, %wq2 : (tensor<2x4x!quant.uniform<i8:f32, 0.1>>, tensor<4x4x!quant.uniform<i8:f32, 0.5>>) -> tensor<2x4xf32>
  %d = qlow.mul %a, %a : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %s = qlow.add %i, %d : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %b, %s, %s : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Parameters are not observed: the mask of attention, gamma and beta of
// layer_norm, gamma of rms_norm. q, k, v and the inputs of the norms are.
// Without location names, each op kind counts on its own.
// CHECK-LABEL: func.func @params(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x2x4x8xf32>, %[[K:[^:]+]]: tensor<1x2x4x8xf32>, %[[V:[^:]+]]: tensor<1x2x4x8xf32>, %[[M:[^:]+]]: tensor<1x1x4x4xf32>, %[[G:[^:]+]]: tensor<8xf32>)
// CHECK-NEXT:    %[[OQ:.+]] = qlow.observe %[[Q]] {name = "params.arg0"}
// CHECK-NEXT:    %[[OK:.+]] = qlow.observe %[[K]] {name = "params.arg1"}
// CHECK-NEXT:    %[[OV:.+]] = qlow.observe %[[V]] {name = "params.arg2"}
// CHECK-NEXT:    %[[A:.+]] = qlow.attention %[[OQ]], %[[OK]], %[[OV]], %[[M]] :
// CHECK-NEXT:    %[[OA:.+]] = qlow.observe %[[A]] {name = "params.attention_0"}
// CHECK-NEXT:    %[[L:.+]] = qlow.layer_norm %[[OA]], %[[G]], %[[G]] :
// CHECK-NEXT:    %[[OL:.+]] = qlow.observe %[[L]] {name = "params.layer_norm_0"}
// CHECK-NEXT:    %[[N:.+]] = qlow.rms_norm %[[OL]], %[[G]] :
// CHECK-NEXT:    %[[ON:.+]] = qlow.observe %[[N]] {name = "params.rms_norm_0"}
// CHECK-NEXT:    %[[S:.+]] = qlow.softmax %[[ON]]
// CHECK-NEXT:    %[[OS:.+]] = qlow.observe %[[S]] {name = "params.softmax_0"}
// CHECK-NEXT:    %[[T:.+]] = qlow.silu %[[OS]]
// CHECK-NEXT:    %[[OT:.+]] = qlow.observe %[[T]] {name = "params.silu_0"}
// CHECK-NEXT:    return %[[OT]]
// With targets=all the mask and gamma are arguments, so they are observed.
// ALL-LABEL: func.func @params(
// ALL:         qlow.observe %{{.+}} {name = "params.arg3"}
// ALL-NEXT:    qlow.observe %{{.+}} {name = "params.arg4"}
func.func @params(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %mask: tensor<1x1x4x4xf32>, %g: tensor<8xf32>) -> tensor<1x2x4x8xf32> {
  %a = qlow.attention %q, %k, %v, %mask : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x4x4xf32>) -> tensor<1x2x4x8xf32>
  %l = qlow.layer_norm %a, %g, %g : (tensor<1x2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x2x4x8xf32>
  %n = qlow.rms_norm %l, %g : (tensor<1x2x4x8xf32>, tensor<8xf32>) -> tensor<1x2x4x8xf32>
  %s = qlow.softmax %n : tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %t = qlow.silu %s : tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %t : tensor<1x2x4x8xf32>
}

// -----

// targets=all observes reshapes too (named after the dialect and op); the
// default observes only the selected ops' operands and results, so the
// collapse_shape result is observed as the matmul's operand, under the name
// of its definition. Embedding is not in the default set.
// CHECK-LABEL: func.func @reshape(
// CHECK-NOT:     qlow.observe {{.*}}arg0
// CHECK:         %[[C:.+]] = tensor.collapse_shape
// CHECK-NEXT:    %[[OC:.+]] = qlow.observe %[[C]] {name = "reshape.tensor_collapse_shape_0"}
// CHECK:         %[[M:.+]] = qlow.matmul %[[OC]]
// CHECK-NEXT:    qlow.observe %[[M]] {name = "reshape.matmul_0"}
// CHECK-NOT:     qlow.observe
// ALL-LABEL: func.func @reshape(
// ALL:         qlow.observe %{{.+}} {name = "reshape.embedding_0"}
// ALL:         qlow.observe %{{.+}} {name = "reshape.tensor_collapse_shape_0"}
// ALL:         qlow.observe %{{.+}} {name = "reshape.matmul_0"}
// OPS-LABEL: func.func @reshape(
// OPS:         qlow.observe %{{.+}} {name = "reshape.embedding_0"}
// OPS-NOT:     qlow.observe
func.func @reshape(%ids: tensor<2x3xi32>) -> tensor<6x4xf32> {
  %table = arith.constant dense<0.25> : tensor<10x4xf32>
  %e = qlow.embedding %table, %ids : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  %c = tensor.collapse_shape %e [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  %m = qlow.matmul %c, %w : (tensor<6x4xf32>, tensor<4x4xf32>) -> tensor<6x4xf32>
  return %m : tensor<6x4xf32>
}

// -----

// Location names: of ops, also inside a fused location, and of arguments; a
// repeated name and a name already used by a probe in the graph get the
// first free `_<n>` suffix. The existing probe keeps its name and its value
// (%y) gets no second probe.
// CHECK-LABEL: func.func @names(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4xf32>, %[[Y:[^:]+]]: tensor<4xf32>)
// CHECK-NEXT:    %[[OX:.+]] = qlow.observe %[[X]] {name = "input_ids"}
// CHECK-NEXT:    %[[P:.+]] = qlow.observe %[[Y]] {name = "layer.0"}
// CHECK-NEXT:    %[[A:.+]] = qlow.add %[[OX]], %[[P]]
// CHECK-NEXT:    %[[OA:.+]] = qlow.observe %[[A]] {name = "layer.0_1"}
// CHECK-NEXT:    %[[B:.+]] = qlow.silu %[[OA]]
// CHECK-NEXT:    %[[OB:.+]] = qlow.observe %[[B]] {name = "layer.0_2"}
// CHECK-NEXT:    %[[C:.+]] = qlow.gelu %[[OB]]
// CHECK-NEXT:    qlow.observe %[[C]] {name = "names.gelu_0"}
// CHECK-NOT:     qlow.observe
// Names do not depend on what else is observed: with ops=qlow.gelu the silu
// result is still layer.0_2.
// OPS-LABEL: func.func @names(
// OPS:         qlow.observe %{{.+}} {name = "layer.0"}
// OPS:         qlow.silu
// OPS-NEXT:    qlow.observe %{{.+}} {name = "layer.0_2"}
// OPS-NEXT:    qlow.gelu
// OPS-NEXT:    qlow.observe %{{.+}} {name = "names.gelu_0"}
// OPS-NOT:     qlow.observe
func.func @names(%x: tensor<4xf32> loc("input_ids"), %y: tensor<4xf32>) -> tensor<4xf32> {
  %p = qlow.observe %y {name = "layer.0"} : tensor<4xf32>
  %a = qlow.add %x, %p : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> loc("layer.0")
  %b = qlow.silu %a : tensor<4xf32> -> tensor<4xf32> loc(fused["layer.0", "model.py":3:7])
  %c = qlow.gelu %b : tensor<4xf32> -> tensor<4xf32>
  return %c : tensor<4xf32>
}

// -----

// Nothing to observe: integer and quantized values only, or a function
// without a body.
// CHECK-LABEL: func.func @integers(
// CHECK-NOT:     qlow.observe
// CHECK-LABEL: func.func private @external(
func.func @integers(%a: tensor<4xi32>, %q: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %r = qlow.add %q, %q {rounding = #qlow.rounding<float>} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.1>>
}
func.func private @external(%x: tensor<4xf32>) -> tensor<4xf32>
