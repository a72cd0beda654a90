// RUN: qlow-opt %s --qlow-x86-lower-intrinsics | FileCheck %s
// RUN: qlow-opt %s --qlow-x86-lower-intrinsics | qlow-opt | FileCheck %s

// CHECK-LABEL: func.func @zmm
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.+}}, %{{.+}}, %{{.+}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-NOT: qlow_x86
func.func @zmm(%acc: vector<16xi32>, %a: vector<64xi8>, %w: vector<64xi8>) -> vector<16xi32> {
  %d = qlow_x86.dot_u8s8 %acc, %a, %w : vector<64xi8> -> vector<16xi32>
  return %d : vector<16xi32>
}

// CHECK-LABEL: func.func @ymm
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
func.func @ymm(%acc: vector<8xi32>, %a: vector<32xi8>, %w: vector<32xi8>) -> vector<8xi32> {
  %d = qlow_x86.dot_u8s8 %acc, %a, %w : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// CHECK-LABEL: func.func @pairs
// CHECK: %[[P:.+]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%{{.+}}, %{{.+}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// CHECK: arith.addi %{{.+}}, %[[P]] : vector<8xi32>
func.func @pairs(%acc: vector<8xi32>, %a: vector<16xi16>, %w: vector<16xi16>) -> vector<8xi32> {
  %d = qlow_x86.dot_i16x2 %acc, %a, %w : vector<16xi16> -> vector<8xi32>
  return %d : vector<8xi32>
}

// vpmaddubsw into i16 pairs, vpmaddwd against ones into i32, then the add.
// CHECK-LABEL: func.func @byte_pairs
// CHECK-DAG: %[[ONES:.+]] = arith.constant dense<1> : vector<16xi16>
// CHECK-DAG: %[[P:.+]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg1, %arg2) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// CHECK: %[[Q:.+]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[P]], %[[ONES]]) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// CHECK: arith.addi %arg0, %[[Q]] : vector<8xi32>
// CHECK-NOT: qlow_x86
func.func @byte_pairs(%acc: vector<8xi32>, %a: vector<32xi8>, %w: vector<32xi8>) -> vector<8xi32> {
  %d = qlow_x86.dot_u8s8_pairs %acc, %a, %w : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// vpmaddubsw alone: the i16 pair sums.
// CHECK-LABEL: func.func @pair_sums
// CHECK: %[[S:.+]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg0, %arg1) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// CHECK: return %[[S]]
// CHECK-NOT: qlow_x86
func.func @pair_sums(%w: vector<32xi8>, %a: vector<32xi8>) -> vector<16xi16> {
  %s = qlow_x86.pair_sums_u8s8 %w, %a : vector<32xi8> -> vector<16xi16>
  return %s : vector<16xi16>
}

// vpermi2b: the intrinsic takes the first table, the indices, the second
// table.
// CHECK-LABEL: func.func @permute_bytes2
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"(%arg1, %arg0, %arg2) : (vector<64xi8>, vector<64xi8>, vector<64xi8>) -> vector<64xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.256"(%arg4, %arg3, %arg4)
// CHECK-NOT: qlow_x86
func.func @permute_bytes2(%i: vector<64xi8>, %lo: vector<64xi8>, %hi: vector<64xi8>, %j: vector<32xi8>, %t: vector<32xi8>) -> (vector<64xi8>, vector<32xi8>) {
  %r = qlow_x86.permute_bytes2 %i, %lo, %hi : vector<64xi8>
  %s = qlow_x86.permute_bytes2 %j, %t, %t : vector<32xi8>
  return %r, %s : vector<64xi8>, vector<32xi8>
}

// vpermps: the intrinsics take the table, then the indices.
// CHECK-LABEL: func.func @permute_f32
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"(%arg1, %arg0) : (vector<16xf32>, vector<16xi32>) -> vector<16xf32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx2.permps"(%arg3, %arg2) : (vector<8xf32>, vector<8xi32>) -> vector<8xf32>
// CHECK-NOT: qlow_x86
func.func @permute_f32(%i: vector<16xi32>, %t: vector<16xf32>, %j: vector<8xi32>, %u: vector<8xf32>) -> (vector<16xf32>, vector<8xf32>) {
  %r = qlow_x86.permute_f32 %i, %t : vector<16xi32>, vector<16xf32>
  %s = qlow_x86.permute_f32 %j, %u : vector<8xi32>, vector<8xf32>
  return %r, %s : vector<16xf32>, vector<8xf32>
}

// With avx2-dot-u8s8 (CPUs without VNNI), a ymm dot_u8s8 becomes the exact
// AVX2 sequence: the s8 operand's low nibble (and 15) and signed high nibble
// ((w >> 4 & 15) ^ 8) - 8, a vpmaddubsw of each, vpmaddwd of the high one by
// 16s and of the low one by 1s, added to the accumulator; zmm ones keep
// vpdpbusd.
// RUN: qlow-opt %s --qlow-x86-lower-intrinsics=avx2-dot-u8s8=true | FileCheck %s --check-prefix=AVX2
// AVX2-LABEL: func.func @dot_ymm
// AVX2: %[[LO:.+]] = arith.andi %arg2, %{{.+}} : vector<32xi8>
// AVX2: arith.shrui %{{.+}}, %{{.+}} : vector<16xi16>
// AVX2: %[[HI:.+]] = arith.subi %{{.+}}, %{{.+}} : vector<32xi8>
// AVX2-DAG: %[[PH:.+]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg1, %[[HI]])
// AVX2-DAG: %[[PL:.+]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg1, %[[LO]])
// AVX2-DAG: %[[QH:.+]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[PH]], %{{.+}})
// AVX2-DAG: %[[QL:.+]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[PL]], %{{.+}})
// AVX2: %[[S:.+]] = arith.addi %[[QH]], %[[QL]] : vector<8xi32>
// AVX2: arith.addi %arg0, %[[S]] : vector<8xi32>
// AVX2-NOT: vpdpbusd
func.func @dot_ymm(%acc: vector<8xi32>, %a: vector<32xi8>, %w: vector<32xi8>) -> vector<8xi32> {
  %d = qlow_x86.dot_u8s8 %acc, %a, %w : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}
