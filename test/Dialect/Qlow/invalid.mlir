// RUN: qlow-opt %s -split-input-file -verify-diagnostics
//
// One case per verifier message of dialects/Qlow/IR (QlowOps.cpp and
// QuantTypeUtils.cpp), plus ODS-level and parser errors. Each case says why the
// input is wrong. Where upstream's quant type parser rejects a type before any
// qlow verifier sees it, the case checks upstream's error and says so; the
// C++-built path of those types is covered by the dialect's unit tests.

//===----------------------------------------------------------------------===//
// Quantized element types (QuantTypeUtils.cpp)
//===----------------------------------------------------------------------===//

// !quant.any carries no scale: qlow needs uniform types.
func.func @any_quantized_type(%x: tensor<8xf32>) -> tensor<8x!quant.any<i8:f32>> {
  // expected-error @+1 {{'qlow.quantize' op result has quantized type '!quant.any<i8:f32>', but qlow supports only uniform quantized types (per tensor, per axis or sub-channel)}}
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.any<i8:f32>>
  return %q : tensor<8x!quant.any<i8:f32>>
}

// -----

// A calibrated type is an unquantized range, not a uniform quantized type;
// the message names the operand.
func.func @calibrated_type(%q: tensor<8x!quant.calibrated<f32<-1.0:1.0>>>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.dequantize' op operand #0 has quantized type '!quant.calibrated<f32<-1.000000e+00:1.000000e+00>>', but qlow supports only uniform quantized types}}
  %x = qlow.dequantize %q : tensor<8x!quant.calibrated<f32<-1.0:1.0>>> -> tensor<8xf32>
  return %x : tensor<8xf32>
}

// -----

// Expressed types other than f32 are not supported.
func.func @expressed_f16(%x: tensor<8xf32>) -> tensor<8x!quant.uniform<i8:f16, 0.1>> {
  // expected-error @+1 {{'qlow.quantize' op result has expressed type 'f16', but qlow expects f32 expressed types}}
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f16, 0.1>>
  return %q : tensor<8x!quant.uniform<i8:f16, 0.1>>
}

// -----

// 9-bit storage: qlow supports 4, 8, 16 and 32 bits only.
func.func @storage_i9(%x: tensor<8xf32>) -> tensor<8x!quant.uniform<i9:f32, 0.1>> {
  // expected-error @+1 {{'qlow.quantize' op result has 9-bit storage; qlow supports 4, 8, 16 and 32 bits}}
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<i9:f32, 0.1>>
  return %q : tensor<8x!quant.uniform<i9:f32, 0.1>>
}

// -----

// Storage range wider than the storage type. qlow's "has storage range [..],
// which does not fit in .." is unreachable from text: upstream's parser
// rejects the type first.
// expected-error @+1 {{illegal storage type minimum: -200}}
func.func @storage_range_too_wide(%x: tensor<8x!quant.uniform<i8<-200:7>:f32, 0.1>>) {
  return
}

// -----

// Empty storage range (min > max): also rejected by upstream's parser.
// expected-error @+1 {{illegal storage min and storage max: (7:-8)}}
func.func @storage_range_empty(%x: tensor<8x!quant.uniform<i8<7:-8>:f32, 0.1>>) {
  return
}

// -----

// A NaN scale passes upstream's range check (NaN compares false) and is
// caught by qlow. (The alias matters: a type with a NaN scale is not uniqued,
// so two spellings of it are two different types.)
!nan_scale = !quant.uniform<i8:f32, 0x7FF8000000000000>
func.func @scale_nan(%x: tensor<8xf32>) -> tensor<8x!nan_scale> {
  // expected-error @+1 {{'qlow.quantize' op result has scale nan: scales must be positive and finite}}
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!nan_scale>
  return %q : tensor<8x!nan_scale>
}

// -----

// Zero scale: upstream's parser rejects it before qlow's "scales must be
// positive and finite".
// expected-error @+1 {{scale 0.000000e+00 out of expressed type range}}
func.func @scale_zero(%x: tensor<8x!quant.uniform<i8:f32, 0.0>>) {
  return
}

// -----

// Negative scale: rejected by upstream's parser.
// expected-error @+1 {{scale -1.000000e-01 out of expressed type range}}
func.func @scale_negative(%x: tensor<8x!quant.uniform<i8:f32, -0.1>>) {
  return
}

// -----

// Infinite scale: rejected by upstream's parser.
// expected-error @+1 {{scale INF out of expressed type range}}
func.func @scale_inf(%x: tensor<8x!quant.uniform<i8:f32, 0x7FF0000000000000>>) {
  return
}

// -----

// Zero point 300 does not fit in i8; upstream's parser accepts it.
func.func @zero_point_out_of_range(%x: tensor<8xf32>) -> tensor<8x!quant.uniform<i8:f32, 0.1:300>> {
  // expected-error @+1 {{'qlow.quantize' op result has zero point 300 outside the storage range [-128, 127] of i8}}
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.1:300>>
  return %q : tensor<8x!quant.uniform<i8:f32, 0.1:300>>
}

// -----

// A negative zero point cannot be stored in u8.
func.func @zero_point_negative_unsigned(%x: tensor<8xf32>) -> tensor<8x!quant.uniform<u8:f32, 0.1:-1>> {
  // expected-error @+1 {{'qlow.quantize' op result has zero point -1 outside the storage range [0, 255] of u8}}
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<u8:f32, 0.1:-1>>
  return %q : tensor<8x!quant.uniform<u8:f32, 0.1:-1>>
}

// -----

// The zero point must also lie inside a narrowed storage range.
func.func @zero_point_outside_narrow_range(%x: tensor<8xf32>) -> tensor<8x!quant.uniform<i8<-100:100>:f32, 0.1:-120>> {
  // expected-error @+1 {{'qlow.quantize' op result has zero point -120 outside the storage range [-100, 100] of i8}}
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<i8<-100:100>:f32, 0.1:-120>>
  return %q : tensor<8x!quant.uniform<i8<-100:100>:f32, 0.1:-120>>
}

// -----

// Per-axis quantization along axis 2 of a rank-2 tensor.
func.func @per_axis_axis_out_of_range(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:2, {0.1, 0.2}>> {
  // expected-error @+1 {{'qlow.quantize' op result is quantized along axis 2, which is out of range for a tensor of rank 2}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:2, {0.1, 0.2}>>
  return %q : tensor<4x2x!quant.uniform<i8:f32:2, {0.1, 0.2}>>
}

// -----

// Three scales for a dimension of size 2.
// (qlow's "has N scales but M zero points" is unreachable from text: the
// syntax writes each zero point with its scale.)
func.func @per_axis_scale_count(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> {
  // expected-error @+1 {{'qlow.quantize' op result has 3 scales along axis 1, but that dimension has size 2: give one scale per channel}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>
  return %q : tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>
}

// -----

// Every channel's zero point is checked, not only the first.
func.func @per_axis_zero_point(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<u8:f32:1, {0.1:128, 0.2:256}>> {
  // expected-error @+1 {{'qlow.quantize' op result has zero point 256 outside the storage range [0, 255] of u8}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<u8:f32:1, {0.1:128, 0.2:256}>>
  return %q : tensor<4x2x!quant.uniform<u8:f32:1, {0.1:128, 0.2:256}>>
}

// -----

// Every channel's scale is checked: the second one is NaN.
!nan_channel = !quant.uniform<i8:f32:1, {0.1, 0x7FF8000000000000}>
func.func @per_axis_scale_nan(%x: tensor<4x2xf32>) -> tensor<4x2x!nan_channel> {
  // expected-error @+1 {{'qlow.quantize' op result has scale nan: scales must be positive and finite}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!nan_channel>
  return %q : tensor<4x2x!nan_channel>
}

// -----

// A sub-channel scale tensor must have the rank of the data tensor.
func.func @sub_channel_scale_rank(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:{0:2}, {0.1, 0.2}>> {
  // expected-error @+1 {{'qlow.quantize' op result has a scale tensor of rank 1 for a tensor of rank 2}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:{0:2}, {0.1, 0.2}>>
  return %q : tensor<4x2x!quant.uniform<i8:f32:{0:2}, {0.1, 0.2}>>
}

// -----

// Blocks along axis 2 of a rank-2 tensor.
func.func @sub_channel_axis_out_of_range(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:{2:2}, {{0.1}, {0.2}}>> {
  // expected-error @+1 {{'qlow.quantize' op result is blocked along axis 2, which is out of range for a tensor of rank 2}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:{2:2}, {{0.1}, {0.2}}>>
  return %q : tensor<4x2x!quant.uniform<i8:f32:{2:2}, {{0.1}, {0.2}}>>
}

// -----

// Two block sizes for axis 0 (upstream's parser accepts this): which applies?
func.func @sub_channel_axis_twice(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:{0:4, 0:2}, {{0.1}, {0.2}}>> {
  // expected-error @+1 {{'qlow.quantize' op result is blocked along axis 0 twice: give each axis one block size}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:{0:4, 0:2}, {{0.1}, {0.2}}>>
  return %q : tensor<4x2x!quant.uniform<i8:f32:{0:4, 0:2}, {{0.1}, {0.2}}>>
}

// -----

// Block size 3 does not divide the dimension size 4.
func.func @sub_channel_block_size(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:{0:3}, {{0.1}, {0.2}}>> {
  // expected-error @+1 {{'qlow.quantize' op result has block size 3 along axis 0, which does not divide the dimension size 4}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:{0:3}, {{0.1}, {0.2}}>>
  return %q : tensor<4x2x!quant.uniform<i8:f32:{0:3}, {{0.1}, {0.2}}>>
}

// -----

// Block size 0: upstream's parser rejects it before qlow's block-size check.
// expected-error @+1 {{illegal block size: 0}}
func.func @sub_channel_block_size_zero(%x: tensor<4x2x!quant.uniform<i8:f32:{0:0}, {{0.1}, {0.2}}>>) {
  return
}

// -----

// Axis 1 is not blocked, so it has one block (one scale), not two.
func.func @sub_channel_scales_per_block(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:{0:2}, {{0.1, 0.1}, {0.2, 0.2}}>> {
  // expected-error @+1 {{'qlow.quantize' op result has 2 scales along axis 1, expected 1 (one per block)}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:{0:2}, {{0.1, 0.1}, {0.2, 0.2}}>>
  return %q : tensor<4x2x!quant.uniform<i8:f32:{0:2}, {{0.1, 0.1}, {0.2, 0.2}}>>
}

// -----

// A block's zero point must lie inside the storage range. (Upstream's parser
// truncates sub-channel zero points to the storage width, so only a narrowed
// range can show this from text.)
func.func @sub_channel_zero_point(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<i8<-100:100>:f32:{0:2}, {{0.1:-120}, {0.2}}>> {
  // expected-error @+1 {{'qlow.quantize' op result has zero point -120 outside the storage range [-100, 100] of i8}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8<-100:100>:f32:{0:2}, {{0.1:-120}, {0.2}}>>
  return %q : tensor<4x2x!quant.uniform<i8<-100:100>:f32:{0:2}, {{0.1:-120}, {0.2}}>>
}

// -----

// A block's scale is NaN.
func.func @sub_channel_scale_nan(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<i8:f32:{0:2}, {{0.1}, {0x7FF8000000000000}}>> {
  // expected-error @+1 {{'qlow.quantize' op result has scale nan: scales must be positive and finite}}
  %q = qlow.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:{0:2}, {{0.1}, {0x7FF8000000000000}}>>
  return %q : tensor<4x2x!quant.uniform<i8:f32:{0:2}, {{0.1}, {0x7FF8000000000000}}>>
}

//===----------------------------------------------------------------------===//
// quantize, dequantize, requantize, fake_quant, observe
//===----------------------------------------------------------------------===//

// -----

// quantize takes f32, not integers.
func.func @quantize_int_input(%x: tensor<8xi32>) -> tensor<8x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.quantize' op input must be a tensor of f32, but has type 'tensor<8xi32>'}}
  %q = qlow.quantize %x : tensor<8xi32> -> tensor<8x!quant.uniform<i8:f32, 0.1>>
  return %q : tensor<8x!quant.uniform<i8:f32, 0.1>>
}

// -----

// quantize must produce a quantized type.
func.func @quantize_f32_result(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.quantize' op result must be a tensor of a quantized type such as !quant.uniform<i8:f32, 0.1>, but has type 'tensor<8xf32>'}}
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<8xf32>
  return %q : tensor<8xf32>
}

// -----

// quantize keeps the shape.
func.func @quantize_shape(%x: tensor<8xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.quantize' op result shape [4] must equal the input shape [8]}}
  %q = qlow.quantize %x : tensor<8xf32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// dequantize takes a quantized tensor.
func.func @dequantize_f32_input(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.dequantize' op input must be a tensor of a quantized type, but has type 'tensor<8xf32>'}}
  %y = qlow.dequantize %x : tensor<8xf32> -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// dequantize produces the expressed type f32, not the storage type.
func.func @dequantize_int_result(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8xi8> {
  // expected-error @+1 {{'qlow.dequantize' op result must be a tensor of f32 (the expressed type), but has type 'tensor<8xi8>'}}
  %x = qlow.dequantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8xi8>
  return %x : tensor<8xi8>
}

// -----

// dequantize keeps the shape (dynamic sizes match anything, static ones must agree).
func.func @dequantize_shape(%q: tensor<?x8x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'qlow.dequantize' op result shape [4, 4] must equal the input shape [?, 8]}}
  %x = qlow.dequantize %q : tensor<?x8x!quant.uniform<i8:f32, 0.1>> -> tensor<4x4xf32>
  return %x : tensor<4x4xf32>
}

// -----

// requantize maps quantized to quantized; f32 input needs qlow.quantize.
func.func @requantize_f32_input(%x: tensor<8xf32>) -> tensor<8x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.requantize' op input must be a tensor of a quantized type, but has type 'tensor<8xf32>'}}
  %q = qlow.requantize %x : tensor<8xf32> -> tensor<8x!quant.uniform<i8:f32, 0.1>>
  return %q : tensor<8x!quant.uniform<i8:f32, 0.1>>
}

// -----

// requantize to f32 is a dequantize.
func.func @requantize_f32_result(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.requantize' op result must be a tensor of a quantized type, but has type 'tensor<8xf32>'; use qlow.dequantize to convert to f32}}
  %x = qlow.requantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8xf32>
  return %x : tensor<8xf32>
}

// -----

// requantize keeps the shape.
func.func @requantize_shape(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x4x!quant.uniform<i8:f32, 0.2>> {
  // expected-error @+1 {{'qlow.requantize' op result shape [2, 4] must equal the input shape [8]}}
  %r = qlow.requantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<2x4x!quant.uniform<i8:f32, 0.2>>
  return %r : tensor<2x4x!quant.uniform<i8:f32, 0.2>>
}

// -----

// The requantized result type is verified too.
func.func @requantize_bad_result_type(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.2:200>> {
  // expected-error @+1 {{'qlow.requantize' op result has zero point 200 outside the storage range [-128, 127] of i8}}
  %r = qlow.requantize %q : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i8:f32, 0.2:200>>
  return %r : tensor<8x!quant.uniform<i8:f32, 0.2:200>>
}

// -----

// fake_quant works on f32.
func.func @fake_quant_int_input(%x: tensor<8xi32>) -> tensor<8xi32> {
  // expected-error @+1 {{'qlow.fake_quant' op input must be a tensor of f32, but has type 'tensor<8xi32>'}}
  %y = qlow.fake_quant %x as !quant.uniform<i8:f32, 0.1> : tensor<8xi32>
  return %y : tensor<8xi32>
}

// -----

// fake_quant needs a quantized type to round to.
func.func @fake_quant_not_quantized(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.fake_quant' op quant_type must be a uniform quantized type such as !quant.uniform<i8:f32, 0.1>, but is 'f32'}}
  %y = qlow.fake_quant %x as f32 : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// !quant.any has no parameters to round with.
func.func @fake_quant_any(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.fake_quant' op quant_type must be a uniform quantized type such as !quant.uniform<i8:f32, 0.1>, but is '!quant.any<i8:f32>'}}
  %y = qlow.fake_quant %x as !quant.any<i8:f32> : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// quant_type is checked against the input's shape: three channel scales for a
// dimension of size 2.
func.func @fake_quant_scale_count(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'qlow.fake_quant' op quant_type has 3 scales along axis 1, but that dimension has size 2: give one scale per channel}}
  %y = qlow.fake_quant %x as !quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}> : tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// observe probes float graphs; a quantized tensor has nothing to calibrate.
func.func @observe_quantized(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.observe' op input must be a tensor of f32 (probes observe float graphs before quantization), but has type 'tensor<8x!quant.uniform<i8:f32, 1.000000e-01>>'}}
  %y = qlow.observe %q {name = "x"} : tensor<8x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<8x!quant.uniform<i8:f32, 0.1>>
}

// -----

// The name keys the recorded range and cannot be empty.
func.func @observe_empty_name(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.observe' op name must not be empty: it keys the recorded range}}
  %y = qlow.observe %x {name = ""} : tensor<8xf32>
  return %y : tensor<8xf32>
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

// -----

// lhs must be at least [M, K].
func.func @matmul_lhs_rank(%a: tensor<64xf32>, %w: tensor<64x32xf32>) -> tensor<32xf32> {
  // expected-error @+1 {{'qlow.matmul' op lhs must have rank >= 2 ([..., M, K]), but has rank 1}}
  %y = qlow.matmul %a, %w : (tensor<64xf32>, tensor<64x32xf32>) -> tensor<32xf32>
  return %y : tensor<32xf32>
}

// -----

// rhs is [K, N] or has all of lhs's batch dimensions, not some of them.
func.func @matmul_rhs_rank(%a: tensor<2x3x16x64xf32>, %w: tensor<3x64x32xf32>) -> tensor<2x3x16x32xf32> {
  // expected-error @+1 {{'qlow.matmul' op rhs must have rank 2 ([K, N]) or the rank of lhs (4), but has rank 3}}
  %y = qlow.matmul %a, %w : (tensor<2x3x16x64xf32>, tensor<3x64x32xf32>) -> tensor<2x3x16x32xf32>
  return %y : tensor<2x3x16x32xf32>
}

// -----

// K of lhs and rhs differ.
func.func @matmul_contraction(%a: tensor<16x64xf32>, %w: tensor<32x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'qlow.matmul' op contraction sizes differ: lhs has K = 64 but rhs has K = 32}}
  %y = qlow.matmul %a, %w : (tensor<16x64xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// Batched rhs must have lhs's batch dimensions.
func.func @matmul_batch(%a: tensor<2x3x16x64xf32>, %w: tensor<2x4x64x32xf32>) -> tensor<2x3x16x32xf32> {
  // expected-error @+1 {{'qlow.matmul' op batch dimensions differ: lhs [2, 3] vs rhs [2, 4]}}
  %y = qlow.matmul %a, %w : (tensor<2x3x16x64xf32>, tensor<2x4x64x32xf32>) -> tensor<2x3x16x32xf32>
  return %y : tensor<2x3x16x32xf32>
}

// -----

// The result is [..., M, N].
func.func @matmul_result_shape(%a: tensor<2x16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'qlow.matmul' op result shape [16, 32] must be [2, 16, 32] ([..., M, N])}}
  %y = qlow.matmul %a, %w : (tensor<2x16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// The bias has one value per output column.
func.func @matmul_bias_shape(%a: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<16xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'qlow.matmul' op bias must have shape [32] (one value per output column), but has type 'tensor<16xf32>'}}
  %y = qlow.matmul %a, %w, %b : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<16xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// A float matmul cannot take a raw integer rhs (no scale to dequantize it with).
func.func @matmul_float_int_rhs(%a: tensor<16x64xf32>, %w: tensor<64x32xi8>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'qlow.matmul' op rhs of a float matmul must be f32 or quantized (weight-only), but has type 'tensor<64x32xi8>'}}
  %y = qlow.matmul %a, %w : (tensor<16x64xf32>, tensor<64x32xi8>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// A float matmul accumulates and returns f32.
func.func @matmul_float_quantized_result(%a: tensor<16x64xf32>, %w: tensor<64x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<16x32x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.matmul' op result of a matmul with f32 lhs must be f32, but has type 'tensor<16x32x!quant.uniform<i8:f32, 1.000000e-01>>'}}
  %y = qlow.matmul %a, %w : (tensor<16x64xf32>, tensor<64x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<16x32x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<16x32x!quant.uniform<i8:f32, 0.1>>
}

// -----

// A float matmul's bias is f32.
func.func @matmul_float_int_bias(%a: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xi32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'qlow.matmul' op bias of a float matmul must be f32, but has type 'tensor<32xi32>'}}
  %y = qlow.matmul %a, %w, %b : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xi32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// A raw integer lhs has no scale: quantize it first.
func.func @matmul_int_lhs(%a: tensor<16x64xi8>, %w: tensor<64x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<16x32xi32> {
  // expected-error @+1 {{'qlow.matmul' op lhs must be a tensor of f32 or of a quantized type, but has type 'tensor<16x64xi8>'}}
  %y = qlow.matmul %a, %w : (tensor<16x64xi8>, tensor<64x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<16x32xi32>
  return %y : tensor<16x32xi32>
}

// -----

// Quantized lhs with f32 rhs: the integer path needs both quantized.
func.func @matmul_quantized_lhs_f32_rhs(%a: tensor<16x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'qlow.matmul' op rhs must be quantized when lhs is quantized (dequantize lhs for a float matmul), but has type 'tensor<64x32xf32>'}}
  %y = qlow.matmul %a, %w : (tensor<16x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// lhs scales along K would not factor out of the sum over K.
func.func @matmul_lhs_per_axis_k(%a: tensor<2x4x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3, 0.4}>>, %w: tensor<4x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x8xi32> {
  // expected-error @+1 {{'qlow.matmul' op lhs must be quantized per tensor or per row (axis 0), but has type}}
  %y = qlow.matmul %a, %w : (tensor<2x4x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3, 0.4}>>, tensor<4x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// -----

// A batched rhs may not be blocked along a batch dimension.
func.func @matmul_rhs_blocked_batch(%a: tensor<2x1x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<2x64x2x!quant.uniform<i4:f32:{0:1}, {{{0.1}}, {{0.2}}}>>) -> tensor<2x1x2xf32> {
  // expected-error @+1 {{'qlow.matmul' op rhs may be blocked only along K (axis 1) and N (axis 2), but is blocked along axis 0}}
  %y = qlow.matmul %a, %w : (tensor<2x1x64x!quant.uniform<i8:f32, 0.02>>, tensor<2x64x2x!quant.uniform<i4:f32:{0:1}, {{{0.1}}, {{0.2}}}>>) -> tensor<2x1x2xf32>
  return %y : tensor<2x1x2xf32>
}

// -----

// rhs scales along K (per-axis on axis 0) would not factor out of the sum.
func.func @matmul_rhs_per_axis_k(%a: tensor<2x2x!quant.uniform<i8:f32, 0.02>>, %w: tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) -> tensor<2x8xi32> {
  // expected-error @+1 {{'qlow.matmul' op rhs must be quantized per tensor, per output channel (axis 1) or in blocks, but has type}}
  %y = qlow.matmul %a, %w : (tensor<2x2x!quant.uniform<i8:f32, 0.02>>, tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) -> tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// -----

// Dynamic quantization applies to an f32 lhs only.
func.func @matmul_dynamic_quantized_lhs(%a: tensor<1x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2xf32> {
  // expected-error @+1 {{'qlow.matmul' op lhs of a matmul with dynamic quantization must be f32 (it is quantized at run time), but has type}}
  %y = qlow.matmul %a, %w {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<1x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Dynamic quantization feeds an integer dot product: the weights must be
// quantized.
func.func @matmul_dynamic_float_rhs(%a: tensor<1x64xf32>, %w: tensor<64x2xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{'qlow.matmul' op rhs of a matmul with dynamic quantization must be quantized, but has type 'tensor<64x2xf32>'}}
  %y = qlow.matmul %a, %w {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<1x64xf32>, tensor<64x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// The lhs scale exists only at run time, so the result cannot be requantized
// with compile-time multipliers.
func.func @matmul_dynamic_quantized_result(%a: tensor<1x64xf32>, %w: tensor<64x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.matmul' op result of a matmul with dynamic quantization must be f32, but has type}}
  %y = qlow.matmul %a, %w {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<1x64xf32>, tensor<64x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<1x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// An i32 bias would be in units of a scale known only at run time.
func.func @matmul_dynamic_int_bias(%a: tensor<1x64xf32>, %w: tensor<64x2x!quant.uniform<i8:f32, 0.1>>, %b: tensor<2xi32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{'qlow.matmul' op bias of a matmul with dynamic quantization must be f32 (the lhs scale is known only at run time), but has type 'tensor<2xi32>'}}
  %y = qlow.matmul %a, %w, %b {dynamic = #qlow.dynamic<per_row, i8, symmetric>} : (tensor<1x64xf32>, tensor<64x2x!quant.uniform<i8:f32, 0.1>>, tensor<2xi32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// The rhs rules of the integer path hold with dynamic quantization too.
func.func @matmul_dynamic_rhs_per_axis_k(%a: tensor<1x2xf32>, %w: tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'qlow.matmul' op rhs must be quantized per tensor, per output channel (axis 1) or in blocks, but has type}}
  %y = qlow.matmul %a, %w {dynamic = #qlow.dynamic<per_row, u8, asymmetric>} : (tensor<1x2xf32>, tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// Symmetric unsigned storage cannot hold negative values.
func.func @dynamic_symmetric_u8(%a: tensor<1x64xf32>, %w: tensor<64x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2xf32> {
  // expected-error @+1 {{symmetric dynamic quantization needs signed (i8) storage; use u8 with asymmetric}}
  %y = qlow.matmul %a, %w {dynamic = #qlow.dynamic<per_row, u8, symmetric>} : (tensor<1x64xf32>, tensor<64x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// An unknown granularity keyword.
func.func @dynamic_bad_granularity(%a: tensor<1x64xf32>, %w: tensor<64x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2xf32> {
  // expected-error @+2 {{expected ::mlir::qlow::DynamicGranularity to be one of: per_tensor, per_row}}
  // expected-error @+1 {{failed to parse Qlow_DynamicQuantAttr parameter 'granularity'}}
  %y = qlow.matmul %a, %w {dynamic = #qlow.dynamic<per_column, i8, symmetric>} : (tensor<1x64xf32>, tensor<64x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// With blocked rhs, group scales differ along K: no single requantization.
func.func @matmul_blocked_quantized_result(%a: tensor<1x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.matmul' op result of a matmul with blocked (sub-channel) rhs must be f32: group scales differ along K}}
  %y = qlow.matmul %a, %w : (tensor<1x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<1x2x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<1x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Nor can the i32 accumulators of different groups be summed.
func.func @matmul_blocked_i32_result(%a: tensor<1x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<1x2xi32> {
  // expected-error @+1 {{'qlow.matmul' op result of a matmul with blocked (sub-channel) rhs must be f32: group scales differ along K}}
  %y = qlow.matmul %a, %w : (tensor<1x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x2x!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>>) -> tensor<1x2xi32>
  return %y : tensor<1x2xi32>
}

// -----

// A quantized result per row (axis M) is not supported.
func.func @matmul_result_per_row(%a: tensor<2x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>> {
  // expected-error @+1 {{'qlow.matmul' op quantized result must be per tensor or per output channel (axis 1), but has type}}
  %y = qlow.matmul %a, %w : (tensor<2x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return %y : tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
}

// -----

// An integer matmul returns i32 accumulators, f32 or a quantized type; i8
// would silently wrap.
func.func @matmul_i8_result(%a: tensor<2x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x8xi8> {
  // expected-error @+1 {{'qlow.matmul' op result must be i32 (accumulators), f32 or a quantized type, but has type 'tensor<2x8xi8>'}}
  %y = qlow.matmul %a, %w : (tensor<2x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x8xi8>
  return %y : tensor<2x8xi8>
}

// -----

// An integer matmul's bias is added to the i32 accumulator, so it cannot be f32.
func.func @matmul_int_f32_bias(%a: tensor<2x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x8x!quant.uniform<i8:f32, 0.01>>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'qlow.matmul' op bias of an integer matmul must be i32 or a quantized type with i32 storage (scale s_lhs * s_rhs, zero point 0), but has type 'tensor<8xf32>'}}
  %y = qlow.matmul %a, %w, %b : (tensor<2x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>, tensor<8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// A quantized bias with i8 storage is not an i32 bias.
func.func @matmul_int_i8_bias(%a: tensor<2x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x8x!quant.uniform<i8:f32, 0.01>>, %b: tensor<8x!quant.uniform<i8:f32, 2.0e-4>>) -> tensor<2x8xi32> {
  // expected-error @+1 {{'qlow.matmul' op bias of an integer matmul must be i32 or a quantized type with i32 storage}}
  %y = qlow.matmul %a, %w, %b : (tensor<2x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>, tensor<8x!quant.uniform<i8:f32, 2.0e-4>>) -> tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// -----

// A bias with a zero point would not add to the accumulator as is.
func.func @matmul_bias_zero_point(%a: tensor<2x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x8x!quant.uniform<i8:f32, 0.01>>, %b: tensor<8x!quant.uniform<i32:f32, 2.0e-4:5>>) -> tensor<2x8xi32> {
  // expected-error @+1 {{'qlow.matmul' op bias must have zero point 0, but has type 'tensor<8x!quant.uniform<i32:f32, 2.000000e-04:5>>'}}
  %y = qlow.matmul %a, %w, %b : (tensor<2x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>, tensor<8x!quant.uniform<i32:f32, 2.0e-4:5>>) -> tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// -----

// The bias scale must be s_lhs * s_rhs = 0.02 * 0.01.
func.func @matmul_bias_scale(%a: tensor<2x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x8x!quant.uniform<i8:f32, 0.01>>, %b: tensor<8x!quant.uniform<i32:f32, 1.0e-3>>) -> tensor<2x8xi32> {
  // expected-error @+1 {{'qlow.matmul' op bias scale 1.000000e-03 (channel 0) must equal s_lhs * s_rhs = 2.000000e-04 so that it adds to the i32 accumulator}}
  %y = qlow.matmul %a, %w, %b : (tensor<2x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>, tensor<8x!quant.uniform<i32:f32, 1.0e-3>>) -> tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// -----

// Per-channel rhs: each channel's bias scale is checked (channel 1 is off).
func.func @matmul_bias_scale_per_channel(%a: tensor<2x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, %b: tensor<2x!quant.uniform<i32:f32:0, {2.0e-4, 2.0e-4}>>) -> tensor<2x2xi32> {
  // expected-error @+1 {{'qlow.matmul' op bias scale 2.000000e-04 (channel 1) must equal s_lhs * s_rhs = 4.000000e-04}}
  %y = qlow.matmul %a, %w, %b : (tensor<2x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x2x!quant.uniform<i8:f32:1, {0.01, 0.02}>>, tensor<2x!quant.uniform<i32:f32:0, {2.0e-4, 2.0e-4}>>) -> tensor<2x2xi32>
  return %y : tensor<2x2xi32>
}

// -----

// Per-tensor rhs with a per-channel bias: every channel must still be
// s_lhs * s_rhs.
func.func @matmul_bias_per_channel_per_tensor_rhs(%a: tensor<2x64x!quant.uniform<i8:f32, 0.02>>, %w: tensor<64x2x!quant.uniform<i8:f32, 0.01>>, %b: tensor<2x!quant.uniform<i32:f32:0, {2.0e-4, 5.0}>>) -> tensor<2x2xi32> {
  // expected-error @+1 {{'qlow.matmul' op bias scale 5.000000e+00 (channel 1) must equal s_lhs * s_rhs = 2.000000e-04}}
  %y = qlow.matmul %a, %w, %b : (tensor<2x64x!quant.uniform<i8:f32, 0.02>>, tensor<64x2x!quant.uniform<i8:f32, 0.01>>, tensor<2x!quant.uniform<i32:f32:0, {2.0e-4, 5.0}>>) -> tensor<2x2xi32>
  return %y : tensor<2x2xi32>
}

// -----

// Quantized operand types are re-verified: the weight's zero point does not
// fit in i4.
func.func @matmul_bad_operand_type(%a: tensor<2x64xf32>, %w: tensor<64x8x!quant.uniform<i4:f32, 0.1:9>>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'qlow.matmul' op operand #1 has zero point 9 outside the storage range [-8, 7] of i4}}
  %y = qlow.matmul %a, %w : (tensor<2x64xf32>, tensor<64x8x!quant.uniform<i4:f32, 0.1:9>>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

//===----------------------------------------------------------------------===//
// add, mul
//===----------------------------------------------------------------------===//

// -----

// [4, 8] and [4] do not broadcast (trailing 8 vs 4).
func.func @add_no_broadcast(%a: tensor<4x8xf32>, %b: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'qlow.add' op operand shapes [4, 8] and [4] do not broadcast}}
  %y = qlow.add %a, %b : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// The result has the broadcast shape.
func.func @add_result_shape(%a: tensor<4x1xf32>, %b: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.add' op result shape [8] must be the broadcast shape [4, 8]}}
  %y = qlow.add %a, %b : (tensor<4x1xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// Mixing f32 and integers.
func.func @mul_mixed_types(%a: tensor<8xf32>, %b: tensor<8xi32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.mul' op operands and result must be all f32, all the same integer type or all quantized, but are 'f32', 'i32' -> 'f32'}}
  %y = qlow.mul %a, %b : (tensor<8xf32>, tensor<8xi32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// Integer operands must all have the same width.
func.func @add_int_widths(%a: tensor<8xi32>, %b: tensor<8xi32>) -> tensor<8xi64> {
  // expected-error @+1 {{'qlow.add' op operands and result must be all f32, all the same integer type or all quantized, but are 'i32', 'i32' -> 'i64'}}
  %y = qlow.add %a, %b : (tensor<8xi32>, tensor<8xi32>) -> tensor<8xi64>
  return %y : tensor<8xi64>
}

// -----

// Quantized elementwise ops take per-tensor operands.
func.func @mul_per_axis(%a: tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>, %b: tensor<2x8x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x8x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.mul' op lhs must be quantized per tensor, but has type}}
  %y = qlow.mul %a, %b : (tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>, tensor<2x8x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x8x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<2x8x!quant.uniform<i8:f32, 0.1>>
}

// -----

// ... and a per-tensor result.
func.func @add_per_axis_result(%a: tensor<2x8x!quant.uniform<i8:f32, 0.1>>, %b: tensor<2x8x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>> {
  // expected-error @+1 {{'qlow.add' op result must be quantized per tensor, but has type}}
  %y = qlow.add %a, %b : (tensor<2x8x!quant.uniform<i8:f32, 0.1>>, tensor<2x8x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return %y : tensor<2x8x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
}

//===----------------------------------------------------------------------===//
// Float-semantics ops
//===----------------------------------------------------------------------===//

// -----

// softmax computes in float: integer input.
func.func @softmax_int_input(%x: tensor<8xi32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.softmax' op input must be a tensor of f32 or of a quantized type, but has type 'tensor<8xi32>'}}
  %y = qlow.softmax %x : tensor<8xi32> -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// softmax result must be f32 or quantized.
func.func @softmax_int_result(%x: tensor<8xf32>) -> tensor<8xi32> {
  // expected-error @+1 {{'qlow.softmax' op result must be a tensor of f32 or of a quantized type, but has type 'tensor<8xi32>'}}
  %y = qlow.softmax %x : tensor<8xf32> -> tensor<8xi32>
  return %y : tensor<8xi32>
}

// -----

// Axis 3 of a rank-3 tensor.
func.func @softmax_axis(%x: tensor<2x8x8xf32>) -> tensor<2x8x8xf32> {
  // expected-error @+1 {{'qlow.softmax' op axis 3 is out of range for rank 3: use a value in [-3, 2]}}
  %y = qlow.softmax %x {axis = 3 : i64} : tensor<2x8x8xf32> -> tensor<2x8x8xf32>
  return %y : tensor<2x8x8xf32>
}

// -----

// A scalar has no axis to normalize along.
func.func @softmax_rank0(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'qlow.softmax' op input must have rank >= 1: softmax normalizes along an axis}}
  %y = qlow.softmax %x : tensor<f32> -> tensor<f32>
  return %y : tensor<f32>
}

// -----

// Negative axes count from the end; -4 is out of range for rank 3.
func.func @softmax_negative_axis(%x: tensor<2x8x8xf32>) -> tensor<2x8x8xf32> {
  // expected-error @+1 {{'qlow.softmax' op axis -4 is out of range for rank 3: use a value in [-3, 2]}}
  %y = qlow.softmax %x {axis = -4 : i64} : tensor<2x8x8xf32> -> tensor<2x8x8xf32>
  return %y : tensor<2x8x8xf32>
}

// -----

// Elementwise float ops keep the shape.
func.func @gelu_shape(%x: tensor<4x4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'qlow.gelu' op result shape [4, 8] must equal the input shape [4, 4]}}
  %y = qlow.gelu %x : tensor<4x4xf32> -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// silu of an integer tensor.
func.func @silu_int(%x: tensor<8xi8>) -> tensor<8xi8> {
  // expected-error @+1 {{'qlow.silu' op input must be a tensor of f32 or of a quantized type, but has type 'tensor<8xi8>'}}
  %y = qlow.silu %x : tensor<8xi8> -> tensor<8xi8>
  return %y : tensor<8xi8>
}

// -----

// A float op's quantized result type is re-verified.
!nan_scale = !quant.uniform<i8:f32, 0x7FF8000000000000>
func.func @silu_bad_result_type(%x: tensor<8xf32>) -> tensor<8x!nan_scale> {
  // expected-error @+1 {{'qlow.silu' op result has scale nan: scales must be positive and finite}}
  %y = qlow.silu %x : tensor<8xf32> -> tensor<8x!nan_scale>
  return %y : tensor<8x!nan_scale>
}

// -----

// A scalar has no dimension to normalize over.
func.func @layer_norm_rank0(%x: tensor<f32>, %g: tensor<1xf32>) -> tensor<f32> {
  // expected-error @+1 {{'qlow.layer_norm' op input must have rank >= 1}}
  %y = qlow.layer_norm %x, %g : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return %y : tensor<f32>
}

// -----

// gamma is a 1-D f32 vector, not 2-D.
func.func @layer_norm_gamma_rank(%x: tensor<8x32xf32>, %g: tensor<1x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'qlow.layer_norm' op gamma must be a 1-D tensor of f32, but has type 'tensor<1x32xf32>'}}
  %y = qlow.layer_norm %x, %g : (tensor<8x32xf32>, tensor<1x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// beta has 16 elements for a last dimension of 32.
func.func @layer_norm_beta_size(%x: tensor<8x32xf32>, %g: tensor<32xf32>, %b: tensor<16xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'qlow.layer_norm' op beta has 16 elements, but the normalized (last) dimension has size 32}}
  %y = qlow.layer_norm %x, %g, %b : (tensor<8x32xf32>, tensor<32xf32>, tensor<16xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// beta is f32, not quantized.
func.func @layer_norm_beta_quantized(%x: tensor<8x32xf32>, %g: tensor<32xf32>, %b: tensor<32x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'qlow.layer_norm' op beta must be a 1-D tensor of f32, but has type}}
  %y = qlow.layer_norm %x, %g, %b : (tensor<8x32xf32>, tensor<32xf32>, tensor<32x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// A negative epsilon can make the variance term negative.
func.func @layer_norm_negative_epsilon(%x: tensor<8x32xf32>, %g: tensor<32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'qlow.layer_norm' op epsilon must be finite and >= 0, but is -1.000000e+00}}
  %y = qlow.layer_norm %x, %g {epsilon = -1.0 : f32} : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// gamma of rms_norm has 16 elements for a last dimension of 32.
func.func @rms_norm_gamma_size(%x: tensor<8x32xf32>, %g: tensor<16xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'qlow.rms_norm' op gamma has 16 elements, but the normalized (last) dimension has size 32}}
  %y = qlow.rms_norm %x, %g : (tensor<8x32xf32>, tensor<16xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// A NaN epsilon.
func.func @rms_norm_nan_epsilon(%x: tensor<8x32xf32>, %g: tensor<32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'qlow.rms_norm' op epsilon must be finite and >= 0, but is nan}}
  %y = qlow.rms_norm %x, %g {epsilon = 0x7FC00000 : f32} : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// q must be [B, H, S, D].
func.func @attention_q_rank(%q: tensor<8x16x64xf32>, %k: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op q must have rank 4 ([B, heads, seq, head_dim]), but has type 'tensor<8x16x64xf32>'}}
  %o = qlow.attention %q, %k, %k : (tensor<8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// k is an integer tensor.
func.func @attention_int_k(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xi8>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op k must be a tensor of f32 or of a quantized type, but has type 'tensor<1x8x16x64xi8>'}}
  %o = qlow.attention %q, %k, %q : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xi8>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// The result is f32 or quantized.
func.func @attention_int_result(%q: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xi32> {
  // expected-error @+1 {{'qlow.attention' op result must be a tensor of f32 or of a quantized type, but has type 'tensor<1x8x16x64xi32>'}}
  %o = qlow.attention %q, %q, %q : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xi32>
  return %o : tensor<1x8x16x64xi32>
}

// -----

// q and k have different head_dim.
func.func @attention_head_dim(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x32xf32>) -> tensor<1x8x16x32xf32> {
  // expected-error @+1 {{'qlow.attention' op k shape [1, 8, 16, 32] must match q shape [1, 8, 16, 64] in batch and head_dim}}
  %o = qlow.attention %q, %k, %k : (tensor<1x8x16x64xf32>, tensor<1x8x16x32xf32>, tensor<1x8x16x32xf32>) -> tensor<1x8x16x32xf32>
  return %o : tensor<1x8x16x32xf32>
}

// -----

// v has a different sequence length than k.
func.func @attention_v_seq(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x8x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op v shape [1, 8, 8, 64] must match k shape [1, 8, 16, 64] in batch, heads and sequence length}}
  %o = qlow.attention %q, %k, %v : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x8x64xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// Grouped-query attention: 8 query heads cannot share 3 key/value heads.
func.func @attention_gqa_heads(%q: tensor<1x8x16x64xf32>, %k: tensor<1x3x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op q has 8 heads, which is not a multiple of the 3 key/value heads}}
  %o = qlow.attention %q, %k, %k : (tensor<1x8x16x64xf32>, tensor<1x3x16x64xf32>, tensor<1x3x16x64xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// Zero key/value heads.
func.func @attention_zero_kv_heads(%q: tensor<1x8x16x64xf32>, %k: tensor<1x0x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op q has 8 heads, which is not a multiple of the 0 key/value heads}}
  %o = qlow.attention %q, %k, %k : (tensor<1x8x16x64xf32>, tensor<1x0x16x64xf32>, tensor<1x0x16x64xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// The result's last dimension is v's head_dim (32), not q's.
func.func @attention_result_shape(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x16x64xf32>, %v: tensor<1x8x16x32xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op result shape [1, 8, 16, 64] must be [1, 8, 16, 32] ([B, H, S, Dv])}}
  %o = qlow.attention %q, %k, %v : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x32xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// An i8 mask is neither additive (f32) nor boolean (i1).
func.func @attention_mask_type(%q: tensor<1x8x16x64xf32>, %m: tensor<16x16xi8>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op mask must be f32 (added to the scores) or i1 (true keeps), but has type 'tensor<16x16xi8>'}}
  %o = qlow.attention %q, %q, %q, %m : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<16x16xi8>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// A [16, 16] mask for 32 keys.
func.func @attention_mask_shape(%q: tensor<1x8x16x64xf32>, %k: tensor<1x8x32x64xf32>, %m: tensor<16x16xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op mask shape [16, 16] does not broadcast to the score shape [1, 8, 16, 32] ([B, H, S, T])}}
  %o = qlow.attention %q, %k, %k, %m : (tensor<1x8x16x64xf32>, tensor<1x8x32x64xf32>, tensor<1x8x32x64xf32>, tensor<16x16xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// A mask must not broadcast the scores up: [4, 1, 8, 16, 16] has rank 5.
func.func @attention_mask_rank(%q: tensor<1x8x16x64xf32>, %m: tensor<4x1x8x16x16xi1>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op mask shape [4, 1, 8, 16, 16] does not broadcast to the score shape [1, 8, 16, 16] ([B, H, S, T])}}
  %o = qlow.attention %q, %q, %q, %m : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<4x1x8x16x16xi1>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// A mask dimension larger than the score dimension broadcasts the scores up.
func.func @attention_mask_larger(%q: tensor<1x8x16x64xf32>, %m: tensor<2x8x16x16xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op mask shape [2, 8, 16, 16] does not broadcast to the score shape [1, 8, 16, 16] ([B, H, S, T])}}
  %o = qlow.attention %q, %q, %q, %m : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<2x8x16x16xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// A zero scale flattens every score to 0.
func.func @attention_zero_scale(%q: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op scale must be positive and finite, but is 0.000000e+00}}
  %o = qlow.attention %q, %q, %q {scale = 0.0 : f32} : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// An infinite scale.
func.func @attention_inf_scale(%q: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  // expected-error @+1 {{'qlow.attention' op scale must be positive and finite, but is INF}}
  %o = qlow.attention %q, %q, %q {scale = 0x7F800000 : f32} : (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// The table is [V, D].
func.func @embedding_table_rank(%t: tensor<1000xf32>, %ids: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{'qlow.embedding' op table must have rank 2 ([V, D]), but has type 'tensor<1000xf32>'}}
  %e = qlow.embedding %t, %ids : (tensor<1000xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

// An integer table has no scale.
func.func @embedding_int_table(%t: tensor<1000x64xi8>, %ids: tensor<4xi64>) -> tensor<4x64xi8> {
  // expected-error @+1 {{'qlow.embedding' op table must be a tensor of f32 or of a quantized type, but has type 'tensor<1000x64xi8>'}}
  %e = qlow.embedding %t, %ids : (tensor<1000x64xi8>, tensor<4xi64>) -> tensor<4x64xi8>
  return %e : tensor<4x64xi8>
}

// -----

// Indices are integers.
func.func @embedding_float_indices(%t: tensor<1000x64xf32>, %ids: tensor<4xf32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{'qlow.embedding' op indices must be a tensor of i32 or i64, but has type 'tensor<4xf32>'}}
  %e = qlow.embedding %t, %ids : (tensor<1000x64xf32>, tensor<4xf32>) -> tensor<4x64xf32>
  return %e : tensor<4x64xf32>
}

// -----

// The result is indices.shape + [D].
func.func @embedding_result_shape(%t: tensor<1000x64xf32>, %ids: tensor<1x16xi64>) -> tensor<16x64xf32> {
  // expected-error @+1 {{'qlow.embedding' op result shape [16, 64] must be [1, 16, 64] (indices shape + [D])}}
  %e = qlow.embedding %t, %ids : (tensor<1000x64xf32>, tensor<1x16xi64>) -> tensor<16x64xf32>
  return %e : tensor<16x64xf32>
}

// -----

// Gathered rows of a per-row table cannot keep the table's per-row type.
func.func @embedding_per_row_keep(%t: tensor<2x4x!quant.uniform<i8:f32:0, {0.1, 0.2}>>, %ids: tensor<2xi32>) -> tensor<2x4x!quant.uniform<i8:f32:0, {0.1, 0.2}>> {
  // expected-error @+1 {{'qlow.embedding' op a result that keeps the stored values needs a per-tensor table; use an f32 result to dequantize a per-row table}}
  %e = qlow.embedding %t, %ids : (tensor<2x4x!quant.uniform<i8:f32:0, {0.1, 0.2}>>, tensor<2xi32>) -> tensor<2x4x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return %e : tensor<2x4x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
}

// -----

// A blocked table cannot keep its stored values (each block has its own
// scale): only an f32 result dequantizes it.
func.func @embedding_blocked_keep(%t: tensor<2x4x!quant.uniform<i4:f32:{0:1, 1:2}, {{0.1, 0.2}, {0.3, 0.4}}>>, %ids: tensor<2xi32>) -> tensor<2x4x!quant.uniform<i4:f32:{0:1, 1:2}, {{0.1, 0.2}, {0.3, 0.4}}>> {
  // expected-error @+1 {{'qlow.embedding' op a result that keeps the stored values needs a per-tensor table; use an f32 result to dequantize a per-row table}}
  %e = qlow.embedding %t, %ids : (tensor<2x4x!quant.uniform<i4:f32:{0:1, 1:2}, {{0.1, 0.2}, {0.3, 0.4}}>>, tensor<2xi32>) -> tensor<2x4x!quant.uniform<i4:f32:{0:1, 1:2}, {{0.1, 0.2}, {0.3, 0.4}}>>
  return %e : tensor<2x4x!quant.uniform<i4:f32:{0:1, 1:2}, {{0.1, 0.2}, {0.3, 0.4}}>>
}

// -----

// An f32 table gives f32 rows, not quantized ones.
func.func @embedding_result_type(%t: tensor<8x2xf32>, %ids: tensor<3xi32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qlow.embedding' op result element type must be the table's ('f32') or f32 for a quantized table, but is '!quant.uniform<i8:f32, 1.000000e-01>'}}
  %e = qlow.embedding %t, %ids : (tensor<8x2xf32>, tensor<3xi32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.1>>
  return %e : tensor<3x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// rope needs [..., S, D].
func.func @rope_rank(%x: tensor<64xf32>, %c: tensor<1x32xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'qlow.rope' op input must have rank >= 2 ([..., S, D]), but has type 'tensor<64xf32>'}}
  %y = qlow.rope %x, %c, %c : (tensor<64xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<64xf32>
  return %y : tensor<64xf32>
}

// -----

// rope rotates pairs: D must be even.
func.func @rope_odd(%x: tensor<16x63xf32>, %c: tensor<16x31xf32>) -> tensor<16x63xf32> {
  // expected-error @+1 {{'qlow.rope' op the last dimension (63) must be even: rope rotates pairs}}
  %y = qlow.rope %x, %c, %c : (tensor<16x63xf32>, tensor<16x31xf32>, tensor<16x31xf32>) -> tensor<16x63xf32>
  return %y : tensor<16x63xf32>
}

// -----

// cos is [S, D/2], not [S, D].
func.func @rope_cos_shape(%x: tensor<16x64xf32>, %c: tensor<16x64xf32>, %s: tensor<16x32xf32>) -> tensor<16x64xf32> {
  // expected-error @+1 {{'qlow.rope' op cos must be an f32 tensor of shape [16, 32] ([S, D/2]), but has type 'tensor<16x64xf32>'}}
  %y = qlow.rope %x, %c, %s : (tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x32xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// -----

// sin is f32, not quantized.
func.func @rope_sin_type(%x: tensor<16x64xf32>, %c: tensor<16x32xf32>, %s: tensor<16x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<16x64xf32> {
  // expected-error @+1 {{'qlow.rope' op sin must be an f32 tensor of shape [16, 32] ([S, D/2]), but has type}}
  %y = qlow.rope %x, %c, %s : (tensor<16x64xf32>, tensor<16x32xf32>, tensor<16x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

//===----------------------------------------------------------------------===//
// ODS-level and parser errors
//===----------------------------------------------------------------------===//

// -----

// matmul needs lhs and rhs (and optionally a bias).
func.func @matmul_one_operand(%a: tensor<16x64xf32>) -> tensor<16x64xf32> {
  // expected-error @+1 {{'qlow.matmul' op expected 2 or more operands, but found 1}}
  %y = "qlow.matmul"(%a) : (tensor<16x64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// -----

// matmul takes at most three operands.
func.func @matmul_four_operands(%a: tensor<16x16xf32>, %b: tensor<16xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{'qlow.matmul' op operand group starting at #2 requires 0 or 1 element, but found 2}}
  %y = "qlow.matmul"(%a, %a, %b, %b) : (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<16x16xf32>
  return %y : tensor<16x16xf32>
}

// -----

// silu has one result.
func.func @silu_two_results(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.silu' op requires one result}}
  %y:2 = "qlow.silu"(%x) : (tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
  return %y#0 : tensor<8xf32>
}

// -----

// qlow ops take ranked tensors only.
func.func @unranked(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'qlow.silu' op operand #0 must be ranked tensor of any type values, but got 'tensor<*xf32>'}}
  %y = "qlow.silu"(%x) : (tensor<*xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// "nearest" is not a rounding mode.
func.func @unknown_rounding(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.2>> {
  // expected-error @+2 {{expected ::mlir::qlow::RoundingMode to be one of: fixedpoint, float}}
  // expected-error @+1 {{failed to parse Qlow_RoundingModeAttr parameter 'value'}}
  %r = qlow.requantize %q {rounding = #qlow.rounding<nearest>} : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i8:f32, 0.2>>
  return %r : tensor<8x!quant.uniform<i8:f32, 0.2>>
}

// -----

// rounding is a #qlow.rounding, not an integer.
func.func @rounding_as_integer(%q: tensor<8x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.2>> {
  // expected-error @+1 {{'qlow.requantize' op attribute 'rounding' failed to satisfy constraint: how a real multiplier is applied when requantizing}}
  %r = qlow.requantize %q {rounding = 1 : i32} : tensor<8x!quant.uniform<i8:f32, 0.1>> -> tensor<8x!quant.uniform<i8:f32, 0.2>>
  return %r : tensor<8x!quant.uniform<i8:f32, 0.2>>
}

// -----

// "fast" is not a GELU approximation.
func.func @unknown_gelu_approximation(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+2 {{expected ::mlir::qlow::GeluApproximation to be one of: none, tanh}}
  // expected-error @+1 {{failed to parse Qlow_GeluApproximationAttr parameter 'value'}}
  %y = qlow.gelu %x {approximate = #qlow.gelu_approximation<fast>} : tensor<8xf32> -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// observe requires a name.
func.func @observe_no_name(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.observe' op requires attribute 'name'}}
  %y = qlow.observe %x : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// softmax's axis is an i64.
func.func @softmax_float_axis(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'qlow.softmax' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %y = qlow.softmax %x {axis = 1.0 : f32} : tensor<8xf32> -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// attention's scale is an f32.
func.func @attention_f64_scale(%q: tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32> {
  // expected-error @+1 {{'qlow.attention' op attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %o = qlow.attention %q, %q, %q {scale = 1.0 : f64} : (tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32>
  return %o : tensor<1x1x1x8xf32>
}

// -----

// fake_quant spells its quantized type after `as`.
func.func @fake_quant_missing_as(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{expected 'as'}}
  %y = qlow.fake_quant %x : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// fake_quant's result has the input's type.
func.func @fake_quant_result_type(%x: tensor<8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qlow.fake_quant' op requires the same type for all operands and results}}
  %y = "qlow.fake_quant"(%x) <{quant_type = !quant.uniform<i8:f32, 0.1>}> : (tensor<8xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// int8 attention's softmax is rescaled per key block: the block size is part
// of its result and must be given.
func.func @attention_int8_no_key_block(%q: tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x3x8xf32> {
  // expected-error @+1 {{'qlow.attention' op int8 attention needs key_block (its softmax is rescaled per block of keys, so the block size is part of the result), e.g. key_block = 32}}
  %o = qlow.attention %q, %q, %q {int8} : (tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x3x8xf32>
  return %o : tensor<1x1x3x8xf32>
}

// -----

// key_block without int8 would be silently meaningless.
func.func @attention_key_block_float(%q: tensor<1x1x3x8xf32>) -> tensor<1x1x3x8xf32> {
  // expected-error @+1 {{'qlow.attention' op key_block is only meaningful with int8 (the float attention does not depend on a block size)}}
  %o = qlow.attention %q, %q, %q {key_block = 16 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x3x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x1x3x8xf32>
  return %o : tensor<1x1x3x8xf32>
}

// -----

// An empty key block.
func.func @attention_int8_key_block_zero(%q: tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x3x8xf32> {
  // expected-error @+1 {{'qlow.attention' op key_block must be in [1, 4096], but is 0}}
  %o = qlow.attention %q, %q, %q {int8, key_block = 0 : i64} : (tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x3x8xf32>
  return %o : tensor<1x1x3x8xf32>
}

// -----

// int8 attention multiplies stored integers: f32 operands have none.
func.func @attention_int8_float_v(%q: tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>, %v: tensor<1x1x3x8xf32>) -> tensor<1x1x3x8xf32> {
  // expected-error @+1 {{'qlow.attention' op int8 attention needs v quantized per tensor with 8-bit storage (i8 or u8), but it has type 'tensor<1x1x3x8xf32>'}}
  %o = qlow.attention %q, %q, %v {int8, key_block = 16 : i64} : (tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x3x8xf32>) -> tensor<1x1x3x8xf32>
  return %o : tensor<1x1x3x8xf32>
}

// -----

// Per-axis k: its scale would differ per head inside one integer dot product.
func.func @attention_int8_per_axis_k(%q: tensor<1x2x3x8x!quant.uniform<i8:f32, 0.05>>, %k: tensor<1x2x3x8x!quant.uniform<i8:f32:1, {0.05, 0.1}>>) -> tensor<1x2x3x8xf32> {
  // expected-error @+1 {{'qlow.attention' op int8 attention needs k quantized per tensor with 8-bit storage (i8 or u8), but it has type 'tensor<1x2x3x8x!quant.uniform<i8:f32:1, {5.000000e-02,1.000000e-01}>>'}}
  %o = qlow.attention %q, %k, %q {int8, key_block = 16 : i64} : (tensor<1x2x3x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x2x3x8x!quant.uniform<i8:f32:1, {0.05, 0.1}>>, tensor<1x2x3x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x2x3x8xf32>
  return %o : tensor<1x2x3x8xf32>
}

// -----

// 16-bit storage is not int8.
func.func @attention_int8_i16_q(%q: tensor<1x1x3x8x!quant.uniform<i16:f32, 0.05>>, %k: tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x3x8xf32> {
  // expected-error @+1 {{'qlow.attention' op int8 attention needs q quantized per tensor with 8-bit storage (i8 or u8), but it has type 'tensor<1x1x3x8x!quant.uniform<i16:f32, 5.000000e-02>>'}}
  %o = qlow.attention %q, %k, %k {int8, key_block = 16 : i64} : (tensor<1x1x3x8x!quant.uniform<i16:f32, 0.05>>, tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x3x8x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x3x8xf32>
  return %o : tensor<1x1x3x8xf32>
}

// -----

// Scores of a head this long could overflow their i32 accumulators.
func.func @attention_int8_head_dim(%q: tensor<1x1x1x33026x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x1x33026xf32> {
  // expected-error @+1 {{'qlow.attention' op int8 attention: head_dim 33026 is too large for i32 scores (at most 33025)}}
  %o = qlow.attention %q, %q, %q {int8, key_block = 16 : i64} : (tensor<1x1x1x33026x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x1x33026x!quant.uniform<i8:f32, 0.05>>, tensor<1x1x1x33026x!quant.uniform<i8:f32, 0.05>>) -> tensor<1x1x1x33026xf32>
  return %o : tensor<1x1x1x33026xf32>
}
