// RUN: qlow-opt %s --split-input-file --qlow-x86-attention="cpu=znver4" | FileCheck %s
// RUN: qlow-opt %s --split-input-file --qlow-x86-attention="cpu=haswell" | FileCheck %s --check-prefix=AVX2
// RUN: qlow-opt %s --split-input-file --qlow-x86-attention="cpu=znver4" --canonicalize | qlow-opt | FileCheck %s --check-prefix=ROUND

// Causal grouped-query attention, H = 4 query heads over Hkv = 2 kv heads,
// S = T = 37, D = Dv = 20. On AVX-512 (16 f32 lanes, 32 registers) a key
// block is 32 / 8 = 4 vectors (64 keys) and the value rows 2 vectors
// (16 + 4 lanes), so a query block has min(32 / 2 / 4, (32 - 2) / 3) = 4
// rows: 9 full blocks per head (36 work items), then one row per head (4
// more). K is transposed once per kv head ([1, 2, 20, 37]); query head h
// reads kv head h / 2. Causal, T = 37 < 64 keys: no whole key block, so the
// keys up to the block's diagonal rounded up to a vector go in half blocks
// of 32 keys, then single vectors of 16 (scf.for loops with run-time
// bounds), then the last 5 keys under an scf.if (skipped when wholly above
// the diagonal).
// CHECK-LABEL: func.func @gqa_causal
// CHECK-SAME: (%[[Q:.+]]: tensor<1x4x37x20xf32>, %[[K:.+]]: tensor<1x2x37x20xf32>, %[[V:.+]]: tensor<1x2x37x20xf32>)
// K^T in tiles of 16 keys x 16 of D in registers: 16 row loads (D's last
// tile 4 wide), 4 stages of vector.shuffle, a store per column; the last
// 37 % 16 = 5 keys element by element.
// CHECK: %[[KT:.+]] = scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<1x2x20x37xf32>)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<1x1x20x37xf32>)
// CHECK: vector.transfer_read %[[K]]{{.+}} : tensor<1x2x37x20xf32>, vector<16xf32>
// CHECK: vector.shuffle {{.+}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xf32>, vector<16xf32>
// CHECK: vector.shuffle {{.+}} [0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30] : vector<16xf32>, vector<16xf32>
// CHECK: vector.transfer_write {{.+}} : vector<16xf32>, tensor<1x1x20x37xf32>
// CHECK: vector.transfer_read %[[K]]{{.+}} : tensor<1x2x37x20xf32>, vector<4xf32>
// CHECK: scf.yield
// CHECK: tensor.extract %[[K]]
// CHECK: tensor.insert {{.+}} : tensor<1x1x20x37xf32>
// CHECK: scf.forall (%{{.+}}) in (36) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<1x4x37x20xf32>)
// CHECK: %[[GROUP:.+]] = arith.constant 2 : index
// CHECK-NEXT: %[[KVHEAD:.+]] = arith.divui %{{.+}}, %[[GROUP]] : index
// CHECK: tensor.extract_slice {{.+}} to tensor<1x1x4x20xf32>
// Half blocks of 32 keys: per step of D, 2 vectors of a K^T row for the 4
// rows' 2 score vectors each; the causal mask; the vectors' maximum
// lanewise by compare and select, then in all lanes by a butterfly of
// shuffles. Each row's running maximum and sum are vectors (lane-wise).
// CHECK: scf.for {{.+}} -> (vector<16xf32>, vector<4xf32>, vector<16xf32>, vector<4xf32>, vector<16xf32>, vector<4xf32>, vector<16xf32>, vector<4xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-2: vector.transfer_read %[[KT]][%{{.+}}, %[[KVHEAD]], %{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<1x2x20x37xf32>, vector<16xf32>
// CHECK: arith.cmpi sle, {{.+}} : vector<16xi32>
// CHECK: %[[GT:.+]] = arith.cmpf ogt, %[[A:.+]], %[[B:.+]] : vector<16xf32>
// CHECK-NEXT: %[[M:.+]] = arith.select %[[GT]], %[[A]], %[[B]] : vector<16xi1>, vector<16xf32>
// CHECK-NEXT: vector.shuffle %[[M]], %[[M]] [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7] : vector<16xf32>, vector<16xf32>
// CHECK-NOT: maximumf
// Single vectors of keys: per step of D, one K^T vector for the 4 rows'
// score vectors; the causal mask; one row maximum, the exponentials (qlow's
// own: no math.exp) and their sum, lane-wise; P * V.
// CHECK: scf.for {{.+}} -> (vector<16xf32>, vector<4xf32>, vector<16xf32>, vector<4xf32>, vector<16xf32>, vector<4xf32>, vector<16xf32>, vector<4xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.transfer_read %[[KT]][%{{.+}}, %[[KVHEAD]], %{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<1x2x20x37xf32>, vector<16xf32>
// CHECK: tensor.extract %[[Q]]
// CHECK: vector.fma {{.+}} : vector<16xf32>
// CHECK: arith.cmpi sle, {{.+}} : vector<16xi32>
// CHECK-NOT: maximumf
// CHECK-NOT: math.exp
// CHECK: vector.shuffle {{.+}} [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14] : vector<16xf32>, vector<16xf32>
// CHECK-NOT: math.exp
// CHECK: math.roundeven {{.+}} : vector<16xf32>
// CHECK-NOT: vector.reduction
// CHECK: vector.fma {{.+}} : vector<16xf32>
// CHECK-NOT: vector.reduction
// CHECK: vector.transfer_read %[[V]][%{{.+}}, %[[KVHEAD]], %{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<1x2x37x20xf32>, vector<16xf32>
// CHECK: vector.transfer_read %[[V]]{{.+}} : tensor<1x2x37x20xf32>, vector<4xf32>
// The last 5 keys, their scores padded to a vector with -inf. Each row's
// sum is added across its lanes once, for the division.
// CHECK: scf.if
// CHECK: scf.for {{.+}} -> (vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>)
// CHECK: vector.transfer_read %[[KT]]{{.+}} : tensor<1x2x20x37xf32>, vector<5xf32>
// CHECK: arith.cmpi sle, {{.+}} : vector<5xi32>
// CHECK: vector.insert_strided_slice {{.+}} : vector<5xf32> into vector<16xf32>
// CHECK: vector.shuffle {{.+}} [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7] : vector<16xf32>, vector<16xf32>
// CHECK: vector.reduction <add>, {{.+}} : vector<16xf32> into f32
// CHECK: arith.divf {{.+}} : vector<16xf32>
// CHECK: vector.transfer_write {{.+}} : vector<4xf32>, tensor<1x1x4x20xf32>
// CHECK: tensor.parallel_insert_slice {{.+}} : tensor<1x1x4x20xf32> into tensor<1x4x37x20xf32>
// CHECK: scf.forall (%{{.+}}) in (4) shared_outs
// CHECK: tensor.parallel_insert_slice {{.+}} : tensor<1x1x1x20xf32> into tensor<1x4x37x20xf32>
// On AVX2 (8 lanes, 16 registers): values are 3 vectors (8 + 8 + 4), so 3
// rows per block: 12 blocks per head, and one row.
// AVX2-LABEL: func.func @gqa_causal
// AVX2: scf.forall (%{{.+}}) in (48) shared_outs
// AVX2: vector.fma {{.+}} : vector<8xf32>
// AVX2: vector.transfer_read {{.+}} : tensor<1x2x20x37xf32>, vector<5xf32>
// AVX2: tensor.parallel_insert_slice {{.+}} : tensor<1x1x3x20xf32> into tensor<1x4x37x20xf32>
// AVX2: scf.forall (%{{.+}}) in (4) shared_outs
// No qlow op is left; the result round-trips.
// ROUND-LABEL: func.func @gqa_causal
// ROUND-NOT: qlow.attention
// ROUND: return
func.func @gqa_causal(%q: tensor<1x4x37x20xf32>, %k: tensor<1x2x37x20xf32>, %v: tensor<1x2x37x20xf32>) -> tensor<1x4x37x20xf32> {
  %o = qlow.attention %q, %k, %v {causal} : (tensor<1x4x37x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>) -> tensor<1x4x37x20xf32>
  return %o : tensor<1x4x37x20xf32>
}

// -----

// Causal, S = T = 80, D = Dv = 16 on AVX-512, 4 query rows per work item.
// A query block starting at row0 sees keys [0, row0 + 4). Those up to
// end = row0 + 4 rounded up to 16 go in whole 64-key blocks counted back
// from `end` (keys [end % 64 + 64 i, ...)), and the end % 64 keys before
// them in half blocks of 32 and single vectors of 16 (row0 = 76: keys 0-15
// alone, then 16-79 as a block; row0 = 20: keys 0-31 as a half block; no
// 64-key block), all with the causal mask; 80 % 16 = 0 leaves no narrower
// rest.
// CHECK-LABEL: func.func @causal_diagonal
// CHECK: scf.forall (%{{.+}}) in (20) shared_outs
// CHECK: %[[END:.+]] = arith.muli %{{.+}}, %c16
// CHECK: %[[HEAD:.+]] = arith.remui %[[END]], %c64
// CHECK: %[[HALVES:.+]] = arith.divui %[[HEAD]], %c32
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[HALVES]]
// CHECK: scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: arith.cmpi sle, {{.+}} : vector<16xi32>
// CHECK: %[[SINGLES:.+]] = arith.divui %[[HEAD]], %c16
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[SINGLES]]
// CHECK: scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: arith.cmpi sle, {{.+}} : vector<16xi32>
// The 64-key blocks, from key HEAD.
// CHECK: %[[BLOCKS:.+]] = arith.divui %[[END]], %c64
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %[[BLOCKS]]
// CHECK: %[[OFF:.+]] = arith.muli %[[I]], %c64
// CHECK: arith.addi %[[HEAD]], %[[OFF]]
// CHECK: scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: arith.cmpi sle, {{.+}} : vector<16xi32>
// CHECK-NOT: scf.if
// CHECK: tensor.parallel_insert_slice {{.+}} : tensor<1x1x4x16xf32> into tensor<1x1x80x16xf32>
func.func @causal_diagonal(%q: tensor<1x1x80x16xf32>, %k: tensor<1x1x80x16xf32>, %v: tensor<1x1x80x16xf32>) -> tensor<1x1x80x16xf32> {
  %o = qlow.attention %q, %k, %v {causal} : (tensor<1x1x80x16xf32>, tensor<1x1x80x16xf32>, tensor<1x1x80x16xf32>) -> tensor<1x1x80x16xf32>
  return %o : tensor<1x1x80x16xf32>
}

// -----

// Not causal, S = T = 77, D = Dv = 16 on AVX-512: one full block of 64 keys
// in an scf.for (4 score vectors per row, one row maximum, one exponential
// sum and one rescale per block: the maximum of the 4 vectors by 3
// compares and selects, then in all lanes by 4 shuffles; the sum of the
// probabilities a tree of adds, into the running lane-wise sum by one FMA
// with alpha), then the last 13 keys as a narrower block, padded to a
// vector with -inf; min(32 / 2 / 4, (32 - 1) / 2) = 4 query rows per work
// item.
// CHECK-LABEL: func.func @key_blocks
// CHECK: tensor.extract_slice {{.+}} to tensor<1x1x4x16xf32>
// CHECK: scf.for
// CHECK: scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-3: arith.select {{.+}} : vector<16xi1>, vector<16xf32>
// CHECK-COUNT-4: vector.shuffle
// CHECK-NOT: vector.reduction
// The exponentials of the 4 rows' scores (4 each), then one for the rows'
// rescale factors: their maxima's drops packed into one vector (lane r row
// r's), broadcast back after; each 2^n built from exponent bits.
// CHECK-COUNT-16: arith.bitcast {{.+}} : vector<16xi32> to vector<16xf32>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 17, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<16xf32>, vector<16xf32>
// CHECK: vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 19, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<16xf32>, vector<16xf32>
// CHECK: arith.bitcast {{.+}} : vector<16xi32> to vector<16xf32>
// CHECK: vector.shuffle %[[ALPHA:.+]], %[[ALPHA]] [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3] : vector<16xf32>, vector<16xf32>
// CHECK-NOT: vector.reduction
// CHECK: %[[P01:.+]] = arith.addf {{.+}} : vector<16xf32>
// CHECK-NEXT: %[[P23:.+]] = arith.addf {{.+}} : vector<16xf32>
// CHECK-NEXT: %[[P:.+]] = arith.addf %[[P01]], %[[P23]] : vector<16xf32>
// CHECK-NEXT: vector.fma %{{.+}}, %{{.+}}, %[[P]] : vector<16xf32>
// CHECK: scf.yield
// CHECK: vector.insert_strided_slice {{.+}} : vector<13xf32> into vector<16xf32>
// CHECK: tensor.parallel_insert_slice {{.+}} : tensor<1x1x4x16xf32> into tensor<1x1x77x16xf32>
// CHECK: tensor.parallel_insert_slice {{.+}} : tensor<1x1x1x16xf32> into tensor<1x1x77x16xf32>
func.func @key_blocks(%q: tensor<1x1x77x16xf32>, %k: tensor<1x1x77x16xf32>, %v: tensor<1x1x77x16xf32>) -> tensor<1x1x77x16xf32> {
  %o = qlow.attention %q, %k, %v : (tensor<1x1x77x16xf32>, tensor<1x1x77x16xf32>, tensor<1x1x77x16xf32>) -> tensor<1x1x77x16xf32>
  return %o : tensor<1x1x77x16xf32>
}

// -----

// Quantized q (per tensor) and k (per head) are dequantized, the quantized
// result quantized, by qlow ops that convert-qlow-to-linalg lowers. A rank-2
// f32 mask becomes a rank-4 view and is added to the scores (one vector read
// per row and key block); the explicit scale multiplies them. Not causal:
// T = 9 < 16 keys are one narrow block, no key loop and no scf.if.
// CHECK-LABEL: func.func @quantized_f32_mask
// CHECK-SAME: %[[MASK:[^:]+]]: tensor<3x9xf32>
// CHECK: %[[QF:.+]] = qlow.dequantize %{{.+}} : tensor<2x2x3x8x!quant.uniform<u8:f32, {{.+}}>> -> tensor<2x2x3x8xf32>
// CHECK: %[[KF:.+]] = qlow.dequantize %{{.+}} : tensor<2x1x9x8x!quant.uniform<i8:f32:1, {{.+}}>> -> tensor<2x1x9x8xf32>
// CHECK: %[[M4:.+]] = tensor.expand_shape %[[MASK]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 3, 9]
// CHECK: scf.forall
// CHECK-NOT: scf.if
// CHECK: %[[SCALE:.+]] = arith.constant dense<2.500000e-01> : vector<9xf32>
// CHECK: %[[S:.+]] = arith.mulf %{{.+}}, %[[SCALE]] : vector<9xf32>
// CHECK: %[[MV:.+]] = vector.transfer_read %[[M4]][%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<1x1x3x9xf32>, vector<9xf32>
// CHECK: arith.addf %[[S]], %[[MV]] : vector<9xf32>
// CHECK: %[[OUT:.+]] = qlow.quantize %{{.+}} : tensor<2x2x3x8xf32> -> tensor<2x2x3x8x!quant.uniform<i8:f32, {{.+}}>>
// CHECK: return %[[OUT]]
func.func @quantized_f32_mask(%q: tensor<2x2x3x8x!quant.uniform<u8:f32, 0.05:128>>, %k: tensor<2x1x9x8x!quant.uniform<i8:f32:1, {0.04}>>, %v: tensor<2x1x9x8xf32>, %m: tensor<3x9xf32>) -> tensor<2x2x3x8x!quant.uniform<i8:f32, 0.02:3>> {
  %o = qlow.attention %q, %k, %v, %m {scale = 0.25 : f32} : (tensor<2x2x3x8x!quant.uniform<u8:f32, 0.05:128>>, tensor<2x1x9x8x!quant.uniform<i8:f32:1, {0.04}>>, tensor<2x1x9x8xf32>, tensor<3x9xf32>) -> tensor<2x2x3x8x!quant.uniform<i8:f32, 0.02:3>>
  return %o : tensor<2x2x3x8x!quant.uniform<i8:f32, 0.02:3>>
}

// -----

// An i1 mask is read element by element (memory holds a byte per i1) into a
// vector of keep flags; masked scores become -inf.
// CHECK-LABEL: func.func @bool_mask
// CHECK-SAME: %[[MASK:[^:]+]]: tensor<1x1x3x4xi1>
// CHECK: scf.forall
// CHECK: %[[B0:.+]] = tensor.extract %[[MASK]]
// CHECK: %[[B1:.+]] = tensor.extract %[[MASK]]
// CHECK: %[[B2:.+]] = tensor.extract %[[MASK]]
// CHECK: %[[B3:.+]] = tensor.extract %[[MASK]]
// CHECK: %[[KEEP:.+]] = vector.from_elements %[[B0]], %[[B1]], %[[B2]], %[[B3]] : vector<4xi1>
// CHECK: arith.select %[[KEEP]], %{{.+}}, %{{.+}} : vector<4xi1>, vector<4xf32>
func.func @bool_mask(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %m: tensor<1x1x3x4xi1>) -> tensor<1x2x3x8xf32> {
  %o = qlow.attention %q, %k, %v, %m : (tensor<1x2x3x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x3x4xi1>) -> tensor<1x2x3x8xf32>
  return %o : tensor<1x2x3x8xf32>
}

// -----

// A decode step: one query row per head against a cache of 37 keys. Four
// query heads share a kv head: they become the 4 rows of one work item per
// kv head (q [1, 8, 1, 20] viewed as [1, 2, 4, 20]), which reads its K and V
// once for all four. K is not transposed: each score is a dot product of a
// query row and a key row in vectors along D = 20 (16 + 4 lanes), reduced and
// inserted at the key's lane. The causal mask hides nothing from a single
// row. The result is viewed back as [1, 8, 1, 20].
// CHECK-LABEL: func.func @decode
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x8x1x20xf32>, %[[K:[^:]+]]: tensor<1x2x37x20xf32>
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[Q]] {{\[\[}}0], [1, 2], [3]] : tensor<1x8x1x20xf32> into tensor<1x8x20xf32>
// CHECK: %[[G:.+]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0], [1, 2], [3]] output_shape [1, 2, 4, 20] : tensor<1x8x20xf32> into tensor<1x2x4x20xf32>
// CHECK-NOT: tensor.insert
// CHECK: scf.forall (%{{.+}}) in (2) shared_outs
// CHECK: tensor.extract_slice {{.+}} to tensor<1x1x4x20xf32>
// CHECK: %[[Q0:.+]] = vector.transfer_read %[[G]]{{.+}} : tensor<1x2x4x20xf32>, vector<16xf32>
// CHECK: %[[Q1:.+]] = vector.transfer_read %[[G]]{{.+}} : tensor<1x2x4x20xf32>, vector<4xf32>
// CHECK: %[[K0:.+]] = vector.transfer_read %[[K]]{{.+}} : tensor<1x2x37x20xf32>, vector<16xf32>
// CHECK: %[[K1:.+]] = vector.transfer_read %[[K]]{{.+}} : tensor<1x2x37x20xf32>, vector<4xf32>
// CHECK: %[[P0:.+]] = arith.mulf %[[Q0]], %[[K0]] : vector<16xf32>
// CHECK: %[[P1:.+]] = arith.mulf %[[Q1]], %[[K1]] : vector<4xf32>
// CHECK: %[[R1:.+]] = vector.reduction <add>, %[[P1]] : vector<4xf32> into f32
// CHECK: %[[R0:.+]] = vector.reduction <add>, %[[P0]] : vector<16xf32> into f32
// CHECK: %[[S:.+]] = arith.addf %[[R0]], %[[R1]] : f32
// CHECK: vector.insert %[[S]], %{{.+}} [0] : f32 into vector<16xf32>
// CHECK: %[[OUT:.+]] = tensor.collapse_shape %{{.+}} {{\[\[}}0], [1, 2], [3]] : tensor<1x2x4x20xf32> into tensor<1x8x20xf32>
// CHECK: %[[R:.+]] = tensor.expand_shape %[[OUT]] {{\[\[}}0], [1, 2], [3]] output_shape [1, 8, 1, 20] : tensor<1x8x20xf32> into tensor<1x8x1x20xf32>
// CHECK: return %[[R]]
// AVX2-LABEL: func.func @decode
// AVX2: scf.forall (%{{.+}}) in (2) shared_outs
func.func @decode(%q: tensor<1x8x1x20xf32>, %k: tensor<1x2x37x20xf32>, %v: tensor<1x2x37x20xf32>) -> tensor<1x8x1x20xf32> {
  %o = qlow.attention %q, %k, %v {causal} : (tensor<1x8x1x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32>) -> tensor<1x8x1x20xf32>
  return %o : tensor<1x8x1x20xf32>
}

// -----

// A decode step with D = 32 (whole vectors) against 21 keys. Its key blocks
// are loops over their keys (scores by dot products), with a scratch tensor
// of the block's scores and probabilities (1 row x 256 keys) carried by the
// key loops. For a vector of 16 keys, each key's products accumulate
// lanewise (a multiply, then an FMA along D) and the 16 keys' vectors are
// summed at once by 4 levels of shuffles (8 + 4 + 2 + 1 pairs; within
// 128-bit blocks first, then halving the blocks), with no reduction per
// key; the scores are stored, their maximum reduced once per block, the
// probabilities stored in their place, and P * V is a loop over the block's
// keys that reads each one's probability back. The last 5 keys are dot
// products reduced one by one, padded to a vector with -inf.
// CHECK-LABEL: func.func @decode_lanewise_sums
// CHECK: scf.forall (%{{.+}}) in (4) shared_outs
// CHECK: %[[SCRATCH:.+]] = tensor.empty() : tensor<1x256xf32>
// CHECK: scf.for {{.+}} iter_args({{.+}}, %{{.+}} = %[[SCRATCH]]) -> (vector<16xf32>, vector<16xf32>, f32, f32, tensor<1x256xf32>)
// CHECK: scf.for {{.+}} -> (tensor<1x256xf32>, vector<16xf32>)
// CHECK-NOT: vector.reduction <add>
// CHECK-COUNT-16: vector.fma {{.+}} : vector<16xf32>
// CHECK-NOT: vector.reduction <add>
// CHECK-COUNT-8: vector.shuffle {{.+}} [2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31] : vector<16xf32>, vector<16xf32>
// CHECK-NOT: vector.reduction <add>
// CHECK-COUNT-4: vector.shuffle {{.+}} [2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31] : vector<16xf32>, vector<16xf32>
// CHECK-NOT: vector.reduction <add>
// CHECK-COUNT-3: vector.shuffle {{.+}} [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31] : vector<16xf32>, vector<16xf32>
// CHECK-NEXT: arith.addf {{.+}} : vector<16xf32>
// CHECK: vector.transfer_write {{.+}} : vector<16xf32>, tensor<1x256xf32>
// CHECK: vector.reduction <maximumf>, {{.+}} : vector<16xf32> into f32
// CHECK: scf.for {{.+}} -> (tensor<1x256xf32>, vector<16xf32>)
// CHECK: math.exp {{.+}} : vector<16xf32>
// CHECK: vector.transfer_write {{.+}} : vector<16xf32>, tensor<1x256xf32>
// CHECK: vector.reduction <add>, {{.+}} : vector<16xf32> into f32
// CHECK: scf.for
// CHECK: tensor.extract %{{.+}} : tensor<1x256xf32>
// CHECK-COUNT-2: vector.fma {{.+}} : vector<16xf32>
// The last 5 keys: one reduction per key's dot product.
// CHECK: scf.if
// CHECK-COUNT-5: vector.reduction <add>, {{.+}} : vector<16xf32> into f32
// CHECK: vector.insert_strided_slice {{.+}} : vector<5xf32> into vector<16xf32>
// CHECK: vector.reduction <maximumf>, {{.+}} : vector<16xf32> into f32
func.func @decode_lanewise_sums(%q: tensor<1x4x1x32xf32>, %k: tensor<1x4x21x32xf32>, %v: tensor<1x4x21x32xf32>) -> tensor<1x4x1x32xf32> {
  %o = qlow.attention %q, %k, %v {causal} : (tensor<1x4x1x32xf32>, tensor<1x4x21x32xf32>, tensor<1x4x21x32xf32>) -> tensor<1x4x1x32xf32>
  return %o : tensor<1x4x1x32xf32>
}

// -----

// Split and merged heads: q, k, v are the heads of [1, S, H, D] projections
// (linalg.transpose [0, 2, 1, 3]) and the result's only use merges them back.
// The kernel reads the projections in place (a row along D is contiguous in
// both layouts) and writes [1, S, H, Dv] tiles ([1, rows, 1, Dv]): no
// transposed copy is left. S = 20 rows per kv head take the K^T path, whose
// packing reads K through the same view.
// CHECK-LABEL: func.func @heads_layout
// CHECK-SAME: (%[[QX:[^:]+]]: tensor<1x20x2x16xf32>, %[[KX:[^:]+]]: tensor<1x20x2x16xf32>, %[[VX:[^:]+]]: tensor<1x20x2x16xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<1x2x16x20xf32>)
// CHECK: vector.transfer_read %[[KX]]{{.+}} : tensor<1x20x2x16xf32>, vector<16xf32>
// CHECK: tensor.extract %[[KX]]
// CHECK: scf.forall (%{{.+}}) in ({{[0-9]+}}) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<1x20x2x16xf32>)
// CHECK: tensor.extract_slice {{.+}} to tensor<1x{{[0-9]+}}x1x16xf32>
// CHECK: tensor.extract %[[QX]]
// CHECK: vector.transfer_read %[[VX]]{{.+}} : tensor<1x20x2x16xf32>, vector<16xf32>
// CHECK: tensor.parallel_insert_slice {{.+}} : tensor<1x{{[0-9]+}}x1x16xf32> into tensor<1x20x2x16xf32>
// CHECK-NOT: linalg.transpose
// CHECK: return
func.func @heads_layout(%qx: tensor<1x20x2x16xf32>, %kx: tensor<1x20x2x16xf32>, %vx: tensor<1x20x2x16xf32>) -> tensor<1x20x2x16xf32> {
  %e = tensor.empty() : tensor<1x2x20x16xf32>
  %q = linalg.transpose ins(%qx : tensor<1x20x2x16xf32>) outs(%e : tensor<1x2x20x16xf32>) permutation = [0, 2, 1, 3]
  %k = linalg.transpose ins(%kx : tensor<1x20x2x16xf32>) outs(%e : tensor<1x2x20x16xf32>) permutation = [0, 2, 1, 3]
  %v = linalg.transpose ins(%vx : tensor<1x20x2x16xf32>) outs(%e : tensor<1x2x20x16xf32>) permutation = [0, 2, 1, 3]
  %o = qlow.attention %q, %k, %v {causal} : (tensor<1x2x20x16xf32>, tensor<1x2x20x16xf32>, tensor<1x2x20x16xf32>) -> tensor<1x2x20x16xf32>
  %e2 = tensor.empty() : tensor<1x20x2x16xf32>
  %r = linalg.transpose ins(%o : tensor<1x2x20x16xf32>) outs(%e2 : tensor<1x20x2x16xf32>) permutation = [0, 2, 1, 3]
  return %r : tensor<1x20x2x16xf32>
}

// -----

// The same for a decode step (dot products against K as it is): the query
// ([1, 1, 4, 16], split heads) and the keys are read through their views,
// the query's two heads per kv head as one work item's rows; the result
// stays head-major (its use is not a heads transpose).
// CHECK-LABEL: func.func @heads_layout_decode
// CHECK-SAME: (%[[QX:[^:]+]]: tensor<1x1x4x16xf32>, %[[KX:[^:]+]]: tensor<1x9x2x16xf32>
// CHECK-NOT: linalg.transpose
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[QX]] {{\[\[}}0], [1, 2], [3]] : tensor<1x1x4x16xf32> into tensor<1x4x16xf32>
// CHECK: %[[G:.+]] = tensor.expand_shape %[[FLAT]] {{.+}} into tensor<1x2x2x16xf32>
// CHECK: vector.transfer_read %[[G]]{{.+}} : tensor<1x2x2x16xf32>, vector<16xf32>
// CHECK: vector.transfer_read %[[KX]]{{.+}} : tensor<1x9x2x16xf32>, vector<16xf32>
// CHECK: tensor.parallel_insert_slice {{.+}} : tensor<1x1x2x16xf32> into tensor<1x2x2x16xf32>
// CHECK-NOT: linalg.transpose
// CHECK: tensor.expand_shape {{.+}} into tensor<1x4x1x16xf32>
func.func @heads_layout_decode(%qx: tensor<1x1x4x16xf32>, %kx: tensor<1x9x2x16xf32>, %v: tensor<1x2x9x16xf32>) -> tensor<1x4x1x16xf32> {
  %eq = tensor.empty() : tensor<1x4x1x16xf32>
  %q = linalg.transpose ins(%qx : tensor<1x1x4x16xf32>) outs(%eq : tensor<1x4x1x16xf32>) permutation = [0, 2, 1, 3]
  %ek = tensor.empty() : tensor<1x2x9x16xf32>
  %k = linalg.transpose ins(%kx : tensor<1x9x2x16xf32>) outs(%ek : tensor<1x2x9x16xf32>) permutation = [0, 2, 1, 3]
  %o = qlow.attention %q, %k, %v {causal} : (tensor<1x4x1x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Not folded: a transpose of other dimensions, a heads transpose that has
// another use (it stays, for that use, and the kernel still reads its input),
// and a result that is used besides its heads merge (the merge stays).
// CHECK-LABEL: func.func @heads_kept
// CHECK-SAME: (%[[QX:[^:]+]]: tensor<1x2x16x5xf32>, %[[KX:[^:]+]]: tensor<1x5x2x16xf32>
// CHECK: %[[Q:.+]] = linalg.transpose ins(%[[QX]] {{.+}} permutation = [0, 1, 3, 2]
// CHECK: %[[K:.+]] = linalg.transpose ins(%[[KX]] {{.+}} permutation = [0, 2, 1, 3]
// S = 5 query rows are a block of 4 and a block of 1: the second forall
// is the result.
// CHECK: scf.forall {{.+}} -> (tensor<1x2x5x16xf32>)
// CHECK: vector.transfer_read %[[Q]]{{.+}} : tensor<1x2x5x16xf32>, vector<16xf32>
// CHECK: vector.transfer_read %[[KX]]{{.+}} : tensor<1x5x2x16xf32>, vector<16xf32>
// CHECK: %[[O:.+]] = scf.forall {{.+}} -> (tensor<1x2x5x16xf32>)
// CHECK: %[[M:.+]] = linalg.transpose ins(%[[O]] {{.+}} permutation = [0, 2, 1, 3]
// CHECK: return %[[M]], %[[O]], %[[K]]
func.func @heads_kept(%qx: tensor<1x2x16x5xf32>, %kx: tensor<1x5x2x16xf32>, %v: tensor<1x2x5x16xf32>) -> (tensor<1x5x2x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>) {
  %e = tensor.empty() : tensor<1x2x5x16xf32>
  %q = linalg.transpose ins(%qx : tensor<1x2x16x5xf32>) outs(%e : tensor<1x2x5x16xf32>) permutation = [0, 1, 3, 2]
  %k = linalg.transpose ins(%kx : tensor<1x5x2x16xf32>) outs(%e : tensor<1x2x5x16xf32>) permutation = [0, 2, 1, 3]
  %o = qlow.attention %q, %k, %v : (tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>) -> tensor<1x2x5x16xf32>
  %e2 = tensor.empty() : tensor<1x5x2x16xf32>
  %m = linalg.transpose ins(%o : tensor<1x2x5x16xf32>) outs(%e2 : tensor<1x5x2x16xf32>) permutation = [0, 2, 1, 3]
  return %m, %o, %k : tensor<1x5x2x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>
}

// -----

// Dv = 64 with AVX2 (the accumulators of 2 rows x 8 value vectors, a value
// row and the broadcasts do not fit 16 ymm): tiles of 4 query rows x 2 key
// vectors (16-key blocks), and P * V in 4 passes of 2 vectors (an scf.for),
// each walking the block's keys in an scf.for into 8 accumulators of its
// own, each probability read back from the work item's scratch tensor
// (4 x 16, carried by the key loop) and broadcast. The running accumulators
// live in the result's tile (zeroed first, then read, rescaled by one FMA
// and written once per pass). Each row's maximum and sum are vectors; the
// maxima take compares and selects (maxps), not arith.maximumf. 19 rows: 4
// tiles of 4 per head, then 3 rows. AVX-512 holds them all in registers: no
// pass loop.
// AVX2-LABEL: func.func @value_passes
// AVX2: scf.forall (%{{.+}}) in (8) shared_outs
// AVX2-COUNT-32: vector.transfer_write %{{.+}} : vector<8xf32>, tensor<1x1x4x64xf32>
// AVX2: %[[SCRATCH:.+]] = tensor.empty() : tensor<4x16xf32>
// AVX2: scf.for {{.+}} iter_args({{.+}}, %{{.+}} = %[[SCRATCH]]) -> (tensor<1x1x4x64xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, tensor<4x16xf32>)
// AVX2-NOT: maximumf
// AVX2: %[[GT:.+]] = arith.cmpf ogt, %[[A:.+]], %[[B:.+]] : vector<8xf32>
// AVX2-NEXT: %[[M:.+]] = arith.select %[[GT]], %[[A]], %[[B]] : vector<8xi1>, vector<8xf32>
// AVX2-NEXT: vector.shuffle %[[M]], %[[M]] [4, 5, 6, 7, 0, 1, 2, 3] : vector<8xf32>, vector<8xf32>
// AVX2-NOT: maximumf
// AVX2-COUNT-8: vector.transfer_write %{{.+}} : vector<8xf32>, tensor<4x16xf32>
// AVX2: scf.for %{{.+}} = %{{.+}} to %c4{{.*}} step %{{.+}} iter_args(%[[TILE:.+]] = %{{.+}}) -> (tensor<1x1x4x64xf32>)
// AVX2: scf.for %{{.+}} = %{{.+}} to %c16{{.*}} step %{{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-COUNT-4: tensor.extract %{{.+}} : tensor<4x16xf32>
// AVX2: vector.fma
// AVX2: scf.yield
// AVX2: %[[ACC:.+]] = vector.transfer_read %[[TILE]]{{.+}} : tensor<1x1x4x64xf32>, vector<8xf32>
// AVX2-NEXT: %[[NEW:.+]] = vector.fma %[[ACC]], %{{.+}}, %{{.+}} : vector<8xf32>
// AVX2-NEXT: vector.transfer_write %[[NEW]], %[[TILE]]{{.+}} : vector<8xf32>, tensor<1x1x4x64xf32>
// AVX2: scf.yield %{{.+}} : tensor<1x1x4x64xf32>
// AVX2: vector.reduction <add>, {{.+}} : vector<8xf32> into f32
// AVX2: arith.divf {{.+}} : vector<8xf32>
// AVX2: tensor.parallel_insert_slice {{.+}} : tensor<1x1x4x64xf32> into tensor<1x2x19x64xf32>
// AVX2: scf.forall (%{{.+}}) in (2) shared_outs
// AVX2: scf.for {{.+}} -> (tensor<1x1x3x64xf32>)
// CHECK-LABEL: func.func @value_passes
// CHECK-NOT: -> (tensor<1x1x{{[0-9]+}}x64xf32>)
// CHECK: return
// ROUND-LABEL: func.func @value_passes
// ROUND-NOT: qlow.attention
func.func @value_passes(%q: tensor<1x2x19x64xf32>, %k: tensor<1x2x19x64xf32>, %v: tensor<1x2x19x64xf32>) -> tensor<1x2x19x64xf32> {
  %o = qlow.attention %q, %k, %v : (tensor<1x2x19x64xf32>, tensor<1x2x19x64xf32>, tensor<1x2x19x64xf32>) -> tensor<1x2x19x64xf32>
  return %o : tensor<1x2x19x64xf32>
}
