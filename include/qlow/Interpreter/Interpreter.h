//===- Interpreter.h - evaluate qlow functions with lib/Reference -*- C++
//-*-===//
//
// Walks a function of qlow ops (and the few upstream ops qlow graphs use:
// constants, storage casts, reshapes, transposes) and evaluates each op with
// the plain C++ reference semantics of lib/Reference. This is how tests and
// calibration run graphs before, and independently of, code generation.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_INTERPRETER_INTERPRETER_H
#define QLOW_INTERPRETER_INTERPRETER_H

#include "qlow/Reference/Ops.h"
#include "qlow/Reference/Types.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"

#include <map>
#include <string>

namespace mlir::qlow {

/// The reference library lives in ::qlow::ref (no MLIR dependency).
namespace ref = ::qlow::ref;

/// Ranges recorded by `qlow.observe` probes, keyed by probe name.
using ObservedRanges = std::map<std::string, ref::RangeStats>;

/// Converts a static ranked tensor type (f32, signless integer, or uniform
/// quantized element type) to the reference library's description. Emits an
/// error through `emitError` and fails for anything else.
FailureOr<ref::TensorType>
convertToReferenceType(Type type, function_ref<InFlightDiagnostic()> emitError);

/// Evaluates `func` on `inputs` (one per argument, of the argument's type) and
/// returns its results. Errors are emitted as diagnostics at the op that
/// failed (unsupported op, out-of-range index, accumulator overflow, ...).
/// When `ranges` is given, every qlow.observe probe records into it.
FailureOr<SmallVector<ref::Tensor>>
evaluateFunction(func::FuncOp func, ArrayRef<ref::Tensor> inputs,
                 ObservedRanges *ranges = nullptr);

} // namespace mlir::qlow

#endif // QLOW_INTERPRETER_INTERPRETER_H
