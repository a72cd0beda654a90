//===- Batches.h - calibration batches and tool outputs ---------*- C++ -*-===//
//
// What qlow-calibrate and qlow-error-report share around the evaluation of a
// function on .npy batches: listing the batches of --input-dir or --batch,
// reading each argument against the function's signature, exposing extra
// values as function results, and writing the output files atomically.
// Failures come back as llvm::Error holding the message; each tool prints it
// with its own prefix.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_CALIBRATION_BATCHES_H
#define QLOW_CALIBRATION_BATCHES_H

#include "qlow/Reference/Types.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/Error.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::qlow {

/// One batch: a label for messages (its directory, or "--batch <list>") and
/// the .npy file of each argument, in order.
struct Batch {
  std::string label;
  std::vector<std::string> paths;
};

/// Lists the batches for a function `name` with `numArgs` arguments, from
/// `inputDir` when it is not empty (each subdirectory, in name order, is one
/// batch holding <name>.<i>.npy for argument i; a directory without
/// subdirectories that holds <name>.0.npy is a single batch), else from
/// `batchLists` (one comma-separated list of files per batch). Fails if a
/// list has the wrong number of files or if any file does not exist.
llvm::Expected<std::vector<Batch>>
listBatches(llvm::StringRef inputDir, llvm::ArrayRef<std::string> batchLists,
            llvm::StringRef name, unsigned numArgs);

/// Reads argument `index` of reference type `type` from the .npy at `path`,
/// checking its shape and kind (float data for a float argument, integers in
/// range for an integer or quantized one).
llvm::Expected<::qlow::ref::Tensor>
readArgument(const std::string &path, const ::qlow::ref::TensorType &type,
             unsigned index);

/// Appends `values` to the results of the single-block function `func`,
/// after its own, and updates its type, so that one evaluation also returns
/// them.
void appendResults(func::FuncOp func, ValueRange values);

/// Writes every (path, text) of `outputs` atomically and together: each text
/// goes to a temporary file beside its destination, and the temporaries are
/// renamed over the destinations only once all of them were written, so that
/// an error leaves no output (and existing files as they were).
llvm::Error
writeFilesAtomically(ArrayRef<std::pair<std::string, std::string>> outputs);

} // namespace mlir::qlow

#endif // QLOW_CALIBRATION_BATCHES_H
