//===- MergeSiblingForalls.cpp - one parallel region for sibling foralls --===//
//
// qlow-merge-sibling-foralls: two scf.foralls of one block with the same
// iteration space, the second independent of the first, become one loop
// (upstream's fuseIndependentSiblingForallLoops), so that the OpenMP threads
// fork and join once for both (a decode step's q, k and v projections).
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#define DEBUG_TYPE "qlow-merge-sibling-foralls"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWMERGESIBLINGFORALLSPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {
/// Whether `a` and `b` iterate over the same static space, one iteration per
/// point, with no mapping (the CPU kernels' loops).
bool sameIterationSpace(scf::ForallOp a, scf::ForallOp b) {
  if (a.getMapping() || b.getMapping())
    return false;
  auto equalStatic = [](ArrayRef<int64_t> x, ArrayRef<int64_t> y) {
    return x == y && !llvm::is_contained(x, ShapedType::kDynamic);
  };
  return equalStatic(a.getStaticLowerBound(), b.getStaticLowerBound()) &&
         equalStatic(a.getStaticUpperBound(), b.getStaticUpperBound()) &&
         equalStatic(a.getStaticStep(), b.getStaticStep());
}

/// Merges `first` with the next scf.forall of its block, `second`, when
/// they have the same iteration space and `second` reads nothing that
/// `first` computes (its results, or an op between them that uses them,
/// transitively). The ops between them that do depend on `first` move after
/// `second` (all of them and both loops free of memory effects: tensors
/// only, so the order of independent ops is free), and upstream's
/// fuseIndependentSiblingForallLoops puts both bodies in one loop after
/// `second`'s place. Returns the merged loop, or null where nothing changed.
scf::ForallOp mergeWithNext(RewriterBase &rewriter, scf::ForallOp first) {
  if (!isMemoryEffectFree(first))
    return nullptr;
  scf::ForallOp second;
  SmallVector<Operation *> between;
  for (Operation *op = first->getNextNode(); op; op = op->getNextNode()) {
    if ((second = dyn_cast<scf::ForallOp>(op)))
      break;
    between.push_back(op);
  }
  if (!second || !sameIterationSpace(first, second) ||
      !isMemoryEffectFree(second))
    return nullptr;
  // The ops between the loops that use `first`'s results (transitively).
  llvm::SetVector<Operation *> dependent;
  dependent.insert(first);
  for (Operation *op : between) {
    bool uses = false;
    op->walk([&](Operation *nested) {
      for (Value operand : nested->getOperands())
        if (Operation *def = operand.getDefiningOp())
          uses |= dependent.contains(def);
    });
    if (uses)
      dependent.insert(op);
  }
  // `second` must not read any of them.
  SetVector<Value> usedAbove;
  getUsedValuesDefinedAbove(second.getRegion(), usedAbove);
  for (Value operand : second->getOperands())
    usedAbove.insert(operand);
  for (Value v : usedAbove)
    if (Operation *def = v.getDefiningOp())
      if (dependent.contains(def))
        return nullptr;
  for (Operation *op : dependent)
    if (op != first.getOperation() && !isMemoryEffectFree(op))
      return nullptr;
  // The dependent ops go after `second`, in their order; the others stay
  // before it (they dominate the merged loop, which takes `second`'s place).
  Operation *anchor = second;
  for (Operation *op : dependent) {
    if (op == first.getOperation())
      continue;
    rewriter.moveOpAfter(op, anchor);
    anchor = op;
  }
  return fuseIndependentSiblingForallLoops(first, second, rewriter);
}

struct QlowMergeSiblingForallsPass
    : qlow::impl::QlowMergeSiblingForallsPassBase<QlowMergeSiblingForallsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // Top-level loops of the function body, in order; a merged loop is tried
    // again with the loop after it (q and k, then q+k and v).
    SmallVector<scf::ForallOp> loops;
    for (Block &block : getOperation().getBody())
      for (auto loop : block.getOps<scf::ForallOp>())
        loops.push_back(loop);
    for (scf::ForallOp loop : loops) {
      for (scf::ForallOp current = loop; current;) {
        scf::ForallOp next;
        for (Operation *op = current->getNextNode(); op && !next;
             op = op->getNextNode())
          next = dyn_cast<scf::ForallOp>(op);
        if (!next)
          break;
        current = mergeWithNext(rewriter, current);
        // The merge erased `next`: it is no longer a loop to start from.
        if (current)
          llvm::replace(loops, next, scf::ForallOp());
      }
    }
  }
};
} // namespace
