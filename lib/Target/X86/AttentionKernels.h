//===- AttentionKernels.h - Internal interface of the attention kernels ---===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Shared by the f32 kernel (Attention.cpp, which owns the pass) and the int8
// kernel (Int8Attention.cpp). Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_LIB_TARGET_X86_ATTENTIONKERNELS_H
#define QLOW_LIB_TARGET_X86_ATTENTIONKERNELS_H

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Target/TargetDesc.h"

#include <string>

namespace mlir::qlow {

/// The transpose of the L x L tile in `rows` (L vectors of L elements of any
/// type, L a power of two), in registers by vector.shuffle.
SmallVector<Value> transposeVectorTile(OpBuilder &b, Location loc,
                                       SmallVector<Value> rows);

/// Why the int8 form of `op` (it has `int8`) cannot be lowered for `desc`,
/// or an empty string.
std::string unsupportedInt8AttentionReason(AttentionOp op,
                                           const TargetDesc &desc);

/// The [B, H, S, Dv] f32 result of the int8 attention `op` (with `int8`),
/// built at the builder's insertion point: q, k, v are read as their stored
/// integers; `mask` is the op's mask viewed as rank 4, or null.
/// Precondition: unsupportedInt8AttentionReason(op, desc) is empty.
Value buildInt8Attention(OpBuilder &b, AttentionOp op, const TargetDesc &desc,
                         Value mask, float scale);

} // namespace mlir::qlow

#endif // QLOW_LIB_TARGET_X86_ATTENTIONKERNELS_H
