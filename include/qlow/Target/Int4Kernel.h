//===- Int4Kernel.h - shared pieces of the int4 matmul kernels --*- C++ -*-===//
//
// Target-neutral parts of the int4 weight-only matmul kernel passes
// (qlow-x86-int4-matmul, qlow-aarch64-int4-matmul): which matmuls they take,
// the compile-time packing of the nibbles and group scales, the run-time
// quantization of the activations, and the rewrite driver. The register
// tiles, the unpacking and the dot-product instructions stay with the
// targets.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_INT4KERNEL_H
#define QLOW_TARGET_INT4KERNEL_H

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Conversion/QlowToLinalg.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace mlir::qlow {

/// A dynamic matmul an int4 kernel handles, with its weights unpacked.
struct Int4Matmul {
  MatmulOp op;
  WeightGroups params;
  /// Stored weights [K, N], as read from the constant.
  SmallVector<int64_t> weights;
  /// The stored value that nibble 0 stands for, and the zero point that the
  /// nibbles carry: nibble - zpNibble = w - zw for every weight.
  int64_t nibbleBase = 0, zpNibble = 0;
  /// Where those differ between groups or columns (only matched with
  /// `perColumnZeroPoints`): both per group and column, row-major
  /// [groups, N]; empty otherwise, and then the scalars above hold.
  SmallVector<int64_t> nibbleBases, zpNibbles;
  /// +1 or -1 per group and column ([groups, N]) when some groups and
  /// columns are packed negated, with their scales negated (8-bit weights
  /// in [-7, 8]); empty when none is.
  SmallVector<int64_t> signs;
  /// 8-bit weights of any range (only matched with `bytePlanes`): each
  /// packed byte is one weight's `w - base` (0..255), the unsigned operand
  /// of the dot products as it is, and the kernel splits the activations
  /// into two planes of signed nibbles instead (see qlow-x86-int4-matmul).
  /// The bases are then the storage type's smallest value (-128 or 0);
  /// zpNibble(s) hold zw - base.
  bool bytePlanes = false;
  int64_t m = 0, k = 0, n = 0;

  /// The sign group `g`, column `col` is packed with.
  int64_t signAt(int64_t g, int64_t col) const {
    return signs.empty() ? 1 : signs[g * n + col];
  }

  /// Whether one zpNibble holds for every group and column.
  bool uniformZeroPoint() const { return zpNibbles.empty(); }
  /// The base of group `g`, column `col`.
  int64_t baseAt(int64_t g, int64_t col) const {
    return nibbleBases.empty() ? nibbleBase : nibbleBases[g * n + col];
  }
};

/// Matches what the int4 kernels support: 2-D f32 lhs quantized symmetric i8
/// at run time (per row or per tensor), constant 4-bit weights [K, N] whose
/// groups are a multiple of `kStep` rows and whose zero points agree, an f32
/// result and an optional f32 bias. With `perColumnZeroPoints` (a kernel that
/// reads Int4PackedWeights::zeroPoints) also 4-bit weights with a zero point
/// per group and column, and 8-bit weights in groups along K whose stored
/// values span at most 16 consecutive integers in each group and column (the
/// ONNX importer's MatMulNBits form for negative scales or a zero point per
/// block: `sign(s) * (q - zp)` with scale |s|); each group and column is then
/// a nibble plus its own base, exactly. With `bytePlanes` as well, 8-bit
/// weights in groups along K of any range (MatMulNBits with bits = 8,
/// 8-bit blocked DequantizeLinear) as Int4Matmul::bytePlanes where they do
/// not fit the nibble form. `why` says what did not match.
std::optional<Int4Matmul> matchInt4Matmul(MatmulOp op, int64_t kStep,
                                          std::string &why,
                                          bool perColumnZeroPoints = false,
                                          bool bytePlanes = false);

/// The weights of an int4 kernel as constants, packed at compile time.
struct Int4PackedWeights {
  /// Nibbles [panels][K / kStep][nr * 2] (i8): for each panel of `nr`
  /// columns and step of `kStep` rows of K, the bytes of vector pair
  /// (2v, 2v + 1) hold, column by column and then the step's rows (the
  /// order of vpdpbusd and sdot), the nibble of a column of vector 2v in the
  /// low half and of vector 2v + 1 in the high half. Null when the caller
  /// asked for the bytes instead (`nibbleBytes`).
  Value nibbles;
  /// The same bytes, in the same order, when packInt4Weights was called with
  /// `asConstant = false`: for a kernel that regroups them into constants of
  /// its own, so that no unused copy of the weights stays in the context
  /// (attributes are uniqued there and never freed). `nibbleShape` is
  /// {panels, K / kStep, nr * 2}.
  SmallVector<uint8_t> nibbleBytes;
  std::array<int64_t, 3> nibbleShape = {0, 0, 0};
  /// Scales [panels][groups][nr] (f32; negated where Int4Matmul::signs is
  /// -1), zero past N.
  Value scales;
  /// zpNibble per group and column [panels][groups][nr] (i32, zero past N)
  /// when it is not uniform; null otherwise.
  Value zeroPoints;
  /// With Int4Matmul::bytePlanes and activation planes: 8 x the sum of the
  /// packed bytes of each group and column [panels][groups][nr / 2] (i32),
  /// the term the activations' low plane (a & 15) - 8 leaves out; null
  /// otherwise.
  Value planeSums;
};

/// Packs `c`'s weights for a kernel with `lanes` i32 lanes per vector and
/// panels of `nr` columns (a multiple of 2 * lanes), reading `kStep` rows of
/// K per dot product. Int4Matmul::bytePlanes weights are whole bytes,
/// `[panels][K / kStep][cols * kStep]`, weight vector v's bytes at
/// `v * lanes * kStep` of a step, in the same order. With
/// `activationPlanes` (the kernel splits the activations into two planes,
/// as on AVX2) a panel has cols = `nr / 2` weight columns (the kernel's `nr`
/// vector columns are the sums of its two planes), and the scales, zero
/// points and planeSums have `nr / 2` columns per panel; without (one dot
/// product per byte: VNNI, sdot) cols = `nr` and no planeSums. Each stored
/// nibble is XORed with `nibbleXor` (0 or 8): with 8, a kernel that unpacks
/// the nibbles as signed 4-bit values reads nibble - 8 (see
/// qlow-aarch64-int4-matmul); a whole byte of Int4Matmul::bytePlanes is then
/// XORed with 0x80, and read as s8 it is byte - 128 (planeSums stay the sums
/// of the bytes as they were). With `asConstant` false the nibbles come back
/// as bytes (Int4PackedWeights::nibbleBytes), not as a constant.
Int4PackedWeights packInt4Weights(OpBuilder &b, Location loc,
                                  const Int4Matmul &c, int64_t nr,
                                  int64_t lanes, int64_t kStep,
                                  uint8_t nibbleXor = 0,
                                  bool asConstant = true,
                                  bool activationPlanes = false);

/// The activations of an int4 kernel.
struct Int4Activations {
  /// Quantized at run time exactly as convert-qlow-to-linalg does.
  DynamicQuantized quantized;
  /// Sums of the quantized values per row and group [M, groups] (i32), for
  /// the zpNibble correction; null when zpNibble is uniformly the kernel's
  /// `zpOffset` (the value its unpacked nibbles are relative to).
  Value rowSums;
  /// The quantized values with rows padded with zeros to `paddedRows`.
  Value padded;
};

/// Builds the activations of `c` for a kernel whose row tiles cover
/// `paddedRows` (>= M) rows and whose dot products read nibble - `zpOffset`
/// (0: the nibbles as stored; 8: signed nibbles packed with nibbleXor 8).
/// With `vectorBytes` (the target's vector register in bytes,
/// TargetDesc::vectorBits / 8) a per-row quantization whose K is a multiple
/// of it is built as explicit vector loops instead of
/// buildDynamicQuantize's linalg.generics: per row, the largest |x| over
/// `vectorBytes` f32 values per iteration (as many f32 registers as one byte
/// register holds; a signed max of the bits of |x|), then x / scale rounded
/// to nearest even by adding 1.5 * 2^23, the low halves of two registers
/// joined and saturated to i8 into one whole byte register per iteration
/// (NEON: 4 fdiv, 4 fadd, 2 uzp1, sqxtn, sqxtn2). The values are the
/// reference's (ref::dynamicQuantize) for every input without NaN; 0 keeps
/// the generic form.
Int4Activations buildInt4Activations(OpBuilder &b, Location loc,
                                     const Int4Matmul &c, int64_t paddedRows,
                                     int64_t zpOffset = 0,
                                     int64_t vectorBytes = 0);

/// Stores result vector `v` (columns col0 + v * lanes onward) of row `row`
/// of a register tile into `tile`, the work item's f32 panel of the output
/// ([rows, np] of `lanes`-wide vectors): `value`, or, when null, the vector
/// the tile already holds there (accumulated in memory), plus the bias's
/// columns (a masked read: the last panel runs past N) when `bias` is set.
/// A vector already in place without a bias is left as it is. Returns the
/// updated tile.
Value storeInt4ResultVector(OpBuilder &b, Location loc, Value tile, Value value,
                            Value bias, Value row, Value col0, int64_t v,
                            int64_t lanes, function_ref<Value(int64_t)> idx);

/// The loops both targets' int4 kernels share: an scf.forall over the
/// `panels` column panels of `cols` columns of `out` (an f32 [mp, panels *
/// cols] tensor), in each the panel's [mp, cols] slice and an scf.for over
/// its register tiles of `rows` rows, whose body `buildRowTile` builds from
/// the tile's first row `i`, the panel index `p`, its first column `col0`
/// and the panel slice, returning the slice updated; then the slice's
/// parallel_insert_slice, and the forall's result cut to [m, n]. `constants`
/// is set before the forall, where `idx` builds the index constants.
Value buildInt4KernelScaffold(
    OpBuilder &b, Location loc, Value out, int64_t panels, int64_t cols,
    int64_t m, int64_t n, int64_t mp, int64_t rows, OpBuilder &constants,
    function_ref<Value(int64_t)> idx,
    function_ref<Value(OpBuilder &rb, Location rl, Value i, Value p, Value col0,
                       Value panel)>
        buildRowTile);

/// The pass body both targets share: matches every qlow.matmul under `root`
/// (groups a multiple of `kStep` rows), emits a remark on each dynamic one
/// not taken when `report` is set, and replaces each match by the [M, N] f32
/// result that `buildKernel` builds before it (erasing the weights'
/// quant.scast when it has no other use).
void rewriteInt4Matmuls(
    Operation *root, int64_t kStep, bool report,
    function_ref<Value(OpBuilder &, Location, Int4Matmul &)> buildKernel,
    bool perColumnZeroPoints = false, bool bytePlanes = false);

} // namespace mlir::qlow

#endif // QLOW_TARGET_INT4KERNEL_H
