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

LogicalResult
DynamicQuantAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         DynamicGranularity, DynamicStorage storage,
                         QuantScheme scheme) {
  // A symmetric unsigned range would have its zero point at the bottom and
  // could not represent negative values.
  if (scheme == QuantScheme::Symmetric && storage != DynamicStorage::I8)
    return emitError() << "symmetric dynamic quantization needs signed (i8) "
                          "storage; use u8 with asymmetric";
  return success();
}
