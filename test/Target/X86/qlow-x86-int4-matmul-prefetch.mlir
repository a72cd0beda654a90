// RUN: qlow-opt %s --qlow-x86-int4-matmul="cpu=znver5" --split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-x86-int4-matmul="cpu=alderlake" --split-input-file | FileCheck %s --check-prefix=YMM
// RUN: qlow-opt %s --qlow-x86-int4-matmul="cpu=haswell" --split-input-file | FileCheck %s --check-prefix=AVX2

// The decode case (M = 1: one block of rows, each weight byte read once):
// every step of 4 along K prefetches its weight lines
// TargetDesc::int4PrefetchBytes (8192) ahead in the packed stream, through a
// flat read-only view of the packed constant. znver5: 136 columns in 3 panels
// of 64 (4 zmm), 128 bytes per step, so 2 prefetches per step (one per
// 64-byte line), the step 8192 bytes ahead clamped to the last step's start
// (3 * 32 * 128 - 128 = 12160), locality 0 (prefetchnta).
// CHECK-LABEL: func.func @decode
// CHECK: %[[PACKED:.+]] = arith.constant dense<{{.+}}> : tensor<3x32x128xi8>
// CHECK: %[[BUF:.+]] = bufferization.to_buffer %[[PACKED]] read_only : tensor<3x32x128xi8> to memref<3x32x128xi8>
// CHECK: %[[FLAT:.+]] = memref.collapse_shape %[[BUF]] {{\[}}[0, 1, 2]] : memref<3x32x128xi8> into memref<12288xi8>
// CHECK-DAG: %[[DIST:.+]] = arith.constant 8192 : index
// CHECK-DAG: %[[LAST:.+]] = arith.constant 12160 : index
// CHECK: scf.forall (%[[P:[a-z0-9_]+]]) in (3)
// CHECK: scf.for %[[S:[a-z0-9_]+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (vector<16xi32>,
// CHECK: vector.transfer_read %[[PACKED]][%[[P]], %[[S]], %{{.+}}]
// CHECK: %[[PS:.+]] = arith.muli %[[P]], %c32{{(_[0-9]+)?}} : index
// CHECK: %[[STEP:.+]] = arith.addi %[[PS]], %[[S]] : index
// CHECK: %[[START:.+]] = arith.muli %[[STEP]], %c128{{(_[0-9]+)?}} : index
// CHECK: %[[AHEAD:.+]] = arith.addi %[[START]], %[[DIST]] : index
// CHECK: %[[AT:.+]] = arith.minsi %[[AHEAD]], %[[LAST]] : index
// CHECK: %[[AT0:.+]] = arith.addi %[[AT]], %{{.+}} : index
// CHECK: memref.prefetch %[[FLAT]][%[[AT0]]], read, locality<0>, data : memref<12288xi8>
// CHECK: %[[AT64:.+]] = arith.addi %[[AT]], %c64{{.*}} : index
// CHECK: memref.prefetch %[[FLAT]][%[[AT64]]], read, locality<0>, data : memref<12288xi8>
// CHECK-NOT: memref.prefetch
// CHECK: qlow_x86.dot_u8s8
// CHECK: scf.forall.in_parallel

// On AVX-VNNI, 32-column panels of 4 ymm, 64 bytes per step: one prefetch per
// step.
// YMM-LABEL: func.func @decode
// YMM: bufferization.to_buffer %{{.+}} read_only : tensor<5x32x64xi8> to memref<5x32x64xi8>
// YMM: memref.prefetch %{{.+}}[%{{.+}}], read, locality<0>, data : memref<10240xi8>
// YMM-NOT: memref.prefetch
// YMM: qlow_x86.dot_u8s8

// On AVX2 (no VNNI: vpmaddubsw), the same ymm panels and one prefetch per
// step, 4096 bytes ahead (the AVX2 TargetDescs' distance).
// AVX2-LABEL: func.func @decode
// AVX2: bufferization.to_buffer %{{.+}} read_only : tensor<5x32x64xi8> to memref<5x32x64xi8>
// AVX2: %[[DIST:.+]] = arith.constant 4096 : index
// AVX2: arith.addi %{{.+}}, %[[DIST]] : index
// AVX2: memref.prefetch %{{.+}}[%{{.+}}], read, locality<0>, data : memref<10240xi8>
// AVX2-NOT: memref.prefetch
// AVX2: qlow_x86.pair_sums_u8s8
func.func @decode(%x: tensor<1x128xf32>) -> tensor<1x136xf32> {
  %w = arith.constant dense<3> : tensor<128x136xi4>
  %wq = quant.scast %w : tensor<128x136xi4> to tensor<128x136x!quant.uniform<i4:f32:{0:32, 1:136}, {{0.5}, {0.25}, {0.125}, {0.0625}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<1x128xf32>, tensor<128x136x!quant.uniform<i4:f32:{0:32, 1:136}, {{0.5}, {0.25}, {0.125}, {0.0625}}>>) -> tensor<1x136xf32>
  return %y : tensor<1x136xf32>
}

// -----

// 16 rows take several row blocks, and each panel's second pass reads its
// weights from L2: no prefetch.
// CHECK-LABEL: func.func @rows_16
// CHECK-NOT: bufferization.to_buffer
// CHECK-NOT: memref.prefetch
// CHECK: qlow_x86.dot_u8s8
// CHECK-NOT: memref.prefetch
// CHECK: return
func.func @rows_16(%x: tensor<16x128xf32>) -> tensor<16x64xf32> {
  %w = arith.constant dense<-2> : tensor<128x64xi4>
  %wq = quant.scast %w : tensor<128x64xi4> to tensor<128x64x!quant.uniform<i4:f32:{0:64, 1:64}, {{0.5}, {0.25}}>>
  %y = qlow.matmul %x, %wq {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<16x128xf32>, tensor<128x64x!quant.uniform<i4:f32:{0:64, 1:64}, {{0.5}, {0.25}}>>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
