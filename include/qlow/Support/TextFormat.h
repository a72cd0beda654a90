//===- TextFormat.h - numbers and strings in the tools' text reports ------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_SUPPORT_TEXTFORMAT_H
#define QLOW_SUPPORT_TEXTFORMAT_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::qlow {

/// The shortest decimal (%.{1..17}g) that reads back as the same double;
/// "nan", "inf" and "-inf" for those values.
std::string shortestDouble(double v);

/// `s` as a JSON string literal: quoted, with '"' and '\' escaped and
/// control characters as \u00XX.
std::string jsonString(llvm::StringRef s);

} // namespace mlir::qlow

#endif // QLOW_SUPPORT_TEXTFORMAT_H
