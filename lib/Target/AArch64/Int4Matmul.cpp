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
// element over 4 steps instead of a 4-byte broadcast).
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Target/Int4Kernel.h"
#include "qlow/Target/Int8Kernel.h" // roundUp
#include "qlow/Target/AArch64/Passes.h"
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

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWAARCH64INT4MATMULPASS
#include "qlow/Target/AArch64/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

#define DEBUG_TYPE "qlow-aarch64-int4-matmul"

namespace {

/// Builds the kernel for `c` before `c.op` and returns its [M, N] f32 result.
///
/// Layout (data tiling at compile time): column panels of nr = vectors * 4
/// columns; for each panel and step s of 4 rows of K, nr * 2 bytes in which
/// the 16 bytes of vector pair (2v, 2v + 1) hold, in sdot's order (column,
/// then the 4 rows), the nibble of a column of vector 2v in the low half and
/// of vector 2v + 1 in the high half. One load, one and and one byte shift
/// give two weight registers; nibbles (0..15) and activations (symmetric
/// i8) are both s8 operands of sdot, so each group's sum is sum q * nibble =
/// sum q * (w - zw) + zpNibble * rowsum. After each group the kernel
/// subtracts zpNibble * rowsum, converts to f32 and adds (s_lhs * s_w[g, n])
/// * sum to f32 accumulators, in the reference's order.
Value buildInt4Kernel(OpBuilder &b, Location loc, Int4Matmul &c,
                      const TargetDesc &desc) {
  // 16 bytes of K per iteration of the step loop: one activation load per
  // row, used by element in 4 steps of 4.
  const int64_t lanes = desc.i32Lanes(), kStep = 4, kBlock = 16;
  const int64_t groupSize = c.params.groupSize, groups = c.params.groups;
  // Two vectors per packed load. The tile's f32 accumulators stay in
  // registers with its i32 sums when few rows fit anyway (decode, M = 1);
  // with more rows they live in the output tile (L1) and are updated once
  // per group, which leaves the registers to more rows of i32 sums: each
  // unpacked weight register then feeds more vpdpbusd. Both must leave the
  // weights of one step and a few temporaries room.
  const int64_t vectors =
      std::min<int64_t>(4, roundUp((c.n + lanes - 1) / lanes, 2));
  const int64_t registers = desc.vectorRegisters;
  // Each row also holds its 16 activation bytes of the iteration.
  const int64_t registerRows =
      std::max<int64_t>(1, (registers - vectors - 3) / (2 * vectors + 1));
  const int64_t memoryRows =
      std::max<int64_t>(1, (registers - vectors - 3) / (vectors + 1));
  // Vector instructions per step of 4 along K: loads, unpacking (one and and
  // one shift per load), a quarter of a row load per row and the dot
  // products; the share of dot products, discounted by the rows of padding,
  // picks the tile.
  auto score = [&](int64_t r) {
    double ops = vectors / 2.0 + vectors + r / 4.0 + r * vectors;
    return (r * vectors / ops) * c.m / static_cast<double>(roundUp(c.m, r));
  };
  int64_t rows = std::min(registerRows, c.m);
  bool inMemory = false;
  for (int64_t r = 1; r <= std::min(memoryRows, c.m); ++r)
    if (score(r) > score(rows) * 1.02) {
      rows = r;
      inMemory = true;
    }
  const int64_t nr = vectors * lanes;
  const int64_t mp = roundUp(c.m, rows), np = roundUp(c.n, nr);
  const int64_t panels = np / nr;
  const int64_t blocksPerGroup = groupSize / kBlock;
  const int64_t pairBytes = lanes * kStep; // bytes of one packed load
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();

  Int4PackedWeights packedWeights =
      packInt4Weights(b, loc, c, nr, lanes, kStep);
  Value packedW = packedWeights.nibbles;
  Value scaleTable = packedWeights.scales;

  // Activations: quantized at run time, their sums per row and group, and
  // rows padded to the tile.
  Int4Activations activations = buildInt4Activations(b, loc, c, mp);
  const DynamicQuantized &a = activations.quantized;
  Value rowSums = activations.rowSums, q = activations.padded;

  OpBuilder constants = b;
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(constants, loc, v).getResult();
  };
  auto accType = VectorType::get({lanes}, i32);
  auto floatType = VectorType::get({lanes}, f32);
  auto bytesType = VectorType::get({pairBytes}, i8);
  Value out = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{mp, np}, f32);
  Value lowMask = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(bytesType, b.getI8IntegerAttr(0x0F)));
  Value four = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(bytesType, b.getI8IntegerAttr(4)));
  Value zeroI32 = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getI32IntegerAttr(0)));
  Value zeroF32 = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(floatType, b.getF32FloatAttr(0.0f)));
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  Value padF32 = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value zpNibble =
      arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(c.zpNibble));
  Value bias = c.op.getBias();
  SmallVector<bool> inBounds = {true};

  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(panels)}, ValueRange{out},
      std::nullopt);
  constants.setInsertionPoint(forall);
  OpBuilder pb = OpBuilder::atBlockBegin(forall.getBody());
  Value p = forall.getInductionVars()[0];
  Value shared = forall.getRegionIterArgs()[0];
  Value col0 = arith::MulIOp::create(pb, loc, p, idx(nr));
  SmallVector<OpFoldResult> panelOffsets = {pb.getIndexAttr(0), col0};
  SmallVector<OpFoldResult> panelSizes = {pb.getIndexAttr(mp),
                                          pb.getIndexAttr(nr)};
  SmallVector<OpFoldResult> unitStrides = {pb.getIndexAttr(1),
                                           pb.getIndexAttr(1)};
  Value panel = tensor::ExtractSliceOp::create(
      pb, loc, RankedTensorType::get({mp, nr}, f32), shared, panelOffsets,
      panelSizes, unitStrides);
  auto rowLoop = scf::ForOp::create(
      pb, loc, idx(0), idx(mp), idx(rows), ValueRange{panel},
      [&](OpBuilder &rb, Location rl, Value i, ValueRange rArgs) {
        // Rows past M read the zero padding of q and the parameters of the
        // last real row; their results are sliced away.
        SmallVector<Value> clamped;
        for (int64_t r = 0; r < rows; ++r)
          clamped.push_back(arith::MinSIOp::create(
              rb, rl, arith::AddIOp::create(rb, rl, i, idx(r)), idx(c.m - 1)));
        SmallVector<Value> rowScales;
        for (int64_t r = 0; r < rows; ++r)
          rowScales.push_back(vector::BroadcastOp::create(
              rb, rl, floatType,
              tensor::ExtractOp::create(rb, rl, a.scale,
                                        ValueRange{clamped[r]})));
        // The f32 accumulators: registers (loop-carried vectors), or the
        // output tile itself, zeroed first.
        Value tile = rArgs[0];
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
        auto groupLoop = scf::ForOp::create(
            rb, rl, idx(0), idx(groups), idx(1), facc,
            [&](OpBuilder &gb, Location gl, Value g, ValueRange fIn) {
              Value s0 = arith::MulIOp::create(gb, gl, g, idx(blocksPerGroup));
              Value s1 = arith::AddIOp::create(gb, gl, s0, idx(blocksPerGroup));
              SmallVector<Value> iacc(rows * vectors, zeroI32);
              auto stepLoop = scf::ForOp::create(
                  gb, gl, s0, s1, idx(1), iacc,
                  [&](OpBuilder &kb, Location kl, Value s, ValueRange acc) {
                    // 16 bytes of each row: 4 steps of K.
                    Value kByte = arith::MulIOp::create(kb, kl, s, idx(kBlock));
                    SmallVector<Value> aRows;
                    for (int64_t r = 0; r < rows; ++r) {
                      Value row = arith::AddIOp::create(kb, kl, i, idx(r));
                      aRows.push_back(vector::BitCastOp::create(
                          kb, kl, accType,
                          vector::TransferReadOp::create(kb, kl, bytesType, q,
                                                         ValueRange{row, kByte},
                                                         padI8, inBounds)));
                    }
                    SmallVector<Value> next(acc.begin(), acc.end());
                    for (int64_t t = 0; t < kBlock / kStep; ++t) {
                      Value step = arith::AddIOp::create(
                          kb, kl,
                          arith::MulIOp::create(kb, kl, s, idx(kBlock / kStep)),
                          idx(t));
                      SmallVector<Value> w;
                      for (int64_t v = 0; v < vectors / 2; ++v) {
                        Value raw = vector::TransferReadOp::create(
                            kb, kl, bytesType, packedW,
                            ValueRange{p, step, idx(v * pairBytes)}, padI8,
                            inBounds);
                        w.push_back(
                            arith::AndIOp::create(kb, kl, raw, lowMask));
                        w.push_back(arith::ShRUIOp::create(kb, kl, raw, four));
                      }
                      for (int64_t r = 0; r < rows; ++r) {
                        // Lane t of the row's bytes in every lane: LLVM
                        // selects sdot by element.
                        Value lane = vector::ShuffleOp::create(
                            kb, kl, aRows[r], aRows[r],
                            ArrayRef<int64_t>{t, t, t, t});
                        Value act =
                            vector::BitCastOp::create(kb, kl, bytesType, lane);
                        for (int64_t v = 0; v < vectors; ++v) {
                          Value &slot = next[r * vectors + v];
                          slot = arm_neon::SdotOp::create(kb, kl, accType, slot,
                                                          w[v], act);
                        }
                      }
                    }
                    scf::YieldOp::create(kb, kl, next);
                  });
              // The group's exact sums, scaled and added in f32.
              SmallVector<Value> fOut;
              Value tileIn = inMemory ? fIn[0] : Value();
              for (int64_t r = 0; r < rows; ++r) {
                Value row = arith::AddIOp::create(gb, gl, i, idx(r));
                Value correction;
                if (rowSums) {
                  Value sum = tensor::ExtractOp::create(
                      gb, gl, rowSums, ValueRange{clamped[r], g});
                  correction = vector::BroadcastOp::create(
                      gb, gl, accType,
                      arith::MulIOp::create(gb, gl, sum, zpNibble));
                }
                for (int64_t v = 0; v < vectors; ++v) {
                  Value sum = stepLoop.getResult(r * vectors + v);
                  if (correction)
                    sum = arith::SubIOp::create(gb, gl, sum, correction);
                  Value sw = vector::TransferReadOp::create(
                      gb, gl, floatType, scaleTable,
                      ValueRange{p, g, idx(v * lanes)}, padF32, inBounds);
                  Value scale = arith::MulFOp::create(gb, gl, rowScales[r], sw);
                  Value term = arith::MulFOp::create(
                      gb, gl, scale,
                      arith::SIToFPOp::create(gb, gl, floatType, sum));
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
        if (inMemory)
          tile = groupLoop.getResult(0);
        for (int64_t r = 0; r < rows; ++r) {
          Value row = arith::AddIOp::create(rb, rl, i, idx(r));
          for (int64_t v = 0; v < vectors; ++v) {
            if (inMemory && !bias)
              continue; // Already in place.
            SmallVector<Value, 2> at = {row, idx(v * lanes)};
            Value value =
                inMemory ? vector::TransferReadOp::create(
                               rb, rl, floatType, tile, at, padF32, inBounds)
                               .getResult()
                         : groupLoop.getResult(r * vectors + v);
            if (bias) {
              // The last panel runs past N: a masked read.
              Value col = arith::AddIOp::create(rb, rl, col0, idx(v * lanes));
              value = arith::AddFOp::create(
                  rb, rl, value,
                  vector::TransferReadOp::create(rb, rl, floatType, bias,
                                                 ValueRange{col}, padF32,
                                                 SmallVector<bool>{false}));
            }
            tile = vector::TransferWriteOp::create(rb, rl, value, tile, at,
                                                   inBounds)
                       .getResult();
          }
        }
        scf::YieldOp::create(rb, rl, tile);
      });
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(tb, loc, rowLoop.getResult(0), shared,
                                        panelOffsets, panelSizes, unitStrides);

  Value result = forall.getResult(0);
  if (mp != c.m || np != c.n)
    result = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({c.m, c.n}, f32), result,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(c.m), b.getIndexAttr(c.n)},
        unitStrides);
  return result;
}

struct QlowAArch64Int4MatmulPass
    : qlow::impl::QlowAArch64Int4MatmulPassBase<QlowAArch64Int4MatmulPass> {
  using QlowAArch64Int4MatmulPassBase::QlowAArch64Int4MatmulPassBase;

  void runOnOperation() override {
    FailureOr<TargetDesc> desc =
        lookupKernelPassTarget(getOperation(), "qlow-aarch64-int4-matmul", "aarch64", cpu);
    if (failed(desc))
      return signalPassFailure();
    if (desc->int8Dot != Int8DotKind::NeonSdot &&
        desc->int8Dot != Int8DotKind::NeonI8mm)
      return; // No sdot: convert-qlow-to-linalg lowers these matmuls.
    // Groups of at least two iterations of 16 bytes: with one, LLVM
    // unrolls the step loop into the group's f32 update and spills.
    rewriteInt4Matmuls(getOperation(), /*kStep=*/32, report,
                       [&](OpBuilder &b, Location loc, Int4Matmul &c) {
                         return buildInt4Kernel(b, loc, c, *desc);
                       });
  }
};

} // namespace
