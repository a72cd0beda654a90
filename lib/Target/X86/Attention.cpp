//===- Attention.cpp - qlow.attention to a fused flash-attention kernel ---===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// qlow-x86-attention: each qlow.attention becomes one kernel in the
// flash-attention style. For each (batch, head, block of query rows) it walks
// the keys in blocks of a few vectors, computes that tile of scores
// (Q K^T * scale, plus the mask, minus the causally hidden keys), and keeps a
// running row maximum and row sum (online softmax), rescaling the output
// accumulators whenever the maximum grows; so no more than one tile of the
// S x T score matrix ever exists, and it lives in vector registers. (Decode
// steps, whose scores are dot products along D, walk larger blocks as loops
// over their keys and keep a block's scores in a small scratch tensor: see
// buildRolledKeyBlock.)
//
// Upstream MLIR has no attention op and no online-softmax rewrite (IREE's
// iree_linalg_ext.online_attention is not upstream; linalg's tiling can tile
// a matmul or a softmax, not the fused recurrence between them), so the
// kernel is built here from scf loops and vector ops on tensors, as the int8
// kernels are: scf.forall over (batch, head, query block) is the threads'
// work (scf-forall-to-parallel, then OpenMP), vector.fma makes the two tile
// products (QK^T from a transposed K, or as dot products when few query rows
// share a kv head); the row statistics are lane-wise vectors (maxps by
// selectGreater, a butterfly of shuffles) and the exponentials qlow's own
// (buildExpOfNonPositive) where K is transposed, and vector.reduction and
// math.exp (which qlow-approximate-math turns into upstream's polynomial) in
// the decode steps' rolled blocks, where they are paid once per larger
// block. Every size comes from the TargetDesc (chooseAttentionTile).
// Where a tile's output accumulators do not fit the registers with P * V's
// operands (16 ymm with Dv >= 64), P * V runs in passes over groups of
// value columns and the accumulators live in the result's tile.
//
// Heads transposes (linalg.transpose [0, 2, 1, 3]) of f32 operands and of
// the result are folded into the kernel's reads and writes (HeadsView). For
// int8 attention, a per-tensor quantize of such a transpose (of the
// expand_shape of a [S, H * D] projection) is moved before them
// (viewQuantizedHeads): the projection's epilogue quantizes, and the int8
// kernel reads and packs the [B, S, H, D] bytes.
//
// Quantized q, k, v are dequantized and a quantized result quantized around
// the f32 kernel by qlow.dequantize / qlow.quantize (the op's float
// semantics), which convert-qlow-to-linalg then lowers.
//
//===----------------------------------------------------------------------===//

#include "AttentionKernels.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Conversion/QlowToLinalg.h"
#include "qlow/Target/TargetDesc.h"
#include "qlow/Target/X86/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>
#include <limits>

#define DEBUG_TYPE "qlow-x86-attention"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWX86ATTENTIONPASS
#include "qlow/Target/X86/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

/// The transpose of the L x L tile in `rows` (L vectors of L elements, L a
/// power of two) in registers: log2(L) stages of vector.shuffle, the stage
/// of size h swapping the off-diagonal h x h blocks of every 2h x 2h block
/// (transpose([[A, B], [C, D]]) = [[A', C'], [B', D']]), 2 shuffles per pair
/// of rows per stage. (Upstream's vector.transpose lowering for 2-D vectors
/// would need n-D transfers, which this pipeline does not lower.)
SmallVector<Value> mlir::qlow::transposeVectorTile(OpBuilder &b, Location loc,
                                                   SmallVector<Value> rows) {
  const int64_t lanes = rows.size();
  for (int64_t h = lanes / 2; h >= 1; h /= 2) {
    SmallVector<int64_t> upper, lower;
    for (int64_t c = 0; c < lanes; ++c) {
      upper.push_back((c & h) ? lanes + c - h : c);
      lower.push_back((c & h) ? lanes + c : c + h);
    }
    for (int64_t r = 0; r < lanes; ++r) {
      if (r & h)
        continue;
      Value top = rows[r], bottom = rows[r + h];
      rows[r] = vector::ShuffleOp::create(b, loc, top, bottom, upper);
      rows[r + h] = vector::ShuffleOp::create(b, loc, top, bottom, lower);
    }
  }
  return rows;
}

Value mlir::qlow::lanewiseSums(OpBuilder &b, Location loc,
                               SmallVector<Value> vectors) {
  const int64_t lanes = vectors.size();
  const bool isFloat =
      isa<FloatType>(cast<VectorType>(vectors.front().getType())
                         .getElementType());
  // Pairs of vectors (2i, 2i + 1) become one: the sum of their shuffles by
  // `low` and by `high` (masks over the pair's 2 L lanes).
  auto combine = [&](ArrayRef<int64_t> low, ArrayRef<int64_t> high) {
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < vectors.size(); i += 2) {
      Value l =
          vector::ShuffleOp::create(b, loc, vectors[i], vectors[i + 1], low);
      Value h =
          vector::ShuffleOp::create(b, loc, vectors[i], vectors[i + 1], high);
      next.push_back(isFloat ? arith::AddFOp::create(b, loc, l, h).getResult()
                             : arith::AddIOp::create(b, loc, l, h).getResult());
    }
    vectors = std::move(next);
  };
  if (lanes >= 4 && lanes % 4 == 0) {
    // Blocks of 4 lanes (128 bits of 32-bit lanes) first, where x86's
    // shuffles are in-lane unpacks (two per cycle on Zen 3, against one
    // cross-lane vperm2i128 or vpermq): interleaved by lanes, then by pairs
    // of lanes (vpunpck{l,h}dq, vpunpck{l,h}qdq; zip1/zip2 on NEON), after
    // which vector i holds in block k the sums of block k of vectors 4 i to
    // 4 i + 3. Then the blocks of pairs of vectors, halving their count per
    // level (vperm2i128 on ymm).
    const int64_t blocks = lanes / 4;
    SmallVector<int64_t> low, high;
    for (int64_t k = 0; k < blocks; ++k) {
      low.append({4 * k, lanes + 4 * k, 4 * k + 1, lanes + 4 * k + 1});
      high.append({4 * k + 2, lanes + 4 * k + 2, 4 * k + 3, lanes + 4 * k + 3});
    }
    combine(low, high);
    low.clear();
    high.clear();
    for (int64_t k = 0; k < blocks; ++k) {
      low.append({4 * k, 4 * k + 1, lanes + 4 * k, lanes + 4 * k + 1});
      high.append({4 * k + 2, 4 * k + 3, lanes + 4 * k + 2, lanes + 4 * k + 3});
    }
    combine(low, high);
    while (vectors.size() > 1) {
      low.clear();
      high.clear();
      for (int64_t source = 0; source < 2; ++source)
        for (int64_t k = 0; k < blocks; k += 2)
          for (int64_t x = 0; x < 4; ++x) {
            low.push_back(source * lanes + 4 * k + x);
            high.push_back(source * lanes + 4 * (k + 1) + x);
          }
      combine(low, high);
    }
    return vectors.front();
  }
  for (int64_t w = lanes; w > 1; w /= 2) {
    // Each vector holds lanes / w blocks of w lanes (one sum each).
    SmallVector<int64_t> low, high;
    for (int64_t source = 0; source < 2; ++source)
      for (int64_t block = 0; block < lanes / w; ++block)
        for (int64_t x = 0; x < w / 2; ++x) {
          low.push_back(source * lanes + block * w + x);
          high.push_back(source * lanes + block * w + w / 2 + x);
        }
    combine(low, high);
  }
  return vectors.front();
}

Value mlir::qlow::pairwiseSum(OpBuilder &b, Location loc,
                              SmallVector<Value> parts) {
  while (parts.size() > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < parts.size(); i += 2)
      next.push_back(arith::AddFOp::create(b, loc, parts[i], parts[i + 1]));
    if (parts.size() % 2)
      next.push_back(parts.back());
    parts = std::move(next);
  }
  return parts.front();
}

SmallVector<Value> mlir::qlow::loopOver(
    OpBuilder &b, Location loc, int64_t count, SmallVector<Value> values,
    function_ref<SmallVector<Value>(OpBuilder &, Value, ValueRange)> body) {
  if (count == 0)
    return values;
  if (count == 1)
    return body(b, arith::ConstantIndexOp::create(b, loc, 0), values);
  auto loop = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, 0),
      arith::ConstantIndexOp::create(b, loc, count),
      arith::ConstantIndexOp::create(b, loc, 1), values,
      [&](OpBuilder &lb, Location, Value i, ValueRange carried) {
        scf::YieldOp::create(lb, loc, body(lb, i, carried));
      });
  return SmallVector<Value>(loop.getResults());
}

namespace {

//===----------------------------------------------------------------------===//
// Kernel builder
//===----------------------------------------------------------------------===//

/// Whether `op` swaps dimensions 1 and 2 of a rank-4 f32 tensor: a split
/// or merge of heads.
bool isHeadsTranspose(linalg::TransposeOp op) {
  return op && op.getPermutation() == ArrayRef<int64_t>{0, 2, 1, 3} &&
         cast<ShapedType>(op.getInput().getType()).getElementType().isF32();
}

/// `operand` (f32 [B, H, S, D]) viewed through a heads transpose that
/// produces it, if any.
HeadsView viewHeads(Value operand) {
  auto transpose = operand.getDefiningOp<linalg::TransposeOp>();
  if (isHeadsTranspose(transpose) && transpose->getNumResults() == 1 &&
      isa<RankedTensorType>(transpose.getInput().getType()))
    return {transpose.getInput(), true};
  return {operand, false};
}

/// The stored integers (i8) of the per-tensor quantized int8 attention
/// operand `operand`, as the int8 kernel reads them. When `operand` is the
/// quantize of a split-heads transpose (qlow.quantize of linalg.transpose
/// [0, 2, 1, 3] of a [B, S, H, D] f32 tensor, as a projection's heads are),
/// the quantize moves before the transpose, and before the expand_shape of a
/// [B * S, H * D] projection that feeds it, and the kernel reads the i8
/// [B, S, H, D] tensor with S and H swapped: per-tensor quantization is
/// elementwise, so the integers are the same, the projection's epilogue can
/// quantize in registers (qlow-fuse-elementwise), and no f32 copy of the
/// heads is made. Otherwise the operand's own integers (a quant.scast).
HeadsView viewQuantizedHeads(RewriterBase &rewriter, Location loc,
                             Value operand) {
  auto storage = [&](Value value) -> Value {
    auto type = cast<RankedTensorType>(value.getType());
    return quant::StorageCastOp::create(
        rewriter, loc,
        RankedTensorType::get(type.getShape(), rewriter.getI8Type()), value);
  };
  auto quantize = operand.getDefiningOp<QuantizeOp>();
  auto element = cast<RankedTensorType>(operand.getType()).getElementType();
  auto transpose =
      quantize ? quantize.getInput().getDefiningOp<linalg::TransposeOp>()
               : linalg::TransposeOp();
  if (!quantize || !isa<quant::UniformQuantizedType>(element) ||
      !isHeadsTranspose(transpose) || transpose->getNumResults() != 1 ||
      !isa<RankedTensorType>(transpose.getInput().getType()))
    return {storage(operand), false};
  Value input = transpose.getInput();
  auto inputType = cast<RankedTensorType>(input.getType());
  auto quantizedType = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, element);
  };
  auto i8Type = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, rewriter.getI8Type());
  };
  // [B * S, H * D] -> [B, S, H, D]: quantize the projection itself.
  auto expand = input.getDefiningOp<tensor::ExpandShapeOp>();
  if (expand && expand.getSrcType().getRank() == 2 &&
      expand.getReassociationIndices() ==
          SmallVector<ReassociationIndices>{{0, 1}, {2, 3}}) {
    Value source = expand.getSrc();
    auto sourceType = cast<RankedTensorType>(source.getType());
    Value quantized = QuantizeOp::create(
        rewriter, loc, quantizedType(sourceType.getShape()), source);
    Value heads = tensor::ExpandShapeOp::create(
        rewriter, loc, i8Type(inputType.getShape()), storage(quantized),
        expand.getReassociationIndices());
    return {heads, true};
  }
  Value quantized = QuantizeOp::create(
      rewriter, loc, quantizedType(inputType.getShape()), input);
  return {storage(quantized), true};
}

/// A per-tensor 8-bit qlow.quantize that is the only use of an f32
/// attention result (or of its merge-heads transpose), directly or through
/// one tensor.collapse_shape (the merged heads as [B * S, H * Dv]), as the
/// next projection's input is: the int8 kernel can quantize in its
/// epilogue (buildInt8Attention's outQuant). Null members when there is
/// none.
struct FusedOutputQuantize {
  tensor::CollapseShapeOp collapse;
  QuantizeOp quantize;
};

FusedOutputQuantize findOutputQuantize(Value result) {
  auto onlyUser = [](Value value) -> Operation * {
    return value.hasOneUse() ? *value.getUsers().begin() : nullptr;
  };
  FusedOutputQuantize fused;
  Operation *user = onlyUser(result);
  if (auto collapse = dyn_cast_or_null<tensor::CollapseShapeOp>(user)) {
    fused.collapse = collapse;
    user = onlyUser(collapse.getResult());
  }
  auto quantize = dyn_cast_or_null<QuantizeOp>(user);
  auto element =
      quantize ? dyn_cast<quant::UniformQuantizedType>(
                     quantize.getType().getElementType())
               : quant::UniformQuantizedType();
  if (!element || element.getStorageTypeIntegralWidth() != 8)
    return {};
  fused.quantize = quantize;
  return fused;
}

/// Sizes of one attention op: q [B, H, S, D], k [B, Hkv, T, D],
/// v [B, Hkv, T, Dv].
struct AttentionSizes {
  int64_t b, h, hkv, s, t, d, dv;
};

/// Builds the kernel of one op on f32 tensors. `keys` is k transposed to
/// [B, Hkv, D, T] when `keysTransposed` (so that a row of a key block is one
/// vector load), else k itself; `mask` a rank-4 view of the mask (f32 or
/// i1) or null. With `outSeqMajor` the result is written as [B, S, H, Dv]
/// (the merge-heads transpose of the op's result) instead.
class AttentionKernel {
public:
  AttentionKernel(Location loc, const AttentionSizes &sizes,
                  const AttentionTile &tile, HeadsView q, HeadsView keys,
                  bool keysTransposed, HeadsView v, Value mask, bool causal,
                  float scale, bool outSeqMajor)
      : loc(loc), n(sizes), tile(tile), q(q), keys(keys),
        keysTransposed(keysTransposed), v(v), mask(mask), causal(causal),
        scale(scale), outSeqMajor(outSeqMajor) {
    if (mask) {
      auto type = cast<RankedTensorType>(mask.getType());
      maskShape.assign(type.getShape().begin(), type.getShape().end());
      boolMask = type.getElementType().isInteger(1);
    }
    valueVectors = (n.dv + tile.valueLanes - 1) / tile.valueLanes;
  }

  /// The [B, H, S, Dv] f32 result ([B, S, H, Dv] with outSeqMajor).
  Value build(OpBuilder &b) {
    Type f32 = b.getF32Type();
    Value out = tensor::EmptyOp::create(
        b, loc,
        outSeqMajor ? ArrayRef<int64_t>{n.b, n.s, n.h, n.dv}
                    : ArrayRef<int64_t>{n.b, n.h, n.s, n.dv},
        f32);
    if (n.b * n.h * n.s * n.dv == 0)
      return out;
    const int64_t rows = tile.queryRows;
    const int64_t fullBlocks = n.s / rows, restRows = n.s % rows;
    // Full query blocks, then (its own, smaller tile) the rest: every tile
    // has static sizes.
    if (fullBlocks > 0)
      out = buildForall(b, out, rows, fullBlocks, 0);
    if (restRows > 0)
      out = buildForall(b, out, restRows, 1, fullBlocks * rows);
    return out;
  }

private:
  Value idx(OpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value f32Const(OpBuilder &b, double value) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  }
  Value splat(OpBuilder &b, int64_t width, double value) {
    auto type = VectorType::get({width}, b.getF32Type());
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(type, b.getF32FloatAttr(value).getValue()));
  }
  Value broadcast(OpBuilder &b, Value scalar, int64_t width) {
    return vector::BroadcastOp::create(
        b, loc, VectorType::get({width}, scalar.getType()), scalar);
  }
  int64_t valueWidth(int64_t e) const {
    return std::min(tile.valueLanes, n.dv - e * tile.valueLanes);
  }

  using State = OnlineSoftmaxState;
  using Position = AttentionPosition;

  /// scf.forall over (batch, head, block) for `blocks` blocks of `rows`
  /// query rows starting at row `firstRow`, writing into `out`.
  Value buildForall(OpBuilder &b, Value out, int64_t rows, int64_t blocks,
                    int64_t firstRow) {
    return buildAttentionForall(
        b, loc, out, n.b, n.h, n.hkv, n.dv, rows, blocks, firstRow,
        [&](OpBuilder &fb, const Position &pos, Value tileOut) {
          return buildQueryBlock(fb, pos, rows, tileOut);
        },
        outSeqMajor);
  }

  /// The online softmax over all key blocks of one query block, written
  /// into `tileOut` ([1, 1, rows, Dv]; [1, rows, 1, Dv] with outSeqMajor).
  Value buildQueryBlock(OpBuilder &b, const Position &pos, int64_t rows,
                        Value tileOut) {
    const int64_t keys = tile.keyBlock;
    const int64_t fullKeyBlocks = n.t / keys, restKeys = n.t % keys;
    const double negInf = -std::numeric_limits<double>::infinity();
    State init;
    SmallVector<bool> inBounds = {true};
    if (grouped()) {
      // The accumulators live in the result's tile (see buildKeyBlock).
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t e = 0; e < valueVectors; ++e)
          tileOut = vector::TransferWriteOp::create(
                        b, loc, splat(b, tile.valueLanes, 0.0), tileOut,
                        tileIndex(b, r, idx(b, e * tile.valueLanes)), inBounds)
                        .getResult();
      init.acc.push_back(tileOut);
    }
    for (int64_t r = 0; r < rows; ++r) {
      if (!grouped())
        for (int64_t e = 0; e < valueVectors; ++e)
          init.acc.push_back(splat(b, valueWidth(e), 0.0));
      if (rolled()) {
        init.max.push_back(f32Const(b, negInf));
        init.sum.push_back(f32Const(b, 0.0));
        continue;
      }
      // Lane-wise state (see buildKeyBlock): the lowest finite maximum, so
      // that no difference with it is -inf - -inf.
      init.max.push_back(
          splat(b, tile.valueLanes, -std::numeric_limits<float>::max()));
      init.sum.push_back(splat(b, tile.valueLanes, 0.0));
    }
    // Rolled key blocks keep their scores and probabilities, and grouped
    // ones their probabilities, in a scratch tensor of the work item,
    // carried through the key loops.
    scratch = Value();
    if (rolled() || grouped())
      scratch = tensor::EmptyOp::create(
          b, loc,
          ArrayRef<int64_t>{rows, (keys + tile.valueLanes - 1) /
                                      tile.valueLanes * tile.valueLanes},
          b.getF32Type());
    State state = init;
    if (!causal) {
      if (fullKeyBlocks > 0) {
        state =
            buildKeyBlockLoop(b, pos, rows, idx(b, 0), idx(b, fullKeyBlocks),
                              idx(b, 0), keys, /*maskCausal=*/false, state);
      }
      if (restKeys > 0)
        state = buildKeyBlock(b, pos, rows, idx(b, fullKeyBlocks * keys),
                              restKeys, /*maskCausal=*/false, state);
    } else {
      // Causal: row i sees keys [0, i + T - S], so the block's last row
      // keys [0, needed). The keys up to `needed` rounded up to a vector
      // (`end`) are walked from the end in whole key blocks, and the
      // `end % keyBlock` keys at the start (whole vectors) in smaller
      // blocks; the causal mask is applied in every block (it hides keys of
      // the last one only). Against key blocks from key 0, the work above
      // the diagonal is less than a vector per row instead of up to a key
      // block (S = T = 128 with 64-key blocks: about 9300 row-keys instead
      // of 12288, against the 8256 the diagonal needs). The online softmax
      // takes the blocks in any order (the f32 results differ by rounding
      // only). One loop body of whole key blocks: a second copy of it (say,
      // unmasked blocks below the diagonal apart) doubles the kernel's code
      // past the instruction cache and was measured slower. The last
      // T % lanes keys, if any are seen, are a narrower block of their own.
      const int64_t lanes = tile.valueLanes;
      Value needed = arith::MaxSIOp::create(
          b, loc, idx(b, 0),
          arith::MinSIOp::create(
              b, loc,
              arith::AddIOp::create(b, loc, pos.row0, idx(b, rows + n.t - n.s)),
              idx(b, n.t)));
      const int64_t fullChunks = n.t / lanes, restChunkKeys = n.t % lanes;
      if (fullChunks > 0) {
        Value endChunks = arith::MinUIOp::create(
            b, loc, idx(b, fullChunks),
            arith::DivUIOp::create(
                b, loc,
                arith::AddIOp::create(b, loc, needed, idx(b, lanes - 1)),
                idx(b, lanes)));
        Value end = arith::MulIOp::create(b, loc, endChunks, idx(b, lanes));
        Value head = arith::RemUIOp::create(b, loc, end, idx(b, keys));
        // The head in blocks of half a key block (fewer accumulator chains
        // than a key block, so one vector alone would wait on the FMA
        // latency: S = T = 128, 12 heads, 1 thread, Zen 4: 0.275 ms with
        // 64-key blocks from key 0, 0.25 in single vectors, 0.235 in
        // halves), then at most one single vector.
        const int64_t halfBlock = keys / 2;
        Value firstSingle = idx(b, 0);
        if (halfBlock > lanes && halfBlock % lanes == 0) {
          Value halves =
              arith::DivUIOp::create(b, loc, head, idx(b, halfBlock));
          state = buildKeyBlockLoop(b, pos, rows, idx(b, 0), halves, idx(b, 0),
                                    halfBlock, /*maskCausal=*/true, state);
          firstSingle =
              arith::MulIOp::create(b, loc, halves, idx(b, halfBlock / lanes));
        }
        Value headChunks = arith::DivUIOp::create(b, loc, head, idx(b, lanes));
        state = buildKeyBlockLoop(b, pos, rows, firstSingle, headChunks,
                                  idx(b, 0), lanes, /*maskCausal=*/true, state);
        if (fullKeyBlocks > 0)
          state = buildKeyBlockLoop(
              b, pos, rows, idx(b, 0),
              arith::DivUIOp::create(b, loc, end, idx(b, keys)), head, keys,
              /*maskCausal=*/true, state);
      }
      if (restChunkKeys > 0) {
        // The last, partial vector of keys, unless it is wholly above the
        // diagonal.
        Value key0 = idx(b, fullChunks * lanes);
        Value visible = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                              needed, key0);
        SmallVector<Value> flat = carried(state);
        auto ifOp = scf::IfOp::create(
            b, loc, visible,
            [&](OpBuilder &tb, Location) {
              scf::YieldOp::create(
                  tb, loc,
                  carried(buildKeyBlock(tb, pos, rows, key0, restChunkKeys,
                                        /*maskCausal=*/true, state)));
            },
            [&](OpBuilder &eb, Location) {
              scf::YieldOp::create(eb, loc, flat);
            });
        state = uncarry(ifOp.getResults(), rows);
      }
    }

    // out = acc / sum; a row without any visible key is zeros.
    if (grouped())
      tileOut = state.acc.front();
    for (int64_t r = 0; r < rows; ++r) {
      Value sum = state.sum[r];
      if (isa<VectorType>(sum.getType()))
        sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                          sum);
      Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          sum, f32Const(b, 0.0));
      for (int64_t e = 0; e < valueVectors; ++e) {
        int64_t width = valueWidth(e);
        SmallVector<Value> at = tileIndex(b, r, idx(b, e * tile.valueLanes));
        Value acc = grouped()
                        ? vector::TransferReadOp::create(
                              b, loc, VectorType::get({width}, b.getF32Type()),
                              tileOut, at, f32Const(b, 0.0), inBounds)
                              .getResult()
                        : state.acc[r * valueVectors + e];
        Value quotient =
            arith::DivFOp::create(b, loc, acc, broadcast(b, sum, width));
        Value value = arith::SelectOp::create(b, loc, empty,
                                              splat(b, width, 0.0), quotient);
        tileOut = vector::TransferWriteOp::create(b, loc, value, tileOut, at,
                                                  inBounds)
                      .getResult();
      }
    }
    return tileOut;
  }

  /// The maximum of `v`'s lanes (a power of two of them) in every lane:
  /// log2(lanes) steps of a shuffle swapping blocks of h lanes and
  /// selectGreater.
  Value allLanesMax(OpBuilder &b, Value v) {
    const int64_t lanes = cast<VectorType>(v.getType()).getNumElements();
    for (int64_t h = lanes / 2; h >= 1; h /= 2) {
      SmallVector<int64_t> mask;
      for (int64_t l = 0; l < lanes; ++l)
        mask.push_back(l ^ h);
      Value swapped = vector::ShuffleOp::create(b, loc, v, v, mask);
      v = selectGreater(b, loc, v, swapped);
    }
    return v;
  }

  /// A row's rescale factor as a vector of `width` lanes: a scalar alpha
  /// broadcast, a lane-wise one (its lanes equal) cut to `width`.
  Value alphaVector(OpBuilder &b, Value alpha, int64_t width) {
    auto type = dyn_cast<VectorType>(alpha.getType());
    if (!type)
      return broadcast(b, alpha, width);
    if (type.getNumElements() == width)
      return alpha;
    return vector::ExtractStridedSliceOp::create(
        b, loc, alpha, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{width},
        ArrayRef<int64_t>{1});
  }

  /// P * V for key `k` of the block at `key0`: the vectors of its value row
  /// at `columns` (of `widths` lanes) times each row's probability, one
  /// scalar load from the scratch tensor broadcast, added to `accs` (rows x
  /// columns, row-major).
  SmallVector<Value> addKeyProducts(OpBuilder &kb, const Position &pos,
                                    int64_t rows, Value key0, Value k,
                                    ArrayRef<Value> columns,
                                    ArrayRef<int64_t> widths, ValueRange accs) {
    Type f32 = kb.getF32Type();
    Value key = arith::AddIOp::create(kb, loc, key0, k);
    SmallVector<Value> pk;
    for (int64_t r = 0; r < rows; ++r)
      pk.push_back(
          tensor::ExtractOp::create(kb, loc, scratch, ValueRange{idx(kb, r), k}));
    SmallVector<Value> next(accs.begin(), accs.end());
    const int64_t group = columns.size();
    for (int64_t e = 0; e < group; ++e) {
      Value valueRow = vector::TransferReadOp::create(
          kb, loc, VectorType::get({widths[e]}, f32), v.value,
          v.at(pos.batch, pos.kvHead, key, columns[e]), f32Const(kb, 0.0),
          ArrayRef<bool>{true});
      for (int64_t r = 0; r < rows; ++r) {
        Value &acc = next[r * group + e];
        acc = vector::FMAOp::create(kb, loc, broadcast(kb, pk[r], widths[e]),
                                    valueRow, acc);
      }
    }
    return next;
  }

  /// Whether P * V runs in passes over tile.valueGroup vectors of value
  /// columns, with the accumulators in the result's tile.
  bool grouped() const { return tile.valueGroup < valueVectors; }

  /// Where row `r`, column `column` of a query block's tile is.
  SmallVector<Value> tileIndex(OpBuilder &b, int64_t r, Value column) {
    return outSeqMajor
               ? SmallVector<Value>{idx(b, 0), idx(b, r), idx(b, 0), column}
               : SmallVector<Value>{idx(b, 0), idx(b, 0), idx(b, r), column};
  }

  /// The mask's index along dimension `dim` for position `value`
  /// (0 where the mask broadcasts).
  Value maskIndex(OpBuilder &b, unsigned dim, Value value) {
    return maskShape[dim] == 1 ? idx(b, 0) : value;
  }

  /// The widths of the score vectors of a key block of `width` keys: full
  /// vectors of `valueLanes` keys, the last one narrower.
  SmallVector<int64_t> chunkWidths(int64_t width) const {
    SmallVector<int64_t> widths;
    for (int64_t c = 0; c < width; c += tile.valueLanes)
      widths.push_back(std::min(tile.valueLanes, width - c));
    return widths;
  }

  /// Scores of a key block from K^T: s[r] = sum_d q[r, d] * kT[d, key0 :
  /// key0 + width], as chunkWidths(width) vectors of keys per row; per step
  /// of d, one broadcast query element per row times the block's vectors of
  /// the transposed keys' row d (loaded once for all rows).
  SmallVector<SmallVector<Value>>
  scoresFromTransposedKeys(OpBuilder &b, const Position &pos, int64_t rows,
                           Value key0, int64_t width) {
    SmallVector<int64_t> widths = chunkWidths(width);
    const int64_t chunks = widths.size();
    SmallVector<bool> inBounds = {true};
    Value padF32 = f32Const(b, 0.0);
    SmallVector<Value> zeros;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < chunks; ++c)
        zeros.push_back(splat(b, widths[c], 0.0));
    auto dLoop = scf::ForOp::create(
        b, loc, idx(b, 0), idx(b, n.d), idx(b, 1), zeros,
        [&](OpBuilder &db, Location, Value d, ValueRange acc) {
          SmallVector<Value> keyRow;
          for (int64_t c = 0; c < chunks; ++c) {
            Value key = arith::AddIOp::create(db, loc, key0,
                                              idx(db, c * tile.valueLanes));
            keyRow.push_back(vector::TransferReadOp::create(
                db, loc, VectorType::get({widths[c]}, db.getF32Type()),
                keys.value, ValueRange{pos.batch, pos.kvHead, d, key}, padF32,
                inBounds));
          }
          SmallVector<Value> next;
          for (int64_t r = 0; r < rows; ++r) {
            Value row = arith::AddIOp::create(db, loc, pos.row0, idx(db, r));
            Value qElem = tensor::ExtractOp::create(
                db, loc, q.value, q.at(pos.batch, pos.head, row, d));
            for (int64_t c = 0; c < chunks; ++c)
              next.push_back(vector::FMAOp::create(
                  db, loc, broadcast(db, qElem, widths[c]), keyRow[c],
                  acc[r * chunks + c]));
          }
          scf::YieldOp::create(db, loc, next);
        });
    SmallVector<SmallVector<Value>> scores(rows);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < chunks; ++c)
        scores[r].push_back(dLoop.getResult(r * chunks + c));
    return scores;
  }

  /// Scores of a key block from K as it is (few query rows per kv head, as
  /// in a decode step, where transposing K would cost more than it saves):
  /// for each key, the dot product of the query row and the key row in
  /// vectors along d (the last, partial vector narrower), reduced across
  /// lanes and inserted at the key's lane.
  SmallVector<Value>
  scoresByDotProducts(OpBuilder &b, const Position &pos, int64_t rows,
                      Value key0, int64_t width,
                      ArrayRef<SmallVector<Value>> queryRows = {}) {
    Type f32 = b.getF32Type();
    SmallVector<bool> inBounds = {true};
    Value padF32 = f32Const(b, 0.0);
    const int64_t lanes = tile.valueLanes;
    const int64_t chunks = (n.d + lanes - 1) / lanes;
    auto chunkType = [&](int64_t e) {
      return VectorType::get({std::min(lanes, n.d - e * lanes)}, f32);
    };
    // The query rows, once per key block (unless given).
    SmallVector<SmallVector<Value>> qRows(queryRows.begin(), queryRows.end());
    if (qRows.empty())
      qRows = readQueryRows(b, pos, rows);
    SmallVector<Value> scores(rows, splat(b, width, 0.0));
    // A whole vector of keys with D in whole vectors: each key's products
    // accumulate lanewise, and the lanes of the `lanes` keys' vectors are
    // summed all at once by halving shuffles (lanewiseSums: 2 (L - 1)
    // shuffles and L - 1 adds per row and chunk, against a reduction of
    // log2(L) steps per key and an insert).
    if (width == lanes && n.d % lanes == 0 && n.d > 0) {
      SmallVector<SmallVector<Value>> partial(rows);
      for (int64_t c = 0; c < width; ++c) {
        Value key = arith::AddIOp::create(b, loc, key0, idx(b, c));
        for (int64_t e = 0; e < chunks; ++e) {
          Value keyRow = vector::TransferReadOp::create(
              b, loc, chunkType(e), keys.value,
              keys.at(pos.batch, pos.kvHead, key, idx(b, e * lanes)), padF32,
              inBounds);
          for (int64_t r = 0; r < rows; ++r) {
            if (e == 0)
              partial[r].push_back(
                  arith::MulFOp::create(b, loc, qRows[r][e], keyRow));
            else
              partial[r].back() = vector::FMAOp::create(
                  b, loc, qRows[r][e], keyRow, partial[r].back());
          }
        }
      }
      for (int64_t r = 0; r < rows; ++r)
        scores[r] = lanewiseSums(b, loc, partial[r]);
      return scores;
    }
    for (int64_t c = 0; c < width; ++c) {
      Value key = arith::AddIOp::create(b, loc, key0, idx(b, c));
      SmallVector<Value> keyRow;
      for (int64_t e = 0; e < chunks; ++e)
        keyRow.push_back(vector::TransferReadOp::create(
            b, loc, chunkType(e), keys.value,
            keys.at(pos.batch, pos.kvHead, key, idx(b, e * lanes)), padF32,
            inBounds));
      for (int64_t r = 0; r < rows; ++r) {
        // Full vectors accumulate together; a partial one is reduced apart.
        Value acc, total;
        for (int64_t e = 0; e < chunks; ++e) {
          if (n.d - e * lanes >= lanes) {
            acc =
                acc ? vector::FMAOp::create(b, loc, qRows[r][e], keyRow[e], acc)
                          .getResult()
                    : arith::MulFOp::create(b, loc, qRows[r][e], keyRow[e])
                          .getResult();
            continue;
          }
          total = vector::ReductionOp::create(
              b, loc, vector::CombiningKind::ADD,
              arith::MulFOp::create(b, loc, qRows[r][e], keyRow[e]));
        }
        if (acc) {
          Value sum = vector::ReductionOp::create(
              b, loc, vector::CombiningKind::ADD, acc);
          total = total ? arith::AddFOp::create(b, loc, sum, total).getResult()
                        : sum;
        }
        if (!total)
          total = f32Const(b, 0.0); // D = 0
        scores[r] = vector::InsertOp::create(b, loc, total, scores[r],
                                             ArrayRef<int64_t>{c});
      }
    }
    return scores;
  }

  /// The query rows of a block in vectors along d (the last, partial
  /// vector narrower).
  SmallVector<SmallVector<Value>> readQueryRows(OpBuilder &b,
                                                const Position &pos,
                                                int64_t rows) {
    Type f32 = b.getF32Type();
    const int64_t lanes = tile.valueLanes;
    SmallVector<SmallVector<Value>> qRows(rows);
    for (int64_t r = 0; r < rows; ++r) {
      Value row = arith::AddIOp::create(b, loc, pos.row0, idx(b, r));
      for (int64_t e = 0; e * lanes < n.d; ++e)
        qRows[r].push_back(vector::TransferReadOp::create(
            b, loc, VectorType::get({std::min(lanes, n.d - e * lanes)}, f32),
            q.value, q.at(pos.batch, pos.head, row, idx(b, e * lanes)),
            f32Const(b, 0.0), ArrayRef<bool>{true}));
    }
    return qRows;
  }

  /// Whether key blocks are loops over their keys (buildRolledKeyBlock):
  /// where the scores are dot products (decode steps).
  bool rolled() const { return !keysTransposed; }

  /// Grouped P * V: an scf.for over passes of tile.valueGroup vectors of
  /// value columns, each adding the pass's sums (`passSums(columns)`, rows x
  /// columns) to the running accumulators of those columns in `accTile` (the
  /// result's tile) rescaled by each row's alpha (addPassSums); the tile
  /// after the passes.
  Value buildValuePasses(
      OpBuilder &b, int64_t rows, ArrayRef<Value> alphas, Value accTile,
      function_ref<SmallVector<Value>(OpBuilder &, ArrayRef<Value>)>
          passSums) {
    const int64_t group = tile.valueGroup, lanes = tile.valueLanes;
    auto passes = scf::ForOp::create(
        b, loc, idx(b, 0), idx(b, valueVectors / group), idx(b, 1),
        ValueRange{accTile},
        [&](OpBuilder &pb, Location, Value pass, ValueRange accs) {
          Value column0 =
              arith::MulIOp::create(pb, loc, pass, idx(pb, group * lanes));
          SmallVector<Value> columns;
          for (int64_t e = 0; e < group; ++e)
            columns.push_back(
                arith::AddIOp::create(pb, loc, column0, idx(pb, e * lanes)));
          SmallVector<Value> partial = passSums(pb, columns);
          scf::YieldOp::create(
              pb, loc,
              addPassSums(pb, rows, alphas, columns, partial, accs.front()));
        });
    return passes.getResult(0);
  }

  /// A pass of grouped P * V done: the running accumulators of its value
  /// columns `columns` in `accTile` (the result's tile), times each row's
  /// alpha, plus the pass's sums `partial` (rows x columns).
  Value addPassSums(OpBuilder &b, int64_t rows, ArrayRef<Value> alphas,
                    ArrayRef<Value> columns, ArrayRef<Value> partial,
                    Value accTile) {
    const int64_t lanes = tile.valueLanes, group = columns.size();
    auto vectorType = VectorType::get({lanes}, b.getF32Type());
    for (int64_t r = 0; r < rows; ++r) {
      Value alpha = alphaVector(b, alphas[r], lanes);
      for (int64_t e = 0; e < group; ++e) {
        SmallVector<Value> at = tileIndex(b, r, columns[e]);
        Value acc = vector::TransferReadOp::create(
            b, loc, vectorType, accTile, at, f32Const(b, 0.0),
            ArrayRef<bool>{true});
        acc = vector::FMAOp::create(b, loc, acc, alpha, partial[r * group + e]);
        accTile = vector::TransferWriteOp::create(b, loc, acc, accTile, at,
                                                  ArrayRef<bool>{true})
                      .getResult();
      }
    }
    return accTile;
  }

  /// A key block of dot-product scores (decode steps) as loops over its
  /// keys, with its scores, then its probabilities, in the work item's
  /// scratch tensor (at [row, key - key0]): the scores of each chunk of
  /// lanes keys and their lane-wise maximum; the block maximum, alpha and
  /// the rescale, once; the probabilities and their lane-wise sum; P * V,
  /// one key at a time, each probability broadcast from the scratch tensor
  /// (in passes over groups of value columns when grouped()). Straight-line,
  /// a block's phases ran one after the other with little overlap (each
  /// waits on the one before), and the block's code was as large as it is
  /// long: Zen 3, 12 heads, 513 keys, D = 64, 1 thread: 31 cycles per key
  /// in 16-key blocks.
  State buildRolledKeyBlock(OpBuilder &b, const Position &pos, int64_t rows,
                            Value key0, int64_t width, bool maskCausal,
                            const State &in) {
    Type f32 = b.getF32Type();
    const int64_t lanes = tile.valueLanes;
    const int64_t chunks = (width + lanes - 1) / lanes;
    const double negInf = -std::numeric_limits<double>::infinity();
    auto vectorType = VectorType::get({lanes}, f32);
    SmallVector<bool> inBounds = {true};
    Value padF32 = f32Const(b, 0.0);
    SmallVector<SmallVector<Value>> qRows = readQueryRows(b, pos, rows);
    SmallVector<Value> rowIdx;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(arith::AddIOp::create(b, loc, pos.row0, idx(b, r)));

    // Scores, with lanes beyond the block's keys -inf, and their lane-wise
    // maxima.
    auto scoreChunk = [&](OpBuilder &cb, Value c, int64_t cw,
                          ValueRange values) {
      Value at = arith::MulIOp::create(cb, loc, c, idx(cb, lanes));
      Value chunkKey0 = arith::AddIOp::create(cb, loc, key0, at);
      SmallVector<Value> raw =
          scoresByDotProducts(cb, pos, rows, chunkKey0, cw, qRows);
      Value scores = values[0];
      SmallVector<Value> next = {Value()};
      for (int64_t r = 0; r < rows; ++r) {
        Value s =
            chunkScores(cb, pos, rowIdx[r], chunkKey0, cw, raw[r], maskCausal);
        if (cw < lanes)
          s = vector::InsertStridedSliceOp::create(
              cb, loc, s, splat(cb, lanes, negInf), ArrayRef<int64_t>{0},
              ArrayRef<int64_t>{1});
        scores = vector::TransferWriteOp::create(
                     cb, loc, s, scores, ValueRange{idx(cb, r), at}, inBounds)
                     .getResult();
        next.push_back(arith::MaximumFOp::create(cb, loc, values[1 + r], s));
      }
      next[0] = scores;
      return next;
    };
    SmallVector<Value> values = {scratch};
    values.append(rows, splat(b, lanes, negInf));
    values = loopOver(b, loc, width / lanes, values,
                      [&](OpBuilder &lb, Value c, ValueRange carried) {
                        return scoreChunk(lb, c, lanes, carried);
                      });
    if (width % lanes)
      values = scoreChunk(b, idx(b, width / lanes), width % lanes, values);
    scratch = values[0];

    // Online softmax. A -inf score (masked, or an additive -inf) counts as
    // masked: it contributes exactly 0, and a row with no other score keeps
    // max = -inf, sum = 0.
    State out = in;
    Value negInfScalar = f32Const(b, negInf);
    SmallVector<Value> safeMax, alphas;
    for (int64_t r = 0; r < rows; ++r) {
      Value blockMax = vector::ReductionOp::create(
          b, loc, vector::CombiningKind::MAXIMUMF, values[1 + r]);
      Value newMax = arith::MaximumFOp::create(b, loc, out.max[r], blockMax);
      Value noneYet = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                            newMax, negInfScalar);
      safeMax.push_back(
          arith::SelectOp::create(b, loc, noneYet, f32Const(b, 0.0), newMax));
      Value hadNone = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                            out.max[r], negInfScalar);
      alphas.push_back(arith::SelectOp::create(
          b, loc, hadNone, f32Const(b, 0.0),
          math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, out.max[r], safeMax[r]))));
      out.max[r] = newMax;
      if (grouped())
        continue; // rescaled as the block's products are added
      for (int64_t e = 0; e < valueVectors; ++e) {
        Value &acc = out.acc[r * valueVectors + e];
        acc = arith::MulFOp::create(b, loc, acc,
                                    broadcast(b, alphas[r], valueWidth(e)));
      }
    }

    // Probabilities in place of the scores, and their lane-wise sums.
    values.assign({scratch});
    values.append(rows, splat(b, lanes, 0.0));
    values = loopOver(
        b, loc, chunks, values, [&](OpBuilder &lb, Value c, ValueRange carried) {
          Value at = arith::MulIOp::create(lb, loc, c, idx(lb, lanes));
          Value scores = carried[0];
          SmallVector<Value> next = {Value()};
          for (int64_t r = 0; r < rows; ++r) {
            Value s = vector::TransferReadOp::create(
                lb, loc, vectorType, scores, ValueRange{idx(lb, r), at},
                padF32, inBounds);
            Value p = math::ExpOp::create(
                lb, loc,
                arith::SubFOp::create(lb, loc, s,
                                      broadcast(lb, safeMax[r], lanes)));
            Value masked =
                arith::CmpFOp::create(lb, loc, arith::CmpFPredicate::OEQ, s,
                                      splat(lb, lanes, negInf));
            p = arith::SelectOp::create(lb, loc, masked, splat(lb, lanes, 0.0),
                                        p);
            scores = vector::TransferWriteOp::create(
                         lb, loc, p, scores, ValueRange{idx(lb, r), at},
                         inBounds)
                         .getResult();
            next.push_back(arith::AddFOp::create(lb, loc, carried[1 + r], p));
          }
          next[0] = scores;
          return next;
        });
    scratch = values[0];
    for (int64_t r = 0; r < rows; ++r) {
      Value blockSum = vector::ReductionOp::create(
          b, loc, vector::CombiningKind::ADD, values[1 + r]);
      out.sum[r] = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, out.sum[r], alphas[r]),
          blockSum);
    }

    // P * V: per key, its value row (a group of vectors of it) times each
    // row's probability, into accumulators.
    auto addKey = [&](OpBuilder &kb, Value k, ArrayRef<Value> columns,
                      ArrayRef<int64_t> widths, ValueRange accs) {
      return addKeyProducts(kb, pos, rows, key0, k, columns, widths, accs);
    };
    if (!grouped()) {
      SmallVector<Value> columns;
      SmallVector<int64_t> widths;
      for (int64_t e = 0; e < valueVectors; ++e) {
        columns.push_back(idx(b, e * lanes));
        widths.push_back(valueWidth(e));
      }
      out.acc = loopOver(b, loc, width, out.acc,
                         [&](OpBuilder &kb, Value k, ValueRange accs) {
                           return addKey(kb, k, columns, widths, accs);
                         });
      return out;
    }
    // acc[r] = acc[r] * alpha[r] + sum_k p[r][k] * v[key0 + k, :] in passes
    // over tile.valueGroup vectors of value columns (see buildKeyBlock).
    out.acc.assign({buildValuePasses(
        b, rows, alphas, in.acc.front(),
        [&](OpBuilder &pb, ArrayRef<Value> columns) {
          const int64_t group = columns.size();
          SmallVector<int64_t> widths(group, lanes);
          return loopOver(
              pb, loc, width,
              SmallVector<Value>(rows * group, splat(pb, lanes, 0.0)),
              [&](OpBuilder &kb, Value k, ValueRange sums) {
                return addKey(kb, k, columns, widths, sums);
              });
        })});
    return out;
  }

  /// scf.for over blocks [first, end) of `width` keys each (block i starts
  /// at key `offset` + i * width), carrying the online-softmax state from
  /// `in` (and the scratch tensor of rolled blocks); the state after the
  /// loop.
  State buildKeyBlockLoop(OpBuilder &b, const Position &pos, int64_t rows,
                          Value first, Value end, Value offset, int64_t width,
                          bool maskCausal, const State &in) {
    auto loop = scf::ForOp::create(
        b, loc, first, end, idx(b, 1), carried(in),
        [&](OpBuilder &lb, Location, Value block, ValueRange values) {
          Value key0 = arith::AddIOp::create(
              lb, loc, offset,
              arith::MulIOp::create(lb, loc, block, idx(lb, width)));
          State s = uncarry(values, rows);
          scf::YieldOp::create(
              lb, loc,
              carried(buildKeyBlock(lb, pos, rows, key0, width, maskCausal, s)));
        });
    return uncarry(loop.getResults(), rows);
  }

  /// The values a key loop carries: the state, then the scratch tensor of
  /// rolled blocks (see buildRolledKeyBlock), if any.
  SmallVector<Value> carried(const State &state) {
    SmallVector<Value> flat = state.flat();
    if (scratch)
      flat.push_back(scratch);
    return flat;
  }
  /// The state from the values `carried` made (the scratch tensor, if any,
  /// becomes the current one).
  State uncarry(ValueRange values, int64_t rows) {
    if (scratch) {
      scratch = values.back();
      values = values.drop_back();
    }
    return State::unflatten(values, rows);
  }

  /// The scores of query row `row` for the `cw` keys from `chunkKey0`, from
  /// their dot products `raw`: times the scale, plus an additive mask;
  /// masked keys (a boolean mask, and with `maskCausal` the keys after the
  /// row's diagonal) are -inf.
  Value chunkScores(OpBuilder &b, const Position &pos, Value row,
                    Value chunkKey0, int64_t cw, Value raw, bool maskCausal) {
    Type f32 = b.getF32Type();
    SmallVector<bool> inBounds = {true};
    auto scoreType = VectorType::get({cw}, f32);
    Value s = arith::MulFOp::create(b, loc, raw, splat(b, cw, scale));
    Value keep; // vector<cw x i1>, or null for all kept
    if (mask) {
      SmallVector<Value> at = {maskIndex(b, 0, pos.batch),
                               maskIndex(b, 1, pos.head), maskIndex(b, 2, row)};
      if (!boolMask) {
        Value add;
        if (maskShape[3] == 1) {
          at.push_back(idx(b, 0));
          add = broadcast(b, tensor::ExtractOp::create(b, loc, mask, at), cw);
        } else {
          at.push_back(chunkKey0);
          add = vector::TransferReadOp::create(b, loc, scoreType, mask, at,
                                               f32Const(b, 0.0), inBounds);
        }
        s = arith::AddFOp::create(b, loc, s, add);
      } else if (maskShape[3] == 1) {
        at.push_back(idx(b, 0));
        keep = broadcast(b, tensor::ExtractOp::create(b, loc, mask, at), cw);
      } else {
        // i1 elements one by one: a vector load of i1 would read packed
        // bits, and memory holds one byte per element.
        SmallVector<Value> bits;
        for (int64_t l = 0; l < cw; ++l) {
          SmallVector<Value> atKey(at);
          atKey.push_back(arith::AddIOp::create(b, loc, chunkKey0, idx(b, l)));
          bits.push_back(tensor::ExtractOp::create(b, loc, mask, atKey));
        }
        keep = vector::FromElementsOp::create(
            b, loc, VectorType::get({cw}, b.getI1Type()), bits);
      }
    }
    if (maskCausal) {
      // Key j is visible from row i when j <= i + T - S, i.e. lane l when
      // l <= row + T - S - chunkKey0 (clamped into i32 range).
      Value limit = arith::SubIOp::create(
          b, loc, arith::AddIOp::create(b, loc, row, idx(b, n.t - n.s)),
          chunkKey0);
      limit = arith::MaxSIOp::create(
          b, loc, idx(b, -1), arith::MinSIOp::create(b, loc, limit, idx(b, cw)));
      Value limit32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), limit);
      SmallVector<int32_t> ids;
      for (int64_t l = 0; l < cw; ++l)
        ids.push_back(static_cast<int32_t>(l));
      Value laneIds = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(VectorType::get({cw}, b.getI32Type()),
                                 ArrayRef<int32_t>(ids)));
      Value visible = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle,
                                            laneIds, broadcast(b, limit32, cw));
      keep = keep ? arith::AndIOp::create(b, loc, keep, visible).getResult()
                  : visible;
    }
    if (keep)
      s = arith::SelectOp::create(b, loc, keep, s,
                                  splat(b, cw, -std::numeric_limits<double>::infinity()));
    return s;
  }

  /// One key block of `width` keys starting at `key0` (chunkWidths(width)
  /// score vectors per row): scores, online softmax update (one row maximum,
  /// one rescale of the accumulators per block, however many vectors it
  /// has), and P * V into the accumulators. With `maskCausal`, keys after a
  /// row's diagonal are masked (blocks wholly below every row's diagonal
  /// need not be).
  State buildKeyBlock(OpBuilder &b, const Position &pos, int64_t rows,
                      Value key0, int64_t width, bool maskCausal,
                      const State &in) {
    if (rolled())
      return buildRolledKeyBlock(b, pos, rows, key0, width, maskCausal, in);
    Type f32 = b.getF32Type();
    SmallVector<bool> inBounds = {true};
    Value padF32 = f32Const(b, 0.0);
    const double negInf = -std::numeric_limits<double>::infinity();
    const int64_t lanesPerChunk = tile.valueLanes;
    SmallVector<int64_t> widths = chunkWidths(width);
    const int64_t chunks = widths.size();

    SmallVector<SmallVector<Value>> rawScores;
    if (keysTransposed) {
      rawScores = scoresFromTransposedKeys(b, pos, rows, key0, width);
    } else {
      rawScores.resize(rows);
      for (int64_t c = 0; c < chunks; ++c) {
        Value chunkKey0 =
            arith::AddIOp::create(b, loc, key0, idx(b, c * lanesPerChunk));
        SmallVector<Value> chunkScores =
            scoresByDotProducts(b, pos, rows, chunkKey0, widths[c]);
        for (int64_t r = 0; r < rows; ++r)
          rawScores[r].push_back(chunkScores[r]);
      }
    }

    // Online softmax, lane-wise: each row's running maximum and sum are
    // vectors (State's max and sum here), the maximum equal in all lanes,
    // the sum lane-wise partial sums, added across lanes once at the end
    // (buildQueryBlock). The maximum starts at the lowest finite f32, and a
    // score of -inf (masked, or an additive -inf) gives exp(-inf - max) = 0
    // exactly, so that a row with no visible key so far keeps sum = 0
    // without a select. The row statistics use selectGreater (maxps) and a
    // butterfly of shuffles, the exponentials buildExpOfNonPositive: with
    // arith.maximumf, its vector.reduction (a scalar chain with branches)
    // and upstream's exp, a 2 x 32 AVX2 block spent about 300 cycles
    // outside its two products (Zen 3, S = T = 128, D = 64: 29% of the
    // kernel). A NaN score still makes its row NaN: its own probability is
    // NaN.
    const int64_t lanes = lanesPerChunk;
    State out = in;
    SmallVector<SmallVector<Value>> probs(rows);
    SmallVector<Value> alphas;
    const bool grouped = this->grouped();
    auto expOf = [&](Value x) {
      return buildExpOfNonPositive(b, loc, x, /*clampInput=*/true);
    };
    SmallVector<Value> maxDrops; // per row, old maximum - new maximum
    for (int64_t r = 0; r < rows; ++r) {
      Value row = arith::AddIOp::create(b, loc, pos.row0, idx(b, r));
      SmallVector<Value> scores;
      for (int64_t c = 0; c < chunks; ++c) {
        Value chunkKey0 =
            arith::AddIOp::create(b, loc, key0, idx(b, c * lanesPerChunk));
        Value score = chunkScores(b, pos, row, chunkKey0, widths[c],
                                  rawScores[r][c], maskCausal);
        if (widths[c] < lanes)
          score = vector::InsertStridedSliceOp::create(
              b, loc, score, splat(b, lanes, negInf), ArrayRef<int64_t>{0},
              ArrayRef<int64_t>{1});
        scores.push_back(score);
      }
      Value blockMax = scores.front();
      for (int64_t c = 1; c < chunks; ++c)
        blockMax = selectGreater(b, loc, blockMax, scores[c]);
      blockMax = allLanesMax(b, blockMax);
      Value newMax = selectGreater(b, loc, out.max[r], blockMax);
      for (int64_t c = 0; c < chunks; ++c)
        probs[r].push_back(
            expOf(arith::SubFOp::create(b, loc, scores[c], newMax)));
      maxDrops.push_back(arith::SubFOp::create(b, loc, out.max[r], newMax));
      out.max[r] = newMax;
    }
    // The rows' rescale factors alpha = exp(old max - new max): one
    // exponential for all rows (up to a vector's lanes), lane r row r's,
    // then broadcast back; a row's drop is equal in all its lanes.
    if (rows > 1 && rows <= lanes) {
      Value packed = maxDrops.front();
      for (int64_t r = 1; r < rows; ++r) {
        SmallVector<int64_t> mask;
        for (int64_t l = 0; l < lanes; ++l)
          mask.push_back(l == r ? lanes + l : l);
        packed = vector::ShuffleOp::create(b, loc, packed, maxDrops[r], mask);
      }
      Value packedAlpha = expOf(packed);
      for (int64_t r = 0; r < rows; ++r)
        alphas.push_back(vector::ShuffleOp::create(
            b, loc, packedAlpha, packedAlpha, SmallVector<int64_t>(lanes, r)));
    } else {
      for (int64_t r = 0; r < rows; ++r)
        alphas.push_back(expOf(maxDrops[r]));
    }
    for (int64_t r = 0; r < rows; ++r) {
      out.sum[r] = vector::FMAOp::create(b, loc, out.sum[r], alphas[r],
                                         pairwiseSum(b, loc, probs[r]));
      if (grouped)
        continue; // rescaled as the block's products are added
      for (int64_t e = 0; e < valueVectors; ++e) {
        Value &acc = out.acc[r * valueVectors + e];
        acc = arith::MulFOp::create(b, loc, acc,
                                    alphaVector(b, alphas[r], valueWidth(e)));
      }
    }

    // Row r's probability of the block's key k (lane k % lanes of its
    // chunk k / lanes).
    auto keyProbability = [&](OpBuilder &pb, int64_t r, int64_t k) -> Value {
      return vector::ExtractOp::create(pb, loc, probs[r][k / lanesPerChunk],
                                       ArrayRef<int64_t>{k % lanesPerChunk});
    };
    if (grouped) {
      // acc[r] = acc[r] * alpha[r] + sum_k p[r][k] * v[key0 + k, :], the
      // sum in passes over tile.valueGroup vectors of value columns at a
      // time (an scf.for), each into accumulators of its own; the running
      // accumulators are in the result's tile, read and written once per
      // block. (As SSA values carried by the key loop, LLVM's register
      // allocator keeps some of them in registers across Q K^T and spills
      // that loop's operands instead; and written out, the passes' FMAs are
      // interleaved again by the scheduler.) Each pass walks the block's
      // keys in an scf.for, each probability broadcast from the scratch
      // tensor by one load: written out per key, the broadcasts were the
      // same in every pass, LLVM hoisted all of them (rows x keys vectors,
      // two shuffles each) out of the pass loop and spilled them.
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < chunks; ++c)
          scratch = vector::TransferWriteOp::create(
                        b, loc, probs[r][c], scratch,
                        ValueRange{idx(b, r), idx(b, c * lanes)}, inBounds)
                        .getResult();
      out.acc.assign({buildValuePasses(
          b, rows, alphas, in.acc.front(),
          [&](OpBuilder &pb, ArrayRef<Value> columns) {
            const int64_t group = columns.size();
            SmallVector<int64_t> groupWidths(group, lanes);
            return loopOver(
                pb, loc, width,
                SmallVector<Value>(rows * group, splat(pb, lanes, 0.0)),
                [&](OpBuilder &kb, Value k, ValueRange sums) {
                  return addKeyProducts(kb, pos, rows, key0, k, columns,
                                        groupWidths, sums);
                });
          })});
      return out;
    }

    // acc[r] += sum_k p[r][k] * v[key0 + k, :]: one value row per key,
    // loaded once for all rows of the block.
    for (int64_t k = 0; k < width; ++k) {
      Value key = arith::AddIOp::create(b, loc, key0, idx(b, k));
      SmallVector<Value> pk;
      for (int64_t r = 0; r < rows; ++r)
        pk.push_back(keyProbability(b, r, k));
      for (int64_t e = 0; e < valueVectors; ++e) {
        int64_t vw = valueWidth(e);
        Value valueRow = vector::TransferReadOp::create(
            b, loc, VectorType::get({vw}, f32), v.value,
            v.at(pos.batch, pos.kvHead, key, idx(b, e * tile.valueLanes)),
            padF32, inBounds);
        for (int64_t r = 0; r < rows; ++r) {
          Value &acc = out.acc[r * valueVectors + e];
          acc = vector::FMAOp::create(b, loc, broadcast(b, pk[r], vw), valueRow,
                                      acc);
        }
      }
    }
    return out;
  }

  Location loc;
  AttentionSizes n;
  AttentionTile tile;
  HeadsView q, keys;
  bool keysTransposed;
  HeadsView v;
  Value mask;
  bool causal;
  float scale;
  bool outSeqMajor;
  SmallVector<int64_t> maskShape;
  bool boolMask = false;
  int64_t valueVectors = 0;
  /// The scratch tensor of rolled key blocks ([rows, key block] f32), as the
  /// key loop being built carries it; null when blocks are not rolled.
  Value scratch;
};

//===----------------------------------------------------------------------===//
// Operands
//===----------------------------------------------------------------------===//

/// f32, or a per-tensor or per-axis uniform quantized type (what
/// qlow.dequantize and qlow.quantize lower).
bool isF32OrPerTensorOrAxis(Type tensorType) {
  Type element = getElementTypeOrSelf(tensorType);
  return element.isF32() ||
         isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType>(
             element);
}

/// `value` as f32: itself, or its qlow.dequantize.
Value toF32(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementType().isF32())
    return value;
  return DequantizeOp::create(
      b, loc, RankedTensorType::get(type.getShape(), b.getF32Type()), value);
}

/// k [B, Hkv, T, D] (`s`; read through its view) as [B, Hkv, D, T], one
/// (batch, kv head) per iteration
/// of an scf.forall (a layout change that every query head of the group
/// reads; not a copy per head), in tiles of `lanes` keys x `lanes` of D:
/// `lanes` row loads, transposeVectorTile, `lanes` row stores (D's last,
/// partial tile with narrower loads and fewer stores; the last keys that do not
/// fill a tile element by element). (A transposing linalg.generic would be
/// vectorized by qlow-vectorize-elementwise into a transfer_read with a
/// permutation map, which the LLVM lowering rejects.)
Value transposeKeys(OpBuilder &b, Location loc, const HeadsView &k,
                    ArrayRef<int64_t> s, int64_t lanes) {
  Type f32 = b.getF32Type();
  Value empty = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{s[0], s[1], s[3], s[2]}, f32);
  if (s[0] * s[1] * s[2] * s[3] == 0)
    return empty;
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(s[0] * s[1])},
      ValueRange{empty}, std::nullopt);
  OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
  auto idx = [&](OpBuilder &ib, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ib, loc, v);
  };
  Value iv = forall.getInductionVars()[0];
  Value batch = arith::DivUIOp::create(fb, loc, iv, idx(fb, s[1]));
  Value head = arith::RemUIOp::create(fb, loc, iv, idx(fb, s[1]));
  SmallVector<OpFoldResult> offsets = {batch, head, fb.getIndexAttr(0),
                                       fb.getIndexAttr(0)};
  SmallVector<OpFoldResult> strides(4, fb.getIndexAttr(1));
  SmallVector<OpFoldResult> sizes = {fb.getIndexAttr(1), fb.getIndexAttr(1),
                                     fb.getIndexAttr(s[3]),
                                     fb.getIndexAttr(s[2])};
  Value shared = forall.getRegionIterArgs()[0];
  Value slice = tensor::ExtractSliceOp::create(
      fb, loc, RankedTensorType::get({1, 1, s[3], s[2]}, f32), shared, offsets,
      sizes, strides);
  auto vecType = [&](int64_t width) { return VectorType::get({width}, f32); };
  Value zeroF = arith::ConstantOp::create(fb, loc, fb.getF32FloatAttr(0.0f));
  Value zeros = arith::ConstantOp::create(
      fb, loc,
      DenseElementsAttr::get(vecType(lanes),
                             fb.getF32FloatAttr(0.0f).getValue()));
  SmallVector<bool> inBounds = {true};
  // The tiles of keys [t0, t0 + lanes), for every tile of D (the last one
  // narrower: its rows are loaded narrower and widened with zeros, and only
  // its columns inside D are stored).
  auto tileRow = [&](OpBuilder &tb, Value t0, Value dest) {
    for (int64_t d0 = 0; d0 < s[3]; d0 += lanes) {
      const int64_t width = std::min(lanes, s[3] - d0);
      SmallVector<Value> rows;
      for (int64_t r = 0; r < lanes; ++r) {
        Value key = arith::AddIOp::create(tb, loc, t0, idx(tb, r));
        Value row = vector::TransferReadOp::create(
            tb, loc, vecType(width), k.value,
            k.at(batch, head, key, idx(tb, d0)), zeroF, inBounds);
        if (width < lanes)
          row = vector::InsertStridedSliceOp::create(
              tb, loc, row, zeros, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
        rows.push_back(row);
      }
      SmallVector<Value> columns = transposeVectorTile(tb, loc, rows);
      for (int64_t j = 0; j < width; ++j)
        dest = vector::TransferWriteOp::create(
                   tb, loc, columns[j], dest,
                   ValueRange{idx(tb, 0), idx(tb, 0), idx(tb, d0 + j), t0},
                   inBounds)
                   .getResult();
    }
    return dest;
  };
  const int64_t fullTiles = s[2] / lanes;
  if (fullTiles > 0) {
    auto tLoop = scf::ForOp::create(
        fb, loc, idx(fb, 0), idx(fb, fullTiles * lanes), idx(fb, lanes),
        ValueRange{slice},
        [&](OpBuilder &tb, Location, Value t0, ValueRange carried) {
          scf::YieldOp::create(tb, loc,
                               ValueRange{tileRow(tb, t0, carried[0])});
        });
    slice = tLoop.getResult(0);
  }
  // The last keys (fewer than a tile) element by element. (Padding their
  // tile with constant or repeated rows makes LLVM 22's instruction
  // selection at -O0 recurse without end on the shuffles.)
  if (s[2] % lanes != 0) {
    auto tLoop = scf::ForOp::create(
        fb, loc, idx(fb, fullTiles * lanes), idx(fb, s[2]), idx(fb, 1),
        ValueRange{slice},
        [&](OpBuilder &tb, Location, Value t, ValueRange outer) {
          auto dLoop = scf::ForOp::create(
              tb, loc, idx(tb, 0), idx(tb, s[3]), idx(tb, 1), outer,
              [&](OpBuilder &db, Location, Value d, ValueRange inner) {
                Value x = tensor::ExtractOp::create(db, loc, k.value,
                                                    k.at(batch, head, t, d));
                scf::YieldOp::create(
                    db, loc,
                    ValueRange{tensor::InsertOp::create(
                                   db, loc, x, inner[0],
                                   ValueRange{idx(db, 0), idx(db, 0), d, t})
                                   .getResult()});
              });
          scf::YieldOp::create(tb, loc, dLoop.getResults());
        });
    slice = tLoop.getResult(0);
  }
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(tb, loc, slice, shared, offsets, sizes,
                                        strides);
  return forall.getResult(0);
}

/// The mask as a rank-4 tensor (leading unit dimensions added; no copy).
Value maskToRank4(OpBuilder &b, Location loc, Value mask) {
  auto type = cast<RankedTensorType>(mask.getType());
  int64_t rank = type.getRank();
  if (rank == 4)
    return mask;
  SmallVector<int64_t> shape(4 - rank, 1);
  llvm::append_range(shape, type.getShape());
  SmallVector<ReassociationIndices> reassociation;
  if (rank > 0) {
    ReassociationIndices first;
    for (int64_t d = 0; d <= 4 - rank; ++d)
      first.push_back(d);
    reassociation.push_back(first);
    for (int64_t d = 5 - rank; d < 4; ++d)
      reassociation.push_back({d});
  }
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), mask,
      reassociation);
}

/// `type` as a diagnostic quotes it.
std::string typeString(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << type << "'";
  return text;
}

/// Why `op` cannot be lowered by this pass, or an empty string.
std::string unsupportedReason(AttentionOp op) {
  for (Value operand : op->getOperands())
    if (!cast<RankedTensorType>(operand.getType()).hasStaticShape())
      return "dynamic shapes are not supported (operand of type " +
             typeString(operand.getType()) + ")";
  if (!cast<RankedTensorType>(op.getType()).hasStaticShape())
    return "dynamic shapes are not supported (result of type " +
           typeString(op.getType()) + ")";
  for (auto [what, type] :
       {std::pair<StringRef, Type>{"q", op.getQ().getType()},
        {"k", op.getK().getType()},
        {"v", op.getV().getType()},
        {"the result", op.getType()}})
    if (!isF32OrPerTensorOrAxis(type))
      return (what +
              " must be f32 or quantized per tensor or per axis, "
              "but has type " +
              typeString(type))
          .str();
  return "";
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct QlowX86AttentionPass
    : qlow::impl::QlowX86AttentionPassBase<QlowX86AttentionPass> {
  using QlowX86AttentionPassBase::QlowX86AttentionPassBase;

  void runOnOperation() override {
    SmallVector<AttentionOp> ops;
    getOperation().walk([&](AttentionOp op) { ops.push_back(op); });
    if (ops.empty())
      return;
    std::string error;
    FailureOr<TargetDesc> desc = lookupTargetDesc("x86_64", cpu, &error);
    if (failed(desc)) {
      getOperation().emitError() << error;
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    bool failedAny = false;
    for (AttentionOp op : ops) {
      std::string reason = unsupportedReason(op);
      if (reason.empty() && op.getInt8())
        reason = unsupportedInt8AttentionReason(op, *desc);
      if (!reason.empty()) {
        op.emitError() << "qlow-x86-attention cannot lower this attention: "
                       << reason;
        failedAny = true;
        continue;
      }
      Location loc = op.getLoc();
      rewriter.setInsertionPoint(op);
      ArrayRef<int64_t> qs = op.getQ().getType().getShape();
      ArrayRef<int64_t> ks = op.getK().getType().getShape();
      ArrayRef<int64_t> vs = op.getV().getType().getShape();
      AttentionSizes sizes{qs[0], qs[1], ks[1], qs[2], ks[2], qs[3], vs[3]};
      // Default 1/sqrt(D), in f32 as the op documents (and the interpreter
      // computes it).
      float scale = op.getScale()
                        ? op.getScale()->convertToFloat()
                        : 1.0f / std::sqrt(static_cast<float>(sizes.d));
      auto resultType = cast<RankedTensorType>(op.getType());
      // A result whose only use merges the heads back ([B, H, S, Dv] ->
      // [B, S, H, Dv]) is written in that layout.
      linalg::TransposeOp merge;
      if (resultType.getElementType().isF32() && op->hasOneUse())
        merge = dyn_cast<linalg::TransposeOp>(*op->getUsers().begin());
      if (!isHeadsTranspose(merge) || merge.getInput() != op.getResult())
        merge = nullptr;
      // The kernel's result replaces the merge transpose (written in its
      // layout) or the op (quantized first when the op's result is).
      auto replaceAttention = [&](Value result) {
        if (merge) {
          rewriter.replaceOp(merge, result);
          rewriter.eraseOp(op);
          return;
        }
        if (!resultType.getElementType().isF32())
          result = QuantizeOp::create(rewriter, loc, resultType, result);
        rewriter.replaceOp(op, result);
      };
      // The split-heads transposes that the kernel read in place are dead
      // unless something else uses them.
      auto eraseDeadHeadsTransposes = [&](ArrayRef<HeadsView> views) {
        for (const HeadsView &view : views) {
          if (!view.seqMajor)
            continue;
          for (Operation *user :
               llvm::make_early_inc_range(view.value.getUsers()))
            if (auto t = dyn_cast<linalg::TransposeOp>(user);
                t && isHeadsTranspose(t) && t->use_empty())
              rewriter.eraseOp(t);
        }
      };
      if (op.getInt8()) {
        // Integer Q K^T and P V (Int8Attention.cpp: vpdpbusd, or vpmaddwd
        // on AVX2), on the stored integers; split-heads transposes are
        // quantized before and read in place.
        llvm::SetVector<Operation *> quantizes;
        for (Value operand : {op.getQ(), op.getK(), op.getV()})
          if (Operation *def = operand.getDefiningOp<QuantizeOp>())
            quantizes.insert(def);
        HeadsView q8 = viewQuantizedHeads(rewriter, loc, op.getQ());
        HeadsView k8 = viewQuantizedHeads(rewriter, loc, op.getK());
        HeadsView v8 = viewQuantizedHeads(rewriter, loc, op.getV());
        Value mask =
            op.getMask() ? maskToRank4(rewriter, loc, op.getMask()) : Value();
        FusedOutputQuantize fused =
            findOutputQuantize(merge ? merge->getResult(0) : Value(op.getResult()));
        std::optional<OutputQuantization> outQuant;
        if (fused.quantize && resultType.getElementType().isF32()) {
          auto q = cast<quant::UniformQuantizedType>(
              fused.quantize.getType().getElementType());
          outQuant = OutputQuantization{static_cast<float>(q.getScale()),
                                        q.getZeroPoint(), q.getStorageTypeMin(),
                                        q.getStorageTypeMax()};
        }
        Value result = buildInt8Attention(
            rewriter, op, *desc, q8, k8, v8, mask, scale,
            /*outSeqMajor=*/!!merge, outQuant ? &*outQuant : nullptr);
        if (outQuant) {
          // The kernel stored the quantize's integers: they replace the
          // quantize (through the same collapse), and the collapse, the
          // merge and the op go.
          if (fused.collapse)
            result = tensor::CollapseShapeOp::create(
                rewriter, loc, result,
                fused.collapse.getReassociationIndices());
          result = quant::StorageCastOp::create(
              rewriter, loc, fused.quantize.getType(), result);
          rewriter.replaceOp(fused.quantize, result);
          if (fused.collapse)
            rewriter.eraseOp(fused.collapse);
          if (merge)
            rewriter.eraseOp(merge);
          rewriter.eraseOp(op);
        } else {
          replaceAttention(result);
        }
        // The quantizes of transposes that were moved, and the transposes,
        // are dead unless something else uses them.
        for (Operation *quantize : quantizes) {
          if (!quantize->use_empty())
            continue;
          Operation *input = quantize->getOperand(0).getDefiningOp();
          rewriter.eraseOp(quantize);
          if (auto t = dyn_cast_or_null<linalg::TransposeOp>(input);
              t && isHeadsTranspose(t) && t->use_empty())
            rewriter.eraseOp(t);
        }
        continue;
      }
      // A decode step of grouped-query attention (one query row per head,
      // G = H / Hkv heads per kv head): the G query heads of a kv head
      // become the G rows of one work item, so that its K and V are read
      // once instead of once per query head. A query row is [B, H, 1, D]
      // or, split-heads, [B, 1, H, D]: the same [B, H, D] elements, which
      // are viewed as [B, Hkv, G, D] (head h = kv * G + g, the op's
      // grouping); the [B, Hkv, G, Dv] result is viewed back the same way.
      // The causal mask hides no key of a single row (j > 0 + T - 1), and
      // a mask that is the same for every head and row broadcasts as
      // before. Zen 3, 1 thread, 32 heads of 1 row, 8 kv heads of 1025
      // keys, D = Dv = 128: 0.65 -> 0.45 ms.
      const int64_t group = sizes.h / sizes.hkv;
      auto maskBroadcasts = [&]() {
        if (!op.getMask())
          return true;
        // The mask's rank-4 view: leading dimensions of 1 added.
        auto shape = cast<RankedTensorType>(op.getMask().getType()).getShape();
        int64_t rank = shape.size();
        auto dim = [&](int64_t d) { return d < 4 - rank ? 1 : shape[d - 4 + rank]; };
        return dim(1) == 1 && dim(2) == 1;
      };
      if (sizes.s == 1 && group > 1 &&
          maskBroadcasts()) {
        AttentionSizes folded = sizes;
        folded.h = sizes.hkv;
        folded.s = group;
        AttentionTile tile = desc->chooseFoldedDecodeTile(group, sizes.dv);
        auto asGroups = [&](Value operand) -> HeadsView {
          // [B, H, 1, D] or [B, 1, H, D] -> [B, H, D] -> [B, Hkv, G, D].
          HeadsView view = viewHeads(operand);
          auto type = cast<RankedTensorType>(view.value.getType());
          int64_t last = type.getDimSize(3);
          Value flat = tensor::CollapseShapeOp::create(
              rewriter, loc,
              RankedTensorType::get({sizes.b, sizes.h, last},
                                    type.getElementType()),
              view.value, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
          return HeadsView{tensor::ExpandShapeOp::create(
                               rewriter, loc,
                               RankedTensorType::get(
                                   {sizes.b, sizes.hkv, group, last},
                                   type.getElementType()),
                               flat,
                               SmallVector<ReassociationIndices>{
                                   {0}, {1, 2}, {3}}),
                           false};
        };
        auto qTranspose = op.getQ().getDefiningOp<linalg::TransposeOp>();
        HeadsView q = asGroups(toF32(rewriter, loc, op.getQ()));
        HeadsView k = viewHeads(toF32(rewriter, loc, op.getK()));
        HeadsView v = viewHeads(toF32(rewriter, loc, op.getV()));
        Value mask =
            op.getMask() ? maskToRank4(rewriter, loc, op.getMask()) : Value();
        AttentionKernel kernel(loc, folded, tile, q, k, /*keysTransposed=*/false,
                               v, mask, /*causal=*/false, scale,
                               /*outSeqMajor=*/false);
        Value result = kernel.build(rewriter);
        // [B, Hkv, G, Dv] -> [B, H, Dv] -> the op's [B, H, 1, Dv], or the
        // merge's [B, 1, H, Dv].
        Value flat = tensor::CollapseShapeOp::create(
            rewriter, loc,
            RankedTensorType::get({sizes.b, sizes.h, sizes.dv},
                                  rewriter.getF32Type()),
            result, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
        SmallVector<int64_t> shape =
            merge ? SmallVector<int64_t>{sizes.b, 1, sizes.h, sizes.dv}
                  : SmallVector<int64_t>{sizes.b, sizes.h, 1, sizes.dv};
        result = tensor::ExpandShapeOp::create(
            rewriter, loc, RankedTensorType::get(shape, rewriter.getF32Type()),
            flat, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
        replaceAttention(result);
        eraseDeadHeadsTransposes({k, v});
        if (qTranspose && isHeadsTranspose(qTranspose) &&
            qTranspose->use_empty())
          rewriter.eraseOp(qTranspose);
        continue;
      }
      AttentionTile tile = desc->chooseAttentionTile(sizes.s, sizes.dv);
      // Operands that are split-heads transposes ([B, S, H, D] -> [B, H, S,
      // D], of a projection's output) are read in place, and a result whose
      // only use merges the heads back ([B, H, S, Dv] -> [B, S, H, Dv]) is
      // written in that layout: the transposed copies are never made.
      HeadsView q = viewHeads(toF32(rewriter, loc, op.getQ()));
      HeadsView k = viewHeads(toF32(rewriter, loc, op.getK()));
      HeadsView v = viewHeads(toF32(rewriter, loc, op.getV()));
      // K^T costs T * D moves per kv head and turns each score into a
      // broadcast FMA; it pays when enough query rows share each kv head.
      bool transposed = sizes.s * (sizes.h / sizes.hkv) >= tile.valueLanes;
      if (!transposed)
        tile.keyBlock = desc->chooseDotProductKeyBlock();
      HeadsView keys =
          transposed
              ? HeadsView{transposeKeys(rewriter, loc, k,
                                        {sizes.b, sizes.hkv, sizes.t, sizes.d},
                                        tile.valueLanes)}
              : k;
      Value mask =
          op.getMask() ? maskToRank4(rewriter, loc, op.getMask()) : Value();
      AttentionKernel kernel(loc, sizes, tile, q, keys, transposed, v, mask,
                             op.getCausal(), scale, /*outSeqMajor=*/!!merge);
      Value result = kernel.build(rewriter);
      replaceAttention(result);
      eraseDeadHeadsTransposes({q, k, v});
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Pieces shared with the int8 attention kernel (AttentionKernels.h)
//===----------------------------------------------------------------------===//

SmallVector<Value> mlir::qlow::OnlineSoftmaxState::flat() const {
  SmallVector<Value> all(acc);
  llvm::append_range(all, max);
  llvm::append_range(all, sum);
  return all;
}

OnlineSoftmaxState mlir::qlow::OnlineSoftmaxState::unflatten(ValueRange values,
                                                             int64_t rows) {
  OnlineSoftmaxState s;
  const int64_t accs = static_cast<int64_t>(values.size()) - 2 * rows;
  s.acc.assign(values.begin(), values.begin() + accs);
  s.max.assign(values.begin() + accs, values.begin() + accs + rows);
  s.sum.assign(values.begin() + accs + rows, values.end());
  return s;
}

Value mlir::qlow::buildAttentionForall(
    OpBuilder &b, Location loc, Value out, int64_t batch, int64_t heads,
    int64_t kvHeads, int64_t dv, int64_t rows, int64_t blocks, int64_t firstRow,
    function_ref<Value(OpBuilder &, const AttentionPosition &, Value)>
        buildBlock,
    bool seqMajor) {
  auto idx = [&](OpBuilder &ib, int64_t value) -> Value {
    return arith::ConstantIndexOp::create(ib, loc, value);
  };
  Type element = cast<RankedTensorType>(out.getType()).getElementType();
  const int64_t count = batch * heads * blocks;
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(count)}, ValueRange{out},
      std::nullopt);
  OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
  Value iv = forall.getInductionVars()[0];
  Value shared = forall.getRegionIterArgs()[0];
  // One linear index (a single parallel loop for OpenMP), delinearized.
  Value perBatch = idx(fb, heads * blocks);
  AttentionPosition pos;
  pos.batch = arith::DivUIOp::create(fb, loc, iv, perBatch);
  Value inBatch = arith::RemUIOp::create(fb, loc, iv, perBatch);
  pos.head = arith::DivUIOp::create(fb, loc, inBatch, idx(fb, blocks));
  Value block = arith::RemUIOp::create(fb, loc, inBatch, idx(fb, blocks));
  // Grouped-query attention: query head h reads kv head h / (H / Hkv).
  pos.kvHead =
      arith::DivUIOp::create(fb, loc, pos.head, idx(fb, heads / kvHeads));
  pos.row0 = arith::AddIOp::create(
      fb, loc, idx(fb, firstRow),
      arith::MulIOp::create(fb, loc, block, idx(fb, rows)));

  SmallVector<OpFoldResult> offsets = {pos.batch, pos.head, pos.row0,
                                       fb.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {fb.getIndexAttr(1), fb.getIndexAttr(1),
                                     fb.getIndexAttr(rows),
                                     fb.getIndexAttr(dv)};
  SmallVector<int64_t> tileShape = {1, 1, rows, dv};
  if (seqMajor) {
    std::swap(offsets[1], offsets[2]);
    std::swap(sizes[1], sizes[2]);
    std::swap(tileShape[1], tileShape[2]);
  }
  SmallVector<OpFoldResult> strides(4, fb.getIndexAttr(1));
  // Rank 4: a rank-reduced [rows, Dv] slice would be ambiguous when rows or
  // Dv is 1 (which unit dimensions are dropped decides the strides).
  Value tileOut = tensor::ExtractSliceOp::create(
      fb, loc, RankedTensorType::get(tileShape, element), shared, offsets,
      sizes, strides);
  tileOut = buildBlock(fb, pos, tileOut);
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(tb, loc, tileOut, shared, offsets,
                                        sizes, strides);
  return forall.getResult(0);
}
