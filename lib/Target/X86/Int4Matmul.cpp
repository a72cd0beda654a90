//===- Int4Matmul.cpp - int4 weight-only matmuls to int8 dot kernels ------===//
//
// An int4 weight-only matmul (f32 activations quantized per row at run time,
// 4-bit weights with a scale per group of K rows and column) becomes a
// register-tiled kernel that streams the weights packed two per byte and
// unpacks them in registers. Upstream has no 4-bit dot product and no pass
// that packs nibbles for one, so the kernel is built here from vector ops and
// the qlow_x86.dot_u8s8 kernel op, with sizes from the TargetDesc. The
// activations' dynamic quantization and row sums are the same linalg
// generics convert-qlow-to-linalg builds (buildDynamicQuantize), so both
// paths compute the same values bit for bit.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/IR/QlowOps.h"
#include "dialects/QlowX86/IR/QlowX86Dialect.h"
#include "qlow/Target/Int4Kernel.h"
#include "qlow/Target/Int8Kernel.h" // roundUp
#include "qlow/Target/TargetDesc.h"
#include "qlow/Target/X86/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWX86INT4MATMULPASS
#include "qlow/Target/X86/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

namespace {

/// Builds the kernel for `c` before `c.op` and returns its [M, N] f32 result.
///
/// Layout (data tiling at compile time): column panels of nr = vectors *
/// lanes columns; for each panel and step s of 4 rows of K, nr * 2 bytes in
/// which the bytes of vector pair (2v, 2v + 1) hold, in VNNI order (column,
/// then the 4 rows), the nibble of a column of vector 2v in the low half and
/// of vector 2v + 1 in the high half. One load and three ALU ops (shift, two
/// ands) give two weight registers; the nibbles (0..15) are the unsigned
/// operand of vpdpbusd and the activations, symmetric i8, the signed one, so
/// each group's sum is sum q * nibble = sum q * (w - zw) + zpNibble * rowsum.
/// After each group the kernel subtracts zpNibble * rowsum, converts to f32
/// and adds (s_lhs * s_w[g, n]) * sum to f32 accumulators that stay in
/// registers for the whole K loop, in the reference's order.
///
/// 8-bit weights of any range (Int4Matmul::bytePlanes) are whole bytes
/// w - base (0..255), one byte per weight, `[N/nr][K/4][nr*4]`. With VNNI
/// they are vpdpbusd's unsigned operand as they are, against the activations
/// whole: vpdpbusd adds its u8 x s8 products in i32 without saturating, so
/// one dot product per weight is exact, and the sum is corrected by
/// zpNibble * rowsum as for nibbles. AVX2's vpmaddubsw saturates on such
/// bytes: there the activations are split into two planes instead (below).
Value buildInt4Kernel(OpBuilder &b, Location loc, Int4Matmul &c,
                      const TargetDesc &desc) {
  const int64_t lanes = desc.i32Lanes(), kStep = 4;
  // AVX2 without VNNI: vpmaddubsw (qlow_x86.pair_sums_u8s8) takes
  // vpdpbusd's place, its i16 pair sums added over chunks of steps (see
  // `chunk` below).
  const bool vnni = desc.hasVnni();
  const int64_t groupSize = c.params.groupSize, groups = c.params.groups;
  // Two vectors per packed load. The tile's f32 accumulators stay in
  // registers with its i32 sums when few rows fit anyway (decode, M = 1);
  // with more rows they live in the output tile (L1) and are updated once
  // per group, which leaves the registers to more rows of i32 sums: each
  // unpacked weight register then feeds more vpdpbusd. Both must leave the
  // weights of one step and a few temporaries room.
  //
  // With bytePlanes (8-bit weights of any range) and VNNI (wholeBytes), each
  // weight vector is one loaded register of bytes w - base (0..255) and one
  // dot product. On AVX2 (twoPlanes) the bytes
  // are the unsigned operand as they are, and the activations are split
  // into two planes of signed nibbles, a = 16 * (a >> 4) + ((a & 15) - 8) +
  // 8, so each weight vector has two sums (`vectors` counts both): high
  // plane and low plane, added per group as 16 * high + low + 8 * sum(w)
  // (the last a compile-time table). |plane| <= 8, so a vpmaddubsw pair is
  // at most 255 * 8 * 2 = 4080 and never saturates, and 8 of them add in
  // i16. No unpacking: the loaded bytes feed both dot products.
  const bool twoPlanes = c.bytePlanes && !vnni;
  const bool wholeBytes = c.bytePlanes && vnni;
  const int64_t planes = twoPlanes ? 2 : 1;
  const int64_t columnVectors = (c.n + lanes - 1) / lanes;
  const int64_t vectors =
      twoPlanes    ? 2 * std::min<int64_t>(2, columnVectors)
      : wholeBytes ? std::min<int64_t>(4, columnVectors)
                   : std::min<int64_t>(4, roundUp(columnVectors, 2));
  // The f32 sums and the output columns: one vector per weight vector.
  const int64_t outVectors = vectors / planes;
  const int64_t registers = desc.vectorRegisters;
  const int64_t registerRows =
      std::max<int64_t>(1, (registers - vectors - 4) / (2 * vectors));
  const int64_t memoryRows =
      std::max<int64_t>(1, (registers - vectors - 3) / vectors);
  // Vector instructions per step of 4 along K: loads, unpacking, row
  // broadcasts and dot products, plus each group's f32 update of the rows x
  // vectors sums spread over its steps; the share of dot products,
  // discounted by the rows of padding, picks the tile. The update costs
  // about 5 instructions per vector in registers (correction, convert, two
  // multiplies, add) and weighs about 11 in the output tile (its load and
  // store on top): fitted on a Zen 4 core at one thread, where small groups
  // (32) made the in-memory tile 15-20% slower than 3 register rows at
  // M = 48 and 128, and M = 16 in groups of 64 still gained 8% from it.
  const int64_t stepsPerGroup = groupSize / kStep;
  // (Whole bytes: a load per weight vector and nothing to unpack.)
  auto score = [&](int64_t r, bool memory) {
    double update = r * outVectors * (memory ? 11.0 : 5.0) / stepsPerGroup;
    double ops = (wholeBytes ? vectors : vectors / 2.0 + 1.5 * vectors) + r +
                 r * vectors + update;
    return (r * vectors / ops) * c.m / static_cast<double>(roundUp(c.m, r));
  };
  int64_t rows = std::min(registerRows, c.m);
  bool inMemory = false;
  double best = score(rows, false);
  for (int64_t r = 1; r <= std::min(memoryRows, c.m); ++r)
    if (score(r, true) > best * 1.02) {
      rows = r;
      inMemory = true;
      best = score(r, true);
    }
  // nr: the kernel's vector columns (the packing's unit); cols: the weight
  // columns of a panel, which its output slice covers.
  const int64_t nr = vectors * lanes, cols = outVectors * lanes;
  const int64_t mp = roundUp(c.m, rows), np = roundUp(c.n, cols);
  const int64_t panels = np / cols;
  const int64_t pairBytes = lanes * kStep; // bytes of one packed load
  Type i8 = b.getI8Type(), i16 = b.getI16Type(), i32 = b.getI32Type(),
       f32 = b.getF32Type();

  Int4PackedWeights packedWeights =
      packInt4Weights(b, loc, c, nr, lanes, kStep, /*nibbleXor=*/0,
                      /*asConstant=*/true, /*activationPlanes=*/twoPlanes);
  Value packedW = packedWeights.nibbles;
  Value scaleTable = packedWeights.scales;

  // Software prefetch of the weights (TargetDesc::int4PrefetchBytes), when
  // each weight byte is read once (one block of rows: the decode case); with
  // several row blocks the panel's second pass reads it from L2. The packed
  // weights are one contiguous stream: panel after panel, step after step,
  // `stepBytes` per step. Each step prefetches its lines `distance` bytes
  // ahead in that stream (into the next panel near a panel's end: the next
  // one this thread reads under the static schedule), clamped to the last
  // byte, through a flat view of the constant's buffer.
  ArrayRef<int64_t> packedShape =
      cast<RankedTensorType>(packedW.getType()).getShape();
  const int64_t kSteps = packedShape[1], stepBytes = packedShape[2];
  const int64_t totalBytes = panels * kSteps * stepBytes;
  const int64_t distance = desc.int4PrefetchBytes;
  Value prefetchBuffer;
  if (distance > 0 && mp == rows) {
    Type bufferType = MemRefType::get(packedShape, b.getI8Type());
    Value buffer = bufferization::ToBufferOp::create(b, loc, bufferType,
                                                     packedW, /*readOnly=*/true);
    SmallVector<ReassociationIndices> all = {{0, 1, 2}};
    prefetchBuffer = memref::CollapseShapeOp::create(
        b, loc, MemRefType::get({totalBytes}, b.getI8Type()), buffer, all);
  }

  // Activations: quantized at run time, their sums per row and group, and
  // rows padded to the tile. Quantized a whole byte register (4 f32
  // registers) per iteration, as on AArch64.
  Int4Activations activations = buildInt4Activations(
      b, loc, c, mp, /*zpOffset=*/0, /*vectorBytes=*/desc.vectorBits / 8);
  const DynamicQuantized &a = activations.quantized;
  Value rowSums = activations.rowSums, q = activations.padded;
  // bytePlanes: the activations' planes of signed nibbles, a >> 4 and
  // (a & 15) - 8 (both in [-8, 7]), as elementwise generics.
  Value qHigh, qLow;
  if (twoPlanes) {
    auto planeType = RankedTensorType::get({mp, c.k}, b.getI8Type());
    SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(2));
    SmallVector<utils::IteratorType> parallel(2,
                                              utils::IteratorType::parallel);
    auto plane = [&](bool high) {
      Value init = tensor::EmptyOp::create(b, loc, planeType.getShape(),
                                           b.getI8Type());
      return linalg::GenericOp::create(
                 b, loc, TypeRange{planeType}, ValueRange{q}, ValueRange{init},
                 maps, parallel,
                 [&](OpBuilder &nb, Location nl, ValueRange args) {
                   Type i8t = nb.getI8Type();
                   Value x = args[0];
                   Value y =
                       high ? arith::ShRSIOp::create(
                                  nb, nl, x,
                                  arith::ConstantOp::create(
                                      nb, nl, nb.getIntegerAttr(i8t, 4)))
                                  .getResult()
                            : arith::SubIOp::create(
                                  nb, nl,
                                  arith::AndIOp::create(
                                      nb, nl, x,
                                      arith::ConstantOp::create(
                                          nb, nl, nb.getIntegerAttr(i8t, 15))),
                                  arith::ConstantOp::create(
                                      nb, nl, nb.getIntegerAttr(i8t, 8)))
                                  .getResult();
                   linalg::YieldOp::create(nb, nl, y);
                 })
          .getResult(0);
    };
    qHigh = plane(true);
    qLow = plane(false);
  }

  OpBuilder constants = b;
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(constants, loc, v).getResult();
  };
  auto accType = VectorType::get({lanes}, i32);
  auto floatType = VectorType::get({lanes}, f32);
  auto bytesType = VectorType::get({pairBytes}, i8);
  auto halfType = VectorType::get({pairBytes / 2}, i16);
  Value out = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{mp, np}, f32);
  Value lowMask = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(bytesType, b.getI8IntegerAttr(0x0F)));
  Value four = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(halfType, b.getI16IntegerAttr(4)));
  Value zeroI32 = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getI32IntegerAttr(0)));
  Value four32 = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getI32IntegerAttr(4)));
  // AVX2: vpmaddubsw's i16 pair sums of a nibble (0..15) and an activation
  // (|q| <= 128) are at most 15 * 128 * 2 = 3840 in magnitude, so the
  // instruction never saturates, and up to 8 of them add in i16 without
  // overflow (30720 <= 32767); a chunk of steps pays one vpmaddwd and one
  // vpaddd per accumulator instead of one per step. Its length is the
  // largest divisor of a group's steps up to 8. (bytePlanes: a byte times a
  // signed nibble, at most 255 * 8 * 2 = 4080 per pair; 8 make 32640.)
  auto pairType = VectorType::get({pairBytes / 2}, i16);
  int64_t chunk = 1;
  Value zeroI16, onesI16;
  if (!vnni) {
    for (int64_t d = 8; d >= 1; --d)
      if (stepsPerGroup % d == 0) {
        chunk = d;
        break;
      }
    zeroI16 = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(pairType, b.getI16IntegerAttr(0)));
    onesI16 = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(pairType, b.getI16IntegerAttr(1)));
  }
  Value zeroF32 = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(floatType, b.getF32FloatAttr(0.0f)));
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  Value padF32 = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value zeroI32Scalar =
      arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value zpNibble =
      arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(c.zpNibble));
  Value zpTable = packedWeights.zeroPoints;
  Value bias = c.op.getBias();
  SmallVector<bool> inBounds = {true};

  return buildInt4KernelScaffold(
      b, loc, out, panels, cols, c.m, c.n, mp, rows, constants, idx,
      [&](OpBuilder &rb, Location rl, Value i, Value p, Value col0,
          Value panel) {
        // Rows past M read the zero padding of q and the parameters of the
        // last real row; their results are sliced away.
        SmallVector<Value> clamped;
        for (int64_t r = 0; r < rows; ++r)
          clamped.push_back(arith::MinSIOp::create(
              rb, rl, arith::AddIOp::create(rb, rl, i, idx(r)),
              idx(c.m - 1)));
        SmallVector<Value> rowScales;
        for (int64_t r = 0; r < rows; ++r)
          rowScales.push_back(vector::BroadcastOp::create(
              rb, rl, floatType,
              tensor::ExtractOp::create(rb, rl, a.scale,
                                        ValueRange{clamped[r]})));
        // The f32 accumulators: registers (loop-carried vectors), or the
        // output tile itself, zeroed first.
        Value tile = panel;
        SmallVector<Value> facc;
        if (inMemory) {
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t v = 0; v < outVectors; ++v)
              tile = vector::TransferWriteOp::create(
                         rb, rl, zeroF32, tile,
                         ValueRange{arith::AddIOp::create(rb, rl, i, idx(r)),
                                    idx(v * lanes)},
                         inBounds)
                         .getResult();
          facc.push_back(tile);
        } else {
          facc.assign(rows * outVectors, zeroF32);
        }
        auto groupLoop = scf::ForOp::create(
            rb, rl, idx(0), idx(groups), idx(1), facc,
            [&](OpBuilder &gb, Location gl, Value g, ValueRange fIn) {
              Value s0 = arith::MulIOp::create(gb, gl, g, idx(stepsPerGroup));
              Value s1 = arith::AddIOp::create(gb, gl, s0, idx(stepsPerGroup));
              SmallVector<Value> iacc(rows * vectors, zeroI32);
              // One step of 4 along K: its weights unpacked, each row's 4
              // activation bytes broadcast, and their products added to
              // `acc` (i32 sums, or on AVX2 the i16 sums of a chunk).
              auto stepBody = [&](OpBuilder &kb, Location kl, Value s,
                                  ValueRange acc) -> SmallVector<Value> {
                    SmallVector<Value> w;
                    for (int64_t v = 0; v < (wholeBytes ? vectors : vectors / 2);
                         ++v) {
                      Value raw = vector::TransferReadOp::create(
                          kb, kl, bytesType, packedW,
                          ValueRange{p, s, idx(v * pairBytes)}, padI8,
                          inBounds);
                      if (c.bytePlanes) {
                        w.push_back(raw);
                        continue;
                      }
                      w.push_back(arith::AndIOp::create(kb, kl, raw, lowMask));
                      Value shifted = arith::ShRUIOp::create(
                          kb, kl,
                          vector::BitCastOp::create(kb, kl, halfType, raw),
                          four);
                      w.push_back(arith::AndIOp::create(
                          kb, kl,
                          vector::BitCastOp::create(kb, kl, bytesType, shifted),
                          lowMask));
                    }
                    if (prefetchBuffer) {
                      // Step s of panel p starts at (p * kSteps + s) *
                      // stepBytes; the step `distance` bytes ahead, at most
                      // the last one, gets one prefetch per 64-byte line.
                      Value ahead = arith::MinSIOp::create(
                          kb, kl,
                          arith::AddIOp::create(
                              kb, kl,
                              arith::MulIOp::create(
                                  kb, kl,
                                  arith::AddIOp::create(
                                      kb, kl,
                                      arith::MulIOp::create(kb, kl, p,
                                                            idx(kSteps)),
                                      s),
                                  idx(stepBytes)),
                              idx(distance)),
                          idx(totalBytes - stepBytes));
                      for (int64_t line = 0; line < stepBytes; line += 64)
                        memref::PrefetchOp::create(
                            kb, kl, prefetchBuffer,
                            ValueRange{arith::AddIOp::create(kb, kl, ahead,
                                                             idx(line))},
                            /*isWrite=*/false, desc.int4PrefetchLocality,
                            /*isDataCache=*/true);
                    }
                    Value kByte = arith::MulIOp::create(kb, kl, s, idx(kStep));
                    SmallVector<Value> next(acc.begin(), acc.end());
                    // Row `row`'s 4 activation bytes of this step from
                    // `source`, in every i32 lane.
                    auto broadcastStep = [&](Value source, Value row) {
                      Value four8 = vector::TransferReadOp::create(
                          kb, kl, VectorType::get({kStep}, i8), source,
                          ValueRange{row, kByte}, padI8, inBounds);
                      Value scalar = vector::ExtractOp::create(
                          kb, kl,
                          vector::BitCastOp::create(
                              kb, kl, VectorType::get({1}, i32), four8),
                          ArrayRef<int64_t>{0});
                      return vector::BitCastOp::create(
                                 kb, kl, bytesType,
                                 vector::BroadcastOp::create(kb, kl, accType,
                                                             scalar))
                          .getResult();
                    };
                    auto dot = [&](Value &slot, Value weights, Value act) {
                      slot = vnni ? x86::DotU8S8Op::create(kb, kl, accType,
                                                           slot, weights, act)
                                        .getResult()
                                  : arith::AddIOp::create(
                                        kb, kl, slot,
                                        x86::PairSumsU8S8Op::create(
                                            kb, kl, pairType, weights, act))
                                        .getResult();
                    };
                    for (int64_t r = 0; r < rows; ++r) {
                      Value row = arith::AddIOp::create(kb, kl, i, idx(r));
                      if (twoPlanes) {
                        // Sums 2v: the high plane; 2v + 1: the low one.
                        Value high = broadcastStep(qHigh, row);
                        Value low = broadcastStep(qLow, row);
                        for (int64_t v = 0; v < outVectors; ++v) {
                          dot(next[r * vectors + 2 * v], w[v], high);
                          dot(next[r * vectors + 2 * v + 1], w[v], low);
                        }
                        continue;
                      }
                      Value act = broadcastStep(q, row);
                      for (int64_t v = 0; v < vectors; ++v)
                        dot(next[r * vectors + v], w[v], act);
                    }
                    return next;
              };
              SmallVector<Value> groupSums;
              if (vnni) {
                auto stepLoop = scf::ForOp::create(
                    gb, gl, s0, s1, idx(1), iacc,
                    [&](OpBuilder &kb, Location kl, Value s, ValueRange acc) {
                      scf::YieldOp::create(kb, kl, stepBody(kb, kl, s, acc));
                    });
                groupSums.assign(stepLoop.getResults().begin(),
                                 stepLoop.getResults().end());
              } else {
                // AVX2: chunks of `chunk` steps add their vpmaddubsw pair
                // sums in i16 (vpaddw), and one vpmaddwd by ones per chunk
                // adds them to the i32 sums.
                auto chunkLoop = scf::ForOp::create(
                    gb, gl, s0, s1, idx(chunk), iacc,
                    [&](OpBuilder &cb, Location cl, Value c0, ValueRange acc) {
                      SmallVector<Value> pairAcc(rows * vectors, zeroI16);
                      auto inner = scf::ForOp::create(
                          cb, cl, c0, arith::AddIOp::create(cb, cl, c0,
                                                            idx(chunk)),
                          idx(1), pairAcc,
                          [&](OpBuilder &kb, Location kl, Value s,
                              ValueRange sums) {
                            scf::YieldOp::create(kb, kl,
                                                 stepBody(kb, kl, s, sums));
                          });
                      SmallVector<Value> out;
                      for (auto [j, sums] : llvm::enumerate(inner.getResults()))
                        out.push_back(x86::DotI16x2Op::create(
                            cb, cl, accType, acc[j], sums, onesI16));
                      scf::YieldOp::create(cb, cl, out);
                    });
                groupSums.assign(chunkLoop.getResults().begin(),
                                 chunkLoop.getResults().end());
              }
              // The group's exact sums, scaled and added in f32.
              SmallVector<Value> fOut;
              Value tileIn = inMemory ? fIn[0] : Value();
              for (int64_t r = 0; r < rows; ++r) {
                Value row = arith::AddIOp::create(gb, gl, i, idx(r));
                // The nibbles' zero point times the row's group sum: one
                // scalar product, or the row sum times the group's vector of
                // zero points per column.
                Value correction, rowSum;
                if (rowSums) {
                  Value sum = tensor::ExtractOp::create(
                      gb, gl, rowSums, ValueRange{clamped[r], g});
                  if (!zpTable)
                    correction = vector::BroadcastOp::create(
                        gb, gl, accType,
                        arith::MulIOp::create(gb, gl, sum, zpNibble));
                  else
                    rowSum = vector::BroadcastOp::create(gb, gl, accType, sum);
                }
                for (int64_t v = 0; v < outVectors; ++v) {
                  Value sum = groupSums[r * vectors + planes * v];
                  if (twoPlanes) {
                    // 16 * high + low + 8 * sum(w) of the group.
                    sum = arith::AddIOp::create(
                        gb, gl, arith::ShLIOp::create(gb, gl, sum, four32),
                        groupSums[r * vectors + 2 * v + 1]);
                    sum = arith::AddIOp::create(
                        gb, gl, sum,
                        vector::TransferReadOp::create(
                            gb, gl, accType, packedWeights.planeSums,
                            ValueRange{p, g, idx(v * lanes)}, zeroI32Scalar,
                            inBounds));
                  }
                  if (correction)
                    sum = arith::SubIOp::create(gb, gl, sum, correction);
                  if (rowSum) {
                    Value zp = vector::TransferReadOp::create(
                        gb, gl, accType, zpTable,
                        ValueRange{p, g, idx(v * lanes)}, zeroI32Scalar,
                        inBounds);
                    sum = arith::SubIOp::create(
                        gb, gl, sum, arith::MulIOp::create(gb, gl, rowSum, zp));
                  }
                  Value sw = vector::TransferReadOp::create(
                      gb, gl, floatType, scaleTable,
                      ValueRange{p, g, idx(v * lanes)}, padF32, inBounds);
                  Value scale =
                      arith::MulFOp::create(gb, gl, rowScales[r], sw);
                  Value term = arith::MulFOp::create(
                      gb, gl, scale,
                      arith::SIToFPOp::create(gb, gl, floatType, sum));
                  if (!inMemory) {
                    fOut.push_back(arith::AddFOp::create(
                        gb, gl, fIn[r * outVectors + v], term));
                    continue;
                  }
                  SmallVector<Value, 2> at = {row, idx(v * lanes)};
                  Value current = vector::TransferReadOp::create(
                      gb, gl, floatType, tileIn, at, padF32, inBounds);
                  tileIn = vector::TransferWriteOp::create(
                               gb, gl,
                               arith::AddFOp::create(gb, gl, current, term),
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
          for (int64_t v = 0; v < outVectors; ++v) {
            tile = storeInt4ResultVector(
                rb, rl, tile,
                inMemory ? Value() : groupLoop.getResult(r * outVectors + v),
                bias, row, col0, v, lanes, idx);
          }
        }
        return tile;
      });
}

struct QlowX86Int4MatmulPass
    : qlow::impl::QlowX86Int4MatmulPassBase<QlowX86Int4MatmulPass> {
  using QlowX86Int4MatmulPassBase::QlowX86Int4MatmulPassBase;

  void runOnOperation() override {
    std::string error;
    FailureOr<TargetDesc> desc = lookupTargetDesc("x86_64", cpu, &error);
    if (failed(desc)) {
      getOperation().emitError() << error;
      return signalPassFailure();
    }
    // vpdpbusd (AVX-512 VNNI on zmm, AVX-VNNI on ymm) or, on AVX2 without
    // VNNI, vpmaddubsw on ymm; other x86 CPUs keep these matmuls for
    // convert-qlow-to-linalg.
    if (!desc->hasX86Int8Dot())
      return;
    rewriteInt4Matmuls(getOperation(), /*kStep=*/4, report,
                       [&](OpBuilder &b, Location loc, Int4Matmul &c) {
                         return buildInt4Kernel(b, loc, c, *desc);
                       },
                       /*perColumnZeroPoints=*/true, /*bytePlanes=*/true);
  }
};

} // namespace
