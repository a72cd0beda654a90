// RUN: qlow-opt %s -split-input-file -verify-diagnostics

// vpdpbusd exists for 8 and 16 i32 lanes only.
func.func @four_lanes(%acc: vector<4xi32>, %a: vector<16xi8>) -> vector<4xi32> {
  // expected-error @+1 {{'qlow_x86.dot_u8s8' op accumulates into 8 (ymm) or 16 (zmm) i32 lanes, not 4}}
  %d = qlow_x86.dot_u8s8 %acc, %a, %a : vector<16xi8> -> vector<4xi32>
  return %d : vector<4xi32>
}

// -----

// Each i32 lane consumes 4 bytes of each operand.
func.func @wrong_bytes(%acc: vector<16xi32>, %a: vector<32xi8>) -> vector<16xi32> {
  // expected-error @+1 {{'qlow_x86.dot_u8s8' op needs 4 bytes per i32 lane: 64 i8 elements, not 32}}
  %d = qlow_x86.dot_u8s8 %acc, %a, %a : vector<32xi8> -> vector<16xi32>
  return %d : vector<16xi32>
}

// -----

// Each i32 lane consumes a pair of i16.
func.func @pairs_wrong_count(%acc: vector<8xi32>, %a: vector<8xi16>) -> vector<8xi32> {
  // expected-error @+1 {{'qlow_x86.dot_i16x2' op needs 2 i16 per i32 lane: 16 elements, not 8}}
  %d = qlow_x86.dot_i16x2 %acc, %a, %a : vector<8xi16> -> vector<8xi32>
  return %d : vector<8xi32>
}

// -----

func.func @pairs_four_lanes(%acc: vector<4xi32>, %a: vector<8xi16>) -> vector<4xi32> {
  // expected-error @+1 {{'qlow_x86.dot_i16x2' op accumulates into 8 (ymm) or 16 (zmm) i32 lanes, not 4}}
  %d = qlow_x86.dot_i16x2 %acc, %a, %a : vector<8xi16> -> vector<4xi32>
  return %d : vector<4xi32>
}

// -----

// The vpmaddubsw form is the AVX2 (ymm) one: no zmm.
func.func @byte_pairs_zmm(%acc: vector<16xi32>, %a: vector<64xi8>) -> vector<16xi32> {
  // expected-error @+1 {{'qlow_x86.dot_u8s8_pairs' op accumulates into 8 i32 lanes (ymm; the AVX2 form has no zmm), not 16}}
  %d = qlow_x86.dot_u8s8_pairs %acc, %a, %a : vector<64xi8> -> vector<16xi32>
  return %d : vector<16xi32>
}

// -----

// Each i32 lane consumes two pairs of bytes.
func.func @byte_pairs_wrong_bytes(%acc: vector<8xi32>, %a: vector<16xi8>) -> vector<8xi32> {
  // expected-error @+1 {{'qlow_x86.dot_u8s8_pairs' op needs 4 bytes per i32 lane: 32 i8 elements, not 16}}
  %d = qlow_x86.dot_u8s8_pairs %acc, %a, %a : vector<16xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// -----

// vpmaddubsw (pair_sums_u8s8) is the ymm form: 32 bytes.
func.func @pair_sums_zmm(%a: vector<64xi8>) -> vector<32xi16> {
  // expected-error @+1 {{'qlow_x86.pair_sums_u8s8' op takes 32 bytes (ymm), not 64}}
  %s = qlow_x86.pair_sums_u8s8 %a, %a : vector<64xi8> -> vector<32xi16>
  return %s : vector<32xi16>
}

// -----

// One i16 lane per pair of bytes.
func.func @pair_sums_lanes(%a: vector<32xi8>) -> vector<8xi16> {
  // expected-error @+1 {{'qlow_x86.pair_sums_u8s8' op has one i16 lane per 2 bytes: expected 16 lanes, not 8}}
  %s = qlow_x86.pair_sums_u8s8 %a, %a : vector<32xi8> -> vector<8xi16>
  return %s : vector<8xi16>
}

// -----

// vpermi2b exists on xmm, ymm and zmm: 16, 32 or 64 bytes.
func.func @permute_eight_bytes(%i: vector<8xi8>) -> vector<8xi8> {
  // expected-error @+1 {{'qlow_x86.permute_bytes2' op permutes 16 (xmm), 32 (ymm) or 64 (zmm) bytes, not 8}}
  %r = qlow_x86.permute_bytes2 %i, %i, %i : vector<8xi8>
  return %r : vector<8xi8>
}

// -----

// vpermps exists on ymm and zmm: 8 or 16 f32 lanes.
func.func @permute_four_floats(%i: vector<4xi32>, %t: vector<4xf32>) -> vector<4xf32> {
  // expected-error @+1 {{'qlow_x86.permute_f32' op permutes 8 (ymm) or 16 (zmm) f32 lanes, not 4}}
  %r = qlow_x86.permute_f32 %i, %t : vector<4xi32>, vector<4xf32>
  return %r : vector<4xf32>
}

// -----

// One index per lane of the table.
func.func @permute_f32_indices(%i: vector<8xi32>, %t: vector<16xf32>) -> vector<16xf32> {
  // expected-error @+1 {{'qlow_x86.permute_f32' op needs one index per lane: 16 lanes, 8 indices}}
  %r = qlow_x86.permute_f32 %i, %t : vector<8xi32>, vector<16xf32>
  return %r : vector<16xf32>
}
