//===- CTypes.h - C types of values at the compiled functions' boundary ---===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_SUPPORT_CTYPES_H
#define QLOW_SUPPORT_CTYPES_H

#include "mlir/IR/Types.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::qlow {

/// The C element type that carries values of `type` across the boundary of
/// compiled functions, as the C headers (lib/Emit) and the model API
/// (lib/Import/ONNX) declare it: f32 is `float`; integers and the storage of
/// quantized types are `intN_t`/`uintN_t` (N = 8, 16, 32, 64); i1 crosses as
/// one byte, `uint8_t`. Fails for anything else.
FailureOr<std::string> cElementType(Type type);

} // namespace mlir::qlow

#endif // QLOW_SUPPORT_CTYPES_H
