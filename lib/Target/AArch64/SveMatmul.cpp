//===- SveMatmul.cpp - int8 contractions to SVE smmla kernels -------------===//
//
// qlow-aarch64-sve-int8-matmul: the register-tiled int8 matmul kernel on SVE
// registers of a fixed length (TargetDesc::sveVectorBits, 256 on
// Neoverse-V1), built from vector ops on scalable vector types and the
// arm_sve dialect's smmla/usmmla. Recognising the contraction and its
// epilogue, the epilogue on accumulator vectors and the forall scaffold are
// shared with the NEON and x86 kernels (Int8Kernel.h).
//
//===----------------------------------------------------------------------===//

#include "qlow/Target/AArch64/ColumnCorrection.h"
#include "qlow/Target/AArch64/Passes.h"
#include "qlow/Target/Int8Kernel.h"
#include "qlow/Target/TargetDesc.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmSVE/IR/ArmSVEDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "qlow-aarch64-sve-int8-matmul"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWAARCH64SVEINT8MATMULPASS
#include "qlow/Target/AArch64/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

namespace {

/// i32 columns of an output row vector (the epilogue's lanes): two column
/// pairs, as in the NEON kernel.
constexpr int64_t kLanes = 4;

/// The registers of a step in load groups: 4 (ld4w) while at least 4 are
/// left, then the rest in one group of 3 (ld3w), 2 (ld2w) or 1 (ldr).
/// Returns (first register, size).
SmallVector<std::pair<int64_t, int64_t>> sveLoadGroups(int64_t count) {
  SmallVector<std::pair<int64_t, int64_t>> groups;
  for (int64_t done = 0; done < count;) {
    int64_t size = std::min<int64_t>(count - done, 4);
    groups.push_back({done, size});
    done += size;
  }
  return groups;
}

/// The word order of `count` registers of `regWords` words each stored
/// interleaved by load group: word l of register r of a group of g
/// registers starting at register j0 is word j0 * regWords + l * g + (r -
/// j0), which an `ld<g>w` de-interleaves. Returns, for each stored word, the
/// (register, word) it holds, as register * regWords + word.
SmallVector<int64_t> interleavedWordOrder(int64_t count, int64_t regWords) {
  SmallVector<int64_t> order(count * regWords);
  for (auto [j0, g] : sveLoadGroups(count))
    for (int64_t r = 0; r < g; ++r)
      for (int64_t l = 0; l < regWords; ++l)
        order[j0 * regWords + l * g + r] = (j0 + r) * regWords + l;
  return order;
}

/// The load groups of `count` consecutive steps of a partial tile of
/// `pairs` row pairs (1 or 2) packed by steps: 4 / pairs steps per group
/// (one ld4w of their registers), the last group shorter. Returns (first
/// step, steps).
SmallVector<std::pair<int64_t, int64_t>> sveStepGroups(int64_t count,
                                                       int64_t pairs) {
  const int64_t perGroup = 4 / pairs;
  SmallVector<std::pair<int64_t, int64_t>> groups;
  for (int64_t done = 0; done < count; done += perGroup)
    groups.push_back({done, std::min(perGroup, count - done)});
  return groups;
}

/// The kernel's geometry for one contraction: vector length, tile, K steps.
struct SveKernelShape {
  /// 128-bit segments per register (vscale).
  int64_t segments;
  /// Bytes and i32 words of a register.
  int64_t regBytes, regWords;
  /// Bytes of K per smmla step (8 per segment).
  int64_t kStep;
  /// Rows of a register tile and its row pairs; 4-column vectors, column
  /// pairs and columns of a panel.
  int64_t rows, pairs, vectors, colPairs, nr;
  /// Steps of K (K padded to kp), steps per iteration of the K loop, whole
  /// iterations and the steps after them.
  int64_t steps, kp, stepsPerIter, iters, restSteps;
};

SveKernelShape sveKernelShape(const TargetDesc &desc, const Int8Contraction &c,
                              const MicroKernelShape &tile) {
  SveKernelShape s;
  s.segments = desc.sveVectorBits / 128;
  s.regBytes = 16 * s.segments;
  s.regWords = 4 * s.segments;
  s.kStep = 8 * s.segments;
  s.rows = tile.rows;
  s.pairs = tile.rows / 2;
  s.vectors = std::min(tile.vectors, (c.n + kLanes - 1) / kLanes);
  s.colPairs = 2 * s.vectors;
  s.nr = s.vectors * kLanes;
  s.steps = (c.k + s.kStep - 1) / s.kStep;
  s.kp = s.steps * s.kStep;
  // The steps of an iteration share the loop's counter, branch and address
  // adds: every load of an iteration has an immediate offset from its
  // stream's pointer, which ld4w reaches up to 28 registers ahead. Up to
  // eight steps where each stream's registers of a step are at most 4 (8 x 2
  // tiles: 128 smmla per 148 instructions instead of 64 per 76), else four;
  // all of K in one iteration where it fits, else at least 3 iterations (a
  // loop of 2 became a flag toggled per trip and an address computation per
  // load).
  const int64_t maxSteps = std::max(s.pairs, s.colPairs) <= 4 ? 8 : 4;
  s.stepsPerIter = s.steps;
  if (s.steps > maxSteps)
    for (s.stepsPerIter = maxSteps;
         s.stepsPerIter > 1 && s.steps / s.stepsPerIter < 3;)
      s.stepsPerIter /= 2;
  // Steps left after the whole iterations run once after the loop, and
  // their weight loads do not depend on the row tile: LLVM hoists them out
  // of the row-tile loop and keeps them on the stack (K = 1000, 63 steps as
  // 7 x 8 + 7: 28 spilled registers per panel, reloaded by every tile). A
  // count of more than half the steps per iteration that divides the steps
  // into 3 or more iterations has none (63 = 9 x 7: 112 smmla per 130
  // instructions instead of 128 per 148).
  if (s.steps > maxSteps && s.steps % s.stepsPerIter != 0)
    for (int64_t d = maxSteps; 2 * d > maxSteps; --d)
      if (s.steps % d == 0 && s.steps / d >= 3) {
        s.stepsPerIter = d;
        break;
      }
  // Sixteen steps of such tiles where they make whole iterations, 3 or
  // more: the stream's pointer sits in the middle of an iteration's loads
  // (ld4w offsets #-32..#28, mul vl), 256 smmla per 292 instructions
  // (128x768x768 0.775 -> 0.785). With steps left over (17x1000x1000: 0.690
  // -> 0.667) or a single iteration (16x256x256: 0.624 -> 0.545) it costs.
  if (maxSteps == 8 && s.steps % 16 == 0 && s.steps / 16 >= 3)
    s.stepsPerIter = 16;
  s.iters = s.steps / s.stepsPerIter;
  s.restSteps = s.steps % s.stepsPerIter;
  return s;
}

/// Packs the constant weights of `c` at compile time: register j of step s
/// of panel p is column pair j (columns p * nr + 2j, 2j + 1), segment g
/// holding K bytes [s * kStep + 8g, + 8) of both columns as smmla's 8x2
/// operand (column 2j at bytes 0..7 of the segment, 2j + 1 at 8..15); the
/// step's registers are interleaved by load group (interleavedWordOrder).
/// A [panels][steps][colPairs * regWords] tensor of i32 (little-endian
/// words), zero outside w.
Value packWeightsForSve(OpBuilder &b, Location loc, const Int8Contraction &c,
                        const SveKernelShape &s) {
  const int64_t panels = roundUp(c.n, s.nr) / s.nr;
  const int64_t stepBytes = s.colPairs * s.regBytes;
  SmallVector<uint8_t> bytes(panels * s.steps * stepBytes, 0);
  int64_t flat = 0;
  for (const APInt &v : c.weights.getValues<APInt>()) {
    int64_t kk = flat / c.n, col = flat % c.n;
    ++flat;
    int64_t p = col / s.nr, inPanel = col % s.nr;
    int64_t step = kk / s.kStep, segment = (kk % s.kStep) / 8, t = kk % 8;
    int64_t reg = inPanel / 2, column = inPanel % 2;
    bytes[(p * s.steps + step) * stepBytes + reg * s.regBytes + segment * 16 +
          column * 8 + t] = static_cast<uint8_t>(v.getSExtValue());
  }
  SmallVector<int64_t> order = interleavedWordOrder(s.colPairs, s.regWords);
  SmallVector<int32_t> words;
  words.reserve(bytes.size() / 4);
  for (int64_t ps = 0; ps < panels * s.steps; ++ps)
    for (int64_t from : order) {
      const uint8_t *w = &bytes[ps * stepBytes + 4 * from];
      words.push_back(static_cast<int32_t>(static_cast<uint32_t>(w[0]) |
                                           static_cast<uint32_t>(w[1]) << 8 |
                                           static_cast<uint32_t>(w[2]) << 16 |
                                           static_cast<uint32_t>(w[3]) << 24));
    }
  auto type = RankedTensorType::get({panels, s.steps, s.colPairs * s.regWords},
                                    b.getI32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<int32_t>(words)));
}

/// Packs the activations ([m, k] of i8) at run time: register q of step s of
/// row tile t is row pair (t * rows + 2q, + 1), segment g holding K bytes
/// [s * kStep + 8g, + 8) of the even row (bytes 0..7) and the odd row
/// (8..15), smmla's 2x8 operand; rows and K padded with zeros to whole tiles
/// and steps, the step's registers interleaved by load group. A [M / rows]
/// [steps][pairs * regWords] tensor of i32, built as loops that read each
/// row's bytes of two steps at once and zip its row pairs' reads. The partial
/// last tile (M not a multiple of rows) is a [1][steps][its pairs * regWords]
/// tensor of its own (the second result, null without one), its pairs
/// interleaved by their own load groups (sveLoadGroups of its pairs), so that
/// it loads no padding pairs (LLVM made a group load with unused registers into
/// element moves through the stack) and its loads have a pointer of their own.
std::pair<Value, Value> packLhsForSve(OpBuilder &b, Location loc,
                                      const Int8Contraction &c,
                                      const SveKernelShape &s) {
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  const int64_t mp = roundUp(c.m, s.rows);
  Value padded = c.lhs;
  if (mp != c.m || s.kp != c.k) {
    auto paddedType = RankedTensorType::get({mp, s.kp}, i8);
    Value zero = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
    SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> high = {b.getIndexAttr(mp - c.m),
                                      b.getIndexAttr(s.kp - c.k)};
    padded = tensor::PadOp::create(b, loc, paddedType, c.lhs, low, high, zero);
  }
  const int64_t fullTiles = c.m / s.rows, restPairs = (c.m % s.rows + 1) / 2;
  Value init =
      tensor::EmptyOp::create(b, loc,
                              ArrayRef<int64_t>{std::max<int64_t>(fullTiles, 1),
                                                s.steps, s.pairs * s.regWords},
                              i32);
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value zero = idx(0), one = idx(1);
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  SmallVector<bool> inBounds = {true};
  // Tiles [first, last), each of `tilePairs` row pairs, into `dest`.
  auto packTiles = [&](int64_t first, int64_t last, int64_t tilePairs,
                       Value dest) {
    SmallVector<int64_t> order = interleavedWordOrder(tilePairs, s.regWords);
    auto tiles = scf::ForOp::create(
        b, loc, idx(first), idx(last), one, ValueRange{dest},
        [&](OpBuilder &tb, Location tl, Value t, ValueRange tArgs) {
          Value firstRow = arith::MulIOp::create(tb, tl, t, idx(s.rows));
          Value at =
              first == 0
                  ? t
                  : arith::SubIOp::create(tb, tl, t, idx(first)).getResult();
          // `count` consecutive steps from step `first`: one read of
          // count * kStep bytes per row; register q of step u is, as 64-bit
          // lanes, [even row's lane u * segments + g, odd row's]_g (zip1 /
          // zip2 at 64 bits of the two rows' reads); the step's registers
          // concatenated, interleaved by load group and written as one
          // vector (an st4w).
          auto packSteps = [&](OpBuilder &sb, Location sl, Value first,
                               int64_t count, Value dest) {
            Value col0 = arith::MulIOp::create(sb, sl, first, idx(s.kStep));
            const int64_t lanes = count * s.segments;
            auto rowType = VectorType::get({count * s.kStep}, i8);
            auto rowI64Type = VectorType::get({lanes}, b.getI64Type());
            SmallVector<Value> rowsRead;
            for (int64_t r = 0; r < 2 * tilePairs; ++r) {
              Value row = arith::AddIOp::create(sb, sl, firstRow, idx(r));
              Value bytes = vector::TransferReadOp::create(
                  sb, sl, rowType, padded, ValueRange{row, col0}, padI8,
                  inBounds);
              rowsRead.push_back(
                  vector::BitCastOp::create(sb, sl, rowI64Type, bytes));
            }
            for (int64_t u = 0; u < count; ++u) {
              SmallVector<Value> regs;
              for (int64_t q = 0; q < tilePairs; ++q) {
                SmallVector<int64_t> zip;
                for (int64_t g = 0; g < s.segments; ++g)
                  zip.append({u * s.segments + g, lanes + u * s.segments + g});
                Value reg = vector::ShuffleOp::create(sb, sl, rowsRead[2 * q],
                                                      rowsRead[2 * q + 1], zip);
                regs.push_back(vector::BitCastOp::create(
                    sb, sl, VectorType::get({s.regWords}, i32), reg));
              }
              // Concatenated pairwise into one vector of the step's words.
              while (regs.size() > 1) {
                SmallVector<Value> next;
                for (size_t h = 0; h + 1 < regs.size(); h += 2) {
                  int64_t n0 =
                      cast<VectorType>(regs[h].getType()).getDimSize(0);
                  int64_t n1 =
                      cast<VectorType>(regs[h + 1].getType()).getDimSize(0);
                  SmallVector<int64_t> concat;
                  for (int64_t l = 0; l < n0 + n1; ++l)
                    concat.push_back(l);
                  next.push_back(vector::ShuffleOp::create(
                      sb, sl, regs[h], regs[h + 1], concat));
                }
                if (regs.size() % 2)
                  next.push_back(regs.back());
                regs = std::move(next);
              }
              Value words =
                  vector::ShuffleOp::create(sb, sl, regs[0], regs[0], order);
              Value step = u == 0 ? first
                                  : arith::AddIOp::create(sb, sl, first, idx(u))
                                        .getResult();
              dest = vector::TransferWriteOp::create(sb, sl, words, dest,
                                                     ValueRange{at, step, zero},
                                                     inBounds)
                         .getResult();
            }
            return dest;
          };
          // Two steps per trip (32-byte reads per row at 256 bits: 10.5
          // instructions per step of an 8-row tile instead of 32), the odd
          // last step alone.
          auto steps = scf::ForOp::create(
              tb, tl, zero, idx(s.steps / 2), one, tArgs,
              [&](OpBuilder &sb, Location sl, Value st, ValueRange sArgs) {
                Value first = arith::MulIOp::create(sb, sl, st, idx(2));
                scf::YieldOp::create(sb, sl,
                                     packSteps(sb, sl, first, 2, sArgs[0]));
              });
          Value packedTile = steps.getResult(0);
          if (s.steps % 2)
            packedTile = packSteps(tb, tl, idx(s.steps - 1), 1, packedTile);
          scf::YieldOp::create(tb, tl, packedTile);
        });
    return tiles.getResult(0);
  };
  // A rest of one or two row pairs: the registers of consecutive steps
  // (step u's pair q at u * restPairs + q) in load groups of steps
  // (sveStepGroups), a [1][1][steps * restPairs * regWords] tensor, so that
  // its tile loads 4 / restPairs steps with one ld4w instead of an ldr
  // (ld2w) per step. Each group is one read of its steps' bytes per row (2
  // steps at most), its registers zipped as above, interleaved by words and
  // written at once; a loop over the K loop's iterations, then the groups of
  // the steps after it.
  auto packRestBySteps = [&]() {
    const int64_t restRow = fullTiles * s.rows;
    const int64_t stepWords = restPairs * s.regWords;
    Value dest = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{1, 1, s.steps * stepWords}, i32);
    auto packGroup = [&](OpBuilder &gb, Location gl, Value first, int64_t g,
                         Value dest) {
      // The rows' bytes of 2 steps per read (one register each) and of an
      // odd last step alone: a read of 3 steps went through the stack.
      // Register u as 64-bit lanes: [even row's lane of step u and segment
      // h, odd row's]_h (zip1 / zip2 of the two rows' reads).
      SmallVector<Value> regs(g * restPairs);
      for (int64_t c = 0; c < g; c += 2) {
        const int64_t count = std::min<int64_t>(2, g - c);
        const int64_t lanes = count * s.segments;
        Value col0 = arith::MulIOp::create(
            gb, gl,
            c == 0 ? first
                   : arith::AddIOp::create(gb, gl, first, idx(c)).getResult(),
            idx(s.kStep));
        auto rowType = VectorType::get({count * s.kStep}, i8);
        auto rowI64Type = VectorType::get({lanes}, b.getI64Type());
        for (int64_t q = 0; q < restPairs; ++q) {
          Value rowsRead[2];
          for (int64_t r = 0; r < 2; ++r) {
            Value bytes = vector::TransferReadOp::create(
                gb, gl, rowType, padded,
                ValueRange{idx(restRow + 2 * q + r), col0}, padI8, inBounds);
            rowsRead[r] =
                vector::BitCastOp::create(gb, gl, rowI64Type, bytes);
          }
          for (int64_t u = 0; u < count; ++u) {
            SmallVector<int64_t> zip;
            for (int64_t h = 0; h < s.segments; ++h)
              zip.append({u * s.segments + h, lanes + u * s.segments + h});
            regs[(c + u) * restPairs + q] = vector::BitCastOp::create(
                gb, gl, VectorType::get({s.regWords}, i32),
                vector::ShuffleOp::create(gb, gl, rowsRead[0], rowsRead[1],
                                          zip));
          }
        }
      }
      // The group's registers side by side, interleaved by words for one
      // ld<g * restPairs>w.
      const int64_t count = g * restPairs;
      Value joined = regs[0];
      for (int64_t u = 1; u < count; ++u) {
        SmallVector<int64_t> concat;
        for (int64_t l = 0; l < (u + 1) * s.regWords; ++l)
          concat.push_back(l);
        joined = vector::ShuffleOp::create(gb, gl, joined, regs[u], concat);
      }
      Value words = vector::ShuffleOp::create(
          gb, gl, joined, joined, interleavedWordOrder(count, s.regWords));
      Value at = arith::MulIOp::create(gb, gl, first, idx(stepWords));
      return vector::TransferWriteOp::create(gb, gl, words, dest,
                                             ValueRange{zero, zero, at},
                                             inBounds)
          .getResult();
    };
    if (s.iters > 0)
      dest =
          scf::ForOp::create(
              b, loc, zero, idx(s.iters), one, ValueRange{dest},
              [&](OpBuilder &ib, Location il, Value kk, ValueRange args) {
                Value d = args[0];
                Value base = arith::MulIOp::create(ib, il, kk,
                                                   idx(s.stepsPerIter));
                for (auto [t0, g] : sveStepGroups(s.stepsPerIter, restPairs))
                  d = packGroup(
                      ib, il,
                      t0 == 0 ? base
                              : arith::AddIOp::create(ib, il, base, idx(t0))
                                    .getResult(),
                      g, d);
                scf::YieldOp::create(ib, il, d);
              })
              .getResult(0);
    for (auto [t0, g] : sveStepGroups(s.restSteps, restPairs))
      dest = packGroup(b, loc, idx(s.iters * s.stepsPerIter + t0), g, dest);
    return dest;
  };

  Value packed = init, rest;
  if (fullTiles > 0)
    packed = packTiles(0, fullTiles, s.pairs, packed);
  if (restPairs == 1 || restPairs == 2)
    rest = packRestBySteps();
  else if (restPairs > 0)
    rest = packTiles(fullTiles, fullTiles + 1, restPairs,
                     tensor::EmptyOp::create(
                         b, loc,
                         ArrayRef<int64_t>{1, s.steps, restPairs * s.regWords},
                         i32));
  return {packed, rest};
}

/// Reads registers [j0, j0 + g) of a step, one load group, from `source`
/// ([.][steps][count * regWords] words) at `tileIndex`, `step`: one read of
/// the group's words as a fixed-length vector, de-interleaved by shuffles,
/// each register then put into a scalable vector<[16]xi8> (whole at the
/// compiled vector length). LLVM's interleaved-access pass turns the load
/// and its shuffles into one ld4w (ld2w) where the variant's fixed vector
/// length lets fixed-length vectors live in SVE registers, and the insert
/// into the scalable register is no instruction. (A scalable read and
/// `llvm.vector.deinterleave4` would say the same, but upstream has no op
/// for it and a call of the intrinsic stops the buffer deallocation, which
/// needs every op's memory effects.)
SmallVector<Value> readSveGroup(OpBuilder &b, Location loc, Value source,
                                Value tileIndex, Value step, Value wordOffset,
                                int64_t g, const SveKernelShape &s) {
  Type i32 = b.getI32Type();
  auto regType = VectorType::get({4}, i32, /*scalableDims=*/{true});
  auto bytesType = VectorType::get({16}, b.getI8Type(), {true});
  auto groupType = VectorType::get({g * s.regWords}, i32);
  Value pad = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value words = vector::TransferReadOp::create(
      b, loc, groupType, source,
      ValueRange{tileIndex, step, wordOffset}, pad,
      SmallVector<bool>{true});
  Value poison = ub::PoisonOp::create(b, loc, regType);
  SmallVector<Value> regs;
  for (int64_t r = 0; r < g; ++r) {
    Value reg = words;
    if (g > 1) {
      SmallVector<int64_t> lanes;
      for (int64_t l = 0; l < s.regWords; ++l)
        lanes.push_back(l * g + r);
      reg = vector::ShuffleOp::create(b, loc, words, words, lanes);
    }
    reg = vector::ScalableInsertOp::create(b, loc, reg, poison, 0);
    regs.push_back(vector::BitCastOp::create(b, loc, bytesType, reg));
  }
  return regs;
}

/// readSveGroup of registers [j0, j0 + g) of a step.
SmallVector<Value> readSveGroup(OpBuilder &b, Location loc, Value source,
                                Value tileIndex, Value step, int64_t j0,
                                int64_t g, const SveKernelShape &s,
                                function_ref<Value(int64_t)> idx) {
  return readSveGroup(b, loc, source, tileIndex, step, idx(j0 * s.regWords), g,
                      s);
}

/// Builds the kernel that replaces `c` (and `epilogue`) with the register
/// tile `tile`.
Value buildSveInt8Kernel(OpBuilder &b, Location loc, const TargetDesc &desc,
                         const Int8Contraction &c, const MicroKernelShape &tile,
                         int64_t rowBlock,
                         std::optional<FusedEpilogue> epilogue, Type outElement,
                         ArrayRef<int32_t> correction) {
  const SveKernelShape s = sveKernelShape(desc, c, tile);
  const int64_t np = roundUp(c.n, s.nr);
  Type i32 = b.getI32Type();
  auto accType = VectorType::get({4}, i32, {true});
  auto fixedAccType = VectorType::get({s.regWords}, i32);

  Value packedW = packWeightsForSve(b, loc, c, s);
  // Plain names (not a structured binding): the K-step lambda below
  // captures them.
  auto packedLhsAndRest = packLhsForSve(b, loc, c, s);
  Value packedLhs = packedLhsAndRest.first;
  Value packedRest = packedLhsAndRest.second;

  OpBuilder constants = b;
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(constants, loc, v).getResult();
  };
  Value out =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{c.m, np}, outElement);
  Value zeroAcc = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getI32IntegerAttr(0)));
  SmallVector<bool> inBounds = {true};
  const auto rowGroups = sveLoadGroups(s.pairs);
  // With a correction x (see ColumnCorrection): per column pair (2j,
  // 2j + 1) a register's words, the 2x2 block [-x(2j), -x(2j + 1), -x(2j),
  // -x(2j + 1)] in segment 0 and zeros in the others (the segments are
  // summed), for every column pair of the padded N (wrapping i32, as the
  // epilogue's subtraction).
  Value initBlocks;
  Value padI32 = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  if (!correction.empty()) {
    SmallVector<int32_t> words;
    auto start = [&](int64_t col) {
      return col < static_cast<int64_t>(correction.size())
                 ? static_cast<int32_t>(0u -
                                        static_cast<uint32_t>(correction[col]))
                 : 0;
    };
    for (int64_t col = 0; col < np; col += 2) {
      words.append({start(col), start(col + 1), start(col), start(col + 1)});
      words.append(static_cast<size_t>(s.regWords - 4), 0);
    }
    initBlocks = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({static_cast<int64_t>(words.size())}, i32),
            ArrayRef<int32_t>(words)));
  }
  const auto colGroups = sveLoadGroups(s.colPairs);

  // The K loop of a tile of `tileRows` rows from row `i` (a multiple of
  // s.rows): returns the tile's row vectors of 4 columns.
  auto buildKLoop = [&](OpBuilder &rb, Value i, Value p, Value col0,
                        int64_t tileRows) -> SmallVector<Value> {
    const int64_t pairs = (tileRows + 1) / 2;
    Value tileIndex = arith::DivUIOp::create(rb, loc, i, idx(s.rows));
    SmallVector<Value> accs(pairs * s.colPairs, zeroAcc);
    // The epilogue's correction starts the accumulators: column pair
    // col0 / 2 + j's register from word (col0 / 2 + j) * regWords of
    // `initBlocks`, the same for every row pair.
    if (initBlocks)
      for (int64_t j = 0; j < s.colPairs; ++j) {
        Value at = arith::MulIOp::create(
            rb, loc,
            arith::AddIOp::create(
                rb, loc, arith::DivUIOp::create(rb, loc, col0, idx(2)), idx(j)),
            idx(s.regWords));
        Value words =
            vector::TransferReadOp::create(rb, loc, fixedAccType, initBlocks,
                                           ValueRange{at}, padI32, inBounds);
        Value start = vector::ScalableInsertOp::create(
            rb, loc, words, ub::PoisonOp::create(rb, loc, accType), 0);
        for (int64_t q = 0; q < pairs; ++q)
          accs[q * s.colPairs + j] = start;
      }
    auto stepsOf = [&](OpBuilder &kb, Location kl, Value kk,
                       SmallVector<Value> &next, int64_t steps) {
      // A partial tile of one or two row pairs: its registers of up to 4 /
      // pairs steps, one group read at the group's first step
      // (packRestBySteps' layout).
      SmallVector<Value> pairSteps;
      for (int64_t t = 0; t < steps; ++t) {
        Value step = arith::AddIOp::create(
            kb, kl, arith::MulIOp::create(kb, kl, kk, idx(s.stepsPerIter)),
            idx(t));
        // The tile's row pairs; the partial tile's from their own tensor,
        // in groups of their own.
        SmallVector<Value> a;
        if (tileRows < s.rows && pairs <= 2) {
          for (auto [t0, g] : sveStepGroups(steps, pairs)) {
            if (t == t0)
              pairSteps = readSveGroup(
                  kb, kl, packedRest, idx(0), idx(0),
                  arith::MulIOp::create(kb, kl, step,
                                        idx(pairs * s.regWords)),
                  g * pairs, s);
            if (t >= t0 && t < t0 + g)
              for (int64_t q = 0; q < pairs; ++q)
                a.push_back(pairSteps[(t - t0) * pairs + q]);
          }
        } else if (tileRows < s.rows)
          for (auto [j0, g] : sveLoadGroups(pairs))
            llvm::append_range(a, readSveGroup(kb, kl, packedRest, idx(0), step,
                                               j0, g, s, idx));
        else
          for (auto [j0, g] : rowGroups)
            llvm::append_range(a, readSveGroup(kb, kl, packedLhs, tileIndex,
                                               step, j0, g, s, idx));
        SmallVector<Value> w;
        for (auto [j0, g] : colGroups)
          llvm::append_range(
              w, readSveGroup(kb, kl, packedW, p, step, j0, g, s, idx));
        for (int64_t q = 0; q < pairs; ++q)
          for (int64_t j = 0; j < s.colPairs; ++j) {
            Value &slot = next[q * s.colPairs + j];
            slot = c.lhsSigned ? arm_sve::SmmlaOp::create(kb, kl, accType, slot,
                                                          a[q], w[j])
                                     .getResult()
                               : arm_sve::UsmmlaOp::create(kb, kl, accType,
                                                           slot, a[q], w[j])
                                     .getResult();
          }
      }
    };
    auto kLoop = scf::ForOp::create(
        rb, loc, idx(0), idx(s.iters), idx(1), accs,
        [&](OpBuilder &kb, Location kl, Value kk, ValueRange acc) {
          SmallVector<Value> next(acc.begin(), acc.end());
          stepsOf(kb, kl, kk, next, s.stepsPerIter);
          scf::YieldOp::create(kb, kl, next);
        });
    SmallVector<Value> blocks(kLoop.getResults());
    if (s.restSteps > 0)
      stepsOf(rb, loc, idx(s.iters), blocks, s.restSteps);
    // Each accumulator holds, per 128-bit segment g, the 2x2 block [r0c0
    // r0c1 r1c0 r1c1] of its row pair and column pair summed over the steps
    // of K that segment took: as 64-bit lanes, column pair j's accumulator
    // is A = [A(2g) = row 0, A(2g + 1) = row 1]_g.
    Type i64 = rb.getI64Type();
    auto fixedI64Type = VectorType::get({2 * s.segments}, i64);
    auto asI64 = [&](Value acc) {
      Value fixed = vector::ScalableExtractOp::create(
          rb, loc, fixedAccType, acc, rb.getI64IntegerAttr(0));
      return vector::BitCastOp::create(rb, loc, fixedI64Type, fixed)
          .getResult();
    };
    auto shuffle = [&](Value x, Value y, ArrayRef<int64_t> lanes) {
      return vector::ShuffleOp::create(rb, loc, x, y, lanes).getResult();
    };
    auto asI32 = [&](Value v, int64_t lanes) {
      return vector::BitCastOp::create(rb, loc, VectorType::get({lanes}, i32),
                                       v)
          .getResult();
    };
    const int64_t n = 2 * s.segments;
    SmallVector<Value> rowsOut(tileRows * s.vectors);
    for (int64_t q = 0; q < pairs; ++q)
      for (int64_t j = 0; j < s.vectors;) {
        // Two segments and 4 column pairs A, B, C, D (two row vectors of
        // 4 columns): uzp1/uzp2 at 64 bits give U1 = [A0, A2, B0, B2], U2 =
        // [A1, A3, B1, B3] and V1, V2 of C, D alike; uzp1/uzp2 of (U1, V1)
        // are row 2q's 8 columns in segment 0 and in segment 1, added: one
        // vector per row (10 instructions per 2 rows of 8 columns; zip1/zip2
        // /add per 2 column pairs and each row's halves joined took 14).
        if (s.segments == 2 && j + 1 < s.vectors) {
          Value a = asI64(blocks[q * s.colPairs + 2 * j]);
          Value b2 = asI64(blocks[q * s.colPairs + 2 * j + 1]);
          Value c2 = asI64(blocks[q * s.colPairs + 2 * j + 2]);
          Value d = asI64(blocks[q * s.colPairs + 2 * j + 3]);
          const SmallVector<int64_t> even = {0, 2, 4, 6}, odd = {1, 3, 5, 7};
          Value u[2] = {shuffle(a, b2, even), shuffle(a, b2, odd)};
          Value v[2] = {shuffle(c2, d, even), shuffle(c2, d, odd)};
          for (int64_t r = 0; r < 2 && 2 * q + r < tileRows; ++r) {
            Value row = arith::AddIOp::create(
                rb, loc, asI32(shuffle(u[r], v[r], even), 8),
                asI32(shuffle(u[r], v[r], odd), 8));
            for (int64_t h = 0; h < 2; ++h)
              rowsOut[(2 * q + r) * s.vectors + j + h] =
                  shuffle(row, row, {4 * h, 4 * h + 1, 4 * h + 2, 4 * h + 3});
          }
          j += 2;
          continue;
        }
        // One row vector (column pairs 2j, 2j + 1: A, B):
        // [A(2g), B(2g), A(2g + 1), B(2g + 1)] is segment g's share of both
        // rows' 4 columns (zip1 / zip2 of A and B at 256 bits), and the sum
        // over g the two rows: one vector of 8 lanes, row 2q then 2q + 1.
        Value lo = asI64(blocks[q * s.colPairs + 2 * j]);
        Value hi = asI64(blocks[q * s.colPairs + 2 * j + 1]);
        Value sum;
        for (int64_t g = 0; g < s.segments; ++g) {
          Value part = asI32(
              shuffle(lo, hi, {2 * g, n + 2 * g, 2 * g + 1, n + 2 * g + 1}), 8);
          sum = sum ? arith::AddIOp::create(rb, loc, sum, part).getResult()
                    : part;
        }
        for (int64_t r = 0; r < 2 && 2 * q + r < tileRows; ++r)
          rowsOut[(2 * q + r) * s.vectors + j] =
              shuffle(sum, sum, {4 * r, 4 * r + 1, 4 * r + 2, 4 * r + 3});
        ++j;
      }
    return rowsOut;
  };

  auto buildRowTile = [&](OpBuilder &rb, Location rl, Value i,
                          function_ref<Value()> localRow, Value p, Value col0,
                          int64_t tileRows, Value tileOut) -> Value {
    SmallVector<Value> accs = buildKLoop(rb, i, p, col0, tileRows);
    return storeAArch64RowTile(rb, rl, epilogue, accs, i, localRow(), col0,
                               tileRows, s.vectors, c.m, idx, tileOut);
  };
  return buildInt8KernelScaffold(b, loc, out, c.m, c.n, s.nr, rowBlock, s.rows,
                                 constants, idx, buildRowTile);
}

struct QlowAArch64SveInt8MatmulPass
    : qlow::impl::QlowAArch64SveInt8MatmulPassBase<
          QlowAArch64SveInt8MatmulPass> {
  using QlowAArch64SveInt8MatmulPassBase::QlowAArch64SveInt8MatmulPassBase;

  void runOnOperation() override {
    FailureOr<TargetDesc> desc = lookupKernelPassTarget(
        getOperation(), "qlow-aarch64-sve-int8-matmul", "aarch64", cpu);
    if (failed(desc))
      return signalPassFailure();
    if (desc->sveVectorBits == 0)
      return; // No SVE kernels: qlow-aarch64-int8-matmul's NEON ones.
    for (const MicroKernelShape &tile : desc->sveInt8Tiles)
      if (tile.kStep != static_cast<int64_t>(desc->sveVectorBits) / 16 ||
          tile.rows % 2 != 0 || tile.rows <= 0 || tile.vectors <= 0) {
        getOperation().emitError()
            << "qlow-aarch64-sve-int8-matmul: " << desc->name << "'s SVE tile "
            << tile.rows << " x " << tile.vectors << " x " << tile.kStep
            << " is not whole row pairs with " << desc->sveVectorBits / 16
            << " bytes of K per step (8 per 128-bit segment)";
        return signalPassFailure();
      }

    rewriteAArch64Int8Contractions(
        getOperation(),
        [&](IRRewriter &rewriter, Int8Contraction &c,
            const std::optional<FusedEpilogue> &applied, Type outElement,
            ArrayRef<int32_t> starts) {
          MicroKernelShape tile = desc->chooseSveInt8Tile(c.m, c.n, c.k);
          int64_t rowBlock = desc->chooseInt8RowBlock(c.m, c.n, c.k, tile);
          return buildSveInt8Kernel(rewriter, c.op.getLoc(), *desc, c, tile,
                                    rowBlock, applied, outElement, starts);
        });
  }
};

} // namespace

