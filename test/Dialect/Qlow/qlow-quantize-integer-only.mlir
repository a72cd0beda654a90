// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-integer-only-ranges.json ops=full" 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks
// RUN: qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-integer-only-ranges.json ops=full activation-bits=16 activation-scheme=symmetric report=false" | FileCheck %s --check-prefix=I16
// RUN: qlow-opt %s --qlow-quantize="mode=dynamic ops=full" -o /dev/null 2>&1 | FileCheck %s --check-prefix=DYNAMIC
//
// ops=full: layer_norm and softmax become qlow.int_layer_norm and
// qlow.int_softmax (I-BERT), from the input probe's type to their own
// probe's type (u8 asymmetric by default: ln [-2.5, 2.5] -> 5/255 with zero
// point 128, sm [0, 1] -> 1/255 with zero point 0); a layer_norm whose gamma
// is an argument stays f32 (int_layer_norm folds gamma and beta into
// constants). mode=dynamic has no ranges for them: they stay f32.

func.func @tail(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %gamma = arith.constant dense<[1.0, 0.9, 1.1, 1.0, 0.8, 1.2, 1.0, 1.0]> : tensor<8xf32>
  %beta = arith.constant dense<[0.0, 0.1, -0.1, 0.0, 0.2, -0.2, 0.0, 0.05]> : tensor<8xf32>
  %n = qlow.layer_norm %x, %gamma, %beta {epsilon = 1.0e-05 : f32} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32> loc("ln")
  %p = qlow.softmax %n {axis = -1 : i64} : tensor<4x8xf32> -> tensor<4x8xf32> loc("sm")
  %m = qlow.layer_norm %x, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> loc("ln_arg")
  return %p, %m : tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @tail(
// CHECK:       %[[X:.+]] = qlow.quantize %arg0 : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<u8:f32, 0.023529411764705882:128>>
// CHECK:       %[[N:.+]] = qlow.int_layer_norm %[[X]], %{{.+}}, %{{.+}} : (tensor<4x8x!quant.uniform<u8:f32, 0.023529411764705882:128>>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8x!quant.uniform<u8:f32, 0.019607843137254902:128>>
// CHECK:       %[[P:.+]] = qlow.int_softmax %[[N]] : tensor<4x8x!quant.uniform<u8:f32, 0.019607843137254902:128>> -> tensor<4x8x!quant.uniform<u8:f32, 0.0039215686274509803>>
// CHECK:       %[[PD:.+]] = qlow.dequantize %[[P]]
// CHECK:       %[[M:.+]] = qlow.layer_norm %arg0, %arg1 {{.*}} -> tensor<4x8xf32>
// CHECK:       return %[[PD]], %[[M]]

// REMARK: remark: {{.*}}left in float: qlow.layer_norm 'ln_arg' (gamma or beta is not a constant (qlow.int_layer_norm folds them into fixed-point constants))
// REMARK-NOT: remark

// I16: qlow.int_layer_norm {{.*}} -> tensor<4x8x!quant.uniform<i16:f32,
// I16: qlow.int_softmax {{.*}} -> tensor<4x8x!quant.uniform<i16:f32,

// DYNAMIC: remark: {{.*}}left in float: qlow.layer_norm 'ln' (mode=dynamic quantizes matmuls only (an integer-only op needs calibrated ranges))
// DYNAMIC: remark: {{.*}}left in float: qlow.softmax 'sm' (mode=dynamic quantizes matmuls only (an integer-only op needs calibrated ranges))
