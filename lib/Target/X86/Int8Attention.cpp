//===- Int8Attention.cpp - int8 qlow.attention as a VNNI flash kernel -----===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The int8 form of qlow.attention (`int8`, `key_block`; QlowOps.td states its
// exact semantics, lib/Reference/Attention.cpp computes it) for
// qlow-x86-attention. Per (batch, kv head), K and V are packed once at run
// time into the layout of vpdpbusd's u8 x s8 dot products of 4 (the layout
// of the int8 matmul kernel's packed weights), u8 storage flipped to s8:
//
//   kPacked[b, h, j / L, d / 4, (j % L) * 4 + d % 4] = k_s8[b, h, j, d]
//   vPacked[b, h, j / 4, e / L, (e % L) * 4 + j % 4] = v_s8[b, h, j, e]
//
// (L = i32 lanes), with the keys padded to whole key blocks and D, Dv to
// whole groups with zeros, and the per-key zero-point correction of the
// scores (z_q * colsum(k) - D * z_q * z_k) beside them. The kernel then walks
// query blocks (scf.forall) and, inside, key blocks of `key_block` keys:
//
//   scores: one qlow_x86.dot_u8s8 per (row, vector of L keys, 4 of D): four
//           bytes of the query row broadcast against a packed K vector;
//           minus the zero-point corrections; times scale * s_q * s_k in f32
//   softmax: block maximum, u = roundeven(255 * E(s - max)) in i32 lanes,
//           E the exact f32 exponential of the semantics (fma, roundeven)
//   P * V:  one qlow_x86.dot_u8s8 per (row, 4 keys, vector of L columns):
//           four u8 probabilities broadcast against a packed V vector; the
//           i32 block sums are rescaled into f32 accumulators per block.
//
// With few query rows per kv head (H / Hkv * S <= kMaxDirectRows: a decode
// step, its GQA group included), nothing is packed: one work item per
// (batch, kv head) takes all of the kv head's query rows and reads K and V
// in place. A score is then a dot product along D: per key row, vpdpbusd of
// the query row (u8) against the row's 4 L bytes (s8), whose L lanes are
// summed with those of the chunk's other key rows by shuffles
// (lanewiseSums); z_q's share is one more vpdpbusd per key row, shared by
// the rows. P * V takes 4 value rows at a time, interleaved into vpdpbusd's
// 4-byte groups by unpacks within 16-byte blocks (punpck{l,h}bw, then
// punpck{l,h}wd), which leaves the columns permuted within each 4 L; they
// are put back in order once, when the row is written. The direct path's
// key blocks are loops over their keys (directKeyBlock), with the scores
// and probabilities in a scratch tensor of the work item.
//
// Where a decode step's time goes (Zen 4, 12 heads, 513 keys, D = Dv = 64,
// key_block 64, 1 thread: 0.015 ms, about 8.5 cycles per key and head; the
// phases timed by leaving the others out): scores 4.4, P * V 2.5, softmax
// and the rest 1.6. None of these shortened it (A/B alternated, same
// host): the scores with K as vpdpbusd's unsigned operand (no z_q products
// for a symmetric q) and ymm partial sums, a third fewer instructions;
// software prefetch of V during the scores or of the next block's K during
// the softmax; the score loop unrolled by 2. K and V are 128 bytes per key
// and head, and this host's L2 delivers about 30 bytes per cycle (110 GB/s
// on one core, measured with a read loop), a floor of about 0.007 ms for
// the step; in a layer K and V come from L3 (70-90 GB/s).
//
// On AVX2 without VNNI both paths multiply in i16 instead, with vpmaddwd
// (qlow_x86.dot_i16x2) on operands widened from their storage: exact, since
// integer values are within [-255, 255] and u <= 255. dot_u8s8's exact
// AVX2 lowering (qlow-x86-lower-intrinsics{avx2-dot-u8s8}: four multiplies
// per vpdpbusd) takes twice the multiplies or more.
//   packed (widePacked): Q, K and V packed once per call as i16 values
//     minus their zero points (packWideQueries, packWideKeys,
//     packWideValues): K as pairs of D for 8 keys per vector, V as pairs
//     of keys for 8 columns; the scores are one vpmaddwd per (row, 8 keys,
//     2 of D) against the row's pair of q broadcast, P * V one per (row, 2
//     keys, 8 columns) against the pair's probabilities, with no zero-point
//     corrections. Encoder-like attention (12 heads, S = T = 128, D = 64,
//     causal, Zen 3, 1 thread): 0.78 -> 0.43 ms.
//   direct (wideDirect): the query row as i16 q - z_q, each key row's
//     bytes made words by in-lane unpacks with zero (zero-extended, or s8
//     times 256, shifted back in the i32 sums) and multiplied against it,
//     and P * V per pair of keys on the two value rows' bytes interleaved
//     and unpacked the same way, against the pair's probabilities as two
//     i16: 8 multiplies per key of a D = Dv = 64 head where the nibble form
//     takes 24. The unpacks replace cross-lane vpmovsxbw/vpmovzxbw, which
//     Zen 3 issues one per cycle. A decode step's attention (12 heads, 513
//     keys, Zen 3, 1 thread): 0.061 -> 0.034 ms with widening, 0.030 with
//     the unpacks (key_block 64).
//
// Every f32 operation is the one the semantics names, in its order, so the
// kernel is bit for bit the reference. Written with scf loops and vector ops
// for the reasons Attention.cpp gives (upstream has no attention op).
//
//===----------------------------------------------------------------------===//

#include "AttentionKernels.h"

#include "dialects/QlowX86/IR/QlowX86Dialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/Support/CommandLine.h"

#include <algorithm>
#include <limits>
#include <optional>

using namespace mlir;
using namespace mlir::qlow;

/// A testing knob: the vpdpbusd kernels (qlow_x86.dot_u8s8) on AVX2 CPUs
/// without VNNI too, where qlow-x86-lower-intrinsics lowers each
/// dot_u8s8 to its exact AVX2 sequence. They are slower there than the
/// i16 kernels, but a machine without VNNI can then run and check the VNNI
/// kernels' algorithm (at 8 i32 lanes, as on AVX-VNNI CPUs).
static llvm::cl::opt<bool> clVnniKernelsOnAvx2(
    "qlow-int8-attention-vnni-kernels",
    llvm::cl::desc("Testing: build int8 qlow.attention's vpdpbusd kernels "
                   "on AVX2 CPUs without VNNI too (each vpdpbusd lowered to "
                   "its exact AVX2 sequence)"),
    llvm::cl::init(false), llvm::cl::Hidden);

namespace {

/// Scale, zero point and signedness of a per-tensor 8-bit quantized operand.
struct Int8Params {
  double scale;
  int64_t zeroPoint;
  bool isSigned;
};

Int8Params paramsOf(Value value) {
  auto q = cast<quant::UniformQuantizedType>(
      cast<RankedTensorType>(value.getType()).getElementType());
  return {q.getScale(), q.getZeroPoint(), q.isSigned()};
}

/// `slice` (a rank-n tensor) with its elements from index `from` along
/// dimension `dim` on set to zero (a linalg.fill of that part; nothing when
/// it is empty). The packing loops write the rest, so the packed buffers are
/// not zeroed whole first (for a decode step against a long cache, that
/// memset cost as much as the kernel).
Value zeroTail(OpBuilder &b, Location loc, Value slice, int64_t dim,
               int64_t from) {
  auto type = cast<RankedTensorType>(slice.getType());
  if (from >= type.getDimSize(dim))
    return slice;
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] -= from;
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  offsets[dim] = b.getIndexAttr(from);
  SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
  for (int64_t size : shape)
    sizes.push_back(b.getIndexAttr(size));
  auto tailType = RankedTensorType::get(shape, type.getElementType());
  Value tail = tensor::ExtractSliceOp::create(b, loc, tailType, slice, offsets,
                                              sizes, strides);
  Value zero =
      arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
  Value zeros = linalg::FillOp::create(b, loc, zero, tail).getResult(0);
  return tensor::InsertSliceOp::create(b, loc, zeros, slice, offsets, sizes,
                                       strides);
}

/// Helpers shared by the packing loops and the kernel.
struct Builders {
  Location loc;
  Value idx(OpBuilder &b, int64_t value) const {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value i32(OpBuilder &b, int64_t value) const {
    return arith::ConstantOp::create(
        b, loc, b.getI32IntegerAttr(static_cast<int32_t>(value)));
  }
  /// A constant of `type` (a scalar or a vector of it) with every element
  /// `value`.
  Value constant(OpBuilder &b, Type type, double value) const {
    Type element = getElementTypeOrSelf(type);
    TypedAttr scalar =
        isa<FloatType>(element)
            ? TypedAttr(b.getFloatAttr(element, value))
            : TypedAttr(b.getIntegerAttr(element, static_cast<int64_t>(value)));
    if (auto vector = dyn_cast<VectorType>(type))
      return arith::ConstantOp::create(b, loc,
                                       DenseElementsAttr::get(vector, scalar));
    return arith::ConstantOp::create(b, loc, scalar);
  }
  Value broadcast(OpBuilder &b, Value scalar, int64_t width) const {
    return vector::BroadcastOp::create(
        b, loc, VectorType::get({width}, scalar.getType()), scalar);
  }
};

/// A [B, H, ...] tensor of `element` with `perHead` elements per (batch,
/// head) of `view`, each head's slice ([1, 1, perHead...]) written by
/// `fill` in one scf.forall iteration (zeros where `view` is empty): the
/// scaffold of the packers of V and of the wide Q, K and V.
Value packPerHead(
    OpBuilder &b, const Builders &h, const HeadsView &view, Type element,
    ArrayRef<int64_t> perHead,
    function_ref<Value(OpBuilder &, Value batch, Value head, Value slice)>
        fill) {
  Location loc = h.loc;
  const SmallVector<int64_t> s = view.headsShape();
  SmallVector<int64_t> shape = {s[0], s[1]};
  shape.append(perHead.begin(), perHead.end());
  Value packed = tensor::EmptyOp::create(b, loc, shape, element).getResult();
  if (s[0] * s[1] * s[2] * s[3] == 0)
    return linalg::FillOp::create(b, loc, h.constant(b, element, 0), packed)
        .getResult(0);
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(s[0] * s[1])},
      ValueRange{packed}, std::nullopt);
  OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
  Value iv = forall.getInductionVars()[0];
  Value batch = arith::DivUIOp::create(fb, loc, iv, h.idx(fb, s[1]));
  Value head = arith::RemUIOp::create(fb, loc, iv, h.idx(fb, s[1]));
  SmallVector<OpFoldResult> offsets = {batch, head};
  SmallVector<OpFoldResult> sizes = {fb.getIndexAttr(1), fb.getIndexAttr(1)};
  SmallVector<int64_t> sliceShape = {1, 1};
  for (int64_t size : perHead) {
    offsets.push_back(fb.getIndexAttr(0));
    sizes.push_back(fb.getIndexAttr(size));
    sliceShape.push_back(size);
  }
  SmallVector<OpFoldResult> strides(shape.size(), fb.getIndexAttr(1));
  Value slice = tensor::ExtractSliceOp::create(
      fb, loc, RankedTensorType::get(sliceShape, element),
      forall.getRegionIterArgs()[0], offsets, sizes, strides);
  slice = fill(fb, batch, head, slice);
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(tb, loc, slice,
                                        forall.getRegionIterArgs()[0], offsets,
                                        sizes, strides);
  return forall.getResult(0);
}

/// Packs the stored integers `k8` [B, Hkv, T, D] into
/// [B, Hkv, Tpad / L, ceil(D / 4), 4 L] (see the file header), u8 storage
/// flipped to s8, and the per-key score correction `zq * colsum(k_s8) - D *
/// zq * zk` into [B, Hkv, Tpad] i32, both zero-padded; one (batch, kv head)
/// per scf.forall iteration. Whole chunks of `lanes` keys are transposed
/// in registers as i32 words when D is a multiple of 4; the other keys byte
/// by byte.
std::pair<Value, Value> packKeys(OpBuilder &b, const Builders &h,
                                 const HeadsView &k8, bool flip, int64_t lanes,
                                 int64_t tPad, int64_t zqU, int64_t zkS) {
  Location loc = h.loc;
  const SmallVector<int64_t> s = k8.headsShape();
  const int64_t groups = (s[3] + 3) / 4;
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  auto packedType =
      RankedTensorType::get({s[0], s[1], tPad / lanes, groups, 4 * lanes}, i8);
  auto corrType = RankedTensorType::get({s[0], s[1], tPad}, i32);
  Value packed =
      tensor::EmptyOp::create(b, loc, packedType.getShape(), i8).getResult();
  Value corr =
      tensor::EmptyOp::create(b, loc, corrType.getShape(), i32).getResult();
  if (s[0] * s[1] * s[2] == 0)
    return {linalg::FillOp::create(b, loc, h.constant(b, i8, 0), packed)
                .getResult(0),
            linalg::FillOp::create(b, loc, h.constant(b, i32, 0), corr)
                .getResult(0)};
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(s[0] * s[1])},
      ValueRange{packed, corr}, std::nullopt);
  OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
  Value iv = forall.getInductionVars()[0];
  Value batch = arith::DivUIOp::create(fb, loc, iv, h.idx(fb, s[1]));
  Value head = arith::RemUIOp::create(fb, loc, iv, h.idx(fb, s[1]));
  Value zero = h.idx(fb, 0);
  SmallVector<OpFoldResult> pOffsets = {batch, head, fb.getIndexAttr(0),
                                        fb.getIndexAttr(0), fb.getIndexAttr(0)};
  SmallVector<OpFoldResult> pSizes = {
      fb.getIndexAttr(1), fb.getIndexAttr(1), fb.getIndexAttr(tPad / lanes),
      fb.getIndexAttr(groups), fb.getIndexAttr(4 * lanes)};
  SmallVector<OpFoldResult> pStrides(5, fb.getIndexAttr(1));
  SmallVector<OpFoldResult> cOffsets = {batch, head, fb.getIndexAttr(0)};
  SmallVector<OpFoldResult> cSizes = {fb.getIndexAttr(1), fb.getIndexAttr(1),
                                      fb.getIndexAttr(tPad)};
  SmallVector<OpFoldResult> cStrides(3, fb.getIndexAttr(1));
  auto pSliceType =
      RankedTensorType::get({1, 1, tPad / lanes, groups, 4 * lanes}, i8);
  auto cSliceType = RankedTensorType::get({1, 1, tPad}, i32);
  Value pSlice = tensor::ExtractSliceOp::create(fb, loc, pSliceType,
                                                forall.getRegionIterArgs()[0],
                                                pOffsets, pSizes, pStrides);
  Value cSlice = tensor::ExtractSliceOp::create(fb, loc, cSliceType,
                                                forall.getRegionIterArgs()[1],
                                                cOffsets, cSizes, cStrides);
  Value signBit = h.constant(fb, i8, -128);
  Value lanesIdx = h.idx(fb, lanes), four = h.idx(fb, 4);
  // With D a multiple of 4, whole chunks of `lanes` keys are packed in
  // registers: a key row is a row of i32 words (4 bytes of D each), and a
  // packed vector is a column of words, so each lanes x lanes tile of words
  // is transposeVectorTile (u8 flipped by xor 0x80808080 on words); the
  // column sums of all `lanes` keys are one vpdpbusd per packed vector (of
  // bytes 1 against it: the sum of its 4 bytes of D per key), not a
  // widening reduction per key row.
  const int64_t vectorKeys = s[3] % 4 == 0 ? s[2] / lanes * lanes : 0;
  // Zeros where the loops below leave gaps: the chunks of keys that are
  // packed byte by byte or padding.
  pSlice = zeroTail(fb, loc, pSlice, 2, vectorKeys / lanes);
  cSlice = zeroTail(fb, loc, cSlice, 2, vectorKeys);
  if (vectorKeys > 0) {
    auto words = [&](int64_t n) { return VectorType::get({n}, i32); };
    auto chunkLoop = scf::ForOp::create(
        fb, loc, zero, h.idx(fb, vectorKeys), lanesIdx,
        ValueRange{pSlice, cSlice},
        [&](OpBuilder &tb, Location, Value t0, ValueRange carried) {
          Value packedSlice = carried[0];
          Value block = arith::DivUIOp::create(tb, loc, t0, lanesIdx);
          auto packedBytes = VectorType::get({4 * lanes}, i8);
          Value ones = h.constant(tb, packedBytes, 1);
          // Four independent sums (a chain of vpdpbusd waits for each
          // one's latency), added at the end.
          SmallVector<Value> colSums(std::min<int64_t>(4, groups),
                                     h.constant(tb, words(lanes), 0));
          SmallVector<Value> keyRows;
          for (int64_t r = 0; r < lanes; ++r)
            keyRows.push_back(arith::AddIOp::create(tb, loc, t0, h.idx(tb, r)));
          for (int64_t g0 = 0; g0 < groups; g0 += lanes) {
            const int64_t width = std::min(lanes, groups - g0);
            SmallVector<Value> rows;
            for (int64_t r = 0; r < lanes; ++r) {
              Value bytes = vector::TransferReadOp::create(
                  tb, loc, VectorType::get({4 * width}, i8), k8.value,
                  k8.at(batch, head, keyRows[r], h.idx(tb, 4 * g0)),
                  h.constant(tb, i8, 0), ArrayRef<bool>{true});
              Value row =
                  vector::BitCastOp::create(tb, loc, words(width), bytes);
              if (width < lanes)
                row = vector::InsertStridedSliceOp::create(
                    tb, loc, row, h.constant(tb, words(lanes), 0),
                    ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
              if (flip)
                row = arith::XOrIOp::create(
                    tb, loc, row,
                    h.constant(tb, words(lanes),
                               static_cast<int32_t>(0x80808080)));
              rows.push_back(row);
            }
            SmallVector<Value> columns = transposeVectorTile(tb, loc, rows);
            for (int64_t j = 0; j < width; ++j) {
              Value column =
                  vector::BitCastOp::create(tb, loc, packedBytes, columns[j]);
              Value &sum = colSums[(g0 + j) % colSums.size()];
              sum = x86::DotU8S8Op::create(tb, loc, words(lanes), sum, ones,
                                           column);
              packedSlice = vector::TransferWriteOp::create(
                                tb, loc, column, packedSlice,
                                ValueRange{h.idx(tb, 0), h.idx(tb, 0), block,
                                           h.idx(tb, g0 + j), h.idx(tb, 0)},
                                ArrayRef<bool>{true})
                                .getResult();
            }
          }
          Value colSum = colSums[0];
          for (Value part : ArrayRef<Value>(colSums).drop_front())
            colSum = arith::AddIOp::create(tb, loc, colSum, part);
          // zq * colsum - D * zq * zk per key (i32 arithmetic wraps; the
          // score it corrects is exact).
          Value corrections = arith::SubIOp::create(
              tb, loc,
              arith::MulIOp::create(tb, loc, h.constant(tb, words(lanes), zqU),
                                    colSum),
              h.constant(tb, words(lanes),
                         static_cast<int32_t>(s[3] * zqU * zkS)));
          Value corrSlice = vector::TransferWriteOp::create(
                                tb, loc, corrections, carried[1],
                                ValueRange{h.idx(tb, 0), h.idx(tb, 0), t0},
                                ArrayRef<bool>{true})
                                .getResult();
          scf::YieldOp::create(tb, loc, ValueRange{packedSlice, corrSlice});
        });
    pSlice = chunkLoop.getResult(0);
    cSlice = chunkLoop.getResult(1);
  }
  // The other keys (or all, when D is not a multiple of 4) byte by byte.
  auto tLoop = scf::ForOp::create(
      fb, loc, h.idx(fb, vectorKeys), h.idx(fb, s[2]), h.idx(fb, 1),
      ValueRange{pSlice, cSlice},
      [&](OpBuilder &tb, Location, Value t, ValueRange outer) {
        Value block = arith::DivUIOp::create(tb, loc, t, lanesIdx);
        Value lane = arith::MulIOp::create(
            tb, loc, arith::RemUIOp::create(tb, loc, t, lanesIdx), four);
        auto dLoop = scf::ForOp::create(
            tb, loc, h.idx(tb, 0), h.idx(tb, s[3]), h.idx(tb, 1),
            ValueRange{outer[0], h.i32(tb, 0)},
            [&](OpBuilder &db, Location, Value d, ValueRange inner) {
              Value x = tensor::ExtractOp::create(db, loc, k8.value,
                                                  k8.at(batch, head, t, d));
              if (flip)
                x = arith::XOrIOp::create(db, loc, x, signBit);
              Value at = arith::AddIOp::create(
                  db, loc, lane, arith::RemUIOp::create(db, loc, d, four));
              Value group = arith::DivUIOp::create(db, loc, d, four);
              Value next = tensor::InsertOp::create(
                  db, loc, x, inner[0],
                  ValueRange{h.idx(db, 0), h.idx(db, 0), block, group, at});
              Value sum = arith::AddIOp::create(
                  db, loc, inner[1],
                  arith::ExtSIOp::create(db, loc, db.getI32Type(), x));
              scf::YieldOp::create(db, loc, ValueRange{next, sum});
            });
        // zq * colsum - D * zq * zk (i32 arithmetic wraps; the score it
        // corrects is exact).
        Value corrValue = arith::SubIOp::create(
            tb, loc,
            arith::MulIOp::create(tb, loc, h.i32(tb, zqU), dLoop.getResult(1)),
            h.i32(tb, s[3] * zqU * zkS));
        Value nextCorr =
            tensor::InsertOp::create(tb, loc, corrValue, outer[1],
                                     ValueRange{h.idx(tb, 0), h.idx(tb, 0), t});
        scf::YieldOp::create(tb, loc, ValueRange{dLoop.getResult(0), nextCorr});
      });
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(tb, loc, tLoop.getResult(0),
                                        forall.getRegionIterArgs()[0], pOffsets,
                                        pSizes, pStrides);
  tensor::ParallelInsertSliceOp::create(tb, loc, tLoop.getResult(1),
                                        forall.getRegionIterArgs()[1], cOffsets,
                                        cSizes, cStrides);
  return {forall.getResult(0), forall.getResult(1)};
}

/// Packs the stored integers `v8` [B, Hkv, T, Dv] into
/// [B, Hkv, Tpad / 4, ceil(Dv / L), 4 L] (see the file header), u8 storage
/// flipped to s8, zero-padded: whole groups of 4 keys by byte shuffles in
/// registers, the last T % 4 keys byte by byte.
Value packValues(OpBuilder &b, const Builders &h, const HeadsView &v8,
                 bool flip, int64_t lanes, int64_t tPad) {
  Location loc = h.loc;
  const SmallVector<int64_t> s = v8.headsShape();
  const int64_t chunks = (s[3] + lanes - 1) / lanes;
  Type i8 = b.getI8Type();
  auto fill = [&](OpBuilder &fb, Value batch, Value head, Value slice) {
    Value signBit = h.constant(fb, i8, -128);
    Value lanesIdx = h.idx(fb, lanes), four = h.idx(fb, 4);
    // Whole groups of 4 keys in registers: per vector of `lanes` columns, the
    // 4 value rows (flipped, the last chunk widened with zeros) interleaved
    // byte by byte (two shuffles into pairs, one into the 4-byte groups) are
    // one packed vector.
    const int64_t vectorKeys = s[2] / 4 * 4;
    // Zeros for the groups of keys packed byte by byte or padding.
    slice = zeroTail(fb, loc, slice, 2, vectorKeys / 4);
    if (vectorKeys > 0) {
      auto bytes = [&](int64_t n) { return VectorType::get({n}, i8); };
      SmallVector<int64_t> pairMask, quadMask;
      for (int64_t c = 0; c < lanes; ++c)
        for (int64_t y = 0; y < 2; ++y)
          pairMask.push_back(y * lanes + c);
      for (int64_t c = 0; c < lanes; ++c)
        for (int64_t z = 0; z < 2; ++z)
          for (int64_t y = 0; y < 2; ++y)
            quadMask.push_back(z * 2 * lanes + 2 * c + y);
      auto groupLoop = scf::ForOp::create(
          fb, loc, h.idx(fb, 0), h.idx(fb, vectorKeys), four, ValueRange{slice},
          [&](OpBuilder &tb, Location, Value t0, ValueRange carried) {
            Value dest = carried[0];
            Value group = arith::DivUIOp::create(tb, loc, t0, four);
            for (int64_t chunk = 0; chunk < chunks; ++chunk) {
              const int64_t e0 = chunk * lanes;
              const int64_t width = std::min(lanes, s[3] - e0);
              SmallVector<Value> rows;
              for (int64_t x = 0; x < 4; ++x) {
                Value row = vector::TransferReadOp::create(
                    tb, loc, bytes(width), v8.value,
                    v8.at(batch, head,
                          arith::AddIOp::create(tb, loc, t0, h.idx(tb, x)),
                          h.idx(tb, e0)),
                    h.constant(tb, i8, 0), ArrayRef<bool>{true});
                if (width < lanes)
                  row = vector::InsertStridedSliceOp::create(
                      tb, loc, row, h.constant(tb, bytes(lanes), 0),
                      ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
                rows.push_back(row);
              }
              Value low = vector::ShuffleOp::create(tb, loc, rows[0], rows[1],
                                                    pairMask);
              Value high = vector::ShuffleOp::create(tb, loc, rows[2], rows[3],
                                                     pairMask);
              Value packed =
                  vector::ShuffleOp::create(tb, loc, low, high, quadMask);
              // u8 to s8 once on the packed vector (bytewise: it commutes
              // with the shuffles), not on each row.
              if (flip)
                packed = arith::XOrIOp::create(
                    tb, loc, packed, h.constant(tb, bytes(4 * lanes), -128));
              dest = vector::TransferWriteOp::create(
                         tb, loc, packed, dest,
                         ValueRange{h.idx(tb, 0), h.idx(tb, 0), group,
                                    h.idx(tb, chunk), h.idx(tb, 0)},
                         ArrayRef<bool>{true})
                         .getResult();
            }
            scf::YieldOp::create(tb, loc, ValueRange{dest});
          });
      slice = groupLoop.getResult(0);
    }
    // The last T % 4 keys byte by byte.
    auto tLoop = scf::ForOp::create(
        fb, loc, h.idx(fb, vectorKeys), h.idx(fb, s[2]), h.idx(fb, 1),
        ValueRange{slice},
        [&](OpBuilder &tb, Location, Value t, ValueRange outer) {
          Value group = arith::DivUIOp::create(tb, loc, t, four);
          Value inGroup = arith::RemUIOp::create(tb, loc, t, four);
          auto eLoop = scf::ForOp::create(
              tb, loc, h.idx(tb, 0), h.idx(tb, s[3]), h.idx(tb, 1), outer,
              [&](OpBuilder &eb, Location, Value e, ValueRange inner) {
                Value x = tensor::ExtractOp::create(eb, loc, v8.value,
                                                    v8.at(batch, head, t, e));
                if (flip)
                  x = arith::XOrIOp::create(eb, loc, x, signBit);
                Value chunk = arith::DivUIOp::create(eb, loc, e, lanesIdx);
                Value at = arith::AddIOp::create(
                    eb, loc,
                    arith::MulIOp::create(
                        eb, loc, arith::RemUIOp::create(eb, loc, e, lanesIdx),
                        four),
                    inGroup);
                scf::YieldOp::create(
                    eb, loc,
                    ValueRange{tensor::InsertOp::create(
                                   eb, loc, x, inner[0],
                                   ValueRange{h.idx(eb, 0), h.idx(eb, 0), group,
                                              chunk, at})
                                   .getResult()});
              });
          scf::YieldOp::create(tb, loc, eLoop.getResults());
        });
    return tLoop.getResult(0);
  };
  return packPerHead(b, h, v8, i8, {tPad / 4, chunks, 4 * lanes}, fill);
}

/// 16 bytes of row `position` of `view` from byte `d0` (the storage's
/// zero point `zeroPoint` beyond the row, or all of it when `position` is
/// past the rows: `valid` false), widened to i16 minus the zero point: the
/// operand's integer values, exact in [-255, 255].
Value centredWords(OpBuilder &b, const Builders &h, const HeadsView &view,
                   Value batch, Value head, Value position, int64_t d0,
                   bool isSigned, int64_t zeroPoint, bool valid = true) {
  Location loc = h.loc;
  auto wordsType = VectorType::get({16}, b.getI16Type());
  if (!valid)
    return h.constant(b, wordsType, 0);
  const int64_t rowLength = view.headsShape()[3];
  Value bytes = vector::TransferReadOp::create(
      b, loc, VectorType::get({16}, b.getI8Type()), view.value,
      view.at(batch, head, position, h.idx(b, d0)),
      h.constant(b, b.getI8Type(),
                 static_cast<double>(static_cast<int8_t>(zeroPoint))),
      ArrayRef<bool>{d0 + 16 <= rowLength});
  Value words =
      isSigned ? arith::ExtSIOp::create(b, loc, wordsType, bytes).getResult()
               : arith::ExtUIOp::create(b, loc, wordsType, bytes).getResult();
  if (zeroPoint == 0)
    return words;
  return arith::SubIOp::create(
      b, loc, words, h.constant(b, wordsType, static_cast<double>(zeroPoint)));
}

/// `slice` with `keys` keys packed by `pack` in units of `unit` keys: an
/// scf.for over the whole units, then the last `keys % unit` (fewer real
/// keys, `count`) once after it.
Value packInUnits(
    OpBuilder &b, const Builders &h, Value slice, int64_t keys, int64_t unit,
    function_ref<Value(OpBuilder &, Value t0, int64_t count, Value into)>
        pack) {
  Location loc = h.loc;
  const int64_t whole = keys / unit;
  if (whole > 0) {
    auto loop = scf::ForOp::create(
        b, loc, h.idx(b, 0), h.idx(b, whole * unit), h.idx(b, unit),
        ValueRange{slice},
        [&](OpBuilder &ub, Location, Value t0, ValueRange carried) {
          scf::YieldOp::create(ub, loc, pack(ub, t0, unit, carried[0]));
        });
    slice = loop.getResult(0);
  }
  if (keys % unit != 0)
    slice = pack(b, h.idx(b, whole * unit), keys % unit, slice);
  return slice;
}

/// The wide (AVX2 without VNNI) form of Q for the packed path: `q8`
/// [B, H, S, D] as i16 values q - z_q in [B, H, S, 8 ceil(D / 16)] i32
/// words (pairs of D; zero beyond D), written once per call so that the
/// kernel broadcasts a pair with one load (vpbroadcastd).
Value packWideQueries(OpBuilder &b, const Builders &h, const HeadsView &q8,
                      bool isSigned, int64_t zeroPoint) {
  Location loc = h.loc;
  const SmallVector<int64_t> s = q8.headsShape();
  const int64_t tiles = (s[3] + 15) / 16;
  auto fill = [&](OpBuilder &fb, Value batch, Value head, Value slice) {
    auto loop = scf::ForOp::create(
        fb, loc, h.idx(fb, 0), h.idx(fb, s[2]), h.idx(fb, 1),
        ValueRange{slice},
        [&](OpBuilder &rb, Location, Value row, ValueRange carried) {
          Value into = carried[0];
          for (int64_t x = 0; x < tiles; ++x)
            into = vector::TransferWriteOp::create(
                       rb, loc,
                       vector::BitCastOp::create(
                           rb, loc, VectorType::get({8}, rb.getI32Type()),
                           centredWords(rb, h, q8, batch, head, row, 16 * x,
                                        isSigned, zeroPoint)),
                       into,
                       ValueRange{h.idx(rb, 0), h.idx(rb, 0), row,
                                  h.idx(rb, 8 * x)},
                       ArrayRef<bool>{true})
                       .getResult();
          scf::YieldOp::create(rb, loc, into);
        });
    return loop.getResult(0);
  };
  return packPerHead(b, h, q8, b.getI32Type(), {s[2], 8 * tiles}, fill);
}

/// The wide (AVX2 without VNNI) packing of K: `k8` [B, Hkv, T, D] as i16
/// values k - z_k in [B, Hkv, Tpad / 8, 8 ceil(D / 16), 8] i32 words,
///
///   kWide[b, h, j / 8, p, j % 8] = (k[b, h, j, 2p], k[b, h, j, 2p + 1]),
///
/// so that one packed vector holds a pair of D for 8 keys: vpmaddwd's
/// operand against the pair of the query row broadcast (packedScores).
/// Zero beyond D and T. Per 8 keys and 16 bytes of D, 8 rows widened and
/// transposed as i32 words in registers (transposeVectorTile).
Value packWideKeys(OpBuilder &b, const Builders &h, const HeadsView &k8,
                   bool isSigned, int64_t zeroPoint, int64_t tPad) {
  Location loc = h.loc;
  const SmallVector<int64_t> s = k8.headsShape();
  constexpr int64_t L = 8;
  const int64_t tiles = (s[3] + 15) / 16;
  auto fill = [&](OpBuilder &fb, Value batch, Value head, Value slice) {
    slice = zeroTail(fb, loc, slice, 2, (s[2] + L - 1) / L);
    // One chunk of 8 keys from `t0`, `count` of them real.
    auto packChunk = [&](OpBuilder &cb, Value t0, int64_t count, Value into) {
      Value block = arith::DivUIOp::create(cb, loc, t0, h.idx(cb, L));
      for (int64_t x = 0; x < tiles; ++x) {
        SmallVector<Value> rows;
        for (int64_t r = 0; r < L; ++r)
          rows.push_back(vector::BitCastOp::create(
              cb, loc, VectorType::get({L}, cb.getI32Type()),
              centredWords(cb, h, k8, batch, head,
                           arith::AddIOp::create(cb, loc, t0, h.idx(cb, r)),
                           16 * x, isSigned, zeroPoint, r < count)));
        SmallVector<Value> columns = transposeVectorTile(cb, loc, rows);
        for (int64_t w = 0; w < L; ++w)
          into = vector::TransferWriteOp::create(
                     cb, loc, columns[w], into,
                     ValueRange{h.idx(cb, 0), h.idx(cb, 0), block,
                                h.idx(cb, 8 * x + w), h.idx(cb, 0)},
                     ArrayRef<bool>{true})
                     .getResult();
      }
      return into;
    };
    return packInUnits(fb, h, slice, s[2], L, packChunk);
  };
  return packPerHead(b, h, k8, b.getI32Type(), {tPad / L, 8 * tiles, L},
                     fill);
}

/// The wide (AVX2 without VNNI) packing of V: `v8` [B, Hkv, T, Dv] as i16
/// values v - z_v in [B, Hkv, Tpad / 2, 2 ceil(Dv / 16), 8] i32 words,
///
///   vWide[b, h, j / 2, e / 8, e % 8] = (v[b, h, j, e], v[b, h, j + 1, e])
///
/// (j even): one packed vector holds 8 columns of a pair of keys,
/// vpmaddwd's operand against the pair's probabilities broadcast. Zero
/// beyond Dv and T.
Value packWideValues(OpBuilder &b, const Builders &h, const HeadsView &v8,
                     bool isSigned, int64_t zeroPoint, int64_t tPad) {
  Location loc = h.loc;
  const SmallVector<int64_t> s = v8.headsShape();
  constexpr int64_t L = 8;
  const int64_t tiles = (s[3] + 15) / 16;
  SmallVector<int64_t> lowMask, highMask;
  for (int64_t i = 0; i < 8; ++i) {
    lowMask.append({i, 16 + i});
    highMask.append({8 + i, 24 + i});
  }
  auto fill = [&](OpBuilder &fb, Value batch, Value head, Value slice) {
    slice = zeroTail(fb, loc, slice, 2, (s[2] + 1) / 2);
    // One pair of keys from `t0`, the second real when `count` is 2.
    auto packPair = [&](OpBuilder &cb, Value t0, int64_t count, Value into) {
      Value pair = arith::DivUIOp::create(cb, loc, t0, h.idx(cb, 2));
      Value second = arith::AddIOp::create(cb, loc, t0, h.idx(cb, 1));
      for (int64_t x = 0; x < tiles; ++x) {
        Value first = centredWords(cb, h, v8, batch, head, t0, 16 * x,
                                   isSigned, zeroPoint);
        Value next = centredWords(cb, h, v8, batch, head, second, 16 * x,
                                  isSigned, zeroPoint, count == 2);
        for (int64_t y = 0; y < 2; ++y) {
          Value words = vector::BitCastOp::create(
              cb, loc, VectorType::get({L}, cb.getI32Type()),
              vector::ShuffleOp::create(cb, loc, first, next,
                                        y == 0 ? lowMask : highMask));
          into = vector::TransferWriteOp::create(
                     cb, loc, words, into,
                     ValueRange{h.idx(cb, 0), h.idx(cb, 0), pair,
                                h.idx(cb, 2 * x + y), h.idx(cb, 0)},
                     ArrayRef<bool>{true})
                     .getResult();
        }
      }
      return into;
    };
    return packInUnits(fb, h, slice, s[2], 2, packPair);
  };
  return packPerHead(b, h, v8, b.getI32Type(), {tPad / 2, 2 * tiles, L},
                     fill);
}

/// The most query rows per kv head (H / Hkv * S) that the int8 kernel reads
/// K and V in place for instead of packing them (see buildInt8Attention).
/// Decode step attention alone, 12 query heads, T = 513, Dv = 64, Zen 5, 1
/// thread (ms, packed / direct): G = H / Hkv = 1: 0.024 / 0.0096; 2: 0.024 /
/// 0.0065; 4: 0.011 / 0.0068; 6: 0.0097 / 0.0075; 8 (16 heads): 0.012-0.019
/// / 0.013-0.027; 12: 0.0083 / 0.0095-0.011 (a row's 8 accumulators no
/// longer fit the registers beside the others' from 4 rows on).
constexpr int64_t kMaxDirectRows = 4;

/// Everything the kernel needs about one op.
struct Int8AttentionConfig {
  int64_t b, h, hkv, s, t, d, dv;
  int64_t lanes;    // i32 lanes per vector
  int64_t rows;     // query rows per work item
  int64_t keyBlock; // the op's key_block (a multiple of lanes)
  int64_t tPad;     // keys padded to whole key blocks
  bool qSigned;     // q storage is i8 (flipped to u8 by xor 0x80)
  int64_t zkS, zvS; // zero points of k and v as s8
  float scoreScale; // f32(scale * s_q * s_k)
  float valueScale; // f32(s_v)
  bool causal;
  bool outSeqMajor; // the result is written as [B, S, H, Dv]
  /// K and V are read in place, without packing (the direct path, see
  /// buildInt8Attention): one work item per (batch, kv head) takes all
  /// H / Hkv * S query rows of its kv head.
  bool direct;
  /// AVX2 without VNNI: the direct path multiplies in i16 (dot_i16x2,
  /// vpmaddwd) instead of through dot_u8s8, whose exact AVX2 lowering
  /// takes four multiplies per vpdpbusd (see directScores).
  bool wideDirect = false;
  /// AVX2 without VNNI, the packed path: K and V packed as i16 values minus
  /// their zero points (packWideKeys, packWideValues) and multiplied by
  /// vpmaddwd against the query's and the probabilities' pairs.
  bool widePacked = false;
  int64_t zqU;       // q's zero point as u8 (q_u8 - zqU is q's real value)
  bool kFlip, vFlip; // k, v storage is u8 (flipped to s8 by xor 0x80)
  /// The result is quantized in the epilogue (stored as i8) when set.
  std::optional<OutputQuantization> outQuant;
};

class Int8AttentionKernel {
public:
  /// `kPacked`, `kCorr` and `vPacked` are the packed operands (null on the
  /// direct path, which reads `k8` and `v8` in place); on the wide packed
  /// path `kCorr` is null and `queryPairs` holds packWideQueries' words.
  Int8AttentionKernel(Location loc, const Int8AttentionConfig &c,
                      const HeadsView &q8, const HeadsView &k8,
                      const HeadsView &v8, Value kPacked, Value kCorr,
                      Value vPacked, Value mask, Value queryPairs = Value())
      : h{loc}, loc(loc), c(c), q8(q8), k8(k8), v8(v8), kPacked(kPacked),
        kCorr(kCorr), vPacked(vPacked), mask(mask), queryPairs(queryPairs) {
    if (mask) {
      auto type = cast<RankedTensorType>(mask.getType());
      maskShape.assign(type.getShape().begin(), type.getShape().end());
      boolMask = type.getElementType().isInteger(1);
    }
    valueVectors = (c.dv + c.lanes - 1) / c.lanes;
    // The direct path's P * V sums come from rows of V interleaved by
    // unpacks: 4 vectors per 4 L columns, the columns in the order
    // permutedColumn gives.
    if (c.direct)
      valueVectors = 4 * ((c.dv + 4 * c.lanes - 1) / (4 * c.lanes));
    // The wide direct path's sums: four vectors per 32 columns, in the
    // order naturalWideColumns undoes.
    if (c.wideDirect)
      valueVectors = 4 * ((c.dv + 31) / 32);
  }

  Value build(OpBuilder &b) {
    Value out = tensor::EmptyOp::create(
        b, loc,
        c.outSeqMajor ? ArrayRef<int64_t>{c.b, c.s, c.h, c.dv}
                      : ArrayRef<int64_t>{c.b, c.h, c.s, c.dv},
        c.outQuant ? Type(b.getI8Type()) : Type(b.getF32Type()));
    if (c.b * c.h * c.s * c.dv == 0)
      return out;
    if (c.direct)
      return buildGroupedForall(b, out);
    const int64_t fullBlocks = c.s / c.rows, restRows = c.s % c.rows;
    if (fullBlocks > 0)
      out = buildForall(b, out, c.rows, fullBlocks, 0);
    if (restRows > 0)
      out = buildForall(b, out, restRows, 1, fullBlocks * c.rows);
    return out;
  }

private:
  VectorType vecF32() { return VectorType::get({c.lanes}, f32Type()); }
  VectorType vecI32() {
    return VectorType::get({c.lanes}, IntegerType::get(ctx(), 32));
  }
  VectorType vecBytes() {
    return VectorType::get({4 * c.lanes}, IntegerType::get(ctx(), 8));
  }
  MLIRContext *ctx() { return q8.value.getContext(); }
  Type f32Type() { return Float32Type::get(ctx()); }

  /// max(a, b) as the reference's std::max(a, b) computes it:
  /// (a < b) ? b : a (one vmaxps; arith.maximumf's NaN and signed-zero rules
  /// cost a compare and blends per step, and no score the kernel compares
  /// is NaN).
  Value maxOf(OpBuilder &b, Value x, Value y) {
    Value less = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, y);
    return arith::SelectOp::create(b, loc, less, y, x);
  }

  /// The maximum (maxOf) or the i32 sum of the lanes of `vector`, by
  /// halving: lanes i and i + n/2 combined while n > 1 (log2(L) steps on
  /// ever narrower vectors). Max and integer addition are exact in any
  /// order.
  Value reduceLanes(OpBuilder &b, Value vector, bool max) {
    auto type = cast<VectorType>(vector.getType());
    for (int64_t n = type.getNumElements(); n > 1; n /= 2) {
      auto slice = [&](int64_t offset) {
        return vector::ExtractStridedSliceOp::create(
            b, loc, vector, ArrayRef<int64_t>{offset}, ArrayRef<int64_t>{n / 2},
            ArrayRef<int64_t>{1});
      };
      Value low = slice(0), high = slice(n / 2);
      vector = max ? maxOf(b, low, high)
                   : arith::AddIOp::create(b, loc, low, high).getResult();
    }
    return vector::ExtractOp::create(b, loc, vector, ArrayRef<int64_t>{0});
  }

  /// E(t) of the semantics, on an f32 scalar or vector (every step the
  /// reference's attentionExp takes, in its order).
  Value expE(OpBuilder &b, Value t) {
    Type type = t.getType();
    auto cst = [&](double value) { return h.constant(b, type, value); };
    t = maxOf(b, t, cst(-87.0f));
    Value n = math::RoundEvenOp::create(
        b, loc, arith::MulFOp::create(b, loc, t, cst(1.44269504088896341f)));
    Value r = math::FmaOp::create(b, loc, n, cst(-0.693359375f), t);
    r = math::FmaOp::create(b, loc, n, cst(2.12194440e-4f), r);
    Value p = cst(1.9875691500e-4f);
    for (float coefficient :
         {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
          1.6666665459e-1f, 5.0000001201e-1f})
      p = math::FmaOp::create(b, loc, p, r, cst(coefficient));
    p = math::FmaOp::create(b, loc, p, arith::MulFOp::create(b, loc, r, r), r);
    p = arith::AddFOp::create(b, loc, p, cst(1.0f));
    Type intType = IntegerType::get(ctx(), 32);
    if (auto vector = dyn_cast<VectorType>(type))
      intType = VectorType::get(vector.getShape(), intType);
    Value bits = arith::ShLIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc,
                              arith::FPToSIOp::create(b, loc, intType, n),
                              h.constant(b, intType, 127)),
        h.constant(b, intType, 23));
    return arith::MulFOp::create(b, loc, p,
                                 arith::BitcastOp::create(b, loc, type, bits));
  }

  using Position = AttentionPosition;
  using State = OnlineSoftmaxState;

  /// The query rows of one work item: per row its query head, its position
  /// (index into S) and its place in the item's output tile (the indices of
  /// the tile's dimensions 1 and 2).
  struct RowSet {
    SmallVector<Value> head, position;
    Value lastPosition; // the largest position (bounds causal key blocks)
    SmallVector<std::pair<int64_t, int64_t>> tileAt;
    int64_t size() const { return static_cast<int64_t>(head.size()); }
  };

  Value buildForall(OpBuilder &b, Value out, int64_t rows, int64_t blocks,
                    int64_t firstRow) {
    return buildAttentionForall(
        b, loc, out, c.b, c.h, c.hkv, c.dv, rows, blocks, firstRow,
        [&](OpBuilder &fb, const Position &pos, Value tileOut) {
          RowSet set;
          for (int64_t r = 0; r < rows; ++r) {
            set.head.push_back(pos.head);
            set.position.push_back(
                arith::AddIOp::create(fb, loc, pos.row0, h.idx(fb, r)));
            set.tileAt.push_back(c.outSeqMajor ? std::make_pair(r, int64_t(0))
                                               : std::make_pair(int64_t(0), r));
          }
          set.lastPosition = set.position.back();
          return buildQueryBlock(fb, pos, set, tileOut);
        },
        c.outSeqMajor);
  }

  /// The direct path's scf.forall: one work item per (batch, kv head), whose
  /// rows are the S positions of each of its H / Hkv query heads, so that
  /// the kv head's keys and values are read once for all of them (GQA) and
  /// its output tile is [1, H / Hkv, S, Dv] ([1, S, H / Hkv, Dv] with
  /// outSeqMajor).
  Value buildGroupedForall(OpBuilder &b, Value out) {
    const int64_t group = c.h / c.hkv;
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(c.b * c.hkv)},
        ValueRange{out}, std::nullopt);
    OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
    Value iv = forall.getInductionVars()[0];
    Value shared = forall.getRegionIterArgs()[0];
    Position pos;
    pos.batch = arith::DivUIOp::create(fb, loc, iv, h.idx(fb, c.hkv));
    pos.kvHead = arith::RemUIOp::create(fb, loc, iv, h.idx(fb, c.hkv));
    pos.head = arith::MulIOp::create(fb, loc, pos.kvHead, h.idx(fb, group));
    pos.row0 = h.idx(fb, 0);
    SmallVector<OpFoldResult> offsets = {
        pos.batch, pos.head, fb.getIndexAttr(0), fb.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {
        fb.getIndexAttr(1), fb.getIndexAttr(group), fb.getIndexAttr(c.s),
        fb.getIndexAttr(c.dv)};
    SmallVector<int64_t> tileShape = {1, group, c.s, c.dv};
    if (c.outSeqMajor) {
      std::swap(offsets[1], offsets[2]);
      std::swap(sizes[1], sizes[2]);
      std::swap(tileShape[1], tileShape[2]);
    }
    SmallVector<OpFoldResult> strides(4, fb.getIndexAttr(1));
    RowSet set;
    for (int64_t g = 0; g < group; ++g) {
      Value head = arith::AddIOp::create(fb, loc, pos.head, h.idx(fb, g));
      for (int64_t position = 0; position < c.s; ++position) {
        set.head.push_back(head);
        set.position.push_back(h.idx(fb, position));
        set.tileAt.push_back(c.outSeqMajor ? std::make_pair(position, g)
                                           : std::make_pair(g, position));
      }
    }
    set.lastPosition = h.idx(fb, c.s - 1);
    Value tile = tensor::ExtractSliceOp::create(
        fb, loc,
        RankedTensorType::get(
            tileShape, cast<RankedTensorType>(out.getType()).getElementType()),
        shared, offsets, sizes, strides);
    tile = buildQueryBlock(fb, pos, set, tile);
    OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(tb, loc, tile, shared, offsets, sizes,
                                          strides);
    return forall.getResult(0);
  }

  /// A row of `view` from byte `d0` as a vector of `4 L` bytes (zeros
  /// beyond its end; none beyond `valid` bytes when fewer), xor 0x80 when
  /// `flip` (bytes the row lacks stay zero).
  Value readRowBytes(OpBuilder &b, const HeadsView &view, Value batch,
                     Value head, Value position, int64_t d0, int64_t rowLength,
                     bool flip) {
    Type i8 = b.getI8Type();
    const int64_t width = 4 * c.lanes;
    bool inBounds = d0 + width <= rowLength;
    Value bytes = vector::TransferReadOp::create(
        b, loc, vecBytes(), view.value,
        view.at(batch, head, position, h.idx(b, d0)),
        h.constant(b, i8, flip ? -128 : 0), ArrayRef<bool>{inBounds});
    if (flip)
      bytes =
          arith::XOrIOp::create(b, loc, bytes, h.constant(b, vecBytes(), -128));
    return bytes;
  }

  /// 16 bytes of a row of `view` from byte `d0` (`pad` beyond its end),
  /// widened to i16 (sign-extended when `isSigned`).
  Value readRowWords(OpBuilder &b, const HeadsView &view, Value batch,
                     Value head, Value position, int64_t d0, int64_t rowLength,
                     bool isSigned, int64_t pad = 0) {
    Type i8 = b.getI8Type();
    auto bytesType = VectorType::get({16}, i8);
    Value bytes = vector::TransferReadOp::create(
        b, loc, bytesType, view.value,
        view.at(batch, head, position, h.idx(b, d0)),
        h.constant(b, i8, static_cast<double>(static_cast<int8_t>(pad))),
        ArrayRef<bool>{d0 + 16 <= rowLength});
    return widenBytes(b, bytes, isSigned);
  }

  /// `bytes` (vector<16xi8>) as vector<16xi16>: vpmovsxbw or vpmovzxbw.
  Value widenBytes(OpBuilder &b, Value bytes, bool isSigned) {
    auto wordsType = VectorType::get({16}, b.getI16Type());
    return isSigned
               ? arith::ExtSIOp::create(b, loc, wordsType, bytes).getResult()
               : arith::ExtUIOp::create(b, loc, wordsType, bytes).getResult();
  }

  /// 32 bytes of a row of `view` from byte `d0` (zeros beyond its end).
  Value readRow32(OpBuilder &b, const HeadsView &view, Value batch,
                  Value head, Value position, int64_t d0, int64_t rowLength) {
    Type i8 = b.getI8Type();
    return vector::TransferReadOp::create(
        b, loc, VectorType::get({32}, i8), view.value,
        view.at(batch, head, position, h.idx(b, d0)), h.constant(b, i8, 0),
        ArrayRef<bool>{d0 + 32 <= rowLength});
  }

  /// The bytes of `x` and `y` (vector<32xi8>) interleaved within each
  /// 128-bit half: vpunpcklbw (bytes 0-7 and 16-23 of each), or vpunpckhbw
  /// (8-15 and 24-31) when `high`.
  Value unpackBytes(OpBuilder &b, Value x, Value y, bool high) {
    SmallVector<int64_t> mask;
    for (int64_t half = 0; half < 2; ++half)
      for (int64_t i = 0; i < 8; ++i)
        mask.append({16 * half + 8 * high + i, 32 + 16 * half + 8 * high + i});
    return vector::ShuffleOp::create(b, loc, x, y, mask);
  }

  /// `bytes` (vector<32xi8>) as the 16 i16 words of one unpack with zero,
  /// in-lane (no cross-lane vpmovsxbw/vpmovzxbw, which Zen 3 issues one per
  /// cycle; unpacks go two per cycle). Unsigned bytes are zero-extended.
  /// Signed ones come out times 256 (the byte in the high half of its
  /// word): left so when `scaled` (the caller shifts its i32 sums back by
  /// 8, exact), else shifted back here (vpsraw, a sign extension).
  Value unpackWords(OpBuilder &b, Value bytes, bool high, bool isSigned,
                    bool scaled) {
    auto wordsType = VectorType::get({16}, b.getI16Type());
    Value zero = h.constant(b, VectorType::get({32}, b.getI8Type()), 0);
    Value words = vector::BitCastOp::create(
        b, loc, wordsType,
        isSigned ? unpackBytes(b, zero, bytes, high)
                 : unpackBytes(b, bytes, zero, high));
    if (isSigned && !scaled)
      words = arith::ShRSIOp::create(b, loc, words,
                                     h.constant(b, wordsType, 8));
    return words;
  }

  Value buildQueryBlock(OpBuilder &b, const Position &pos, const RowSet &set,
                        Value tileOut) {
    const int64_t rows = set.size();
    const double negInf = -std::numeric_limits<double>::infinity();
    // z_k * rowsum(q_u8) per row, subtracted from the row's raw scores.
    rowCorrections.clear();
    for (int64_t r = 0; r < rows; ++r) {
      if (c.zkS == 0 || c.widePacked) {
        rowCorrections.push_back(Value());
        continue;
      }
      auto bytesType = VectorType::get({c.d}, b.getI8Type());
      auto wideType = VectorType::get({c.d}, b.getI32Type());
      Value bytes = vector::TransferReadOp::create(
          b, loc, bytesType, q8.value,
          q8.at(pos.batch, set.head[r], set.position[r], h.idx(b, 0)),
          h.constant(b, b.getI8Type(), 0), ArrayRef<bool>{true});
      Value wide =
          c.qSigned
              ? arith::ExtSIOp::create(b, loc, wideType, bytes).getResult()
              : arith::ExtUIOp::create(b, loc, wideType, bytes).getResult();
      Value sum =
          vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, wide);
      if (c.qSigned) // q_u8 = q + 128
        sum = arith::AddIOp::create(b, loc, sum, h.i32(b, 128 * c.d));
      rowCorrections.push_back(
          arith::MulIOp::create(b, loc, sum, h.i32(b, c.zkS)));
    }
    // The direct path's query rows as u8, 4 L bytes at a time (zero beyond
    // D), read once for all key blocks.
    queryVectors.assign(rows, {});
    queryCentredSums.assign(rows, Value());
    if (c.wideDirect) {
      // The wide direct path's query rows as i16 q - z_q (storage padded
      // with z_q's byte, so 0 beyond D); with u8 K storage also their sum
      // (directScores' correction).
      const int64_t zq = c.zqU - (c.qSigned ? 128 : 0);
      auto wordsType = VectorType::get({16}, b.getI16Type());
      Value zqWords = h.constant(b, wordsType, static_cast<double>(zq));
      // Per 32 of D, in the order of wideDirectScores' key words (the
      // in-lane unpacks): 0-7 and 16-23, then 8-15 and 24-31.
      SmallVector<int64_t> lowOrder, highOrder;
      for (int64_t i = 0; i < 8; ++i) {
        lowOrder.push_back(i);
        highOrder.push_back(8 + i);
      }
      for (int64_t i = 0; i < 8; ++i) {
        lowOrder.push_back(16 + i);
        highOrder.push_back(24 + i);
      }
      Value zeroWords = h.constant(b, wordsType, 0);
      for (int64_t r = 0; r < rows; ++r) {
        Value sum;
        SmallVector<Value> natural;
        for (int64_t d0 = 0; d0 < c.d; d0 += 16) {
          Value words = arith::SubIOp::create(
              b, loc,
              readRowWords(b, q8, pos.batch, set.head[r], set.position[r], d0,
                           c.d, c.qSigned, zq),
              zqWords);
          natural.push_back(words);
          if (!c.kFlip)
            continue;
          Value part = vector::ReductionOp::create(
              b, loc, vector::CombiningKind::ADD,
              arith::ExtSIOp::create(
                  b, loc, VectorType::get({16}, b.getI32Type()), words));
          sum = sum ? arith::AddIOp::create(b, loc, sum, part).getResult()
                    : part;
        }
        if (natural.size() % 2)
          natural.push_back(zeroWords);
        for (size_t i = 0; i < natural.size(); i += 2)
          for (ArrayRef<int64_t> order : {lowOrder, highOrder})
            queryVectors[r].push_back(vector::ShuffleOp::create(
                b, loc, natural[i], natural[i + 1], order));
        queryCentredSums[r] = sum;
      }
    } else if (c.direct) {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t d0 = 0; d0 < c.d; d0 += 4 * c.lanes)
          queryVectors[r].push_back(readRowBytes(b, q8, pos.batch, set.head[r],
                                                 set.position[r], d0, c.d,
                                                 c.qSigned));
    }

    State init;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t e = 0; e < valueVectors; ++e)
        init.acc.push_back(h.constant(b, vecF32(), 0.0));
      init.max.push_back(h.constant(b, f32Type(), negInf));
      init.sum.push_back(h.constant(b, f32Type(), 0.0));
    }
    const int64_t keys = c.keyBlock;
    const int64_t fullKeyBlocks = c.t / keys, restKeys = c.t % keys;
    Value fullEnd = h.idx(b, fullKeyBlocks);
    Value needed;
    if (c.causal) {
      // The block's last row sees keys [0, last + 1 + T - S).
      needed = arith::AddIOp::create(b, loc, set.lastPosition,
                                     h.idx(b, 1 + c.t - c.s));
      needed = arith::MaxSIOp::create(
          b, loc, h.idx(b, 0),
          arith::MinSIOp::create(b, loc, needed, h.idx(b, c.t)));
      Value blocksNeeded = arith::DivUIOp::create(
          b, loc, arith::AddIOp::create(b, loc, needed, h.idx(b, keys - 1)),
          h.idx(b, keys));
      fullEnd = arith::MinUIOp::create(b, loc, fullEnd, blocksNeeded);
    }
    // The direct path's scratch tensors, carried through the key blocks
    // after the state.
    scratch.clear();
    if (c.direct) {
      const int64_t width = (keys + c.lanes - 1) / c.lanes * c.lanes;
      scratch.push_back(tensor::EmptyOp::create(
          b, loc, ArrayRef<int64_t>{rows, width}, f32Type()));
      scratch.push_back(tensor::EmptyOp::create(
          b, loc, ArrayRef<int64_t>{rows, width / keysPerWord()},
          b.getI32Type()));
    }
    const int64_t scratchCount = scratch.size();
    auto carried = [&](const State &s) {
      SmallVector<Value> flat = s.flat();
      flat.append(scratch.begin(), scratch.end());
      return flat;
    };
    auto uncarry = [&](ValueRange values) {
      scratch.assign(values.take_back(scratchCount).begin(),
                     values.take_back(scratchCount).end());
      return State::unflatten(values.drop_back(scratchCount), rows);
    };
    State state = init;
    if (fullKeyBlocks > 0) {
      auto keyLoop = scf::ForOp::create(
          b, loc, h.idx(b, 0), fullEnd, h.idx(b, 1), carried(init),
          [&](OpBuilder &lb, Location, Value kb, ValueRange values) {
            Value key0 = arith::MulIOp::create(lb, loc, kb, h.idx(lb, keys));
            State s = uncarry(values);
            scf::YieldOp::create(
                lb, loc, carried(buildKeyBlock(lb, pos, set, key0, keys, s)));
          });
      state = uncarry(keyLoop.getResults());
    }
    if (restKeys > 0) {
      Value key0 = h.idx(b, fullKeyBlocks * keys);
      if (!c.causal) {
        state = buildKeyBlock(b, pos, set, key0, restKeys, state);
      } else {
        Value visible = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                              needed, key0);
        SmallVector<Value> flat = carried(state);
        auto ifOp = scf::IfOp::create(
            b, loc, visible,
            [&](OpBuilder &tb, Location) {
              scf::YieldOp::create(
                  tb, loc,
                  carried(buildKeyBlock(tb, pos, set, key0, restKeys, state)));
            },
            [&](OpBuilder &eb, Location) {
              scf::YieldOp::create(eb, loc, flat);
            });
        state = uncarry(ifOp.getResults());
      }
    }

    // out = (l == 0) ? 0 : acc / l * s_v.
    Value zeroF = h.constant(b, f32Type(), 0.0);
    Value zeroVec = h.constant(b, vecF32(), 0.0);
    Value valueScale = h.constant(b, vecF32(), c.valueScale);
    for (int64_t r = 0; r < rows; ++r) {
      Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          state.sum[r], zeroF);
      SmallVector<Value> values;
      for (int64_t e = 0; e < valueVectors; ++e) {
        Value quotient =
            arith::DivFOp::create(b, loc, state.acc[r * valueVectors + e],
                                  h.broadcast(b, state.sum[r], c.lanes));
        values.push_back(arith::SelectOp::create(
            b, loc, empty, zeroVec,
            arith::MulFOp::create(b, loc, quotient, valueScale)));
      }
      auto [at1, at2] = set.tileAt[r];
      for (int64_t e = 0; e * c.lanes < c.dv; ++e) {
        Value value = c.wideDirect ? naturalWideColumns(b, values, e)
                      : c.direct   ? naturalColumns(b, values, e)
                                   : values[e];
        if (c.outQuant)
          value = quantizeOutput(b, value);
        int64_t width = std::min(c.lanes, c.dv - e * c.lanes);
        if (width < c.lanes)
          value = vector::ExtractStridedSliceOp::create(
              b, loc, value, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{width},
              ArrayRef<int64_t>{1});
        tileOut = vector::TransferWriteOp::create(
                      b, loc, value, tileOut,
                      ValueRange{h.idx(b, 0), h.idx(b, at1), h.idx(b, at2),
                                 h.idx(b, e * c.lanes)},
                      ArrayRef<bool>{true})
                      .getResult();
      }
    }
    return tileOut;
  }

  /// qlow.quantize of an f32 result vector (c.outQuant) as i8 lanes:
  /// x / s in f32, clamped to [qmin - z, qmax - z], rounded half to even,
  /// plus z; NaN to z (lib/Reference quantizeScalar; the same steps as
  /// qlow-convert-to-linalg's quantize with a constant zero point, with
  /// the clamp as compare and select since NaN is selected away after).
  Value quantizeOutput(OpBuilder &b, Value x) {
    const OutputQuantization &oq = *c.outQuant;
    auto vecI32Type = vecI32();
    Value divided = arith::DivFOp::create(
        b, loc, x, h.constant(b, vecF32(), static_cast<double>(oq.scale)));
    Value low = h.constant(b, vecF32(), double(oq.qmin - oq.zeroPoint));
    Value high = h.constant(b, vecF32(), double(oq.qmax - oq.zeroPoint));
    // (v < low) ? low : v, then (high < v) ? high : v.
    Value clamped = maxOf(b, divided, low);
    clamped = arith::SelectOp::create(
        b, loc,
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, high,
                              clamped),
        high, clamped);
    Value result = arith::FPToSIOp::create(
        b, loc, vecI32Type, math::RoundEvenOp::create(b, loc, clamped));
    Value zero = h.constant(b, vecI32Type, double(oq.zeroPoint));
    if (oq.zeroPoint != 0)
      result = arith::AddIOp::create(b, loc, result, zero);
    Value isNaN = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO,
                                        divided, divided);
    result = arith::SelectOp::create(b, loc, isNaN, zero, result);
    return arith::TruncIOp::create(
        b, loc, VectorType::get({c.lanes}, b.getI8Type()), result);
  }

  Value maskIndex(OpBuilder &b, unsigned dim, Value value) {
    return maskShape[dim] == 1 ? h.idx(b, 0) : value;
  }

  /// Four bytes of q's row `row` from byte 4 * group (fewer at the end of a
  /// row, zero-padded), as u8 (i8 storage flipped), broadcast to every i32
  /// lane of a vpdpbusd operand.
  Value queryBytes(OpBuilder &b, const Position &pos, Value head, Value row,
                   Value group4, int64_t count) {
    Type i8 = b.getI8Type();
    Value word;
    if (count == 4) {
      Value bytes = vector::TransferReadOp::create(
          b, loc, VectorType::get({4}, i8), q8.value,
          q8.at(pos.batch, head, row, group4), h.constant(b, i8, 0),
          ArrayRef<bool>{true});
      word = vector::BitCastOp::create(
          b, loc, VectorType::get({1}, b.getI32Type()), bytes);
    } else {
      SmallVector<Value> bytes;
      for (int64_t x = 0; x < 4; ++x)
        bytes.push_back(
            x < count
                ? tensor::ExtractOp::create(
                      b, loc, q8.value,
                      q8.at(pos.batch, head, row,
                            arith::AddIOp::create(b, loc, group4, h.idx(b, x))))
                      .getResult()
                : h.constant(b, i8, 0));
      word = vector::BitCastOp::create(
          b, loc, VectorType::get({1}, b.getI32Type()),
          vector::FromElementsOp::create(b, loc, VectorType::get({4}, i8),
                                         bytes));
    }
    Value scalar =
        vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
    Value lanes = h.broadcast(b, scalar, c.lanes);
    if (c.qSigned)
      lanes = arith::XOrIOp::create(
          b, loc, lanes,
          h.constant(b, vecI32(), static_cast<int32_t>(0x80808080)));
    return vector::BitCastOp::create(b, loc, vecBytes(), lanes);
  }

  /// One key block of `width` keys from `key0`: integer scores, the online
  /// softmax step of the semantics and the integer P * V.
  State buildKeyBlock(OpBuilder &b, const Position &pos, const RowSet &set,
                      Value key0, int64_t width, const State &in) {
    if (c.direct)
      return directKeyBlock(b, pos, set, key0, width, in);
    // Per row and chunk of L keys, sum_d (q_u8 - zqU) * (k_s8 - zkS) + zkS *
    // rowsum(q_u8) (the row's correction is subtracted in scoresToState).
    SmallVector<Value> base =
        c.direct ? directScores(b, pos, set.size(), key0, width)
                 : packedScores(b, pos, set, key0, width);
    return scoresToState(b, pos, set, key0, width, in, base);
  }

  /// The packed path's scores: sum_d q_u8 * k_s8 by vpdpbusd against the
  /// packed K, minus its per-key corrections.
  SmallVector<Value> packedScores(OpBuilder &b, const Position &pos,
                                  const RowSet &set, Value key0,
                                  int64_t width) {
    if (c.widePacked)
      return widePackedScores(b, pos, set, key0, width);
    const int64_t rows = set.size();
    const int64_t L = c.lanes;
    const int64_t chunks = (width + L - 1) / L;
    Value chunk0 = arith::DivUIOp::create(b, loc, key0, h.idx(b, L));
    SmallVector<Value> chunkIdx;
    for (int64_t k = 0; k < chunks; ++k)
      chunkIdx.push_back(arith::AddIOp::create(b, loc, chunk0, h.idx(b, k)));
    ArrayRef<Value> rowIdx = set.position;
    Value padI8 = h.constant(b, b.getI8Type(), 0);
    // Raw scores sum_d q_u8 * k_s8: rows x chunks i32 vectors, one
    // vpdpbusd per (row, chunk, 4 of D).
    auto accumulate = [&](OpBuilder &db, Value group, int64_t count,
                          ValueRange acc) {
      SmallVector<Value> kVec;
      for (int64_t k = 0; k < chunks; ++k)
        kVec.push_back(vector::TransferReadOp::create(
            db, loc, vecBytes(), kPacked,
            ValueRange{pos.batch, pos.kvHead, chunkIdx[k], group, h.idx(db, 0)},
            padI8, ArrayRef<bool>{true}));
      Value group4 = arith::MulIOp::create(db, loc, group, h.idx(db, 4));
      SmallVector<Value> next(acc.begin(), acc.end());
      for (int64_t r = 0; r < rows; ++r) {
        Value qBytes =
            queryBytes(db, pos, set.head[r], rowIdx[r], group4, count);
        for (int64_t k = 0; k < chunks; ++k)
          next[r * chunks + k] = x86::DotU8S8Op::create(
              db, loc, vecI32(), next[r * chunks + k], qBytes, kVec[k]);
      }
      return next;
    };
    SmallVector<Value> raw(rows * chunks, h.constant(b, vecI32(), 0));
    if (c.d / 4 > 0) {
      auto dLoop = scf::ForOp::create(
          b, loc, h.idx(b, 0), h.idx(b, c.d / 4), h.idx(b, 1), raw,
          [&](OpBuilder &db, Location, Value group, ValueRange acc) {
            scf::YieldOp::create(db, loc, accumulate(db, group, 4, acc));
          });
      raw.assign(dLoop.getResults().begin(), dLoop.getResults().end());
    }
    if (c.d % 4 != 0)
      raw = accumulate(b, h.idx(b, c.d / 4), c.d % 4, raw);
    SmallVector<Value> kCorrVec;
    for (int64_t k = 0; k < chunks; ++k)
      kCorrVec.push_back(vector::TransferReadOp::create(
          b, loc, vecI32(), kCorr,
          ValueRange{pos.batch, pos.kvHead,
                     arith::AddIOp::create(b, loc, key0, h.idx(b, k * L))},
          h.i32(b, 0), ArrayRef<bool>{true}));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < chunks; ++k)
        raw[r * chunks + k] =
            arith::SubIOp::create(b, loc, raw[r * chunks + k], kCorrVec[k]);
    return raw;
  }

  /// The wide packed path's scores (AVX2 without VNNI): sum_d (q - z_q) *
  /// (k - z_k) exactly, by one vpmaddwd (dot_i16x2) per (row, chunk of 8
  /// keys, pair of D): the packed K vector (packWideKeys) against the row's
  /// pair broadcast from queryPairs. No corrections: both sides are
  /// centred. Two multiplies per 4 of D where dot_u8s8's AVX2 lowering
  /// takes four.
  SmallVector<Value> widePackedScores(OpBuilder &b, const Position &pos,
                                      const RowSet &set, Value key0,
                                      int64_t width) {
    const int64_t rows = set.size();
    const int64_t L = c.lanes;
    const int64_t chunks = (width + L - 1) / L;
    auto wordsType = VectorType::get({L}, b.getI32Type());
    auto halvesType = VectorType::get({2 * L}, b.getI16Type());
    Value chunk0 = arith::DivUIOp::create(b, loc, key0, h.idx(b, L));
    SmallVector<Value> chunkIdx;
    for (int64_t k = 0; k < chunks; ++k)
      chunkIdx.push_back(arith::AddIOp::create(b, loc, chunk0, h.idx(b, k)));
    SmallVector<Value> raw(rows * chunks, h.constant(b, vecI32(), 0));
    auto pairLoop = scf::ForOp::create(
        b, loc, h.idx(b, 0), h.idx(b, (c.d + 1) / 2), h.idx(b, 1), raw,
        [&](OpBuilder &db, Location, Value pair, ValueRange acc) {
          SmallVector<Value> next(acc.begin(), acc.end());
          SmallVector<Value> kVec;
          for (int64_t k = 0; k < chunks; ++k)
            kVec.push_back(vector::BitCastOp::create(
                db, loc, halvesType,
                vector::TransferReadOp::create(
                    db, loc, wordsType, kPacked,
                    ValueRange{pos.batch, pos.kvHead, chunkIdx[k], pair,
                               h.idx(db, 0)},
                    h.i32(db, 0), ArrayRef<bool>{true})));
          for (int64_t r = 0; r < rows; ++r) {
            Value word = tensor::ExtractOp::create(
                db, loc, queryPairs,
                ValueRange{pos.batch, set.head[r], set.position[r], pair});
            Value qPair = vector::BitCastOp::create(db, loc, halvesType,
                                                    h.broadcast(db, word, L));
            for (int64_t k = 0; k < chunks; ++k)
              next[r * chunks + k] = x86::DotI16x2Op::create(
                  db, loc, vecI32(), next[r * chunks + k], kVec[k], qPair);
          }
          scf::YieldOp::create(db, loc, next);
        });
    return SmallVector<Value>(pairLoop.getResults());
  }

  /// The direct path's scores, K read in place: per key row (4 L bytes of D
  /// at a time) one vpdpbusd of the query row and one of z_q (its L lanes
  /// hold partial sums of sum_d (q_u8 - zqU) * k_s8), then the L key rows of
  /// a chunk summed lane-wise by lanewiseSums; plus D * zqU * zkS. The z_q
  /// products are shared by the rows.
  SmallVector<Value> directScores(OpBuilder &b, const Position &pos,
                                  int64_t rows, Value key0, int64_t width) {
    if (c.wideDirect)
      return wideDirectScores(b, pos, rows, key0, width);
    const int64_t width8 = 4 * c.lanes;
    Value zeroI32 = h.constant(b, vecI32(), 0);
    // zqU in the bytes of D (zero beyond, where the key bytes are too).
    SmallVector<Value> zqBytes;
    for (int64_t d0 = 0; d0 < c.d; d0 += width8) {
      SmallVector<int8_t> bytes(width8, 0);
      for (int64_t x = 0; x < std::min(width8, c.d - d0); ++x)
        bytes[x] = static_cast<int8_t>(c.zqU);
      zqBytes.push_back(arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vecBytes(), ArrayRef<int8_t>(bytes))));
    }
    SmallVector<Value> rowOffsets(rows);
    if (c.d * c.zqU * c.zkS != 0)
      for (Value &offset : rowOffsets)
        offset = h.constant(b, vecI32(),
                            static_cast<int32_t>(c.d * c.zqU * c.zkS));
    auto keyPartials = [&](Value key) {
      SmallVector<Value> keyBytes;
      for (int64_t d0 = 0; d0 < c.d; d0 += width8)
        keyBytes.push_back(readRowBytes(b, k8, pos.batch, pos.kvHead, key, d0,
                                        c.d, c.kFlip));
      Value zqPart;
      if (c.zqU != 0) {
        zqPart = zeroI32;
        for (auto [x, bytes] : llvm::enumerate(keyBytes))
          zqPart = x86::DotU8S8Op::create(b, loc, vecI32(), zqPart, zqBytes[x],
                                          bytes);
      }
      SmallVector<Value> partial;
      for (int64_t r = 0; r < rows; ++r) {
        Value sum = zeroI32;
        for (auto [x, bytes] : llvm::enumerate(keyBytes))
          sum = x86::DotU8S8Op::create(b, loc, vecI32(), sum,
                                       queryVectors[r][x], bytes);
        if (zqPart)
          sum = arith::SubIOp::create(b, loc, sum, zqPart);
        partial.push_back(sum);
      }
      return partial;
    };
    return directChunks(b, rows, key0, width, keyPartials, rowOffsets);
  }

  /// The direct paths' scores per row and chunk of L keys from the key rows
  /// read in place: `keyPartials(key)` gives each row's L lanes of partial
  /// sums for one key (their sum is the raw score), the chunk's L keys are
  /// summed lane-wise by halving shuffles (lanewiseSums), and the row's
  /// `rowOffsets` vector is added (none where null).
  SmallVector<Value>
  directChunks(OpBuilder &b, int64_t rows, Value key0, int64_t width,
               function_ref<SmallVector<Value>(Value key)> keyPartials,
               ArrayRef<Value> rowOffsets) {
    const int64_t L = c.lanes;
    const int64_t chunks = (width + L - 1) / L;
    Value zeroI32 = h.constant(b, vecI32(), 0);
    SmallVector<Value> out(rows * chunks);
    for (int64_t k = 0; k < chunks; ++k) {
      const int64_t valid = std::min(L, width - k * L);
      SmallVector<SmallVector<Value>> partial(rows);
      for (int64_t j = 0; j < L; ++j) {
        SmallVector<Value> perRow =
            j < valid ? keyPartials(arith::AddIOp::create(
                            b, loc, key0, h.idx(b, k * L + j)))
                      : SmallVector<Value>(rows, zeroI32);
        for (int64_t r = 0; r < rows; ++r)
          partial[r].push_back(perRow[r]);
      }
      for (int64_t r = 0; r < rows; ++r) {
        Value sums = lanewiseSums(b, loc, partial[r]);
        if (rowOffsets[r])
          sums = arith::AddIOp::create(b, loc, sums, rowOffsets[r]);
        out[r * chunks + k] = sums;
      }
    }
    return out;
  }

  /// directScores on AVX2 without VNNI, in i16: per key row, 32 bytes of D
  /// at a time made words by in-lane unpacks with zero (unpackWords: u8
  /// storage zero-extended, s8 storage times 256) and multiplied by the
  /// row's q - z_q (queryVectors, i16, in the unpacks' order of D) with
  /// vpmaddwd (dot_i16x2): exact, since |q - z_q| <= 255, |k| <= 255 and,
  /// for s8 storage, D * 255 * 128 * 256 < 2^31 (D <= 256; beyond, the
  /// words are shifted back with vpsraw first). Then the L key rows of a
  /// chunk summed lane-wise, as on the VNNI path, and s8's factor 256
  /// shifted out (exact: every product is a multiple of 256). The same sum,
  /// sum_d (q_u8 - zqU) * k_s8 + D * zqU * zkS: with u8 storage k_s8 =
  /// k - 128, so 128 * sum_d (q - z_q) is subtracted once per row. Per 32
  /// bytes of K: two unpacks and two multiplies, where dot_u8s8's AVX2
  /// lowering takes eight multiplies and the z_q products as many again.
  SmallVector<Value> wideDirectScores(OpBuilder &b, const Position &pos,
                                      int64_t rows, Value key0,
                                      int64_t width) {
    Value zeroI32 = h.constant(b, vecI32(), 0);
    const bool scaled = !c.kFlip && c.d <= 256;
    SmallVector<Value> rowOffsets(rows);
    for (int64_t r = 0; r < rows; ++r) {
      Value offset = h.i32(b, c.d * c.zqU * c.zkS);
      if (c.kFlip)
        offset = arith::SubIOp::create(
            b, loc, offset,
            arith::MulIOp::create(b, loc, queryCentredSums[r], h.i32(b, 128)));
      rowOffsets[r] = h.broadcast(b, offset, c.lanes);
    }
    auto keyPartials = [&](Value key) {
      SmallVector<Value> keyWords;
      for (int64_t d0 = 0; d0 < c.d; d0 += 32) {
        Value bytes = readRow32(b, k8, pos.batch, pos.kvHead, key, d0, c.d);
        for (bool high : {false, true})
          keyWords.push_back(
              unpackWords(b, bytes, high, /*isSigned=*/!c.kFlip, scaled));
      }
      SmallVector<Value> partial;
      for (int64_t r = 0; r < rows; ++r) {
        Value sum = zeroI32;
        for (auto [x, words] : llvm::enumerate(keyWords))
          sum = x86::DotI16x2Op::create(b, loc, vecI32(), sum,
                                        queryVectors[r][x], words);
        partial.push_back(sum);
      }
      return partial;
    };
    SmallVector<Value> noOffsets(rows);
    SmallVector<Value> out =
        directChunks(b, rows, key0, width, keyPartials, noOffsets);
    const int64_t chunks = out.size() / std::max<int64_t>(rows, 1);
    for (auto [i, sums] : llvm::enumerate(out)) {
      if (scaled)
        sums = arith::ShRSIOp::create(b, loc, sums,
                                      h.constant(b, vecI32(), 8));
      sums = arith::AddIOp::create(b, loc, sums, rowOffsets[i / chunks]);
    }
    return out;
  }

  /// The f32 scores of row `r` for the chunk of `valid` (<= L) keys from
  /// `chunkKey0`, from its integer sums `a`: minus the row's correction,
  /// times the score scale, plus an additive mask; masked keys (boolean or
  /// causal masks, lanes beyond `valid`) are -inf.
  Value maskedScores(OpBuilder &b, const Position &pos, const RowSet &set,
                     int64_t r, Value chunkKey0, int64_t valid, Value a) {
    const int64_t L = c.lanes;
    ArrayRef<Value> rowIdx = set.position;
    Value scoreScale = h.constant(b, vecF32(), c.scoreScale);
    Value negInfVec =
        h.constant(b, vecF32(), -std::numeric_limits<double>::infinity());
    SmallVector<int32_t> laneIds;
    for (int64_t x = 0; x < L; ++x)
      laneIds.push_back(static_cast<int32_t>(x));
    Value laneIdVec = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecI32(), ArrayRef<int32_t>(laneIds)));
    if (rowCorrections[r])
      a = arith::SubIOp::create(b, loc, a,
                                h.broadcast(b, rowCorrections[r], L));
    Value s = arith::MulFOp::create(
        b, loc, arith::SIToFPOp::create(b, loc, vecF32(), a), scoreScale);
    Value keep;
    if (valid < L)
      keep = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::slt, laneIdVec,
          h.constant(b, vecI32(), static_cast<double>(valid)));
    if (mask) {
      SmallVector<Value> at = {maskIndex(b, 0, pos.batch),
                               maskIndex(b, 1, set.head[r]),
                               maskIndex(b, 2, rowIdx[r])};
      if (maskShape[3] == 1) {
        at.push_back(h.idx(b, 0));
        Value scalar = tensor::ExtractOp::create(b, loc, mask, at);
        if (boolMask) {
          Value bits = h.broadcast(b, scalar, L);
          keep = keep
                     ? arith::AndIOp::create(b, loc, keep, bits).getResult()
                     : bits;
        } else {
          s = arith::AddFOp::create(b, loc, s, h.broadcast(b, scalar, L));
        }
      } else if (!boolMask) {
        at.push_back(chunkKey0);
        Value add = vector::TransferReadOp::create(
            b, loc, VectorType::get({valid}, f32Type()), mask, at,
            h.constant(b, f32Type(), 0.0), ArrayRef<bool>{true});
        if (valid < L)
          add = vector::InsertStridedSliceOp::create(
              b, loc, add, h.constant(b, vecF32(), 0.0),
              ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
        s = arith::AddFOp::create(b, loc, s, add);
      } else {
        // i1 elements one by one (memory holds a byte per element).
        SmallVector<Value> bits;
        for (int64_t x = 0; x < L; ++x) {
          if (x >= valid) {
            bits.push_back(
                arith::ConstantOp::create(b, loc, b.getBoolAttr(false)));
            continue;
          }
          SmallVector<Value> atKey(at);
          atKey.push_back(
              arith::AddIOp::create(b, loc, chunkKey0, h.idx(b, x)));
          bits.push_back(tensor::ExtractOp::create(b, loc, mask, atKey));
        }
        Value bitVec = vector::FromElementsOp::create(
            b, loc, VectorType::get({L}, b.getI1Type()), bits);
        keep = keep
                   ? arith::AndIOp::create(b, loc, keep, bitVec).getResult()
                   : bitVec;
      }
    }
    if (c.causal) {
      // Key j is visible from row i when j <= i + T - S: lane x when
      // x <= row + T - S - chunkKey0 (clamped into i32 range).
      Value limit = arith::SubIOp::create(
          b, loc,
          arith::AddIOp::create(b, loc, rowIdx[r], h.idx(b, c.t - c.s)),
          chunkKey0);
      limit = arith::MaxSIOp::create(
          b, loc, h.idx(b, -1),
          arith::MinSIOp::create(b, loc, limit, h.idx(b, L)));
      Value limit32 =
          arith::IndexCastOp::create(b, loc, b.getI32Type(), limit);
      Value visible =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle,
                                laneIdVec, h.broadcast(b, limit32, L));
      keep = keep ? arith::AndIOp::create(b, loc, keep, visible).getResult()
                  : visible;
    }
    if (keep)
      s = arith::SelectOp::create(b, loc, keep, s, negInfVec);
    return s;
  }

  /// The block's lane-wise maximum `maxVec` of row `r` folded into its
  /// running state: the new maximum, and the running sum and accumulators
  /// rescaled by alpha = E(m_old - m_new) (0 while no key was kept; the
  /// block's sums are added by addValueSums). Returns the maximum that the
  /// block's probabilities subtract: m_new, or 0 when it is -inf (every key
  /// so far masked).
  Value blockMaximum(OpBuilder &b, int64_t r, Value maxVec, State &out) {
    Value negInfScalar =
        h.constant(b, f32Type(), -std::numeric_limits<double>::infinity());
    // A -inf score is masked; with no kept key so far, max stays -inf
    // (safeMax keeps the unselected lanes finite).
    Value blockMax = reduceLanes(b, maxVec, /*max=*/true);
    Value newMax = maxOf(b, out.max[r], blockMax);
    Value noneYet = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          newMax, negInfScalar);
    Value safeMax = arith::SelectOp::create(
        b, loc, noneYet, h.constant(b, f32Type(), 0.0), newMax);
    Value hadNone = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          out.max[r], negInfScalar);
    Value alpha = arith::SelectOp::create(
        b, loc, hadNone, h.constant(b, f32Type(), 0.0),
        expE(b, arith::SubFOp::create(b, loc, out.max[r], safeMax)));
    out.sum[r] = arith::MulFOp::create(b, loc, out.sum[r], alpha);
    out.max[r] = newMax;
    Value alphaVec = h.broadcast(b, alpha, c.lanes);
    for (int64_t e = 0; e < valueVectors; ++e) {
      Value &acc = out.acc[r * valueVectors + e];
      acc = arith::MulFOp::create(b, loc, acc, alphaVec);
    }
    return safeMax;
  }

  /// u = roundeven(255 * E(s - max)) in i32 lanes. A masked lane (s = -inf)
  /// has u = 0 without a select: E clamps its argument at -87, and
  /// round(255 * E(-87)) = round(4e-36) = 0.
  Value probabilities(OpBuilder &b, Value s, Value safeMaxVec) {
    Value e = expE(b, arith::SubFOp::create(b, loc, s, safeMaxVec));
    return arith::FPToSIOp::create(
        b, loc, vecI32(),
        math::RoundEvenOp::create(
            b, loc,
            arith::MulFOp::create(b, loc, e, h.constant(b, vecF32(), 255.0))));
  }

  /// acc = acc * alpha + f32(sum u * (v - z_v)) for row `r` (blockMaximum
  /// did the rescaling), from the block's integer sums `pv` of u times the
  /// stored values (the wide direct path's are of the storage, u8 storage
  /// being v_s8 + 128) and the block's sum of u (`probSum`, i32), which is
  /// also added to the running sum.
  void addValueSums(OpBuilder &b, int64_t r, Value probSum,
                    ArrayRef<Value> pv, State &out) {
    out.sum[r] = arith::AddFOp::create(
        b, loc, out.sum[r],
        arith::SIToFPOp::create(b, loc, f32Type(), probSum));
    const int64_t zv =
        c.widePacked ? 0 : c.zvS + (c.wideDirect && c.vFlip ? 128 : 0);
    Value correction;
    if (zv != 0)
      correction = h.broadcast(
          b, arith::MulIOp::create(b, loc, probSum, h.i32(b, zv)), c.lanes);
    for (int64_t e = 0; e < valueVectors; ++e) {
      Value sum = pv[r * valueVectors + e];
      if (correction)
        sum = arith::SubIOp::create(b, loc, sum, correction);
      Value &acc = out.acc[r * valueVectors + e];
      acc = arith::AddFOp::create(
          b, loc, acc, arith::SIToFPOp::create(b, loc, vecF32(), sum));
    }
  }

  /// From the scores of a key block (`base`, per row and chunk; see
  /// buildKeyBlock), the online softmax step of the semantics and the
  /// integer P * V.
  State scoresToState(OpBuilder &b, const Position &pos, const RowSet &set,
                      Value key0, int64_t width, const State &in,
                      ArrayRef<Value> base) {
    const int64_t rows = set.size();
    const int64_t L = c.lanes;
    const int64_t chunks = (width + L - 1) / L;
    State out = in;
    SmallVector<SmallVector<Value>> probs(rows);
    SmallVector<Value> probSums(rows);
    for (int64_t r = 0; r < rows; ++r) {
      SmallVector<Value> scores;
      Value maxVec; // lane-wise maximum over the chunks
      for (int64_t k = 0; k < chunks; ++k) {
        const int64_t valid = std::min(L, width - k * L);
        Value chunkKey0 = arith::AddIOp::create(b, loc, key0, h.idx(b, k * L));
        Value s = maskedScores(b, pos, set, r, chunkKey0, valid,
                               base[r * chunks + k]);
        scores.push_back(s);
        maxVec = maxVec ? maxOf(b, maxVec, s) : s;
      }
      Value safeMaxVec = h.broadcast(b, blockMaximum(b, r, maxVec, out), L);
      Value sumVec; // lane-wise sum of u over the chunks
      for (int64_t k = 0; k < chunks; ++k) {
        Value u = probabilities(b, scores[k], safeMaxVec);
        probs[r].push_back(u);
        sumVec =
            sumVec ? arith::AddIOp::create(b, loc, sumVec, u).getResult() : u;
      }
      probSums[r] = reduceLanes(b, sumVec, /*max=*/false);
    }

    // P * V: per 4 keys, the four u8 probabilities of a row broadcast
    // against a packed V vector (4 keys x L columns).
    SmallVector<Value> pv(rows * valueVectors, h.constant(b, vecI32(), 0));
    if (c.widePacked)
      widePackedValues(b, pos, rows, key0, width, probs, pv);
    else
      addValueProducts(b, pos, rows, key0, width, probs, pv);
    for (int64_t r = 0; r < rows; ++r)
      addValueSums(b, r, probSums[r], pv, out);
    return out;
  }

  /// The u (i32 lanes, at most 255) of a chunk of L keys as pairs: word i
  /// holds keys 2i and 2i + 1 as its i16 halves (vector<L/2 x i32>).
  Value probabilityPairs(OpBuilder &b, Value probs) {
    return vector::BitCastOp::create(
        b, loc, VectorType::get({c.lanes / 2}, b.getI32Type()),
        arith::TruncIOp::create(
            b, loc, VectorType::get({c.lanes}, b.getI16Type()), probs));
  }

  /// Word `word` of `pairs` (probabilityPairs) broadcast, as the 2 L i16
  /// that vpmaddwd multiplies the pair's value words by.
  Value broadcastPair(OpBuilder &b, Value pairs, int64_t word) {
    return vector::BitCastOp::create(
        b, loc, VectorType::get({2 * c.lanes}, b.getI16Type()),
        h.broadcast(b,
                    vector::ExtractOp::create(b, loc, pairs,
                                              ArrayRef<int64_t>{word}),
                    c.lanes));
  }

  /// Keys per i32 word of stored probabilities on the direct path: pairs
  /// of i16 for vpmaddwd (wide), quads of u8 for vpdpbusd.
  int64_t keysPerWord() const { return c.wideDirect ? 2 : 4; }

  /// A key block of the direct path (K and V read in place: decode steps),
  /// as loops over its keys rather than the straight-line code of the
  /// packed path: in scf.for loops over chunks of L keys, the scores
  /// (directScores, maskedScores) are stored to the work item's scratch
  /// tensor beside their lane-wise maxima; then the probabilities u of each
  /// chunk (stored as words of keysPerWord() keys) and their sums; then
  /// P * V over pairs of keys (pairValueProducts, in i16 on AVX2 without
  /// VNNI) or groups of 4 (groupValueProducts, vpdpbusd). Unrolled over a
  /// 64-key block, the AVX2 kernel was about 3100 instructions per block:
  /// more than Zen 3's op cache serves, so that it ran from the legacy
  /// decoders at about 17 cycles per key (12 heads, 513 keys, D = Dv = 64;
  /// 14 now); and blocks of 256 keys with D = 272 took minutes to compile.
  State directKeyBlock(OpBuilder &b, const Position &pos, const RowSet &set,
                       Value key0, int64_t width, const State &in) {
    const int64_t rows = set.size();
    const int64_t L = c.lanes;
    const int64_t chunks = (width + L - 1) / L;
    const int64_t fullChunks = width / L, restKeys = width % L;
    State out = in;

    // Scores, stored per row at [r, key - key0]; their lane-wise maxima.
    auto scoreChunk = [&](OpBuilder &cb, Value k, int64_t valid,
                          ValueRange carried) {
      Value at = arith::MulIOp::create(cb, loc, k, h.idx(cb, L));
      Value chunkKey0 = arith::AddIOp::create(cb, loc, key0, at);
      SmallVector<Value> base = directScores(cb, pos, rows, chunkKey0, valid);
      Value scores = carried[0];
      SmallVector<Value> next = {Value()};
      for (int64_t r = 0; r < rows; ++r) {
        Value s = maskedScores(cb, pos, set, r, chunkKey0, valid, base[r]);
        scores = vector::TransferWriteOp::create(
                     cb, loc, s, scores, ValueRange{h.idx(cb, r), at},
                     ArrayRef<bool>{true})
                     .getResult();
        next.push_back(maxOf(cb, carried[1 + r], s));
      }
      next[0] = scores;
      return next;
    };
    SmallVector<Value> carried = {scratch[0]};
    carried.append(rows, h.constant(b, vecF32(),
                                    -std::numeric_limits<double>::infinity()));
    carried = loopOver(b, loc, fullChunks, carried,
                       [&](OpBuilder &lb, Value k, ValueRange values) {
                         return scoreChunk(lb, k, L, values);
                       });
    if (restKeys > 0)
      carried = scoreChunk(b, h.idx(b, fullChunks), restKeys, carried);
    scratch[0] = carried[0];
    SmallVector<Value> safeMaxVec;
    for (int64_t r = 0; r < rows; ++r)
      safeMaxVec.push_back(
          h.broadcast(b, blockMaximum(b, r, carried[1 + r], out), L));

    // Probabilities: u per key, stored as words of keysPerWord() keys (on
    // the wide path keys 2i, 2i + 1 as the i16 halves of word i of the row;
    // else keys 4i to 4i + 3 as its bytes), and their lane-wise sums. Lanes
    // beyond the block's keys have s = -inf and u = 0.
    carried.assign({scratch[1]});
    carried.append(rows, h.constant(b, vecI32(), 0));
    carried = loopOver(
        b, loc, chunks, carried, [&](OpBuilder &lb, Value k, ValueRange values) {
          Value at = arith::MulIOp::create(lb, loc, k, h.idx(lb, L));
          Value wordAt =
              arith::MulIOp::create(lb, loc, k, h.idx(lb, L / keysPerWord()));
          Value words = values[0];
          SmallVector<Value> next = {Value()};
          for (int64_t r = 0; r < rows; ++r) {
            Value s = vector::TransferReadOp::create(
                lb, loc, vecF32(), scratch[0], ValueRange{h.idx(lb, r), at},
                h.constant(lb, f32Type(), 0.0), ArrayRef<bool>{true});
            Value u = probabilities(lb, s, safeMaxVec[r]);
            Value packed =
                c.wideDirect
                    ? probabilityPairs(lb, u)
                    : vector::BitCastOp::create(
                          lb, loc, VectorType::get({L / 4}, lb.getI32Type()),
                          arith::TruncIOp::create(
                              lb, loc, VectorType::get({L}, lb.getI8Type()),
                              u))
                          .getResult();
            words = vector::TransferWriteOp::create(
                        lb, loc, packed, words,
                        ValueRange{h.idx(lb, r), wordAt}, ArrayRef<bool>{true})
                        .getResult();
            next.push_back(arith::AddIOp::create(lb, loc, values[1 + r], u));
          }
          next[0] = words;
          return next;
        });
    scratch[1] = carried[0];
    SmallVector<Value> probSums;
    for (int64_t r = 0; r < rows; ++r)
      probSums.push_back(reduceLanes(b, carried[1 + r], /*max=*/false));

    SmallVector<Value> pv(rows * valueVectors, h.constant(b, vecI32(), 0));
    if (!c.wideDirect) {
      // P * V over groups of 4 keys (the last one partial when the block's
      // keys are not a multiple of 4), all value vectors at a time.
      pv = loopOver(b, loc, width / 4, pv,
                    [&](OpBuilder &lb, Value g, ValueRange values) {
                      return groupValueProducts(lb, pos, rows, key0, g, 4,
                                                values);
                    });
      if (width % 4)
        pv = groupValueProducts(b, pos, rows, key0, h.idx(b, width / 4),
                                width % 4, pv);
    } else {
      // P * V, 32 columns at a time, over the block's pairs of keys (the
      // last one alone when the block has an odd number of keys).
      const bool scaled = !c.vFlip && width < 256;
      for (int64_t x = 0; 32 * x < c.dv; ++x) {
        SmallVector<Value> sums;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t j = 0; j < 4; ++j)
            sums.push_back(pv[r * valueVectors + 4 * x + j]);
        sums = loopOver(b, loc, width / 2, sums,
                        [&](OpBuilder &lb, Value g, ValueRange values) {
                          return pairValueProducts(lb, pos, rows, key0, g,
                                                   /*second=*/true, x, scaled,
                                                   values);
                        });
        if (width % 2)
          sums = pairValueProducts(b, pos, rows, key0, h.idx(b, width / 2),
                                   /*second=*/false, x, scaled, sums);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t j = 0; j < 4; ++j)
            pv[r * valueVectors + 4 * x + j] = sums[4 * r + j];
      }
      if (scaled)
        for (Value &sum : pv)
          sum =
              arith::ShRSIOp::create(b, loc, sum, h.constant(b, vecI32(), 8));
    }
    for (int64_t r = 0; r < rows; ++r)
      addValueSums(b, r, probSums[r], pv, out);
    return out;
  }

  /// The wide direct path's P * V for columns [32 x, 32 x + 32) and pair
  /// `g` of the block's keys (key0 + 2 g, and key0 + 2 g + 1 when `second`):
  /// `sums` (4 per row) plus, per row, the pair's two value rows times its
  /// two probabilities (the word the probability loop stored, broadcast as
  /// i16 halves). The rows' bytes are interleaved (vpunpck{l,h}bw), then
  /// made words by unpacks with zero (unpackWords: u8 storage zero-extended,
  /// s8 storage times 256 when `scaled`), so that each i32 lane holds one
  /// column's two values; vpmaddwd (dot_i16x2) multiplies them by the two
  /// probabilities: exact (u <= 255, |v| <= 255; for s8 storage the block's
  /// sums stay below 2^31 when it has fewer than 256 keys, and are shifted
  /// back by 8 at its end; wider blocks shift the words instead). Six
  /// in-lane unpacks and four multiplies per 2 keys and 32 columns, where
  /// widening each row (vpmovzxbw, one per cycle on Zen 3) and interleaving
  /// the words took eight unpacks. The unpacks work within 128-bit halves:
  /// of each 32 columns the four vectors hold columns 0-3 and 16-19, 4-7 and
  /// 20-23, 8-11 and 24-27, 12-15 and 28-31 (naturalWideColumns puts them
  /// back).
  SmallVector<Value> pairValueProducts(OpBuilder &b, const Position &pos,
                                       int64_t rows, Value key0, Value g,
                                       bool second, int64_t x, bool scaled,
                                       ValueRange sums) {
    Value first = arith::AddIOp::create(
        b, loc, key0, arith::MulIOp::create(b, loc, g, h.idx(b, 2)));
    Value rowsOfPair[2] = {
        readRow32(b, v8, pos.batch, pos.kvHead, first, 32 * x, c.dv),
        second ? readRow32(b, v8, pos.batch, pos.kvHead,
                           arith::AddIOp::create(b, loc, first, h.idx(b, 1)),
                           32 * x, c.dv)
               : h.constant(b, VectorType::get({32}, b.getI8Type()), 0)};
    SmallVector<Value> pWords;
    for (int64_t r = 0; r < rows; ++r) {
      Value word = tensor::ExtractOp::create(b, loc, scratch[1],
                                             ValueRange{h.idx(b, r), g});
      pWords.push_back(vector::BitCastOp::create(
          b, loc, VectorType::get({2 * c.lanes}, b.getI16Type()),
          h.broadcast(b, word, c.lanes)));
    }
    Value interleaved[2] = {
        unpackBytes(b, rowsOfPair[0], rowsOfPair[1], /*high=*/false),
        unpackBytes(b, rowsOfPair[0], rowsOfPair[1], /*high=*/true)};
    SmallVector<Value> next(sums.begin(), sums.end());
    for (int64_t j = 0; j < 4; ++j) {
      Value words = unpackWords(b, interleaved[j / 2], /*high=*/j % 2,
                                /*isSigned=*/!c.vFlip, scaled);
      for (int64_t r = 0; r < rows; ++r)
        next[4 * r + j] = x86::DotI16x2Op::create(b, loc, vecI32(),
                                                  next[4 * r + j], words,
                                                  pWords[r]);
    }
    return next;
  }

  /// The direct path's P * V (vpdpbusd) for group `g` of 4 of the block's
  /// keys (key0 + 4 g on, `count` of them): `sums` (valueVectors per row)
  /// plus, per row, the group's 4 value rows interleaved (interleavedValues)
  /// times its 4 u8 probabilities (the word the probability loop stored,
  /// broadcast).
  SmallVector<Value> groupValueProducts(OpBuilder &b, const Position &pos,
                                        int64_t rows, Value key0, Value g,
                                        int64_t count, ValueRange sums) {
    Value first = arith::AddIOp::create(
        b, loc, key0, arith::MulIOp::create(b, loc, g, h.idx(b, 4)));
    SmallVector<Value> vVec = interleavedValues(b, pos, first, 0, count);
    SmallVector<Value> next(sums.begin(), sums.end());
    for (int64_t r = 0; r < rows; ++r) {
      Value word = tensor::ExtractOp::create(b, loc, scratch[1],
                                             ValueRange{h.idx(b, r), g});
      Value pBytes = vector::BitCastOp::create(b, loc, vecBytes(),
                                               h.broadcast(b, word, c.lanes));
      for (int64_t e = 0; e < valueVectors; ++e)
        next[r * valueVectors + e] = x86::DotU8S8Op::create(
            b, loc, vecI32(), next[r * valueVectors + e], pBytes, vVec[e]);
    }
    return next;
  }

  /// The wide packed path's P * V (AVX2 without VNNI): per pair of keys,
  /// the pair's probabilities as two i16 halves of a broadcast word against
  /// each packed vector of 8 columns (packWideValues, v - z_v): one
  /// vpmaddwd (dot_i16x2) per (row, 2 keys, 8 columns), exact, and no
  /// z_v correction.
  void widePackedValues(OpBuilder &b, const Position &pos, int64_t rows,
                        Value key0, int64_t width,
                        ArrayRef<SmallVector<Value>> probs,
                        MutableArrayRef<Value> pv) {
    const int64_t L = c.lanes;
    const int64_t chunks = (width + L - 1) / L;
    const int64_t pairs = (width + 1) / 2;
    auto wordsType = VectorType::get({L}, b.getI32Type());
    auto halvesType = VectorType::get({2 * L}, b.getI16Type());
    SmallVector<SmallVector<Value>> probPairs(rows);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < chunks; ++k)
        probPairs[r].push_back(probabilityPairs(b, probs[r][k]));
    Value pair0 = arith::DivUIOp::create(b, loc, key0, h.idx(b, 2));
    for (int64_t g = 0; g < pairs; ++g) {
      Value pair = arith::AddIOp::create(b, loc, pair0, h.idx(b, g));
      SmallVector<Value> vVec;
      for (int64_t e = 0; e < valueVectors; ++e)
        vVec.push_back(vector::BitCastOp::create(
            b, loc, halvesType,
            vector::TransferReadOp::create(
                b, loc, wordsType, vPacked,
                ValueRange{pos.batch, pos.kvHead, pair, h.idx(b, e),
                           h.idx(b, 0)},
                h.i32(b, 0), ArrayRef<bool>{true})));
      const int64_t k = (2 * g) / L, word = (2 * g) % L / 2;
      for (int64_t r = 0; r < rows; ++r) {
        Value pWords = broadcastPair(b, probPairs[r][k], word);
        for (int64_t e = 0; e < valueVectors; ++e)
          pv[r * valueVectors + e] = x86::DotI16x2Op::create(
              b, loc, vecI32(), pv[r * valueVectors + e], vVec[e], pWords);
      }
    }
  }

  /// Columns [8 e, 8 e + 8) from the wide direct path's vectors `values`
  /// (see pairValueProducts): of the 32 columns' four vectors, 0-7 are the
  /// low halves of the first two, 8-15 those of the last two, 16-23 and
  /// 24-31 their high halves.
  Value naturalWideColumns(OpBuilder &b, ArrayRef<Value> values, int64_t e) {
    const int64_t first = 4 * (e / 4) + 2 * (e % 2), half = (e % 4) / 2;
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < 4; ++i)
      mask.push_back(4 * half + i);
    for (int64_t i = 0; i < 4; ++i)
      mask.push_back(8 + 4 * half + i);
    return vector::ShuffleOp::create(b, loc, values[first], values[first + 1],
                                     mask);
  }

  /// The packed path's P * V by dot_u8s8: per 4 keys, the four u8
  /// probabilities of a row broadcast against 4 keys x L columns of packed
  /// V.
  void addValueProducts(OpBuilder &b, const Position &pos, int64_t rows,
                        Value key0, int64_t width,
                        ArrayRef<SmallVector<Value>> probs,
                        MutableArrayRef<Value> pv) {
    const int64_t L = c.lanes;
    const int64_t chunks = (width + L - 1) / L;
    Value padI8 = h.constant(b, b.getI8Type(), 0);
    SmallVector<SmallVector<Value>> probWords(rows);
    auto wordsType = VectorType::get({L / 4}, b.getI32Type());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < chunks; ++k)
        probWords[r].push_back(vector::BitCastOp::create(
            b, loc, wordsType,
            arith::TruncIOp::create(b, loc, VectorType::get({L}, b.getI8Type()),
                                    probs[r][k])));
    Value group0 = arith::DivUIOp::create(b, loc, key0, h.idx(b, 4));
    for (int64_t g = 0; g < (width + 3) / 4; ++g) {
      const int64_t k = (4 * g) / L, word = (4 * g) % L / 4;
      SmallVector<Value> vVec;
      Value group = arith::AddIOp::create(b, loc, group0, h.idx(b, g));
      for (int64_t e = 0; e < valueVectors; ++e)
        vVec.push_back(vector::TransferReadOp::create(
            b, loc, vecBytes(), vPacked,
            ValueRange{pos.batch, pos.kvHead, group, h.idx(b, e), h.idx(b, 0)},
            padI8, ArrayRef<bool>{true}));
      for (int64_t r = 0; r < rows; ++r) {
        Value scalar = vector::ExtractOp::create(b, loc, probWords[r][k],
                                                 ArrayRef<int64_t>{word});
        Value pBytes = vector::BitCastOp::create(b, loc, vecBytes(),
                                                 h.broadcast(b, scalar, L));
        for (int64_t e = 0; e < valueVectors; ++e)
          pv[r * valueVectors + e] = x86::DotU8S8Op::create(
              b, loc, vecI32(), pv[r * valueVectors + e], pBytes, vVec[e]);
      }
    }
  }

  /// The direct path's V operands of 4 keys (key0 + first, `count` of
  /// them, the others zero): per 4 L columns, the 4 value rows (read in
  /// place) interleaved by unpacks within 16-byte blocks: bytes of rows
  /// 0, 1 and of rows 2, 3 into pairs (punpck{l,h}bw), the pairs into
  /// 4-byte groups (punpck{l,h}wd). Vector k of a chunk holds column
  /// permutedColumn(k, i) in lane i, s8 (u8 storage flipped).
  SmallVector<Value> interleavedValues(OpBuilder &b, const Position &pos,
                                       Value key0, int64_t first,
                                       int64_t count) {
    const int64_t width8 = 4 * c.lanes;
    auto unpack = [&](Value x, Value y, int64_t bytesPerElement, bool high) {
      // Elements of `bytesPerElement` bytes, blocks of 16 bytes.
      const int64_t n = width8 / bytesPerElement;
      const int64_t perBlock = 16 / bytesPerElement;
      SmallVector<int64_t> mask;
      for (int64_t block = 0; block < n / perBlock; ++block)
        for (int64_t i = 0; i < perBlock / 2; ++i)
          for (int64_t source = 0; source < 2; ++source)
            mask.push_back(source * n + block * perBlock +
                           (high ? perBlock / 2 : 0) + i);
      auto type =
          VectorType::get({n}, IntegerType::get(ctx(), 8 * bytesPerElement));
      Value first = vector::BitCastOp::create(b, loc, type, x);
      Value second = vector::BitCastOp::create(b, loc, type, y);
      return vector::BitCastOp::create(
                 b, loc, vecBytes(),
                 vector::ShuffleOp::create(b, loc, first, second, mask))
          .getResult();
    };
    SmallVector<Value> out;
    Value zero = h.constant(b, vecBytes(), 0);
    for (int64_t e0 = 0; e0 < c.dv; e0 += width8) {
      SmallVector<Value> rows;
      for (int64_t x = 0; x < 4; ++x) {
        if (x >= count) {
          rows.push_back(zero);
          continue;
        }
        Value key = arith::AddIOp::create(b, loc, key0, h.idx(b, first + x));
        // Not flipped here: the flip is bytewise and commutes with the
        // unpacks, so it is applied once per interleaved vector.
        rows.push_back(readRowBytes(b, v8, pos.batch, pos.kvHead, key, e0, c.dv,
                                    /*flip=*/false));
      }
      Value low01 = unpack(rows[0], rows[1], 1, false);
      Value high01 = unpack(rows[0], rows[1], 1, true);
      Value low23 = unpack(rows[2], rows[3], 1, false);
      Value high23 = unpack(rows[2], rows[3], 1, true);
      for (Value v :
           {unpack(low01, low23, 2, false), unpack(low01, low23, 2, true),
            unpack(high01, high23, 2, false),
            unpack(high01, high23, 2, true)}) {
        if (c.vFlip)
          v = arith::XOrIOp::create(b, loc, v, h.constant(b, vecBytes(), -128));
        out.push_back(v);
      }
    }
    return out;
  }

  /// The column that lane i of the direct path's P * V vector k (of 4 L
  /// columns' 4 vectors) holds: 16-byte block i / 4 of the rows, group k
  /// of 4 columns within it.
  static int64_t permutedColumn(int64_t k, int64_t i) {
    return i / 4 * 16 + 4 * k + i % 4;
  }

  /// Columns [e L, e L + L) from the direct path's permuted vectors
  /// `values` (see interleavedValues), gathered 4 lanes (one piece of a
  /// 16-byte block) at a time by two-operand shuffles.
  Value naturalColumns(OpBuilder &b, ArrayRef<Value> values, int64_t e) {
    const int64_t L = c.lanes, width8 = 4 * L;
    // Where each piece of 4 columns lies: (vector, first lane).
    SmallVector<std::pair<int64_t, int64_t>> pieces;
    for (int64_t p = 0; p < L / 4; ++p) {
      int64_t column = e * L + 4 * p;
      int64_t chunk = column / width8, within = column % width8;
      int64_t k = within % 16 / 4, lane = within / 16 * 4;
      assert(permutedColumn(k, lane) == within && "inconsistent permutation");
      pieces.push_back({chunk * 4 + k, lane});
    }
    SmallVector<Value> parts;
    for (size_t p = 0; p + 1 < pieces.size(); p += 2) {
      SmallVector<int64_t> mask;
      for (int64_t x = 0; x < 4; ++x)
        mask.push_back(pieces[p].second + x);
      for (int64_t x = 0; x < 4; ++x)
        mask.push_back(L + pieces[p + 1].second + x);
      parts.push_back(vector::ShuffleOp::create(
          b, loc, values[pieces[p].first], values[pieces[p + 1].first], mask));
    }
    while (parts.size() > 1) {
      SmallVector<Value> next;
      for (size_t p = 0; p + 1 < parts.size(); p += 2) {
        int64_t n = cast<VectorType>(parts[p].getType()).getNumElements();
        SmallVector<int64_t> mask;
        for (int64_t x = 0; x < 2 * n; ++x)
          mask.push_back(x);
        next.push_back(
            vector::ShuffleOp::create(b, loc, parts[p], parts[p + 1], mask));
      }
      parts = std::move(next);
    }
    return parts.front();
  }

  Builders h;
  Location loc;
  Int8AttentionConfig c;
  HeadsView q8, k8, v8;
  Value kPacked, kCorr, vPacked, mask;
  SmallVector<int64_t> maskShape;
  bool boolMask = false;
  int64_t valueVectors = 0;
  SmallVector<Value> rowCorrections;
  /// The direct path's scratch tensors of a work item, carried through its
  /// key blocks: f32 scores [rows, key block] and the probabilities as i32
  /// words of keysPerWord() keys [rows, key block / keysPerWord()] (see
  /// directKeyBlock).
  SmallVector<Value> scratch;
  SmallVector<SmallVector<Value>> queryVectors; // direct path, per row
  /// The wide direct path with u8 K storage: per row, sum_d (q - z_q).
  SmallVector<Value> queryCentredSums;
  /// The wide packed path: [B, H, S, 8 ceil(D / 16)] i32, q - z_q as
  /// pairs of i16 (packWideQueries).
  Value queryPairs;
};

} // namespace

std::string mlir::qlow::unsupportedInt8AttentionReason(AttentionOp op,
                                                       const TargetDesc &desc) {
  // AVX2 without VNNI: the kernels multiply in i16 with vpmaddwd (the
  // wide paths; see the file header).
  if (!desc.hasX86Int8Dot())
    return "int8 attention needs a CPU with vpdpbusd (AVX-512 VNNI or "
           "AVX-VNNI) or AVX2; '" +
           desc.cpu + "' has neither (use the float attention)";
  int64_t lanes = desc.int8Dot == Int8DotKind::Avx512Vnni ? 16 : 8;
  int64_t block = op.getKeyBlock().value_or(0);
  if (block % lanes != 0)
    return "key_block " + std::to_string(block) + " is not a multiple of " +
           std::to_string(lanes) + " (the i32 lanes of one vpdpbusd on '" +
           desc.cpu + "')";
  auto resultType = cast<RankedTensorType>(op.getType());
  Type element = resultType.getElementType();
  if (!element.isF32() &&
      !isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType>(
          element))
    return "the result must be f32 or quantized per tensor or per axis";
  return "";
}

Value mlir::qlow::buildInt8Attention(OpBuilder &b, AttentionOp op,
                                     const TargetDesc &desc,
                                     const HeadsView &q8, const HeadsView &k8,
                                     const HeadsView &v8, Value mask,
                                     float scale, bool outSeqMajor,
                                     const OutputQuantization *outQuant) {
  Location loc = op.getLoc();
  Builders h{loc};
  ArrayRef<int64_t> qs = op.getQ().getType().getShape();
  ArrayRef<int64_t> ks = op.getK().getType().getShape();
  ArrayRef<int64_t> vs = op.getV().getType().getShape();
  Int8Params qp = paramsOf(op.getQ()), kp = paramsOf(op.getK()),
             vp = paramsOf(op.getV());
  Int8AttentionConfig c;
  c.b = qs[0], c.h = qs[1], c.hkv = ks[1], c.s = qs[2], c.t = ks[2],
  c.d = qs[3], c.dv = vs[3];
  c.lanes = desc.int8Dot == Int8DotKind::Avx512Vnni ? 16 : 8;
  c.keyBlock = *op.getKeyBlock();
  c.tPad = (c.t + c.keyBlock - 1) / c.keyBlock * c.keyBlock;
  // Rows per work item: each row holds its f32 accumulators and a block of
  // i32 P * V sums (2 * valueVectors registers); as many rows as the
  // register file holds, at most 8 (the rows' scores, key vectors and
  // broadcasts are spilled around them, which costs less than reloading K
  // and V for fewer rows). Measured on Zen 4, S = T = 128, key_block 64,
  // 1 thread (rows: time): Dv = 32: 2: 0.108, 4: 0.096, 8: 0.094 ms;
  // Dv = 64: 2: 0.131, 3: 0.126, 4: 0.119, 6: 0.124, 8: 0.151; Dv = 128:
  // 2: 0.198, 3: 0.212, 4: 0.218.
  const int64_t valueVectors = (c.dv + c.lanes - 1) / c.lanes;
  c.rows = std::clamp<int64_t>(
      desc.vectorRegisters / std::max<int64_t>(1, 2 * valueVectors), 1, 8);
  c.rows = std::max<int64_t>(1, std::min(c.rows, c.s));
  c.qSigned = qp.isSigned;
  const int64_t zqU = qp.zeroPoint + (qp.isSigned ? 128 : 0);
  c.zkS = kp.zeroPoint - (kp.isSigned ? 0 : 128);
  c.zvS = vp.zeroPoint - (vp.isSigned ? 0 : 128);
  c.scoreScale =
      static_cast<float>(static_cast<double>(scale) * qp.scale * kp.scale);
  c.valueScale = static_cast<float>(vp.scale);
  c.causal = op.getCausal();
  c.outSeqMajor = outSeqMajor;
  c.zqU = zqU;
  c.kFlip = !kp.isSigned;
  c.vFlip = !vp.isSigned;
  if (outQuant)
    c.outQuant = *outQuant;
  // Few query rows per kv head (a decode step, GQA groups included): K and
  // V are read in place by one work item per kv head, with all its
  // H / Hkv * S query rows. Packing costs a pass over K and V per call
  // (two thirds of a 512-key decode step's attention) and pays only when
  // enough rows reuse it; each direct row costs a lane-wise sum per key
  // (lanewiseSums) on top of the packed kernel's work.
  const int64_t groupRows = c.h / c.hkv * c.s;
  c.direct = groupRows <= kMaxDirectRows;
  const bool inI16 = !desc.hasVnni() && !clVnniKernelsOnAvx2;
  c.wideDirect = c.direct && inI16;
  c.widePacked = !c.direct && inI16;
  if (c.direct) {
    Int8AttentionKernel kernel(loc, c, q8, k8, v8, Value(), Value(), Value(),
                               mask);
    return kernel.build(b);
  }
  if (c.widePacked) {
    Value qWide = packWideQueries(b, h, q8, qp.isSigned, qp.zeroPoint);
    Value kWide = packWideKeys(b, h, k8, kp.isSigned, kp.zeroPoint, c.tPad);
    Value vWide = packWideValues(b, h, v8, vp.isSigned, vp.zeroPoint, c.tPad);
    Int8AttentionKernel kernel(loc, c, q8, k8, v8, kWide, Value(), vWide,
                               mask, qWide);
    return kernel.build(b);
  }
  auto [kPacked, kCorr] =
      packKeys(b, h, k8, !kp.isSigned, c.lanes, c.tPad, zqU, c.zkS);
  Value vPacked = packValues(b, h, v8, !vp.isSigned, c.lanes, c.tPad);
  Int8AttentionKernel kernel(loc, c, q8, k8, v8, kPacked, kCorr, vPacked, mask);
  return kernel.build(b);
}
