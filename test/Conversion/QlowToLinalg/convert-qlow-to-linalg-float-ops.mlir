// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file | FileCheck %s
// RUN: qlow-opt %s --convert-qlow-to-linalg --split-input-file | qlow-opt --split-input-file | FileCheck %s

// The float forms of the float-semantics ops (FloatOpsToLinalg.cpp).

// gelu, erf form: x Phi(x), Phi(x) = 0.5 erfc(-x / sqrt 2) from qlow's erfc
// polynomial with a^2 = x^2 / 2 split exactly (hi + lo), one elementwise
// generic: |x| clamped to 10 sqrt 2 keeping NaN, t = 1 / (1 + |x| / (2
// sqrt 2)), Q(t) = 1 + (t - 1) R(t) with R by Estrin's scheme, exp(-hi)
// inline (2^n e^r) times (1 - lo), and h or 1 - h by sign.
// CHECK-LABEL: func.func @gelu_erf
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK: ^bb0(%[[X:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[ABS:.+]] = math.absf %[[X]] : f32
// CHECK: %[[LIMIT:.+]] = arith.constant 14.1421356 : f32
// CHECK: %[[LT:.+]] = arith.cmpf ult, %[[ABS]], %[[LIMIT]] : f32
// CHECK: %[[A:.+]] = arith.select %[[LT]], %[[ABS]], %[[LIMIT]] : f32
// CHECK: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[P:.+]] = arith.constant 0.353553385 : f32
// CHECK: %[[D:.+]] = math.fma %[[A]], %[[P]], %[[ONE]] : f32
// CHECK: %[[T:.+]] = arith.divf %[[ONE]], %[[D]] : f32
// CHECK: %[[SQ:.+]] = arith.mulf %[[A]], %[[A]] : f32
// CHECK: %[[NEGSQ:.+]] = arith.negf %[[SQ]] : f32
// CHECK: %[[SQLO:.+]] = math.fma %[[A]], %[[A]], %[[NEGSQ]] : f32
// CHECK: %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[HI:.+]] = arith.mulf %[[SQ]], %[[HALF]] : f32
// CHECK: %[[LO:.+]] = arith.mulf %[[SQLO]], %[[HALF]] : f32
// CHECK: %[[T2:.+]] = arith.mulf %[[T]], %[[T]] : f32
// CHECK: %[[T4:.+]] = arith.mulf %[[T2]], %[[T2]] : f32
// CHECK-COUNT-2: math.fma %{{.+}}, %[[T]], %{{.+}} : f32
// CHECK: %[[R0123:.+]] = math.fma %{{.+}}, %[[T2]], %{{.+}} : f32
// CHECK-COUNT-2: math.fma %{{.+}}, %[[T]], %{{.+}} : f32
// CHECK: %[[R4567:.+]] = math.fma %{{.+}}, %[[T2]], %{{.+}} : f32
// CHECK: %[[R:.+]] = math.fma %[[R4567]], %[[T4]], %[[R0123]] : f32
// CHECK: %[[TM1:.+]] = arith.subf %[[T]], %[[ONE1:.+]] : f32
// CHECK: %[[Q:.+]] = math.fma %[[TM1]], %[[R]], %[[ONE1]] : f32
// CHECK: %[[NEGHI:.+]] = arith.negf %[[HI]] : f32
// CHECK: %[[XL:.+]] = arith.mulf %[[NEGHI]], %{{.+}} : f32
// CHECK: %[[N:.+]] = math.roundeven %[[XL]] : f32
// CHECK: math.fma %[[N]], %{{.+}}, %[[NEGHI]] : f32
// n clamped to -127 by a compare and select (one maxps).
// CHECK: %[[GT:.+]] = arith.cmpf ogt, %[[N]], %[[LOW:.+]] : f32
// CHECK: %[[CLAMPED:.+]] = arith.select %[[GT]], %[[N]], %[[LOW]] : f32
// CHECK: arith.fptosi %[[CLAMPED]] : f32 to i32
// CHECK: %[[BITS:.+]] = arith.shli %{{.+}}, %{{.+}} : i32
// CHECK: %[[SCALE:.+]] = arith.bitcast %[[BITS]] : i32 to f32
// CHECK: %[[E:.+]] = arith.mulf %{{.+}}, %[[SCALE]] : f32
// CHECK: %[[TQ:.+]] = arith.mulf %[[T]], %[[Q]] : f32
// CHECK: %[[M:.+]] = arith.mulf %[[TQ]], %[[E]] : f32
// CHECK: %[[NEGLO:.+]] = arith.negf %[[LO]] : f32
// CHECK: %[[ERFC:.+]] = math.fma %[[NEGLO]], %[[M]], %[[M]] : f32
// CHECK: %[[H:.+]] = arith.mulf %[[ERFC]], %[[HALF]] : f32
// CHECK: %[[NEG:.+]] = arith.cmpf olt, %[[X]], %{{.+}} : f32
// CHECK: %[[UPPER:.+]] = arith.subf %[[ONE]], %[[H]] : f32
// CHECK: %[[PHI:.+]] = arith.select %[[NEG]], %[[H]], %[[UPPER]] : f32
// CHECK: %[[Y:.+]] = arith.mulf %[[X]], %[[PHI]] : f32
// CHECK: linalg.yield %[[Y]] : f32
// CHECK-NOT: math.erfc
// CHECK-NOT: linalg.generic
func.func @gelu_erf(%x: tensor<3x37xf32>) -> tensor<3x37xf32> {
  %y = qlow.gelu %x : tensor<3x37xf32> -> tensor<3x37xf32>
  return %y : tensor<3x37xf32>
}

// -----

// gelu, tanh form: x * sigmoid(2u), from exp(-|2u|) (never overflows).
// CHECK-LABEL: func.func @gelu_tanh
// CHECK: linalg.generic
// CHECK: %[[ABS:.+]] = math.absf %[[T:.+]] : f32
// CHECK: %[[NEG:.+]] = arith.negf %[[ABS]] : f32
// CHECK: %[[E:.+]] = math.exp %[[NEG]] : f32
// CHECK: %[[POS:.+]] = arith.cmpf oge, %[[T]], %{{.+}} : f32
// CHECK: %[[NUM:.+]] = arith.select %[[POS]], %{{.+}}, %[[E]] : f32
// CHECK: %[[DEN:.+]] = arith.addf %{{.+}}, %[[E]] : f32
// CHECK: %[[SIG:.+]] = arith.divf %[[NUM]], %[[DEN]] : f32
// CHECK: arith.mulf %{{.+}}, %[[SIG]] : f32
// CHECK-NOT: math.tanh
func.func @gelu_tanh(%x: tensor<16xf32>) -> tensor<16xf32> {
  %y = qlow.gelu %x {approximate = #qlow.gelu_approximation<tanh>} : tensor<16xf32> -> tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

// A per-axis quantized input is dequantized with its scales as a constant
// tensor read along the axis; then silu in f32.
// CHECK-LABEL: func.func @silu_per_axis
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xi8>) -> tensor<2x3xf32>
// CHECK: %[[SCALES:.+]] = arith.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01]> : tensor<3xf32>
// CHECK: %[[DQ:.+]] = linalg.generic
// CHECK-SAME: ins(%[[X]], %[[SCALES]] : tensor<2x3xi8>, tensor<3xf32>)
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[DQ]] : tensor<2x3xf32>)
// CHECK: math.exp
func.func @silu_per_axis(%x: tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>) -> tensor<2x3xf32> {
  %y = qlow.silu %x : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// 8-bit per-tensor quantized gelu keeps the exact table of the reference's
// values (ElementwiseToLinalg.cpp), not the float form.
// CHECK-LABEL: func.func @gelu_table_preferred
// CHECK: tensor.extract
// CHECK-NOT: math.erfc
func.func @gelu_table_preferred(%x: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.05>> {
  %y = qlow.gelu %x : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<8x!quant.uniform<i8:f32, 0.05>>
}

// -----

// softmax along axis 0: the maximum (maximumf propagates NaN), exp(x - max)
// in f32, the sum in f64, and the division written into exp's tensor; then
// the quantized result as qlow.quantize computes it.
// CHECK-LABEL: func.func @softmax_axis0_quantized
// CHECK-SAME: (%[[X:.+]]: tensor<3x5xf32>) -> tensor<3x5xi8>
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<5xf32>)
// CHECK: %[[MAX:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "parallel"]
// CHECK-SAME: ins(%[[X]] : tensor<3x5xf32>) outs(%[[INIT]] : tensor<5xf32>)
// CHECK: arith.maximumf
// CHECK: %[[E:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%[[X]], %[[MAX]] : tensor<3x5xf32>, tensor<5xf32>)
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "parallel"]
// CHECK-SAME: ins(%[[E]] : tensor<3x5xf32>) outs(%{{.+}} : tensor<5xf64>)
// CHECK: arith.extf %{{.+}} : f32 to f64
// CHECK: arith.addf %{{.+}}, %{{.+}} : f64
// CHECK: %[[P:.+]] = linalg.generic
// CHECK-SAME: ins(%[[SUM]] : tensor<5xf64>) outs(%[[E]] : tensor<3x5xf32>)
// CHECK: %[[S32:.+]] = arith.truncf %{{.+}} : f64 to f32
// CHECK: arith.divf %{{.+}}, %[[S32]] : f32
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[P]] : tensor<3x5xf32>) outs(%{{.+}} : tensor<3x5xi8>)
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.trunci %{{.+}} : i32 to i8
func.func @softmax_axis0_quantized(%x: tensor<3x5xf32>) -> tensor<3x5x!quant.uniform<u8:f32, 0.00390625>> {
  %y = qlow.softmax %x {axis = 0 : i64} : tensor<3x5xf32> -> tensor<3x5x!quant.uniform<u8:f32, 0.00390625>>
  return %y : tensor<3x5x!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// A negative axis counts from the end: -1 reduces the last loop. Along the
// last axis of a rank > 2 tensor, the softmax is computed on the
// [rows, last] matrix (qlow-vectorize-elementwise vectorizes and row-fuses
// 2-D row ops) and the result expanded back.
// CHECK-LABEL: func.func @softmax_last
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x7xf32>)
// CHECK: %[[M:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x4x7xf32> into tensor<8x7xf32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%[[M]] : tensor<8x7xf32>)
// CHECK: arith.maximumf
// CHECK-NOT: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: %[[Y:.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2]] output_shape [2, 4, 7] : tensor<8x7xf32> into tensor<2x4x7xf32>
// CHECK: return %[[Y]]
func.func @softmax_last(%x: tensor<2x4x7xf32>) -> tensor<2x4x7xf32> {
  %y = qlow.softmax %x : tensor<2x4x7xf32> -> tensor<2x4x7xf32>
  return %y : tensor<2x4x7xf32>
}

// -----

// A quantized [1, H, S, S] softmax (ONNX attention scores, per tensor): the
// u8 storage is collapsed, dequantized, normalized and quantized as a
// [H*S, S] matrix, and the u8 result expanded.
// CHECK-LABEL: func.func @softmax_last_quantized
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x3x16xi8>)
// CHECK: %[[M:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1, 2], [3]] : tensor<1x2x3x16xi8> into tensor<6x16xi8>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[M]]
// CHECK-SAME: outs(%{{.+}} : tensor<6x16xf32>)
// The u8 is dequantized through i32 (storageMinusZeroPointF32), not i64.
// CHECK: %[[Q:.+]] = arith.extui %{{.+}} : i8 to i32
// CHECK: %[[D:.+]] = arith.subi %[[Q]], %{{.+}} : i32
// CHECK: arith.sitofp %[[D]] : i32 to f32
// CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0, 1, 2], [3]] output_shape [1, 2, 3, 16] : tensor<6x16xi8> into tensor<1x2x3x16xi8>
func.func @softmax_last_quantized(%x: tensor<1x2x3x16x!quant.uniform<u8:f32, 0.04:133>>) -> tensor<1x2x3x16x!quant.uniform<u8:f32, 0.00390625>> {
  %y = qlow.softmax %x {axis = 3 : i64} : tensor<1x2x3x16x!quant.uniform<u8:f32, 0.04:133>> -> tensor<1x2x3x16x!quant.uniform<u8:f32, 0.00390625>>
  return %y : tensor<1x2x3x16x!quant.uniform<u8:f32, 0.00390625>>
}

// -----

// Not collapsed: a softmax along an inner axis, and one whose input is
// quantized per axis (its parameters follow a dimension of the shape).
// CHECK-LABEL: func.func @softmax_not_collapsed
// CHECK-NOT: tensor.collapse_shape
// CHECK: iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-NOT: tensor.collapse_shape
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-NOT: tensor.collapse_shape
// CHECK: return
func.func @softmax_not_collapsed(%x: tensor<2x4x7xf32>, %q: tensor<2x4x7x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3, 0.4}>>) -> (tensor<2x4x7xf32>, tensor<2x4x7xf32>) {
  %y = qlow.softmax %x {axis = 1 : i64} : tensor<2x4x7xf32> -> tensor<2x4x7xf32>
  %z = qlow.softmax %q {axis = 2 : i64} : tensor<2x4x7x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3, 0.4}>> -> tensor<2x4x7xf32>
  return %y, %z : tensor<2x4x7xf32>, tensor<2x4x7xf32>
}

// -----

// layer_norm in f64 in the reference's order: sum, mean, sum of squared
// deviations, 1 / sqrt(var + eps), ((x - mean) * rstd) * gamma + beta.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.+]]: tensor<4x33xf32>, %[[G:.+]]: tensor<33xf32>, %[[B:.+]]: tensor<33xf32>)
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%[[X]] : tensor<4x33xf32>) outs(%{{.+}} : tensor<4xf64>)
// CHECK: %[[MEAN:.+]] = linalg.generic
// CHECK-SAME: ins(%[[SUM]] : tensor<4xf64>)
// CHECK: arith.constant 3.300000e+01 : f64
// CHECK: arith.divf
// CHECK: %[[SQ:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%[[X]], %[[MEAN]] : tensor<4x33xf32>, tensor<4xf64>)
// CHECK: %[[C:.+]] = arith.subf %{{.+}}, %{{.+}} : f64
// CHECK: arith.mulf %[[C]], %[[C]] : f64
// CHECK: %[[RSTD:.+]] = linalg.generic
// CHECK-SAME: ins(%[[SQ]] : tensor<4xf64>)
// CHECK: arith.constant 9.9999997473787516E-6 : f64
// CHECK: math.sqrt %{{.+}} : f64
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%[[X]], %[[MEAN]], %[[RSTD]], %[[G]], %[[B]] :
// CHECK: %[[CENTERED:.+]] = arith.subf %{{.+}}, %{{.+}} : f64
// CHECK: %[[SCALED:.+]] = arith.mulf %[[CENTERED]], %{{.+}} : f64
// CHECK: %[[Y:.+]] = arith.mulf %[[SCALED]], %{{.+}} : f64
// CHECK: %[[SHIFTED:.+]] = arith.addf %[[Y]], %{{.+}} : f64
// CHECK: arith.truncf %[[SHIFTED]] : f64 to f32
func.func @layer_norm(%x: tensor<4x33xf32>, %g: tensor<33xf32>, %b: tensor<33xf32>) -> tensor<4x33xf32> {
  %y = qlow.layer_norm %x, %g, %b : (tensor<4x33xf32>, tensor<33xf32>, tensor<33xf32>) -> tensor<4x33xf32>
  return %y : tensor<4x33xf32>
}

// -----

// Without beta the reference still adds +0.0 (a -0.0 becomes +0.0). A 1-D
// input has rank-0 statistics.
// CHECK-LABEL: func.func @layer_norm_no_beta
// CHECK: linalg.generic {{.*}}iterator_types = []
// CHECK-SAME: outs(%{{.+}} : tensor<f64>)
// CHECK: linalg.generic {{.*}} : tensor<9xf32>, tensor<f64>, tensor<f64>, tensor<9xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[SHIFTED:.+]] = arith.addf %{{.+}}, %[[ZERO]] : f64
// CHECK: arith.truncf %[[SHIFTED]] : f64 to f32
func.func @layer_norm_no_beta(%x: tensor<9xf32>, %g: tensor<9xf32>) -> tensor<9xf32> {
  %y = qlow.layer_norm %x, %g {epsilon = 1.0e-03 : f32} : (tensor<9xf32>, tensor<9xf32>) -> tensor<9xf32>
  return %y : tensor<9xf32>
}

// -----

// Constant gamma and beta are widened to f64 at compile time (exactly): the
// normalization reads them as they are, without an extf per element and row.
// CHECK-LABEL: func.func @layer_norm_constant_parameters
// CHECK-DAG: %[[G:.+]] = arith.constant dense<[1.250000e+00, 5.000000e-01, -2.000000e+00]> : tensor<3xf64>
// CHECK-DAG: %[[B:.+]] = arith.constant dense<[1.250000e-01, 0.000000e+00, 3.000000e+00]> : tensor<3xf64>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %{{.+}}, %{{.+}}, %[[G]], %[[B]] : tensor<2x3xf32>, tensor<2xf64>, tensor<2xf64>, tensor<3xf64>, tensor<3xf64>)
// CHECK: ^bb0(%[[XV:.+]]: f32, %[[MV:.+]]: f64, %[[RV:.+]]: f64, %[[GV:.+]]: f64, %[[BV:.+]]: f64, %{{.+}}: f32):
// CHECK: %[[XD:.+]] = arith.extf %[[XV]] : f32 to f64
// CHECK: %[[CENTERED:.+]] = arith.subf %[[XD]], %[[MV]] : f64
// CHECK: %[[SCALED:.+]] = arith.mulf %[[CENTERED]], %[[RV]] : f64
// CHECK: %[[Y:.+]] = arith.mulf %[[SCALED]], %[[GV]] : f64
// CHECK-NEXT: arith.addf %[[Y]], %[[BV]] : f64
// rms_norm's gamma too.
// CHECK-LABEL: func.func @rms_norm_constant_gamma
// CHECK: %[[G:.+]] = arith.constant dense<[2.000000e+00, 2.500000e-01, 1.000000e+00]> : tensor<3xf64>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %{{.+}}, %[[G]] : tensor<2x3xf32>, tensor<2xf64>, tensor<3xf64>)
func.func @layer_norm_constant_parameters(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %g = arith.constant dense<[1.25, 0.5, -2.0]> : tensor<3xf32>
  %b = arith.constant dense<[0.125, 0.0, 3.0]> : tensor<3xf32>
  %y = qlow.layer_norm %x, %g, %b : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

func.func @rms_norm_constant_gamma(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %g = arith.constant dense<[2.0, 0.25, 1.0]> : tensor<3xf32>
  %y = qlow.rms_norm %x, %g : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// rms_norm in f64: sum of squares, 1 / sqrt(ms + eps), (x * rinv) * gamma.
// A rank-3 input is normalized as its [rows, D] matrix.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x17xf32>, %[[G:.+]]: tensor<17xf32>)
// CHECK: %[[XM:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x3x17xf32> into tensor<6x17xf32>
// CHECK: %[[SQ:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK: %[[V:.+]] = arith.extf %{{.+}} : f32 to f64
// CHECK: arith.mulf %[[V]], %[[V]] : f64
// CHECK: %[[RINV:.+]] = linalg.generic
// CHECK-SAME: ins(%[[SQ]] : tensor<6xf64>)
// CHECK: math.sqrt
// CHECK: %[[Y:.+]] = linalg.generic
// CHECK-SAME: ins(%[[XM]], %[[RINV]], %[[G]] :
// CHECK: arith.truncf %{{.+}} : f64 to f32
// CHECK: tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2]] output_shape [2, 3, 17] : tensor<6x17xf32> into tensor<2x3x17xf32>
func.func @rms_norm(%x: tensor<2x3x17xf32>, %g: tensor<17xf32>) -> tensor<2x3x17xf32> {
  %y = qlow.rms_norm %x, %g : (tensor<2x3x17xf32>, tensor<17xf32>) -> tensor<2x3x17xf32>
  return %y : tensor<2x3x17xf32>
}

// -----

// rope, rotate-half pairs (i, i + D/2): x viewed as [S, 2, D/2]; one
// generic per pair member on slices of the view (identity maps, cos and sin
// [S, D/2] alike), each written into its half of the result: out_0 = x_0 cos
// + (-x_1) sin, out_1 = x_1 cos + x_0 sin, in f64. No index-dependent
// select, so the elementwise vectorizer takes both.
// CHECK-LABEL: func.func @rope
// CHECK: %[[VIEW:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2]] output_shape [3, 2, 4] : tensor<3x8xf32> into tensor<3x2x4xf32>
// CHECK: %[[X0:.+]] = tensor.extract_slice %[[VIEW]][0, 0, 0] [3, 1, 4] [1, 1, 1] : tensor<3x2x4xf32> to tensor<3x4xf32>
// CHECK: %[[X1:.+]] = tensor.extract_slice %[[VIEW]][0, 1, 0] [3, 1, 4] [1, 1, 1] : tensor<3x2x4xf32> to tensor<3x4xf32>
// CHECK: %[[R0:.+]] = linalg.generic
// CHECK-SAME: ins(%[[X0]], %[[X1]], %{{.+}}, %{{.+}} : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>)
// CHECK-NOT: linalg.index
// CHECK-NOT: arith.select
// CHECK: arith.negf
// CHECK: arith.addf %{{.+}}, %{{.+}} : f64
// CHECK: %[[H0:.+]] = tensor.insert_slice %[[R0]] into %{{.+}}[0, 0, 0] [3, 1, 4] [1, 1, 1]
// CHECK: %[[R1:.+]] = linalg.generic
// CHECK-SAME: ins(%[[X1]], %[[X0]], %{{.+}}, %{{.+}} : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>)
// CHECK-NOT: arith.negf
// CHECK: arith.addf %{{.+}}, %{{.+}} : f64
// CHECK: %[[H1:.+]] = tensor.insert_slice %[[R1]] into %[[H0]][0, 1, 0] [3, 1, 4] [1, 1, 1]
// CHECK: tensor.collapse_shape %[[H1]] {{\[}}[0], [1, 2]] : tensor<3x2x4xf32> into tensor<3x8xf32>
func.func @rope(%x: tensor<3x8xf32>, %c: tensor<3x4xf32>, %s: tensor<3x4xf32>) -> tensor<3x8xf32> {
  %y = qlow.rope %x, %c, %s : (tensor<3x8xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// rope, interleaved pairs (2i, 2i + 1): the view is [S, D/2, 2].
// CHECK-LABEL: func.func @rope_interleaved
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1], [2, 3]] output_shape [2, 3, 4, 2]
// CHECK: linalg.generic
// CHECK: linalg.index 3 : index
func.func @rope_interleaved(%x: tensor<2x3x8xf32>, %c: tensor<3x4xf32>, %s: tensor<3x4xf32>) -> tensor<2x3x8xf32> {
  %y = qlow.rope %x, %c, %s {interleaved} : (tensor<2x3x8xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// embedding: every index checked against [0, V) (one i32 flag, then
// cf.assert; an i1 flag buffer would be read as packed bits once
// vectorized), then one scf.for iteration per index: the row is a slice of
// the table at that index (a contiguous read once vectorized, where an index
// read inside a generic makes every element a gather), inserted into the
// [count, D] result, which takes the indices' shape at the end.
// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[T:.+]]: tensor<50x37xf32>, %[[I:.+]]: tensor<3x4xi32>) -> tensor<3x4x37xf32>
// CHECK: %[[OK:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "reduction"]
// CHECK-SAME: ins(%[[I]] : tensor<3x4xi32>) outs(%{{.+}} : tensor<i32>)
// CHECK: %[[V:.+]] = arith.extsi %{{.+}} : i32 to i64
// CHECK: %[[IN:.+]] = arith.cmpi ult, %[[V]], %{{.+}} : i64
// CHECK: %[[BIT:.+]] = arith.extui %[[IN]] : i1 to i32
// CHECK: arith.andi %{{.+}}, %[[BIT]] : i32
// CHECK: %[[FLAG:.+]] = tensor.extract %[[OK]][] : tensor<i32>
// CHECK: %[[SET:.+]] = arith.cmpi ne, %[[FLAG]], %{{.+}} : i32
// CHECK: cf.assert %[[SET]], "qlow.embedding: an index is outside [0, 50)"
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[I]] {{\[}}[0, 1]] : tensor<3x4xi32> into tensor<12xi32>
// CHECK: %[[ROWS:.+]] = scf.for %[[P:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<12x37xf32>)
// CHECK: %[[ID:.+]] = tensor.extract %[[FLAT]][%[[P]]] : tensor<12xi32>
// CHECK: %[[ID64:.+]] = arith.extsi %[[ID]] : i32 to i64
// CHECK: %[[ROW:.+]] = arith.index_cast %[[ID64]] : i64 to index
// CHECK: %[[SLICE:.+]] = tensor.extract_slice %[[T]][%[[ROW]], 0] [1, 37] [1, 1] : tensor<50x37xf32> to tensor<37xf32>
// CHECK: %[[NEXT:.+]] = tensor.insert_slice %[[SLICE]] into %[[ACC]][%[[P]], 0] [1, 37] [1, 1] : tensor<37xf32> into tensor<12x37xf32>
// CHECK: scf.yield %[[NEXT]]
// CHECK: tensor.expand_shape %[[ROWS]] {{\[}}[0, 1], [2]] output_shape [3, 4, 37] : tensor<12x37xf32> into tensor<3x4x37xf32>
func.func @embedding(%t: tensor<50x37xf32>, %i: tensor<3x4xi32>) -> tensor<3x4x37xf32> {
  %y = qlow.embedding %t, %i : (tensor<50x37xf32>, tensor<3x4xi32>) -> tensor<3x4x37xf32>
  return %y : tensor<3x4x37xf32>
}

// -----

// A per-row quantized table dequantized into an f32 result: the row's scale
// is read once per row from a constant [V, 1] grid of scales; the row's
// generic dequantizes its elements (in i32).
// CHECK-LABEL: func.func @embedding_per_row
// CHECK: cf.assert
// CHECK: %[[SCALES:.+]] = arith.constant dense<{{\[}}[1.000000e-01], [2.000000e-01], [3.000000e-01]]> : tensor<3x1xf32>
// CHECK: scf.for
// CHECK: %[[ROW:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK: %[[Q:.+]] = tensor.extract_slice %{{.+}}[%[[ROW]], 0] [1, 5] [1, 1] : tensor<3x5xi8> to tensor<5xi8>
// CHECK: %[[S:.+]] = tensor.extract %[[SCALES]][%[[ROW]], %{{.+}}] : tensor<3x1xf32>
// CHECK: linalg.generic {{.*}} ins(%[[Q]] : tensor<5xi8>)
// CHECK: arith.extsi %{{.+}} : i8 to i32
// CHECK: arith.mulf %{{.+}}, %[[S]] : f32
// CHECK: tensor.insert_slice
func.func @embedding_per_row(%t: tensor<3x5x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3}>>, %i: tensor<2xi64>) -> tensor<2x5xf32> {
  %y = qlow.embedding %t, %i : (tensor<3x5x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3}>>, tensor<2xi64>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

// A u4 table in blocks of 3 along D (a 4-bit embedding table): the table
// (here an argument: an elementwise generic; a constant becomes an i8
// constant) is widened to i8 (a vector of i4 is loaded as packed nibbles, a
// tensor of i4 keeps a byte per value), the row's slice is split into (block,
// element) by an expand_shape, and the row's [D / 3] scales and zero points
// are read per block, invariant along the innermost loop. Per column: the
// [1, D] grid's only row, per element.
// CHECK-LABEL: func.func @embedding_blocked
// CHECK: cf.assert
// CHECK: %[[WIDE:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<4x6xi4>) outs(%{{.+}} : tensor<4x6xi8>)
// CHECK: arith.extui %{{.+}} : i4 to i8
// CHECK-DAG: %[[SCALES:.+]] = arith.constant dense<{{\[}}[1.000000e-01, 2.000000e-01], [3.000000e-01, 4.000000e-01], [5.000000e-01, 6.000000e-01], [0.699999988, 8.000000e-01]]> : tensor<4x2xf32>
// CHECK-DAG: %[[ZPS:.+]] = arith.constant dense<{{\[}}[1, 2], [3, 4], [5, 6], [7, 0]]> : tensor<4x2xi64>
// CHECK: scf.for
// CHECK: %[[ROW:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK: %[[Q:.+]] = tensor.extract_slice %[[WIDE]][%[[ROW]], 0] [1, 6] [1, 1] : tensor<4x6xi8> to tensor<6xi8>
// CHECK: %[[S:.+]] = tensor.extract_slice %[[SCALES]][%[[ROW]], 0] [1, 2] [1, 1] : tensor<4x2xf32> to tensor<2xf32>
// CHECK: %[[Z:.+]] = tensor.extract_slice %[[ZPS]][%[[ROW]], 0] [1, 2] [1, 1] : tensor<4x2xi64> to tensor<2xi64>
// CHECK: %[[QB:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1]] output_shape [2, 3] : tensor<6xi8> into tensor<2x3xi8>
// CHECK: linalg.generic {indexing_maps = [#[[ALL:.+]], #[[BLOCK:.+]], #[[BLOCK]], #[[ALL]]]{{.*}} ins(%[[QB]], %[[S]], %[[Z]] : tensor<2x3xi8>, tensor<2xf32>, tensor<2xi64>)
// CHECK: arith.extui %{{.+}} : i8 to i32
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
// CHECK-LABEL: func.func @embedding_per_column
// CHECK: %[[CS:.+]] = arith.constant dense<{{\[}}[1.000000e-01, 2.000000e-01, 3.000000e-01]]> : tensor<1x3xf32>
// CHECK: scf.for
// CHECK: %[[CROW:.+]] = tensor.extract_slice %[[CS]][%{{.+}}, 0] [1, 3] [1, 1] : tensor<1x3xf32> to tensor<3xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[CROW]] : tensor<3xi8>, tensor<3xf32>)
func.func @embedding_blocked(%t: tensor<4x6x!quant.uniform<u4:f32:{0:1, 1:3}, {{0.1:1, 0.2:2}, {0.3:3, 0.4:4}, {0.5:5, 0.6:6}, {0.7:7, 0.8:0}}>>, %i: tensor<5xi32>) -> tensor<5x6xf32> {
  %y = qlow.embedding %t, %i : (tensor<4x6x!quant.uniform<u4:f32:{0:1, 1:3}, {{0.1:1, 0.2:2}, {0.3:3, 0.4:4}, {0.5:5, 0.6:6}, {0.7:7, 0.8:0}}>>, tensor<5xi32>) -> tensor<5x6xf32>
  return %y : tensor<5x6xf32>
}
func.func @embedding_per_column(%t: tensor<4x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>, %i: tensor<5xi32>) -> tensor<5x3xf32> {
  %y = qlow.embedding %t, %i : (tensor<4x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>, tensor<5xi32>) -> tensor<5x3xf32>
  return %y : tensor<5x3xf32>
}

// -----

// A per-tensor quantized table with the same result type: the stored rows
// are copied (u8 as i8 bits), indices of rank 0 (one row: [1] indices, a
// [1, D] result collapsed to [D]).
// CHECK-LABEL: func.func @embedding_copy
// CHECK-SAME: (%[[T:.+]]: tensor<4x6xi8>, %[[I:.+]]: tensor<i64>) -> tensor<6xi8>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = []
// CHECK: cf.assert
// CHECK: tensor.expand_shape %[[I]] [] output_shape [1] : tensor<i64> into tensor<1xi64>
// CHECK: scf.for
// CHECK: %[[ROW:.+]] = tensor.extract_slice %[[T]][%{{.+}}, 0] [1, 6] [1, 1] : tensor<4x6xi8> to tensor<6xi8>
// CHECK-NEXT: tensor.insert_slice %[[ROW]]
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1]] : tensor<1x6xi8> into tensor<6xi8>
func.func @embedding_copy(%t: tensor<4x6x!quant.uniform<u8:f32, 0.1:128>>, %i: tensor<i64>) -> tensor<6x!quant.uniform<u8:f32, 0.1:128>> {
  %y = qlow.embedding %t, %i : (tensor<4x6x!quant.uniform<u8:f32, 0.1:128>>, tensor<i64>) -> tensor<6x!quant.uniform<u8:f32, 0.1:128>>
  return %y : tensor<6x!quant.uniform<u8:f32, 0.1:128>>
}
