//===- InsertObservers.cpp - qlow-insert-observers, qlow-strip-observers --===//
//
// Places named qlow.observe probes on the f32 values that calibration
// measures (activations, not constant weights), and removes them again.
// Passes.td describes what is observed and how probes are named.
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/Transforms/Observers.h"
#include "dialects/Qlow/Transforms/Passes.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "dialects/Qlow/IR/QuantTypeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Debug.h"

#include <algorithm>
#include <string>
#include <vector>

#define DEBUG_TYPE "qlow-insert-observers"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWINSERTOBSERVERSPASS
#define GEN_PASS_DEF_QLOWSTRIPOBSERVERSPASS
#include "dialects/Qlow/Transforms/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;
using namespace mlir::qlow;

//===----------------------------------------------------------------------===//
// What is observed
//===----------------------------------------------------------------------===//

ArrayRef<StringRef> mlir::qlow::defaultObservedOps() {
  static const StringRef names[] = {
      "qlow.matmul",     "qlow.add",      "qlow.mul",
      "qlow.gelu",       "qlow.silu",     "qlow.softmax",
      "qlow.layer_norm", "qlow.rms_norm", "qlow.attention"};
  return names;
}

ArrayRef<StringRef> mlir::qlow::observableOps() {
  static const StringRef names[] = {
      "qlow.matmul",    "qlow.add",     "qlow.mul",        "qlow.gelu",
      "qlow.silu",      "qlow.softmax", "qlow.layer_norm", "qlow.rms_norm",
      "qlow.attention", "qlow.rope",    "qlow.embedding"};
  return names;
}

SmallVector<Value> mlir::qlow::dataOperands(Operation *op) {
  return llvm::TypeSwitch<Operation *, SmallVector<Value>>(op)
      .Case<MatmulOp, AddOp, MulOp>([](auto op) -> SmallVector<Value> {
        return {op.getLhs(), op.getRhs()};
      })
      .Case<AttentionOp>([](AttentionOp op) -> SmallVector<Value> {
        return {op.getQ(), op.getK(), op.getV()};
      })
      .Case<GeluOp, SiluOp, SoftmaxOp, LayerNormOp, RmsNormOp, RopeOp>(
          [](auto op) -> SmallVector<Value> { return {op.getInput()}; })
      .Default([](Operation *) { return SmallVector<Value>(); });
}

LogicalResult
mlir::qlow::parseInsertObserversOptions(func::FuncOp func, StringRef targets,
                                        ArrayRef<std::string> ops,
                                        InsertObserversOptions &options) {
  if (targets == "activations") {
    options.targets = ObserverTargets::Activations;
  } else if (targets == "all") {
    options.targets = ObserverTargets::All;
  } else {
    return func.emitError()
           << "qlow-insert-observers: unknown targets='" << targets
           << "'; expected 'activations' (the data operands and results of "
              "the ops in ops=) or 'all' (every f32 value that depends on an "
              "argument)";
  }
  if (!ops.empty() && options.targets == ObserverTargets::All)
    return func.emitError()
           << "qlow-insert-observers: ops= selects the ops of "
              "targets=activations; targets=all observes every f32 value, so "
              "drop one of the two options";
  options.ops.clear();
  for (const std::string &name : ops) {
    if (!llvm::is_contained(observableOps(), StringRef(name))) {
      InFlightDiagnostic diag = func.emitError()
                                << "qlow-insert-observers: cannot observe '"
                                << name << "'; ops= accepts";
      for (StringRef known : observableOps())
        diag << " " << known;
      return diag;
    }
    options.ops.push_back(name);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Probe names
//===----------------------------------------------------------------------===//

namespace {
/// The name a location carries (the first NameLoc inside it), or empty.
StringRef locationName(Location loc) {
  if (auto named = loc->findInstanceOf<NameLoc>())
    return named.getName().getValue();
  return {};
}

/// Assigns every op and entry-block argument of a function its probe name,
/// before anything is selected, so that a value's name does not depend on
/// which other values are observed: the location's name, else
/// `<func>.<kind>_<k>` (k counts the ops of that kind in program order) or
/// `<func>.arg<i>`; made unique, in program order (arguments first), by the
/// first free `_<n>` suffix. Names of probes already in the function are
/// taken first.
class ProbeNamer {
public:
  explicit ProbeNamer(func::FuncOp func) {
    std::string funcName = func.getSymName().str();
    func.walk([&](ObserveOp op) { used.insert(op.getName()); });
    for (BlockArgument arg : func.getArguments()) {
      StringRef fromLoc = locationName(arg.getLoc());
      argNames.push_back(
          unique(!fromLoc.empty()
                     ? fromLoc.str()
                     : funcName + ".arg" + std::to_string(arg.getArgNumber())));
    }
    llvm::StringMap<unsigned> counters;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<ObserveOp, func::FuncOp>(op) ||
          op->hasTrait<OpTrait::IsTerminator>())
        return;
      StringRef opName = op->getName().getStringRef();
      unsigned k = counters[opName]++;
      StringRef fromLoc = locationName(op->getLoc());
      if (!fromLoc.empty()) {
        opNames[op] = unique(fromLoc.str());
        return;
      }
      std::string kind = opName.starts_with("qlow.")
                             ? opName.drop_front(5).str()
                             : opName.str();
      std::replace(kind.begin(), kind.end(), '.', '_');
      opNames[op] = unique(funcName + "." + kind + "_" + std::to_string(k));
    });
  }

  /// The probe name of `value`: its argument's or defining op's name, with
  /// `#<result number>` for ops with several results.
  std::string nameOf(Value value) const {
    if (auto arg = dyn_cast<BlockArgument>(value))
      return argNames[arg.getArgNumber()];
    Operation *op = value.getDefiningOp();
    std::string base = opNames.lookup(op);
    if (op->getNumResults() > 1)
      base += "#" + std::to_string(cast<OpResult>(value).getResultNumber());
    return base;
  }

private:
  std::string unique(std::string base) {
    std::string name = base;
    for (unsigned n = 1; used.contains(name); ++n)
      name = base + "_" + std::to_string(n);
    used.insert(name);
    return name;
  }

  llvm::StringSet<> used;
  std::vector<std::string> argNames;
  llvm::DenseMap<Operation *, std::string> opNames;
};

/// True when `value` already flows through a probe.
bool isObserved(Value value) {
  if (value.getDefiningOp<ObserveOp>())
    return true;
  return llvm::any_of(value.getUsers(),
                      [](Operation *user) { return isa<ObserveOp>(user); });
}
} // namespace

//===----------------------------------------------------------------------===//
// insertObservers / stripObservers
//===----------------------------------------------------------------------===//

unsigned mlir::qlow::insertObservers(func::FuncOp func,
                                     const InsertObserversOptions &options) {
  if (func.isExternal())
    return 0;
  Block &entry = func.getBody().front();

  // Which values depend on an argument; the rest (constants, weights
  // dequantized or reshaped, tensor.empty) are never observed.
  llvm::DenseSet<Value> dependent;
  for (BlockArgument arg : entry.getArguments())
    dependent.insert(arg);
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    for (Region &region : op->getRegions())
      for (Block &block : region)
        if (&block != &entry)
          for (BlockArgument arg : block.getArguments())
            dependent.insert(arg);
    if (llvm::any_of(op->getOperands(),
                     [&](Value v) { return dependent.contains(v); }))
      for (Value result : op->getResults())
        dependent.insert(result);
  });

  // Arguments of nested blocks are not observed: a probe there could not
  // be named stably, and the evaluators run single-block functions.
  auto wanted = [&](Value value) {
    if (auto arg = dyn_cast<BlockArgument>(value))
      if (arg.getOwner() != &entry)
        return false;
    return isF32Tensor(value.getType()) && dependent.contains(value) &&
           !isObserved(value);
  };

  // The values to observe, in program order: arguments, then results.
  llvm::SetVector<Value> selected;
  if (options.targets == ObserverTargets::All) {
    for (BlockArgument arg : entry.getArguments())
      if (wanted(arg))
        selected.insert(arg);
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<ObserveOp, func::FuncOp>(op))
        return;
      for (Value result : op->getResults())
        if (wanted(result))
          selected.insert(result);
    });
  } else {
    ArrayRef<StringRef> defaults = defaultObservedOps();
    llvm::StringSet<> ops;
    if (options.ops.empty())
      ops.insert(defaults.begin(), defaults.end());
    else
      ops.insert(options.ops.begin(), options.ops.end());
    // An operand is observed where it is defined, so order the candidates
    // by definition: arguments first, then op results as the walk meets them.
    llvm::DenseSet<Value> candidates;
    func.walk([&](Operation *op) {
      if (!ops.contains(op->getName().getStringRef()))
        return;
      for (Value operand : dataOperands(op))
        if (wanted(operand))
          candidates.insert(operand);
      for (Value result : op->getResults())
        if (wanted(result))
          candidates.insert(result);
    });
    for (BlockArgument arg : entry.getArguments())
      if (candidates.contains(arg))
        selected.insert(arg);
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      for (Value result : op->getResults())
        if (candidates.contains(result))
          selected.insert(result);
    });
  }

  ProbeNamer namer(func);
  OpBuilder builder(func.getContext());
  Operation *lastArgumentProbe = nullptr;
  for (Value value : selected) {
    std::string name = namer.nameOf(value);
    Location loc = value.getLoc();
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      // Argument probes open the body, in argument order.
      if (lastArgumentProbe)
        builder.setInsertionPointAfter(lastArgumentProbe);
      else
        builder.setInsertionPointToStart(arg.getOwner());
    } else {
      builder.setInsertionPointAfter(value.getDefiningOp());
    }
    auto probe = ObserveOp::create(builder, loc, value.getType(), value,
                                   builder.getStringAttr(name));
    if (isa<BlockArgument>(value))
      lastArgumentProbe = probe;
    value.replaceAllUsesExcept(probe.getOutput(), probe);
    LLVM_DEBUG(llvm::dbgs() << "observe " << name << "\n");
  }
  return selected.size();
}

ProbeNames mlir::qlow::computeProbeNames(func::FuncOp func) {
  ProbeNames names;
  if (func.isExternal())
    return names;
  ProbeNamer namer(func);
  for (BlockArgument arg : func.getArguments())
    names.values[arg] = namer.nameOf(arg);
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<ObserveOp, func::FuncOp>(op) ||
        op->hasTrait<OpTrait::IsTerminator>())
      return;
    for (Value result : op->getResults())
      names.values[result] = namer.nameOf(result);
    if (op->getNumResults() == 1)
      names.ops[op] = names.values[op->getResult(0)];
    else if (op->getNumResults() > 1)
      names.ops[op] = StringRef(namer.nameOf(op->getResult(0))).split('#').first.str();
  });
  return names;
}

SmallVector<ObserveOp> mlir::qlow::collectObservers(func::FuncOp func) {
  SmallVector<ObserveOp> probes;
  func.walk<WalkOrder::PreOrder>([&](ObserveOp op) { probes.push_back(op); });
  return probes;
}

unsigned mlir::qlow::stripObservers(func::FuncOp func) {
  SmallVector<ObserveOp> probes = collectObservers(func);
  for (ObserveOp probe : probes) {
    probe.getOutput().replaceAllUsesWith(probe.getInput());
    probe.erase();
  }
  return probes.size();
}

//===----------------------------------------------------------------------===//
// The passes
//===----------------------------------------------------------------------===//

namespace {
struct QlowInsertObserversPass
    : mlir::qlow::impl::QlowInsertObserversPassBase<QlowInsertObserversPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    InsertObserversOptions options;
    if (failed(parseInsertObserversOptions(func, targets, ops, options)))
      return signalPassFailure();
    if (insertObservers(func, options) == 0)
      markAllAnalysesPreserved();
  }
};

struct QlowStripObserversPass
    : mlir::qlow::impl::QlowStripObserversPassBase<QlowStripObserversPass> {
  using Base::Base;

  void runOnOperation() override {
    if (stripObservers(getOperation()) == 0)
      markAllAnalysesPreserved();
  }
};
} // namespace
