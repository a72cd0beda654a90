// RUN: qlow-opt %s | qlow-opt | FileCheck %s
// RUN: qlow-opt %s --mlir-print-op-generic | qlow-opt | FileCheck %s

// CHECK-LABEL: func.func @dot
// CHECK: qlow_x86.dot_u8s8 %{{.+}}, %{{.+}}, %{{.+}} : vector<64xi8> -> vector<16xi32>
// CHECK: qlow_x86.dot_u8s8 %{{.+}}, %{{.+}}, %{{.+}} : vector<32xi8> -> vector<8xi32>
func.func @dot(%acc: vector<16xi32>, %a: vector<64xi8>, %acc8: vector<8xi32>, %b: vector<32xi8>) -> (vector<16xi32>, vector<8xi32>) {
  %d = qlow_x86.dot_u8s8 %acc, %a, %a : vector<64xi8> -> vector<16xi32>
  %e = qlow_x86.dot_u8s8 %acc8, %b, %b : vector<32xi8> -> vector<8xi32>
  return %d, %e : vector<16xi32>, vector<8xi32>
}

// CHECK-LABEL: func.func @pairs
// CHECK: qlow_x86.dot_i16x2 %{{.+}}, %{{.+}}, %{{.+}} : vector<16xi16> -> vector<8xi32>
func.func @pairs(%acc: vector<8xi32>, %a: vector<16xi16>) -> vector<8xi32> {
  %d = qlow_x86.dot_i16x2 %acc, %a, %a : vector<16xi16> -> vector<8xi32>
  return %d : vector<8xi32>
}

// CHECK-LABEL: func.func @byte_pairs
// CHECK: qlow_x86.dot_u8s8_pairs %{{.+}}, %{{.+}}, %{{.+}} : vector<32xi8> -> vector<8xi32>
func.func @byte_pairs(%acc: vector<8xi32>, %a: vector<32xi8>, %w: vector<32xi8>) -> vector<8xi32> {
  %d = qlow_x86.dot_u8s8_pairs %acc, %a, %w : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// CHECK-LABEL: func.func @pair_sums
// CHECK: qlow_x86.pair_sums_u8s8 %{{.+}}, %{{.+}} : vector<32xi8> -> vector<16xi16>
func.func @pair_sums(%w: vector<32xi8>, %a: vector<32xi8>) -> vector<16xi16> {
  %s = qlow_x86.pair_sums_u8s8 %w, %a : vector<32xi8> -> vector<16xi16>
  return %s : vector<16xi16>
}

// CHECK-LABEL: func.func @permute_bytes2
// CHECK: qlow_x86.permute_bytes2 %{{.+}}, %{{.+}}, %{{.+}} : vector<64xi8>
// CHECK: qlow_x86.permute_bytes2 %{{.+}}, %{{.+}}, %{{.+}} : vector<16xi8>
func.func @permute_bytes2(%i: vector<64xi8>, %lo: vector<64xi8>, %hi: vector<64xi8>, %x: vector<16xi8>) -> (vector<64xi8>, vector<16xi8>) {
  %r = qlow_x86.permute_bytes2 %i, %lo, %hi : vector<64xi8>
  %s = qlow_x86.permute_bytes2 %x, %x, %x : vector<16xi8>
  return %r, %s : vector<64xi8>, vector<16xi8>
}

// CHECK-LABEL: func.func @permute_f32
// CHECK: qlow_x86.permute_f32 %{{.+}}, %{{.+}} : vector<16xi32>, vector<16xf32>
// CHECK: qlow_x86.permute_f32 %{{.+}}, %{{.+}} : vector<8xi32>, vector<8xf32>
func.func @permute_f32(%i: vector<16xi32>, %t: vector<16xf32>, %j: vector<8xi32>, %u: vector<8xf32>) -> (vector<16xf32>, vector<8xf32>) {
  %r = qlow_x86.permute_f32 %i, %t : vector<16xi32>, vector<16xf32>
  %s = qlow_x86.permute_f32 %j, %u : vector<8xi32>, vector<8xf32>
  return %r, %s : vector<16xf32>, vector<8xf32>
}
