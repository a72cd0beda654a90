//===- CTypes.cpp - C types of values at the compiled functions' boundary -===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Support/CTypes.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

FailureOr<std::string> mlir::qlow::cElementType(Type type) {
  if (type.isF32())
    return std::string("float");
  unsigned bits = 0;
  bool isSigned = true;
  if (auto q = dyn_cast<quant::QuantizedType>(type)) {
    bits = q.getStorageTypeIntegralWidth();
    isSigned = q.isSigned();
  } else if (auto i = dyn_cast<IntegerType>(type)) {
    bits = i.getWidth();
    isSigned = bits != 1;
  }
  if (bits == 1)
    bits = 8; // i1 crosses as one byte.
  if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
    return failure();
  return (isSigned ? "int" : "uint") + std::to_string(bits) + "_t";
}
