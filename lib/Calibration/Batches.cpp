//===- Batches.cpp - calibration batches and tool outputs -----------------===//
//
// The batch listing, argument reading, result exposure and atomic output
// writing that qlow-calibrate and qlow-error-report share. Messages are the
// tools' own (their tests check them), without the tool prefix.
//
//===----------------------------------------------------------------------===//

#include "qlow/Calibration/Batches.h"

#include "qlow/Reference/Npy.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir;
namespace ref = ::qlow::ref;

/// An error holding `message`.
static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::vector<mlir::qlow::Batch>>
mlir::qlow::listBatches(StringRef inputDir, ArrayRef<std::string> batchLists,
                        StringRef name, unsigned numArgs) {
  std::vector<Batch> batches;
  auto filesIn = [&](StringRef dir) {
    std::vector<std::string> paths;
    for (unsigned i = 0; i < numArgs; ++i) {
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path, name + "." + Twine(i) + ".npy");
      paths.push_back(path.str().str());
    }
    return paths;
  };
  if (!inputDir.empty()) {
    if (!llvm::sys::fs::is_directory(inputDir))
      return makeError(inputDir + ": not a directory");
    std::vector<std::string> subdirs;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(inputDir, ec), end;
         it != end && !ec; it.increment(ec))
      if (llvm::sys::fs::is_directory(it->path()))
        subdirs.push_back(it->path());
    if (ec)
      return makeError(inputDir + ": " + ec.message());
    std::sort(subdirs.begin(), subdirs.end());
    for (const std::string &dir : subdirs)
      batches.push_back({dir, filesIn(dir)});
    if (batches.empty()) {
      Batch single{inputDir.str(), filesIn(inputDir)};
      if (numArgs == 0 || llvm::sys::fs::exists(single.paths.front()))
        batches.push_back(std::move(single));
    }
    if (batches.empty())
      return makeError(inputDir +
                       " holds no batch: expected subdirectories "
                       "with " +
                       name + ".<i>.npy files (or " + name +
                       ".0.npy in it for a single batch)");
  } else {
    for (const std::string &list : batchLists) {
      Batch batch;
      batch.label = "--batch " + list;
      for (StringRef path : llvm::split(list, ','))
        if (!path.empty())
          batch.paths.push_back(path.str());
      if (batch.paths.size() != numArgs)
        return makeError("'" + name + "' takes " + Twine(numArgs) +
                         " inputs, but --batch " + list + " gives " +
                         Twine(batch.paths.size()));
      batches.push_back(std::move(batch));
    }
  }
  for (const Batch &batch : batches)
    for (const std::string &path : batch.paths)
      if (!llvm::sys::fs::exists(path))
        return makeError(path + ": no such file (input of batch " +
                         batch.label + ")");
  return batches;
}

llvm::Expected<ref::Tensor>
mlir::qlow::readArgument(const std::string &path, const ref::TensorType &type,
                         unsigned index) {
  auto array = ref::readNpy(path);
  if (!array.ok())
    return makeError(path + ": " + array.status.message());
  if (array->shape != type.shape)
    return makeError(path + ": shape " + ref::shapeToString(array->shape) +
                     " does not match the shape " +
                     ref::shapeToString(type.shape) + " of argument " +
                     Twine(index));
  if (type.isFloat()) {
    if (!array->isFloat())
      return makeError(path + ": dtype " + array->dtype +
                       " given for argument " + Twine(index) + " of type " +
                       type.str() + ", which needs float32 (or float64) data");
    return ref::Tensor::makeFloat(type.shape, array->f);
  }
  if (array->isFloat())
    return makeError(path + ": dtype " + array->dtype + " given for argument " +
                     Twine(index) + " of type " + type.str() +
                     ", which needs integers");
  ref::Tensor tensor = ref::Tensor::zeros(type);
  tensor.i = array->i;
  ref::Status status = ref::verifyTensor(tensor);
  if (!status.ok())
    return makeError(path + ": " + status.message());
  return tensor;
}

void mlir::qlow::appendResults(func::FuncOp func, ValueRange values) {
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  SmallVector<Value> operands(ret.getOperands());
  operands.append(values.begin(), values.end());
  OpBuilder builder(ret);
  func::ReturnOp::create(builder, ret.getLoc(), operands);
  ret.erase();
  func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                 ValueRange(operands).getTypes()));
}

llvm::Error mlir::qlow::writeFilesAtomically(
    ArrayRef<std::pair<std::string, std::string>> outputs) {
  std::vector<llvm::SmallString<256>> temps;
  auto removeTemps = [&]() {
    for (const llvm::SmallString<256> &tmp : temps)
      llvm::sys::fs::remove(tmp);
  };
  for (const auto &[path, text] : outputs) {
    llvm::SmallString<256> tmp;
    int fd = -1;
    if (std::error_code ec =
            llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%", fd, tmp)) {
      removeTemps();
      return makeError("cannot write " + path + ": " + ec.message());
    }
    temps.push_back(tmp);
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << text;
    os.close();
    if (os.has_error()) {
      os.clear_error();
      removeTemps();
      return makeError("cannot write " + path);
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    if (std::error_code ec =
            llvm::sys::fs::rename(temps[i], outputs[i].first)) {
      removeTemps();
      return makeError("cannot write " + outputs[i].first + ": " +
                       ec.message());
    }
  return llvm::Error::success();
}
