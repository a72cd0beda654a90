//===- Int8Matmul.cpp - int8 contractions to NEON sdot / smmla kernels ----===//
//
// qlow-aarch64-int8-matmul: the register-tiled int8 matmul kernel for
// AArch64, built from vector ops and the arm_neon dialect's intrinsic ops
// (sdot with dotprod, smmla/usmmla with i8mm), every size from the
// TargetDesc. Recognising the contraction and its epilogue, and applying the
// epilogue to accumulator vectors, are shared with x86 (Int8Kernel.h).
//
//===----------------------------------------------------------------------===//

#include "qlow/Target/AArch64/Passes.h"
#include "qlow/Target/Int8Kernel.h"
#include "qlow/Target/TargetDesc.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "qlow-aarch64-int8-matmul"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWAARCH64INT8MATMULPASS
#include "qlow/Target/AArch64/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

namespace {

/// i32 lanes of a NEON register.
constexpr int64_t kLanes = 4;

/// Packs the constant weights of `c` at compile time for panels of `nr`
/// columns, `kStep` bytes of K per step, K padded to `kp`:
///
///  * sdot (`mmla` false): packed[p][s][col * 4 + t] = w[4s + t][p*nr + col];
///  * smmla (`mmla` true): packed[p][s][pair * 16 + c * 8 + t] =
///    w[8s + t][p*nr + 2*pair + c], the 8x2 block of columns (2 pair,
///    2 pair + 1) that smmla's second operand holds as two rows of 8 bytes.
///
/// Zero outside w. Returns the packed bytes as a
/// [panels][kp / kStep][nr * kStep] tensor constant.
Value packWeightsForNeon(OpBuilder &b, Location loc, const Int8Contraction &c,
                         int64_t nr, int64_t kp, bool mmla) {
  const int64_t kStep = mmla ? 8 : 4;
  const int64_t kSteps = kp / kStep, panels = roundUp(c.n, nr) / nr;
  SmallVector<int8_t> packed(panels * kSteps * nr * kStep, 0);
  auto values = c.weights.getValues<APInt>();
  int64_t flat = 0;
  for (const APInt &v : values) {
    int64_t kk = flat / c.n, col = flat % c.n;
    ++flat;
    int64_t p = col / nr, inPanel = col % nr, s = kk / kStep, t = kk % kStep;
    int64_t at = (p * kSteps + s) * nr * kStep;
    if (mmla)
      at += (inPanel / 2) * 16 + (inPanel % 2) * 8 + t;
    else
      at += inPanel * 4 + t;
    packed[at] = static_cast<int8_t>(v.getSExtValue());
  }
  auto type =
      RankedTensorType::get({panels, kSteps, nr * kStep}, b.getI8Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(packed)));
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

/// The activations in the layout smmla reads: [mp/2][kp/8][16], pairs of
/// rows with 8 bytes of K each (row 2q at bytes 0..7, row 2q+1 at 8..15): the
/// layout of a `linalg.pack` with inner tiles [2, 8]. Built as loops that
/// move 8 bytes at a time (upstream's lowering of linalg.pack, a transpose,
/// becomes a byte-by-byte loop nest, which cost more than the kernel at
/// N = 256).
Value packLhsForMmla(OpBuilder &b, Location loc, Value lhs, int64_t m,
                     int64_t k, int64_t mp, int64_t kp) {
  Type i8 = b.getI8Type();
  Value padded = padLhs(b, loc, lhs, m, k, mp, kp);
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{mp / 2, kp / 8, 16}, i8);
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value zero = idx(0), one = idx(1), two = idx(2), eight = idx(8);
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  auto halfType = VectorType::get({8}, i8);
  SmallVector<bool> inBounds = {true};
  SmallVector<int64_t> concat;
  for (int64_t l = 0; l < 16; ++l)
    concat.push_back(l);
  auto pairs = scf::ForOp::create(
      b, loc, zero, idx(mp / 2), one, ValueRange{init},
      [&](OpBuilder &qb, Location ql, Value q, ValueRange qArgs) {
        Value row0 = arith::MulIOp::create(qb, ql, q, two);
        Value row1 = arith::AddIOp::create(qb, ql, row0, one);
        auto steps = scf::ForOp::create(
            qb, ql, zero, idx(kp / 8), one, qArgs,
            [&](OpBuilder &sb, Location sl, Value st, ValueRange sArgs) {
              Value col = arith::MulIOp::create(sb, sl, st, eight);
              Value lo = vector::TransferReadOp::create(
                  sb, sl, halfType, padded, ValueRange{row0, col}, padI8,
                  inBounds);
              Value hi = vector::TransferReadOp::create(
                  sb, sl, halfType, padded, ValueRange{row1, col}, padI8,
                  inBounds);
              Value both = vector::ShuffleOp::create(sb, sl, lo, hi, concat);
              Value next =
                  vector::TransferWriteOp::create(
                      sb, sl, both, sArgs[0], ValueRange{q, st, zero}, inBounds)
                      .getResult();
              scf::YieldOp::create(sb, sl, next);
            });
        scf::YieldOp::create(qb, ql, steps.getResult(0));
      });
  return pairs.getResult(0);
}

/// s8 activations `a - 128` for u8 `a` (the sign bit flipped), computed once
/// before an sdot kernel rather than once per column panel in its K loop.
Value shiftLhsToSigned(OpBuilder &b, Location loc, Value lhs) {
  auto type = cast<RankedTensorType>(lhs.getType());
  Value init =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  AffineMap identity = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, type, ValueRange{lhs}, ValueRange{init},
             ArrayRef<AffineMap>{identity, identity}, iterators,
             [](OpBuilder &gb, Location gl, ValueRange args) {
               Value flip = arith::ConstantOp::create(
                   gb, gl, gb.getI8IntegerAttr(static_cast<int8_t>(0x80)));
               linalg::YieldOp::create(
                   gb, gl,
                   ValueRange{arith::XOrIOp::create(gb, gl, args[0], flip)});
             })
      ->getResult(0);
}

/// Builds the kernel that replaces `c` with the register tile `tile`: rows x
/// vectors of 4 i32 columns, sdot (`mmla` false) or smmla/usmmla.
Value buildNeonInt8Kernel(OpBuilder &b, Location loc, const Int8Contraction &c,
                          const MicroKernelShape &tile, int64_t rowBlock,
                          bool mmla, std::optional<FusedEpilogue> epilogue) {
  const int64_t rows = tile.rows;
  const int64_t vectors = std::min(tile.vectors, (c.n + kLanes - 1) / kLanes);
  const int64_t nr = vectors * kLanes;
  const int64_t np = roundUp(c.n, nr);
  // sdot: 16 bytes of K per iteration (one activation load per row, used in
  // 4 steps by element); smmla: `mmlaSteps` steps of 8 bytes per iteration,
  // fewer where that would pad K by much, so that the loop's own
  // instructions (counter, branch, address updates) and the activation loads
  // (consecutive steps of a row pair are adjacent: ldp) are shared.
  int64_t mmlaSteps = 1;
  if (mmla)
    mmlaSteps = c.k % 32 == 0 || c.k >= 512   ? 4
                : c.k % 16 == 0 || c.k >= 128 ? 2
                                              : 1;
  const int64_t kBlock = mmla ? 8 * mmlaSteps : 16;
  const int64_t kp = roundUp(c.k, kBlock), kIters = kp / kBlock;
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  auto accType = VectorType::get({kLanes}, i32);
  auto bytesType = VectorType::get({16}, i8);

  Value packedW = packWeightsForNeon(b, loc, c, nr, kp, mmla);
  // sdot with u8 activations: a = (a ^ 0x80) + 128, so the accumulators
  // start at 128 * colsum(w) of their column.
  const bool shiftLhs = !mmla && !c.lhsSigned;
  SmallVector<int32_t> init(np, 0);
  if (shiftLhs) {
    int64_t flat = 0;
    for (const APInt &v : c.weights.getValues<APInt>())
      init[flat++ % c.n] += 128 * static_cast<int32_t>(v.getSExtValue());
  }
  Value initC = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({np}, i32),
                             ArrayRef<int32_t>(init)));
  const int64_t mp = mmla ? roundUp(c.m, 2) : c.m;
  Value lhs = c.lhs;
  if (shiftLhs)
    lhs = shiftLhsToSigned(b, loc, lhs);
  lhs = mmla ? packLhsForMmla(b, loc, lhs, c.m, c.k, mp, kp)
             : padLhs(b, loc, lhs, c.m, c.k, c.m, kp);

  OpBuilder constants = b;
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(constants, loc, v).getResult();
  };
  Type outElement =
      epilogue ? cast<RankedTensorType>(epilogue->op->getResult(0).getType())
                     .getElementType()
               : i32;
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
      SmallVector<Value> accs;
      for (int64_t r = 0; r < tileRows; ++r)
        for (int64_t j = 0; j < vectors; ++j) {
          Value col = arith::AddIOp::create(rb, loc, col0, idx(j * kLanes));
          accs.push_back(vector::TransferReadOp::create(
              rb, loc, accType, initC, ValueRange{col}, padI32, inBounds));
        }
      auto kLoop = scf::ForOp::create(
          rb, loc, idx(0), idx(kIters), idx(1), accs,
          [&](OpBuilder &kb, Location kl, Value kk, ValueRange acc) {
            SmallVector<Value> next(acc.begin(), acc.end());
            Value kByte = arith::MulIOp::create(kb, kl, kk, idx(kBlock));
            // One 16-byte load of each row's activations: 4 steps of K.
            SmallVector<Value> aRows;
            for (int64_t r = 0; r < tileRows; ++r) {
              Value row = arith::AddIOp::create(kb, kl, i, idx(r));
              Value bytes = vector::TransferReadOp::create(
                  kb, kl, bytesType, lhs, ValueRange{row, kByte}, padI8,
                  inBounds);
              aRows.push_back(
                  vector::BitCastOp::create(kb, kl, accType, bytes));
            }
            for (int64_t t = 0; t < 4; ++t) {
              Value step = arith::AddIOp::create(
                  kb, kl, arith::MulIOp::create(kb, kl, kk, idx(4)), idx(t));
              SmallVector<Value> w;
              for (int64_t j = 0; j < vectors; ++j)
                w.push_back(vector::TransferReadOp::create(
                    kb, kl, bytesType, packedW,
                    ValueRange{p, step, idx(j * 16)}, padI8, inBounds));
              for (int64_t r = 0; r < tileRows; ++r) {
                // Lane t of the row's bytes in every lane: LLVM selects
                // sdot by element.
                Value lane = vector::ShuffleOp::create(
                    kb, kl, aRows[r], aRows[r], ArrayRef<int64_t>{t, t, t, t});
                Value a = vector::BitCastOp::create(kb, kl, bytesType, lane);
                for (int64_t j = 0; j < vectors; ++j) {
                  Value &slot = next[r * vectors + j];
                  slot =
                      arm_neon::SdotOp::create(kb, kl, accType, slot, w[j], a);
                }
              }
            }
            scf::YieldOp::create(kb, kl, next);
          });
      return SmallVector<Value>(kLoop.getResults());
    }
    // smmla: one accumulator per row pair and column pair (2x2 i32).
    const int64_t pairs = (tileRows + 1) / 2, colPairs = 2 * vectors;
    SmallVector<Value> accs(pairs * colPairs, zeroAcc);
    Value pair0 = arith::DivUIOp::create(rb, loc, i, idx(2));
    auto kLoop = scf::ForOp::create(
        rb, loc, idx(0), idx(kIters), idx(1), accs,
        [&](OpBuilder &kb, Location kl, Value kk, ValueRange acc) {
          SmallVector<Value> next(acc.begin(), acc.end());
          for (int64_t t = 0; t < mmlaSteps; ++t) {
            Value step = arith::AddIOp::create(
                kb, kl, arith::MulIOp::create(kb, kl, kk, idx(mmlaSteps)),
                idx(t));
            SmallVector<Value> w;
            for (int64_t j = 0; j < colPairs; ++j)
              w.push_back(vector::TransferReadOp::create(
                  kb, kl, bytesType, packedW, ValueRange{p, step, idx(j * 16)},
                  padI8, inBounds));
            for (int64_t q = 0; q < pairs; ++q) {
              Value pairIndex = arith::AddIOp::create(kb, kl, pair0, idx(q));
              Value a = vector::TransferReadOp::create(
                  kb, kl, bytesType, lhs, ValueRange{pairIndex, step, idx(0)},
                  padI8, inBounds);
              for (int64_t j = 0; j < colPairs; ++j) {
                Value &slot = next[q * colPairs + j];
                slot = c.lhsSigned ? arm_neon::SmmlaOp::create(kb, kl, accType,
                                                               slot, a, w[j])
                                         .getResult()
                                   : arm_neon::UsmmlaOp::create(kb, kl, accType,
                                                                slot, a, w[j])
                                         .getResult();
              }
            }
          }
          scf::YieldOp::create(kb, kl, next);
        });
    // Back to row vectors: blocks [r0c0 r0c1 r1c0 r1c1] of column pairs
    // (2j, 2j + 1) give row 2q = [0, 1, 4, 5] and row 2q+1 = [2, 3, 6, 7].
    SmallVector<Value> rowsOut;
    for (int64_t r = 0; r < tileRows; ++r)
      for (int64_t j = 0; j < vectors; ++j) {
        Value lo = kLoop.getResult((r / 2) * colPairs + 2 * j);
        Value hi = kLoop.getResult((r / 2) * colPairs + 2 * j + 1);
        SmallVector<int64_t> mask = r % 2 == 0
                                        ? SmallVector<int64_t>{0, 1, 4, 5}
                                        : SmallVector<int64_t>{2, 3, 6, 7};
        rowsOut.push_back(vector::ShuffleOp::create(rb, loc, lo, hi, mask));
      }
    return rowsOut;
  };

  auto buildRowTile = [&](OpBuilder &rb, Location rl, Value i,
                          function_ref<Value()> localRow, Value p, Value col0,
                          int64_t tileRows, Value tileOut) -> Value {
    SmallVector<Value> accs = buildKLoop(rb, i, p, col0, tileRows);
    Value local = localRow();
    for (int64_t r = 0; r < tileRows; ++r) {
      Value row = arith::AddIOp::create(rb, rl, i, idx(r));
      Value tileRow =
          local != i ? arith::AddIOp::create(rb, rl, local, idx(r)).getResult()
                     : row;
      for (int64_t j = 0; j < vectors; ++j) {
        Value value = accs[r * vectors + j];
        if (epilogue)
          value = applyEpilogue(
              rb, rl, *epilogue, value, row,
              arith::AddIOp::create(rb, rl, col0, idx(j * kLanes)), c.m, kLanes,
              idx);
        tileOut = vector::TransferWriteOp::create(
                      rb, rl, value, tileOut,
                      ValueRange{tileRow, idx(j * kLanes)}, inBounds)
                      .getResult();
      }
    }
    return tileOut;
  };
  return buildInt8KernelScaffold(b, loc, out, c.m, c.n, nr, rowBlock, rows,
                                 constants, idx, buildRowTile);
}

struct QlowAArch64Int8MatmulPass
    : qlow::impl::QlowAArch64Int8MatmulPassBase<QlowAArch64Int8MatmulPass> {
  using QlowAArch64Int8MatmulPassBase::QlowAArch64Int8MatmulPassBase;

  void runOnOperation() override {
    std::string error;
    FailureOr<TargetDesc> desc = lookupTargetDesc("aarch64", cpu, &error);
    if (failed(desc)) {
      getOperation().emitError() << error;
      return signalPassFailure();
    }
    if (!desc->isAArch64()) {
      getOperation().emitError()
          << "qlow-aarch64-int8-matmul needs an aarch64 CPU; '" << desc->name
          << "' is " << desc->arch;
      return signalPassFailure();
    }
    if (desc->int8Dot != Int8DotKind::NeonSdot &&
        desc->int8Dot != Int8DotKind::NeonI8mm)
      return; // Armv8.0: the contraction stays for the generic lowering.

    SmallVector<Int8Contraction> found;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Int8Contraction> c = matchInt8Contraction(op))
        found.push_back(*c);
    });
    IRRewriter rewriter(&getContext());
    for (Int8Contraction &c : found) {
      // An earlier kernel may have replaced this contraction's lhs.
      c.lhs = c.op.getDpsInputs()[0];
      std::optional<FusedEpilogue> epilogue = matchEpilogue(c.op);
      Operation *anchor = kernelInsertionAnchor(c, epilogue);
      rewriter.setInsertionPointAfter(anchor);
      if (anchor == c.op)
        rewriter.setInsertionPoint(c.op);
      // One row: half of every smmla would multiply a padding row, so sdot
      // (which every i8mm CPU has) does the same work in as many
      // instructions without the packing.
      const bool mmla = desc->int8Dot == Int8DotKind::NeonI8mm && c.m > 1;
      MicroKernelShape tile = desc->chooseInt8Tile(c.m, c.n, c.k);
      int64_t rowBlock = desc->chooseInt8RowBlock(c.m, c.n, c.k, tile);
      Value result = buildNeonInt8Kernel(rewriter, c.op.getLoc(), c, tile,
                                         rowBlock, mmla, epilogue);
      if (epilogue) {
        rewriter.replaceOp(epilogue->op, result);
        rewriter.eraseOp(c.op);
      } else {
        rewriter.replaceOp(c.op, result);
      }
    }
  }
};

} // namespace
