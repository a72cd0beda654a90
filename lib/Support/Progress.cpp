//===- Progress.cpp - progress of long compilations on stderr -------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//

#include "qlow/Support/Progress.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>

using namespace mlir;
using namespace mlir::qlow;

namespace {

std::unique_ptr<CompileProgress> &installed() {
  static std::unique_ptr<CompileProgress> reporter;
  return reporter;
}

/// Forwards the passes a PassManager runs to the reporter.
struct ProgressInstrumentation : public PassInstrumentation {
  void runBeforePass(Pass *pass, Operation *op) override {
    // Adaptors (nested pipelines) have no flag: their passes report.
    if (pass->getArgument().empty())
      return;
    CompileProgress *progress = CompileProgress::get();
    if (!progress)
      return;
    std::string on;
    if (auto func = dyn_cast<func::FuncOp>(op))
      on = "@" + func.getSymName().str();
    else
      on = op->getName().getStringRef().str();
    progress->passStarted(pass->getArgument(), on);
  }
};

/// The number of passes in a textual pipeline,
/// `builtin.module(a,func.func(b{x=1},c))` -> 3: names not followed by `(`,
/// options in braces skipped.
unsigned countPasses(StringRef pipeline) {
  unsigned count = 0, braces = 0;
  bool inName = false;
  for (size_t i = 0; i <= pipeline.size(); ++i) {
    char c = i < pipeline.size() ? pipeline[i] : ',';
    if (braces) {
      braces += c == '{';
      braces -= c == '}';
      continue;
    }
    if (c == '{') {
      braces = 1;
      continue;
    }
    if (c == '(') {
      inName = false; // An anchor op, not a pass.
    } else if (c == ',' || c == ')') {
      count += inName;
      inName = false;
    } else if (!std::isspace(static_cast<unsigned char>(c))) {
      inName = true;
    }
  }
  return count;
}

} // namespace

CompileProgress::CompileProgress(StringRef tool, bool terminal, bool delayed,
                                 double delay)
    : tool(tool.str()), terminal(terminal), delayed(delayed), delay(delay),
      start(std::chrono::steady_clock::now()), phaseStart(start) {}

void CompileProgress::install(Mode mode, StringRef tool,
                              double autoDelaySeconds) {
  bool terminal = llvm::errs().is_displayed();
  if (mode == Mode::Off || (mode == Mode::Auto && !terminal)) {
    installed().reset();
    return;
  }
  installed().reset(new CompileProgress(tool, terminal, mode == Mode::Auto,
                                        autoDelaySeconds));
}

CompileProgress *CompileProgress::get() { return installed().get(); }

double CompileProgress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

bool CompileProgress::mayPrint() {
  if (!delayed)
    return true;
  if (elapsed() < delay)
    return false;
  // The compilation has become long: say what happened so far, then go on
  // live.
  delayed = false;
  std::vector<std::string> lines = std::move(heldBack);
  for (const std::string &text : lines)
    line(text);
  return true;
}

void CompileProgress::line(const std::string &text) {
  if (!mayPrint()) {
    heldBack.push_back(text);
    return;
  }
  llvm::raw_ostream &os = llvm::errs();
  if (statusShown)
    os << "\r\033[K";
  statusShown = false;
  os << tool << ": " << text << "\n";
  os.flush();
}

void CompileProgress::status(const std::string &text) {
  if (!terminal)
    return;
  // At most ten updates a second: a terminal is slow to redraw.
  double now = elapsed();
  if (now - lastStatus < 0.1 || !mayPrint())
    return;
  lastStatus = now;
  llvm::raw_ostream &os = llvm::errs();
  os << "\r\033[K" << tool << ": " << text;
  os.flush();
  statusShown = true;
}

void CompileProgress::startPhase(StringRef name, const Twine &detail) {
  if (!phase.empty())
    endPhase();
  phase = name.str();
  phaseStart = std::chrono::steady_clock::now();
  passesRun = passesTotal = 0;
  std::string text = detail.str();
  line(phase + (text.empty() ? "" : ": " + text));
}

void CompileProgress::endPhase(const Twine &summary) {
  if (phase.empty())
    return;
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - phaseStart)
                       .count();
  std::string text = summary.str();
  if (passesRun)
    text += (text.empty() ? "" : ", ") +
            llvm::formatv("{0} pass runs", passesRun).str();
  line(llvm::formatv("{0}: done in {1:f2} s{2}", phase, seconds,
                     text.empty() ? "" : ": " + text)
           .str());
  phase.clear();
}

void CompileProgress::instrument(PassManager &pm) {
  std::string pipeline;
  llvm::raw_string_ostream os(pipeline);
  pm.printAsTextualPipeline(os);
  passesTotal += countPasses(pipeline);
  pm.addInstrumentation(std::make_unique<ProgressInstrumentation>());
}

void CompileProgress::passStarted(StringRef pass, StringRef on) {
  std::lock_guard<std::mutex> lock(mutex);
  ++passesRun;
  std::string count =
      passesRun <= passesTotal
          ? llvm::formatv("pass {0} of {1}", passesRun, passesTotal).str()
          : llvm::formatv("pass {0}", passesRun).str();
  status(llvm::formatv("{0}: {1}: {2} on {3}", phase, count, pass, on).str());
}

void CompileProgress::finish() {
  endPhase();
  line(llvm::formatv("compiled in {0:f2} s", elapsed()).str());
}

void CompileProgress::clearStatus() {
  if (!statusShown)
    return;
  llvm::errs() << "\r\033[K";
  llvm::errs().flush();
  statusShown = false;
}

void CompileProgress::clearStatusOnDiagnostics(MLIRContext &context) {
  context.getDiagEngine().registerHandler([](Diagnostic &) {
    if (CompileProgress *progress = CompileProgress::get())
      progress->clearStatus();
    return failure(); // The tool's own handler prints it.
  });
}

std::string CompileProgress::summarizeOps(ModuleOp module) {
  unsigned total = 0;
  llvm::MapVector<StringRef, unsigned> qlowOps;
  module.walk([&](Operation *op) {
    if (op == module.getOperation())
      return;
    ++total;
    StringRef name = op->getName().getStringRef();
    if (name.starts_with("qlow."))
      ++qlowOps[name];
  });
  std::string text = llvm::formatv("{0} ops", total).str();
  if (!qlowOps.empty()) {
    text += " (";
    bool first = true;
    for (auto &[name, count] : qlowOps) {
      text += (first ? "" : ", ") + name.str() + " x" + std::to_string(count);
      first = false;
    }
    text += ")";
  }
  return text;
}
