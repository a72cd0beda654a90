// RUN: qlow-opt %s --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-aarch64-int8-matmul{cpu=neoverse-n1}), cse)' | FileCheck %s --check-prefix=DOT
// RUN: qlow-opt %s --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-aarch64-int8-matmul{cpu=neoverse-n2}), cse)' | FileCheck %s --check-prefix=MMLA
// RUN: qlow-opt %s --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-aarch64-int8-matmul{cpu=aarch64-neoverse-v1}), cse)' | FileCheck %s --check-prefix=MMLA
// RUN: qlow-opt %s --pass-pipeline='builtin.module(convert-qlow-to-linalg, func.func(qlow-fuse-elementwise, qlow-aarch64-int8-matmul{cpu=cortex-a57}))' | FileCheck %s --check-prefix=NONE

// M = 5, K = 24, N = 12: a partial row tile, K padded to the step, one panel.

// dotprod: weights packed [N/nr][K/4][nr*4] at compile time, w[0..3][0] in
// the first 4 bytes (w[k][0] = 0x86, 0x4E, 0x17, 0xE0); K padded to 16 bytes
// per iteration (K = 24 is not a multiple of 32: one block of 16); the
// activations packed once before the kernel into [M/rows][K/16][rows][16],
// the 5 rows of the 5 x 3 tile side by side, u8 flipped to s8 (xor 0x80) on
// the way; one 16-byte load per row used lane by lane (shuffles) by sdot.
// DOT-LABEL: func.func @u8_i32
// DOT-DAG: arith.constant dense<"0x864E17E0{{[0-9A-F]+}}"> : tensor<1x8x48xi8>
// DOT-DAG: %[[PAD:.+]] = tensor.pad %arg0 low[0, 0] high[0, 8]
// DOT-DAG: %[[FLIP:.+]] = arith.constant dense<-128> : vector<16xi8>
// DOT: %[[PACKED:.+]] = scf.for
// DOT: %[[ROW:.+]] = vector.transfer_read %[[PAD]]{{.*}} : tensor<5x32xi8>, vector<16xi8>
// DOT: %[[S8:.+]] = arith.xori %[[ROW]], %[[FLIP]] : vector<16xi8>
// DOT: vector.transfer_write %[[S8]], {{.*}} : vector<16xi8>, tensor<1x2x5x16xi8>
// DOT: scf.forall
// DOT-NOT: arith.xori
// DOT: vector.transfer_read %[[PACKED]]{{.*}} : tensor<1x2x5x16xi8>, vector<16xi8>
// DOT: vector.shuffle %{{.*}} [0, 0, 0, 0] : vector<4xi32>, vector<4xi32>
// DOT: arm_neon.intr.sdot %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
// DOT: vector.shuffle %{{.*}} [3, 3, 3, 3] : vector<4xi32>, vector<4xi32>
// DOT: arm_neon.intr.sdot
// DOT: vector.transfer_write %{{.*}} : vector<4xi32>, tensor<5x12xi32>
// s8 activations need no shift; the requantizing epilogue is fused and the
// kernel stores bytes.
// DOT-LABEL: func.func @s8_requant
// DOT-NOT: arith.xori
// DOT: arm_neon.intr.sdot
// DOT-NOT: linalg.generic
// DOT: vector.transfer_write %{{.*}} : vector<4xi8>, tensor<5x12xi8>
// DOT: return

// i8mm: weights packed at compile time into i32 words, the 6 column pairs
// of a step (two columns of 8 bytes per 16-byte register) in groups of 4 and
// 2, each group in a tensor of its own and interleaved by words so that one
// ld4 (ld2) loads it: word 0 is column pair 0's first word, w[0..3][0] =
// 0xE0174E86. The 4 x 3 tile has 2 row pairs: the activations (K a multiple
// of 8: read in place, no tensor.pad; row 5, past M, read clamped to row 4
// and replaced by zeros) are packed at run time into row pairs (8
// bytes of each row per register) interleaved by words (one ld2); the last
// row (one pair past the whole tile) is packed on its own, not interleaved,
// in a tensor of its own, and joins the tile of rows 0-3 (one tile of 5
// rows, 3 pairs x 6 column pairs: 18 usmmla per step), which loads it as
// one register with its own pointer; usmmla for u8, smmla for
// s8; 2x2 blocks shuffled back into rows. The epilogue's correction
// za * colsum(w) starts the accumulators instead, in the 2x2 blocks of
// column pairs (2j, 2j + 1): [-c(2j), -c(2j+1), -c(2j), -c(2j+1)], and no
// subtraction is left.
// MMLA-LABEL: func.func @u8_i32
// MMLA-DAG: arith.constant dense<{{\[\[\[}}-535343482, {{.*}} : tensor<1x3x16xi32>
// MMLA-DAG: arith.constant dense<{{.*}} : tensor<1x3x8xi32>
// MMLA-DAG: %[[INIT:.+]] = arith.constant dense<[33024, 17280, 33024, 17280, 1536, 18432, 1536, 18432, {{.*}}]> : tensor<24xi32>
// MMLA-NOT: tensor.pad
// MMLA: %[[GROUPS:.+]] = scf.for %{{.*}} = %c0 to %c1
// MMLA: %[[LO:.+]] = vector.transfer_read %arg0{{.*}} : tensor<5x24xi8>, vector<8xi8>
// MMLA: %[[HI:.+]] = vector.transfer_read %arg0{{.*}} : tensor<5x24xi8>, vector<8xi8>
// MMLA: vector.shuffle %[[LO]], %[[HI]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [0, 4, 1, 5, 2, 6, 3, 7] : vector<8xi32>, vector<8xi32>
// MMLA: vector.transfer_write %{{.*}} : vector<8xi32>, tensor<1x3x8xi32>
// MMLA: %[[TAIL:.+]] = scf.for %{{.*}} = %c1 to %c2
// MMLA: %[[CLAMPED:.+]] = arith.minui %{{.*}}, %c4
// MMLA: %[[PAST:.+]] = vector.transfer_read %arg0[%[[CLAMPED]], %{{.*}}]{{.*}} : tensor<5x24xi8>, vector<8xi8>
// MMLA: %[[INSIDE:.+]] = arith.cmpi ult, %{{.*}}, %c5
// MMLA: arith.select %[[INSIDE]], %[[PAST]], %{{.*}} : vector<8xi8>
// MMLA-NOT: vector.shuffle %{{.*}}, %{{.*}} [0, 4, 1, 5
// MMLA: vector.transfer_write %{{.*}} : vector<4xi32>, tensor<1x3x4xi32>
// MMLA: scf.forall
// MMLA-NOT: scf.for %{{.*}} = %c0 to %c4
// MMLA: scf.for %{{.*}} = %c0 to %c5 step %c5
// MMLA-COUNT-6: vector.transfer_read %[[INIT]]{{.*}} : tensor<24xi32>, vector<4xi32>
// MMLA: scf.for
// MMLA: vector.transfer_read %[[TAIL]][%c0, {{.*}} : tensor<1x3x4xi32>, vector<4xi32>
// MMLA: vector.transfer_read %[[GROUPS]]{{.*}} : tensor<1x3x8xi32>, vector<8xi32>
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [1, 3, 5, 7] : vector<8xi32>, vector<8xi32>
// MMLA: vector.transfer_read {{.*}} : tensor<1x3x16xi32>, vector<16xi32>
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [3, 7, 11, 15] : vector<16xi32>, vector<16xi32>
// MMLA: vector.transfer_read {{.*}} : tensor<1x3x8xi32>, vector<8xi32>
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [1, 3, 5, 7] : vector<8xi32>, vector<8xi32>
// MMLA-NOT: arm_neon.intr.smmla
// MMLA-COUNT-18: arm_neon.intr.usmmla %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8> to vector<4xi32>
// MMLA-NOT: arm_neon.intr.smmla
// MMLA: scf.yield
// Back to rows: the odd row's shuffle first (the even row's is then the
// blocks' last use, an in-place insert).
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [2, 3, 6, 7] : vector<4xi32>, vector<4xi32>
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 4, 5] : vector<4xi32>, vector<4xi32>
// MMLA-NOT: arith.subi
// MMLA-NOT: scf.for %
// MMLA-LABEL: func.func @s8_requant
// MMLA-NOT: arm_neon.intr.usmmla
// MMLA: arm_neon.intr.smmla
// MMLA-NOT: arm_neon.intr.usmmla
// MMLA: vector.transfer_write %{{.*}} : vector<4xi8>, tensor<5x12xi8>

// One row: sdot (every i8mm CPU has dotprod) rather than smmla on a padding
// row.
// MMLA-LABEL: func.func @one_row
// MMLA-NOT: mmla
// MMLA: arm_neon.intr.sdot
// MMLA-NOT: mmla
// MMLA: return

// K = 64: 32 bytes of K per sdot iteration (two 16-byte blocks per row,
// adjacent in the packed activations, so one ldp); 4 steps of 8 per smmla
// iteration, each step's weights and packed activations in their own tensor
// (4 of each), so that every ld4 post-increments its own pointer.
// DOT-LABEL: func.func @k_blocks
// DOT: vector.transfer_write {{.*}} : vector<32xi8>, tensor<2x2x4x32xi8>
// DOT: scf.forall
// DOT: vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}, %c0, %c0]{{.*}} : tensor<2x2x4x32xi8>, vector<16xi8>
// DOT: vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}, %c0, %c16]{{.*}} : tensor<2x2x4x32xi8>, vector<16xi8>
// MMLA-LABEL: func.func @k_blocks
// MMLA-COUNT-4: arith.constant dense<{{.*}}> : tensor<1x2x16xi32>
// MMLA: scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x16xi32>, tensor<1x2x16xi32>, tensor<1x2x16xi32>, tensor<1x2x16xi32>
// MMLA: scf.forall
// MMLA-COUNT-8: vector.transfer_read {{.*}} : tensor<1x2x16xi32>, vector<16xi32>
// MMLA-NOT: vector.transfer_read {{.*}} : tensor<1x2x16xi32>
// MMLA: scf.yield

// M = 9, K = 64: the row past the whole tiles joins the last one (rows 4-8,
// one tile of 5 rows); with 4 steps of K per iteration, its pair's 4 steps
// are packed as one group interleaved by words in a tensor of their own, so
// that the merged tile loads them with one ld4 per iteration (not one load
// per step); the K loop reads that group once per iteration.
// MMLA-LABEL: func.func @merged_rest
// MMLA: %[[TAIL4:.+]] = scf.for %{{.*}} = %c2 to %c3 {{.*}} -> (tensor<1x2x16xi32>)
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15] : vector<16xi32>, vector<16xi32>
// MMLA: vector.transfer_write %{{.*}} : vector<16xi32>, tensor<1x2x16xi32>
// MMLA: scf.forall
// MMLA: scf.for %{{.*}} = %c4 to %c9 step %c5
// MMLA: scf.for
// MMLA-COUNT-1: vector.transfer_read %[[TAIL4]][%c0, %{{.*}}, %c0]{{.*}} : tensor<1x2x16xi32>, vector<16xi32>
// MMLA-NOT: vector.transfer_read %[[TAIL4]]
// MMLA: scf.yield

// M = 9, K = 136: 17 steps of 8, 4 iterations of 4 and one step. K is a
// multiple of 8, so the activations are read in place (no tensor.pad), each
// row's 4 steps of an iteration in one 32-byte read (16-byte loads, the
// pairs' registers zip1/zip2 of two rows), the last step on its own; the
// rest pair's last step is written alone (one register, not interleaved
// with 3 unused steps), so that the merged tile reads it with one 16-byte
// load. The first tile runs K's last step after its loop, the merged tile
// before its loop (next to the first tile's: the weights of that step stay
// in registers instead of the stack).
// MMLA-LABEL: func.func @merged_rest_k136
// MMLA-NOT: tensor.pad
// MMLA: scf.for %{{.*}} = %c0 to %c4_{{[0-9]+}} step %c1
// MMLA: vector.transfer_read %arg0{{.*}} : tensor<9x136xi8>, vector<32xi8>
// MMLA: vector.transfer_read %arg0{{.*}} : tensor<9x136xi8>, vector<8xi8>
// MMLA: %[[TAIL:.+]] = scf.for %{{.*}} = %c2 to %c3 {{.*}} -> (tensor<1x5x16xi32>)
// MMLA: vector.transfer_read %arg0{{.*}} : tensor<9x136xi8>, vector<32xi8>
// MMLA: vector.transfer_write %{{.*}} : vector<16xi32>, tensor<1x5x16xi32>
// MMLA: vector.transfer_read %arg0{{.*}} : tensor<9x136xi8>, vector<8xi8>
// MMLA: vector.transfer_write %{{.*}}[%{{.*}}, %c4_{{[0-9]+}}, %c0] {{.*}} : vector<4xi32>, tensor<1x5x16xi32>
// MMLA: scf.forall
// MMLA: scf.for %{{.*}} = %c0 to %c4 step %c1
// MMLA-COUNT-32: arm_neon.intr.smmla
// MMLA: scf.yield
// MMLA-COUNT-8: arm_neon.intr.smmla
// MMLA: scf.for %{{.*}} = %c4 to %c9 step %c5
// MMLA: vector.transfer_read %[[TAIL]][%c0, %c4, %c0]{{.*}} : tensor<1x5x16xi32>, vector<4xi32>
// MMLA-COUNT-12: arm_neon.intr.smmla
// MMLA: scf.for %{{.*}} = %c0 to %c4 step %c1
// MMLA: vector.transfer_read %[[TAIL]][%c0, %{{.*}}, %c0]{{.*}} : tensor<1x5x16xi32>, vector<16xi32>
// MMLA-COUNT-48: arm_neon.intr.smmla
// MMLA: scf.yield
// MMLA-NOT: arm_neon.intr.smmla
// MMLA: scf.forall.in_parallel

// M = 19, K = 64, N = 24 (8 x 2 tiles by the TargetDesc): 10 row pairs as
// two tiles of 5 pairs (fivePairTiles) instead of 4 + 4 + a tile of 2. Tile
// t's first 4 pairs (rows 10t..10t+7) are group t of the per-step tensors,
// its fifth pair (rows 10t+8, 10t+9), the iteration's 4 steps of it
// together, row t of a tensor of its own; each tile reads that once per
// iteration, beside 20 smmla per step. The second tile has 9 rows.
// MMLA-LABEL: func.func @five_pair_tiles
// MMLA: scf.for %[[Q:.+]] = %c0 to %c2 {{.*}} -> (tensor<2x2x16xi32>, tensor<2x2x16xi32>, tensor<2x2x16xi32>, tensor<2x2x16xi32>)
// MMLA: arith.muli %[[Q]], %c10
// MMLA: %[[FIFTH:.+]] = scf.for %[[Q2:.+]] = %c0 to %c2 {{.*}} -> (tensor<2x2x16xi32>)
// MMLA: %[[R:.+]] = arith.muli %[[Q2]], %c10
// MMLA: arith.addi %[[R]], %c8
// MMLA: vector.shuffle %{{.*}}, %{{.*}} [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15] : vector<16xi32>, vector<16xi32>
// MMLA: scf.forall
// MMLA: scf.for %[[I:.+]] = %c0 to %c10 step %c10
// MMLA: %[[T:.+]] = arith.divui %[[I]], %c10
// MMLA: scf.for
// MMLA-COUNT-1: vector.transfer_read %[[FIFTH]][%[[T]], %{{.*}}, %c0]{{.*}} : tensor<2x2x16xi32>, vector<16xi32>
// MMLA-NOT: vector.transfer_read %[[FIFTH]]
// MMLA-COUNT-20: arm_neon.intr.smmla
// MMLA-NOT: arm_neon.intr.smmla
// MMLA: vector.transfer_read
// MMLA: scf.yield
// MMLA: scf.for %[[I2:.+]] = %c10 to %c19 step %c9
// MMLA: arith.divui %[[I2]], %c10
// MMLA: vector.transfer_read %[[FIFTH]]

// Armv8.0 NEON has no int8 dot product: the contractions stay.
// NONE-NOT: arm_neon
// NONE: linalg.generic
// NONE-NOT: arm_neon

func.func @u8_i32(%a: tensor<5x24x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<5x12xi32> {
  %w = arith.constant dense<"0x86ABD0F51A3F648AAFD4F91E4E7399BEE3082D52779DC2E7173C6187ACD1F61B40658BB0E0052A4F749ABFE4092E5378A9CEF3183D6288ADD2F71C417197BCE1062B50759BC0E50A3A5F85AACFF4193E6389AED303284D7298BDE2072C51769CCCF1163B6086ABD0F51A3F6495BADF04294E7399BEE3082D5D83A8CDF2173C6187ACD1F6264B7096BBE0052A4F749ABFEF14395E84A9CEF3183D6288B8DD02274C7197BCE1062B5081A6CBF0153A5F85AACFF419496E94B9DE03284D7298BDE212375C82A7CCF1163B6086ABDB00254A6F95BADF04294E73A4C9EE13385D83A8CDF2173C6C92B7DC01264B7096BBE005355A7FA5CAEF14395E84A9CEFE23486D93B8DD02274C7197C7EC11365B81A6CBF0153A5F90B5DAFF24496E94B9DE0328"> : tensor<24x12xi8>
  %wq = quant.scast %w : tensor<24x12xi8> to tensor<24x12x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<5x24x!quant.uniform<u8:f32, 0.02:128>>, tensor<24x12x!quant.uniform<i8:f32, 0.01>>) -> tensor<5x12xi32>
  return %y : tensor<5x12xi32>
}

func.func @s8_requant(%a: tensor<5x24x!quant.uniform<i8:f32, 0.02:-3>>, %b: tensor<12xi32>) -> tensor<5x12x!quant.uniform<i8:f32, 0.3:-5>> {
  %w = arith.constant dense<"0x86ABD0F51A3F648AAFD4F91E4E7399BEE3082D52779DC2E7173C6187ACD1F61B40658BB0E0052A4F749ABFE4092E5378A9CEF3183D6288ADD2F71C417197BCE1062B50759BC0E50A3A5F85AACFF4193E6389AED303284D7298BDE2072C51769CCCF1163B6086ABD0F51A3F6495BADF04294E7399BEE3082D5D83A8CDF2173C6187ACD1F6264B7096BBE0052A4F749ABFEF14395E84A9CEF3183D6288B8DD02274C7197BCE1062B5081A6CBF0153A5F85AACFF419496E94B9DE03284D7298BDE212375C82A7CCF1163B6086ABDB00254A6F95BADF04294E73A4C9EE13385D83A8CDF2173C6C92B7DC01264B7096BBE005355A7FA5CAEF14395E84A9CEFE23486D93B8DD02274C7197C7EC11365B81A6CBF0153A5F90B5DAFF24496E94B9DE0328"> : tensor<24x12xi8>
  %wq = quant.scast %w : tensor<24x12xi8> to tensor<24x12x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq, %b {rounding = #qlow.rounding<fixedpoint>} : (tensor<5x24x!quant.uniform<i8:f32, 0.02:-3>>, tensor<24x12x!quant.uniform<i8:f32, 0.01>>, tensor<12xi32>) -> tensor<5x12x!quant.uniform<i8:f32, 0.3:-5>>
  return %y : tensor<5x12x!quant.uniform<i8:f32, 0.3:-5>>
}

func.func @one_row(%a: tensor<1x24x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<1x12xi32> {
  %w = arith.constant dense<"0x86ABD0F51A3F648AAFD4F91E4E7399BEE3082D52779DC2E7173C6187ACD1F61B40658BB0E0052A4F749ABFE4092E5378A9CEF3183D6288ADD2F71C417197BCE1062B50759BC0E50A3A5F85AACFF4193E6389AED303284D7298BDE2072C51769CCCF1163B6086ABD0F51A3F6495BADF04294E7399BEE3082D5D83A8CDF2173C6187ACD1F6264B7096BBE0052A4F749ABFEF14395E84A9CEF3183D6288B8DD02274C7197BCE1062B5081A6CBF0153A5F85AACFF419496E94B9DE03284D7298BDE212375C82A7CCF1163B6086ABDB00254A6F95BADF04294E73A4C9EE13385D83A8CDF2173C6C92B7DC01264B7096BBE005355A7FA5CAEF14395E84A9CEFE23486D93B8DD02274C7197C7EC11365B81A6CBF0153A5F90B5DAFF24496E94B9DE0328"> : tensor<24x12xi8>
  %wq = quant.scast %w : tensor<24x12xi8> to tensor<24x12x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<1x24x!quant.uniform<u8:f32, 0.02:128>>, tensor<24x12x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x12xi32>
  return %y : tensor<1x12xi32>
}

func.func @k_blocks(%a: tensor<8x64x!quant.uniform<i8:f32, 0.02:-3>>) -> tensor<8x8xi32> {
  %w = arith.constant dense<"0xA54DCA182530BB1D6D132CDED6237B2ED91E3F721FCB1971174494D6493C9D5C3460BE31201E69FEDAA0EEE8B9997F5C7C2999FDAFE593253CD654AF4DFAD71427A0AEB3FEE9232F8AF2211F9EE491C5B10BECB5563BFC1E6F93427ECBC8FE2955E5CD8E46DC8ED4B7C2764D2A5A4D767706F85D8690024AD6BDA3401BE9C8CBCCC935F6CD1F61226AE15338AE1A34004D33BA0D246AC04C81B1BAF23E3BF9EEF5F79F2B4934AF87F5520B69B94B0D982E85BB55B672A872637ACD7466FCB60E0E8FF18463B0E4B2BA29703474F064AC68F700F5B02B3DC666F45BDEAA2CCAEDCD2B5157410E4DEE4AF2B34F430A073447DE636C0E806C957BA684D6431FB5EAD7424D09E15D024C5848F23D1FA6F7361D7F618D1532E70E20E2A6668DE7F47E8467E546D53EC8E2A1257BDB256C9B3E4FBB498146EF7030CBF9537252DCCEADD764B6A32FBB09ADEAE109C4A997203975352B878B145C8A42D884CF4CFDA72D8E1D5DD92589082D852A7122873EE805ADD58942167A385286195C679F9C6994E45B8AB1098012070961F37DE436DDFDC99D6E75AF6547CFB11B42072482DC531C2BC3907C9617EB5E5089E40186BAA8A57D119E6FB65D00ABC32AF38E667F022E872D49CC15C90B999B772B4FC7A6FD4C914A16DB4708752B0F1544B835C0E719097DFA8701E9232F21F2812687786976EBFCC327F5931765274BA9829B4406"> : tensor<64x8xi8>
  %wq = quant.scast %w : tensor<64x8xi8> to tensor<64x8x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<8x64x!quant.uniform<i8:f32, 0.02:-3>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<8x8xi32>
  return %y : tensor<8x8xi32>
}

func.func @merged_rest(%a: tensor<9x64x!quant.uniform<i8:f32, 0.02:-3>>) -> tensor<9x8xi32> {
  %w = arith.constant dense<"0xA54DCA182530BB1D6D132CDED6237B2ED91E3F721FCB1971174494D6493C9D5C3460BE31201E69FEDAA0EEE8B9997F5C7C2999FDAFE593253CD654AF4DFAD71427A0AEB3FEE9232F8AF2211F9EE491C5B10BECB5563BFC1E6F93427ECBC8FE2955E5CD8E46DC8ED4B7C2764D2A5A4D767706F85D8690024AD6BDA3401BE9C8CBCCC935F6CD1F61226AE15338AE1A34004D33BA0D246AC04C81B1BAF23E3BF9EEF5F79F2B4934AF87F5520B69B94B0D982E85BB55B672A872637ACD7466FCB60E0E8FF18463B0E4B2BA29703474F064AC68F700F5B02B3DC666F45BDEAA2CCAEDCD2B5157410E4DEE4AF2B34F430A073447DE636C0E806C957BA684D6431FB5EAD7424D09E15D024C5848F23D1FA6F7361D7F618D1532E70E20E2A6668DE7F47E8467E546D53EC8E2A1257BDB256C9B3E4FBB498146EF7030CBF9537252DCCEADD764B6A32FBB09ADEAE109C4A997203975352B878B145C8A42D884CF4CFDA72D8E1D5DD92589082D852A7122873EE805ADD58942167A385286195C679F9C6994E45B8AB1098012070961F37DE436DDFDC99D6E75AF6547CFB11B42072482DC531C2BC3907C9617EB5E5089E40186BAA8A57D119E6FB65D00ABC32AF38E667F022E872D49CC15C90B999B772B4FC7A6FD4C914A16DB4708752B0F1544B835C0E719097DFA8701E9232F21F2812687786976EBFCC327F5931765274BA9829B4406"> : tensor<64x8xi8>
  %wq = quant.scast %w : tensor<64x8xi8> to tensor<64x8x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<9x64x!quant.uniform<i8:f32, 0.02:-3>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<9x8xi32>
  return %y : tensor<9x8xi32>
}

func.func @merged_rest_k136(%a: tensor<9x136x!quant.uniform<i8:f32, 0.02:-3>>) -> tensor<9x8xi32> {
  %w = arith.constant dense<"0xA54DCA182530BB1D6D132CDED6237B2ED91E3F721FCB1971174494D6493C9D5C3460BE31201E69FEDAA0EEE8B9997F5C7C2999FDAFE593253CD654AF4DFAD71427A0AEB3FEE9232F8AF2211F9EE491C5B10BECB5563BFC1E6F93427ECBC8FE2955E5CD8E46DC8ED4B7C2764D2A5A4D767706F85D8690024AD6BDA3401BE9C8CBCCC935F6CD1F61226AE15338AE1A34004D33BA0D246AC04C81B1BAF23E3BF9EEF5F79F2B4934AF87F5520B69B94B0D982E85BB55B672A872637ACD7466FCB60E0E8FF18463B0E4B2BA29703474F064AC68F700F5B02B3DC666F45BDEAA2CCAEDCD2B5157410E4DEE4AF2B34F430A073447DE636C0E806C957BA684D6431FB5EAD7424D09E15D024C5848F23D1FA6F7361D7F618D1532E70E20E2A6668DE7F47E8467E546D53EC8E2A1257BDB256C9B3E4FBB498146EF7030CBF9537252DCCEADD764B6A32FBB09ADEAE109C4A997203975352B878B145C8A42D884CF4CFDA72D8E1D5DD92589082D852A7122873EE805ADD58942167A385286195C679F9C6994E45B8AB1098012070961F37DE436DDFDC99D6E75AF6547CFB11B42072482DC531C2BC3907C9617EB5E5089E40186BAA8A57D119E6FB65D00ABC32AF38E667F022E872D49CC15C90B999B772B4FC7A6FD4C914A16DB4708752B0F1544B835C0E719097DFA8701E9232F21F2812687786976EBFCC327F5931765274BA9829B4406F61FF889326FFA9492EDEEEE3C669F2BF20894EA27E689C66B6B262E4886B8438F39BA76FEF8C90C5101FBE6CF9A48D5B0C0A13DA900A6ADCB3D64069481BE21C9C727B8DB8C188F341A924C7F88DFA161BFDB0ECC682919D2E64692F8194157F1D4AF90988285CF7A9AF7C93D5552266AFE70E7AAE6DA47627C2E59AF2EA37ABC84670AD3C4D36BC08AAD1FFF8EB8406E2F8A7FC4CCE4DD9F0B4110D9F2FA0025C8EFE57F37724F4D37EA2B14004077139B4180DF3932249962C6857200059AEB8EA17CF3787E0ED29D1C0B63FFD7298374D9BD74FC11ADD7B9CA6503952269FD669F6376EE71879737FD5F72F8D51C4AC91B6D0C48D41A1E5EC9E6A0392854A8615EEF109FC1BFA9E2563701288F29B3D73F6AC2B69EDD2C19F264BEE462A5BAF20FD27ECF14C011ED201F836320ADB98BAB1686A28D9801210C7736F3EEC580DCFC43FE5D049B4D78A7A3EBB92865C8517ED02111F6A652DA3524872B6A31D7FFE4587744D5EB783E96968F89BE828565E07E5F7D784E9060A721CA807D7633ED123402F376E5BF1496773D19616326BE5BE5850336B36F13BCAE48166882136805A7D1BE5E9F276810FDF720D033CA4F2E53CB8AD1919DD51A9FB6D4D509BA64C8CF6803DE50D83A2ECFBAEB5342071A48CB2DBD574AB29152572237C4FB659A4016F7A11BC62C5271CF64F25D6F15CC50C4B73F4C7E621513A53CC7E99CD79D7FD9C7BCE4E05B0B01FAEE78E4EA5BF2CC362241B7DCBB2EE21414422AA0281BC1450D21386343FB93547121B38151A58CE94982F56A8679A3BE12655DCE"> : tensor<136x8xi8>
  %wq = quant.scast %w : tensor<136x8xi8> to tensor<136x8x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<9x136x!quant.uniform<i8:f32, 0.02:-3>>, tensor<136x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<9x8xi32>
  return %y : tensor<9x8xi32>
}

func.func @five_pair_tiles(%a: tensor<19x64x!quant.uniform<i8:f32, 0.02:-3>>) -> tensor<19x24xi32> {
  %w = arith.constant dense<"0xA54DCA182530BB1D6D132CDED6237B2ED91E3F721FCB1971174494D6493C9D5C3460BE31201E69FEDAA0EEE8B9997F5C7C2999FDAFE593253CD654AF4DFAD71427A0AEB3FEE9232F8AF2211F9EE491C5B10BECB5563BFC1E6F93427ECBC8FE2955E5CD8E46DC8ED4B7C2764D2A5A4D767706F85D8690024AD6BDA3401BE9C8CBCCC935F6CD1F61226AE15338AE1A34004D33BA0D246AC04C81B1BAF23E3BF9EEF5F79F2B4934AF87F5520B69B94B0D982E85BB55B672A872637ACD7466FCB60E0E8FF18463B0E4B2BA29703474F064AC68F700F5B02B3DC666F45BDEAA2CCAEDCD2B5157410E4DEE4AF2B34F430A073447DE636C0E806C957BA684D6431FB5EAD7424D09E15D024C5848F23D1FA6F7361D7F618D1532E70E20E2A6668DE7F47E8467E546D53EC8E2A1257BDB256C9B3E4FBB498146EF7030CBF9537252DCCEADD764B6A32FBB09ADEAE109C4A997203975352B878B145C8A42D884CF4CFDA72D8E1D5DD92589082D852A7122873EE805ADD58942167A385286195C679F9C6994E45B8AB1098012070961F37DE436DDFDC99D6E75AF6547CFB11B42072482DC531C2BC3907C9617EB5E5089E40186BAA8A57D119E6FB65D00ABC32AF38E667F022E872D49CC15C90B999B772B4FC7A6FD4C914A16DB4708752B0F1544B835C0E719097DFA8701E9232F21F2812687786976EBFCC327F5931765274BA9829B4406F61FF889326FFA9492EDEEEE3C669F2BF20894EA27E689C66B6B262E4886B8438F39BA76FEF8C90C5101FBE6CF9A48D5B0C0A13DA900A6ADCB3D64069481BE21C9C727B8DB8C188F341A924C7F88DFA161BFDB0ECC682919D2E64692F8194157F1D4AF90988285CF7A9AF7C93D5552266AFE70E7AAE6DA47627C2E59AF2EA37ABC84670AD3C4D36BC08AAD1FFF8EB8406E2F8A7FC4CCE4DD9F0B4110D9F2FA0025C8EFE57F37724F4D37EA2B14004077139B4180DF3932249962C6857200059AEB8EA17CF3787E0ED29D1C0B63FFD7298374D9BD74FC11ADD7B9CA6503952269FD669F6376EE71879737FD5F72F8D51C4AC91B6D0C48D41A1E5EC9E6A0392854A8615EEF109FC1BFA9E2563701288F29B3D73F6AC2B69EDD2C19F264BEE462A5BAF20FD27ECF14C011ED201F836320ADB98BAB1686A28D9801210C7736F3EEC580DCFC43FE5D049B4D78A7A3EBB92865C8517ED02111F6A652DA3524872B6A31D7FFE4587744D5EB783E96968F89BE828565E07E5F7D784E9060A721CA807D7633ED123402F376E5BF1496773D19616326BE5BE5850336B36F13BCAE48166882136805A7D1BE5E9F276810FDF720D033CA4F2E53CB8AD1919DD51A9FB6D4D509BA64C8CF6803DE50D83A2ECFBAEB5342071A48CB2DBD574AB29152572237C4FB659A4016F7A11BC62C5271CF64F25D6F15CC50C4B73F4C7E621513A53CC7E99CD79D7FD9C7BCE4E05B0B01FAEE78E4EA5BF2CC362241B7DCBB2EE21414422AA0281BC1450D21386343FB93547121B38151A58CE94982F56A8679A3BE12655DCE528EA7C056873A18B8E73581C9BE87C0BC4AB8A929E2755A1897819EA00011714C94DDD5BA1843FA74170B1B01B59B36B672D39A4468BBF35144077C4CE631204A8ACD87051CB3E3FC7F5400161F0CCF5F79511D35066448D366D4599E209918F403C0DFEE29E75973358576133FAB861A88DF87976F2B075685786751A762C7A87AC2F0F1030DDF779D6CC827574A100D393652B0480E0F154615221721BA6621C4367E69683911112C93F43343326896A3ACD8850AB3839018BCA4F3930FD30FDF32B1F0186E2E9357DF0067931B02B2FB30FB5EFDB18551916D76FF543829FB35A7B630CDCA2CD80CBE699B86DB57C277EB4011B2A74FE6A556EDE0837640ABEC7962889A4F4F7EA7B25278A7608434543464C44D4B9A98DE8C6437368F69C6ED1106CCDF7197ED0B4883CF027CDCD775755C3FE8DDA08532D67CCC5080D8F7E90AD15DA705C7FA3613806F5266B233E968F308BDAFD2E96B5EC83EB61C818CC3CC1F0626D6D7B48737729BCD70C8EC6C54422362F0734AB4D3EF9640F0B57588C081DA5FF6018FB77D9AA4F5F8DB2BB94E9BC51D2BA647B007056B2496803349775FE7B14E6ACE552E9865FD6D28E03B3C87D67747F2FC1DF7EF49FB7EFF"> : tensor<64x24xi8>
  %wq = quant.scast %w : tensor<64x24xi8> to tensor<64x24x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<19x64x!quant.uniform<i8:f32, 0.02:-3>>, tensor<64x24x!quant.uniform<i8:f32, 0.01>>) -> tensor<19x24xi32>
  return %y : tensor<19x24xi32>
}
