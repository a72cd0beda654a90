// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-ranges.json" --mlir-print-debuginfo 2>%t.partial | FileCheck %s --check-prefix=PARTIAL
// RUN: FileCheck %s --check-prefix=PARTIAL-REMARK < %t.partial
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-ranges.json ops=full activation-scheme=symmetric" 2>%t.full | FileCheck %s --check-prefix=FULL
// RUN: FileCheck %s --check-prefix=FULL-REMARK --allow-empty < %t.full
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-ranges.json ops=full rounding=float report=false" | FileCheck %s --check-prefix=ROUNDING
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-ranges.json weight-granularity=per-tensor report=false" | FileCheck %s --check-prefix=TENSOR
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-ranges.json weight-bits=4 weight-granularity=per-group group-size=4 report=false" | FileCheck %s --check-prefix=GROUP
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-ranges.json ops=full activation-bits=16 report=false" | FileCheck %s --check-prefix=I16
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-ranges.json ops=full precision-file=%S/Inputs/qlow-quantize-precision.json" 2>%t.prec | FileCheck %s --check-prefix=PREC
// RUN: FileCheck %s --check-prefix=PREC-REMARK < %t.prec
// Every output verifies again and round-trips.
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-ranges.json ops=full report=false" | qlow-opt | FileCheck %s --check-prefix=FULL-ASYM
//
// A float block (matmul fc1 with bias, residual add res, gelu act, matmul
// fc2) quantized with the hand-written ranges of Inputs/: arg0 [-2, 2], arg1
// [-1, 1], fc1 [-4, 4], res [-5, 5], act [-0.2, 5]. Expected numbers:
//   u8 asymmetric arg0: scale 4/255 = 0.0156862..., zero point 128;
//   fc1 weights per channel: column 0 has max|w| 0.9, so scale 0.9/127 and
//   w[0][0] = round(0.5 / (0.9/127)) = round(70.56) = 71;
//   bias[0] = round(0.1 / (4/255 * 0.9/127)) = round(899.6) = 900.

func.func @mlp(%x: tensor<4x8xf32>, %r: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %w1 = arith.constant dense<[[0.5, -0.25, 0.125, 1.0], [0.1, 0.2, -0.3, 0.4], [-0.5, 0.6, 0.7, -0.8], [0.9, -1.0, 0.05, 0.15], [0.25, 0.35, -0.45, 0.55], [-0.65, 0.75, 0.85, -0.95], [0.3, -0.2, 0.1, 0.0], [0.4, 0.5, -0.6, 0.7]]> : tensor<8x4xf32>
  %b1 = arith.constant dense<[0.1, -0.2, 0.3, -0.4]> : tensor<4xf32>
  %y = qlow.matmul %x, %w1, %b1 : (tensor<4x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<4x4xf32> loc("fc1")
  %s = qlow.add %y, %r : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc("res")
  %g = qlow.gelu %s : tensor<4x4xf32> -> tensor<4x4xf32> loc("act")
  %w2 = arith.constant dense<[[0.5, -0.5, 0.25, -0.25], [1.0, 0.5, -1.0, 0.75], [0.2, 0.4, 0.6, 0.8], [-0.1, -0.3, 0.5, 0.7]]> : tensor<4x4xf32>
  %z = qlow.matmul %g, %w2 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc("fc2")
  return %z : tensor<4x4xf32>
}

// ops=partial (default), static, asymmetric u8 activations, i8 weights per
// channel: the matmuls are integer with an f32 result and an i32 bias; add
// and gelu stay f32; the names stay on the ops that had them.
// PARTIAL-LABEL: func.func @mlp(
// PARTIAL-DAG:   %[[X:.+]] = qlow.quantize %arg0 : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.015686274509803921:128>>
// PARTIAL-DAG:   %[[W1I:.+]] = arith.constant dense<{{\[\[}}71, -32, 19, 127], [14, 25, -45, 51], [-71, 76, 105, -102], [127, -127, 7, 19], [35, 44, -67, 70], [-92, 95, 127, -121], [42, -25, 15, 0], [56, 64, -90, 89]]> : tensor<8x4xi8>
// PARTIAL-DAG:   %[[W1:.+]] = quant.scast %[[W1I]] : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32:1, {0.0070866139854971815,0.0078740157480314959,0.0066929135735579364,0.0078740157480314959}>>
// PARTIAL-DAG:   %[[B1I:.+]] = arith.constant dense<[900, -1619, 2858, -3238]> : tensor<4xi32>
// PARTIAL-DAG:   %[[B1:.+]] = quant.scast %[[B1I]] : tensor<4xi32> to tensor<4x!quant.uniform<i32:f32:0, {1.1116257232152442E-4,
// PARTIAL:       %[[Y:.+]] = qlow.matmul %[[X]], %[[W1]], %[[B1]] {{.*}} -> tensor<4x4xf32> loc(#[[FC1:.+]])
// PARTIAL:       %[[S:.+]] = qlow.add %[[Y]], %arg1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// PARTIAL:       %[[G:.+]] = qlow.gelu %[[S]]
// PARTIAL:       %[[GQ:.+]] = qlow.quantize %[[G]] : tensor<4x4xf32> -> tensor<4x4x!quant.uniform<u8:f32, 0.020392156{{[0-9]+}}:10>>
// PARTIAL:       qlow.matmul %[[GQ]], %{{.+}} : {{.*}} -> tensor<4x4xf32> loc(#[[FC2:.+]])
// PARTIAL-NOT:   qlow.dequantize
// PARTIAL-DAG:   #[[FC1]] = loc("fc1"
// PARTIAL-DAG:   #[[FC2]] = loc("fc2"

// PARTIAL-REMARK: remark: {{.*}}left in float: qlow.add 'res' (ops=partial quantizes matmuls only)
// PARTIAL-REMARK: remark: {{.*}}left in float: qlow.gelu 'act' (ops=partial quantizes matmuls only)
// PARTIAL-REMARK-NOT: qlow.matmul

// ops=full, symmetric i8: fc1 feeds the quantized add, so its result is
// quantized with fc1's range (4/127.5); the add is quantized; gelu becomes
// qlow.int_gelu from res's type to act's type: the block is integer from the
// input quantizations to fc2's f32 result.
// FULL-LABEL: func.func @mlp(
// FULL-DAG:   %[[R:.+]] = qlow.quantize %arg1 : tensor<4x4xf32> -> tensor<4x4x!quant.uniform<i8:f32, 0.0078431372549019607>>
// FULL-DAG:   %[[X:.+]] = qlow.quantize %arg0 : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.015686274509803921>>
// FULL:       %[[Y:.+]] = qlow.matmul %[[X]], %{{.+}}, %{{.+}} : {{.*}} -> tensor<4x4x!quant.uniform<i8:f32, 0.031372549019607843>>
// FULL:       %[[S:.+]] = qlow.add %[[Y]], %[[R]] : {{.*}} -> tensor<4x4x!quant.uniform<i8:f32, 0.039215686274509803>>
// FULL:       %[[G:.+]] = qlow.int_gelu %[[S]] : tensor<4x4x!quant.uniform<i8:f32, 0.039215686274509803>> -> tensor<4x4x!quant.uniform<i8:f32, 0.039215686274509803>>
// FULL:       qlow.matmul %[[G]], %{{.+}} : {{.*}} -> tensor<4x4xf32>
// FULL-NOT:   qlow.dequantize
// FULL-REMARK-NOT: remark

// FULL-ASYM: qlow.matmul {{.*}} -> tensor<4x4x!quant.uniform<u8:f32, 0.031372549019607843:128>>
// FULL-ASYM: qlow.add {{.*}} -> tensor<4x4x!quant.uniform<u8:f32, 0.039215686274509803:128>>

// ROUNDING: qlow.matmul {{.*}}rounding = #qlow.rounding<float>
// ROUNDING: qlow.add {{.*}}rounding = #qlow.rounding<float>

// One weight scale: max|w1| = 1.0, so 1/127.
// TENSOR: quant.scast {{.*}} : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32, 0.0078740157480314959>>
// TENSOR: quant.scast {{.*}} : tensor<4xi32> to tensor<4x!quant.uniform<i32:f32, 1.2351397251814111E-4>>

// int4 in groups of 4 rows of K: the sub-channel type; the matmul has an f32
// result and the f32 bias is added after it.
// GROUP:      %[[W:.+]] = quant.scast {{.*}} : tensor<8x4xi4> to tensor<8x4x!quant.uniform<i4:f32:{0:4, 1:1}, {{\{\{}}0.128571421, 0.142857149, 1.000000e-01, 0.142857149}, {0.0928571373, 0.107142858, 0.121428572, 0.135714278}}>>
// GROUP:      %[[Y:.+]] = qlow.matmul %{{.+}}, %[[W]] : {{.*}} -> tensor<4x4xf32>
// GROUP-NEXT: qlow.add %[[Y]], %{{.+}} : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>

// 16-bit activations: i16 with the gemmlowp zero point.
// I16: qlow.quantize %arg0 : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i16:f32, 6.10360875867856{{[0-9]+}}E-5:-1>>
// I16: qlow.add {{.*}} -> tensor<4x4x!quant.uniform<i16:f32,
// I16: qlow.int_gelu {{.*}} -> tensor<4x4x!quant.uniform<i16:f32,

// The precision file: fc1 int4 per group, res in 16 bits (fc1's result is
// quantized for res in i16 too), fc2 skipped: act (int_gelu, 8 bits) reads
// res through a requantize and fc2 reads act dequantized.
// PREC:      qlow.matmul {{.*}}!quant.uniform<i4:f32:{0:4, 1:1}
// PREC-SAME: -> tensor<4x4xf32>
// PREC:      %[[YQ:.+]] = qlow.quantize %{{.+}} : tensor<4x4xf32> -> tensor<4x4x!quant.uniform<i16:f32,
// PREC:      qlow.add %[[YQ]], %{{.+}} : {{.*}} -> tensor<4x4x!quant.uniform<i16:f32,
// PREC:      %[[RQ:.+]] = qlow.requantize %{{.+}} : tensor<4x4x!quant.uniform<i16:f32, {{.*}}>> -> tensor<4x4x!quant.uniform<u8:f32,
// PREC:      %[[G:.+]] = qlow.int_gelu %[[RQ]]
// PREC:      %[[GD:.+]] = qlow.dequantize %[[G]]
// PREC:      qlow.matmul %[[GD]], %{{.+}} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// PREC-REMARK-NOT: qlow.gelu
// PREC-REMARK: remark: {{.*}}left in float: qlow.matmul 'fc2' (skipped by the precision file)
