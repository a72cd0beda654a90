//===- QlowDialect.cpp - qlow dialect registration ------------------------===//
//
// Registers the qlow ops and attributes.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/IR/QlowDialect.h"
#include "dialects/Qlow/IR/QlowOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qlow;

#include "dialects/Qlow/IR/QlowDialect.cpp.inc"
#include "dialects/Qlow/IR/QlowEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Qlow/IR/QlowAttrs.cpp.inc"

void QlowDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Qlow/IR/QlowOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/Qlow/IR/QlowAttrs.cpp.inc"
      >();
}
