// RUN: qlow-opt %s --qlow-quantize="mode=dynamic" 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks
// RUN: qlow-opt %s --qlow-quantize="mode=dynamic activation-scheme=symmetric dynamic-granularity=per-tensor ops=full report=false" | FileCheck %s --check-prefix=SYM
// RUN: qlow-opt %s --qlow-quantize="mode=dynamic weight-bits=4 weight-granularity=per-group group-size=4 report=false" | FileCheck %s --check-prefix=INT4
//
// mode=dynamic: no ranges; each matmul with constant weights quantizes its
// activations at run time (#qlow.dynamic), keeps its f32 bias and result;
// the activation-times-activation matmul, add and gelu stay f32.

func.func @block(%x: tensor<4x8xf32>, %k: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %w1 = arith.constant dense<[[0.5, -0.25, 0.125, 1.0], [0.1, 0.2, -0.3, 0.4], [-0.5, 0.6, 0.7, -0.8], [0.9, -1.0, 0.05, 0.15], [0.25, 0.35, -0.45, 0.55], [-0.65, 0.75, 0.85, -0.95], [0.3, -0.2, 0.1, 0.0], [0.4, 0.5, -0.6, 0.7]]> : tensor<8x4xf32>
  %b1 = arith.constant dense<[0.1, -0.2, 0.3, -0.4]> : tensor<4xf32>
  %y = qlow.matmul %x, %w1, %b1 : (tensor<4x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<4x4xf32> loc("fc1")
  %s = qlow.matmul %y, %k : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc("scores")
  %g = qlow.gelu %s : tensor<4x4xf32> -> tensor<4x4xf32> loc("act")
  %a = qlow.add %g, %y : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc("res")
  return %a : tensor<4x4xf32>
}

// CHECK-LABEL: func.func @block(
// CHECK-DAG:   %[[B:.+]] = arith.constant dense<[1.000000e-01, -2.000000e-01, 3.000000e-01, -4.000000e-01]> : tensor<4xf32>
// CHECK-DAG:   %[[WI:.+]] = arith.constant dense<{{\[\[}}71, -32, 19, 127]{{.*}}> : tensor<8x4xi8>
// CHECK-DAG:   %[[W:.+]] = quant.scast %[[WI]] : tensor<8x4xi8> to tensor<8x4x!quant.uniform<i8:f32:1, {0.0070866139854971815,
// CHECK:       %[[Y:.+]] = qlow.matmul %arg0, %[[W]], %[[B]] {dynamic = #qlow.dynamic<per_row, u8, asymmetric>} : (tensor<4x8xf32>, {{.*}}, tensor<4xf32>) -> tensor<4x4xf32>
// CHECK:       qlow.matmul %[[Y]], %arg1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NOT:   qlow.quantize
// CHECK-NOT:   qlow.dequantize

// REMARK: remark: {{.*}}left in float: qlow.matmul 'scores' (its rhs is not a constant (mode=dynamic quantizes constant weights only))
// REMARK: remark: {{.*}}left in float: qlow.gelu 'act' (ops=partial quantizes matmuls only)
// REMARK: remark: {{.*}}left in float: qlow.add 'res' (ops=partial quantizes matmuls only)

// SYM: qlow.matmul %arg0, {{.*}}{dynamic = #qlow.dynamic<per_tensor, i8, symmetric>}
// SYM-NOT: qlow.quantize

// INT4: quant.scast {{.*}} : tensor<8x4xi4> to tensor<8x4x!quant.uniform<i4:f32:{0:4, 1:1}
// INT4: qlow.matmul %arg0, {{.*}}{dynamic = #qlow.dynamic<per_row, u8, asymmetric>}
