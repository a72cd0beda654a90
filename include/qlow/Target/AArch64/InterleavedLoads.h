//===- InterleavedLoads.h - NEON ld2/ld3/ld4 from vector IR ------*- C++
//-*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The NEON kernels (qlow-aarch64-int8-matmul's smmla operands,
// qlow-aarch64-int4-matmul's activation rows) load several registers with
// one instruction: data packed interleaved by 4-byte words, read as one
// vector and de-interleaved by shuffles, which LLVM's interleaved-access
// pass turns, with the load, into one ld2/ld3/ld4 (and the packing's
// interleaving shuffle and store into one st<g>).
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_AARCH64_INTERLEAVEDLOADS_H
#define QLOW_TARGET_AARCH64_INTERLEAVEDLOADS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

#include <algorithm>

namespace mlir::qlow::aarch64 {

/// Registers of a step that one interleaving load fills: the `count`
/// registers split into groups of at most 4 (ld4 is the widest), each group
/// loaded by one `ld<g>`, which de-interleaves 4-byte words: word l of the
/// group's register r is at word l * g + r of the group's 16 * g bytes.
/// Returns the group sizes.
inline SmallVector<int64_t> interleaveGroups(int64_t count) {
  SmallVector<int64_t> groups;
  for (int64_t done = 0; done < count; done += groups.back())
    groups.push_back(std::min<int64_t>(4, count - done));
  return groups;
}

/// The shuffle mask that interleaves `count` registers of 4 words by words
/// (the inverse of what ld<count> de-interleaves).
inline SmallVector<int64_t> interleaveMask(int64_t count) {
  SmallVector<int64_t> interleave(4 * count);
  for (int64_t r = 0; r < count; ++r)
    for (int64_t l = 0; l < 4; ++l)
      interleave[l * count + r] = r * 4 + l;
  return interleave;
}

/// `tail` (one register of 4 words) appended to the words of `head` (null
/// for none yet): the shuffle that grows a packed group or step list.
inline Value appendWords(OpBuilder &b, Location loc, Value head, Value tail) {
  if (!head)
    return tail;
  int64_t have = cast<VectorType>(head.getType()).getDimSize(0);
  SmallVector<int64_t> append;
  for (int64_t l = 0; l < have + 4; ++l)
    append.push_back(l);
  return vector::ShuffleOp::create(b, loc, head, tail, append);
}

/// Reads the `g` registers of an interleaved group (see interleaveGroups):
/// one vector<4g x i32> read at `indices` of `source`, de-interleaved by
/// shuffles, which LLVM's interleaved-access pass turns, with the load, into
/// one ld<g>. Returns the registers as vector<16xi8>.
inline SmallVector<Value> readInterleavedGroup(OpBuilder &b, Location loc,
                                               Value source, ValueRange indices,
                                               int64_t g) {
  Type i32 = b.getI32Type();
  auto wordsType = VectorType::get({4 * g}, i32);
  auto regType = VectorType::get({4}, i32);
  auto bytesType = VectorType::get({16}, b.getI8Type());
  Value pad = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value words = vector::TransferReadOp::create(
      b, loc, wordsType, source, indices, pad, SmallVector<bool>{true});
  SmallVector<Value> regs;
  for (int64_t r = 0; r < g; ++r) {
    Value reg = words;
    if (g > 1)
      reg = vector::ShuffleOp::create(
          b, loc, words, words,
          ArrayRef<int64_t>{r, r + g, r + 2 * g, r + 3 * g});
    else
      reg = vector::BitCastOp::create(b, loc, regType, words);
    regs.push_back(vector::BitCastOp::create(b, loc, bytesType, reg));
  }
  return regs;
}

} // namespace mlir::qlow::aarch64

#endif // QLOW_TARGET_AARCH64_INTERLEAVEDLOADS_H
