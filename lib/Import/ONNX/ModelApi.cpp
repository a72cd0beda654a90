//===- ModelApi.cpp - C API of a compiled ONNX model library --------------===//
//
// Writes `<name>_create`, `<name>_run` and `<name>_destroy` (static inline C
// over the `qlow_<name>` entry point of qlow-compile's header) and the
// names, element types and shapes of the model's inputs and outputs. The
// weights are constants of the object, so creating a model allocates only
// its handle.
//
//===----------------------------------------------------------------------===//

#include "qlow/Import/ONNX/ImportONNX.h"
#include "qlow/Support/CTypes.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

FailureOr<std::string> mlir::qlow::emitModelApi(
    func::FuncOp func, StringRef name, ArrayRef<std::string> inputNames,
    ArrayRef<std::string> outputNames) {
  std::string text;
  llvm::raw_string_ostream os(text);
  struct Port {
    std::string cType, name;
    RankedTensorType type;
  };
  SmallVector<Port> ins, outs;
  auto collect = [&](TypeRange types, ArrayRef<std::string> names,
                     SmallVector<Port> &into) -> LogicalResult {
    for (auto [i, t] : llvm::enumerate(types)) {
      auto tensor = dyn_cast<RankedTensorType>(t);
      if (!tensor || !tensor.hasStaticShape())
        return func.emitError() << "model API: argument or result " << i
                                << " is not a static tensor";
      auto c = qlow::cElementType(tensor.getElementType());
      if (failed(c))
        return func.emitError() << "model API: no C type for "
                                << tensor.getElementType();
      into.push_back({*c, i < names.size() ? names[i] : "", tensor});
    }
    return success();
  };
  if (failed(collect(func.getArgumentTypes(), inputNames, ins)) ||
      failed(collect(func.getResultTypes(), outputNames, outs)))
    return failure();

  std::string n = name.str();
  os << "\n/* Model library API of " << n
     << ": create a model, run it on plain buffers (one per input, then one\n"
        " * per output, row-major, of the types and shapes below; outputs are\n"
        " * written into buffers the caller owns), destroy it. The weights are\n"
        " * constants of the library. " << n
     << "_run returns 0, or -1 on a null model, array or buffer. */\n"
        "#include <stdlib.h>\n\n";
  auto table = [&](const char *what, ArrayRef<Port> ports) {
    os << "enum { " << n << "_num_" << what << "s = " << ports.size()
       << " };\n";
    os << "static const char *const " << n << "_" << what << "_names[] = {";
    for (auto [i, p] : llvm::enumerate(ports))
      os << (i ? ", " : "") << '"' << p.name << '"';
    os << "};\n";
    os << "static const char *const " << n << "_" << what << "_types[] = {";
    for (auto [i, p] : llvm::enumerate(ports))
      os << (i ? ", " : "") << '"' << p.cType << '"';
    os << "};\n";
    os << "static const int " << n << "_" << what << "_ranks[] = {";
    for (auto [i, p] : llvm::enumerate(ports))
      os << (i ? ", " : "") << p.type.getRank();
    os << "};\n";
    os << "static const int64_t " << n << "_" << what << "_shapes[][8] = {";
    for (auto [i, p] : llvm::enumerate(ports)) {
      os << (i ? ", " : "") << "{";
      for (auto [j, d] : llvm::enumerate(p.type.getShape()))
        os << (j ? ", " : "") << d;
      os << "}";
    }
    os << "};\n";
  };
  for (const Port &p : llvm::concat<const Port>(ins, outs))
    if (p.type.getRank() > 8)
      return func.emitError() << "model API: rank above 8";
  table("input", ins);
  table("output", outs);
  os << "\ntypedef struct " << n << "_model { int unused; } " << n
     << "_model;\n\n";
  os << "static inline " << n << "_model *" << n << "_create(void) {\n"
     << "  return (" << n << "_model *)calloc(1, sizeof(" << n
     << "_model));\n}\n\n";
  os << "static inline int " << n << "_run(" << n
     << "_model *model, const void *const *inputs, void *const *outputs) {\n"
     << "  if (!model || !inputs || !outputs)\n    return -1;\n"
     << "  for (int i = 0; i < " << n << "_num_inputs; ++i)\n"
     << "    if (!inputs[i])\n      return -1;\n"
     << "  for (int i = 0; i < " << n << "_num_outputs; ++i)\n"
     << "    if (!outputs[i])\n      return -1;\n"
     << "  qlow_" << n << "(";
  bool first = true;
  for (auto [i, p] : llvm::enumerate(ins)) {
    os << (first ? "" : ", ") << "(const " << p.cType << " *)inputs[" << i
       << "]";
    first = false;
  }
  for (auto [i, p] : llvm::enumerate(outs)) {
    os << (first ? "" : ", ") << "(" << p.cType << " *)outputs[" << i << "]";
    first = false;
  }
  os << ");\n  return 0;\n}\n\n";
  os << "static inline void " << n << "_destroy(" << n
     << "_model *model) { free(model); }\n";
  return text;
}
