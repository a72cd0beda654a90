// RUN: qlow-opt %s --split-input-file --qlow-x86-int8-softmax="cpu=znver4" | FileCheck %s
// RUN: qlow-opt %s --split-input-file --qlow-x86-int8-softmax="cpu=znver4 report=true" -verify-diagnostics -o /dev/null
// RUN: qlow-opt %s --split-input-file --qlow-x86-int8-softmax="cpu=znver4" --canonicalize | qlow-opt | FileCheck %s --check-prefix=ROUND
// AVX2 has 8 f32 lanes: 24 columns are 3 vectors there (and not 16-lane ones).
// RUN: qlow-opt %s --split-input-file --qlow-x86-int8-softmax="cpu=haswell" | FileCheck %s --check-prefix=AVX2
// An unknown CPU is an error at the function.
// RUN: not qlow-opt %s --split-input-file --qlow-x86-int8-softmax="cpu=nocpu" -o /dev/null 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: error: unknown x86_64 CPU 'nocpu'; known:

// ONNX QDQ attention probabilities: [1, 2, 8, 32] u8 scores -> u8. One
// forall over the 16 rows; per row two reads of 16 bytes, their unsigned
// maximum, per vector d = qm - q and exp(-s d) as the product of two vpermps
// lookups (exp(-16 s a) for a = d >> 4: exp(-0.64) = 0.527; exp(-s b):
// exp(-0.04) = 0.961), an f32 sum, one division, and two writes.
// CHECK-LABEL: func.func @qdq_probabilities
// CHECK: %[[Q:.+]] = quant.scast %{{.+}} : tensor<1x2x8x32x!quant.uniform<u8:f32, 4.000000e-02:133>> to tensor<1x2x8x32xi8>
// CHECK: %[[ROWS:.+]] = tensor.collapse_shape %[[Q]] {{\[}}[0, 1, 2], [3]] : tensor<1x2x8x32xi8> into tensor<16x32xi8>
// CHECK: scf.forall (%[[I:.+]]) in (16) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<16x32xi8>)
// CHECK: %[[X0:.+]] = vector.transfer_read %[[ROWS]][%[[I]], %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<16x32xi8>, vector<16xi8>
// CHECK: %[[X1:.+]] = vector.transfer_read %[[ROWS]][%[[I]], %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<16x32xi8>, vector<16xi8>
// CHECK: %[[LM:.+]] = arith.maxui %[[X0]], %[[X1]] : vector<16xi8>
// CHECK: %[[M:.+]] = vector.reduction <maxui>, %[[LM]] : vector<16xi8> into i8
// CHECK: %[[HIGH:.+]] = arith.constant dense<[1.000000e+00, 0.52729243, {{.+}}]> : vector<16xf32>
// CHECK: %[[LOW:.+]] = arith.constant dense<[1.000000e+00, 0.960789442, {{.+}}]> : vector<16xf32>
// CHECK: arith.extui %[[X0]] : vector<16xi8> to vector<16xi32>
// CHECK: %[[D:.+]] = arith.subi
// CHECK: %[[A:.+]] = arith.shrui %[[D]]
// CHECK: %[[EH:.+]] = qlow_x86.permute_f32 %[[A]], %[[HIGH]] : vector<16xi32>, vector<16xf32>
// CHECK: %[[EL:.+]] = qlow_x86.permute_f32 %[[D]], %[[LOW]] : vector<16xi32>, vector<16xf32>
// CHECK: %[[E0:.+]] = arith.mulf %[[EH]], %[[EL]] : vector<16xf32>
// CHECK: %[[E1:.+]] = arith.mulf %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK: %[[LS:.+]] = arith.addf %[[E0]], %[[E1]] : vector<16xf32>
// CHECK: vector.reduction <add>, %[[LS]] fastmath<reassoc> : vector<16xf32> into f32
// CHECK: arith.divf %{{.+}}, %{{.+}} : f32
// CHECK: math.roundeven %{{.+}} : vector<16xf32>
// CHECK: arith.trunci %{{.+}} : vector<16xi32> to vector<16xi8>
// CHECK: vector.transfer_write
// CHECK: vector.transfer_write
// CHECK: tensor.parallel_insert_slice %{{.+}} into %[[O]][%[[I]], 0] [1, 32] [1, 1]
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0, 1, 2], [3]] output_shape [1, 2, 8, 32]
// CHECK: quant.scast %{{.+}} : tensor<1x2x8x32xi8> to tensor<1x2x8x32x!quant.uniform<u8:f32, 1.300000e-03>>
// CHECK-NOT: qlow.softmax
// ROUND-LABEL: func.func @qdq_probabilities
// ROUND: scf.forall
// ROUND-NOT: qlow.softmax
// On AVX2 (8 lanes) the exponentials are math.exp (a polynomial later).
// AVX2-LABEL: func.func @qdq_probabilities
// AVX2: scf.forall
// AVX2-COUNT-4: math.exp %{{.+}} : vector<8xf32>
// AVX2-NOT: qlow_x86.permute_f32
// AVX2: vector.reduction <add>, %{{.+}} fastmath<reassoc> : vector<8xf32> into f32
func.func @qdq_probabilities(%s: tensor<1x2x8x32x!quant.uniform<u8:f32, 0.04:133>>) -> tensor<1x2x8x32x!quant.uniform<u8:f32, 0.0013>> {
  %p = qlow.softmax %s {axis = 3 : i64} : tensor<1x2x8x32x!quant.uniform<u8:f32, 0.04:133>> -> tensor<1x2x8x32x!quant.uniform<u8:f32, 0.0013>>
  return %p : tensor<1x2x8x32x!quant.uniform<u8:f32, 0.0013>>
}

// -----

// Signed storage: the maximum is a signed one, the bytes sign-extended; a
// rank-1 input is one row.
// CHECK-LABEL: func.func @signed_one_row
// ROUND-LABEL: func.func @signed_one_row
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0, 1]] output_shape [1, 16] : tensor<16xi8> into tensor<1x16xi8>
// CHECK: scf.forall (%{{.+}}) in (1)
// CHECK: vector.reduction <maxsi>, %{{.+}} : vector<16xi8> into i8
// CHECK: arith.extsi %{{.+}} : vector<16xi8> to vector<16xi32>
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1]] : tensor<1x16xi8> into tensor<16xi8>
func.func @signed_one_row(%s: tensor<16x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<16x!quant.uniform<i8:f32, 0.00390625:-128>> {
  %p = qlow.softmax %s : tensor<16x!quant.uniform<i8:f32, 0.1:-3>> -> tensor<16x!quant.uniform<i8:f32, 0.00390625:-128>>
  return %p : tensor<16x!quant.uniform<i8:f32, 0.00390625:-128>>
}

// -----

// 24 columns: 3 AVX2 vectors, but not a whole number of AVX-512 ones.
// CHECK-LABEL: func.func @avx2_only
// CHECK: qlow.softmax
// AVX2-LABEL: func.func @avx2_only
// AVX2: scf.forall
// AVX2-NOT: qlow.softmax
func.func @avx2_only(%s: tensor<4x24x!quant.uniform<u8:f32, 0.04:133>>) -> tensor<4x24x!quant.uniform<u8:f32, 0.0013>> {
  // expected-remark @+1 {{qlow-x86-int8-softmax leaves this softmax to convert-qlow-to-linalg: the last dimension (24) is not a multiple of 16 f32 lanes of at most 16 vectors}}
  %p = qlow.softmax %s : tensor<4x24x!quant.uniform<u8:f32, 0.04:133>> -> tensor<4x24x!quant.uniform<u8:f32, 0.0013>>
  return %p : tensor<4x24x!quant.uniform<u8:f32, 0.0013>>
}

// -----

// Rows longer than 16 vectors would not stay in registers.
// CHECK-LABEL: func.func @long_rows
// AVX2-LABEL: func.func @long_rows
// AVX2: qlow.softmax
// CHECK: qlow.softmax
func.func @long_rows(%s: tensor<2x272x!quant.uniform<u8:f32, 0.04:133>>) -> tensor<2x272x!quant.uniform<u8:f32, 0.0013>> {
  // expected-remark @+1 {{the last dimension (272) is not a multiple of 16 f32 lanes of at most 16 vectors}}
  %p = qlow.softmax %s : tensor<2x272x!quant.uniform<u8:f32, 0.04:133>> -> tensor<2x272x!quant.uniform<u8:f32, 0.0013>>
  return %p : tensor<2x272x!quant.uniform<u8:f32, 0.0013>>
}

// -----

// Not along the last axis: rows are not contiguous.
// CHECK-LABEL: func.func @first_axis
// CHECK: qlow.softmax
func.func @first_axis(%s: tensor<16x16x!quant.uniform<u8:f32, 0.04:133>>) -> tensor<16x16x!quant.uniform<u8:f32, 0.0013>> {
  // expected-remark @+1 {{the softmax is not along the last axis}}
  %p = qlow.softmax %s {axis = 0 : i64} : tensor<16x16x!quant.uniform<u8:f32, 0.04:133>> -> tensor<16x16x!quant.uniform<u8:f32, 0.0013>>
  return %p : tensor<16x16x!quant.uniform<u8:f32, 0.0013>>
}

// -----

// A float result: convert-qlow-to-linalg's exact division is kept.
// CHECK-LABEL: func.func @float_result
// CHECK: qlow.softmax
func.func @float_result(%s: tensor<4x16x!quant.uniform<u8:f32, 0.04:133>>) -> tensor<4x16xf32> {
  // expected-remark @+1 {{input and result must be quantized per tensor with 8-bit storage and f32 expressed type}}
  %p = qlow.softmax %s : tensor<4x16x!quant.uniform<u8:f32, 0.04:133>> -> tensor<4x16xf32>
  return %p : tensor<4x16xf32>
}

// -----

// 16-bit storage (sensitive tensors) is not a byte row.
// CHECK-LABEL: func.func @sixteen_bits
// CHECK: qlow.softmax
func.func @sixteen_bits(%s: tensor<4x16x!quant.uniform<i16:f32, 0.001>>) -> tensor<4x16x!quant.uniform<u8:f32, 0.0013>> {
  // expected-remark @+1 {{input and result must be quantized per tensor with 8-bit storage and f32 expressed type}}
  %p = qlow.softmax %s : tensor<4x16x!quant.uniform<i16:f32, 0.001>> -> tensor<4x16x!quant.uniform<u8:f32, 0.0013>>
  return %p : tensor<4x16x!quant.uniform<u8:f32, 0.0013>>
}

// -----

// Per-axis parameters differ along the rows' elements.
// CHECK-LABEL: func.func @per_axis
// CHECK: qlow.softmax
func.func @per_axis(%s: tensor<2x16x!quant.uniform<u8:f32:0, {0.04:133, 0.05:120}>>) -> tensor<2x16x!quant.uniform<u8:f32, 0.0013>> {
  // expected-remark @+1 {{input and result must be quantized per tensor with 8-bit storage and f32 expressed type}}
  %p = qlow.softmax %s : tensor<2x16x!quant.uniform<u8:f32:0, {0.04:133, 0.05:120}>> -> tensor<2x16x!quant.uniform<u8:f32, 0.0013>>
  return %p : tensor<2x16x!quant.uniform<u8:f32, 0.0013>>
}

// -----

// Dynamic row counts are not supported.
// CHECK-LABEL: func.func @dynamic
// CHECK: qlow.softmax
func.func @dynamic(%s: tensor<?x16x!quant.uniform<u8:f32, 0.04:133>>) -> tensor<?x16x!quant.uniform<u8:f32, 0.0013>> {
  // expected-remark @+1 {{dynamic shapes}}
  %p = qlow.softmax %s : tensor<?x16x!quant.uniform<u8:f32, 0.04:133>> -> tensor<?x16x!quant.uniform<u8:f32, 0.0013>>
  return %p : tensor<?x16x!quant.uniform<u8:f32, 0.0013>>
}
