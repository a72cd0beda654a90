//===- InputChecks.cpp - checks on tool input before parsing --------------===//
//
// Upstream MLIR's parser recurses once per nesting level and has no depth
// limit, so a deeply nested (usually hostile or corrupted) file overflows the
// stack. A linear pre-scan bounds the depth first.
//
//===----------------------------------------------------------------------===//

#include "qlow/Support/InputChecks.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

llvm::LogicalResult mlir::qlow::checkNestingDepth(llvm::SourceMgr &sourceMgr,
                                                  unsigned bufferId,
                                                  unsigned limit) {
  llvm::StringRef text = sourceMgr.getMemoryBuffer(bufferId)->getBuffer();
  unsigned depth = 0;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (c == '"') {
      // Skip a string literal, honouring backslash escapes.
      for (++i; i < e && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      continue;
    }
    if (c == '/' && i + 1 < e && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == llvm::StringRef::npos)
        break;
      continue;
    }
    if (c == '(' || c == '[' || c == '{' || c == '<') {
      if (++depth > limit) {
        sourceMgr.PrintMessage(
            llvm::SMLoc::getFromPointer(text.data() + i),
            llvm::SourceMgr::DK_Error,
            "input nests brackets more than " + llvm::Twine(limit) +
                " levels deep; qlow rejects it rather than overflow the "
                "parser's stack");
        return llvm::failure();
      }
    } else if ((c == ')' || c == ']' || c == '}' ||
                (c == '>' && (i == 0 || text[i - 1] != '-'))) &&
               depth > 0) {
      --depth;
    }
  }
  return llvm::success();
}
