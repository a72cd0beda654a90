//===- Int4Kernel.cpp - target-neutral pieces of the int4 matmul kernels --===//
//
// What qlow-x86-int4-matmul and qlow-aarch64-int4-matmul share: the matmuls
// they take, the nibble and scale packing (both read 4 rows of K per dot
// product, column by column), the activations' dynamic quantization, row sums
// and padding, and the rewrite driver. Moved here unchanged from the two
// passes; the IR they build is the same op for op.
//
//===----------------------------------------------------------------------===//

#include "qlow/Target/Int4Kernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <vector>

using namespace mlir;
using namespace mlir::qlow;

namespace {
/// The constant behind `value` (an arith.constant, through quant.scast).
DenseIntElementsAttr constantWeights(Value value) {
  if (auto cast = value.getDefiningOp<quant::StorageCastOp>())
    value = cast.getInput();
  DenseIntElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return {};
  return attr;
}

/// The per-row symmetric i8 quantization of `x` ([M, K] f32, K a multiple of
/// `vectorBytes`) as vector loops over one byte register's worth of values
/// per iteration, held as 4 f32 registers of vectorBytes / 4 lanes (no
/// vector wider than a register: LLVM would take a wider one to SVE where
/// the function has a fixed vscale), computing what ref::dynamicQuantize
/// does. Per row: amax = max(0, max |x|), a signed integer max of the bits
/// of |x| in 4 vectors (the reference's max(-min(0, min x), max(0, max x)),
/// exactly, for every input without NaN; with a NaN, which the reference
/// rejects, the row's scale is NaN and its values unspecified), scale = amax /
/// 127 (1 where that is 0), then q = saturate(roundHalfEven(x / scale)) with
/// the division the reference does (not a product by 1 / scale, which
/// rounds differently), rounded by adding 1.5 * 2^23 (whose sum's low 16
/// bits are the rounded value as i16: one fadd, where roundeven + fptosi
/// are two instructions and a fixed-vscale SVE function scalarizes them),
/// two registers' i16 joined (uzp1), then a clamp and truncation to i8, the
/// form LLVM turns into sqxtn/sqxtn2 on NEON; the saturation matters only
/// where a subnormal amax makes the scale inexact enough that |x / scale|
/// exceeds 127.5.
DynamicQuantized buildRowQuantizeVectors(OpBuilder &b, Location loc, Value x,
                                         int64_t m, int64_t k,
                                         int64_t vectorBytes) {
  const int64_t lanes = vectorBytes / 4, regs = 4;
  Type f32 = b.getF32Type(), i32 = b.getI32Type(), i16 = b.getI16Type(),
       i8 = b.getI8Type();
  auto vec = [&](int64_t n, Type element) {
    return VectorType::get({n}, element);
  };
  auto floatType = vec(lanes, f32);
  auto splat = [&](OpBuilder &nb, Location l, VectorType type,
                   Attribute value) -> Value {
    return arith::ConstantOp::create(nb, l,
                                     DenseElementsAttr::get(type, value));
  };
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value zeroIndex = idx(0), rowCount = idx(m), kCount = idx(k),
        step = idx(vectorBytes), one = idx(1);
  SmallVector<Value> offsets;
  for (int64_t j = 0; j < regs; ++j)
    offsets.push_back(idx(j * lanes));
  Value scaleInit = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m}, f32);
  Value qInit = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, k}, i8);
  Value padF32 = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  auto readAt = [&](OpBuilder &nb, Location l, Value row, Value col,
                    int64_t j) -> Value {
    Value at = j == 0 ? col : arith::AddIOp::create(nb, l, col, offsets[j]);
    return vector::TransferReadOp::create(
        nb, l, floatType, x, ValueRange{row, at}, padF32, ArrayRef<bool>{true});
  };
  // Joins two vectors of n lanes into one of 2n.
  auto join = [&](OpBuilder &nb, Location l, Value lo, Value hi) -> Value {
    int64_t n = cast<VectorType>(lo.getType()).getNumElements();
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < 2 * n; ++i)
      mask.push_back(i);
    return vector::ShuffleOp::create(nb, l, lo, hi, mask);
  };
  auto rows = scf::ForOp::create(
      b, loc, zeroIndex, rowCount, one, ValueRange{scaleInit, qInit},
      [&](OpBuilder &rb, Location rl, Value row, ValueRange rowArgs) {
        // The row's largest |x|, as integers: the bits of |x| (the sign
        // cleared) order as |x| does for every value but NaN, so a signed
        // max of them is the max of |x| (arith.maxnumf, which
        // arith-expand-ops turns into compares and selects, would cost 5
        // instructions per register instead of 2). 4 vectors of maxima,
        // joined after the loop.
        Value zeros = splat(rb, rl, vec(lanes, i32), rb.getI32IntegerAttr(0));
        Value magnitude =
            splat(rb, rl, vec(lanes, i32), rb.getI32IntegerAttr(0x7fffffff));
        SmallVector<Value> starts(regs, zeros);
        auto range = scf::ForOp::create(
            rb, rl, zeroIndex, kCount, step, starts,
            [&](OpBuilder &kb, Location kl, Value col, ValueRange acc) {
              SmallVector<Value> next;
              for (int64_t j = 0; j < regs; ++j) {
                Value bits = arith::BitcastOp::create(
                    kb, kl, vec(lanes, i32), readAt(kb, kl, row, col, j));
                next.push_back(arith::MaxSIOp::create(
                    kb, kl, acc[j],
                    arith::AndIOp::create(kb, kl, bits, magnitude)));
              }
              scf::YieldOp::create(kb, kl, next);
            });
        Value maxima = arith::MaxSIOp::create(
            rb, rl,
            arith::MaxSIOp::create(rb, rl, range.getResult(0),
                                   range.getResult(1)),
            arith::MaxSIOp::create(rb, rl, range.getResult(2),
                                   range.getResult(3)));
        Value amax = arith::BitcastOp::create(
            rb, rl, f32,
            vector::ReductionOp::create(rb, rl, vector::CombiningKind::MAXSI,
                                        maxima));
        Value scale = arith::DivFOp::create(
            rb, rl, amax,
            arith::ConstantOp::create(rb, rl, rb.getF32FloatAttr(127.0f)));
        Value isZero = arith::CmpFOp::create(
            rb, rl, arith::CmpFPredicate::OEQ, scale,
            arith::ConstantOp::create(rb, rl, rb.getF32FloatAttr(0.0f)));
        scale = arith::SelectOp::create(
            rb, rl, isZero,
            arith::ConstantOp::create(rb, rl, rb.getF32FloatAttr(1.0f)), scale);
        Value scales = tensor::InsertOp::create(rb, rl, scale, rowArgs[0],
                                                ValueRange{row});
        Value scaleVector =
            vector::BroadcastOp::create(rb, rl, floatType, scale);
        // Rounding: v + 1.5 * 2^23 lies in [2^23, 2^24), where the f32
        // spacing is 1, for |v| < 2^22, so the addition rounds v to the
        // nearest integer, ties to even (the default rounding mode), and
        // the sum's low 16 bits are that integer as i16. |v| <= 190 here
        // (|x| <= amax, scale = amax / 127 rounded, at worst in subnormals),
        // so the i16 holds it; saturating it to i8 is the reference's
        // saturate.
        Value magic = splat(rb, rl, floatType,
                            rb.getF32FloatAttr(12582912.0f)); // 1.5 * 2^23
        Value lo8 =
            splat(rb, rl, vec(2 * lanes, i16), rb.getI16IntegerAttr(-128));
        Value hi8 =
            splat(rb, rl, vec(2 * lanes, i16), rb.getI16IntegerAttr(127));
        auto quantize = scf::ForOp::create(
            rb, rl, zeroIndex, kCount, step, ValueRange{rowArgs[1]},
            [&](OpBuilder &kb, Location kl, Value col, ValueRange acc) {
              SmallVector<Value> halves;
              for (int64_t j = 0; j < regs; ++j) {
                Value v = arith::DivFOp::create(
                    kb, kl, readAt(kb, kl, row, col, j), scaleVector);
                Value bits = arith::BitcastOp::create(
                    kb, kl, vec(lanes, i32),
                    arith::AddFOp::create(kb, kl, v, magic));
                halves.push_back(
                    arith::TruncIOp::create(kb, kl, vec(lanes, i16), bits));
              }
              SmallVector<Value> bytes;
              for (int64_t j = 0; j < regs; j += 2) {
                Value r = join(kb, kl, halves[j], halves[j + 1]);
                r = arith::MinSIOp::create(
                    kb, kl, arith::MaxSIOp::create(kb, kl, r, lo8), hi8);
                bytes.push_back(
                    arith::TruncIOp::create(kb, kl, vec(2 * lanes, i8), r));
              }
              Value written =
                  vector::TransferWriteOp::create(
                      kb, kl, join(kb, kl, bytes[0], bytes[1]), acc[0],
                      ValueRange{row, col}, ArrayRef<bool>{true})
                      .getResult();
              scf::YieldOp::create(kb, kl, written);
            });
        scf::YieldOp::create(rb, rl, ValueRange{scales, quantize.getResult(0)});
      });
  DynamicQuantized out;
  out.isSigned = true;
  out.qmin = -128;
  out.qmax = 127;
  out.scale = rows.getResult(0);
  out.q = rows.getResult(1);
  out.zeroPoint = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({m}, i32),
                             b.getI32IntegerAttr(0)));
  return out;
}
} // namespace

std::optional<Int4Matmul>
mlir::qlow::matchInt4Matmul(MatmulOp op, int64_t kStep, std::string &why,
                            bool perColumnZeroPoints, bool bytePlanes) {
  auto fail = [&](std::string reason) -> std::optional<Int4Matmul> {
    why = std::move(reason);
    return std::nullopt;
  };
  DynamicQuantAttr dynamic = op.getDynamicAttr();
  if (!dynamic)
    return fail("no dynamic quantization");
  if (dynamic.getScheme() != QuantScheme::Symmetric)
    return fail("asymmetric activations");
  RankedTensorType lhsType = op.getLhs().getType();
  RankedTensorType rhsType = op.getRhs().getType();
  if (lhsType.getRank() != 2 || rhsType.getRank() != 2 ||
      !lhsType.hasStaticShape() || !rhsType.hasStaticShape())
    return fail("not a static 2-D matmul");
  FailureOr<WeightGroups> params = getWeightGroups(rhsType);
  if (failed(params) ||
      !(params->bits == 4 ||
        (perColumnZeroPoints && params->bits == 8 && params->groups > 1)))
    return fail(perColumnZeroPoints
                    ? "weights are neither 4-bit nor 8-bit in groups along K"
                    : "weights are not 4-bit");
  if (params->groupSize % kStep != 0)
    return fail("group size is not a multiple of " + std::to_string(kStep));
  DenseIntElementsAttr attr = constantWeights(op.getRhs());
  if (!attr)
    return fail("weights are not a constant");
  Int4Matmul c;
  c.op = op;
  c.params = *params;
  c.m = lhsType.getDimSize(0);
  c.k = lhsType.getDimSize(1);
  c.n = rhsType.getDimSize(1);
  c.nibbleBase = params->isSigned ? -8 : 0;
  c.zpNibble = params->zeroPoints.front() - c.nibbleBase;
  bool uniform =
      params->bits == 4 && llvm::all_of(params->zeroPoints, [&](int64_t z) {
        return z == params->zeroPoints.front();
      });
  if (!uniform && !perColumnZeroPoints)
    return fail("zero points differ between groups or columns");
  for (const APInt &v : attr.getValues<APInt>())
    c.weights.push_back(params->isSigned
                            ? v.getSExtValue()
                            : static_cast<int64_t>(v.getZExtValue()));
  if (uniform)
    return c;
  // A base per group and column: the storage type's smallest value for
  // 4-bit weights (the nibbles are the stored bits), the smallest stored
  // value of the group and column for 8-bit ones.
  const int64_t groups = params->groups, groupSize = params->groupSize;
  c.nibbleBases.assign(groups * c.n, c.nibbleBase);
  // 8-bit weights with zero point 0 whose groups and columns are each in
  // [-8, 7] or in [-7, 8] (ORT's symmetric MatMulNBits blocks, sign(s) *
  // (q - 8)): the latter negated, with their scales, are i4 with one zero
  // point, and the kernel needs no zero-point table. Exact: negating a
  // scale and the i32 sum it multiplies gives the same f32 product.
  bool signedI4 =
      params->bits == 8 && params->isSigned && params->zeroPointsAllZero();
  SmallVector<int64_t> signs;
  bool wide = false;
  for (int64_t g = 0; g < groups && params->bits == 8 && !wide; ++g)
    for (int64_t col = 0; col < c.n; ++col) {
      int64_t lo = INT64_MAX, hi = INT64_MIN;
      for (int64_t r = g * groupSize; r < (g + 1) * groupSize; ++r) {
        lo = std::min(lo, c.weights[r * c.n + col]);
        hi = std::max(hi, c.weights[r * c.n + col]);
      }
      if (hi - lo > 15) {
        if (!bytePlanes)
          return fail("8-bit weights of group " + std::to_string(g) +
                      ", column " + std::to_string(col) + " span " +
                      std::to_string(hi - lo + 1) + " values, more than 16");
        wide = true;
        break;
      }
      c.nibbleBases[g * c.n + col] = lo;
      if (lo >= -8 && hi <= 7)
        signs.push_back(1);
      else if (lo >= -7 && hi <= 8)
        signs.push_back(-1);
      else
        signedI4 = false;
    }
  if (wide) {
    // Whole bytes, w - base in [0, 255] with the storage type's smallest
    // value as the base: the two-plane form (Int4Matmul::bytePlanes).
    c.bytePlanes = true;
    c.nibbleBases.clear();
    c.nibbleBase = params->isSigned ? -128 : 0;
    for (int64_t at = 0; at < groups * c.n; ++at)
      c.zpNibbles.push_back(params->zeroPoints[at] - c.nibbleBase);
    if (llvm::all_of(c.zpNibbles,
                     [&](int64_t z) { return z == c.zpNibbles[0]; })) {
      c.zpNibble = c.zpNibbles[0];
      c.zpNibbles.clear();
    }
    return c;
  }
  if (signedI4) {
    c.nibbleBases.clear();
    if (llvm::any_of(signs, [](int64_t v) { return v < 0; }))
      c.signs = std::move(signs);
    return c; // nibbleBase -8, zpNibble 8 (i8 storage: zero point 0).
  }
  for (int64_t at = 0; at < groups * c.n; ++at)
    c.zpNibbles.push_back(params->zeroPoints[at] - c.nibbleBases[at]);
  if (llvm::all_of(c.zpNibbles,
                   [&](int64_t z) { return z == c.zpNibbles[0]; }) &&
      llvm::all_of(c.nibbleBases,
                   [&](int64_t v) { return v == c.nibbleBases[0]; })) {
    // One base and zero point after all: the scalar form.
    c.nibbleBase = c.nibbleBases[0];
    c.zpNibble = c.zpNibbles[0];
    c.nibbleBases.clear();
    c.zpNibbles.clear();
  }
  return c;
}

Int4PackedWeights mlir::qlow::packInt4Weights(OpBuilder &b, Location loc,
                                              const Int4Matmul &c, int64_t nr,
                                              int64_t lanes, int64_t kStep,
                                              uint8_t nibbleXor,
                                              bool asConstant,
                                              bool activationPlanes) {
  const int64_t groups = c.params.groups;
  // Weight columns per panel: the two activation planes of bytePlanes
  // share a column.
  const bool planes = c.bytePlanes && activationPlanes;
  const int64_t cols = planes ? nr / 2 : nr;
  const int64_t panels = (c.n + cols - 1) / cols, kSteps = c.k / kStep;
  const int64_t pairBytes = lanes * kStep; // bytes of one packed load
  // Bytes per panel and step: whole bytes of `cols` columns, or nibbles of
  // `nr` columns two per byte.
  const int64_t stepBytes = c.bytePlanes ? cols * kStep : nr * 2;
  SmallVector<uint8_t> packed(panels * kSteps * stepBytes, 0);
  SmallVector<float> scales(panels * groups * cols, 0.0f);
  SmallVector<int32_t> planeSums;
  if (planes)
    planeSums.assign(panels * groups * cols, 0);
  for (int64_t kk = 0; kk < c.k; ++kk)
    for (int64_t col = 0; col < c.n; ++col) {
      int64_t g = kk / c.params.groupSize;
      int64_t nibble =
          c.signAt(g, col) * c.weights[kk * c.n + col] - c.baseAt(g, col);
      int64_t p = col / cols, inPanel = col % cols;
      int64_t vec = inPanel / lanes, lane = inPanel % lanes;
      int64_t step = (p * kSteps + kk / kStep) * stepBytes + lane * kStep +
                     kk % kStep;
      if (c.bytePlanes) {
        // The whole byte of weight vector `vec`.
        packed[step + vec * pairBytes] =
            static_cast<uint8_t>(nibble ^ (nibbleXor << 4));
        if (planes)
          planeSums[(p * groups + g) * cols + inPanel] +=
              8 * static_cast<int32_t>(nibble);
        continue;
      }
      packed[step + (vec / 2) * pairBytes] |=
          static_cast<uint8_t>((nibble ^ nibbleXor) << (vec % 2 ? 4 : 0));
    }
  SmallVector<int32_t> zeroPoints;
  if (!c.uniformZeroPoint())
    zeroPoints.assign(panels * groups * cols, 0);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t col = 0; col < c.n; ++col) {
      int64_t at = ((col / cols) * groups + g) * cols + col % cols;
      scales[at] =
          static_cast<float>(c.signAt(g, col) * c.params.scales[g * c.n + col]);
      if (!c.uniformZeroPoint())
        zeroPoints[at] = static_cast<int32_t>(c.zpNibbles[g * c.n + col]);
    }
  Int4PackedWeights result;
  if (asConstant) {
    auto packedType =
        RankedTensorType::get({panels, kSteps, stepBytes}, b.getI8Type());
    result.nibbles = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            packedType,
            ArrayRef<int8_t>(reinterpret_cast<const int8_t *>(packed.data()),
                             packed.size())));
  } else {
    result.nibbleShape = {panels, kSteps, stepBytes};
    result.nibbleBytes = std::move(packed);
  }
  auto scalesType =
      RankedTensorType::get({panels, groups, cols}, b.getF32Type());
  result.scales = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(scalesType, ArrayRef<float>(scales)));
  if (planes)
    result.planeSums = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({panels, groups, cols}, b.getI32Type()),
            ArrayRef<int32_t>(planeSums)));
  if (!c.uniformZeroPoint())
    result.zeroPoints = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(
            RankedTensorType::get({panels, groups, cols}, b.getI32Type()),
            ArrayRef<int32_t>(zeroPoints)));
  return result;
}

Int4Activations mlir::qlow::buildInt4Activations(OpBuilder &b, Location loc,
                                                 const Int4Matmul &c,
                                                 int64_t paddedRows,
                                                 int64_t zpOffset,
                                                 int64_t vectorBytes) {
  Type i8 = b.getI8Type();
  Int4Activations result;
  MatmulOp op = c.op; // The op's accessors are not const.
  DynamicQuantAttr dynamic = op.getDynamicAttr();
  if (vectorBytes > 0 && vectorBytes % 4 == 0 &&
      dynamic.getGranularity() == DynamicGranularity::PerRow &&
      dynamic.getStorage() == DynamicStorage::I8 && c.k % vectorBytes == 0)
    result.quantized =
        buildRowQuantizeVectors(b, loc, op.getLhs(), c.m, c.k, vectorBytes);
  else
    result.quantized = buildDynamicQuantize(b, loc, op.getLhs(), dynamic);
  Value q = result.quantized.q;
  if (!c.uniformZeroPoint() || c.zpNibble != zpOffset) {
    const int64_t groups = c.params.groups, groupSize = c.params.groupSize;
    Value grouped = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({c.m, groups, groupSize}, i8), q,
        SmallVector<ReassociationIndices>{{0}, {1, 2}});
    result.rowSums = buildSumOverK(b, loc, grouped, 2, /*isSigned=*/true);
  }
  if (paddedRows != c.m) {
    Value zero = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
    q = tensor::PadOp::create(
        b, loc, RankedTensorType::get({paddedRows, c.k}, i8), q,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(paddedRows - c.m),
                               b.getIndexAttr(0)},
        zero);
  }
  result.padded = q;
  return result;
}

void mlir::qlow::rewriteInt4Matmuls(
    Operation *root, int64_t kStep, bool report,
    function_ref<Value(OpBuilder &, Location, Int4Matmul &)> buildKernel,
    bool perColumnZeroPoints, bool bytePlanes) {
  std::vector<Int4Matmul> found;
  root->walk([&](MatmulOp op) {
    std::string why;
    if (std::optional<Int4Matmul> c = matchInt4Matmul(
            op, kStep, why, perColumnZeroPoints, bytePlanes))
      found.push_back(std::move(*c));
    else if (report && op.getDynamicAttr())
      op.emitRemark() << "not an int4 kernel: " << why;
  });
  IRRewriter rewriter(root->getContext());
  for (Int4Matmul &c : found) {
    rewriter.setInsertionPoint(c.op);
    Value result = buildKernel(rewriter, c.op.getLoc(), c);
    Operation *cast = c.op.getRhs().getDefiningOp<quant::StorageCastOp>();
    rewriter.replaceOp(c.op, result);
    if (cast && cast->use_empty())
      rewriter.eraseOp(cast);
  }
}

Value mlir::qlow::storeInt4ResultVector(OpBuilder &b, Location loc, Value tile,
                                        Value value, Value bias, Value row,
                                        Value col0, int64_t v, int64_t lanes,
                                        function_ref<Value(int64_t)> idx) {
  if (!value && !bias)
    return tile; // Already in place.
  auto floatType = VectorType::get({lanes}, b.getF32Type());
  Value padF32 = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  SmallVector<bool> inBounds = {true};
  SmallVector<Value, 2> at = {row, idx(v * lanes)};
  if (!value)
    value = vector::TransferReadOp::create(b, loc, floatType, tile, at, padF32,
                                           inBounds);
  if (bias) {
    // The last panel runs past N: a masked read.
    Value col = arith::AddIOp::create(b, loc, col0, idx(v * lanes));
    value = arith::AddFOp::create(
        b, loc, value,
        vector::TransferReadOp::create(b, loc, floatType, bias, ValueRange{col},
                                       padF32, SmallVector<bool>{false}));
  }
  return vector::TransferWriteOp::create(b, loc, value, tile, at, inBounds)
      .getResult();
}

Value mlir::qlow::buildInt4KernelScaffold(
    OpBuilder &b, Location loc, Value out, int64_t panels, int64_t cols,
    int64_t m, int64_t n, int64_t mp, int64_t rows, OpBuilder &constants,
    function_ref<Value(int64_t)> idx,
    function_ref<Value(OpBuilder &, Location, Value, Value, Value, Value)>
        buildRowTile) {
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(panels)}, ValueRange{out},
      std::nullopt);
  constants.setInsertionPoint(forall);
  OpBuilder pb = OpBuilder::atBlockBegin(forall.getBody());
  Value p = forall.getInductionVars()[0];
  Value shared = forall.getRegionIterArgs()[0];
  Value col0 = arith::MulIOp::create(pb, loc, p, idx(cols));
  SmallVector<OpFoldResult> panelOffsets = {pb.getIndexAttr(0), col0};
  SmallVector<OpFoldResult> panelSizes = {pb.getIndexAttr(mp),
                                          pb.getIndexAttr(cols)};
  SmallVector<OpFoldResult> unitStrides(2, pb.getIndexAttr(1));
  Type f32 = b.getF32Type();
  Value panel = tensor::ExtractSliceOp::create(
      pb, loc, RankedTensorType::get({mp, cols}, f32), shared, panelOffsets,
      panelSizes, unitStrides);
  auto rowLoop = scf::ForOp::create(
      pb, loc, idx(0), idx(mp), idx(rows), ValueRange{panel},
      [&](OpBuilder &rb, Location rl, Value i, ValueRange args) {
        scf::YieldOp::create(rb, rl, buildRowTile(rb, rl, i, p, col0, args[0]));
      });
  OpBuilder tb = OpBuilder::atBlockEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(tb, loc, rowLoop.getResult(0), shared,
                                        panelOffsets, panelSizes, unitStrides);
  Value result = forall.getResult(0);
  if (mp != m || panels * cols != n)
    result = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({m, n}, f32), result,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(m), b.getIndexAttr(n)},
        unitStrides);
  return result;
}
