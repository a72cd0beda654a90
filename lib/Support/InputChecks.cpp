//===- InputChecks.cpp - checks on tool input before parsing --------------===//
//
// Upstream MLIR's parser recurses once per nesting level and has no depth
// limit, so a deeply nested (usually hostile or corrupted) file overflows the
// stack. A linear pre-scan bounds the depth first.
//
//===----------------------------------------------------------------------===//

#include "qlow/Support/InputChecks.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>

using namespace mlir;

namespace {
/// Runs `parse` in a CrashRecoveryContext; false if it crashed.
bool parseSurvives(function_ref<void()> parse) {
  llvm::CrashRecoveryContext::Enable();
  llvm::CrashRecoveryContext recovery;
  return recovery.RunSafely(parse);
}

/// The error added when the parser crashed, at the start of `sourceMgr`'s
/// main buffer.
void reportParserCrash(llvm::SourceMgr &sourceMgr, unsigned bufferId) {
  sourceMgr.PrintMessage(
      llvm::errs(),
      llvm::SMLoc::getFromPointer(
          sourceMgr.getMemoryBuffer(bufferId)->getBufferStart()),
      llvm::SourceMgr::DK_Error,
      "MLIR's parser failed on this input after the errors above (if any); "
      "it is not valid MLIR");
}
} // namespace

OwningOpRef<ModuleOp> mlir::qlow::parseModuleSafely(llvm::SourceMgr &sourceMgr,
                                                    MLIRContext *context) {
  OwningOpRef<ModuleOp> module;
  if (parseSurvives(
          [&] { module = parseSourceFile<ModuleOp>(sourceMgr, context); }))
    return module;
  reportParserCrash(sourceMgr, sourceMgr.getMainFileID());
  return nullptr;
}

bool mlir::qlow::parserCrashesOn(llvm::SourceMgr &sourceMgr, unsigned bufferId,
                                 const DialectRegistry &registry) {
  // Leaked if the parser crashes, with what it had built.
  auto context = std::make_unique<MLIRContext>(
      registry, MLIRContext::Threading::DISABLED);
  // A source manager of its own over the same bytes, so that the
  // diagnostics' locations name the input file as the caller's do.
  llvm::SourceMgr scratch;
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(bufferId);
  scratch.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(buffer->getBuffer(),
                                       buffer->getBufferIdentifier(),
                                       /*RequiresNullTerminator=*/false),
      llvm::SMLoc());
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  SourceMgrDiagnosticHandler handler(scratch, context.get(), os);
  OwningOpRef<ModuleOp> module;
  if (parseSurvives(
          [&] { module = parseSourceFile<ModuleOp>(scratch, context.get()); }))
    return false;
  (void)context.release();
  llvm::errs() << diagnostics;
  reportParserCrash(scratch, scratch.getMainFileID());
  return true;
}

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
