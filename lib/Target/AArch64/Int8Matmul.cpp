//===- Int8Matmul.cpp - int8 contractions to NEON sdot / smmla kernels ----===//
//
// qlow-aarch64-int8-matmul: the register-tiled int8 matmul kernel for
// AArch64, built from vector ops and the arm_neon dialect's intrinsic ops
// (sdot with dotprod, smmla/usmmla with i8mm), every size from the
// TargetDesc. Recognising the contraction and its epilogue, and applying the
// epilogue to accumulator vectors, are shared with x86 (Int8Kernel.h).
//
//===----------------------------------------------------------------------===//

#include "qlow/Target/AArch64/ColumnCorrection.h"
#include "qlow/Target/AArch64/InterleavedLoads.h"
#include "qlow/Target/AArch64/Passes.h"
#include "qlow/Target/Int8Kernel.h"
#include "qlow/Target/TargetDesc.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "qlow-aarch64-int8-matmul"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWAARCH64INT8MATMULPASS
#include "qlow/Target/AArch64/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;
using namespace mlir::qlow::aarch64;

namespace {

/// i32 lanes of a NEON register.
constexpr int64_t kLanes = 4;

/// The largest group size (at most 4) that divides `pairs`: the row pairs of
/// a tile are loaded in groups of this size, aligned to multiples of it.
int64_t pairGroupSize(int64_t pairs) {
  for (int64_t g : {4, 3, 2})
    if (pairs % g == 0)
      return g;
  return 1;
}

/// Whether the i8mm kernel computes an M x N matmul that the TargetDesc gave
/// 8-row tiles (4 row pairs) with tiles of 5 row pairs instead (10 rows, the
/// last tile partial for odd M): when the row pairs are a multiple of 5,
/// beyond one tile (M = 9 or 10 is one such tile already, the rest merged
/// into the 8-row tile), and 5 pairs' accumulators, registers and loads fit
/// beside each other (at most 4 column pairs: 20 accumulators, 5 + 4
/// operands). Such a tile loads its first 4 pairs with one ld4 per step and
/// its fifth, the iteration's 4 steps of it together, with one ld4 per
/// iteration (see packLhsForMmla): 91 instructions per 80 smmla in the K
/// loop, against 74 per 64 for 4 pairs. M = 19 or 20 becomes two tiles of 5
/// pairs instead of 4 + 4 and a tile of 2 pairs (8 smmla per step for two
/// loads), M = 29 or 30 three instead of 4 + 4 + 4 + 3, and M = 40 four
/// instead of five tiles of 4 pairs (qlow-bench aarch64, neoverse-n2,
/// K = N = 768: 0.827 -> 0.839).
bool fivePairTiles(const TargetDesc &desc, int64_t m, int64_t n,
                   const MicroKernelShape &tile) {
  if (desc.int8LoadGroup != 4 || tile.rows != 8)
    return false;
  const int64_t vectors = std::min(tile.vectors, (n + kLanes - 1) / kLanes);
  const int64_t colPairs = 2 * vectors, pairs = (m + 1) / 2;
  return pairs > 5 && pairs % 5 == 0 &&
         5 * colPairs + 5 + colPairs + 3 <=
             static_cast<int64_t>(desc.vectorRegisters);
}

/// Packs the constant weights of `c` at compile time for panels of `nr`
/// columns, `kStep` bytes of K per step, K padded to `kp`:
///
///  * sdot (`mmla` false): packed[p][s][col * 4 + t] = w[4s + t][p*nr + col],
///    a [panels][kp / 4][nr * 4] tensor of i8;
///  * smmla (`mmla` true): the 8x2 block of columns (2 pair, 2 pair + 1) that
///    smmla's second operand holds as two rows of 8 bytes (register `pair`:
///    byte c * 8 + t = w[8s + t][p*nr + 2*pair + c]), the registers of a step
///    in groups of up to 4 stored interleaved by 4-byte words as
///    `interleaveGroups` says, so that one ld4 (ld3, ld2) loads a group;
///    the steps split `splits` ways by step modulo `splits` and the groups
///    into tensors of their own (see buildNeonInt8Kernel), each a
///    [panels][kp / 8 / splits][4 * group] tensor of i32 (little-endian
///    words).
///
/// Zero outside w. Returns one tensor for sdot; for smmla, `splits` times
/// the groups, group `gi` of part `t` at `t * groups + gi`.
SmallVector<Value> packWeightsForNeon(OpBuilder &b, Location loc,
                                      const Int8Contraction &c, int64_t nr,
                                      int64_t kp, bool mmla, int64_t splits) {
  const int64_t kStep = mmla ? 8 : 4;
  const int64_t kSteps = kp / kStep, panels = roundUp(c.n, nr) / nr;
  const int64_t stepBytes = nr * kStep;
  // For smmla: the byte offset within a step of each (register, byte) pair.
  SmallVector<int64_t> mmlaOffset;
  if (mmla) {
    mmlaOffset.resize(stepBytes);
    int64_t j0 = 0;
    for (int64_t g : interleaveGroups(nr / 2)) {
      for (int64_t r = 0; r < g; ++r)
        for (int64_t byte = 0; byte < 16; ++byte)
          mmlaOffset[(j0 + r) * 16 + byte] =
              (j0 * 4 + (byte / 4) * g + r) * 4 + byte % 4;
      j0 += g;
    }
  }
  SmallVector<int8_t> packed(panels * kSteps * stepBytes, 0);
  auto values = c.weights.getValues<APInt>();
  int64_t flat = 0;
  for (const APInt &v : values) {
    int64_t kk = flat / c.n, col = flat % c.n;
    ++flat;
    int64_t p = col / nr, inPanel = col % nr, s = kk / kStep, t = kk % kStep;
    int64_t at = (p * kSteps + s) * stepBytes;
    if (mmla)
      at += mmlaOffset[(inPanel / 2) * 16 + (inPanel % 2) * 8 + t];
    else
      at += inPanel * 4 + t;
    packed[at] = static_cast<int8_t>(v.getSExtValue());
  }
  if (!mmla) {
    auto type =
        RankedTensorType::get({panels, kSteps, stepBytes}, b.getI8Type());
    return {arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(packed)))};
  }
  const int64_t partSteps = kSteps / splits;
  SmallVector<Value> parts;
  for (int64_t part = 0; part < splits; ++part) {
    int64_t j0 = 0;
    for (int64_t g : interleaveGroups(nr / 2)) {
      SmallVector<int32_t> words;
      words.reserve(panels * partSteps * 4 * g);
      for (int64_t p = 0; p < panels; ++p)
        for (int64_t ps = 0; ps < partSteps; ++ps) {
          int64_t at = (p * kSteps + ps * splits + part) * stepBytes + j0 * 16;
          for (int64_t w = 0; w < 4 * g; ++w) {
            uint32_t word = 0;
            for (int64_t byte = 0; byte < 4; ++byte)
              word |= static_cast<uint32_t>(
                          static_cast<uint8_t>(packed[at + 4 * w + byte]))
                      << (8 * byte);
            words.push_back(static_cast<int32_t>(word));
          }
        }
      auto type =
          RankedTensorType::get({panels, partSteps, 4 * g}, b.getI32Type());
      parts.push_back(arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(type, ArrayRef<int32_t>(words))));
      j0 += g;
    }
  }
  return parts;
}

/// Pads `lhs` ([m, k] of i8) with zeros to [mp, kp].
Value padLhs(OpBuilder &b, Location loc, Value lhs, int64_t m, int64_t k,
             int64_t mp, int64_t kp) {
  if (mp == m && kp == k)
    return lhs;
  auto paddedType = RankedTensorType::get({mp, kp}, b.getI8Type());
  Value zero = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> high = {b.getIndexAttr(mp - m),
                                    b.getIndexAttr(kp - k)};
  return tensor::PadOp::create(b, loc, paddedType, lhs, low, high, zero);
}

/// The activations in the layout smmla reads, pairs of rows with 8 bytes of
/// K each (row 2q at bytes 0..7, row 2q+1 at 8..15, the layout of a
/// `linalg.pack` with inner tiles [2, 8]), the pairs in groups of `g`
/// (pairGroupSize of the tile's pairs) interleaved by words as
/// readInterleavedGroup reads them: [mp / 2g][kp / 8][4g] words of i32, one
/// group's step (16g bytes, one ld<g>) after the other along K, split
/// `splits` ways by step modulo `splits` as packWeightsForNeon splits the
/// weights (`splits` tensors of [mp / 2g][kp / 8 / splits][4g]). With
/// `tailPairs` (the pairs of the partial last row tile, fewer than g), the
/// last group holds only those, interleaved by `tailPairs`, so that the
/// partial tile loads no padding pairs, in tensors of its own
/// ([1][kp / 8 / splits][4 tailPairs], after the others): a tile that loads
/// it beside whole groups (the rest merged into the last whole tile) then
/// has a pointer for it that its load post-increments (from one tensor,
/// LLVM derived one group's address from the other's pointer: a sub or a
/// mov per step). Built as
/// loops that read each row's `splits` steps of an iteration at once
/// (16-byte loads; a pair's register of a step is a shuffle of two rows',
/// zip1/zip2) and K's last steps after them (upstream's lowering of
/// linalg.pack, a transpose, becomes a byte-by-byte loop nest, which cost
/// more than the kernel at N = 256); LLVM stores the interleaved group with
/// one st<g>. Where K is a multiple of 8 the rows are read from `lhs` in
/// place (rows past M read clamped and replaced by zeros), otherwise from a
/// padded copy. The last iteration's steps (K's rest) are written alone: in
/// a tail pair's group they are interleaved by their own count.
///
/// With `fivePairs` (tiles of 5 row pairs, see fivePairTiles; `g` is 4 and
/// `tailPairs` 0), tile t's first 4 pairs are group t of the `splits`
/// tensors ([mp / 10][kp / 8 / splits][16]) and its fifth pair, the
/// iteration's `splits` steps of it together as for one tail pair, is row t
/// of one more tensor ([mp / 10][kp / 8 / splits][4 splits]).
SmallVector<Value> packLhsForMmla(OpBuilder &b, Location loc, Value lhs,
                                  int64_t m, int64_t k, int64_t mp, int64_t kp,
                                  int64_t g, int64_t tailPairs, int64_t splits,
                                  bool fivePairs = false) {
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  // K a multiple of 8: the steps are read from `lhs` itself (the padding
  // pairs' rows past M as zeros), not from a padded copy (17x1000: a copy
  // of 17 KB and a buffer-cache search, 3100 instructions per call).
  const bool direct = k % 8 == 0;
  Value padded = direct ? lhs : padLhs(b, loc, lhs, m, k, mp, kp);
  // K's steps of 8 bytes: whole iterations of `splits` steps, then
  // `restSteps` steps (interleaved by their own count in a tail pair's
  // group, so that the kernel reads them with one ld<restSteps>).
  const int64_t kSteps = (k + 7) / 8;
  const int64_t wholeTrips = kSteps / splits, restSteps = kSteps % splits;
  // Rows from one group (or tile) of pairs to the next.
  const int64_t rowStride = fivePairs ? 10 : 2 * g;
  const int64_t groups = mp / rowStride;
  const int64_t wholeGroups = tailPairs ? groups - 1 : groups;
  // One tail pair: the iteration's `splits` steps of it in one group.
  const bool tailTogether = tailPairs == 1 || fivePairs;
  SmallVector<Value> packed, tail;
  for (int64_t part = 0; part < splits; ++part) {
    packed.push_back(tensor::EmptyOp::create(
        b, loc,
        ArrayRef<int64_t>{std::max<int64_t>(wholeGroups, 1), kp / 8 / splits,
                          4 * g},
        i32));
    if ((tailPairs || fivePairs) && (!tailTogether || part == 0))
      tail.push_back(tensor::EmptyOp::create(
          b, loc,
          ArrayRef<int64_t>{fivePairs ? groups : 1, kp / 8 / splits,
                            4 * (tailTogether ? splits : tailPairs)},
          i32));
  }
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value zero = idx(0), one = idx(1);
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  auto regType = VectorType::get({4}, i32);
  SmallVector<bool> inBounds = {true};
  // Groups [first, last) of `gg` pairs each, interleaved by `gg`, into
  // `dst` from its group 0; with `together` (one pair), the `splits` steps'
  // registers interleaved into the one tensor of `dst`.
  // `rowOffset`: the first row of group q is q * rowStride + rowOffset.
  auto packGroups = [&](int64_t first, int64_t last, int64_t gg,
                        SmallVector<Value> &dst, bool together,
                        int64_t rowOffset = 0) {
    SmallVector<int64_t> interleave = interleaveMask(gg);
    // A row's `bytes` bytes at `col`; a row that may be past M (a padding
    // pair; `r`: its offset in the last group) is read clamped to row m - 1
    // and replaced by zeros.
    const int64_t lastFirstRow = (last - 1) * rowStride + rowOffset;
    auto readRow = [&](OpBuilder &sb, Location sl, Value row, int64_t r,
                       Value col, int64_t bytes) -> Value {
      auto type = VectorType::get({bytes}, i8);
      if (!direct || lastFirstRow + r < m)
        return vector::TransferReadOp::create(
            sb, sl, type, padded, ValueRange{row, col}, padI8, inBounds);
      Value clamped = arith::MinUIOp::create(sb, sl, row, idx(m - 1));
      Value bytesRead = vector::TransferReadOp::create(
          sb, sl, type, padded, ValueRange{clamped, col}, padI8, inBounds);
      Value inside =
          arith::CmpIOp::create(sb, sl, arith::CmpIPredicate::ult, row, idx(m));
      Value zeros = arith::ConstantOp::create(sb, sl, sb.getZeroAttr(type));
      return arith::SelectOp::create(sb, sl, inside, bytesRead, zeros);
    };
    auto groupLoop = scf::ForOp::create(
        b, loc, idx(first), idx(last), one, dst,
        [&](OpBuilder &qb, Location ql, Value q, ValueRange qArgs) {
          Value firstRow = arith::MulIOp::create(qb, ql, q, idx(rowStride));
          if (rowOffset != 0)
            firstRow = arith::AddIOp::create(qb, ql, firstRow, idx(rowOffset));
          Value at =
              first == 0
                  ? q
                  : arith::SubIOp::create(qb, ql, q, idx(first)).getResult();
          // Steps [0, nSteps) of trip ps into `parts`.
          auto trip = [&](OpBuilder &sb, Location sl, Value ps,
                          SmallVector<Value> &parts, int64_t nSteps) {
            Value steps;
            // Each row's nSteps steps in one read (16-byte loads), each
            // pair's register of a step a shuffle of two (zip1/zip2).
            Value col0 = arith::MulIOp::create(sb, sl, ps, idx(splits * 8));
            SmallVector<Value> rows;
            for (int64_t r = 0; r < 2 * gg; ++r)
              rows.push_back(readRow(
                  sb, sl, arith::AddIOp::create(sb, sl, firstRow, idx(r)), r,
                  col0, 8 * nSteps));
            // The odd step's shuffle (zip2) of a register pair first: the
            // even one's (zip1) is then its last use, which LLVM selects as
            // an insert in place (mov v.d[1]) instead of a copy and an insert.
            SmallVector<Value> groups(nSteps);
            for (int64_t i = 0; i < nSteps; ++i) {
              int64_t part = i % 2 == 0 && i + 1 < nSteps ? i + 1
                             : i % 2 == 1                 ? i - 1
                                                          : i;
              SmallVector<int64_t> pick;
              for (int64_t h = 0; h < 2; ++h)
                for (int64_t l = 0; l < 8; ++l)
                  pick.push_back(h * 8 * nSteps + part * 8 + l);
              Value group;
              for (int64_t r = 0; r < gg; ++r) {
                Value both = vector::ShuffleOp::create(sb, sl, rows[2 * r],
                                                       rows[2 * r + 1], pick);
                Value reg = vector::BitCastOp::create(sb, sl, regType, both);
                group = appendWords(sb, sl, group, reg);
              }
              if (gg > 1)
                group =
                    vector::ShuffleOp::create(sb, sl, group, group, interleave);
              groups[part] = group;
            }
            for (int64_t part = 0; part < nSteps; ++part) {
              if (together) {
                steps = appendWords(sb, sl, steps, groups[part]);
                continue;
              }
              parts[part] = vector::TransferWriteOp::create(
                                sb, sl, groups[part], parts[part],
                                ValueRange{at, ps, zero}, inBounds)
                                .getResult();
            }
            if (together) {
              if (nSteps > 1)
                steps = vector::ShuffleOp::create(sb, sl, steps, steps,
                                                  interleaveMask(nSteps));
              parts[0] = vector::TransferWriteOp::create(
                             sb, sl, steps, parts[0], ValueRange{at, ps, zero},
                             inBounds)
                             .getResult();
            }
          };
          auto steps = scf::ForOp::create(
              qb, ql, zero, idx(wholeTrips), one, qArgs,
              [&](OpBuilder &sb, Location sl, Value ps, ValueRange sArgs) {
                SmallVector<Value> parts(sArgs.begin(), sArgs.end());
                trip(sb, sl, ps, parts, splits);
                scf::YieldOp::create(sb, sl, parts);
              });
          SmallVector<Value> parts(steps.getResults());
          if (restSteps > 0)
            trip(qb, ql, idx(wholeTrips), parts, restSteps);
          scf::YieldOp::create(qb, ql, parts);
        });
    dst.assign(groupLoop.getResults().begin(), groupLoop.getResults().end());
  };
  if (wholeGroups > 0)
    packGroups(0, wholeGroups, g, packed, /*together=*/false);
  if (tailPairs) {
    packGroups(wholeGroups, groups, tailPairs, tail, tailTogether);
    llvm::append_range(packed, tail);
  }
  if (fivePairs) {
    packGroups(0, groups, 1, tail, /*together=*/true, /*rowOffset=*/8);
    llvm::append_range(packed, tail);
  }
  return packed;
}

/// The activations in the layout the sdot kernel reads: [mp / rows][kp /
/// kBlock][rows][kBlock] bytes, the `rows` rows of a register tile next to
/// each other for each block of K, so that the tile's loads of an iteration
/// are adjacent (ldp with immediate offsets; rows `k` bytes apart are out of
/// ldp's reach). With `flipSign` (u8 activations on s8 x s8 sdot) the bytes
/// are `a - 128` (the sign bit flipped) here, once, rather than once per
/// column panel in the K loop. Built as loops that move `kBlock` bytes at a
/// time (see packLhsForMmla).
Value packLhsForSdot(OpBuilder &b, Location loc, Value lhs, int64_t m,
                     int64_t k, int64_t rows, int64_t kp, int64_t kBlock,
                     bool flipSign) {
  Type i8 = b.getI8Type();
  const int64_t mp = roundUp(m, rows);
  Value padded = padLhs(b, loc, lhs, m, k, mp, kp);
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{mp / rows, kp / kBlock, rows, kBlock}, i8);
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value zero = idx(0), one = idx(1);
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  auto blockType = VectorType::get({kBlock}, i8);
  Value flip = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(blockType,
                             b.getI8IntegerAttr(static_cast<int8_t>(0x80))));
  SmallVector<bool> inBounds = {true};
  auto tiles = scf::ForOp::create(
      b, loc, zero, idx(mp / rows), one, ValueRange{init},
      [&](OpBuilder &tb, Location tl, Value t, ValueRange tArgs) {
        Value firstRow = arith::MulIOp::create(tb, tl, t, idx(rows));
        auto blocks = scf::ForOp::create(
            tb, tl, zero, idx(kp / kBlock), one, tArgs,
            [&](OpBuilder &kb, Location kl, Value kk, ValueRange kArgs) {
              Value col = arith::MulIOp::create(kb, kl, kk, idx(kBlock));
              Value packed = kArgs[0];
              for (int64_t r = 0; r < rows; ++r) {
                Value row = arith::AddIOp::create(kb, kl, firstRow, idx(r));
                Value bytes = vector::TransferReadOp::create(
                    kb, kl, blockType, padded, ValueRange{row, col}, padI8,
                    inBounds);
                if (flipSign)
                  bytes = arith::XOrIOp::create(kb, kl, bytes, flip);
                packed = vector::TransferWriteOp::create(
                             kb, kl, bytes, packed,
                             ValueRange{t, kk, idx(r), zero}, inBounds)
                             .getResult();
              }
              scf::YieldOp::create(kb, kl, packed);
            });
        scf::YieldOp::create(tb, tl, blocks.getResult(0));
      });
  return tiles.getResult(0);
}

} // namespace

/// The values per column (N of them) of `value` in the body of the epilogue
/// `op`, when it is computed from constants and column-indexed constant
/// tensors of i32 by muli/addi/subi (wrapping); `ops` collects the body's
/// ops it takes.
static std::optional<SmallVector<uint32_t>>
evaluatePerColumn(linalg::GenericOp op, Value value, int64_t n,
                  SmallVectorImpl<Operation *> &ops) {
  Block &body = op.getRegion().front();
  APInt scalar;
  if (matchPattern(value, m_ConstantInt(&scalar))) {
    if (Operation *def = value.getDefiningOp(); def && def->getBlock() == &body)
      ops.push_back(def);
    return SmallVector<uint32_t>(n,
                                 static_cast<uint32_t>(scalar.getSExtValue()));
  }
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    if (arg.getOwner() != &body || arg.getArgNumber() >= op.getNumDpsInputs())
      return std::nullopt;
    OpOperand *input = op.getDpsInputOperand(arg.getArgNumber());
    AffineMap map = op.getMatchingIndexingMap(input);
    DenseIntElementsAttr values;
    if (map.getNumResults() != 1 ||
        map.getResult(0) != getAffineDimExpr(1, op.getContext()) ||
        !matchPattern(input->get(), m_Constant(&values)) ||
        values.getNumElements() != n || !values.getElementType().isInteger(32))
      return std::nullopt;
    SmallVector<uint32_t> result;
    for (const APInt &v : values.getValues<APInt>())
      result.push_back(static_cast<uint32_t>(v.getSExtValue()));
    return result;
  }
  Operation *def = value.getDefiningOp();
  if (!def || def->getBlock() != &body || !value.hasOneUse() ||
      !isa<arith::MulIOp, arith::AddIOp, arith::SubIOp>(def))
    return std::nullopt;
  auto lhs = evaluatePerColumn(op, def->getOperand(0), n, ops);
  auto rhs = evaluatePerColumn(op, def->getOperand(1), n, ops);
  if (!lhs || !rhs)
    return std::nullopt;
  for (int64_t col = 0; col < n; ++col)
    (*lhs)[col] = isa<arith::MulIOp>(def)   ? (*lhs)[col] * (*rhs)[col]
                  : isa<arith::AddIOp>(def) ? (*lhs)[col] + (*rhs)[col]
                                            : (*lhs)[col] - (*rhs)[col];
  ops.push_back(def);
  return lhs;
}

/// Finds the correction (see ColumnCorrection) in `epilogue`: the
/// accumulator's only use is `arith.subi %acc, %x`, %x computed from
/// constants and column-indexed constant tensors (evaluatePerColumn). The
/// copy is built before the epilogue.
std::optional<ColumnCorrection>
mlir::qlow::takeColumnCorrection(OpBuilder &b, const FusedEpilogue &epilogue,
                                 int64_t n) {
  linalg::GenericOp op = epilogue.op;
  if (epilogue.siblingInput)
    return std::nullopt;
  Block &body = op.getRegion().front();
  BlockArgument acc = body.getArgument(epilogue.accInput);
  if (!acc.hasOneUse())
    return std::nullopt;
  auto sub = dyn_cast<arith::SubIOp>(*acc.getUsers().begin());
  if (!sub || sub.getLhs() != acc || !sub.getType().isInteger(32))
    return std::nullopt;
  SmallVector<Operation *> ops;
  std::optional<SmallVector<uint32_t>> x =
      evaluatePerColumn(op, sub.getRhs(), n, ops);
  if (!x)
    return std::nullopt;
  ColumnCorrection correction;
  for (uint32_t v : *x)
    correction.values.push_back(static_cast<int32_t>(v));
  // What is left: the epilogue on `acc - x` becomes the epilogue on the
  // accumulator that already holds it; nothing when it only yields that.
  Operation *terminator = body.getTerminator();
  if (terminator->getOperand(0) == sub.getResult() &&
      cast<RankedTensorType>(op.getResult(0).getType())
          .getElementType()
          .isInteger(32) &&
      static_cast<size_t>(std::distance(body.begin(), body.end())) ==
          ops.size() + 2)
    return correction;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op);
  IRMapping mapping;
  auto copy = cast<linalg::GenericOp>(b.clone(*op, mapping));
  Operation *copySub = mapping.lookup(sub.getOperation());
  copySub->getResult(0).replaceAllUsesWith(
      copy.getRegion().front().getArgument(epilogue.accInput));
  copySub->erase();
  for (Operation *inner : llvm::reverse(ops))
    if (Operation *copied = mapping.lookupOrNull(inner);
        copied && copied->use_empty())
      copied->erase();
  correction.rest = copy;
  return correction;
}

namespace {

/// Builds the kernel that replaces `c` with the register tile `tile`: rows x
/// vectors of 4 i32 columns, sdot (`mmla` false) or smmla/usmmla.
Value buildNeonInt8Kernel(OpBuilder &b, Location loc, const Int8Contraction &c,
                          const MicroKernelShape &tile, int64_t rowBlock,
                          bool mmla, bool mergeRest,
                          std::optional<FusedEpilogue> epilogue,
                          Type outElement, ArrayRef<int32_t> correction) {
  const int64_t rows = tile.rows;
  const int64_t vectors = std::min(tile.vectors, (c.n + kLanes - 1) / kLanes);
  const int64_t nr = vectors * kLanes;
  const int64_t np = roundUp(c.n, nr);
  // sdot: `sdotBlocks` blocks of 16 bytes of K per iteration (each one
  // 16-byte activation load per row, used in 4 steps by element); two
  // unless K is short, so that the loop's own instructions (counter,
  // branch, address updates) are shared and the two 16-byte loads of a row
  // pair into one ldp. smmla: `mmlaSteps` steps of 8 bytes per iteration,
  // fewer for a short K, for the same reason. The data are packed for whole
  // iterations (K padded to `kp`), but the steps past K are not computed:
  // the loop runs the whole iterations and the remaining `kRestSteps` steps
  // (of 8 bytes for smmla, 4 for sdot) follow it once (K = 1000 with 4
  // steps of 8 per iteration: 31 iterations and one step, not 3 steps of
  // padding).
  int64_t mmlaSteps = 1, sdotBlocks = 1;
  if (mmla)
    mmlaSteps = c.k % 32 == 0 || c.k >= 128 ? 4 : c.k % 16 == 0 ? 2 : 1;
  else
    sdotBlocks = c.k % 32 == 0 || c.k >= 64 ? 2 : 1;
  const int64_t kBlock = mmla ? 8 * mmlaSteps : 16 * sdotBlocks;
  const int64_t kp = roundUp(c.k, kBlock);
  const int64_t stepBytes = mmla ? 8 : 4;
  const int64_t stepsPerIter = kBlock / stepBytes;
  const int64_t kSteps = (c.k + stepBytes - 1) / stepBytes;
  const int64_t kIters = kSteps / stepsPerIter,
                kRestSteps = kSteps % stepsPerIter;
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  auto accType = VectorType::get({kLanes}, i32);
  auto bytesType = VectorType::get({16}, i8);
  // smmla: row pairs are loaded in groups of `pairGroup` (one ld4 for 4
  // pairs), so M is padded to whole groups; column pairs in the groups of
  // interleaveGroups.
  // Tiles of 5 row pairs (fivePairTiles): a group of 4 and one pair.
  const bool fivePairs = mmla && rows == 10;
  const int64_t pairGroup = fivePairs ? 4
                            : mmla    ? pairGroupSize((rows + 1) / 2)
                                      : 1;
  const SmallVector<int64_t> colGroups =
      mmla ? interleaveGroups(2 * vectors) : SmallVector<int64_t>{};

  // smmla: the weights and packed activations of step t of an iteration in
  // their own tensors (t = step mod mmlaSteps; the weights' column groups
  // too), so that each of the iteration's ld4s has its own pointer that it
  // post-increments (ld4 has no immediate offset: loads at offsets of one
  // pointer cost an address instruction each).
  SmallVector<Value> packedW =
      packWeightsForNeon(b, loc, c, nr, kp, mmla, mmlaSteps);
  // sdot with u8 activations: a = (a ^ 0x80) + 128, so the accumulators
  // start at 128 * colsum(w) of their column.
  const bool shiftLhs = !mmla && !c.lhsSigned;
  // The accumulators' start per column (wrapping i32 arithmetic, as the
  // epilogue's subtraction would): minus the folded correction.
  SmallVector<uint32_t> init(np, 0);
  if (shiftLhs) {
    int64_t flat = 0;
    for (const APInt &v : c.weights.getValues<APInt>())
      init[flat++ % c.n] += 128u * static_cast<uint32_t>(v.getSExtValue());
  }
  for (auto [col, x] : llvm::enumerate(correction))
    init[col] -= static_cast<uint32_t>(x);
  auto initValues = [&](ArrayRef<uint32_t> words) {
    SmallVector<int32_t> values;
    for (uint32_t w : words)
      values.push_back(static_cast<int32_t>(w));
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({static_cast<int64_t>(values.size())}, i32),
            ArrayRef<int32_t>(values)));
  };
  Value initC = initValues(init);
  // smmla: the same start in the 2x2 blocks of column pairs (2j, 2j + 1):
  // [init(2j), init(2j + 1), init(2j), init(2j + 1)].
  Value initBlocks;
  if (mmla && !correction.empty()) {
    SmallVector<uint32_t> blocks;
    for (int64_t col = 0; col < np; col += 2)
      blocks.append({init[col], init[col + 1], init[col], init[col + 1]});
    initBlocks = initValues(blocks);
  }
  const int64_t mp = fivePairs ? roundUp(c.m, 10)
                     : mmla    ? roundUp(c.m, 2 * pairGroup)
                               : c.m;
  // smmla: the partial last row tile's pairs, when they are fewer than a
  // group and the tile is one group: that group is packed and loaded with
  // their own factor (ld1/ld2/ld3 of the real pairs, not an ld4 half of
  // padding).
  const int64_t restPairs = (c.m % rows + 1) / 2;
  const int64_t tailPairs =
      mmla && !fivePairs && pairGroup == (rows + 1) / 2 && restPairs < pairGroup
          ? restPairs
          : 0;
  SmallVector<Value> packedLhs;
  Value lhs;
  if (mmla)
    packedLhs = packLhsForMmla(b, loc, c.lhs, c.m, c.k, mp, kp, pairGroup,
                               tailPairs, mmlaSteps, fivePairs);
  else
    lhs = packLhsForSdot(b, loc, c.lhs, c.m, c.k, rows, kp, kBlock, shiftLhs);

  OpBuilder constants = b;
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(constants, loc, v).getResult();
  };
  Value out =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{c.m, np}, outElement);
  Value zeroAcc = arith::ConstantOp::create(b, loc, b.getZeroAttr(accType));
  Value padI32 = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  SmallVector<bool> inBounds = {true};

  // Row blocks x column panels: the scf.forall's independent iterations, as
  // in the x86 kernel (buildInt8KernelScaffold), which calls buildRowTile
  // for each register tile.

  // The K loop of a tile of `tileRows` rows starting at row `i`: returns the
  // accumulators, as rows x vectors row vectors of 4 columns.
  auto buildKLoop = [&](OpBuilder &rb, Value i, Value p, Value col0,
                        int64_t tileRows) -> SmallVector<Value> {
    if (!mmla) {
      // The tile's rows in the packed activations (i is a multiple of rows:
      // tiles and row blocks are).
      Value tile = arith::DivUIOp::create(rb, loc, i, idx(rows));
      SmallVector<Value> accs;
      for (int64_t r = 0; r < tileRows; ++r)
        for (int64_t j = 0; j < vectors; ++j) {
          Value col = arith::AddIOp::create(rb, loc, col0, idx(j * kLanes));
          accs.push_back(vector::TransferReadOp::create(
              rb, loc, accType, initC, ValueRange{col}, padI32, inBounds));
        }
      // The first `steps` steps of iteration kk.
      auto sdotSteps = [&](OpBuilder &kb, Location kl, Value kk,
                           SmallVector<Value> &next, int64_t steps) {
        for (int64_t h = 0; h < sdotBlocks && 4 * h < steps; ++h) {
          // One 16-byte load of each row's activations: 4 steps of K.
          SmallVector<Value> aRows;
          for (int64_t r = 0; r < tileRows; ++r) {
            Value bytes = vector::TransferReadOp::create(
                kb, kl, bytesType, lhs,
                ValueRange{tile, kk, idx(r), idx(16 * h)}, padI8, inBounds);
            aRows.push_back(vector::BitCastOp::create(kb, kl, accType, bytes));
          }
          for (int64_t t = 0; t < 4 && 4 * h + t < steps; ++t) {
            Value step = arith::AddIOp::create(
                kb, kl, arith::MulIOp::create(kb, kl, kk, idx(4 * sdotBlocks)),
                idx(4 * h + t));
            SmallVector<Value> w;
            for (int64_t j = 0; j < vectors; ++j)
              w.push_back(vector::TransferReadOp::create(
                  kb, kl, bytesType, packedW[0],
                  ValueRange{p, step, idx(j * 16)}, padI8, inBounds));
            for (int64_t r = 0; r < tileRows; ++r) {
              // Lane t of the row's bytes in every lane: LLVM selects
              // sdot by element.
              Value lane = vector::ShuffleOp::create(
                  kb, kl, aRows[r], aRows[r], ArrayRef<int64_t>{t, t, t, t});
              Value a = vector::BitCastOp::create(kb, kl, bytesType, lane);
              for (int64_t j = 0; j < vectors; ++j) {
                Value &slot = next[r * vectors + j];
                slot = arm_neon::SdotOp::create(kb, kl, accType, slot, w[j], a);
              }
            }
          }
        }
      };
      auto kLoop = scf::ForOp::create(
          rb, loc, idx(0), idx(kIters), idx(1), accs,
          [&](OpBuilder &kb, Location kl, Value kk, ValueRange acc) {
            SmallVector<Value> next(acc.begin(), acc.end());
            sdotSteps(kb, kl, kk, next, stepsPerIter);
            scf::YieldOp::create(kb, kl, next);
          });
      SmallVector<Value> result(kLoop.getResults());
      if (kRestSteps > 0)
        sdotSteps(rb, loc, idx(kIters), result, kRestSteps);
      return result;
    }
    // smmla: one accumulator per row pair and column pair (2x2 i32).
    const int64_t pairs = (tileRows + 1) / 2, colPairs = 2 * vectors;
    SmallVector<Value> accs(pairs * colPairs, zeroAcc);
    if (initBlocks)
      for (int64_t q = 0; q < pairs; ++q)
        for (int64_t j = 0; j < colPairs; ++j) {
          // Column pair col0 / 2 + j's block: 4 words from 2 * (col0 + 2j).
          Value at = arith::AddIOp::create(
              rb, loc, arith::MulIOp::create(rb, loc, col0, idx(2)),
              idx(4 * j));
          accs[q * colPairs + j] = vector::TransferReadOp::create(
              rb, loc, accType, initBlocks, ValueRange{at}, padI32, inBounds);
        }
    // The tile's first group of row pairs (its first row is a multiple of
    // 2 * pairGroup: tiles and row blocks are multiples of the tile's rows).
    // With five-pair tiles, the tile's index.
    Value group0 =
        arith::DivUIOp::create(rb, loc, i, idx(fivePairs ? 10 : 2 * pairGroup));
    // The tile's groups of row pairs: whole groups, and for the last tile
    // (partial, or a whole one with the rest merged in) of a matmul whose
    // last group is packed with its own factor, that group.
    SmallVector<int64_t> groupSizes;
    const bool tailGroup = (tailPairs && tileRows != rows) || fivePairs;
    if (fivePairs) {
      groupSizes = {4, 1};
    } else if (tailGroup) {
      groupSizes.assign(pairs / pairGroup, pairGroup);
      groupSizes.push_back(tailPairs);
    } else {
      groupSizes.assign((pairs + pairGroup - 1) / pairGroup, pairGroup);
    }
    // Steps [0, steps) of iteration kk: step kk * mmlaSteps + t is step kk
    // of part t.
    auto mmlaStepsOf = [&](OpBuilder &kb, Location kl, Value kk,
                           SmallVector<Value> &next, int64_t steps) {
      // One tail pair: the iteration's steps of it in one ld<steps>.
      SmallVector<Value> tailSteps;
      if (tailGroup && (tailPairs == 1 || fivePairs))
        tailSteps = readInterleavedGroup(
            kb, kl, packedLhs[mmlaSteps],
            ValueRange{fivePairs ? group0 : idx(0), kk, idx(0)}, steps);
      for (int64_t t = 0; t < steps; ++t) {
        Value step = kk;
        // The row pairs' registers, one ld<g> per group of pairs (the
        // last group of a partial tile may hold padding pairs); the tail
        // group from its own tensors.
        SmallVector<Value> a;
        for (auto [gi, g] : llvm::enumerate(groupSizes)) {
          if (tailGroup && gi + 1 == groupSizes.size() && !tailSteps.empty()) {
            a.push_back(tailSteps[t]);
            continue;
          }
          if (tailGroup && gi + 1 == groupSizes.size()) {
            llvm::append_range(
                a, readInterleavedGroup(kb, kl, packedLhs[mmlaSteps + t],
                                        ValueRange{idx(0), step, idx(0)}, g));
            continue;
          }
          Value group = arith::AddIOp::create(kb, kl, group0,
                                              idx(static_cast<int64_t>(gi)));
          llvm::append_range(
              a, readInterleavedGroup(kb, kl, packedLhs[t],
                                      ValueRange{group, step, idx(0)}, g));
        }
        // The column pairs' registers, one ld<g> per group.
        SmallVector<Value> w;
        for (auto [gi, g] : llvm::enumerate(colGroups))
          llvm::append_range(w, readInterleavedGroup(
                                    kb, kl, packedW[t * colGroups.size() + gi],
                                    ValueRange{p, step, idx(0)}, g));
        for (int64_t q = 0; q < pairs; ++q)
          for (int64_t j = 0; j < colPairs; ++j) {
            Value &slot = next[q * colPairs + j];
            slot = c.lhsSigned ? arm_neon::SmmlaOp::create(kb, kl, accType,
                                                           slot, a[q], w[j])
                                     .getResult()
                               : arm_neon::UsmmlaOp::create(kb, kl, accType,
                                                            slot, a[q], w[j])
                                     .getResult();
          }
      }
    };
    // K's last steps: after the loop, except in the tile with the tail
    // group (the last tile, after whole tiles), which takes them before its
    // loop, next to the previous tile's (its last steps' weights stay in
    // registers: 17x1000x1000 kept them through the loop on the stack).
    const bool restFirst = kRestSteps > 0 && tailGroup && !fivePairs;
    if (restFirst)
      mmlaStepsOf(rb, loc, idx(kIters), accs, kRestSteps);
    auto kLoop = scf::ForOp::create(
        rb, loc, idx(0), idx(kIters), idx(1), accs,
        [&](OpBuilder &kb, Location kl, Value kk, ValueRange acc) {
          SmallVector<Value> next(acc.begin(), acc.end());
          mmlaStepsOf(kb, kl, kk, next, mmlaSteps);
          scf::YieldOp::create(kb, kl, next);
        });
    SmallVector<Value> blocks(kLoop.getResults());
    if (kRestSteps > 0 && !restFirst)
      mmlaStepsOf(rb, loc, idx(kIters), blocks, kRestSteps);
    // Back to row vectors: blocks [r0c0 r0c1 r1c0 r1c1] of column pairs
    // (2j, 2j + 1) give row 2q = [0, 1, 4, 5] and row 2q+1 = [2, 3, 6, 7].
    // The odd row's shuffle (zip2) is built first: the even row's is then
    // the blocks' last use, which LLVM selects as an insert into the
    // first block in place (mov v.d[1]) instead of a copy and an insert.
    SmallVector<Value> rowsOut(tileRows * vectors);
    for (int64_t r = 0; r < tileRows; ++r)
      for (int64_t j = 0; j < vectors; ++j) {
        if (r % 2 == 0 && r + 1 < tileRows)
          continue; // Built with the odd row below.
        Value lo = blocks[(r / 2) * colPairs + 2 * j];
        Value hi = blocks[(r / 2) * colPairs + 2 * j + 1];
        if (r % 2 == 1)
          rowsOut[r * vectors + j] = vector::ShuffleOp::create(
              rb, loc, lo, hi, ArrayRef<int64_t>{2, 3, 6, 7});
        int64_t even = r - r % 2;
        rowsOut[even * vectors + j] = vector::ShuffleOp::create(
            rb, loc, lo, hi, ArrayRef<int64_t>{0, 1, 4, 5});
      }
    return rowsOut;
  };

  auto buildRowTile = [&](OpBuilder &rb, Location rl, Value i,
                          function_ref<Value()> localRow, Value p, Value col0,
                          int64_t tileRows, Value tileOut) -> Value {
    SmallVector<Value> accs = buildKLoop(rb, i, p, col0, tileRows);
    return storeAArch64RowTile(rb, rl, epilogue, accs, i, localRow(), col0,
                               tileRows, vectors, c.m, idx, tileOut);
  };
  return buildInt8KernelScaffold(b, loc, out, c.m, c.n, nr, rowBlock, rows,
                                 constants, idx, buildRowTile, mergeRest);
}

struct QlowAArch64Int8MatmulPass
    : qlow::impl::QlowAArch64Int8MatmulPassBase<QlowAArch64Int8MatmulPass> {
  using QlowAArch64Int8MatmulPassBase::QlowAArch64Int8MatmulPassBase;

  void runOnOperation() override {
    FailureOr<TargetDesc> desc = lookupKernelPassTarget(
        getOperation(), "qlow-aarch64-int8-matmul", "aarch64", cpu);
    if (failed(desc))
      return signalPassFailure();
    if (desc->int8Dot != Int8DotKind::NeonSdot &&
        desc->int8Dot != Int8DotKind::NeonI8mm)
      return; // Armv8.0: the contraction stays for the generic lowering.

    rewriteAArch64Int8Contractions(
        getOperation(),
        [&](IRRewriter &rewriter, Int8Contraction &c,
            const std::optional<FusedEpilogue> &applied, Type outElement,
            ArrayRef<int32_t> starts) {
          // One row: half of every smmla would multiply a padding row, so
          // sdot (which every i8mm CPU has) does the same work in as many
          // instructions without the packing.
          const bool mmla = desc->int8Dot == Int8DotKind::NeonI8mm && c.m > 1;
          MicroKernelShape tile = desc->chooseInt8Tile(c.m, c.n, c.k);
          int64_t rowBlock = desc->chooseInt8RowBlock(c.m, c.n, c.k, tile);
          // Tiles of 5 row pairs where the pairs come in fives (one row
          // block).
          const bool fivePairs =
              mmla && rowBlock >= c.m && fivePairTiles(*desc, c.m, c.n, tile);
          if (fivePairs)
            tile.rows = 10;
          // The rest of M joins the last whole tile where its registers
          // allow (one row block).
          const bool mergeRest = mmla && !fivePairs && rowBlock >= c.m &&
                                 desc->mergesInt8RowRest(c.m, c.n, tile);
          return buildNeonInt8Kernel(rewriter, c.op.getLoc(), c, tile,
                                     rowBlock, mmla, mergeRest, applied,
                                     outElement, starts);
        });
  }
};

} // namespace

void mlir::qlow::rewriteAArch64Int8Contractions(
    Operation *root, AArch64Int8KernelBuilder build) {
  SmallVector<Int8Contraction> found;
  root->walk([&](linalg::GenericOp op) {
    if (std::optional<Int8Contraction> c = matchInt8Contraction(op))
      found.push_back(*c);
  });
  IRRewriter rewriter(root->getContext());
  for (Int8Contraction &c : found) {
    // An earlier kernel may have replaced this contraction's lhs.
    c.lhs = c.op.getDpsInputs()[0];
    std::optional<FusedEpilogue> epilogue = matchEpilogue(c.op);
    Operation *anchor = kernelInsertionAnchor(c, epilogue);
    rewriter.setInsertionPointAfter(anchor);
    if (anchor == c.op)
      rewriter.setInsertionPoint(c.op);
    Type outElement =
        epilogue ? cast<RankedTensorType>(epilogue->op->getResult(0).getType())
                       .getElementType()
                 : rewriter.getI32Type();
    // The epilogue's column correction starts the accumulators instead.
    std::optional<FusedEpilogue> applied = epilogue;
    std::optional<ColumnCorrection> correction;
    if (epilogue)
      correction = takeColumnCorrection(rewriter, *epilogue, c.n);
    if (correction) {
      if (correction->rest)
        applied->op = correction->rest;
      else
        applied.reset();
    }
    Value result = build(rewriter, c, applied, outElement,
                         correction ? ArrayRef<int32_t>(correction->values)
                                    : ArrayRef<int32_t>());
    if (correction && correction->rest)
      rewriter.eraseOp(correction->rest);
    if (epilogue) {
      rewriter.replaceOp(epilogue->op, result);
      rewriter.eraseOp(c.op);
    } else {
      rewriter.replaceOp(c.op, result);
    }
  }
}

Value mlir::qlow::storeAArch64RowTile(
    OpBuilder &b, Location loc, const std::optional<FusedEpilogue> &epilogue,
    ArrayRef<Value> accs, Value row0, Value localRow0, Value col0,
    int64_t rows, int64_t vectors, int64_t m,
    function_ref<Value(int64_t)> idx, Value tileOut) {
  SmallVector<bool> inBounds = {true};
  for (int64_t r = 0; r < rows; ++r) {
    Value row = arith::AddIOp::create(b, loc, row0, idx(r));
    Value tileRow =
        localRow0 != row0
            ? arith::AddIOp::create(b, loc, localRow0, idx(r)).getResult()
            : row;
    for (int64_t j = 0; j < vectors; ++j) {
      Value value = accs[r * vectors + j];
      if (epilogue)
        value = applyEpilogue(
            b, loc, *epilogue, value, row,
            arith::AddIOp::create(b, loc, col0, idx(j * kLanes)), m, kLanes,
            idx);
      tileOut = vector::TransferWriteOp::create(
                    b, loc, value, tileOut,
                    ValueRange{tileRow, idx(j * kLanes)}, inBounds)
                    .getResult();
    }
  }
  return tileOut;
}
