// RUN: qlow-opt %s --convert-qlow-to-linalg --qlow-vectorize-elementwise=cpu=znver4 --canonicalize --split-input-file | FileCheck %s
// RUN: qlow-opt %s --convert-qlow-to-linalg --qlow-vectorize-elementwise=cpu=haswell --canonicalize --split-input-file | FileCheck %s --check-prefix=AVX2

// A quantize over [3, 20] f32 on AVX-512 (16 f32 lanes): the innermost loop
// is split at 16, the first part one vector<16xf32> per row and the rest one
// vector<4xf32>; no masks. On AVX2 (8 lanes): vectors of 8, and 4 for the
// rest.
// CHECK-LABEL: func.func @quantize
// CHECK: scf.for
// CHECK: vector.transfer_read {{.+}} : tensor<1x16xf32>, vector<16xf32>
// CHECK: arith.divf {{.+}} : vector<16xf32>
// CHECK: math.roundeven {{.+}} : vector<16xf32>
// CHECK: vector.transfer_write {{.+}} : vector<16xi8>, tensor<1x16xi8>
// CHECK: scf.for
// CHECK: vector.transfer_read {{.+}} : tensor<1x4xf32>, vector<4xf32>
// CHECK: vector.transfer_write {{.+}} : vector<4xi8>, tensor<1x4xi8>
// CHECK-NOT: vector.mask
// CHECK-NOT: linalg.generic
// AVX2-LABEL: func.func @quantize
// AVX2: vector.transfer_read {{.+}} : tensor<1x8xf32>, vector<8xf32>
// AVX2: vector.transfer_read {{.+}} : tensor<1x4xf32>, vector<4xf32>
func.func @quantize(%x: tensor<3x20xf32>) -> tensor<3x20x!quant.uniform<i8:f32, 0.1:3>> {
  %q = qlow.quantize %x : tensor<3x20xf32> -> tensor<3x20x!quant.uniform<i8:f32, 0.1:3>>
  return %q : tensor<3x20x!quant.uniform<i8:f32, 0.1:3>>
}

// -----

// A table lookup (quantized silu) becomes a vector.gather from the table.
// CHECK-LABEL: func.func @silu_table
// CHECK: %[[T:.+]] = arith.constant dense<"0x{{[0-9A-F]+}}"> : tensor<256xi8>
// CHECK: vector.gather %[[T]][%{{.+}}] [%{{.+}}], %{{.+}}, %{{.+}} : tensor<256xi8>, vector<1x16xindex>, vector<1x16xi1>, vector<1x16xi8> into vector<1x16xi8>
func.func @silu_table(%x: tensor<2x32x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x32x!quant.uniform<i8:f32, 0.05>> {
  %y = qlow.silu %x : tensor<2x32x!quant.uniform<i8:f32, 0.1>> -> tensor<2x32x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<2x32x!quant.uniform<i8:f32, 0.05>>
}

// -----

// Reductions are not touched (the loops handle them).
// CHECK-LABEL: func.func @reduction_untouched
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
func.func @reduction_untouched(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %init = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Integer row statistics (the integer-only softmax's max, layer_norm's i64
// sum of squares with a per-row input) reassociate exactly: one vector of
// partial results per row, combined by a vector.reduction. AVX-512: 16 lanes.
// CHECK-LABEL: func.func @integer_row_reductions
// CHECK-NOT:   linalg.generic
// CHECK:       arith.maxsi {{.+}} : vector<16xi32>
// CHECK:       vector.reduction <maxsi>, {{.+}} : vector<16xi32> into i32
// CHECK:       arith.muli {{.+}} : vector<16xi64>
// CHECK:       vector.reduction <add>, {{.+}} : vector<16xi64> into i64
// AVX2-LABEL:  func.func @integer_row_reductions
// AVX2:        vector.reduction <maxsi>, {{.+}} : vector<8xi32> into i32
// AVX2:        vector.reduction <add>, {{.+}} : vector<8xi64> into i64
func.func @integer_row_reductions(%x: tensor<3x64xi8>, %mu: tensor<3xi64>) -> (tensor<3xi32>, tensor<3xi64>) {
  %c = arith.constant -2147483648 : i32
  %e = tensor.empty() : tensor<3xi32>
  %init = linalg.fill ins(%c : i32) outs(%e : tensor<3xi32>) -> tensor<3xi32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<3x64xi8>) outs(%init : tensor<3xi32>) {
  ^bb0(%in: i8, %out: i32):
    %w = arith.extsi %in : i8 to i32
    %r = arith.maxsi %out, %w : i32
    linalg.yield %r : i32
  } -> tensor<3xi32>
  %z = arith.constant 0 : i64
  %e64 = tensor.empty() : tensor<3xi64>
  %init64 = linalg.fill ins(%z : i64) outs(%e64 : tensor<3xi64>) -> tensor<3xi64>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x, %mu : tensor<3x64xi8>, tensor<3xi64>) outs(%init64 : tensor<3xi64>) {
  ^bb0(%in: i8, %m0: i64, %out: i64):
    %w = arith.extsi %in : i8 to i64
    %c16 = arith.constant 16 : i64
    %t = arith.muli %w, %c16 : i64
    %d = arith.subi %t, %m0 : i64
    %sq = arith.muli %d, %d : i64
    %r = arith.addi %out, %sq : i64
    linalg.yield %r : i64
  } -> tensor<3xi64>
  return %m, %s : tensor<3xi32>, tensor<3xi64>
}

// -----

// Float row sums accumulated in f64 (layer_norm's sum and sum of squares)
// are partial sums too: vector<16xf64> per row, one vector.reduction. The
// partial sums are the loop's vector iter_arg (in registers), starting from
// a zero constant: no tensor carried, filled or read per row. This one is
// small (4 x 64 = 256 iterations): no threads.
// CHECK-LABEL: func.func @f64_row_sums
// CHECK-NOT:   scf.forall
// CHECK:       scf.for {{.+}} iter_args(%{{.+}} = %[[ZERO:.+]]) -> (vector<1x16xf64>)
// CHECK-NOT:   vector.transfer_write
// CHECK:       arith.addf {{.+}} : vector<16xf64>
// CHECK:       vector.reduction <add>, {{.+}} : vector<16xf64> into f64
// CHECK:       scf.for {{.+}} iter_args(%{{.+}} = %[[ZERO]]) -> (vector<1x16xf64>)
// CHECK:       arith.mulf {{.+}} : vector<16xf64>
// CHECK:       vector.reduction <add>, {{.+}} : vector<16xf64> into f64
// CHECK-NOT:   linalg.generic
// CHECK:       return
// AVX2-LABEL:  func.func @f64_row_sums
// AVX2:        scf.for {{.+}} -> (vector<1x8xf64>)
// AVX2:        vector.reduction <add>, {{.+}} : vector<8xf64> into f64
func.func @f64_row_sums(%x: tensor<4x64xf32>, %g: tensor<64xf32>) -> tensor<4x64xf32> {
  %y = qlow.layer_norm %x, %g, %g : (tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

// -----

// From 2 x parallelMinBytesPerThread (2 x 128 KiB on znver4) read and
// written, the rows are an scf.forall (OpenMP threads after bufferization):
// 128 x 256 f32 in and out here (262144 bytes), over the outermost loop with
// more than one iteration (not the leading unit one). Below it, 127 x 256,
// one thread.
// CHECK-LABEL: func.func @rows_threaded
// CHECK:       scf.forall ({{.+}}) in (128)
// CHECK:       vector.transfer_read {{.+}} vector<16xf32>
// CHECK:       scf.forall.in_parallel
// CHECK-LABEL: func.func @rows_one_thread
// CHECK-NOT:   scf.forall
// CHECK:       return
func.func @rows_threaded(%x: tensor<1x128x256xf32>) -> tensor<1x128x256xf32> {
  %y = qlow.gelu %x : tensor<1x128x256xf32> -> tensor<1x128x256xf32>
  return %y : tensor<1x128x256xf32>
}
func.func @rows_one_thread(%x: tensor<1x127x256xf32>) -> tensor<1x127x256xf32> {
  %y = qlow.gelu %x : tensor<1x127x256xf32> -> tensor<1x127x256xf32>
  return %y : tensor<1x127x256xf32>
}

// -----

// A layer_norm of 128 x 768: row fusion makes its row sum, mean, variance
// sum, 1/sqrt and normalization one scf.forall over the rows (one pass over
// each row, one fork and join); the mean, which both the variance and the
// normalization read, is computed once per row.
// CHECK-LABEL: func.func @layer_norm_threaded
// CHECK:       scf.forall ({{.+}}) in (128)
// CHECK:       vector.reduction <add>, {{.+}} : vector<16xf64> into f64
// CHECK:       arith.divf {{.+}} : vector<1xf64>
// CHECK:       vector.reduction <add>, {{.+}} : vector<16xf64> into f64
// CHECK-NOT:   vector.reduction
// CHECK:       math.sqrt {{.+}} : vector<1xf64>
// CHECK:       scf.for
// CHECK:       arith.truncf {{.+}} : vector<16xf64> to vector<16xf32>
// CHECK:       scf.forall.in_parallel
// CHECK-NOT:   scf.forall
// CHECK:       return
func.func @layer_norm_threaded(%x: tensor<128x768xf32>, %g: tensor<768xf32>) -> tensor<128x768xf32> {
  %y = qlow.layer_norm %x, %g, %g : (tensor<128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<128x768xf32>
  return %y : tensor<128x768xf32>
}

// -----

// Row fusion with the quantize after a layer_norm (issue 5: normalization
// fused with the quantize that follows): one scf.forall whose row computes
// the statistics, the normalized row and its u8 values; the normalized
// values, also returned, are yielded from the same loop.
// CHECK-LABEL: func.func @layer_norm_quantize
// CHECK:       %[[R:.+]]:2 = scf.forall ({{.+}}) in (128) shared_outs({{.+}}) -> (tensor<128x768xi8>, tensor<128x768xf32>)
// CHECK-COUNT-2: vector.reduction <add>, {{.+}} : vector<16xf64> into f64
// CHECK:       arith.truncf {{.+}} : vector<16xf64> to vector<16xf32>
// CHECK:       math.roundeven {{.+}} : vector<16xf32>
// CHECK:       tensor.parallel_insert_slice {{.+}} : tensor<1x768xi8> into tensor<128x768xi8>
// CHECK:       tensor.parallel_insert_slice {{.+}} : tensor<1x768xf32> into tensor<128x768xf32>
// CHECK-NOT:   scf.forall
// CHECK:       return %[[R]]#0, %[[R]]#1
func.func @layer_norm_quantize(%x: tensor<128x768xf32>, %g: tensor<768xf32>) -> (tensor<128x768x!quant.uniform<u8:f32, 0.04:127>>, tensor<128x768xf32>) {
  %y = qlow.layer_norm %x, %g, %g : (tensor<128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<128x768xf32>
  %q = qlow.quantize %y : tensor<128x768xf32> -> tensor<128x768x!quant.uniform<u8:f32, 0.04:127>>
  return %q, %y : tensor<128x768x!quant.uniform<u8:f32, 0.04:127>>, tensor<128x768xf32>
}

// -----

// Below the cost model's bytes (the whole chain's, far under 2 x 128 KiB)
// the fused rows are an scf.for on the calling thread: an rms_norm of 8 x 64
// and its quantize, one loop over the rows.
// CHECK-LABEL: func.func @rms_norm_quantize_one_thread
// CHECK-NOT:   scf.forall
// CHECK:       scf.for %{{.+}} = %c0 to %c8 step %c1 iter_args(%{{.+}} = %{{.+}}) -> (tensor<8x64xi8>)
// CHECK:       vector.reduction <add>, {{.+}} : vector<16xf64> into f64
// CHECK:       math.roundeven {{.+}} : vector<16xf32>
// CHECK-NOT:   scf.for %{{.+}} = %c0 to %c8
// CHECK:       return
func.func @rms_norm_quantize_one_thread(%x: tensor<8x64xf32>, %g: tensor<64xf32>) -> tensor<8x64x!quant.uniform<u8:f32, 0.04:127>> {
  %y = qlow.rms_norm %x, %g : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %q = qlow.quantize %y : tensor<8x64xf32> -> tensor<8x64x!quant.uniform<u8:f32, 0.04:127>>
  return %q : tensor<8x64x!quant.uniform<u8:f32, 0.04:127>>
}

// -----

// Not fused: a producer the consumer reads whole in every row (a vector
// broadcast over the rows) stays its own op, and so does one with a use
// before the consumer (it could not be yielded in time): each op is its own
// scf.forall.
// CHECK-LABEL: func.func @rows_not_fused
// CHECK:       %[[V:.+]] = scf.for {{.+}} -> (tensor<768xf32>)
// CHECK:       %[[P:.+]] = scf.forall ({{.+}}) in (128) {{.+}} -> (tensor<128x768xf32>)
// CHECK:       %[[E:.+]] = tensor.extract %[[P]]
// CHECK:       scf.forall ({{.+}}) in (128) {{.+}} -> (tensor<128x768xf32>)
// CHECK:       tensor.extract_slice %[[P]]
// CHECK:       tensor.extract_slice %[[V]]
// CHECK:       return
#row = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @rows_not_fused(%x: tensor<128x768xf32>, %v: tensor<768xf32>) -> (tensor<128x768xf32>, f32) {
  %c0 = arith.constant 0 : index
  %ev = tensor.empty() : tensor<768xf32>
  %vexp = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%v : tensor<768xf32>) outs(%ev : tensor<768xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<768xf32>
  %e = tensor.empty() : tensor<128x768xf32>
  %p = linalg.generic {indexing_maps = [#row, #row], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<128x768xf32>) outs(%e : tensor<128x768xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.mulf %a, %a : f32
    linalg.yield %r : f32
  } -> tensor<128x768xf32>
  %early = tensor.extract %p[%c0, %c0] : tensor<128x768xf32>
  %y = linalg.generic {indexing_maps = [#row, #col, #row], iterator_types = ["parallel", "parallel"]} ins(%p, %vexp : tensor<128x768xf32>, tensor<768xf32>) outs(%e : tensor<128x768xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<128x768xf32>
  return %y, %early : tensor<128x768xf32>, f32
}

// -----

// A copy that reads its input transposed along the innermost loop (x[0, j,
// a, b] -> y[0, a, b, j]): a vector of the innermost loop would be a strided
// gather, which the LLVM lowering does not take, so the generic is left to
// the loops (test/e2e/transposed-read-generic.mlir runs it). A generic that
// reads a row parameter broadcast along the innermost loop, or transposed
// along an outer loop only, is still vectorized.
// CHECK-LABEL: func.func @transposed_read
// CHECK-NOT:   vector.transfer_read
// CHECK:       linalg.generic
// CHECK-NOT:   vector.transfer_read
// CHECK-LABEL: func.func @outer_transposed_read
// CHECK:       vector.transfer_read {{.+}} vector<16xf32>
// AVX2-LABEL:  func.func @transposed_read
// AVX2-NOT:    vector.transfer_read
// AVX2:        linalg.generic
// AVX2-LABEL:  func.func @outer_transposed_read
// AVX2:        vector.transfer_read {{.+}} vector<8xf32>
func.func @transposed_read(%x: tensor<1x128x12x64xi8>) -> tensor<1x12x64x128xi8> {
  %e = tensor.empty() : tensor<1x12x64x128xi8>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x128x12x64xi8>) outs(%e : tensor<1x12x64x128xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  } -> tensor<1x12x64x128xi8>
  return %y : tensor<1x12x64x128xi8>
}
func.func @outer_transposed_read(%x: tensor<4x8x32xf32>) -> tensor<8x4x32xf32> {
  %e = tensor.empty() : tensor<8x4x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<4x8x32xf32>) outs(%e : tensor<8x4x32xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.mulf %a, %a : f32
    linalg.yield %r : f32
  } -> tensor<8x4x32xf32>
  return %y : tensor<8x4x32xf32>
}

// -----

// A transpose left outside the kernels (a decoder's q heads before rope:
// [1, 128, 12, 64] -> [1, 12, 128, 64]) keeps the innermost dimension: it
// becomes a generic, vectorized (vector<16xf32> rows of 64) and spread over
// the threads (98304 iterations: an scf.forall over the 12 heads) instead of
// a scalar copy on the calling thread. One that moves the innermost
// dimension ([64, 128] -> [128, 64]) stays a loop nest: a generic without
// vectors.
// CHECK-LABEL: func.func @heads_transpose
// CHECK-NOT:   linalg.transpose
// CHECK:       scf.forall ({{.+}}) in (12)
// CHECK:       vector.transfer_read {{.+}} : tensor<{{.+}}xf32>, vector<16xf32>
// CHECK:       vector.transfer_write {{.+}} : vector<16xf32>, tensor<{{.+}}xf32>
// CHECK:       scf.forall.in_parallel
// CHECK-LABEL: func.func @inner_transpose
// CHECK-NOT:   linalg.transpose
// CHECK-NOT:   vector.transfer_read
// CHECK:       linalg.generic
// CHECK-SAME:  iterator_types = ["parallel", "parallel"]
// CHECK-NOT:   vector.transfer_read
// CHECK:       return
func.func @heads_transpose(%x: tensor<1x128x12x64xf32>) -> tensor<1x12x128x64xf32> {
  %e = tensor.empty() : tensor<1x12x128x64xf32>
  %t = linalg.transpose ins(%x : tensor<1x128x12x64xf32>) outs(%e : tensor<1x12x128x64xf32>) permutation = [0, 2, 1, 3]
  return %t : tensor<1x12x128x64xf32>
}
func.func @inner_transpose(%x: tensor<64x128xf32>) -> tensor<128x64xf32> {
  %e = tensor.empty() : tensor<128x64xf32>
  %t = linalg.transpose ins(%x : tensor<64x128xf32>) outs(%e : tensor<128x64xf32>) permutation = [1, 0]
  return %t : tensor<128x64xf32>
}

// -----

// An empty iteration space (a dimension of size 0) has nothing to vectorize:
// the generics stay as they are (a tile of width 0 crashed upstream's tiling;
// linalg-to-loops lowers them to loops that do not run).
// CHECK-LABEL: func.func @empty_rows
// CHECK-NOT:   vector.transfer_read
// CHECK:       linalg.generic
// CHECK-NOT:   vector.transfer_read
// CHECK:       return
// AVX2-LABEL:  func.func @empty_rows
// AVX2-NOT:    vector.transfer_read
// AVX2:        linalg.generic
// AVX2-NOT:    vector.transfer_read
// AVX2:        return
func.func @empty_rows(%x: tensor<16x0xf32>) -> tensor<16x0xf32> {
  %y = qlow.gelu %x {approximate = #qlow.gelu_approximation<tanh>} : tensor<16x0xf32> -> tensor<16x0xf32>
  return %y : tensor<16x0xf32>
}

// -----

// A generic that reads a tensor of i4 stays scalar: the tensor keeps one
// value per byte, but a vector<16xi4> load would read packed nibbles.
// CHECK-LABEL: func.func @dequantize_i4
// CHECK-NOT: vector.transfer_read
// CHECK: linalg.generic
// CHECK-SAME: tensor<4x21xi4>
// AVX2-LABEL: func.func @dequantize_i4
// AVX2-NOT: vector.transfer_read
// AVX2: linalg.generic
func.func @dequantize_i4(%q: tensor<4x21x!quant.uniform<i4:f32, 0.5:1>>) -> tensor<4x21xf32> {
  %d = qlow.dequantize %q : tensor<4x21x!quant.uniform<i4:f32, 0.5:1>> -> tensor<4x21xf32>
  return %d : tensor<4x21xf32>
}

// -----

// A row's mean and 1/std are one-element slices of [rows] tensors made
// outside the row loop; written in the parallel loop, they made One-Shot
// Bufferize allocate (and free) two buffers per row. Each is read back as
// the element just written, broadcast, and the partial sums start from the
// fill value: no f64 slice is read or written in the forall.
// CHECK-LABEL: func.func @row_statistics_stay_in_registers
// CHECK:       scf.forall
// CHECK-NOT:   tensor<1xf64>
// CHECK:       vector.reduction <add>, {{.+}} : vector<16xf64> into f64
// CHECK-NOT:   tensor<1xf64>
// CHECK:       vector.reduction <add>, {{.+}} : vector<16xf64> into f64
// CHECK-NOT:   tensor<1xf64>
// CHECK:       math.sqrt
// CHECK-NOT:   tensor<1xf64>
// CHECK:       return
func.func @row_statistics_stay_in_registers(%x: tensor<128x768x!quant.uniform<u8:f32, 0.0387:123>>, %g: tensor<768xf32>, %b: tensor<768xf32>) -> tensor<128x768x!quant.uniform<u8:f32, 0.0384:129>> {
  %y = qlow.layer_norm %x, %g, %b : (tensor<128x768x!quant.uniform<u8:f32, 0.0387:123>>, tensor<768xf32>, tensor<768xf32>) -> tensor<128x768x!quant.uniform<u8:f32, 0.0384:129>>
  return %y : tensor<128x768x!quant.uniform<u8:f32, 0.0384:129>>
}
