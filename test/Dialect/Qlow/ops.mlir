// RUN: qlow-opt %s | qlow-opt | FileCheck %s
// RUN: qlow-opt %s --mlir-print-op-generic | qlow-opt | FileCheck %s
//
// Round trip of every qlow op and each of its syntactic variants: optional
// operands, every attribute, and per-tensor, per-axis and sub-channel
// quantized types with 4-, 8-, 16- and 32-bit storage. Attributes equal to
// their default (rounding = fixedpoint, axis = -1, the epsilons,
// approximate = none) are elided by the printer.

//===----------------------------------------------------------------------===//
// quantize, dequantize, requantize, fake_quant, observe
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @quantize_per_tensor_u8(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x8xf32>)
// CHECK:         %[[Q:.+]] = qlow.quantize %[[X]] : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 5.000000e-02:128>>
// CHECK:         return %[[Q]] :
func.func @quantize_per_tensor_u8(%x: tensor<4x8xf32>) -> tensor<4x8x!quant.uniform<u8:f32, 0.05:128>> {
  %q = qlow.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.05:128>>
  return %q : tensor<4x8x!quant.uniform<u8:f32, 0.05:128>>
}

// CHECK-LABEL: func.func @quantize_storage_types(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16xf32>)
// CHECK:         %[[R0:.+]] = qlow.quantize %[[X]] : tensor<16xf32> -> tensor<16x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK:         %[[R1:.+]] = qlow.quantize %[[X]] : tensor<16xf32> -> tensor<16x!quant.uniform<i4:f32, 5.000000e-01>>
// CHECK:         %[[R2:.+]] = qlow.quantize %[[X]] : tensor<16xf32> -> tensor<16x!quant.uniform<u4:f32, 5.000000e-01:8>>
// CHECK:         %[[R3:.+]] = qlow.quantize %[[X]] : tensor<16xf32> -> tensor<16x!quant.uniform<i16:f32, 1.000000e-03>>
// CHECK:         %[[R4:.+]] = qlow.quantize %[[X]] : tensor<16xf32> -> tensor<16x!quant.uniform<i32:f32, 1.000000e-04>>
// CHECK:         %[[R5:.+]] = qlow.quantize %[[X]] : tensor<16xf32> -> tensor<16x!quant.uniform<i8<-127:127>:f32, 1.000000e-01>>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]], %[[R3]], %[[R4]], %[[R5]] :
func.func @quantize_storage_types(%x: tensor<16xf32>)
    -> (tensor<16x!quant.uniform<i8:f32, 0.1:-3>>, tensor<16x!quant.uniform<i4:f32, 0.5>>,
        tensor<16x!quant.uniform<u4:f32, 0.5:8>>, tensor<16x!quant.uniform<i16:f32, 0.001>>,
        tensor<16x!quant.uniform<i32:f32, 1.0e-4>>, tensor<16x!quant.uniform<i8<-127:127>:f32, 0.1>>) {
  %0 = qlow.quantize %x : tensor<16xf32> -> tensor<16x!quant.uniform<i8:f32, 0.1:-3>>
  %1 = qlow.quantize %x : tensor<16xf32> -> tensor<16x!quant.uniform<i4:f32, 0.5>>
  %2 = qlow.quantize %x : tensor<16xf32> -> tensor<16x!quant.uniform<u4:f32, 0.5:8>>
  %3 = qlow.quantize %x : tensor<16xf32> -> tensor<16x!quant.uniform<i16:f32, 0.001>>
  %4 = qlow.quantize %x : tensor<16xf32> -> tensor<16x!quant.uniform<i32:f32, 1.0e-4>>
  %5 = qlow.quantize %x : tensor<16xf32> -> tensor<16x!quant.uniform<i8<-127:127>:f32, 0.1>>
  return %0, %1, %2, %3, %4, %5 : tensor<16x!quant.uniform<i8:f32, 0.1:-3>>, tensor<16x!quant.uniform<i4:f32, 0.5>>,
      tensor<16x!quant.uniform<u4:f32, 0.5:8>>, tensor<16x!quant.uniform<i16:f32, 0.001>>,
      tensor<16x!quant.uniform<i32:f32, 1.0e-4>>, tensor<16x!quant.uniform<i8<-127:127>:f32, 0.1>>
}

// CHECK-LABEL: func.func @quantize_per_axis(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x3xf32>)
// CHECK:         %[[Q:.+]] = qlow.quantize %[[X]] : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01:1,3.000000e-01:-2}>>
// CHECK:         return %[[Q]] :
func.func @quantize_per_axis(%x: tensor<2x3xf32>) -> tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-2}>> {
  %q = qlow.quantize %x : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-2}>>
  return %q : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2:1, 0.3:-2}>>
}

// CHECK-LABEL: func.func @quantize_sub_channel(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x4xf32>)
// CHECK:         %[[Q:.+]] = qlow.quantize %[[X]] : tensor<64x4xf32> -> tensor<64x4x!quant.uniform<i4:f32:{0:32}, {{\{\{}}1.000000e-01}, {2.000000e-01}}>>
// CHECK:         return %[[Q]] :
func.func @quantize_sub_channel(%x: tensor<64x4xf32>) -> tensor<64x4x!quant.uniform<i4:f32:{0:32}, {{0.1}, {0.2}}>> {
  %q = qlow.quantize %x : tensor<64x4xf32> -> tensor<64x4x!quant.uniform<i4:f32:{0:32}, {{0.1}, {0.2}}>>
  return %q : tensor<64x4x!quant.uniform<i4:f32:{0:32}, {{0.1}, {0.2}}>>
}

// CHECK-LABEL: func.func @quantize_dynamic(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<?x8xf32>)
// CHECK:         %[[Q:.+]] = qlow.quantize %[[X]] : tensor<?x8xf32> -> tensor<?x8x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK:         return %[[Q]] :
func.func @quantize_dynamic(%x: tensor<?x8xf32>) -> tensor<?x8x!quant.uniform<i8:f32, 0.1>> {
  %q = qlow.quantize %x : tensor<?x8xf32> -> tensor<?x8x!quant.uniform<i8:f32, 0.1>>
  return %q : tensor<?x8x!quant.uniform<i8:f32, 0.1>>
}

// CHECK-LABEL: func.func @dequantize_per_tensor(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<16x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[X:.+]] = qlow.dequantize %[[Q]] : tensor<16x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<16xf32>
// CHECK:         return %[[X]] :
func.func @dequantize_per_tensor(%q: tensor<16x!quant.uniform<i8:f32, 0.1>>) -> tensor<16xf32> {
  %x = qlow.dequantize %q : tensor<16x!quant.uniform<i8:f32, 0.1>> -> tensor<16xf32>
  return %x : tensor<16xf32>
}

// CHECK-LABEL: func.func @dequantize_per_axis(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<4x2x!quant.uniform<u8:f32:1, {1.000000e-01:128,2.000000e-01:127}>>)
// CHECK:         %[[X:.+]] = qlow.dequantize %[[Q]] : tensor<4x2x!quant.uniform<u8:f32:1, {1.000000e-01:128,2.000000e-01:127}>> -> tensor<4x2xf32>
// CHECK:         return %[[X]] :
func.func @dequantize_per_axis(%q: tensor<4x2x!quant.uniform<u8:f32:1, {0.1:128, 0.2:127}>>) -> tensor<4x2xf32> {
  %x = qlow.dequantize %q : tensor<4x2x!quant.uniform<u8:f32:1, {0.1:128, 0.2:127}>> -> tensor<4x2xf32>
  return %x : tensor<4x2xf32>
}

// CHECK-LABEL: func.func @dequantize_sub_channel(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<64x4x!quant.uniform<i4:f32:{0:32, 1:1}, {{\{\{}}1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01}, {5.000000e-01:1, 6.000000e-01, 7.500000e-01, 8.000000e-01:-1}}>>)
// CHECK:         %[[X:.+]] = qlow.dequantize %[[Q]] : tensor<64x4x!quant.uniform<i4:f32:{0:32, 1:1}, {{\{\{}}1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01}, {5.000000e-01:1, 6.000000e-01, 7.500000e-01, 8.000000e-01:-1}}>> -> tensor<64x4xf32>
// CHECK:         return %[[X]] :
func.func @dequantize_sub_channel(%q: tensor<64x4x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2, 0.3, 0.4}, {0.5:1, 0.6, 0.75, 0.8:-1}}>>) -> tensor<64x4xf32> {
  %x = qlow.dequantize %q : tensor<64x4x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2, 0.3, 0.4}, {0.5:1, 0.6, 0.75, 0.8:-1}}>> -> tensor<64x4xf32>
  return %x : tensor<64x4xf32>
}

// CHECK-LABEL: func.func @requantize(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[R0:.+]] = qlow.requantize %[[Q]] : tensor<8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<8x!quant.uniform<u8:f32, 2.000000e-01:128>>
// CHECK:         %[[R1:.+]] = qlow.requantize %[[Q]] {rounding = #qlow.rounding<float>} : tensor<8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<8x!quant.uniform<u8:f32, 2.000000e-01:128>>
// CHECK:         %[[R2:.+]] = qlow.requantize %[[Q]] : tensor<8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<8x!quant.uniform<i16:f32, 1.000000e-02>>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @requantize(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>)
    -> (tensor<8x!quant.uniform<u8:f32, 0.2:128>>, tensor<8x!quant.uniform<u8:f32, 0.2:128>>, tensor<8x!quant.uniform<i16:f32, 0.01>>) {
  %0 = qlow.requantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<u8:f32, 0.2:128>>
  %1 = qlow.requantize %q {rounding = #qlow.rounding<float>} : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<u8:f32, 0.2:128>>
  %2 = qlow.requantize %q {rounding = #qlow.rounding<fixedpoint>} : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i16:f32, 0.01>>
  return %0, %1, %2 : tensor<8x!quant.uniform<u8:f32, 0.2:128>>, tensor<8x!quant.uniform<u8:f32, 0.2:128>>, tensor<8x!quant.uniform<i16:f32, 0.01>>
}

// CHECK-LABEL: func.func @requantize_per_axis(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<4x2x!quant.uniform<i32:f32:1, {1.000000e-03,2.000000e-03}>>)
// CHECK:         %[[R:.+]] = qlow.requantize %[[Q]] : tensor<4x2x!quant.uniform<i32:f32:1, {1.000000e-03,2.000000e-03}>> -> tensor<4x2x!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01}>>
// CHECK:         return %[[R]] :
func.func @requantize_per_axis(%q: tensor<4x2x!quant.uniform<i32:f32:1, {0.001, 0.002}>>) -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>> {
  %r = qlow.requantize %q : tensor<4x2x!quant.uniform<i32:f32:1, {0.001, 0.002}>> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  return %r : tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
}

// CHECK-LABEL: func.func @fake_quant(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x2xf32>)
// CHECK:         %[[R0:.+]] = qlow.fake_quant %[[X]] as !quant.uniform<i8:f32, 1.000000e-01> : tensor<4x2xf32>
// CHECK:         %[[R1:.+]] = qlow.fake_quant %[[X]] as !quant.uniform<u8:f32:1, {1.000000e-01:128,2.000000e-01:120}> : tensor<4x2xf32>
// CHECK:         %[[R2:.+]] = qlow.fake_quant %[[X]] as !quant.uniform<i4:f32:{0:2}, {{\{\{}}1.000000e-01}, {2.000000e-01}}> : tensor<4x2xf32>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @fake_quant(%x: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %0 = qlow.fake_quant %x as !quant.uniform<i8:f32, 0.1> : tensor<4x2xf32>
  %1 = qlow.fake_quant %x as !quant.uniform<u8:f32:1, {0.1:128, 0.2:120}> : tensor<4x2xf32>
  %2 = qlow.fake_quant %x as !quant.uniform<i4:f32:{0:2}, {{0.1}, {0.2}}> : tensor<4x2xf32>
  return %0, %1, %2 : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
}

// CHECK-LABEL: func.func @observe(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x32xf32>)
// CHECK:         %[[Y:.+]] = qlow.observe %[[X]] {name = "block0.attn.in"} : tensor<8x32xf32>
// CHECK:         return %[[Y]] :
func.func @observe(%x: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %y = qlow.observe %x {name = "block0.attn.in"} : tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @matmul_f32(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<16x64xf32>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x32xf32>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<32xf32>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]] : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
// CHECK:         %[[R1:.+]] = qlow.matmul %[[A]], %[[W]], %[[B]] : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
// CHECK:         return %[[R0]], %[[R1]] :
func.func @matmul_f32(%a: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  %0 = qlow.matmul %a, %w : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  %1 = qlow.matmul %a, %w, %b : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  return %0, %1 : tensor<16x32xf32>, tensor<16x32xf32>
}

// CHECK-LABEL: func.func @matmul_batched(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<2x3x16x64xf32>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x32xf32>,
// CHECK-SAME:    %[[W3:[^:]+]]: tensor<2x3x64x32xf32>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]] : (tensor<2x3x16x64xf32>, tensor<64x32xf32>) -> tensor<2x3x16x32xf32>
// CHECK:         %[[R1:.+]] = qlow.matmul %[[A]], %[[W3]] : (tensor<2x3x16x64xf32>, tensor<2x3x64x32xf32>) -> tensor<2x3x16x32xf32>
// CHECK:         return %[[R0]], %[[R1]] :
func.func @matmul_batched(%a: tensor<2x3x16x64xf32>, %w: tensor<64x32xf32>, %w3: tensor<2x3x64x32xf32>) -> (tensor<2x3x16x32xf32>, tensor<2x3x16x32xf32>) {
  %0 = qlow.matmul %a, %w : (tensor<2x3x16x64xf32>, tensor<64x32xf32>) -> tensor<2x3x16x32xf32>
  %1 = qlow.matmul %a, %w3 : (tensor<2x3x16x64xf32>, tensor<2x3x64x32xf32>) -> tensor<2x3x16x32xf32>
  return %0, %1 : tensor<2x3x16x32xf32>, tensor<2x3x16x32xf32>
}

// CHECK-LABEL: func.func @matmul_dynamic(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<?x?x64xf32>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x?xf32>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]] : (tensor<?x?x64xf32>, tensor<64x?xf32>) -> tensor<?x?x?xf32>
// CHECK:         return %[[R0]] :
func.func @matmul_dynamic(%a: tensor<?x?x64xf32>, %w: tensor<64x?xf32>) -> tensor<?x?x?xf32> {
  %0 = qlow.matmul %a, %w : (tensor<?x?x64xf32>, tensor<64x?xf32>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// CHECK-LABEL: func.func @matmul_weight_only_i8(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<16x64xf32>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<2xf32>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]], %[[B]] : (tensor<16x64xf32>, tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>, tensor<2xf32>) -> tensor<16x2xf32>
// CHECK:         return %[[R0]] :
func.func @matmul_weight_only_i8(%a: tensor<16x64xf32>, %w: tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, %b: tensor<2xf32>) -> tensor<16x2xf32> {
  %0 = qlow.matmul %a, %w, %b : (tensor<16x64xf32>, tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, tensor<2xf32>) -> tensor<16x2xf32>
  return %0 : tensor<16x2xf32>
}

// Dynamic (run-time) quantization of the f32 lhs: every granularity, storage
// and scheme, with per-channel i8 and grouped i4 weights.
// CHECK-LABEL: func.func @matmul_dynamic_quantization(
// CHECK:         qlow.matmul %{{.+}}, %{{.+}}, %{{.+}} {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<4x64xf32>, tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>, tensor<2xf32>) -> tensor<4x2xf32>
// CHECK:         qlow.matmul %{{.+}}, %{{.+}} {dynamic = #qlow.dynamic<per_tensor, u8, asymmetric>} : (tensor<4x64xf32>, tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>) -> tensor<4x2xf32>
// CHECK:         qlow.matmul %{{.+}}, %{{.+}} {dynamic = #qlow.dynamic<per_row, i8, asymmetric>} : (tensor<2x4x64xf32>, tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}
func.func @matmul_dynamic_quantization(%a: tensor<4x64xf32>, %a3: tensor<2x4x64xf32>, %w: tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, %w4: tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>, %b: tensor<2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<2x4x2xf32>) {
  %0 = qlow.matmul %a, %w, %b {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<4x64xf32>, tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, tensor<2xf32>) -> tensor<4x2xf32>
  %1 = qlow.matmul %a, %w {dynamic = #qlow.dynamic<per_tensor, u8, asymmetric>} : (tensor<4x64xf32>, tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>) -> tensor<4x2xf32>
  %2 = qlow.matmul %a3, %w4 {dynamic = #qlow.dynamic<per_row, i8, asymmetric>} : (tensor<2x4x64xf32>, tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<2x4x2xf32>
  return %0, %1, %2 : tensor<4x2xf32>, tensor<4x2xf32>, tensor<2x4x2xf32>
}

// CHECK-LABEL: func.func @matmul_weight_only_i4_blocked(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<1x64xf32>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{\{\{}}1.000000e-01, 2.000000e-01}, {3.000000e-01, 4.000000e-01}}>>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]] : (tensor<1x64xf32>, tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{\{\{}}1.000000e-01, 2.000000e-01}, {3.000000e-01, 4.000000e-01}}>>) -> tensor<1x2xf32>
// CHECK:         return %[[R0]] :
func.func @matmul_weight_only_i4_blocked(%a: tensor<1x64xf32>, %w: tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<1x2xf32> {
  %0 = qlow.matmul %a, %w : (tensor<1x64xf32>, tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<1x2xf32>
  return %0 : tensor<1x2xf32>
}

// Group scales shared by all output columns ({0:32} alone: axis 1 is one
// block), with an f32 bias.
// CHECK-LABEL: func.func @matmul_weight_only_i4_group_scales(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<1x64xf32>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x2x!quant.uniform<i4:f32:{0:32}, {{\{\{}}1.000000e-01}, {2.000000e-01}}>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<2xf32>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]], %[[B]] : (tensor<1x64xf32>, tensor<64x2x!quant.uniform<i4:f32:{0:32}, {{\{\{}}1.000000e-01}, {2.000000e-01}}>>, tensor<2xf32>) -> tensor<1x2xf32>
// CHECK:         return %[[R0]] :
func.func @matmul_weight_only_i4_group_scales(%a: tensor<1x64xf32>, %w: tensor<64x2x!quant.uniform<i4:f32:{0:32}, {{0.1}, {0.2}}>>, %b: tensor<2xf32>) -> tensor<1x2xf32> {
  %0 = qlow.matmul %a, %w, %b : (tensor<1x64xf32>, tensor<64x2x!quant.uniform<i4:f32:{0:32}, {{0.1}, {0.2}}>>, tensor<2xf32>) -> tensor<1x2xf32>
  return %0 : tensor<1x2xf32>
}

// CHECK-LABEL: func.func @matmul_i32_result(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<16x64x!quant.uniform<u8:f32, 2.000000e-02:128>>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x32x!quant.uniform<i8:f32, 1.000000e-02>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<32xi32>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]] : (tensor<16x64x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<64x32x!quant.uniform<i8:f32, 1.000000e-02>>) -> tensor<16x32xi32>
// CHECK:         %[[R1:.+]] = qlow.matmul %[[A]], %[[W]], %[[B]] : (tensor<16x64x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<64x32x!quant.uniform<i8:f32, 1.000000e-02>>, tensor<32xi32>) -> tensor<16x32xi32>
// CHECK:         return %[[R0]], %[[R1]] :
func.func @matmul_i32_result(%a: tensor<16x64x!quant.uniform<u8:f32, 0.02:128>>, %w: tensor<64x32x!quant.uniform<i8:f32, 0.01>>, %b: tensor<32xi32>) -> (tensor<16x32xi32>, tensor<16x32xi32>) {
  %0 = qlow.matmul %a, %w : (tensor<16x64x!quant.uniform<u8:f32, 0.02:128>>, tensor<64x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<16x32xi32>
  %1 = qlow.matmul %a, %w, %b : (tensor<16x64x!quant.uniform<u8:f32, 0.02:128>>, tensor<64x32x!quant.uniform<i8:f32, 0.01>>, tensor<32xi32>) -> tensor<16x32xi32>
  return %0, %1 : tensor<16x32xi32>, tensor<16x32xi32>
}

// CHECK-LABEL: func.func @matmul_f32_result(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<16x64x!quant.uniform<i8:f32, 2.000000e-02>>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<2x!quant.uniform<i32:f32:0, {2.000000e-04,4.000000e-04}>>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]], %[[B]] : (tensor<16x64x!quant.uniform<i8:f32, 2.000000e-02>>, tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>, tensor<2x!quant.uniform<i32:f32:0, {2.000000e-04,4.000000e-04}>>) -> tensor<16x2xf32>
// CHECK:         return %[[R0]] :
func.func @matmul_f32_result(%a: tensor<16x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, %b: tensor<2x!quant.uniform<i32:f32:0, {2.0e-4, 4.0e-4}>>) -> tensor<16x2xf32> {
  %0 = qlow.matmul %a, %w, %b : (tensor<16x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, tensor<2x!quant.uniform<i32:f32:0, {2.0e-4, 4.0e-4}>>) -> tensor<16x2xf32>
  return %0 : tensor<16x2xf32>
}

// CHECK-LABEL: func.func @matmul_quantized_result(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<16x64x!quant.uniform<u8:f32, 2.000000e-02:128>>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<2xi32>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]], %[[B]] : (tensor<16x64x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>, tensor<2xi32>) -> tensor<16x2x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK:         %[[R1:.+]] = qlow.matmul %[[A]], %[[W]], %[[B]] {rounding = #qlow.rounding<float>} : (tensor<16x64x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>, tensor<2xi32>) -> tensor<16x2x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK:         %[[R2:.+]] = qlow.matmul %[[A]], %[[W]] : (tensor<16x64x!quant.uniform<u8:f32, 2.000000e-02:128>>, tensor<64x2x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02}>>) -> tensor<16x2x!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01}>>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @matmul_quantized_result(%a: tensor<16x64x!quant.uniform<u8:f32, 0.02:128>>, %w: tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, %b: tensor<2xi32>)
    -> (tensor<16x2x!quant.uniform<i8:f32, 0.1:-3>>, tensor<16x2x!quant.uniform<i8:f32, 0.1:-3>>, tensor<16x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>) {
  %0 = qlow.matmul %a, %w, %b {rounding = #qlow.rounding<fixedpoint>} : (tensor<16x64x!quant.uniform<u8:f32, 0.02:128>>, tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, tensor<2xi32>) -> tensor<16x2x!quant.uniform<i8:f32, 0.1:-3>>
  %1 = qlow.matmul %a, %w, %b {rounding = #qlow.rounding<float>} : (tensor<16x64x!quant.uniform<u8:f32, 0.02:128>>, tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, tensor<2xi32>) -> tensor<16x2x!quant.uniform<i8:f32, 0.1:-3>>
  %2 = qlow.matmul %a, %w : (tensor<16x64x!quant.uniform<u8:f32, 0.02:128>>, tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>) -> tensor<16x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  return %0, %1, %2 : tensor<16x2x!quant.uniform<i8:f32, 0.1:-3>>, tensor<16x2x!quant.uniform<i8:f32, 0.1:-3>>, tensor<16x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
}

// CHECK-LABEL: func.func @matmul_per_row_lhs(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<2x64x!quant.uniform<i8:f32:0, {2.000000e-02,3.000000e-02}>>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x8x!quant.uniform<i8:f32, 1.000000e-02>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<8x!quant.uniform<i32:f32, 1.000000e-04>>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]], %[[B]] : (tensor<2x64x!quant.uniform<i8:f32:0, {2.000000e-02,3.000000e-02}>>, tensor<64x8x!quant.uniform<i8:f32, 1.000000e-02>>, tensor<8x!quant.uniform<i32:f32, 1.000000e-04>>) -> tensor<2x8xf32>
// CHECK:         return %[[R0]] :
func.func @matmul_per_row_lhs(%a: tensor<2x64x!quant.uniform<i8:f32:0, {0.02, 0.03}>>, %w: tensor<64x8x!quant.uniform<i8:f32, 0.01>>, %b: tensor<8x!quant.uniform<i32:f32, 1.0e-4>>) -> tensor<2x8xf32> {
  %0 = qlow.matmul %a, %w, %b : (tensor<2x64x!quant.uniform<i8:f32:0, {0.02, 0.03}>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>, tensor<8x!quant.uniform<i32:f32, 1.0e-4>>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @matmul_batched_quantized(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4x16x64x!quant.uniform<i8:f32, 2.000000e-02>>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<4x64x32x!quant.uniform<i8:f32, 1.000000e-02>>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]] : (tensor<4x16x64x!quant.uniform<i8:f32, 2.000000e-02>>, tensor<4x64x32x!quant.uniform<i8:f32, 1.000000e-02>>) -> tensor<4x16x32x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK:         return %[[R0]] :
func.func @matmul_batched_quantized(%a: tensor<4x16x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<4x64x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<4x16x32x!quant.uniform<i8:f32, 0.1>> {
  %0 = qlow.matmul %a, %w : (tensor<4x16x64x!quant.uniform<i8:f32, 0.02>>, tensor<4x64x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<4x16x32x!quant.uniform<i8:f32, 0.1>>
  return %0 : tensor<4x16x32x!quant.uniform<i8:f32, 0.1>>
}

// CHECK-LABEL: func.func @matmul_i4_blocked_quantized_lhs(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<1x64x!quant.uniform<i8:f32, 2.000000e-02>>,
// CHECK-SAME:    %[[W:[^:]+]]: tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{\{\{}}1.000000e-01, 2.000000e-01}, {3.000000e-01, 4.000000e-01}}>>)
// CHECK:         %[[R0:.+]] = qlow.matmul %[[A]], %[[W]] : (tensor<1x64x!quant.uniform<i8:f32, 2.000000e-02>>, tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{\{\{}}1.000000e-01, 2.000000e-01}, {3.000000e-01, 4.000000e-01}}>>) -> tensor<1x2xf32>
// CHECK:         return %[[R0]] :
func.func @matmul_i4_blocked_quantized_lhs(%a: tensor<1x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<1x2xf32> {
  %0 = qlow.matmul %a, %w : (tensor<1x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<1x2xf32>
  return %0 : tensor<1x2xf32>
}

//===----------------------------------------------------------------------===//
// add, mul
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @add_mul_f32(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4x8xf32>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<8xf32>)
// CHECK:         %[[R0:.+]] = qlow.add %[[A]], %[[B]] : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK:         %[[R1:.+]] = qlow.mul %[[A]], %[[B]] : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK:         return %[[R0]], %[[R1]] :
func.func @add_mul_f32(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = qlow.add %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = qlow.mul %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @add_mul_integer(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4x1xi32>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<1x8xi32>)
// CHECK:         %[[R0:.+]] = qlow.add %[[A]], %[[B]] : (tensor<4x1xi32>, tensor<1x8xi32>) -> tensor<4x8xi32>
// CHECK:         %[[R1:.+]] = qlow.mul %[[A]], %[[B]] : (tensor<4x1xi32>, tensor<1x8xi32>) -> tensor<4x8xi32>
// CHECK:         return %[[R0]], %[[R1]] :
func.func @add_mul_integer(%a: tensor<4x1xi32>, %b: tensor<1x8xi32>) -> (tensor<4x8xi32>, tensor<4x8xi32>) {
  %0 = qlow.add %a, %b : (tensor<4x1xi32>, tensor<1x8xi32>) -> tensor<4x8xi32>
  %1 = qlow.mul %a, %b : (tensor<4x1xi32>, tensor<1x8xi32>) -> tensor<4x8xi32>
  return %0, %1 : tensor<4x8xi32>, tensor<4x8xi32>
}

// CHECK-LABEL: func.func @add_mul_quantized(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<8x!quant.uniform<i8:f32, 2.000000e-01:5>>)
// CHECK:         %[[R0:.+]] = qlow.add %[[A]], %[[B]] : (tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<8x!quant.uniform<i8:f32, 2.000000e-01:5>>) -> tensor<8x!quant.uniform<i8:f32, 3.000000e-01>>
// CHECK:         %[[R1:.+]] = qlow.add %[[A]], %[[B]] {rounding = #qlow.rounding<float>} : (tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<8x!quant.uniform<i8:f32, 2.000000e-01:5>>) -> tensor<8x!quant.uniform<i8:f32, 3.000000e-01>>
// CHECK:         %[[R2:.+]] = qlow.mul %[[A]], %[[B]] : (tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<8x!quant.uniform<i8:f32, 2.000000e-01:5>>) -> tensor<8x!quant.uniform<i16:f32, 2.000000e-02>>
// CHECK:         %[[R3:.+]] = qlow.mul %[[A]], %[[B]] {rounding = #qlow.rounding<float>} : (tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<8x!quant.uniform<i8:f32, 2.000000e-01:5>>) -> tensor<8x!quant.uniform<i16:f32, 2.000000e-02>>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]], %[[R3]] :
func.func @add_mul_quantized(%a: tensor<8x!quant.uniform<i8:f32, 0.1>>, %b: tensor<8x!quant.uniform<i8:f32, 0.2:5>>)
    -> (tensor<8x!quant.uniform<i8:f32, 0.3>>, tensor<8x!quant.uniform<i8:f32, 0.3>>, tensor<8x!quant.uniform<i16:f32, 0.02>>, tensor<8x!quant.uniform<i16:f32, 0.02>>) {
  %0 = qlow.add %a, %b : (tensor<8x!quant.uniform<i8:f32, 0.1>>, tensor<8x!quant.uniform<i8:f32, 0.2:5>>) -> tensor<8x!quant.uniform<i8:f32, 0.3>>
  %1 = qlow.add %a, %b {rounding = #qlow.rounding<float>} : (tensor<8x!quant.uniform<i8:f32, 0.1>>, tensor<8x!quant.uniform<i8:f32, 0.2:5>>) -> tensor<8x!quant.uniform<i8:f32, 0.3>>
  %2 = qlow.mul %a, %b : (tensor<8x!quant.uniform<i8:f32, 0.1>>, tensor<8x!quant.uniform<i8:f32, 0.2:5>>) -> tensor<8x!quant.uniform<i16:f32, 0.02>>
  %3 = qlow.mul %a, %b {rounding = #qlow.rounding<float>} : (tensor<8x!quant.uniform<i8:f32, 0.1>>, tensor<8x!quant.uniform<i8:f32, 0.2:5>>) -> tensor<8x!quant.uniform<i16:f32, 0.02>>
  return %0, %1, %2, %3 : tensor<8x!quant.uniform<i8:f32, 0.3>>, tensor<8x!quant.uniform<i8:f32, 0.3>>, tensor<8x!quant.uniform<i16:f32, 0.02>>, tensor<8x!quant.uniform<i16:f32, 0.02>>
}

//===----------------------------------------------------------------------===//
// Float-semantics ops
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @softmax(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x8x8xf32>,
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<2x8x8x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[R0:.+]] = qlow.softmax %[[X]] : tensor<2x8x8xf32> -> tensor<2x8x8xf32>
// CHECK:         %[[R1:.+]] = qlow.softmax %[[X]] {axis = 1 : i64} : tensor<2x8x8xf32> -> tensor<2x8x8xf32>
// CHECK:         %[[R2:.+]] = qlow.softmax %[[Q]] {axis = -3 : i64} : tensor<2x8x8x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<2x8x8x!quant.uniform<u8:f32, 3.906250e-03>>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @softmax(%x: tensor<2x8x8xf32>, %q: tensor<2x8x8x!quant.uniform<i8:f32, 0.1>>) -> (tensor<2x8x8xf32>, tensor<2x8x8xf32>, tensor<2x8x8x!quant.uniform<u8:f32, 0.00390625>>) {
  %0 = qlow.softmax %x : tensor<2x8x8xf32> -> tensor<2x8x8xf32>
  %1 = qlow.softmax %x {axis = 1 : i64} : tensor<2x8x8xf32> -> tensor<2x8x8xf32>
  %2 = qlow.softmax %q {axis = -3 : i64} : tensor<2x8x8x!quant.uniform<i8:f32, 0.1>> -> tensor<2x8x8x!quant.uniform<u8:f32, 0.00390625>>
  return %0, %1, %2 : tensor<2x8x8xf32>, tensor<2x8x8xf32>, tensor<2x8x8x!quant.uniform<u8:f32, 0.00390625>>
}

// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x32xf32>,
// CHECK-SAME:    %[[G:[^:]+]]: tensor<32xf32>,
// CHECK-SAME:    %[[B:[^:]+]]: tensor<32xf32>,
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x32x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[R0:.+]] = qlow.layer_norm %[[X]], %[[G]] : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
// CHECK:         %[[R1:.+]] = qlow.layer_norm %[[X]], %[[G]], %[[B]] {epsilon = 9.99999997E-7 : f32} : (tensor<8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
// CHECK:         %[[R2:.+]] = qlow.layer_norm %[[Q]], %[[G]], %[[B]] : (tensor<8x32x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<32xf32>, tensor<32xf32>) -> tensor<8x32x!quant.uniform<i8:f32, 5.000000e-02>>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @layer_norm(%x: tensor<8x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>, %q: tensor<8x32x!quant.uniform<i8:f32, 0.1>>) -> (tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32x!quant.uniform<i8:f32, 0.05>>) {
  %0 = qlow.layer_norm %x, %g : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %1 = qlow.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f32} : (tensor<8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %2 = qlow.layer_norm %q, %g, %b : (tensor<8x32x!quant.uniform<i8:f32, 0.1>>, tensor<32xf32>, tensor<32xf32>) -> tensor<8x32x!quant.uniform<i8:f32, 0.05>>
  return %0, %1, %2 : tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32x!quant.uniform<i8:f32, 0.05>>
}

// CHECK-LABEL: func.func @rms_norm(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x32xf32>,
// CHECK-SAME:    %[[G:[^:]+]]: tensor<32xf32>,
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x32x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[R0:.+]] = qlow.rms_norm %[[X]], %[[G]] : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
// CHECK:         %[[R1:.+]] = qlow.rms_norm %[[X]], %[[G]] {epsilon = 9.99999974E-6 : f32} : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
// CHECK:         %[[R2:.+]] = qlow.rms_norm %[[Q]], %[[G]] : (tensor<8x32x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<32xf32>) -> tensor<8x32xf32>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @rms_norm(%x: tensor<8x32xf32>, %g: tensor<32xf32>, %q: tensor<8x32x!quant.uniform<i8:f32, 0.1>>) -> (tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>) {
  %0 = qlow.rms_norm %x, %g : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %1 = qlow.rms_norm %x, %g {epsilon = 1.0e-05 : f32} : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %2 = qlow.rms_norm %q, %g : (tensor<8x32x!quant.uniform<i8:f32, 0.1>>, tensor<32xf32>) -> tensor<8x32xf32>
  return %0, %1, %2 : tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>
}

// CHECK-LABEL: func.func @gelu(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x64xf32>,
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x64x!quant.uniform<u8:f32, 5.000000e-02:10>>)
// CHECK:         %[[R0:.+]] = qlow.gelu %[[X]] : tensor<8x64xf32> -> tensor<8x64xf32>
// CHECK:         %[[R1:.+]] = qlow.gelu %[[X]] : tensor<8x64xf32> -> tensor<8x64xf32>
// CHECK:         %[[R2:.+]] = qlow.gelu %[[X]] {approximate = #qlow.gelu_approximation<tanh>} : tensor<8x64xf32> -> tensor<8x64xf32>
// CHECK:         %[[R3:.+]] = qlow.gelu %[[Q]] {approximate = #qlow.gelu_approximation<tanh>} : tensor<8x64x!quant.uniform<u8:f32, 5.000000e-02:10>> -> tensor<8x64x!quant.uniform<u8:f32, 5.000000e-02:10>>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]], %[[R3]] :
func.func @gelu(%x: tensor<8x64xf32>, %q: tensor<8x64x!quant.uniform<u8:f32, 0.05:10>>) -> (tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64x!quant.uniform<u8:f32, 0.05:10>>) {
  %0 = qlow.gelu %x : tensor<8x64xf32> -> tensor<8x64xf32>
  %1 = qlow.gelu %x {approximate = #qlow.gelu_approximation<none>} : tensor<8x64xf32> -> tensor<8x64xf32>
  %2 = qlow.gelu %x {approximate = #qlow.gelu_approximation<tanh>} : tensor<8x64xf32> -> tensor<8x64xf32>
  %3 = qlow.gelu %q {approximate = #qlow.gelu_approximation<tanh>} : tensor<8x64x!quant.uniform<u8:f32, 0.05:10>> -> tensor<8x64x!quant.uniform<u8:f32, 0.05:10>>
  return %0, %1, %2, %3 : tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64x!quant.uniform<u8:f32, 0.05:10>>
}

// CHECK-LABEL: func.func @silu(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x64xf32>,
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<8x64x!quant.uniform<i8:f32, 5.000000e-02>>)
// CHECK:         %[[R0:.+]] = qlow.silu %[[X]] : tensor<8x64xf32> -> tensor<8x64xf32>
// CHECK:         %[[R1:.+]] = qlow.silu %[[Q]] : tensor<8x64x!quant.uniform<i8:f32, 5.000000e-02>> -> tensor<8x64x!quant.uniform<i8:f32, 5.000000e-02>>
// CHECK:         return %[[R0]], %[[R1]] :
func.func @silu(%x: tensor<8x64xf32>, %q: tensor<8x64x!quant.uniform<i8:f32, 0.05>>) -> (tensor<8x64xf32>, tensor<8x64x!quant.uniform<i8:f32, 0.05>>) {
  %0 = qlow.silu %x : tensor<8x64xf32> -> tensor<8x64xf32>
  %1 = qlow.silu %q : tensor<8x64x!quant.uniform<i8:f32, 0.05>> -> tensor<8x64x!quant.uniform<i8:f32, 0.05>>
  return %0, %1 : tensor<8x64xf32>, tensor<8x64x!quant.uniform<i8:f32, 0.05>>
}

// CHECK-LABEL: func.func @attention_mha(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x8x16x64xf32>,
// CHECK-SAME:    %[[K:[^:]+]]: tensor<1x8x16x64xf32>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<1x8x16x32xf32>)
// CHECK:         %[[O:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]] : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x32xf32>) -> tensor<1x8x16x32xf32>
// CHECK:         return %[[O]] :
func.func @attention_mha(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x32xf32>) -> tensor<1x8x16x32xf32> {
  %o = qlow.attention %q, %k, %v : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x32xf32>) -> tensor<1x8x16x32xf32>
  return %o : tensor<1x8x16x32xf32>
}

// CHECK-LABEL: func.func @attention_gqa_causal_scale(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x8x16x64xf32>,
// CHECK-SAME:    %[[K:[^:]+]]: tensor<1x2x16x64xf32>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<1x2x16x64xf32>)
// CHECK:         %[[R0:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]] {causal} : (tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32>
// CHECK:         %[[R1:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f32} : (tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32>
// CHECK:         %[[R2:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 2.500000e-01 : f32} : (tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @attention_gqa_causal_scale(%q: tensor<1x8x16x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xf32>) -> (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) {
  %0 = qlow.attention %q, %k, %v {causal} : (tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32>
  %1 = qlow.attention %q, %k, %v {scale = 1.250000e-01 : f32} : (tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32>
  %2 = qlow.attention %q, %k, %v {causal, scale = 2.500000e-01 : f32} : (tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32>
  return %0, %1, %2 : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
}

// CHECK-LABEL: func.func @attention_decode_kv_cache(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<2x4x1x64xf32>,
// CHECK-SAME:    %[[K:[^:]+]]: tensor<2x4x128x64xf32>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<2x4x128x64xf32>)
// CHECK:         %[[O:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]] {causal} : (tensor<2x4x1x64xf32>, tensor<2x4x128x64xf32>, tensor<2x4x128x64xf32>) -> tensor<2x4x1x64xf32>
// CHECK:         return %[[O]] :
func.func @attention_decode_kv_cache(%q: tensor<2x4x1x64xf32>, %k: tensor<2x4x128x64xf32>, %v: tensor<2x4x128x64xf32>) -> tensor<2x4x1x64xf32> {
  %o = qlow.attention %q, %k, %v {causal} : (tensor<2x4x1x64xf32>, tensor<2x4x128x64xf32>, tensor<2x4x128x64xf32>) -> tensor<2x4x1x64xf32>
  return %o : tensor<2x4x1x64xf32>
}

// CHECK-LABEL: func.func @attention_masks(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<2x4x16x64xf32>,
// CHECK-SAME:    %[[K:[^:]+]]: tensor<2x4x32x64xf32>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<2x4x32x64xf32>,
// CHECK-SAME:    %[[FM:[^:]+]]: tensor<2x1x16x32xf32>,
// CHECK-SAME:    %[[BM:[^:]+]]: tensor<32xi1>,
// CHECK-SAME:    %[[FULL:[^:]+]]: tensor<2x4x16x32xf32>)
// CHECK:         %[[R0:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]], %[[FM]] : (tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32>, tensor<2x1x16x32xf32>) -> tensor<2x4x16x64xf32>
// CHECK:         %[[R1:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]], %[[BM]] {causal} : (tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32>, tensor<32xi1>) -> tensor<2x4x16x64xf32>
// CHECK:         %[[R2:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]], %[[FULL]] {scale = 1.000000e+00 : f32} : (tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x16x32xf32>) -> tensor<2x4x16x64xf32>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @attention_masks(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x64xf32>, %fm: tensor<2x1x16x32xf32>, %bm: tensor<32xi1>, %full: tensor<2x4x16x32xf32>) -> (tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>) {
  %0 = qlow.attention %q, %k, %v, %fm : (tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32>, tensor<2x1x16x32xf32>) -> tensor<2x4x16x64xf32>
  %1 = qlow.attention %q, %k, %v, %bm {causal} : (tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32>, tensor<32xi1>) -> tensor<2x4x16x64xf32>
  %2 = qlow.attention %q, %k, %v, %full {scale = 1.0 : f32} : (tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x16x32xf32>) -> tensor<2x4x16x64xf32>
  return %0, %1, %2 : tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>
}

// CHECK-LABEL: func.func @attention_quantized(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x4x8x16x!quant.uniform<i8:f32, 1.000000e-01>>,
// CHECK-SAME:    %[[K:[^:]+]]: tensor<1x4x8x16x!quant.uniform<i8:f32, 2.000000e-01>>,
// CHECK-SAME:    %[[V:[^:]+]]: tensor<1x4x8x16x!quant.uniform<i8:f32, 3.000000e-01>>)
// CHECK:         %[[O:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]] : (tensor<1x4x8x16x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<1x4x8x16x!quant.uniform<i8:f32, 2.000000e-01>>, tensor<1x4x8x16x!quant.uniform<i8:f32, 3.000000e-01>>) -> tensor<1x4x8x16x!quant.uniform<i8:f32, 5.000000e-02>>
// CHECK:         return %[[O]] :
func.func @attention_quantized(%q: tensor<1x4x8x16x!quant.uniform<i8:f32, 0.1>>, %k: tensor<1x4x8x16x!quant.uniform<i8:f32, 0.2>>, %v: tensor<1x4x8x16x!quant.uniform<i8:f32, 0.3>>) -> tensor<1x4x8x16x!quant.uniform<i8:f32, 0.05>> {
  %o = qlow.attention %q, %k, %v : (tensor<1x4x8x16x!quant.uniform<i8:f32, 0.1>>, tensor<1x4x8x16x!quant.uniform<i8:f32, 0.2>>, tensor<1x4x8x16x!quant.uniform<i8:f32, 0.3>>) -> tensor<1x4x8x16x!quant.uniform<i8:f32, 0.05>>
  return %o : tensor<1x4x8x16x!quant.uniform<i8:f32, 0.05>>
}

// CHECK-LABEL: func.func @embedding_f32(
// CHECK-SAME:    %[[T:[^:]+]]: tensor<1000x64xf32>,
// CHECK-SAME:    %[[IDS64:[^:]+]]: tensor<1x16xi64>,
// CHECK-SAME:    %[[IDS32:[^:]+]]: tensor<7xi32>)
// CHECK:         %[[R0:.+]] = qlow.embedding %[[T]], %[[IDS64]] : (tensor<1000x64xf32>, tensor<1x16xi64>) -> tensor<1x16x64xf32>
// CHECK:         %[[R1:.+]] = qlow.embedding %[[T]], %[[IDS32]] : (tensor<1000x64xf32>, tensor<7xi32>) -> tensor<7x64xf32>
// CHECK:         return %[[R0]], %[[R1]] :
func.func @embedding_f32(%t: tensor<1000x64xf32>, %ids64: tensor<1x16xi64>, %ids32: tensor<7xi32>) -> (tensor<1x16x64xf32>, tensor<7x64xf32>) {
  %0 = qlow.embedding %t, %ids64 : (tensor<1000x64xf32>, tensor<1x16xi64>) -> tensor<1x16x64xf32>
  %1 = qlow.embedding %t, %ids32 : (tensor<1000x64xf32>, tensor<7xi32>) -> tensor<7x64xf32>
  return %0, %1 : tensor<1x16x64xf32>, tensor<7x64xf32>
}

// CHECK-LABEL: func.func @embedding_quantized(
// CHECK-SAME:    %[[T:[^:]+]]: tensor<1000x64x!quant.uniform<i8:f32, 1.000000e-02>>,
// CHECK-SAME:    %[[TR:[^:]+]]: tensor<3x4x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01,3.000000e-01}>>,
// CHECK-SAME:    %[[IDS:[^:]+]]: tensor<1x16xi64>)
// CHECK:         %[[R0:.+]] = qlow.embedding %[[T]], %[[IDS]] : (tensor<1000x64x!quant.uniform<i8:f32, 1.000000e-02>>, tensor<1x16xi64>) -> tensor<1x16x64x!quant.uniform<i8:f32, 1.000000e-02>>
// CHECK:         %[[R1:.+]] = qlow.embedding %[[T]], %[[IDS]] : (tensor<1000x64x!quant.uniform<i8:f32, 1.000000e-02>>, tensor<1x16xi64>) -> tensor<1x16x64xf32>
// CHECK:         %[[R2:.+]] = qlow.embedding %[[TR]], %[[IDS]] : (tensor<3x4x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01,3.000000e-01}>>, tensor<1x16xi64>) -> tensor<1x16x4xf32>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @embedding_quantized(%t: tensor<1000x64x!quant.uniform<i8:f32, 0.01>>, %tr: tensor<3x4x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3}>>, %ids: tensor<1x16xi64>)
    -> (tensor<1x16x64x!quant.uniform<i8:f32, 0.01>>, tensor<1x16x64xf32>, tensor<1x16x4xf32>) {
  %0 = qlow.embedding %t, %ids : (tensor<1000x64x!quant.uniform<i8:f32, 0.01>>, tensor<1x16xi64>) -> tensor<1x16x64x!quant.uniform<i8:f32, 0.01>>
  %1 = qlow.embedding %t, %ids : (tensor<1000x64x!quant.uniform<i8:f32, 0.01>>, tensor<1x16xi64>) -> tensor<1x16x64xf32>
  %2 = qlow.embedding %tr, %ids : (tensor<3x4x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3}>>, tensor<1x16xi64>) -> tensor<1x16x4xf32>
  return %0, %1, %2 : tensor<1x16x64x!quant.uniform<i8:f32, 0.01>>, tensor<1x16x64xf32>, tensor<1x16x4xf32>
}

// Per-column and blocked tables dequantize to f32 too.
// CHECK-LABEL: func.func @embedding_per_column_and_blocked(
// CHECK:         qlow.embedding %{{.+}}, %{{.+}} : (tensor<8x2x!quant.uniform<i8:f32:1, {1.000000e-01,2.000000e-01}>>, tensor<3xi32>) -> tensor<3x2xf32>
// CHECK:         qlow.embedding %{{.+}}, %{{.+}} : (tensor<2x4x!quant.uniform<u4:f32:{0:1, 1:2}, {{\{\{}}1.000000e-01:3, 2.000000e-01:7}, {3.000000e-01, 4.000000e-01:5}}>>, tensor<3xi32>) -> tensor<3x4xf32>
func.func @embedding_per_column_and_blocked(%c: tensor<8x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>, %b: tensor<2x4x!quant.uniform<u4:f32:{0:1, 1:2}, {{0.1:3, 0.2:7}, {0.3:0, 0.4:5}}>>, %ids: tensor<3xi32>) -> (tensor<3x2xf32>, tensor<3x4xf32>) {
  %0 = qlow.embedding %c, %ids : (tensor<8x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>, tensor<3xi32>) -> tensor<3x2xf32>
  %1 = qlow.embedding %b, %ids : (tensor<2x4x!quant.uniform<u4:f32:{0:1, 1:2}, {{0.1:3, 0.2:7}, {0.3:0, 0.4:5}}>>, tensor<3xi32>) -> tensor<3x4xf32>
  return %0, %1 : tensor<3x2xf32>, tensor<3x4xf32>
}

// CHECK-LABEL: func.func @rope(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<1x8x16x64xf32>,
// CHECK-SAME:    %[[COS:[^:]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[SIN:[^:]+]]: tensor<16x32xf32>,
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<16x64x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK:         %[[R0:.+]] = qlow.rope %[[X]], %[[COS]], %[[SIN]] : (tensor<1x8x16x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<1x8x16x64xf32>
// CHECK:         %[[R1:.+]] = qlow.rope %[[X]], %[[COS]], %[[SIN]] {interleaved} : (tensor<1x8x16x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<1x8x16x64xf32>
// CHECK:         %[[R2:.+]] = qlow.rope %[[Q]], %[[COS]], %[[SIN]] {interleaved} : (tensor<16x64x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x64x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK:         return %[[R0]], %[[R1]], %[[R2]] :
func.func @rope(%x: tensor<1x8x16x64xf32>, %cos: tensor<16x32xf32>, %sin: tensor<16x32xf32>, %q: tensor<16x64x!quant.uniform<i8:f32, 0.1>>) -> (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<16x64x!quant.uniform<i8:f32, 0.1>>) {
  %0 = qlow.rope %x, %cos, %sin : (tensor<1x8x16x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<1x8x16x64xf32>
  %1 = qlow.rope %x, %cos, %sin {interleaved} : (tensor<1x8x16x64xf32>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<1x8x16x64xf32>
  %2 = qlow.rope %q, %cos, %sin {interleaved} : (tensor<16x64x!quant.uniform<i8:f32, 0.1>>, tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x64x!quant.uniform<i8:f32, 0.1>>
  return %0, %1, %2 : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<16x64x!quant.uniform<i8:f32, 0.1>>
}

// int8 attention: the precision flag and its key block round-trip.
// CHECK-LABEL: func.func @attention_int8(
// CHECK:         qlow.attention %{{.+}}, %{{.+}}, %{{.+}} {causal, int8, key_block = 32 : i64} : (tensor<1x4x5x20x!quant.uniform<i8:f32, 5.000000e-02>>, tensor<1x2x7x20x!quant.uniform<u8:f32, 4.000000e-02:130>>, tensor<1x2x7x12x!quant.uniform<i8:f32, 2.000000e-02:-3>>) -> tensor<1x4x5x12xf32>
func.func @attention_int8(%q: tensor<1x4x5x20x!quant.uniform<i8:f32, 0.05>>, %k: tensor<1x2x7x20x!quant.uniform<u8:f32, 0.04:130>>, %v: tensor<1x2x7x12x!quant.uniform<i8:f32, 0.02:-3>>) -> tensor<1x4x5x12xf32> {
  %o = qlow.attention %q, %k, %v {causal, int8, key_block = 32 : i64} : (tensor<1x4x5x20x!quant.uniform<i8:f32, 0.05>>, tensor<1x2x7x20x!quant.uniform<u8:f32, 0.04:130>>, tensor<1x2x7x12x!quant.uniform<i8:f32, 0.02:-3>>) -> tensor<1x4x5x12xf32>
  return %o : tensor<1x4x5x12xf32>
}
