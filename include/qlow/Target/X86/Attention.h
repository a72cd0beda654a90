//===- Attention.h - tile sizes of the fused attention kernel ---*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The tile of qlow-x86-attention's kernel, derived from the TargetDesc's
// vector width and register count (no sizes live in the pass).
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_TARGET_X86_ATTENTION_H
#define QLOW_TARGET_X86_ATTENTION_H

#include "qlow/Target/TargetDesc.h"

#include <cstdint>

namespace mlir::qlow {

/// The tile of the flash-attention kernel.
struct AttentionTile {
  /// Query rows per work item (one scf.forall iteration), whose output
  /// accumulators stay in registers across all key blocks.
  int64_t queryRows;
  /// Keys per block: the scores of one row for a block are one vector.
  int64_t keyBlock;
  /// f32 lanes per vector of output (value) columns.
  int64_t valueLanes;
};

/// The tile for queries of `s` rows and values of `dv` columns on `desc`:
/// key blocks of one f32 vector; as many query rows (1 to 16, at most `s`) as
/// keep the P * V step in the register file: rows * ceil(dv / lanes)
/// accumulators, one value row (ceil(dv / lanes) vectors), one score vector
/// per row and a broadcast.
AttentionTile chooseAttentionTile(const TargetDesc &desc, int64_t s,
                                  int64_t dv);

} // namespace mlir::qlow

#endif // QLOW_TARGET_X86_ATTENTION_H
