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

LogicalResult DotU8S8Op::verify() {
  int64_t lanes = getAcc().getType().getNumElements();
  if (lanes != 8 && lanes != 16)
    return emitOpError() << "accumulates into 8 (ymm) or 16 (zmm) i32 lanes, "
                            "not "
                         << lanes;
  if (getLhs().getType().getNumElements() != 4 * lanes)
    return emitOpError() << "needs 4 bytes per i32 lane: " << 4 * lanes
                         << " i8 elements, not "
                         << getLhs().getType().getNumElements();
  return success();
}

LogicalResult DotI16x2Op::verify() {
  int64_t lanes = getAcc().getType().getNumElements();
  if (lanes != 8 && lanes != 16)
    return emitOpError() << "accumulates into 8 (ymm) or 16 (zmm) i32 lanes, "
                            "not "
                         << lanes;
  if (getLhs().getType().getNumElements() != 2 * lanes)
    return emitOpError() << "needs 2 i16 per i32 lane: " << 2 * lanes
                         << " elements, not "
                         << getLhs().getType().getNumElements();
  return success();
}

#define GET_OP_CLASSES
#include "dialects/QlowX86/IR/QlowX86Ops.cpp.inc"
