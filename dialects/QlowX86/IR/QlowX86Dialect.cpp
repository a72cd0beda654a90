//===- QlowX86Dialect.cpp - x86 kernel-level ops --------------------------===//
//
// Registration and verifiers of the qlow_x86 ops.
//
//===----------------------------------------------------------------------===//

#include "dialects/QlowX86/IR/QlowX86Dialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::qlow::x86;

#include "dialects/QlowX86/IR/QlowX86OpsDialect.cpp.inc"

void QlowX86Dialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/QlowX86/IR/QlowX86Ops.cpp.inc"
      >();
}

/// Shared by the dot-product ops: an 8- or 16-lane i32 accumulator, and
/// `perLane` elements of each operand per lane (`unit` and `elements` name
/// them in the message).
static LogicalResult verifyDotShapes(Operation *op, VectorType acc,
                                     VectorType lhs, int64_t perLane,
                                     StringRef unit, StringRef elements) {
  int64_t lanes = acc.getNumElements();
  if (lanes != 8 && lanes != 16)
    return op->emitOpError() << "accumulates into 8 (ymm) or 16 (zmm) i32 "
                                "lanes, not "
                             << lanes;
  if (lhs.getNumElements() != perLane * lanes)
    return op->emitOpError()
           << "needs " << unit << " per i32 lane: " << perLane * lanes << " "
           << elements << ", not " << lhs.getNumElements();
  return success();
}

LogicalResult DotU8S8Op::verify() {
  return verifyDotShapes(*this, getAcc().getType(), getLhs().getType(), 4,
                         "4 bytes", "i8 elements");
}

LogicalResult DotU8S8PairsOp::verify() {
  // vpmaddubsw is an AVX2 (VEX, ymm) instruction here: the AVX-512 CPUs
  // qlow targets have vpdpbusd instead.
  int64_t lanes = getAcc().getType().getNumElements();
  if (lanes != 8)
    return emitOpError() << "accumulates into 8 i32 lanes (ymm; the AVX2 "
                            "form has no zmm), not "
                         << lanes;
  return verifyDotShapes(*this, getAcc().getType(), getLhs().getType(), 4,
                         "4 bytes", "i8 elements");
}

LogicalResult PairSumsU8S8Op::verify() {
  // vpmaddubsw on ymm, as dot_u8s8_pairs (the AVX2 form has no zmm).
  int64_t bytes = getLhs().getType().getNumElements();
  int64_t lanes = getResult().getType().getNumElements();
  if (bytes != 32)
    return emitOpError() << "takes 32 bytes (ymm), not " << bytes;
  if (lanes * 2 != bytes)
    return emitOpError() << "has one i16 lane per 2 bytes: expected "
                         << bytes / 2 << " lanes, not " << lanes;
  return success();
}

LogicalResult DotI16x2Op::verify() {
  return verifyDotShapes(*this, getAcc().getType(), getLhs().getType(), 2,
                         "2 i16", "elements");
}

LogicalResult PermuteBytes2Op::verify() {
  // vpermi2b exists on xmm, ymm (AVX-512 VL) and zmm.
  int64_t lanes = getResult().getType().getNumElements();
  if (lanes != 16 && lanes != 32 && lanes != 64)
    return emitOpError() << "permutes 16 (xmm), 32 (ymm) or 64 (zmm) bytes, "
                            "not "
                         << lanes;
  return success();
}

LogicalResult PermuteF32Op::verify() {
  // vpermps exists on ymm (AVX2) and zmm (AVX-512F).
  int64_t lanes = getResult().getType().getNumElements();
  if (lanes != 8 && lanes != 16)
    return emitOpError() << "permutes 8 (ymm) or 16 (zmm) f32 lanes, not "
                         << lanes;
  if (getIndices().getType().getNumElements() != lanes)
    return emitOpError() << "needs one index per lane: " << lanes
                         << " lanes, "
                         << getIndices().getType().getNumElements()
                         << " indices";
  return success();
}

#define GET_OP_CLASSES
#include "dialects/QlowX86/IR/QlowX86Ops.cpp.inc"
