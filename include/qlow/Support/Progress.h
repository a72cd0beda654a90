//===- Progress.h - progress of long compilations on stderr ----*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// qlow-compile and qlow-run report how a compilation goes, phase by phase
// (import, quantize, lower, codegen), on stderr and nowhere else:
//
//  * --progress: always. On a terminal a status line is rewritten in place
//    as the passes run (pass k of n, on which function); elsewhere (a log, a
//    pipe) only one line per phase start and end, so logs stay short and
//    stable.
//  * no flag (auto): only when stderr is a terminal and only once the
//    compilation has taken more than a second; quick compilations and every
//    redirected stderr stay silent.
//  * --progress=false: never.
//
// The tools install the process-wide reporter; the library (the JIT, the
// emitters) reports through CompileProgress::get(), which is null when
// nothing is to be printed, so the cost of a silent reporter is one load.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_SUPPORT_PROGRESS_H
#define QLOW_SUPPORT_PROGRESS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace mlir {
class PassManager;
namespace qlow {

class CompileProgress {
public:
  enum class Mode { Off, Auto, On };

  /// Installs the process-wide reporter for `mode` (Off: none). `tool` starts
  /// every line (`qlow-run: import: ...`). In Auto mode nothing is printed
  /// unless stderr is a terminal, nor before `autoDelaySeconds` have passed.
  static void install(Mode mode, StringRef tool, double autoDelaySeconds = 1.0);

  /// The Mode that a tool's `--progress` flag asks for: On or Off when given
  /// (`--progress`, `--progress=false`), Auto otherwise.
  static Mode modeFromFlag(bool value, bool given) {
    return !given ? Mode::Auto : value ? Mode::On : Mode::Off;
  }

  /// The installed reporter, or null when none would print anything.
  static CompileProgress *get();

  /// Starts phase `name` (import, quantize, lower, codegen), ending the
  /// previous one. `detail` says what the phase works on.
  void startPhase(StringRef name, const Twine &detail = "");

  /// Ends the current phase with a summary (counts of ops, passes).
  void endPhase(const Twine &summary = "");

  /// Reports each pass that `pm` runs (pass k of n, the function it runs
  /// on) in the status line, and counts them for the phase's summary.
  void instrument(PassManager &pm);

  /// Ends the last phase and prints the total time.
  void finish();

  /// Erases the status line (before a tool prints an error).
  void clearStatus();

  /// Makes every diagnostic on `context` erase the status line first, so
  /// that errors start on a line of their own. Register it after the tool's
  /// own handler (handlers run newest first).
  static void clearStatusOnDiagnostics(MLIRContext &context);

  /// "N ops (qlow.matmul x3, qlow.attention x1, ...)": the ops of `module`
  /// and how many of each qlow op, for the phases' summaries.
  static std::string summarizeOps(ModuleOp module);

  /// Called by the pass instrumentation.
  void passStarted(StringRef pass, StringRef on);

private:
  CompileProgress(StringRef tool, bool terminal, bool delayed, double delay);
  /// Prints a permanent line (held back while an auto reporter waits).
  void line(const std::string &text);
  /// Rewrites the status line in place (terminals only).
  void status(const std::string &text);
  double elapsed() const;
  bool mayPrint();

  std::string tool;
  bool terminal;
  bool delayed;
  double delay;
  std::chrono::steady_clock::time_point start, phaseStart;
  std::string phase;
  std::vector<std::string> heldBack;
  bool statusShown = false;
  unsigned passesRun = 0, passesTotal = 0;
  double lastStatus = -1.0;
  /// Passes on nested pipelines may report from several threads.
  std::mutex mutex;
};

} // namespace qlow
} // namespace mlir

#endif // QLOW_SUPPORT_PROGRESS_H
