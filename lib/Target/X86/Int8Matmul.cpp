//===- Int8Matmul.cpp - int8 contractions to vpdpbusd kernels -------------===//
//
// Upstream's vector dialect has no u8 x s8 -> i32 dot-product-of-4 and its
// contraction lowerings do not produce vpdpbusd, so this pass builds the
// register-tiled kernel itself from vector ops and the LLVM intrinsic, with
// every size taken from the TargetDesc. The dot product itself is a qlow_x86
// kernel op (dot_u8s8 with VNNI; dot_u8s8_pairs or dot_i16x2 on AVX2, see
// chooseAvx2DotForm); qlow-x86-lower-intrinsics makes it LLVM intrinsics
// after bufferization.
//
//===----------------------------------------------------------------------===//

#include "AttentionKernels.h"
#include "dialects/QlowX86/IR/QlowX86Dialect.h"
#include "qlow/Target/Int8Kernel.h"
#include "qlow/Target/TargetDesc.h"
#include "qlow/Target/X86/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <cstdlib>

#define DEBUG_TYPE "qlow-x86-int8-matmul"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWX86INT8MATMULPASS
#define GEN_PASS_DEF_QLOWX86LOWERINTRINSICSPASS
#include "qlow/Target/X86/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

namespace {

/// The instructions a kernel's dot products use.
enum class Int8DotForm {
  /// vpdpbusd (qlow_x86.dot_u8s8): 4 bytes of K per i32 lane and step.
  Vnni,
  /// AVX2 vpmaddubsw + vpmaddwd by ones + vpaddd (qlow_x86.dot_u8s8_pairs):
  /// 4 bytes of K per i32 lane and step, as VNNI; only for weights on which
  /// vpmaddubsw cannot saturate.
  Avx2BytePairs,
  /// AVX2 vpmaddwd + vpaddd on operands widened to i16 (qlow_x86.dot_i16x2):
  /// 2 elements of K per i32 lane and step; exact for any s8 weights.
  Avx2WidePairs,
};

/// A lookup of byte lanes in a constant table of at most 256 bytes with
/// AVX-512 VBMI (the epilogue's quantized gelu/silu; see ByteTableLookup).
/// The table is four zmm constants of 64 bytes (LLVM loads them from
/// the constant pool where the epilogue runs, after the K loop); the 16
/// index bytes of one accumulator vector are the low lanes of a zmm
/// (widening an xmm is free), two qlow_x86.permute_bytes2 (vpermi2b) look
/// each up in both 128-byte halves, and bit 7 of the index picks one
/// (vpmovb2m + vpblendmb). On Zen 4 that is 4 instructions per 16 lanes where
/// vpgatherdd issues 16 loads. Only the low lanes are used: running a row's
/// two accumulator vectors through the epilogue as one 32-lane vector (one
/// lookup for both, one store) emitted 9% fewer instructions in the 12 x 2
/// kernel but measured no faster (Zen 4, 128x768x3072 GELU, min of 500).
Value lookupBytesVbmi(OpBuilder &b, Location loc, ArrayRef<uint8_t> table,
                      Value indices) {
  constexpr int64_t zmmBytes = 64;
  auto type = cast<VectorType>(indices.getType());
  const int64_t lanes = type.getNumElements();
  if (lanes > zmmBytes || zmmBytes % lanes != 0 || table.size() > 256)
    return Value();
  Type i8 = b.getI8Type();
  auto zmmType = VectorType::get({zmmBytes}, i8);
  // The table in four 64-byte registers, zero-padded to 256 bytes (the
  // padding is never read: indices are below table.size()).
  SmallVector<Value> registers;
  for (int64_t r = 0; r < 4; ++r) {
    SmallVector<int8_t> bytes(zmmBytes, 0);
    for (int64_t i = 0; i < zmmBytes; ++i)
      if (r * zmmBytes + i < static_cast<int64_t>(table.size()))
        bytes[i] = static_cast<int8_t>(table[r * zmmBytes + i]);
    registers.push_back(arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(zmmType, ArrayRef<int8_t>(bytes))));
  }
  Value wide = indices;
  if (lanes != zmmBytes) {
    SmallVector<int64_t> mask(zmmBytes, vector::ShuffleOp::kPoisonIndex);
    for (int64_t i = 0; i < lanes; ++i)
      mask[i] = i;
    wide = vector::ShuffleOp::create(b, loc, zmmType, indices, indices, mask);
  }
  Value low = x86::PermuteBytes2Op::create(b, loc, zmmType, wide,
                                           registers[0], registers[1]);
  Value high = x86::PermuteBytes2Op::create(b, loc, zmmType, wide,
                                            registers[2], registers[3]);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(zmmType));
  Value bit7 =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, wide, zero);
  Value looked = arith::SelectOp::create(b, loc, bit7, high, low);
  if (lanes == zmmBytes)
    return looked;
  return vector::ExtractStridedSliceOp::create(
      b, loc, looked, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{lanes},
      ArrayRef<int64_t>{1});
}

/// Picks the AVX2 form for the constant weights of `c`.
///
/// vpmaddubsw multiplies u8 by s8 bytes and adds adjacent products into an
/// i16 with signed saturation; with u8 activations (s8 ones are shifted to u8
/// by flipping the sign bit, and the accumulators start at -128 * colsum(w),
/// as for VNNI) a pair sum is bounded by
///
///   |a0 * w0 + a1 * w1| <= 255 * (|w0| + |w1|),
///
/// so when |w0| + |w1| <= 128 for every pair (255 * 128 = 32640 <= 32767) it
/// never saturates, and vpmaddubsw + vpmaddwd against i16 ones + vpaddd is
/// exactly the i32 dot product of 4. At 129 it can saturate (255 * 129 =
/// 32895), and full-range weights reach 255 * 128 * 2 = 65280. The weights
/// are constants, so the check is made here, once: a pair is K rows (2k,
/// 2k + 1) of one column, as the 4-byte packing lays them out (bytes 4s, 4s+1
/// and 4s+2, 4s+3 of a lane), and the zero padding past K counts as 0.
/// 7-bit ("reduce_range") weights in [-64, 63], which ONNX Runtime's
/// quantizer produces for AVX2 targets, always pass.
///
/// The byte form moves half the weight bytes of the i16 form and does 32
/// multiply-adds per vpmaddubsw on ymm. A permutation of K could pair large
/// weights with small ones and pass more matrices, but it would have to be the
/// same for every column and be applied to the activations at run time; the
/// plain pairing is what the packing gives for free.
Int8DotForm chooseAvx2DotForm(const Int8Contraction &c) {
  auto w = c.weights.getValues<int8_t>();
  for (int64_t kk = 0; kk < c.k; kk += 2)
    for (int64_t col = 0; col < c.n; ++col) {
      int64_t w0 = w[kk * c.n + col];
      int64_t w1 = kk + 1 < c.k ? w[(kk + 1) * c.n + col] : 0;
      if (std::abs(w0) + std::abs(w1) > 128)
        return Int8DotForm::Avx2WidePairs;
    }
  return Int8DotForm::Avx2BytePairs;
}

/// The vector registers the K loop of a `tile` of the vpmaddubsw form keeps
/// live: the accumulators; the weight registers, which a one-row tile does
/// not need (each weight is used once, as vpmaddubsw's memory operand); the
/// broadcast activations; the vpmaddubsw product; the i16 ones of vpmaddwd;
/// and, for s8 activations, the sign-flip constant.
int64_t bytePairRegisters(const MicroKernelShape &tile, bool lhsSigned) {
  return tile.rows * tile.vectors + (tile.rows > 1 ? tile.vectors : 0) + 3 +
         (lhsSigned ? 1 : 0);
}

/// `desc` with its int8 tiles cut to as many rows as fit the register file
/// with the vpmaddubsw form. TargetDesc sizes the tiles for a dot product that
/// accumulates in place (rows * vectors + vectors + 1 registers); this form
/// also holds the ones and the product, and the sign flip for s8 activations,
/// so AVX2's 6 x 2 tile becomes 5 x 2 rather than spilling an accumulator,
/// which would add a store and a load to every step of K.
TargetDesc fitBytePairTiles(const TargetDesc &desc, bool lhsSigned) {
  TargetDesc fitted = desc;
  for (MicroKernelShape &tile : fitted.int8Tiles)
    while (tile.rows > 1 &&
           bytePairRegisters(tile, lhsSigned) > desc.vectorRegisters)
      --tile.rows;
  return fitted;
}

/// Keeps the int8 tiles of `desc` that a kernel shared by two sibling
/// contractions can split between them (an even number of vectors); false if
/// none is left.
bool keepPairableTiles(TargetDesc &desc) {
  llvm::erase_if(desc.int8Tiles, [](const MicroKernelShape &tile) {
    return tile.vectors % 2 != 0;
  });
  return !desc.int8Tiles.empty();
}

/// The scaffold the run-time packings share: one scf.forall over the
/// `batches` x `panels` (batch, panel) pairs of a [batches, panels, kSteps,
/// nr * 4] byte tensor. In the forall body, `fill` gets the flat batch
/// index, the panel's first column and the work item's empty
/// [1, 1, kSteps, nr * 4] slice, and returns the slice filled.
Value buildPanelPacking(
    OpBuilder &b, Location loc, int64_t batches, int64_t panels,
    int64_t kSteps, int64_t nr,
    function_ref<Value(OpBuilder &, Value, Value, Value)> fill) {
  constexpr int64_t kStep = 4;
  Type i8 = b.getI8Type();
  auto packedType =
      RankedTensorType::get({batches, panels, kSteps, nr * kStep}, i8);
  Value init = tensor::EmptyOp::create(b, loc, packedType.getShape(), i8);
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(batches * panels)},
      ValueRange{init}, std::nullopt);
  OpBuilder fb = OpBuilder::atBlockBegin(forall.getBody());
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(fb, loc, v);
  };
  Value iv = forall.getInductionVars()[0];
  Value batch = arith::DivUIOp::create(fb, loc, iv, idx(panels));
  Value panel = arith::RemUIOp::create(fb, loc, iv, idx(panels));
  Value panelColumn = arith::MulIOp::create(fb, loc, panel, idx(nr));
  SmallVector<OpFoldResult> offsets = {batch, panel, fb.getIndexAttr(0),
                                       fb.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {fb.getIndexAttr(1), fb.getIndexAttr(1),
                                     fb.getIndexAttr(kSteps),
                                     fb.getIndexAttr(nr * kStep)};
  SmallVector<OpFoldResult> strides(4, fb.getIndexAttr(1));
  Value slice = tensor::ExtractSliceOp::create(
      fb, loc, RankedTensorType::get({1, 1, kSteps, nr * kStep}, i8),
      forall.getRegionIterArgs()[0], offsets, sizes, strides);
  Value filled = fill(fb, batch, panelColumn, slice);
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(tb, loc, filled,
                                        forall.getRegionIterArgs()[0], offsets,
                                        sizes, strides);
  return forall.getResult(0);
}

/// The packing of packRuntimeWeights for byte weights without padding (K a
/// multiple of 4, N of `nr`, `nr` of 16), in vector registers: one
/// scf.forall over the (batch, panel) pairs, and per step of 4 rows of K and
/// 16 columns, four 16-byte row reads interleaved byte by byte into one
/// 64-byte vector (the 4 bytes of K of each column together: vpermt2b with
/// AVX-512 VBMI) and one write. The generic transpose it replaces is a
/// serial byte-by-byte gather after convert-linalg-to-loops (the act x act
/// products of attention: K^T and V of every head, at each call).
Value packRuntimeWeightBytes(OpBuilder &b, Location loc, Value weights,
                             int64_t nr) {
  auto type = cast<RankedTensorType>(weights.getType());
  const int64_t batches = type.getDimSize(0), k = type.getDimSize(1),
                n = type.getDimSize(2);
  constexpr int64_t kStep = 4, columns = 16;
  const int64_t kSteps = k / kStep, panels = n / nr;
  Type i8 = b.getI8Type();
  auto idx = [&](OpBuilder &ob, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ob, loc, v);
  };
  auto fill = [&](OpBuilder &fb, Value batch, Value panelColumn,
                  Value slice) -> Value {
    // Byte j * 4 + r of a packed vector is row r, column j of the step.
    SmallVector<int64_t> pairs, quads;
    for (int64_t i = 0; i < 2 * columns; ++i)
      pairs.push_back(i);
    for (int64_t j = 0; j < columns; ++j)
      for (int64_t r = 0; r < kStep; ++r)
        quads.push_back(r * columns + j);
    auto rowType = VectorType::get({columns}, i8);
    Value zero = arith::ConstantOp::create(fb, loc, fb.getI8IntegerAttr(0));
    Value c0 = idx(fb, 0);
    auto loop = scf::ForOp::create(
        fb, loc, c0, idx(fb, kSteps), idx(fb, 1), ValueRange{slice},
        [&](OpBuilder &lb, Location l, Value step, ValueRange args) {
          Value out = args[0];
          Value firstRow = arith::MulIOp::create(lb, l, step, idx(lb, kStep));
          for (int64_t c = 0; c < nr / columns; ++c) {
            Value column =
                arith::AddIOp::create(lb, l, panelColumn, idx(lb, c * columns));
            SmallVector<Value> rows;
            for (int64_t r = 0; r < kStep; ++r) {
              Value row = arith::AddIOp::create(lb, l, firstRow, idx(lb, r));
              rows.push_back(vector::TransferReadOp::create(
                  lb, l, rowType, weights, ValueRange{batch, row, column}, zero,
                  ArrayRef<bool>{true}));
            }
            Value low =
                vector::ShuffleOp::create(lb, l, rows[0], rows[1], pairs);
            Value high =
                vector::ShuffleOp::create(lb, l, rows[2], rows[3], pairs);
            Value packed = vector::ShuffleOp::create(lb, l, low, high, quads);
            out = vector::TransferWriteOp::create(
                      lb, l, packed, out,
                      ValueRange{c0, c0, step, idx(lb, c * columns * kStep)},
                      ArrayRef<bool>{true})
                      .getResult();
          }
          scf::YieldOp::create(lb, l, out);
        });
    return loop.getResult(0);
  };
  return buildPanelPacking(b, loc, batches, panels, kSteps, nr, fill);
}

/// Run-time weights `w[b, h, k, n] = flip(x[b, n, h, k])`: the sign flip
/// (xori -128: convert-qlow-to-linalg's u8 -> s8) of a linalg.transpose
/// [0, 2, 3, 1] of `x` [B, N, H, K], as ONNX QDQ attention's K^T is of the
/// key projection's bytes (qlow-fold-qdq's split heads).
struct TransposedKeyWeights {
  linalg::GenericOp flip;
  Value x;
};

/// Matches `w` as TransposedKeyWeights.
std::optional<TransposedKeyWeights> matchTransposedKeyWeights(Value w) {
  auto flip = w.getDefiningOp<linalg::GenericOp>();
  if (!flip || flip.getNumDpsInputs() != 1 || flip.getNumDpsInits() != 1 ||
      flip.getNumReductionLoops() != 0 || !flip.hasPureTensorSemantics() ||
      !llvm::all_of(flip.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return std::nullopt;
  // xori and yield, and the constant when it is still in the body (before
  // the cleanups hoist it).
  Block &body = flip.getRegion().front();
  size_t ops = body.getOperations().size();
  if (ops != 2 && !(ops == 3 && isa<arith::ConstantOp>(body.front())))
    return std::nullopt;
  auto xori = dyn_cast<arith::XOrIOp>(*std::prev(body.end(), 2));
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  APInt bits;
  if (!xori || !yield || yield.getValues().size() != 1 ||
      yield.getValues()[0] != xori.getResult() ||
      xori.getLhs() != body.getArgument(0) ||
      !matchPattern(xori.getRhs(), m_ConstantInt(&bits)) ||
      bits.getBitWidth() != 8 || !bits.isMinSignedValue())
    return std::nullopt;
  auto transpose = flip.getDpsInputs()[0].getDefiningOp<linalg::TransposeOp>();
  if (!transpose || !transpose.hasPureTensorSemantics() ||
      transpose.getPermutation() != ArrayRef<int64_t>{0, 2, 3, 1})
    return std::nullopt;
  return TransposedKeyWeights{flip, transpose.getInput()};
}

/// Rewrites the other readers of TransposedKeyWeights' flip (the zero-point
/// column sums convert-qlow-to-linalg computes over the flipped weights) to
/// read `x` through the transpose's permutation and flip each element
/// themselves, so that once the kernel packs from `x` the flipped, transposed
/// copy has no users. Returns false (and changes nothing) when a reader is
/// not a linalg.generic that takes the weights as an input.
bool readThroughTransposedKeys(RewriterBase &rewriter,
                               const TransposedKeyWeights &keys,
                               Operation *contraction) {
  SmallVector<linalg::GenericOp> readers;
  for (OpOperand &use : keys.flip->getResult(0).getUses()) {
    if (use.getOwner() == contraction)
      continue;
    auto reader = dyn_cast<linalg::GenericOp>(use.getOwner());
    if (!reader || !reader.isDpsInput(&use) || !reader.hasPureTensorSemantics())
      return false;
    readers.push_back(reader);
  }
  // w[b, h, k, n] = x[b, n, h, k]: a reader's map of w, composed.
  for (linalg::GenericOp reader : llvm::make_early_inc_range(readers)) {
    SmallVector<Value> inputs(reader.getDpsInputs());
    SmallVector<AffineMap> maps = reader.getIndexingMapsArray();
    SmallVector<bool> flipped(inputs.size(), false);
    for (auto [i, input] : llvm::enumerate(inputs)) {
      if (input != keys.flip->getResult(0))
        continue;
      AffineMap m = maps[i];
      maps[i] = AffineMap::get(
          m.getNumDims(), m.getNumSymbols(),
          {m.getResult(0), m.getResult(3), m.getResult(1), m.getResult(2)},
          m.getContext());
      inputs[i] = keys.x;
      flipped[i] = true;
    }
    rewriter.setInsertionPoint(reader);
    auto replacement = linalg::GenericOp::create(
        rewriter, reader.getLoc(), reader->getResultTypes(), inputs,
        reader.getDpsInits(), maps, reader.getIteratorTypesArray(),
        [&](OpBuilder &nb, Location l, ValueRange args) {
          IRMapping mapping;
          Block &old = reader.getRegion().front();
          for (auto [i, arg] : llvm::enumerate(args)) {
            Value v = arg;
            if (i < flipped.size() && flipped[i])
              v = arith::XOrIOp::create(
                  nb, l, v,
                  arith::ConstantOp::create(nb, l, nb.getI8IntegerAttr(-128)));
            mapping.map(old.getArgument(i), v);
          }
          for (Operation &op : old)
            nb.clone(op, mapping);
        });
    rewriter.replaceOp(reader, replacement->getResults());
  }
  return true;
}

/// Packs TransposedKeyWeights without the transposed copy: the layout of
/// packRuntimeWeights (batches b * H + h) holds, as i32 words, packed[bh][p]
/// [s][col] = flip of word s of x[b, p * nr + col, h, :], so each block of
/// 16 columns and 16 words is a 16 x 16 transpose of words read from 16 rows
/// of `x` (64 bytes each): four stages of shuffles that swap off-diagonal
/// blocks of 8, 4, 2 and 1 words. Needs K a multiple of 64, N of `nr` and
/// `nr` of 16.
Value packTransposedKeyWeights(OpBuilder &b, Location loc, Value x,
                               int64_t nr) {
  auto type = cast<RankedTensorType>(x.getType());
  const int64_t bt = type.getDimSize(0), n = type.getDimSize(1),
                heads = type.getDimSize(2), k = type.getDimSize(3);
  constexpr int64_t kStep = 4, block = 16;
  const int64_t kSteps = k / kStep, panels = n / nr, batches = bt * heads;
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  auto idx = [&](OpBuilder &ob, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ob, loc, v);
  };
  // The flat batch index is b * H + h.
  auto fill = [&](OpBuilder &fb, Value bh, Value panelColumn,
                  Value slice) -> Value {
    Value batch = arith::DivUIOp::create(fb, loc, bh, idx(fb, heads));
    Value head = arith::RemUIOp::create(fb, loc, bh, idx(fb, heads));
    auto bytesType = VectorType::get({block * kStep}, i8);
    auto wordsType = VectorType::get({block}, i32);
    Value zero = arith::ConstantOp::create(fb, loc, fb.getI8IntegerAttr(0));
    Value signs = arith::ConstantOp::create(
        fb, loc, DenseElementsAttr::get(bytesType, fb.getI8IntegerAttr(-128)));
    Value c0 = idx(fb, 0);
  auto outer = scf::ForOp::create(
      fb, loc, c0, idx(fb, kSteps), idx(fb, block), ValueRange{slice},
      [&](OpBuilder &ob, Location l, Value step, ValueRange outerArgs) {
        auto inner = scf::ForOp::create(
            ob, l, c0, idx(ob, nr), idx(ob, block), outerArgs,
            [&](OpBuilder &lb, Location il, Value column, ValueRange args) {
              Value firstByte =
                  arith::MulIOp::create(lb, il, step, idx(lb, kStep));
              Value firstKey =
                  arith::AddIOp::create(lb, il, panelColumn, column);
              SmallVector<Value> rows;
              for (int64_t i = 0; i < block; ++i) {
                Value key = arith::AddIOp::create(lb, il, firstKey, idx(lb, i));
                Value bytes = vector::TransferReadOp::create(
                    lb, il, bytesType, x,
                    ValueRange{batch, key, head, firstByte}, zero,
                    ArrayRef<bool>{true});
                bytes = arith::XOrIOp::create(lb, il, bytes, signs);
                rows.push_back(
                    vector::BitCastOp::create(lb, il, wordsType, bytes));
              }
              rows = transposeVectorTile(lb, il, std::move(rows));
              Value out = args[0];
              Value byteColumn =
                  arith::MulIOp::create(lb, il, column, idx(lb, kStep));
              for (int64_t j = 0; j < block; ++j) {
                Value s = arith::AddIOp::create(lb, il, step, idx(lb, j));
                out = vector::TransferWriteOp::create(
                          lb, il,
                          vector::BitCastOp::create(lb, il, bytesType, rows[j]),
                          out, ValueRange{c0, c0, s, byteColumn},
                          ArrayRef<bool>{true})
                          .getResult();
              }
              scf::YieldOp::create(lb, il, out);
            });
        scf::YieldOp::create(ob, l, inner.getResults());
      });
  return outer.getResult(0);
  };
  return buildPanelPacking(b, loc, batches, panels, kSteps, nr, fill);
}

/// Packs run-time s8 weights [B, K, N] at run time into the layout of the
/// compile-time packing below, one per batch: packed[b][p][s][col * kStep +
/// t] = w[b][kStep * s + t][p * nr + col], zero outside w. Without padding
/// and with byte steps, packRuntimeWeightBytes; otherwise upstream ops
/// (pad, expand_shape, linalg.transpose, collapse_shape).
///
/// With `widen` (AVX2's wide form, kStep 2) the packed weights are i16, sign
/// extended from the s8 weights by the same generic that moves them.
Value packRuntimeWeights(OpBuilder &b, Location loc, Value weights, int64_t kp,
                         int64_t np, int64_t nr, int64_t kStep,
                         bool widen = false) {
  auto type = cast<RankedTensorType>(weights.getType());
  int64_t batches = type.getDimSize(0), k = type.getDimSize(1),
          n = type.getDimSize(2);
  Type i8 = b.getI8Type();
  if (!widen && kp == k && np == n && kStep == 4 && nr % 16 == 0 &&
      type.getElementType() == i8)
    return packRuntimeWeightBytes(b, loc, weights, nr);
  if (kp != k || np != n) {
    Value zero = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
    SmallVector<OpFoldResult> low(3, b.getIndexAttr(0));
    SmallVector<OpFoldResult> high = {b.getIndexAttr(0),
                                      b.getIndexAttr(kp - k),
                                      b.getIndexAttr(np - n)};
    weights = tensor::PadOp::create(
        b, loc, RankedTensorType::get({batches, kp, np}, i8), weights, low,
        high, zero);
  }
  const int64_t kSteps = kp / kStep, panels = np / nr;
  Value split = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get({batches, kSteps, kStep, panels, nr}, i8),
      weights, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3, 4}});
  Type element = widen ? b.getI16Type() : i8;
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{batches, panels, kSteps, nr, kStep}, element);
  Value packed;
  if (!widen) {
    packed = linalg::TransposeOp::create(b, loc, split, init,
                                         ArrayRef<int64_t>{0, 3, 1, 4, 2})
                 .getResult()[0];
  } else {
    // The same permutation as a generic that also sign-extends to i16.
    MLIRContext *ctx = b.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    AffineMap read = AffineMap::get(5, 0, {d(0), d(2), d(4), d(1), d(3)}, ctx);
    AffineMap write = AffineMap::getMultiDimIdentityMap(5, ctx);
    packed = linalg::GenericOp::create(
                 b, loc, init.getType(), ValueRange{split}, ValueRange{init},
                 ArrayRef<AffineMap>{read, write},
                 SmallVector<utils::IteratorType>(5,
                                                  utils::IteratorType::parallel),
                 [&](OpBuilder &gb, Location gl, ValueRange args) {
                   linalg::YieldOp::create(
                       gb, gl,
                       arith::ExtSIOp::create(gb, gl, element, args[0])
                           .getResult());
                 })
                 .getResult(0);
  }
  return tensor::CollapseShapeOp::create(
      b, loc,
      RankedTensorType::get({batches, panels, kSteps, nr * kStep}, element),
      packed, SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
}

/// The bytes to add to the activations' row stride `strideBytes` so that
/// the `rows` rows of a register tile, read together step by step, do not
/// crowd into few sets of L1: 0 when no set holds more than half of its 8
/// ways of them, else one cache line (rows then fall in consecutive sets).
/// Sets repeat every 4 KB on the cores qlow targets (Zen 4: 32 KB, 8 ways;
/// Intel since Ice Lake: 48 KB, 12 ways). Measured on Zen 4, u8s8s32 at
/// 512 x K x 4096 (one thread, ratio to oneDNN): K = 2048 (4 rows of the
/// 8-row tile per set) 1.04, K = 4096 (all 8 in one set) 0.75-0.83.
int64_t rowStridePadding(int64_t rows, int64_t strideBytes) {
  constexpr int64_t aliasBytes = 4096, lineBytes = 64, ways = 8;
  // The distinct lines the rows start in, per set (rows closer than a line
  // share one).
  SmallVector<int64_t> perSet(aliasBytes / lineBytes, 0);
  int64_t most = 0, last = -1;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t line = r * strideBytes / lineBytes;
    if (line == last)
      continue;
    last = line;
    most = std::max(most, ++perSet[line % (aliasBytes / lineBytes)]);
  }
  return most > ways / 2 ? lineBytes : 0;
}

/// Builds the kernel that replaces `c`, with the register tile `tile` of
/// `lanes`-wide i32 vectors.
///
/// With a `sibling` contraction (same activations, other weights; see
/// matchSiblingContraction) the kernel computes both: each packed panel
/// holds `nr` columns of `c`'s weights, then the same `nr` columns of the
/// sibling's, the register tile is `rows x 2 * vectors` (the first `vectors`
/// accumulators of a row are `c`'s, the others the sibling's for the same
/// output columns), each broadcast of activation bytes feeds both, and the
/// epilogue gets both accumulators of a column vector in registers. `tile`
/// then gives the vectors per contraction.
Value buildInt8Kernel(OpBuilder &b, Location loc, const Int8Contraction &c,
                      const MicroKernelShape &tile, int64_t rowBlock,
                      int64_t lanes, Int8DotForm form,
                      std::optional<FusedEpilogue> epilogue,
                      std::optional<Int8Contraction> sibling = std::nullopt,
                      ByteTableLookup byteLookup = nullptr) {
  // A narrow N needs fewer column vectors than the tile has.
  const int64_t rows = tile.rows;
  const int64_t vectors = std::min(tile.vectors, (c.n + lanes - 1) / lanes);
  const int64_t nr = vectors * lanes;
  // Contractions per kernel, and accumulator vectors per row of the tile.
  const int64_t parts = sibling ? 2 : 1;
  const int64_t tileVectors = parts * vectors;
  // Rows are not padded (see buildInt8KernelScaffold): the last, partial
  // row tile is a second, smaller tile.
  const int64_t np = roundUp(c.n, nr);
  // The byte forms (VNNI, vpmaddubsw) consume 4 bytes of K per i32 lane and
  // step, with u8 activations; the wide AVX2 form 2 elements (as i16, widened
  // at compile time for the weights), with activations of either sign.
  const bool packBytes = form != Int8DotForm::Avx2WidePairs;
  const int64_t kStep = packBytes ? 4 : 2;
  const int64_t kSteps = (c.k + kStep - 1) / kStep, kp = kStep * kSteps;
  const int64_t panels = np / nr;
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  Type weightElement = packBytes ? i8 : b.getI16Type();
  // Weights known only at run time (a product of two activations, batched
  // or not) are packed when the kernel runs, one batch at a time, and the
  // kernel runs over [batches, M, N]; their activations are u8 (no shift).
  const bool runtime = !c.weights;
  int64_t batches = 0;
  if (runtime) {
    batches = 1;
    for (int64_t d : c.batchShape)
      batches *= d;
  }

  // Data tiling at compile time: packed[p][s][col * kStep + t] =
  // w[kStep * s + t][p * nr + col], zero outside w; and, for the byte forms
  // with s8 activations, the column sums for the s8 -> u8 shift.
  Value packedW, initC;
  // With a sibling, a panel's packed column `part * nr + col` is column
  // `p * nr + col` of contraction `part` (0: `c`, 1: the sibling), and so is
  // entry `p * 2 * nr + part * nr + col` of the initial accumulators.
  const int64_t panelColumns = parts * nr;
  if (runtime) {
    assert(!c.lhsSigned && !sibling && "run-time weights: u8 x s8, no sibling");
    std::optional<TransposedKeyWeights> keys = matchTransposedKeyWeights(c.rhs);
    if (packBytes && keys && kp == c.k && np == c.n && c.k % 64 == 0 &&
        nr % 16 == 0 && keys->flip->getResult(0).hasOneUse())
      packedW = packTransposedKeyWeights(b, loc, keys->x, nr);
    else
      packedW = packRuntimeWeights(b, loc,
                                   asThreeD(b, loc, c.rhs, c.batchShape), kp,
                                   np, nr, kStep, /*widen=*/!packBytes);
  } else {
  const int64_t packedCount = panels * kSteps * panelColumns * kStep;
  SmallVector<int8_t> packed8(packBytes ? packedCount : 0, 0);
  SmallVector<int16_t> packed16(packBytes ? 0 : packedCount, 0);
  SmallVector<int32_t> init(parts * np, 0);
  SmallVector<int64_t> values;
  values.reserve(c.k * c.n);
  for (int64_t part = 0; part < parts; ++part) {
    values.clear();
    for (const APInt &v :
         (part == 0 ? c.weights : sibling->weights).getValues<APInt>())
      values.push_back(v.getSExtValue());
    for (int64_t kk = 0; kk < c.k; ++kk)
      for (int64_t col = 0; col < c.n; ++col) {
        int64_t v = values[kk * c.n + col];
        int64_t p = col / nr, inPanel = part * nr + col % nr;
        int64_t at =
            ((p * kSteps + kk / kStep) * panelColumns + inPanel) * kStep +
            kk % kStep;
        if (packBytes)
          packed8[at] = static_cast<int8_t>(v);
        else
          packed16[at] = static_cast<int16_t>(v);
        if (packBytes && c.lhsSigned)
          init[p * panelColumns + inPanel] -= 128 * static_cast<int32_t>(v);
      }
  }
  auto packedType = RankedTensorType::get({panels, kSteps, panelColumns * kStep},
                                          weightElement);
  packedW = arith::ConstantOp::create(
      b, loc,
      packBytes
          ? DenseElementsAttr::get(packedType, ArrayRef<int8_t>(packed8))
          : DenseElementsAttr::get(packedType, ArrayRef<int16_t>(packed16)));
  auto initType = RankedTensorType::get({parts * np}, i32);
  initC = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(initType, ArrayRef<int32_t>(init)));
  }

  // Pad K of the activations to the step so that every access is in bounds.
  // Rows whose stride crowds a register tile into few sets of L1 (K a
  // multiple of 4096 puts all rows of a tile in one set) are copied with a
  // stride one cache line longer (rowStridePadding).
  Value lhs = runtime ? asThreeD(b, loc, c.lhs, c.batchShape) : c.lhs;
  const int64_t lhsStride =
      runtime ? kp
              : kp + rowStridePadding(std::min(rows, c.m),
                                      kp * (packBytes ? 1 : 2)) /
                         (packBytes ? 1 : 2);
  if (lhsStride != c.k) {
    SmallVector<int64_t> padded = {c.m, lhsStride};
    SmallVector<OpFoldResult> low(2, b.getIndexAttr(0));
    SmallVector<OpFoldResult> high = {b.getIndexAttr(0),
                                      b.getIndexAttr(lhsStride - c.k)};
    if (runtime) {
      padded.insert(padded.begin(), batches);
      low.push_back(b.getIndexAttr(0));
      high.insert(high.begin(), b.getIndexAttr(0));
    }
    Value zero = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
    lhs = tensor::PadOp::create(b, loc, RankedTensorType::get(padded, i8), lhs,
                                low, high, zero);
  }
  // The wide form reads each row's pair of K elements as one i32 of two i16
  // and broadcasts it: the activations are widened once, before the kernel
  // (M x K elements against M x K x N multiply-adds), so that the K loop
  // broadcasts straight from memory (vpbroadcastd m32, one load) instead of
  // loading two bytes, moving them to a vector, widening and broadcasting
  // them for every row and step (four instructions). On a Zen 3 core the
  // wide K loop was bound by instructions, not by vpmaddwd: 100 GOPS against
  // 188 for the vpmaddubsw form at 1024^3 (qlow-bench --weight-bits 8).
  if (!packBytes) {
    auto type = cast<RankedTensorType>(lhs.getType());
    Type i16 = b.getI16Type();
    Value init = tensor::EmptyOp::create(b, loc, type.getShape(), i16);
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(type.getRank(), b.getContext());
    lhs = linalg::GenericOp::create(
              b, loc, init.getType(), ValueRange{lhs}, ValueRange{init},
              ArrayRef<AffineMap>{identity, identity},
              SmallVector<utils::IteratorType>(type.getRank(),
                                               utils::IteratorType::parallel),
              [&](OpBuilder &gb, Location gl, ValueRange args) {
                Value wide =
                    c.lhsSigned
                        ? arith::ExtSIOp::create(gb, gl, i16, args[0])
                              .getResult()
                        : arith::ExtUIOp::create(gb, gl, i16, args[0])
                              .getResult();
                linalg::YieldOp::create(gb, gl, wide);
              })
              .getResult(0);
  }

  // Index constants go before the kernel's outermost loop, which every use
  // is nested in.
  OpBuilder constants = b;
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(constants, loc, v).getResult();
  };
  auto accType = VectorType::get({lanes}, i32);
  auto bytesType = VectorType::get({lanes * kStep}, weightElement);
  // With a fused epilogue the kernel stores the epilogue's results.
  Type outElement =
      epilogue ? cast<RankedTensorType>(epilogue->op->getResult(0).getType())
                     .getElementType()
               : i32;
  SmallVector<int64_t> outShape = {c.m, np};
  if (runtime)
    outShape.insert(outShape.begin(), batches);
  Value out = tensor::EmptyOp::create(b, loc, outShape, outElement);
  // Only the byte forms with s8 activations flip sign bits (+128 per byte).
  Value signFlip;
  if (packBytes && c.lhsSigned)
    signFlip = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            accType, b.getI32IntegerAttr(static_cast<int32_t>(0x80808080))));
  Value padI32 = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value padI8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  Value padW =
      arith::ConstantOp::create(b, loc, b.getIntegerAttr(weightElement, 0));
  SmallVector<bool> inBounds = {true};

  // The forall over row blocks x column panels and the row-tile loops are
  // shared with the AArch64 kernel; this builds one register tile.
  auto buildRowTile = [&](OpBuilder &rb, Location rl, Value batch, Value i,
                          function_ref<Value()> localRow, Value p, Value col0,
                          int64_t rows, Value tileOut) -> Value {
    // Index of the packed weights and of the activations: with run-time
    // weights, the batch's.
    auto at = [&](std::initializer_list<Value> rest) {
      SmallVector<Value> indices;
      if (runtime)
        indices.push_back(batch);
      indices.append(rest.begin(), rest.end());
      return indices;
    };
    // Accumulators start at the shift correction of their columns (zero
    // with run-time weights, whose activations are u8).
    SmallVector<Value> accs;
    Value zeroAcc;
    if (runtime)
      zeroAcc = arith::ConstantOp::create(rb, rl, rb.getZeroAttr(accType));
    Value initCol0 =
        parts == 1 ? col0
                   : arith::MulIOp::create(rb, rl, p, idx(panelColumns))
                         .getResult();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < tileVectors; ++j) {
        if (runtime) {
          accs.push_back(zeroAcc);
          continue;
        }
        Value col = arith::AddIOp::create(rb, rl, initCol0, idx(j * lanes));
        accs.push_back(vector::TransferReadOp::create(
            rb, rl, accType, initC, ValueRange{col}, padI32, inBounds));
      }
    auto kLoop = scf::ForOp::create(
        rb, rl, idx(0), idx(kSteps), idx(1), accs,
        [&](OpBuilder &kb, Location kl, Value kk, ValueRange acc) {
          SmallVector<Value> w;
          for (int64_t j = 0; j < tileVectors; ++j) {
            Value raw = vector::TransferReadOp::create(
                kb, kl, bytesType, packedW,
                at({p, kk, idx(j * lanes * kStep)}), padW, inBounds);
            w.push_back(raw);
          }
          Value kByte = arith::MulIOp::create(kb, kl, kk, idx(kStep));
          SmallVector<Value> next(acc.begin(), acc.end());
          for (int64_t r = 0; r < rows; ++r) {
            Value row = arith::AddIOp::create(kb, kl, i, idx(r));
            // Wide form: the pair of i16 widened before the kernel.
            Value bytes = vector::TransferReadOp::create(
                kb, kl, VectorType::get({kStep}, packBytes ? i8 : weightElement),
                lhs, at({row, kByte}), packBytes ? padI8 : padW, inBounds);
            Value asI32 = vector::BitCastOp::create(
                kb, kl, VectorType::get({1}, i32), bytes);
            Value scalar =
                vector::ExtractOp::create(kb, kl, asI32, ArrayRef<int64_t>{0});
            Value bcast = vector::BroadcastOp::create(kb, kl, accType, scalar);
            if (packBytes && c.lhsSigned)
              bcast = arith::XOrIOp::create(kb, kl, bcast, signFlip);
            Value aBytes = vector::BitCastOp::create(kb, kl, bytesType, bcast);
            for (int64_t j = 0; j < tileVectors; ++j) {
              Value &slot = next[r * tileVectors + j];
              switch (form) {
              case Int8DotForm::Vnni:
                slot =
                    x86::DotU8S8Op::create(kb, kl, accType, slot, aBytes, w[j]);
                break;
              case Int8DotForm::Avx2BytePairs:
                slot = x86::DotU8S8PairsOp::create(kb, kl, accType, slot,
                                                   aBytes, w[j]);
                break;
              case Int8DotForm::Avx2WidePairs:
                slot = x86::DotI16x2Op::create(kb, kl, accType, slot, aBytes,
                                               w[j]);
                break;
              }
            }
          }
          scf::YieldOp::create(kb, kl, next);
        });
    // A batched epilogue reads its inputs at the batch's indices: the
    // kernel's batch (the batch dimensions collapsed) delinearized, once per
    // tile.
    SmallVector<Value> batchIndexValues;
    auto batchIndices = [&]() -> ValueRange {
      if (!epilogue || epilogue->batchDims == 0)
        return {};
      if (batchIndexValues.empty()) {
        Value rest = batch;
        batchIndexValues.resize(c.batchShape.size());
        for (size_t d = c.batchShape.size(); d-- > 1;) {
          Value size = idx(c.batchShape[d]);
          batchIndexValues[d] =
              arith::RemUIOp::create(rb, rl, rest, size).getResult();
          rest = arith::DivUIOp::create(rb, rl, rest, size).getResult();
        }
        batchIndexValues[0] = rest;
      }
      return batchIndexValues;
    };
    // With one row block the tile's rows are the matmul's (local == i).
    Value local = localRow();
    for (int64_t r = 0; r < rows; ++r) {
      Value row = arith::AddIOp::create(rb, rl, i, idx(r));
      Value tileRow =
          local != i ? arith::AddIOp::create(rb, rl, local, idx(r)).getResult()
                     : row;
      for (int64_t j = 0; j < vectors; ++j) {
        Value col = idx(j * lanes);
        Value value = kLoop.getResult(r * tileVectors + j);
        Value siblingValue =
            sibling ? kLoop.getResult(r * tileVectors + vectors + j) : Value();
        if (epilogue)
          value = applyEpilogue(
              rb, rl, *epilogue, value, row,
              arith::AddIOp::create(rb, rl, col0, idx(j * lanes)), c.m, lanes,
              idx, siblingValue, byteLookup, batchIndices());
        tileOut =
            vector::TransferWriteOp::create(rb, rl, value, tileOut,
                                            ValueRange{tileRow, col}, inBounds)
                .getResult();
      }
    }
    return tileOut;
  };
  Value result = buildBatchedInt8KernelScaffold(b, loc, out, batches, c.m, c.n,
                                                nr, rowBlock, rows, constants,
                                                idx, buildRowTile);
  if (!runtime)
    return result;
  // Back to the contraction's shape: [b..., M, N], or [M, N].
  return fromThreeD(b, loc, result, c.batchShape);
}

struct QlowX86Int8MatmulPass
    : qlow::impl::QlowX86Int8MatmulPassBase<QlowX86Int8MatmulPass> {
  using QlowX86Int8MatmulPassBase::QlowX86Int8MatmulPassBase;

  void runOnOperation() override {
    FailureOr<TargetDesc> desc =
        lookupKernelPassTarget(getOperation(), "qlow-x86-int8-matmul", "x86_64", cpu);
    if (failed(desc))
      return signalPassFailure();
    if (desc->int8Dot == Int8DotKind::None)
      return; // No int8 dot product: the contraction stays for the loops.
    bool vnni = desc->hasVnni();

    SmallVector<Int8Contraction> found;
    // Weights known only at run time are packed by the kernel: as bytes for
    // VNNI; on AVX2 widened to i16 for the wide form (vpmaddwd), since the
    // vpmaddubsw form needs weights known not to saturate it. Before, AVX2
    // left them to the loops: attention's Q*K^T and P*V of a QDQ encoder
    // layer (S = 128, 12 heads) were 25% of its time on a Zen 3, in a serial
    // strided byte gather.
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Int8Contraction> c = matchInt8Contraction(
              op, /*runtimeWeights=*/desc->hasX86Int8Dot()))
        found.push_back(*c);
    });
    IRRewriter rewriter(&getContext());
    // Contractions already computed by a sibling's kernel (and erased).
    llvm::SmallPtrSet<Operation *, 4> computed;
    for (Int8Contraction &c : found) {
      if (computed.contains(c.op))
        continue;
      // An earlier kernel may have replaced this contraction's lhs (the
      // epilogue of the matmul before it): read the operand again.
      c.lhs = c.op.getDpsInputs()[0];
      c.rhs = c.op.getDpsInputs()[1];
      // Run-time K^T of split heads: its other readers (the zero-point
      // column sums) read the key bytes in place, so that the kernel can
      // pack from them (packTransposedKeyWeights) and the transposed copy
      // goes away. Before the epilogue is matched: it reads those sums.
      if (!c.weights)
        if (std::optional<TransposedKeyWeights> keys =
                matchTransposedKeyWeights(c.rhs))
          readThroughTransposedKeys(rewriter, *keys, c.op);
      // A batched product of activations (attention's Q*K^T and P*V) takes
      // its requantization too: its i32 scores no longer go through memory.
      std::optional<FusedEpilogue> epilogue =
          matchEpilogue(c.op, c.batchShape.size());
      std::optional<Int8Contraction> sibling;
      // (A kernel shares its panels only between constant weights.)
      if (epilogue && fuseSiblings && c.weights)
        if (auto match = matchSiblingContraction(c, *epilogue)) {
          sibling = match->first;
          epilogue->siblingInput = match->second;
        }
      // The epilogue's inputs (a sibling included) must be available where
      // the kernel is built.
      Operation *anchor = kernelInsertionAnchor(c, epilogue);
      rewriter.setInsertionPointAfter(anchor);
      if (anchor == c.op)
        rewriter.setInsertionPoint(c.op);
      // dot_u8s8_pairs exists on ymm only, the AVX2 family's width; a
      // shared kernel uses it only if both weight matrices allow it.
      Int8DotForm form = Int8DotForm::Avx2WidePairs;
      if (vnni)
        form = Int8DotForm::Vnni;
      else if (desc->i32Lanes() == 8 && c.weights)
        form = chooseAvx2DotForm(c) == Int8DotForm::Avx2BytePairs &&
                       (!sibling || chooseAvx2DotForm(*sibling) ==
                                        Int8DotForm::Avx2BytePairs)
                   ? Int8DotForm::Avx2BytePairs
                   : Int8DotForm::Avx2WidePairs;
      TargetDesc tiles = form == Int8DotForm::Avx2BytePairs
                             ? fitBytePairTiles(*desc, c.lhsSigned)
                             : *desc;
      if (sibling && !keepPairableTiles(tiles)) {
        sibling.reset();
        epilogue->siblingInput.reset();
      }
      // A shared kernel is chosen as one matmul of 2N columns: its tile's
      // vectors are split between the two contractions.
      const int64_t tileN = sibling ? 2 * c.n : c.n;
      MicroKernelShape tile = tiles.chooseInt8Tile(
          c.m, tileN, c.k, form == Int8DotForm::Avx2WidePairs ? 2 : 1);
      int64_t rowBlock = desc->chooseInt8RowBlock(c.m, tileN, c.k, tile);
      if (sibling)
        tile.vectors /= 2;
      Value result = buildInt8Kernel(
          rewriter, c.op.getLoc(), c, tile, rowBlock, desc->i32Lanes(), form,
          epilogue, sibling,
          desc->avx512Vbmi ? ByteTableLookup(lookupBytesVbmi) : nullptr);
      if (epilogue) {
        rewriter.replaceOp(epilogue->op, result);
        rewriter.eraseOp(c.op);
        if (sibling) {
          computed.insert(sibling->op);
          rewriter.eraseOp(sibling->op);
        }
      } else {
        rewriter.replaceOp(c.op, result);
      }
    }
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// qlow-x86-lower-intrinsics
//===----------------------------------------------------------------------===//

namespace {
/// vpmaddubsw on ymm: u8 x s8 pairs of `a` and `b` (vector<32xi8>) summed
/// into saturating i16 (vector<16xi16>).
Value vpmaddubsw(PatternRewriter &rewriter, Location loc, Value a, Value b) {
  return LLVM::CallIntrinsicOp::create(
             rewriter, loc, VectorType::get({16}, rewriter.getI16Type()),
             rewriter.getStringAttr("llvm.x86.avx2.pmadd.ub.sw"),
             ValueRange{a, b})
      .getResult(0);
}

/// vpmaddwd: i16 pairs of `a` and `b` multiplied and summed into the i32
/// lanes of `type` (8: ymm, 16: zmm).
Value vpmaddwd(PatternRewriter &rewriter, Location loc, VectorType type,
               Value a, Value b) {
  StringRef name = type.getNumElements() == 16 ? "llvm.x86.avx512.pmaddw.d.512"
                                               : "llvm.x86.avx2.pmadd.wd";
  return LLVM::CallIntrinsicOp::create(rewriter, loc, type,
                                       rewriter.getStringAttr(name),
                                       ValueRange{a, b})
      .getResult(0);
}

/// qlow_x86.dot_u8s8 -> llvm.x86.avx512.vpdpbusd.{256,512}; LLVM selects the
/// EVEX or the AVX-VNNI (VEX) encoding from the target's features.
struct LowerDotU8S8 : OpRewritePattern<x86::DotU8S8Op> {
  LowerDotU8S8(MLIRContext *ctx, bool avx2) : OpRewritePattern(ctx), avx2(avx2) {}
  /// Without VNNI (AVX2): the exact vpmaddubsw sequence below on ymm (zmm
  /// ones, which such a CPU cannot run anyway, keep vpdpbusd).
  bool avx2;
  LogicalResult matchAndRewrite(x86::DotU8S8Op op,
                                PatternRewriter &rewriter) const override {
    if (avx2 && op.getAcc().getType().getNumElements() == 8) {
      // The s8 operand b split as b = 16 * h + l with h = b >> 4 (signed,
      // -8..7) and l = b & 15 (0..15): u8 * b = 16 * (u8 * h) + u8 * l.
      // vpmaddubsw's pair sums of either half are at most 255 * 8 * 2 =
      // 4080 and 255 * 15 * 2 = 7650 in magnitude (no saturation), and
      // vpmaddwd by 16s and by 1s adds each pair of pairs exactly into i32:
      // the same value as vpdpbusd for every input, in 4 multiplies where
      // vpdpbusd is one. (Upstream x86vector has no AVX2 form of it.)
      Location loc = op.getLoc();
      auto bytes = cast<VectorType>(op.getRhs().getType());
      auto words = VectorType::get({16}, rewriter.getI16Type());
      auto splat8 = [&](int8_t v) {
        return arith::ConstantOp::create(
            rewriter, loc,
            DenseElementsAttr::get(bytes, rewriter.getI8IntegerAttr(v)));
      };
      auto splat16 = [&](int16_t v) {
        return arith::ConstantOp::create(
            rewriter, loc,
            DenseElementsAttr::get(words, rewriter.getI16IntegerAttr(v)));
      };
      Value low = arith::AndIOp::create(rewriter, loc, op.getRhs(), splat8(15));
      // h: the high nibble (a 16-bit shift, then the mask), sign-extended
      // from 4 bits as (n ^ 8) - 8.
      Value shifted = vector::BitCastOp::create(
          rewriter, loc, bytes,
          arith::ShRUIOp::create(
              rewriter, loc,
              vector::BitCastOp::create(rewriter, loc, words, op.getRhs()),
              splat16(4)));
      Value high = arith::SubIOp::create(
          rewriter, loc,
          arith::XOrIOp::create(
              rewriter, loc,
              arith::AndIOp::create(rewriter, loc, shifted, splat8(15)),
              splat8(8)),
          splat8(8));
      auto quads = [&](Value w, int16_t weight) {
        return vpmaddwd(rewriter, loc, op.getType(),
                        vpmaddubsw(rewriter, loc, op.getLhs(), w),
                        splat16(weight));
      };
      Value sum = arith::AddIOp::create(rewriter, loc, quads(high, 16),
                                        quads(low, 1));
      rewriter.replaceOpWithNewOp<arith::AddIOp>(op, op.getAcc(), sum);
      return success();
    }
    int64_t bits = op.getAcc().getType().getNumElements() * 32;
    std::string name = "llvm.x86.avx512.vpdpbusd." + std::to_string(bits);
    rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
        op, op.getType(), rewriter.getStringAttr(name),
        ValueRange{op.getAcc(), op.getLhs(), op.getRhs()});
    return success();
  }
};

/// qlow_x86.dot_i16x2 -> vpmaddwd (llvm.x86.avx2.pmadd.wd or its AVX-512
/// form) and an i32 add.
struct LowerDotI16x2 : OpRewritePattern<x86::DotI16x2Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(x86::DotI16x2Op op,
                                PatternRewriter &rewriter) const override {
    Value products = vpmaddwd(rewriter, op.getLoc(), op.getType(),
                              op.getLhs(), op.getRhs());
    rewriter.replaceOpWithNewOp<arith::AddIOp>(op, op.getAcc(), products);
    return success();
  }
};

/// qlow_x86.pair_sums_u8s8 -> vpmaddubsw alone.
struct LowerPairSumsU8S8 : OpRewritePattern<x86::PairSumsU8S8Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(x86::PairSumsU8S8Op op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op,
                       vpmaddubsw(rewriter, op.getLoc(), op.getLhs(), op.getRhs()));
    return success();
  }
};

/// qlow_x86.dot_u8s8_pairs -> vpmaddubsw (llvm.x86.avx2.pmadd.ub.sw: u8 x s8
/// pairs into saturating i16), vpmaddwd against i16 ones (adjacent i16 into
/// i32) and an i32 add.
struct LowerDotU8S8Pairs : OpRewritePattern<x86::DotU8S8PairsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(x86::DotU8S8PairsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value pairs = vpmaddubsw(rewriter, loc, op.getLhs(), op.getRhs());
    Value ones = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(cast<VectorType>(pairs.getType()),
                               rewriter.getI16IntegerAttr(1)));
    Value quads = vpmaddwd(rewriter, loc, op.getType(), pairs, ones);
    rewriter.replaceOpWithNewOp<arith::AddIOp>(op, op.getAcc(), quads);
    return success();
  }
};

/// qlow_x86.permute_bytes2 -> vpermi2b (llvm.x86.avx512.vpermi2var.qi.N,
/// whose operands are the first table, the indices, the second table).
struct LowerPermuteBytes2 : OpRewritePattern<x86::PermuteBytes2Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(x86::PermuteBytes2Op op,
                                PatternRewriter &rewriter) const override {
    int64_t bits = op.getType().getNumElements() * 8;
    std::string name = "llvm.x86.avx512.vpermi2var.qi." + std::to_string(bits);
    rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
        op, op.getType(), rewriter.getStringAttr(name),
        ValueRange{op.getLo(), op.getIndices(), op.getHi()});
    return success();
  }
};

/// qlow_x86.permute_f32 -> vpermps (llvm.x86.avx512.permvar.sf.512 on a
/// zmm, llvm.x86.avx2.permps on a ymm; operands: the table, the indices).
struct LowerPermuteF32 : OpRewritePattern<x86::PermuteF32Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(x86::PermuteF32Op op,
                                PatternRewriter &rewriter) const override {
    StringRef name = op.getType().getNumElements() == 16
                         ? "llvm.x86.avx512.permvar.sf.512"
                         : "llvm.x86.avx2.permps";
    rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
        op, op.getType(), rewriter.getStringAttr(name),
        ValueRange{op.getTable(), op.getIndices()});
    return success();
  }
};

struct QlowX86LowerIntrinsicsPass
    : qlow::impl::QlowX86LowerIntrinsicsPassBase<QlowX86LowerIntrinsicsPass> {
  using QlowX86LowerIntrinsicsPassBase::QlowX86LowerIntrinsicsPassBase;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerDotU8S8>(&getContext(), avx2DotU8S8);
    patterns.add<LowerDotU8S8Pairs, LowerPairSumsU8S8, LowerDotI16x2,
                 LowerPermuteBytes2, LowerPermuteF32>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
