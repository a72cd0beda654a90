//===- Int4Matmul.cpp - int4 weight-only matmuls to NEON sdot kernels -----===//
//
// qlow-aarch64-int4-matmul: an int4 weight-only matmul (f32 activations
// quantized per row at run time, 4-bit weights with a scale per group of K
// rows and column) becomes a register-tiled kernel that streams the weights
// packed two per byte and unpacks them in registers, with NEON sdot by
// element (dotprod). The matching, the nibble packing and the activations
// are qlow-x86-int4-matmul's (Target/Int4Kernel), and so is the structure
// (the per-group f32 update in the reference's order); what differs is the
// instruction (s8 x s8 sdot instead of u8 x s8 vpdpbusd), the unpacking
// (byte shifts exist on NEON) and the activations (16 bytes per row used by
// element over 4 steps instead of a 4-byte broadcast). 8-bit weights in
// groups (MatMulNBits with bits = 8) take the same kernel with whole bytes:
// s8 x s8 sdot is exact on them, where x86's u8 x s8 vpmaddubsw is not and
// splits the activations in two planes instead.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Target/AArch64/InterleavedLoads.h"
#include "qlow/Target/AArch64/Passes.h"
#include "qlow/Target/Int4Kernel.h"
#include "qlow/Target/Int8Kernel.h" // roundUp
#include "qlow/Target/TargetDesc.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWAARCH64INT4MATMULPASS
#include "qlow/Target/AArch64/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::qlow::aarch64;

#define DEBUG_TYPE "qlow-aarch64-int4-matmul"

namespace {

/// The register tile of the int4 kernel: `rows` rows x `vectors` vectors of
/// 4 columns of i32 sums, and where the f32 accumulators live (registers, or
/// the output tile in L1, updated once per group). A `transposed` tile
/// (rows a multiple of 4) holds in each register 4 rows of one column: the
/// activations are sdot's vector operand (4 rows x one step, 4 steps per
/// ld4 of a row quad's 64 bytes) and the unpacked weights are used by
/// element; the sums are transposed in 4 x 4 blocks before the write.
struct Int4Tile {
  int64_t rows = 1, vectors = 2;
  bool inMemory = false;
  bool transposed = false;
  /// Nibbles regrouped so that one ld4 loads 4 steps of a register
  /// (interleaveWeightSteps); otherwise one 16-byte load per step.
  bool ld4Weights = false;
};

/// Chooses the tile by counting the instructions per MAC of the kernel that
/// buildInt4Kernel builds, per group of `groupSize` along K (`groups` of
/// them) and row tile: per step of 4 along K, rows * vectors sdot, vectors
/// / 2 loads of packed nibbles (a quarter of one each where an ld4 loads 4
/// steps of a register) and `vectors` unpacking instructions (one shift
/// each); per iteration of 4 steps one activation load per row (transposed:
/// one ld4 per row quad) and two of loop control; per group and accumulator
/// its restart, the conversion, two multiplications and the addition in f32
/// (for f32 accumulators in memory, a half of an ldp and of an stp; in
/// registers beyond the register file, as transposed tiles keep them, a
/// half of an stp and of an ldp that spill them around the K loop), a half
/// of a scale load per vector, and with a zero-point `correction` a row
/// sum's load, product and broadcast per row and a subtraction per
/// accumulator (with a `zpTable`, a zero point per group and column: the row
/// sum's load and broadcast per row, a load of the table per vector, and a
/// product and a subtraction per accumulator); per tile, transposed, two
/// shuffles per accumulator. With whole `bytes` (8-bit weights,
/// Int4Matmul::bytePlanes) a step loads `vectors` registers (a quarter of
/// one each by ld4) and unpacks nothing. The padding of M to whole tiles and
/// of N to whole panels counts as waste. The tile must leave two of the
/// `registers` spare beside the i32 sums, the activations, the unpacked
/// weights and their loads (and the f32 accumulators, in registers, but for
/// a transposed tile).
Int4Tile chooseInt4Tile(int64_t m, int64_t n, int64_t groupSize,
                        int64_t groups, int64_t registers, bool correction,
                        bool zpTable, bool bytes) {
  const double steps = static_cast<double>(groupSize) / 4;
  const int64_t maxVectors =
      std::max<int64_t>(2, std::min<int64_t>(8, roundUp((n + 3) / 4, 2)));
  Int4Tile best;
  double bestCost = 0;
  for (int64_t v = 2; v <= maxVectors; v += 2)
    for (int64_t r = 1; r <= std::min<int64_t>(m, 16); ++r)
      for (int mode = 0; mode < 4; ++mode) {
        // 0, 1: f32 accumulators in registers or in memory; 2, 3:
        // transposed, weights loaded per step or by ld4.
        bool inMemory = mode == 1, transposed = mode >= 2,
             ld4Weights = mode == 3;
        if (transposed && r % 4 != 0)
          continue;
        // Loaded registers, and those the sdot read (unpacked nibbles;
        // whole bytes are read as loaded).
        int64_t raw = bytes ? (ld4Weights ? 4 * v : v)
                            : (ld4Weights ? 2 * v : v / 2);
        int64_t kernelLive = r * v + r + (bytes ? 0 : v) + raw + 2;
        if (kernelLive + (mode == 0 ? r * v : 0) > registers)
          continue;
        bool spills = transposed && kernelLive + r * v > registers;
        // Whole bytes: LLVM pairs a step's registers into ldp, and reads
        // an ld4 of 4 steps used by element as two ldp as well (the lanes
        // fold the de-interleaving): v / 2 per step either way.
        double loads = bytes ? v / 2.0 : v / (ld4Weights ? 8.0 : 2.0);
        double inner = steps * (r * v + loads + (bytes ? 0.0 : v)) +
                       steps / 4 * ((transposed ? r / 4.0 : r) + 2);
        double corrections =
            !correction ? 0.0
            : zpTable   ? r * (2.0 + 2.0 * v) + v
                        : r * (3.0 + v);
        double update = r * v * (inMemory || spills ? 6.0 : 5.0) + v / 2.0 +
                        corrections +
                        (transposed ? 2.0 * r * v / groups : 0.0);
        double waste = static_cast<double>(roundUp(m, r)) / m *
                       static_cast<double>(roundUp(n, 4 * v)) / n;
        double cost = (inner + update) / (steps * r * v * 16) * waste;
        if (bestCost == 0 || cost < bestCost * 0.999) {
          best = {r, v, inMemory, transposed, ld4Weights};
          bestCost = cost;
        }
      }
  return best;
}

/// The packed nibbles (Int4PackedWeights::nibbleBytes, [panels][kSteps][bytes])
/// regrouped so that one ld4 loads 4 consecutive steps of one 16-byte
/// register: for each register of a step a constant of its own (so that each
/// ld4 of an iteration post-increments its own pointer), [panels][kSteps / 4]
/// [16] i32 words, the 4 steps' words interleaved (word l of step t at
/// l * 4 + t).
SmallVector<Value> interleaveWeightSteps(OpBuilder &b, Location loc,
                                         const Int4PackedWeights &packed) {
  const int64_t panels = packed.nibbleShape[0],
                kSteps = packed.nibbleShape[1], bytes = packed.nibbleShape[2],
                regs = bytes / 16;
  assert(static_cast<int64_t>(packed.nibbleBytes.size()) ==
             panels * kSteps * bytes &&
         "packInt4Weights returns the bytes");
  assert(kSteps % 4 == 0 && bytes % 16 == 0 && "whole ld4 groups");
  ArrayRef<uint8_t> in = packed.nibbleBytes;
  auto wordsType =
      RankedTensorType::get({panels, kSteps / 4, 16}, b.getI32Type());
  SmallVector<Value> result;
  for (int64_t reg = 0; reg < regs; ++reg) {
    SmallVector<int32_t> words(panels * kSteps * 4);
    for (int64_t p = 0; p < panels; ++p)
      for (int64_t s = 0; s < kSteps; ++s)
        for (int64_t l = 0; l < 4; ++l) {
          const uint8_t *src = &in[(p * kSteps + s) * bytes + reg * 16 + l * 4];
          uint32_t word = src[0] | src[1] << 8 | src[2] << 16 |
                          static_cast<uint32_t>(src[3]) << 24;
          words[(p * (kSteps / 4) + s / 4) * 16 + l * 4 + s % 4] =
              static_cast<int32_t>(word);
        }
    result.push_back(arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(wordsType, ArrayRef<int32_t>(words))));
  }
  return result;
}

/// The quantized activations `q` ([mp, k] i8, k a multiple of 16) in the
/// layout the kernel reads: [mp / rows][k / 16][4 * rows] words, for each
/// row tile and 16 bytes of K the tile's rows in the groups of
/// interleaveGroups(rows), each group interleaved by words so that one
/// ld<g> loads it (one ld4 for 4 rows instead of 4 loads), or for a
/// `transposed` tile the rows one after the other, so that an ld4 of a row
/// quad gives a register per step of 4 along K with the quad's 4 rows; each
/// quad in a tensor of its own ([mp / rows][k / 16][16] words), so that
/// every ld4 of an iteration post-increments its own pointer. Built as
/// loops that move 16 bytes at a time (LLVM stores a group with one st<g>).
SmallVector<Value> packActivationsForInt4(OpBuilder &b, Location loc, Value q,
                                          int64_t mp, int64_t k, int64_t rows,
                                          bool transposed) {
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value zero = idx(0), one = idx(1);
  SmallVector<Value> inits;
  for (int64_t t = 0; t < (transposed ? rows / 4 : 1); ++t)
    inits.push_back(tensor::EmptyOp::create(
        b, loc,
        ArrayRef<int64_t>{mp / rows, k / 16, transposed ? 16 : 4 * rows},
        i32));
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  auto bytesType = VectorType::get({16}, i8);
  auto regType = VectorType::get({4}, i32);
  SmallVector<bool> inBounds = {true};
  auto tiles = scf::ForOp::create(
      b, loc, zero, idx(mp / rows), one, inits,
      [&](OpBuilder &tb, Location tl, Value t, ValueRange tArgs) {
        Value tileRow = arith::MulIOp::create(tb, tl, t, idx(rows));
        auto blocks = scf::ForOp::create(
            tb, tl, zero, idx(k / 16), one, tArgs,
            [&](OpBuilder &kb, Location kl, Value s, ValueRange kArgs) {
              Value col = arith::MulIOp::create(kb, kl, s, idx(16));
              SmallVector<Value> packed(kArgs.begin(), kArgs.end());
              int64_t firstRow = 0;
              for (int64_t g : interleaveGroups(rows)) {
                Value group;
                for (int64_t r = firstRow; r < firstRow + g; ++r) {
                  Value row = arith::AddIOp::create(kb, kl, tileRow, idx(r));
                  Value bytes = vector::TransferReadOp::create(
                      kb, kl, bytesType, q, ValueRange{row, col}, padI8,
                      inBounds);
                  group = appendWords(
                      kb, kl, group,
                      vector::BitCastOp::create(kb, kl, regType, bytes));
                }
                if (g > 1 && !transposed)
                  group = vector::ShuffleOp::create(kb, kl, group, group,
                                                    interleaveMask(g));
                Value &into = packed[transposed ? firstRow / 4 : 0];
                into = vector::TransferWriteOp::create(
                           kb, kl, group, into,
                           ValueRange{t, s, idx(transposed ? 0 : 4 * firstRow)},
                           inBounds)
                           .getResult();
                firstRow += g;
              }
              scf::YieldOp::create(kb, kl, packed);
            });
        scf::YieldOp::create(tb, tl, blocks.getResults());
      });
  return SmallVector<Value>(tiles.getResults());
}

/// The weight scales ([panels][groups][nr] f32, a constant) with those of
/// the low vectors (even vector index: their sums are 16 times the group's)
/// divided by 16, and the range of row scales s for which that is exact:
/// s * (w / 16) rounds to (s * w) / 16 wherever s * w / 16 is a normal
/// float or zero, and then the kernel may skip dividing the sums by 16
/// (float(16 x) = 16 * float(x), and the two products round alike).
/// `lowest` = 2^-122 / the smallest nonzero |w| and `highest` = 2^126 / the
/// largest |w| of the low vectors bound s (or s = 0); a null table where
/// some w / 16 would be subnormal or no low vector has a nonzero scale.
struct DividedScales {
  Value table;
  float lowest = 0, highest = 0;
};

DividedScales divideLowScales(OpBuilder &b, Location loc, Value scales,
                              int64_t lanes) {
  DenseElementsAttr attr;
  if (!matchPattern(scales, m_Constant(&attr)))
    return {};
  auto type = cast<RankedTensorType>(scales.getType());
  const int64_t nr = type.getDimSize(2);
  SmallVector<float> values(attr.getValues<float>());
  float smallest = 0, largest = 0;
  for (size_t at = 0; at < values.size(); ++at) {
    if ((static_cast<int64_t>(at) % nr) / lanes % 2 != 0)
      continue;
    float w = std::fabs(values[at]);
    if (!std::isfinite(w))
      return {};
    if (w == 0)
      continue;
    smallest = smallest == 0 ? w : std::min(smallest, w);
    largest = std::max(largest, w);
    values[at] /= 16;
  }
  if (smallest == 0 || smallest < std::ldexp(1.0f, -122))
    return {};
  DividedScales result;
  result.table = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<float>(values)));
  // Rounded toward the safe side: lowest up, highest down.
  result.lowest = std::nextafter(
      static_cast<float>(std::ldexp(1.0, -122) / smallest), INFINITY);
  result.highest =
      std::nextafter(static_cast<float>(std::ldexp(1.0, 126) / largest), 0.0f);
  return result;
}

/// Builds the kernel for `c` before `c.op` and returns its [M, N] f32 result.
///
/// Layout (data tiling at compile time): column panels of nr = vectors * 4
/// columns; for each panel and step s of 4 rows of K, nr * 2 bytes in which
/// the 16 bytes of vector pair (2v, 2v + 1) hold, in sdot's order (column,
/// then the 4 rows), the nibble of a column of vector 2v in the low half and
/// of vector 2v + 1 in the high half, each XORed with 8. Unpacking is one
/// shift per register: `sshr #4` gives the high nibbles as signed 4-bit
/// values (nibble - 8), `shl #4` the low ones times 16 (16 * (nibble - 8));
/// the low vectors' sums are divided by 16 when converted to f32 (`scvtf`
/// with 4 fraction bits), which is exact: float(16 * s) = 16 * float(s).
/// Activations are symmetric i8, so each group's sum is
/// sum q * (nibble - 8) = sum q * (w - zw) + (zpNibble - 8) * rowsum, and
/// for the usual zero point (signed i4 with zero point 0, u4 with 8) there
/// is nothing to correct; a zero point per group and column (ORT's
/// asymmetric MatMulNBits blocks) corrects each sum by a table of
/// (zpNibble - 8) per group and column (times 16 for the low vectors) times
/// the row's group sum. 8-bit weights of any range (Int4Matmul::bytePlanes)
/// are whole bytes w - base, XORed with 0x80 so that sdot reads them as
/// byte - 128: one 16-byte load per register and step, nothing to unpack,
/// the sum corrected by (zpNibble - 128) * rowsum (exact: |q * (byte - 128)|
/// <= 127 * 128 per product). After each group the kernel (subtracts the
/// correction,) converts to f32 and adds (s_lhs * s_w[g, n]) * sum to f32
/// accumulators, in the reference's order.
Value buildInt4Kernel(OpBuilder &b, Location loc, Int4Matmul &c,
                      const TargetDesc &desc) {
  // 16 bytes of K per iteration of the step loop: one activation load per
  // row, used by element in 4 steps of 4.
  const int64_t lanes = desc.i32Lanes(), kStep = 4, kBlock = 16;
  const int64_t groupSize = c.params.groupSize, groups = c.params.groups;
  // Whole bytes (8-bit weights of any range) or nibbles, read by sdot as
  // byte - 128 or nibble - 8.
  const bool bytes = c.bytePlanes;
  const int64_t zpOffset = bytes ? 128 : 8;
  const bool correction = !c.uniformZeroPoint() || c.zpNibble != zpOffset;
  const Int4Tile shape =
      chooseInt4Tile(c.m, c.n, groupSize, groups, desc.vectorRegisters,
                     correction, !c.uniformZeroPoint(), bytes);
  const int64_t rows = shape.rows, vectors = shape.vectors;
  const bool inMemory = shape.inMemory, transposed = shape.transposed;
  // Accumulator (r, v) of a plain tile holds row r and vector v's 4
  // columns; accumulator (q, col) of a transposed one, rows 4q..4q + 3 of
  // the tile's column col (the same count, rows * vectors).
  const int64_t columns = vectors * lanes;
  // The low nibbles times 16 (one shl) while a group's sums of them fit
  // i32: |q * 16 * (nibble - 8)| <= 2^14 per product; otherwise shl and
  // sshr give them unscaled.
  const bool scaledLow = !bytes && groupSize <= (int64_t{1} << 16);
  const int64_t nr = vectors * lanes;
  const int64_t mp = roundUp(c.m, rows), np = roundUp(c.n, nr);
  const int64_t panels = np / nr;
  // Up to four blocks of 16 bytes per iteration of the K loop, so that its
  // counter, branch and pointer updates are shared by more sdot, while a
  // group keeps at least two iterations (with one, LLVM unrolls the loop
  // into the group's update and spills).
  // A transposed tile keeps one block per iteration: with more, LLVM's
  // pre-RA scheduler hoists the ld4 of every block and spills.
  int64_t unroll = 1;
  for (int64_t u : {4, 2})
    if (!transposed && (groupSize / kBlock) % u == 0 &&
        groupSize / kBlock / u >= 2) {
      unroll = u;
      break;
    }
  const int64_t blocksPerGroup = groupSize / kBlock / unroll;
  const int64_t pairBytes = lanes * kStep; // bytes of one packed load
  // Weight registers loaded per step: one per vector pair (nibbles) or one
  // per vector (bytes).
  const int64_t weightRegs = bytes ? vectors : vectors / 2;
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();

  // With ld4 the kernel reads only its regrouped constants: the packed bytes
  // stay out of the context.
  Int4PackedWeights packedWeights =
      packInt4Weights(b, loc, c, nr, lanes, kStep, /*nibbleXor=*/8,
                      /*asConstant=*/!shape.ld4Weights);
  Value packedW = packedWeights.nibbles;
  SmallVector<Value> weightSteps;
  if (shape.ld4Weights)
    weightSteps = interleaveWeightSteps(b, loc, packedWeights);
  Value scaleTable = packedWeights.scales;
  // A zero point per group and column: (zpNibble - zpOffset) per group and
  // column [panels][groups][nr] (i32, 0 past N), times 16 for the low
  // vectors' scaled sums.
  Value corrTable;
  if (!c.uniformZeroPoint()) {
    SmallVector<int32_t> corr(panels * groups * nr, 0);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t col = 0; col < c.n; ++col) {
        int64_t inPanel = col % nr;
        int64_t scale = scaledLow && (inPanel / lanes) % 2 == 0 ? 16 : 1;
        corr[((col / nr) * groups + g) * nr + inPanel] = static_cast<int32_t>(
            scale * (c.zpNibbles[g * c.n + col] - zpOffset));
      }
    corrTable = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({panels, groups, nr}, b.getI32Type()),
            ArrayRef<int32_t>(corr)));
  }
  const DividedScales dividedScales =
      scaledLow ? divideLowScales(b, loc, scaleTable, lanes) : DividedScales();

  // Activations: quantized at run time, their sums per row and group when
  // a correction needs them, and rows padded to the tile.
  // Quantized a whole byte register (4 f32 registers) per iteration.
  Int4Activations activations = buildInt4Activations(
      b, loc, c, mp, zpOffset, /*vectorBytes=*/desc.vectorBits / 8);
  const DynamicQuantized &a = activations.quantized;
  Value rowSums = activations.rowSums;
  const SmallVector<int64_t> rowGroups = interleaveGroups(rows);
  SmallVector<Value> packedA =
      packActivationsForInt4(b, loc, activations.padded, mp, c.k, rows,
                             transposed);

  OpBuilder constants = b;
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(constants, loc, v).getResult();
  };
  auto accType = VectorType::get({lanes}, i32);
  auto floatType = VectorType::get({lanes}, f32);
  auto bytesType = VectorType::get({pairBytes}, i8);
  Value out = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{mp, np}, f32);
  Value four = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(bytesType, b.getI8IntegerAttr(4)));
  Value zeroI32 = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getI32IntegerAttr(0)));
  Value zeroF32 = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(floatType, b.getF32FloatAttr(0.0f)));
  Value sixteen = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(floatType, b.getF32FloatAttr(16.0f)));
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  Value padF32 = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value zeroI32Scalar =
      arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  // The correction per unit of row sum, for the high and the low vectors.
  Value zpHigh = arith::ConstantOp::create(
      b, loc, b.getI32IntegerAttr(c.zpNibble - zpOffset));
  Value zpLow = arith::ConstantOp::create(
      b, loc,
      b.getI32IntegerAttr((scaledLow ? 16 : 1) * (c.zpNibble - zpOffset)));
  Value bias = c.op.getBias();
  SmallVector<bool> inBounds = {true};
  // The rows' scales padded with zeros so that every row tile reads whole
  // registers of them in bounds.
  Value rowScaleTable = tensor::PadOp::create(
      b, loc, RankedTensorType::get({mp + lanes}, f32), a.scale,
      ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(mp + lanes - c.m)}, padF32);

  return buildInt4KernelScaffold(
      b, loc, out, panels, nr, c.m, c.n, mp, rows, constants, idx,
      [&](OpBuilder &rb, Location rl, Value i, Value p, Value col0,
          Value panel) {
        // Rows past M read the zero padding of q and the parameters of the
        // last real row; their results are sliced away.
        SmallVector<Value> clamped;
        for (int64_t r = 0; r < rows; ++r)
          clamped.push_back(arith::MinSIOp::create(
              rb, rl, arith::AddIOp::create(rb, rl, i, idx(r)), idx(c.m - 1)));
        // The rows' scales, 4 to a register (rows past M: 0), used by
        // element (fmul by element: no register per row).
        SmallVector<Value> scaleRegs, rowScales;
        for (int64_t r = 0; r < rows; r += lanes)
          scaleRegs.push_back(vector::TransferReadOp::create(
              rb, rl, floatType, rowScaleTable,
              ValueRange{arith::AddIOp::create(rb, rl, i, idx(r))}, padF32,
              inBounds));
        for (int64_t r = 0; r < rows; ++r)
          rowScales.push_back(vector::BroadcastOp::create(
              rb, rl, floatType,
              vector::ExtractOp::create(rb, rl, scaleRegs[r / lanes],
                                        ArrayRef<int64_t>{r % lanes})));
        // The f32 accumulators: registers (loop-carried vectors), or the
        // output tile itself, zeroed first.
        Value tile = panel;
        SmallVector<Value> facc;
        if (inMemory) {
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t v = 0; v < vectors; ++v)
              tile = vector::TransferWriteOp::create(
                         rb, rl, zeroF32, tile,
                         ValueRange{arith::AddIOp::create(rb, rl, i, idx(r)),
                                    idx(v * lanes)},
                         inBounds)
                         .getResult();
          facc.push_back(tile);
        } else {
          facc.assign(rows * vectors, zeroF32);
        }
        auto buildGroupLoop = [&](OpBuilder &lb, bool preDivided) {
          Value swTable = preDivided ? dividedScales.table : scaleTable;
          return scf::ForOp::create(
            lb, rl, idx(0), idx(groups), idx(1), facc,
            [&](OpBuilder &gb, Location gl, Value g, ValueRange fIn) {
              Value s0 = arith::MulIOp::create(gb, gl, g, idx(blocksPerGroup));
              Value s1 = arith::AddIOp::create(gb, gl, s0, idx(blocksPerGroup));
              SmallVector<Value> iacc(rows * vectors, zeroI32);
              auto stepLoop = scf::ForOp::create(
                  gb, gl, s0, s1, idx(1), iacc,
                  [&](OpBuilder &kb, Location kl, Value s, ValueRange acc) {
                    SmallVector<Value> next(acc.begin(), acc.end());
                    for (int64_t u = 0; u < unroll; ++u) {
                      Value block = arith::AddIOp::create(
                          kb, kl, arith::MulIOp::create(kb, kl, s, idx(unroll)),
                          idx(u));
                      // 16 bytes of each row: 4 steps of K, the tile's rows
                      // in groups of up to 4 loaded by one ld4 (ld3, ld2).
                      Value tileIndex =
                          arith::DivUIOp::create(kb, kl, i, idx(rows));
                      SmallVector<Value> aRows;
                      int64_t firstRow = 0;
                      for (int64_t g : rowGroups) {
                        for (Value reg :
                             readInterleavedGroup(
                                 kb, kl, packedA[transposed ? firstRow / 4 : 0],
                                 ValueRange{tileIndex, block,
                                            idx(transposed ? 0 : 4 * firstRow)},
                                 g))
                          aRows.push_back(
                              vector::BitCastOp::create(kb, kl, accType, reg));
                        firstRow += g;
                      }
                      // With ld4Weights, the block's 4 steps of each
                      // register of packed nibbles in one ld4.
                      SmallVector<SmallVector<Value>> rawSteps;
                      if (shape.ld4Weights)
                        for (int64_t v = 0; v < weightRegs; ++v)
                          rawSteps.push_back(readInterleavedGroup(
                              kb, kl, weightSteps[v],
                              ValueRange{p, block, idx(0)}, 4));
                      for (int64_t t = 0; t < kBlock / kStep; ++t) {
                        Value step = arith::AddIOp::create(
                            kb, kl,
                            arith::MulIOp::create(kb, kl, block,
                                                  idx(kBlock / kStep)),
                            idx(t));
                        SmallVector<Value> w;
                        for (int64_t v = 0; v < weightRegs; ++v) {
                          Value raw =
                              shape.ld4Weights
                                  ? rawSteps[v][t]
                                  : vector::TransferReadOp::create(
                                        kb, kl, bytesType, packedW,
                                        ValueRange{p, step, idx(v * pairBytes)},
                                        padI8, inBounds)
                                        .getResult();
                          if (bytes) {
                            w.push_back(raw);
                            continue;
                          }
                          Value low = arith::ShLIOp::create(kb, kl, raw, four);
                          if (!scaledLow)
                            low = arith::ShRSIOp::create(kb, kl, low, four);
                          w.push_back(low);
                          w.push_back(
                              arith::ShRSIOp::create(kb, kl, raw, four));
                        }
                        // Lane l of a register's words in every lane: LLVM
                        // selects sdot by element.
                        auto splat = [&](Value reg, int64_t l) {
                          Value words =
                              vector::BitCastOp::create(kb, kl, accType, reg);
                          Value lane = vector::ShuffleOp::create(
                              kb, kl, words, words,
                              ArrayRef<int64_t>{l, l, l, l});
                          return vector::BitCastOp::create(kb, kl, bytesType,
                                                           lane)
                              .getResult();
                        };
                        if (transposed) {
                          // Quad q's register of step t (4 rows) times the
                          // weights of one column by element.
                          for (int64_t q = 0; q < rows / 4; ++q) {
                            Value act = vector::BitCastOp::create(
                                kb, kl, bytesType, aRows[q * 4 + t]);
                            for (int64_t col = 0; col < columns; ++col) {
                              Value &slot = next[q * columns + col];
                              slot = arm_neon::SdotOp::create(
                                  kb, kl, accType, slot, act,
                                  splat(w[col / lanes], col % lanes));
                            }
                          }
                          continue;
                        }
                        for (int64_t r = 0; r < rows; ++r) {
                          Value act = splat(aRows[r], t);
                          for (int64_t v = 0; v < vectors; ++v) {
                            Value &slot = next[r * vectors + v];
                            slot = arm_neon::SdotOp::create(kb, kl, accType,
                                                            slot, w[v], act);
                          }
                        }
                      }
                    }
                    scf::YieldOp::create(kb, kl, next);
                  });
              // The group's exact sums, scaled and added in f32.
              SmallVector<Value> fOut;
              Value tileIn = inMemory ? fIn[0] : Value();
              // The group's corrections per unit of row sum, a register
              // per vector, with a zero point per group and column.
              SmallVector<Value> corrRegs;
              if (corrTable)
                for (int64_t v = 0; v < vectors; ++v)
                  corrRegs.push_back(vector::TransferReadOp::create(
                      gb, gl, accType, corrTable,
                      ValueRange{p, g, idx(v * lanes)}, zeroI32Scalar,
                      inBounds));
              if (transposed) {
                // Accumulator (q, col): rows 4q..4q + 3 of column col; the
                // scale (s_lhs * s_w) is the quad's row scales times the
                // column's weight scale by element, as in the plain tile.
                SmallVector<Value> sw;
                for (int64_t v = 0; v < vectors; ++v)
                  sw.push_back(vector::TransferReadOp::create(
                      gb, gl, floatType, swTable,
                      ValueRange{p, g, idx(v * lanes)}, padF32, inBounds));
                for (int64_t q = 0; q < rows / 4; ++q) {
                  Value corrections[2], quad;
                  if (rowSums) {
                    SmallVector<Value> sums;
                    for (int64_t r = 4 * q; r < 4 * q + 4; ++r)
                      sums.push_back(tensor::ExtractOp::create(
                          gb, gl, rowSums, ValueRange{clamped[r], g}));
                    quad =
                        vector::FromElementsOp::create(gb, gl, accType, sums);
                    for (int64_t h = 0; h < 2 && !corrTable; ++h)
                      corrections[h] = arith::MulIOp::create(
                          gb, gl, quad,
                          vector::BroadcastOp::create(gb, gl, accType,
                                                      h ? zpHigh : zpLow));
                  }
                  for (int64_t col = 0; col < columns; ++col) {
                    int64_t v = col / lanes, l = col % lanes;
                    Value sum = stepLoop.getResult(q * columns + col);
                    if (corrTable)
                      // The quad's row sums times column col's correction
                      // (mul by element).
                      sum = arith::SubIOp::create(
                          gb, gl, sum,
                          arith::MulIOp::create(
                              gb, gl, quad,
                              vector::ShuffleOp::create(
                                  gb, gl, corrRegs[v], corrRegs[v],
                                  ArrayRef<int64_t>{l, l, l, l})));
                    else if (rowSums)
                      sum = arith::SubIOp::create(gb, gl, sum,
                                                  corrections[v % 2]);
                    Value swLane = vector::ShuffleOp::create(
                        gb, gl, sw[v], sw[v], ArrayRef<int64_t>{l, l, l, l});
                    Value scale =
                        arith::MulFOp::create(gb, gl, scaleRegs[q], swLane);
                    Value exact =
                        arith::SIToFPOp::create(gb, gl, floatType, sum);
                    if (v % 2 == 0 && scaledLow && !preDivided)
                      exact = arith::DivFOp::create(gb, gl, exact, sixteen);
                    Value term = arith::MulFOp::create(gb, gl, scale, exact);
                    fOut.push_back(arith::AddFOp::create(
                        gb, gl, fIn[q * columns + col], term));
                  }
                }
                scf::YieldOp::create(gb, gl, fOut);
                return;
              }
              for (int64_t r = 0; r < rows; ++r) {
                Value row = arith::AddIOp::create(gb, gl, i, idx(r));
                // With a correction: (zpNibble - 8) * rowsum, times 16 for
                // the low vectors' scaled sums.
                Value corrections[2], rowSum;
                if (rowSums) {
                  Value sum = tensor::ExtractOp::create(
                      gb, gl, rowSums, ValueRange{clamped[r], g});
                  if (corrTable)
                    rowSum = vector::BroadcastOp::create(gb, gl, accType, sum);
                  for (int64_t h = 0; h < 2 && !corrTable; ++h)
                    corrections[h] = vector::BroadcastOp::create(
                        gb, gl, accType,
                        arith::MulIOp::create(gb, gl, sum, h ? zpHigh : zpLow));
                }
                for (int64_t v = 0; v < vectors; ++v) {
                  Value sum = stepLoop.getResult(r * vectors + v);
                  if (corrTable)
                    sum = arith::SubIOp::create(
                        gb, gl, sum,
                        arith::MulIOp::create(gb, gl, rowSum, corrRegs[v]));
                  else if (rowSums)
                    sum =
                        arith::SubIOp::create(gb, gl, sum, corrections[v % 2]);
                  Value sw = vector::TransferReadOp::create(
                      gb, gl, floatType, swTable,
                      ValueRange{p, g, idx(v * lanes)}, padF32, inBounds);
                  Value scale = arith::MulFOp::create(gb, gl, rowScales[r], sw);
                  Value exact = arith::SIToFPOp::create(gb, gl, floatType, sum);
                  // The low vectors' sums are 16 times the group's (exact
                  // in f32: a power of two): scvtf #4.
                  if (v % 2 == 0 && scaledLow && !preDivided)
                    exact = arith::DivFOp::create(gb, gl, exact, sixteen);
                  Value term = arith::MulFOp::create(gb, gl, scale, exact);
                  if (!inMemory) {
                    fOut.push_back(arith::AddFOp::create(
                        gb, gl, fIn[r * vectors + v], term));
                    continue;
                  }
                  SmallVector<Value, 2> at = {row, idx(v * lanes)};
                  Value current = vector::TransferReadOp::create(
                      gb, gl, floatType, tileIn, at, padF32, inBounds);
                  tileIn =
                      vector::TransferWriteOp::create(
                          gb, gl, arith::AddFOp::create(gb, gl, current, term),
                          tileIn, at, inBounds)
                          .getResult();
                }
              }
              if (inMemory)
                fOut.push_back(tileIn);
              scf::YieldOp::create(gb, gl, fOut);
            });
        };
        // Where every row scale of the tile keeps (s_lhs * s_w) / 16 normal
        // and finite (dividedScales), the groups take the low vectors'
        // scales divided by 16 and no division of their sums; otherwise
        // (tiny, huge, infinite or NaN scales) the same loop with the
        // division. NaN fails every comparison.
        SmallVector<Value> groupResults;
        if (dividedScales.table) {
          auto splatF = [&](float x) {
            return arith::ConstantOp::create(
                rb, rl,
                DenseElementsAttr::get(floatType, rb.getF32FloatAttr(x)));
          };
          Value safe;
          for (Value reg : scaleRegs) {
            Value big = arith::CmpFOp::create(rb, rl, arith::CmpFPredicate::OGE,
                                              reg, splatF(dividedScales.lowest));
            Value zero = arith::CmpFOp::create(
                rb, rl, arith::CmpFPredicate::OEQ, reg, zeroF32);
            Value small = arith::CmpFOp::create(
                rb, rl, arith::CmpFPredicate::OLE, reg,
                splatF(dividedScales.highest));
            Value ok = arith::AndIOp::create(
                rb, rl, arith::OrIOp::create(rb, rl, big, zero), small);
            Value all = vector::ReductionOp::create(
                rb, rl, vector::CombiningKind::AND, ok);
            safe = safe ? arith::AndIOp::create(rb, rl, safe, all).getResult()
                        : all;
          }
          auto ifOp = scf::IfOp::create(rb, rl, ValueRange(facc).getTypes(),
                                        safe, /*withElseRegion=*/true);
          OpBuilder thenB = ifOp.getThenBodyBuilder();
          scf::YieldOp::create(thenB, rl,
                               buildGroupLoop(thenB, true).getResults());
          OpBuilder elseB = ifOp.getElseBodyBuilder();
          scf::YieldOp::create(elseB, rl,
                               buildGroupLoop(elseB, false).getResults());
          groupResults.assign(ifOp.getResults().begin(),
                              ifOp.getResults().end());
        } else {
          scf::ForOp loop = buildGroupLoop(rb, false);
          groupResults.assign(loop.getResults().begin(),
                              loop.getResults().end());
        }
        if (inMemory)
          tile = groupResults[0];
        // A transposed tile's sums, 4 x 4 blocks (4 columns of a row quad)
        // transposed into row vectors: zip1/zip2 of words, then of pairs.
        SmallVector<Value> rowVectors;
        if (transposed) {
          rowVectors.assign(rows * vectors, Value());
          auto zip = [&](Value x, Value y, ArrayRef<int64_t> mask) {
            return vector::ShuffleOp::create(rb, rl, x, y, mask).getResult();
          };
          for (int64_t q = 0; q < rows / 4; ++q)
            for (int64_t v = 0; v < vectors; ++v) {
              Value a[4];
              for (int64_t j = 0; j < 4; ++j)
                a[j] = groupResults[q * columns + v * lanes + j];
              Value t0 = zip(a[0], a[1], {0, 4, 1, 5});
              Value t1 = zip(a[0], a[1], {2, 6, 3, 7});
              Value t2 = zip(a[2], a[3], {0, 4, 1, 5});
              Value t3 = zip(a[2], a[3], {2, 6, 3, 7});
              Value out[4] = {
                  zip(t0, t2, {0, 1, 4, 5}), zip(t0, t2, {2, 3, 6, 7}),
                  zip(t1, t3, {0, 1, 4, 5}), zip(t1, t3, {2, 3, 6, 7})};
              for (int64_t j = 0; j < 4; ++j)
                rowVectors[(4 * q + j) * vectors + v] = out[j];
            }
        }
        for (int64_t r = 0; r < rows; ++r) {
          Value row = arith::AddIOp::create(rb, rl, i, idx(r));
          for (int64_t v = 0; v < vectors; ++v) {
            tile = storeInt4ResultVector(rb, rl, tile,
                                         inMemory ? Value()
                                         : transposed
                                             ? rowVectors[r * vectors + v]
                                             : groupResults[r * vectors + v],
                                         bias, row, col0, v, lanes, idx);
          }
        }
        return tile;
      });
}

struct QlowAArch64Int4MatmulPass
    : qlow::impl::QlowAArch64Int4MatmulPassBase<QlowAArch64Int4MatmulPass> {
  using QlowAArch64Int4MatmulPassBase::QlowAArch64Int4MatmulPassBase;

  void runOnOperation() override {
    FailureOr<TargetDesc> desc = lookupKernelPassTarget(
        getOperation(), "qlow-aarch64-int4-matmul", "aarch64", cpu);
    if (failed(desc))
      return signalPassFailure();
    if (desc->int8Dot != Int8DotKind::NeonSdot &&
        desc->int8Dot != Int8DotKind::NeonI8mm)
      return; // No sdot: convert-qlow-to-linalg lowers these matmuls.
    // Groups of at least two iterations of 16 bytes: with one, LLVM
    // unrolls the step loop into the group's f32 update and spills.
    rewriteInt4Matmuls(
        getOperation(), /*kStep=*/32, report,
        [&](OpBuilder &b, Location loc, Int4Matmul &c) {
          return buildInt4Kernel(b, loc, c, *desc);
        },
        /*perColumnZeroPoints=*/true, /*bytePlanes=*/true);
  }
};

} // namespace
