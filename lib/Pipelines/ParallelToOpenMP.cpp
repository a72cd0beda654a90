//===- ParallelToOpenMP.cpp - scf.parallel to omp.parallel, static split --===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// qlow-parallel-to-openmp: each outermost scf.parallel without reductions
// becomes an omp.parallel region whose threads split the flattened iteration
// space among themselves (OpenMP's static schedule, computed inline).
//
// Written here rather than using upstream's convert-scf-to-openmp for the
// kernels' loops: upstream emits an omp.wsloop, whose translation calls
// __kmpc_for_static_init and ends with a barrier of its own before the
// region's join. Debian's libomp formats debug strings (vsnprintf, malloc)
// inside every __kmpc_for_static_init call, and the extra barrier is a
// second rendezvous of the threads per loop; for a decode step's short
// kernels both showed in profiles. Upstream still lowers what this pass
// leaves (loops with reductions, nested loops).
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWPARALLELTOOPENMPPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {

/// OpenMP's runtime function `name` : () -> i32, declared private in
/// `module` unless it is there already; an error on a symbol of that name
/// that is something else.
FailureOr<func::FuncOp> runtimeFunction(ModuleOp module, StringRef name) {
  MLIRContext *ctx = module.getContext();
  auto type = FunctionType::get(ctx, {}, {IntegerType::get(ctx, 32)});
  if (Operation *existing = SymbolTable::lookupSymbolIn(module, name)) {
    auto fn = dyn_cast<func::FuncOp>(existing);
    if (fn && fn.getFunctionType() == type)
      return fn;
    return existing->emitError()
           << "symbol '" << name
           << "' is not OpenMP's runtime function of type () -> i32, which "
              "qlow-parallel-to-openmp calls to split parallel loops among "
              "threads";
  }
  auto builder = OpBuilder::atBlockBegin(module.getBody());
  auto fn = func::FuncOp::create(builder, module.getLoc(), name, type);
  fn.setPrivate();
  return fn;
}

/// Rewrites `loop` (no reductions) as an omp.parallel region in which each
/// thread runs its static block of the flattened iterations.
void lowerParallelLoop(scf::ParallelOp loop, func::FuncOp threadNum,
                       func::FuncOp numThreads) {
  Location loc = loop.getLoc();
  OpBuilder b(loop);
  auto constant = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value zero = constant(0), one = constant(1);

  // Trip count of each dimension (steps are positive: scf.parallel's
  // verifier), and of the flattened space.
  SmallVector<Value> trips;
  Value total = one;
  for (auto [lower, upper, step] :
       llvm::zip_equal(loop.getLowerBound(), loop.getUpperBound(),
                       loop.getStep())) {
    Value span = arith::SubIOp::create(b, loc, upper, lower);
    span = arith::MaxSIOp::create(b, loc, span, zero);
    Value trip = arith::CeilDivUIOp::create(b, loc, span, step);
    trips.push_back(trip);
    total = arith::MulIOp::create(b, loc, total, trip);
  }

  auto parallel = omp::ParallelOp::create(b, loc);
  Block *region = b.createBlock(&parallel.getRegion());
  b.setInsertionPointToStart(region);
  auto threadValue = [&](func::FuncOp fn) {
    Value v = func::CallOp::create(b, loc, fn).getResult(0);
    return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), v)
        .getResult();
  };
  Value thread = threadValue(threadNum), threads = threadValue(numThreads);
  // Static schedule: `total / threads` iterations each, one more for the
  // first `total % threads` threads.
  Value share = arith::DivUIOp::create(b, loc, total, threads);
  Value rest = arith::RemUIOp::create(b, loc, total, threads);
  Value before = arith::MulIOp::create(b, loc, thread, share);
  Value extras = arith::MinUIOp::create(b, loc, thread, rest);
  Value begin = arith::AddIOp::create(b, loc, before, extras);
  Value takesOneMore = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, thread, rest);
  Value extra = arith::SelectOp::create(b, loc, takesOneMore, one, zero);
  Value count = arith::AddIOp::create(b, loc, share, extra);
  Value end = arith::AddIOp::create(b, loc, begin, count);
  auto flat = scf::ForOp::create(b, loc, begin, end, one);

  // Each flattened index back to the loop's induction variables, the last
  // dimension fastest (as the collapsed omp.wsloop numbered them).
  b.setInsertionPointToStart(flat.getBody());
  unsigned rank = trips.size();
  SmallVector<Value> ivs(rank);
  Value index = flat.getInductionVar();
  for (unsigned i = rank; i-- > 0;) {
    Value position = index;
    if (i > 0) {
      position = arith::RemUIOp::create(b, loc, index, trips[i]);
      index = arith::DivUIOp::create(b, loc, index, trips[i]);
    } else {
      // Below trips[0] already (index < total); the clamp says so to LLVM,
      // which then folds masks of loads that the indices keep in bounds.
      position = arith::MinUIOp::create(
          b, loc, position, arith::SubIOp::create(b, loc, trips[0], one));
    }
    Value offset = arith::MulIOp::create(b, loc, position, loop.getStep()[i]);
    ivs[i] = arith::AddIOp::create(b, loc, loop.getLowerBound()[i], offset);
  }

  // The body, in an alloca scope per iteration (as upstream does), so that
  // a body's stack buffers do not grow the stack with each iteration.
  auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange());
  Block *scopeBody = b.createBlock(&scope.getBodyRegion());
  Block *body = loop.getBody();
  for (auto [arg, iv] : llvm::zip_equal(body->getArguments(), ivs))
    arg.replaceAllUsesWith(iv);
  scopeBody->getOperations().splice(scopeBody->end(), body->getOperations(),
                                    body->begin(),
                                    body->getTerminator()->getIterator());
  b.setInsertionPointToEnd(scopeBody);
  memref::AllocaScopeReturnOp::create(b, loc);

  b.setInsertionPointToEnd(region);
  omp::TerminatorOp::create(b, loc);
  loop.erase();
}

struct QlowParallelToOpenMPPass
    : qlow::impl::QlowParallelToOpenMPPassBase<QlowParallelToOpenMPPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module.walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
      // Loops nested in another parallel loop (this one, or one of
      // OpenMP's) stay for convert-scf-to-openmp, as do loops with
      // reductions.
      if (loop.getNumReductions() == 0 &&
          !loop->getParentOfType<omp::ParallelOp>())
        loops.push_back(loop);
      return WalkResult::skip();
    });
    if (loops.empty())
      return;
    FailureOr<func::FuncOp> threadNum =
        runtimeFunction(module, "omp_get_thread_num");
    FailureOr<func::FuncOp> numThreads =
        runtimeFunction(module, "omp_get_num_threads");
    if (failed(threadNum) || failed(numThreads))
      return signalPassFailure();
    for (scf::ParallelOp loop : loops)
      lowerParallelLoop(loop, *threadNum, *numThreads);
  }
};

} // namespace
