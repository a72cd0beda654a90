//===- Observers.h - calibration probes in qlow graphs ----------*- C++ -*-===//
//
// The C++ side of qlow-insert-observers and qlow-strip-observers: placing
// named qlow.observe probes on the f32 values calibration measures, and
// finding or removing them again. Passes.td describes what is observed and
// how the probes are named.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOW_TRANSFORMS_OBSERVERS_H
#define QLOW_DIALECT_QLOW_TRANSFORMS_OBSERVERS_H

#include "dialects/Qlow/IR/QlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/DenseMap.h"

#include <string>
#include <vector>

namespace mlir::qlow {

/// Which values qlow-insert-observers observes.
enum class ObserverTargets {
  /// The f32 data operands and results of the selected compute ops.
  Activations,
  /// Every f32 value that depends on a function argument.
  All,
};

/// Options of insertObservers (the pass options, parsed).
struct InsertObserversOptions {
  ObserverTargets targets = ObserverTargets::Activations;
  /// With Activations: the ops whose data operands and results are observed,
  /// by full name ("qlow.matmul"). Empty: defaultObservedOps().
  std::vector<std::string> ops;
};

/// The ops observed by default: qlow.matmul, add, mul, gelu, silu, softmax,
/// layer_norm, rms_norm and attention.
ArrayRef<StringRef> defaultObservedOps();
/// Every op name that `ops` accepts: the defaults, qlow.rope and
/// qlow.embedding.
ArrayRef<StringRef> observableOps();

/// The data operands of a compute op (what Activations observes as its
/// inputs): lhs and rhs of matmul, add and mul; q, k and v of attention; the
/// input of the unary ops, softmax and the norms; none for embedding.
/// Parameters (bias, gamma, beta, cos, sin, mask) are not data operands.
SmallVector<Value> dataOperands(Operation *op);

/// Parses the string options of the pass into `options`; on a bad option
/// emits an error at `func` and fails.
LogicalResult parseInsertObserversOptions(func::FuncOp func, StringRef targets,
                                          ArrayRef<std::string> ops,
                                          InsertObserversOptions &options);

/// Inserts one qlow.observe probe after each value `options` selects that has
/// none yet, and routes every other use of the value through it. Names are
/// stable and unique within the function (Passes.td gives the scheme).
/// Returns the number of probes inserted.
unsigned insertObservers(func::FuncOp func,
                         const InsertObserversOptions &options);

/// Replaces every qlow.observe in `func` by its input. Returns how many.
unsigned stripObservers(func::FuncOp func);

/// The names qlow-insert-observers gives (Passes.td): `values` maps each
/// entry-block argument and op result to its probe name, `ops` maps each op
/// with results to its name (the probe name of its result, without the
/// `#<result number>` of ops with several results). qlow-quantize finds
/// calibrated ranges and per-layer precision rules by these names.
struct ProbeNames {
  llvm::DenseMap<Value, std::string> values;
  llvm::DenseMap<Operation *, std::string> ops;
};
ProbeNames computeProbeNames(func::FuncOp func);

/// The qlow.observe ops of `func`'s body, in program order.
SmallVector<ObserveOp> collectObservers(func::FuncOp func);

} // namespace mlir::qlow

#endif // QLOW_DIALECT_QLOW_TRANSFORMS_OBSERVERS_H
