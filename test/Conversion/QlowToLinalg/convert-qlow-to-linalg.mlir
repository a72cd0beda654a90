// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file | FileCheck %s
// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file | qlow-opt --split-input-file | FileCheck %s

// Quantized types leave the IR: signatures use the storage integer, u8 as i8
// bits read with extui.
// CHECK-LABEL: func.func @matmul_u8_s8_requant
// CHECK-SAME: (%[[A:.+]]: tensor<3x5xi8>, %[[B:.+]]: tensor<2xi32>) -> tensor<3x2xi8>
// CHECK: %[[ACC:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[A]], %{{.+}} : tensor<3x5xi8>, tensor<5x2xi8>)
// CHECK: arith.extui %{{.+}} : i8 to i32
// CHECK: arith.extsi %{{.+}} : i8 to i32
// CHECK: arith.muli
// CHECK: arith.addi
// The column sums of the constant weights are computed at compile time:
// [1+2+3-5+7, -1+0+4+6-8] = [8, 1].
// CHECK-DAG: %[[COLSUM:.+]] = arith.constant dense<[8, 1]> : tensor<2xi32>
// Per-channel shifts of M = 0.5 * {0.25, 0.125} / 0.7 (same multiplier).
// CHECK-DAG: %[[SHIFTS:.+]] = arith.constant dense<[-2, -3]> : tensor<2xi32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%[[ACC]], %[[B]], %[[COLSUM]], %[[SHIFTS]] :
// Correction: acc - 128 * colsum, then the bias.
// CHECK: %[[ZC:.+]] = arith.muli %{{.+}}, %{{.+}} : i32
// CHECK: %[[CORR:.+]] = arith.subi %{{.+}}, %[[ZC]] : i32
// CHECK: arith.addi %[[CORR]], %{{.+}} : i32
// CHECK: arith.shrsi %{{.+}}, %{{.+}} : i64
// CHECK: arith.shrsi
// CHECK: arith.trunci %{{.+}} : i64 to i8
// CHECK-NOT: qlow.
// CHECK-NOT: quant.
func.func @matmul_u8_s8_requant(%a: tensor<3x5x!quant.uniform<u8:f32, 0.5:128>>, %b: tensor<2xi32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.7:-3>> {
  %w = arith.constant dense<[[1, -1], [2, 0], [3, 4], [-5, 6], [7, -8]]> : tensor<5x2xi8>
  %wq = quant.scast %w : tensor<5x2xi8> to tensor<5x2x!quant.uniform<i8:f32:1, {0.25, 0.125}>>
  %y = qlow.matmul %a, %wq, %b : (tensor<3x5x!quant.uniform<u8:f32, 0.5:128>>, tensor<5x2x!quant.uniform<i8:f32:1, {0.25, 0.125}>>, tensor<2xi32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.7:-3>>
  return %y : tensor<3x2x!quant.uniform<i8:f32, 0.7:-3>>
}

// -----

// Symmetric activations and weights: no correction, and the f32 epilogue is a
// single multiply by f32(s_a * s_w).
// CHECK-LABEL: func.func @matmul_f32_result
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: arith.subi
// CHECK: %[[F:.+]] = arith.sitofp %{{.+}} : i32 to f32
// CHECK: arith.mulf %[[F]], %{{.+}} : f32
func.func @matmul_f32_result(%a: tensor<4x8x!quant.uniform<i8:f32, 0.5>>, %w: tensor<8x3x!quant.uniform<i8:f32, 0.25>>) -> tensor<4x3xf32> {
  %y = qlow.matmul %a, %w : (tensor<4x8x!quant.uniform<i8:f32, 0.5>>, tensor<8x3x!quant.uniform<i8:f32, 0.25>>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Weights known only at run time: their column sums are a reduction over K,
// not folded. Batched operands keep the batch loop.
// CHECK-LABEL: func.func @matmul_batched_runtime_weights
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%{{.+}} : tensor<2x8x3xi8>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]
func.func @matmul_batched_runtime_weights(%a: tensor<2x4x8x!quant.uniform<u8:f32, 0.5:10>>, %w: tensor<2x8x3x!quant.uniform<i8:f32, 0.25>>) -> tensor<2x4x3xi32> {
  %y = qlow.matmul %a, %w : (tensor<2x4x8x!quant.uniform<u8:f32, 0.5:10>>, tensor<2x8x3x!quant.uniform<i8:f32, 0.25>>) -> tensor<2x4x3xi32>
  return %y : tensor<2x4x3xi32>
}

// -----

// quantize with a constant zero point z: x / s, NaN to 0 (in f32, before
// the conversion), clamped to [qmin - z, qmax - z] by compares and selects
// (maxps, minps: no operand is NaN any more), roundeven, to i32, + z as an
// integer.
// CHECK-LABEL: func.func @quantize
// CHECK-SAME: -> tensor<4xi8>
// CHECK: linalg.generic
// CHECK: %[[D:.+]] = arith.divf
// CHECK: %[[NAN:.+]] = arith.cmpf uno, %[[D]], %[[D]] : f32
// CHECK: %[[V:.+]] = arith.select %[[NAN]], %{{.+}}, %[[D]] : f32
// CHECK: %[[GT:.+]] = arith.cmpf ogt, %[[V]], %[[LO:.+]] : f32
// CHECK: %[[MAX:.+]] = arith.select %[[GT]], %[[V]], %[[LO]] : f32
// CHECK: %[[LT:.+]] = arith.cmpf olt, %[[MAX]], %[[HI:.+]] : f32
// CHECK: %[[MIN:.+]] = arith.select %[[LT]], %[[MAX]], %[[HI]] : f32
// CHECK: %[[R:.+]] = math.roundeven %[[MIN]]
// CHECK: arith.fptosi %[[R]] : f32 to i32
// CHECK: arith.addi %{{.+}}, %c128_i32 : i32
// CHECK-NOT: arith.select
// CHECK: arith.trunci %{{.+}} : i32 to i8
func.func @quantize(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<u8:f32, 0.05:128>> {
  %q = qlow.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<u8:f32, 0.05:128>>
  return %q : tensor<4x!quant.uniform<u8:f32, 0.05:128>>
}

// -----

// Per-axis dequantize indexes its scales by the quantized dimension.
// CHECK: #[[AXIS1:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @dequantize_per_axis
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[AXIS1]], #{{.+}}]
// CHECK: arith.extsi %{{.+}} : i8 to i32
// CHECK: arith.sitofp
// CHECK: arith.mulf
func.func @dequantize_per_axis(%q: tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>) -> tensor<2x3xf32> {
  %x = qlow.dequantize %q : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> -> tensor<2x3xf32>
  return %x : tensor<2x3xf32>
}

// -----

// 8- and 16-bit storage: q - z in i32 (the same integer, and the same f32
// after sitofp); 32-bit storage keeps i64, where q - z may not fit in i32.
// CHECK-LABEL: func.func @dequantize_u8_i32_difference
// CHECK: %[[Q:.+]] = arith.extui %{{.+}} : i8 to i32
// CHECK: %[[D:.+]] = arith.subi %[[Q]], %{{.+}} : i32
// CHECK: arith.sitofp %[[D]] : i32 to f32
// CHECK-LABEL: func.func @dequantize_i16_i32_difference
// CHECK: arith.extsi %{{.+}} : i16 to i32
// CHECK: arith.sitofp %{{.+}} : i32 to f32
// CHECK-LABEL: func.func @dequantize_i32_i64_difference
// CHECK: %[[W:.+]] = arith.extsi %{{.+}} : i32 to i64
// CHECK: arith.subi %[[W]], %{{.+}} : i64
// CHECK: arith.sitofp %{{.+}} : i64 to f32
func.func @dequantize_u8_i32_difference(%q: tensor<16x!quant.uniform<u8:f32, 0.05:128>>) -> tensor<16xf32> {
  %x = qlow.dequantize %q : tensor<16x!quant.uniform<u8:f32, 0.05:128>> -> tensor<16xf32>
  return %x : tensor<16xf32>
}
func.func @dequantize_i16_i32_difference(%q: tensor<16x!quant.uniform<i16:f32, 0.05:-32768>>) -> tensor<16xf32> {
  %x = qlow.dequantize %q : tensor<16x!quant.uniform<i16:f32, 0.05:-32768>> -> tensor<16xf32>
  return %x : tensor<16xf32>
}
func.func @dequantize_i32_i64_difference(%q: tensor<16x!quant.uniform<i32:f32, 0.05:7>>) -> tensor<16xf32> {
  %x = qlow.dequantize %q : tensor<16x!quant.uniform<i32:f32, 0.05:7>> -> tensor<16xf32>
  return %x : tensor<16xf32>
}

// -----

// requantize with float rounding multiplies by f32(M), no fixed point.
// CHECK-LABEL: func.func @requantize_float
// CHECK: arith.mulf
// CHECK-NOT: arith.divsi
// CHECK: math.roundeven
func.func @requantize_float(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<u8:f32, 0.2:128>> {
  %r = qlow.requantize %q {rounding = #qlow.rounding<float>} : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<u8:f32, 0.2:128>>
  return %r : tensor<8x!quant.uniform<u8:f32, 0.2:128>>
}

// -----

// f32 matmul with bias: an f32 contraction, then the bias after the k loop.
// CHECK-LABEL: func.func @matmul_float
// CHECK: linalg.generic {{.*}}"reduction"
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.addf
func.func @matmul_float(%a: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %y = qlow.matmul %a, %w, %b : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Dynamic quantization of the activations (asymmetric u8 per row) against i4
// weights in groups of 4 along K: the range reduction, the per-row scale and
// zero point, the quantization, one i32 sum per group, and a reduction over
// the groups in order that applies the zero-point correction with group
// column sums computed at compile time.
// CHECK-LABEL: func.func @dynamic_i4_groups
// CHECK-SAME: (%[[X:.+]]: tensor<3x8xf32>) -> tensor<3x2xf32>
// CHECK: %[[RANGE:.+]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%[[X]] : tensor<3x8xf32>)
// CHECK: arith.minnumf
// CHECK: arith.maxnumf
// CHECK: %[[PARAMS:.+]]:2 = linalg.generic
// CHECK-SAME: ins(%[[RANGE]]#0, %[[RANGE]]#1 : tensor<3xf32>, tensor<3xf32>)
// CHECK: arith.divf %{{.+}}, %{{.+}} : f32
// CHECK: math.roundeven
// CHECK: arith.fptosi %{{.+}} : f32 to i32
// CHECK: %[[Q:.+]] = linalg.generic
// CHECK-SAME: ins(%[[X]], %[[PARAMS]]#0, %[[PARAMS]]#1 : tensor<3x8xf32>, tensor<3xf32>, tensor<3xi32>)
// CHECK: %[[QG:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0], [1, 2]] output_shape [3, 2, 4]
// CHECK: %[[WG:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2]] output_shape [2, 4, 2] : tensor<8x2xi4> into tensor<2x4x2xi4>
// CHECK: %[[ACC:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[QG]], %[[WG]] : tensor<3x2x4xi8>, tensor<2x4x2xi4>)
// CHECK: arith.extui %{{.+}} : i8 to i32
// CHECK: arith.extsi %{{.+}} : i4 to i32
// Group column sums: [1+3-5+7, -2+4+6-8], [1+2+3-4, 1+2+3+4].
// CHECK-DAG: %[[CS:.+]] = arith.constant dense<{{\[}}[6, 0], [2, 10]]> : tensor<2x2xi32>
// CHECK-DAG: %[[SW:.+]] = arith.constant dense<{{\[}}[5.000000e-01, 2.500000e-01], [1.250000e-01, 1.000000e+00]]> : tensor<2x2xf32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[ACC]], %[[PARAMS]]#0, %[[PARAMS]]#1, %[[CS]], %[[SW]] :
// CHECK: %[[ZC:.+]] = arith.muli
// CHECK: %[[V:.+]] = arith.subi %{{.+}}, %[[ZC]] : i32
// CHECK: %[[S:.+]] = arith.mulf
// CHECK: %[[VF:.+]] = arith.sitofp %[[V]] : i32 to f32
// CHECK: %[[T:.+]] = arith.mulf %[[S]], %[[VF]] : f32
// CHECK: arith.addf %{{.+}}, %[[T]] : f32
// CHECK-NOT: qlow.
func.func @dynamic_i4_groups(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1, -2], [3, 4], [-5, 6], [7, -8], [1, 1], [2, 2], [3, 3], [-4, 4]]> : tensor<8x2xi4>
  %wq = quant.scast %w : tensor<8x2xi4> to tensor<8x2x!quant.uniform<i4:f32:{0:4, 1:1}, {{0.5, 0.25}, {0.125, 1.0}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, u8, asymmetric>} : (tensor<3x8xf32>, tensor<8x2x!quant.uniform<i4:f32:{0:4, 1:1}, {{0.5, 0.25}, {0.125, 1.0}}>>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Dynamic symmetric i8 per tensor with per-channel i8 weights and an f32
// bias: one contraction and one epilogue with the run-time scale per row
// (the per-tensor value repeated), f32(acc) * (sa * sw[n]) + bias[n]; no
// zero-point terms. The per-tensor range is the range of each row (an inner
// reduction that qlow-vectorize-elementwise vectorizes), then of the rows'.
// CHECK-LABEL: func.func @dynamic_i8_per_tensor
// CHECK: %[[ROWS:.+]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: outs(%{{.+}}, %{{.+}} : tensor<2xf32>, tensor<2xf32>)
// CHECK: arith.minnumf
// CHECK: arith.maxnumf
// CHECK: %[[RANGE:.+]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["reduction"]
// CHECK-SAME: ins(%[[ROWS]]#0, %[[ROWS]]#1 : tensor<2xf32>, tensor<2xf32>)
// CHECK-SAME: outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK: arith.minnumf
// CHECK: arith.maxnumf
// CHECK: %[[PARAMS:.+]]:2 = linalg.generic
// CHECK-SAME: ins(%[[RANGE]]#0, %[[RANGE]]#1 : tensor<f32>, tensor<f32>)
// CHECK: arith.negf
// CHECK: %[[Q:.+]] = linalg.generic
// CHECK: %[[ACC:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[Q]], %{{.+}} : tensor<2x4xi8>, tensor<4x3xi8>)
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%[[ACC]], %[[PARAMS]]#0, %{{.+}}, %{{.+}} : tensor<2x3xi32>, tensor<2xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK-NOT: arith.subi
// CHECK: %[[S:.+]] = arith.mulf
// CHECK: %[[VF:.+]] = arith.sitofp %{{.+}} : i32 to f32
// CHECK: %[[P:.+]] = arith.mulf %[[VF]], %[[S]] : f32
// CHECK: arith.addf %[[P]], %{{.+}} : f32
func.func @dynamic_i8_per_tensor(%x: tensor<2x4xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[1, 2, 3], [4, 5, 6], [7, 8, 9], [-1, -2, -3]]> : tensor<4x3xi8>
  %wq = quant.scast %w : tensor<4x3xi8> to tensor<4x3x!quant.uniform<i8:f32:1, {0.5, 0.25, 0.125}>>
  %y = qlow.matmul %x, %wq, %b {dynamic = #qlow.dynamic<per_tensor, i8, symmetric>} : (tensor<2x4xf32>, tensor<4x3x!quant.uniform<i8:f32:1, {0.5, 0.25, 0.125}>>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// A rank-3 activation quantized per tensor: its rows' ranges are taken on the
// collapsed [B*M, K] matrix; per row, the range stays one inner reduction.
// CHECK-LABEL: func.func @dynamic_per_tensor_rank3
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>
// CHECK: %[[M:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
// CHECK: %[[ROWS:.+]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%[[M]] : tensor<6x4xf32>)
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["reduction"]
// CHECK-SAME: ins(%[[ROWS]]#0, %[[ROWS]]#1 : tensor<6xf32>, tensor<6xf32>)
// CHECK-LABEL: func.func @dynamic_per_row_rank3
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: outs(%{{.+}}, %{{.+}} : tensor<2x3xf32>, tensor<2x3xf32>)
func.func @dynamic_per_tensor_rank3(%x: tensor<2x3x4xf32>, %w: tensor<2x4x3x!quant.uniform<i8:f32, 0.5>>) -> tensor<2x3x3xf32> {
  %y = qlow.matmul %x, %w {dynamic = #qlow.dynamic<per_tensor, u8, asymmetric>} : (tensor<2x3x4xf32>, tensor<2x4x3x!quant.uniform<i8:f32, 0.5>>) -> tensor<2x3x3xf32>
  return %y : tensor<2x3x3xf32>
}
func.func @dynamic_per_row_rank3(%x: tensor<2x3x4xf32>, %w: tensor<2x4x3x!quant.uniform<i8:f32, 0.5>>) -> tensor<2x3x3xf32> {
  %y = qlow.matmul %x, %w {dynamic = #qlow.dynamic<per_row, u8, asymmetric>} : (tensor<2x3x4xf32>, tensor<2x4x3x!quant.uniform<i8:f32, 0.5>>) -> tensor<2x3x3xf32>
  return %y : tensor<2x3x3xf32>
}

// -----

// Quantized add (TFLite fixed point): numpy broadcasting in the indexing
// maps, zero points subtracted, both inputs shifted left by 20 and scaled to
// a common scale, summed, rescaled, the output zero point added, saturated.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @add_broadcast_fixedpoint
// CHECK-SAME: (%[[A:.+]]: tensor<2x3xi8>, %[[B:.+]]: tensor<3xi8>) -> tensor<2x3xi8>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[A]], %[[B]] : tensor<2x3xi8>, tensor<3xi8>)
// CHECK: arith.extsi %{{.+}} : i8 to i32
// CHECK: arith.extui %{{.+}} : i8 to i32
// CHECK: %[[L:.+]] = arith.constant 20 : i32
// CHECK: arith.shli %{{.+}}, %[[L]] : i32
// CHECK: arith.trunci %{{.+}} : i64 to i8
func.func @add_broadcast_fixedpoint(%a: tensor<2x3x!quant.uniform<i8:f32, 0.1:1>>, %b: tensor<3x!quant.uniform<u8:f32, 0.2:100>>) -> tensor<2x3x!quant.uniform<i8:f32, 0.3:-2>> {
  %y = qlow.add %a, %b : (tensor<2x3x!quant.uniform<i8:f32, 0.1:1>>, tensor<3x!quant.uniform<u8:f32, 0.2:100>>) -> tensor<2x3x!quant.uniform<i8:f32, 0.3:-2>>
  return %y : tensor<2x3x!quant.uniform<i8:f32, 0.3:-2>>
}

// -----

// Quantized mul with float rounding: f32(da * db) * f32(sa * sb / so).
// CHECK-LABEL: func.func @mul_float
// CHECK: arith.muli %{{.+}}, %{{.+}} : i32
// CHECK: arith.sitofp %{{.+}} : i32 to f32
// CHECK: arith.mulf
// CHECK: math.roundeven
func.func @mul_float(%a: tensor<4x!quant.uniform<i8:f32, 0.1:1>>, %b: tensor<4x!quant.uniform<i8:f32, 0.2>>) -> tensor<4x!quant.uniform<i8:f32, 0.3>> {
  %y = qlow.mul %a, %b {rounding = #qlow.rounding<float>} : (tensor<4x!quant.uniform<i8:f32, 0.1:1>>, tensor<4x!quant.uniform<i8:f32, 0.2>>) -> tensor<4x!quant.uniform<i8:f32, 0.3>>
  return %y : tensor<4x!quant.uniform<i8:f32, 0.3>>
}

// -----

// Quantized GELU: a table over the 256 stored inputs, computed at compile
// time by lib/Reference, indexed by the stored value minus the storage
// minimum. The stored inputs -128.. stand for -12.9..: GELU is 0 there, the
// output zero point 10 (0x0A).
// CHECK-LABEL: func.func @gelu_table
// CHECK: %[[T:.+]] = arith.constant dense<"0x0A0A0A{{[0-9A-F]+}}"> : tensor<256xi8>
// CHECK: linalg.generic
// CHECK: %[[V:.+]] = arith.extsi %{{.+}} : i8 to i32
// CHECK: %[[OFF:.+]] = arith.constant -128 : i32
// CHECK: %[[I:.+]] = arith.subi %[[V]], %[[OFF]] : i32
// CHECK: %[[IDX:.+]] = arith.index_cast %[[I]] : i32 to index
// CHECK: tensor.extract %[[T]][%[[IDX]]] : tensor<256xi8>
func.func @gelu_table(%a: tensor<4x!quant.uniform<i8:f32, 0.1:1>>) -> tensor<4x!quant.uniform<u8:f32, 0.05:10>> {
  %y = qlow.gelu %a : tensor<4x!quant.uniform<i8:f32, 0.1:1>> -> tensor<4x!quant.uniform<u8:f32, 0.05:10>>
  return %y : tensor<4x!quant.uniform<u8:f32, 0.05:10>>
}

// -----

// Activations [1, 6, 8] with weights shared by the batch: one 2-D matmul over
// the 6 rows between reshapes of the storage tensors (the form the target
// kernels recognise).
// CHECK-LABEL: func.func @shared_weights_flattened
// CHECK-SAME: (%[[A:.+]]: tensor<1x6x8xi8>
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1], [2]] : tensor<1x6x8xi8> into tensor<6x8xi8>
// CHECK: %[[ACC:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}, #{{.+}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[FLAT]], %{{.+}} : tensor<6x8xi8>, tensor<8x4xi8>)
// CHECK: %[[EPI:.+]] = linalg.generic {{.+}} ins(%[[ACC]]
// CHECK-SAME: outs(%{{.+}} : tensor<6x4xi8>)
// CHECK: tensor.expand_shape %[[EPI]] {{\[\[}}0, 1], [2]] output_shape [1, 6, 4] : tensor<6x4xi8> into tensor<1x6x4xi8>
func.func @shared_weights_flattened(%a: tensor<1x6x8x!quant.uniform<u8:f32, 0.05:120>>) -> tensor<1x6x4x!quant.uniform<i8:f32, 0.1:1>> {
  %wi = arith.constant dense<3> : tensor<8x4xi8>
  %w = quant.scast %wi : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %w : (tensor<1x6x8x!quant.uniform<u8:f32, 0.05:120>>, tensor<8x4x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x4x!quant.uniform<i8:f32, 0.1:1>>
  return %y : tensor<1x6x4x!quant.uniform<i8:f32, 0.1:1>>
}

// -----

// Activations quantized per row (static, axis M: one scale per row, the same
// in every batch) keep their batch loop.
// CHECK-LABEL: func.func @per_row_keeps_batch
// CHECK-NOT: tensor.collapse_shape
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
func.func @per_row_keeps_batch(%a: tensor<2x3x8x!quant.uniform<u8:f32:1, {0.05:120, 0.06:121, 0.07:122}>>) -> tensor<2x3x4xi32> {
  %wi = arith.constant dense<3> : tensor<8x4xi8>
  %w = quant.scast %wi : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %w : (tensor<2x3x8x!quant.uniform<u8:f32:1, {0.05:120, 0.06:121, 0.07:122}>>, tensor<8x4x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x3x4xi32>
  return %y : tensor<2x3x4xi32>
}

// -----

// A product of two activations (Q * K^T): the u8 rhs flips its sign bit to
// s8 (stored values and zero point 132 - 128 = 4), the s8 lhs to u8 (zero
// point -3 + 128 = 125), so that the contraction reads u8 x s8 as vpdpbusd
// does; the zero-point corrections use the shifted zero points.
// CHECK-LABEL: func.func @activation_product
// CHECK-SAME: (%[[A:.+]]: tensor<2x5x8xi8>, %[[B:.+]]: tensor<2x8x3xi8>)
// CHECK: %[[A2:.+]] = linalg.generic {{.+}} ins(%[[A]] : tensor<2x5x8xi8>)
// CHECK: arith.constant -128 : i8
// CHECK: arith.xori
// CHECK: %[[B2:.+]] = linalg.generic {{.+}} ins(%[[B]] : tensor<2x8x3xi8>)
// CHECK: arith.xori
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[A2]], %[[B2]] : tensor<2x5x8xi8>, tensor<2x8x3xi8>)
// CHECK: arith.extui %{{.+}} : i8 to i32
// CHECK: arith.extsi %{{.+}} : i8 to i32
// CHECK: arith.constant 125 : i32
// CHECK: arith.constant 4 : i32
func.func @activation_product(%a: tensor<2x5x8x!quant.uniform<i8:f32, 0.05:-3>>, %b: tensor<2x8x3x!quant.uniform<u8:f32, 0.04:132>>) -> tensor<2x5x3xi32> {
  %y = qlow.matmul %a, %b : (tensor<2x5x8x!quant.uniform<i8:f32, 0.05:-3>>, tensor<2x8x3x!quant.uniform<u8:f32, 0.04:132>>) -> tensor<2x5x3xi32>
  return %y : tensor<2x5x3xi32>
}

// -----

// Split heads of a quantized tensor (qlow-fold-qdq's pattern 8): the
// expand_shape, the empty init and the transpose move the storage bytes,
// and nothing is dequantized.
// CHECK-LABEL: func.func @quantized_heads_transpose(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<4x6xi8>) -> tensor<3x4x2xi8>
// CHECK-NOT:     arith.sitofp
// CHECK-NOT:     arith.uitofp
// CHECK:         %[[E:.+]] = tensor.expand_shape %[[Q]] {{\[\[}}0], [1, 2]] output_shape [4, 3, 2] : tensor<4x6xi8> into tensor<4x3x2xi8>
// CHECK:         %[[I:.+]] = tensor.empty() : tensor<3x4x2xi8>
// CHECK:         %[[T:.+]] = linalg.transpose ins(%[[E]] : tensor<4x3x2xi8>) outs(%[[I]] : tensor<3x4x2xi8>) permutation = [1, 0, 2]
// CHECK-NEXT:    return %[[T]]
func.func @quantized_heads_transpose(%q: tensor<4x6x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<3x4x2x!quant.uniform<u8:f32, 0.02:128>> {
  %e = tensor.expand_shape %q [[0], [1, 2]] output_shape [4, 3, 2] : tensor<4x6x!quant.uniform<u8:f32, 0.02:128>> into tensor<4x3x2x!quant.uniform<u8:f32, 0.02:128>>
  %init = tensor.empty() : tensor<3x4x2x!quant.uniform<u8:f32, 0.02:128>>
  %t = linalg.transpose ins(%e : tensor<4x3x2x!quant.uniform<u8:f32, 0.02:128>>) outs(%init : tensor<3x4x2x!quant.uniform<u8:f32, 0.02:128>>) permutation = [1, 0, 2]
  return %t : tensor<3x4x2x!quant.uniform<u8:f32, 0.02:128>>
}
