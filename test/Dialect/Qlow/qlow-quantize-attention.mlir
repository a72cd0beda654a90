// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-attention-ranges.json ops=full attention-key-block=32" 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=QUIET --allow-empty < %t.remarks
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-attention-ranges.json ops=full" 2>&1 >/dev/null | FileCheck %s --check-prefix=DEFAULT
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-attention-ranges.json ops=partial attention-key-block=32" 2>&1 >/dev/null | FileCheck %s --check-prefix=PARTIAL
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-attention-ranges.json ops=full activation-bits=16 activation-scheme=symmetric attention-key-block=32" 2>&1 >/dev/null | FileCheck %s --check-prefix=BITS16
// RUN: not qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-attention-ranges.json ops=full attention-key-block=5000" -o %t.out.mlir 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not test -e %t.out.mlir
//
// qlow-quantize with ops=full and attention-key-block=Bk: qlow.attention
// becomes int8 attention ({int8, key_block = Bk}): q, k and v quantized per
// tensor with their probes' ranges (u8 asymmetric by default: q [-3, 3] ->
// 6/255 with zero point 128, k [-2, 2] -> 4/255 : 128, v [-1, 3] -> 4/255 :
// 64); the mask and causal attributes stay, the result stays f32. Without
// the option (the default), with ops=partial or with 16-bit activations it
// stays float with a remark saying why; a key block outside [0, 4096] is an
// error and nothing is written.

func.func @heads(%q: tensor<1x2x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>, %mask: tensor<1x1x1x8xf32>) -> tensor<1x2x8x16xf32> {
  %o = qlow.attention %q, %k, %v, %mask {causal} : (tensor<1x2x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x1x8xf32>) -> tensor<1x2x8x16xf32> loc("attn")
  return %o : tensor<1x2x8x16xf32>
}

// CHECK-LABEL: func.func @heads(
// CHECK-DAG:   %[[Q:.+]] = qlow.quantize %arg0 : tensor<1x2x8x16xf32> -> tensor<1x2x8x16x!quant.uniform<u8:f32, 0.023529411764705882:128>>
// CHECK-DAG:   %[[K:.+]] = qlow.quantize %arg1 : tensor<1x1x8x16xf32> -> tensor<1x1x8x16x!quant.uniform<u8:f32, 0.015686274509803921:128>>
// CHECK-DAG:   %[[V:.+]] = qlow.quantize %arg2 : tensor<1x1x8x16xf32> -> tensor<1x1x8x16x!quant.uniform<u8:f32, 0.015686274509803921:64>>
// CHECK:       %[[O:.+]] = qlow.attention %[[Q]], %[[K]], %[[V]], %arg3 {causal, int8, key_block = 32 : i64} : ({{.+}}, tensor<1x1x1x8xf32>) -> tensor<1x2x8x16xf32>
// CHECK-NEXT:  return %[[O]] : tensor<1x2x8x16xf32>

// QUIET-NOT: remark

// DEFAULT: remark: {{.*}}left in float: qlow.attention 'attn' (qlow-quantize has no integer-only form for it)
// PARTIAL: remark: {{.*}}left in float: qlow.attention 'attn' (ops=partial quantizes matmuls only)
// BITS16: remark: {{.*}}left in float: qlow.attention 'attn' (int8 attention takes 8-bit q, k and v, not 16-bit)
// RANGE: error: qlow-quantize: attention-key-block=5000 is outside [0, 4096] (0 keeps attention in float)
