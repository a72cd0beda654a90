//===- BufferCache.cpp - reuse of compiled code's temporary buffers -------===//
//
// qlow-cpu-pipeline lowers memref.alloc/dealloc to calls of the generic
// `_mlir_memref_to_llvm_alloc(i64) -> ptr` and `_mlir_memref_to_llvm_free(ptr)`
// (finalize-memref-to-llvm's use-generic-functions). This file defines them in
// the LLVM module itself, with internal linkage, as a small cache of freed
// blocks in front of malloc/free:
//
// Why: a transformer layer allocates and frees a few MB of intermediate
// buffers per call. With plain malloc/free glibc trims the heap (or unmaps
// the mmap'd blocks) after the frees, and the next call page-faults every
// page back: about 30% of the decoder layer's time. Keeping the freed blocks
// for the next call removes those faults without touching the process's
// malloc settings (mallopt, GLIBC_TUNABLES).
//
// Because the definitions are internal, an object or library written by
// qlow-compile needs no runtime library and exports no new symbol (the C ABI
// is unchanged), and the JIT needs no symbol map: each compiled module has a
// cache of its own. upstream MLIR has no such allocator (its runtime's
// generic functions are plain malloc/free), hence this one.
//
// Layout: every block starts with a 16-byte header holding its capacity (the
// bytes malloc was asked for), so the pointer returned stays 16-byte aligned
// as malloc's is (the memref lowering aligns further itself). Blocks of at
// least kMinCachedBytes go to a table of kCacheSlots entries on free, up to
// kMaxCachedBytes in all; alloc takes the smallest cached block that holds
// the request and is at most twice its size (best fit: the same sequence of
// sizes recurs on every call). A spin lock guards the table: allocs and frees
// are few per call (but may come from OpenMP threads or concurrent callers).
// A destructor of the module (llvm.global_dtors) frees the cached blocks: at
// exit for objects and libraries, and when the JIT's ExecutionEngine is
// destroyed (qlow-bench compiles many modules in one process).
//
//===----------------------------------------------------------------------===//

#include "qlow/Emit/Emit.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace mlir;

namespace {
/// Smaller blocks go straight back to malloc (its per-thread caches serve
/// them well and the heap keeps them).
constexpr uint64_t kMinCachedBytes = 16 * 1024;
/// Blocks the table holds at most.
constexpr unsigned kCacheSlots = 64;
/// Bytes the table holds at most; a block beyond that is freed.
constexpr uint64_t kMaxCachedBytes = uint64_t(512) << 20;
/// The header before the pointer handed out.
constexpr uint64_t kHeaderBytes = 16;

struct CacheGlobals {
  llvm::GlobalVariable *lock, *blocks, *sizes, *cachedBytes;
  llvm::FunctionCallee malloc, free;
};

llvm::GlobalVariable *internalGlobal(llvm::Module &module, llvm::Type *type,
                                     llvm::StringRef name) {
  return new llvm::GlobalVariable(module, type, /*isConstant=*/false,
                                  llvm::GlobalValue::InternalLinkage,
                                  llvm::Constant::getNullValue(type), name);
}

/// Spins until the table's lock is taken.
void emitLock(llvm::IRBuilder<> &b, const CacheGlobals &g) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &ctx = fn->getContext();
  auto *spin = llvm::BasicBlock::Create(ctx, "lock", fn);
  auto *locked = llvm::BasicBlock::Create(ctx, "locked", fn);
  b.CreateBr(spin);
  b.SetInsertPoint(spin);
  llvm::Value *old = b.CreateAtomicRMW(llvm::AtomicRMWInst::Xchg, g.lock,
                                       b.getInt32(1), llvm::MaybeAlign(4),
                                       llvm::AtomicOrdering::Acquire);
  b.CreateCondBr(b.CreateICmpEQ(old, b.getInt32(0)), locked, spin);
  b.SetInsertPoint(locked);
}

void emitUnlock(llvm::IRBuilder<> &b, const CacheGlobals &g) {
  llvm::StoreInst *store = b.CreateAlignedStore(b.getInt32(0), g.lock,
                                                llvm::MaybeAlign(4));
  store->setAtomic(llvm::AtomicOrdering::Release);
}

/// `_mlir_memref_to_llvm_alloc(size)`: the best-fitting cached block, else a
/// new one from malloc.
void defineAlloc(llvm::Function *fn, const CacheGlobals &g) {
  llvm::LLVMContext &ctx = fn->getContext();
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *slotsTy = llvm::ArrayType::get(ptr, kCacheSlots);
  auto *sizesTy = llvm::ArrayType::get(i64, kCacheSlots);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  llvm::Value *need =
      b.CreateAdd(fn->getArg(0), b.getInt64(kHeaderBytes), "need");
  auto *fresh = llvm::BasicBlock::Create(ctx, "fresh", fn);
  auto *search = llvm::BasicBlock::Create(ctx, "search", fn);
  b.CreateCondBr(b.CreateICmpUGE(need, b.getInt64(kMinCachedBytes)), search,
                 fresh);

  // Best fit over the table, under the lock.
  b.SetInsertPoint(search);
  emitLock(b, g);
  llvm::BasicBlock *preheader = b.GetInsertBlock();
  auto *loop = llvm::BasicBlock::Create(ctx, "scan", fn);
  auto *done = llvm::BasicBlock::Create(ctx, "scanned", fn);
  b.CreateBr(loop);
  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(i64, 2, "i");
  llvm::PHINode *best = b.CreatePHI(i64, 2, "best");
  llvm::PHINode *bestSize = b.CreatePHI(i64, 2, "best_size");
  i->addIncoming(b.getInt64(0), preheader);
  best->addIncoming(b.getInt64(-1), preheader);
  bestSize->addIncoming(b.getInt64(-1), preheader);
  llvm::Value *block = b.CreateLoad(
      ptr, b.CreateInBoundsGEP(slotsTy, g.blocks, {b.getInt64(0), i}));
  llvm::Value *size = b.CreateLoad(
      i64, b.CreateInBoundsGEP(sizesTy, g.sizes, {b.getInt64(0), i}));
  llvm::Value *fits = b.CreateAnd(
      b.CreateAnd(b.CreateIsNotNull(block), b.CreateICmpUGE(size, need)),
      b.CreateAnd(b.CreateICmpULE(size, b.CreateShl(need, 1)),
                  b.CreateICmpULT(size, bestSize)));
  llvm::Value *nextBest = b.CreateSelect(fits, i, best);
  llvm::Value *nextBestSize = b.CreateSelect(fits, size, bestSize);
  llvm::Value *next = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(next, loop);
  best->addIncoming(nextBest, loop);
  bestSize->addIncoming(nextBestSize, loop);
  b.CreateCondBr(b.CreateICmpULT(next, b.getInt64(kCacheSlots)), loop, done);

  b.SetInsertPoint(done);
  auto *hit = llvm::BasicBlock::Create(ctx, "hit", fn);
  auto *miss = llvm::BasicBlock::Create(ctx, "miss", fn);
  b.CreateCondBr(b.CreateICmpSGE(nextBest, b.getInt64(0)), hit, miss);
  b.SetInsertPoint(hit);
  llvm::Value *slot =
      b.CreateInBoundsGEP(slotsTy, g.blocks, {b.getInt64(0), nextBest});
  llvm::Value *taken = b.CreateLoad(ptr, slot);
  b.CreateStore(llvm::ConstantPointerNull::get(ptr), slot);
  llvm::Value *cached = b.CreateLoad(i64, g.cachedBytes);
  b.CreateStore(b.CreateSub(cached, nextBestSize), g.cachedBytes);
  emitUnlock(b, g);
  b.CreateRet(b.CreateInBoundsGEP(b.getInt8Ty(), taken,
                                  b.getInt64(kHeaderBytes)));
  b.SetInsertPoint(miss);
  emitUnlock(b, g);
  b.CreateBr(fresh);

  // A new block, its capacity in the header.
  b.SetInsertPoint(fresh);
  llvm::Value *raw = b.CreateCall(g.malloc, {need});
  auto *failed = llvm::BasicBlock::Create(ctx, "failed", fn);
  auto *ok = llvm::BasicBlock::Create(ctx, "ok", fn);
  b.CreateCondBr(b.CreateIsNull(raw), failed, ok);
  b.SetInsertPoint(failed);
  b.CreateRet(llvm::ConstantPointerNull::get(ptr));
  b.SetInsertPoint(ok);
  b.CreateStore(need, raw);
  b.CreateRet(
      b.CreateInBoundsGEP(b.getInt8Ty(), raw, b.getInt64(kHeaderBytes)));
}

/// `_mlir_memref_to_llvm_free(p)`: into a free slot of the table while it
/// has room, else back to free.
void defineFree(llvm::Function *fn, const CacheGlobals &g) {
  llvm::LLVMContext &ctx = fn->getContext();
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *slotsTy = llvm::ArrayType::get(ptr, kCacheSlots);
  auto *sizesTy = llvm::ArrayType::get(i64, kCacheSlots);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  auto *nullBlock = llvm::BasicBlock::Create(ctx, "null", fn);
  auto *body = llvm::BasicBlock::Create(ctx, "body", fn);
  b.CreateCondBr(b.CreateIsNull(fn->getArg(0)), nullBlock, body);
  b.SetInsertPoint(nullBlock);
  b.CreateRetVoid();

  b.SetInsertPoint(body);
  llvm::Value *raw = b.CreateInBoundsGEP(b.getInt8Ty(), fn->getArg(0),
                                         b.getInt64(-int64_t(kHeaderBytes)));
  llvm::Value *capacity = b.CreateLoad(i64, raw, "capacity");
  auto *release = llvm::BasicBlock::Create(ctx, "release", fn);
  auto *tryCache = llvm::BasicBlock::Create(ctx, "try_cache", fn);
  b.CreateCondBr(b.CreateICmpUGE(capacity, b.getInt64(kMinCachedBytes)),
                 tryCache, release);

  b.SetInsertPoint(tryCache);
  emitLock(b, g);
  llvm::Value *cached = b.CreateLoad(i64, g.cachedBytes);
  llvm::Value *total = b.CreateAdd(cached, capacity);
  auto *scanStart = llvm::BasicBlock::Create(ctx, "room", fn);
  auto *full = llvm::BasicBlock::Create(ctx, "full", fn);
  b.CreateCondBr(b.CreateICmpULE(total, b.getInt64(kMaxCachedBytes)),
                 scanStart, full);

  b.SetInsertPoint(scanStart);
  auto *loop = llvm::BasicBlock::Create(ctx, "scan", fn);
  b.CreateBr(loop);
  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(i64, 2, "i");
  i->addIncoming(b.getInt64(0), scanStart);
  llvm::Value *slot =
      b.CreateInBoundsGEP(slotsTy, g.blocks, {b.getInt64(0), i});
  auto *store = llvm::BasicBlock::Create(ctx, "store", fn);
  auto *step = llvm::BasicBlock::Create(ctx, "step", fn);
  b.CreateCondBr(b.CreateIsNull(b.CreateLoad(ptr, slot)), store, step);
  b.SetInsertPoint(step);
  llvm::Value *next = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(next, step);
  b.CreateCondBr(b.CreateICmpULT(next, b.getInt64(kCacheSlots)), loop, full);

  b.SetInsertPoint(store);
  b.CreateStore(raw, slot);
  b.CreateStore(capacity,
                b.CreateInBoundsGEP(sizesTy, g.sizes, {b.getInt64(0), i}));
  b.CreateStore(total, g.cachedBytes);
  emitUnlock(b, g);
  b.CreateRetVoid();

  b.SetInsertPoint(full);
  emitUnlock(b, g);
  b.CreateBr(release);

  b.SetInsertPoint(release);
  b.CreateCall(g.free, {raw});
  b.CreateRetVoid();
}
/// The module's destructor: every cached block back to free.
void defineRelease(llvm::Function *fn, const CacheGlobals &g) {
  llvm::LLVMContext &ctx = fn->getContext();
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *slotsTy = llvm::ArrayType::get(ptr, kCacheSlots);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  emitLock(b, g);
  llvm::BasicBlock *preheader = b.GetInsertBlock();
  auto *loop = llvm::BasicBlock::Create(ctx, "slot", fn);
  auto *release = llvm::BasicBlock::Create(ctx, "release", fn);
  auto *step = llvm::BasicBlock::Create(ctx, "step", fn);
  auto *done = llvm::BasicBlock::Create(ctx, "done", fn);
  b.CreateBr(loop);
  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(i64, 2, "i");
  i->addIncoming(b.getInt64(0), preheader);
  llvm::Value *slot =
      b.CreateInBoundsGEP(slotsTy, g.blocks, {b.getInt64(0), i});
  llvm::Value *block = b.CreateLoad(ptr, slot);
  b.CreateCondBr(b.CreateIsNull(block), step, release);
  b.SetInsertPoint(release);
  b.CreateCall(g.free, {block});
  b.CreateStore(llvm::ConstantPointerNull::get(ptr), slot);
  b.CreateBr(step);
  b.SetInsertPoint(step);
  llvm::Value *next = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(next, step);
  b.CreateCondBr(b.CreateICmpULT(next, b.getInt64(kCacheSlots)), loop, done);
  b.SetInsertPoint(done);
  b.CreateStore(b.getInt64(0), g.cachedBytes);
  emitUnlock(b, g);
  b.CreateRetVoid();
}
} // namespace

void mlir::qlow::defineBufferCache(llvm::Module &module) {
  llvm::Function *alloc = module.getFunction("_mlir_memref_to_llvm_alloc");
  llvm::Function *dealloc = module.getFunction("_mlir_memref_to_llvm_free");
  if ((!alloc || !alloc->isDeclaration()) &&
      (!dealloc || !dealloc->isDeclaration()))
    return;
  llvm::LLVMContext &ctx = module.getContext();
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *ptr = llvm::PointerType::getUnqual(ctx);
  auto *voidTy = llvm::Type::getVoidTy(ctx);
  // Both are defined together: a block from one must go back through the
  // other (its header).
  if (!alloc)
    alloc = llvm::Function::Create(llvm::FunctionType::get(ptr, {i64}, false),
                                   llvm::GlobalValue::ExternalLinkage,
                                   "_mlir_memref_to_llvm_alloc", module);
  if (!dealloc)
    dealloc = llvm::Function::Create(
        llvm::FunctionType::get(voidTy, {ptr}, false),
        llvm::GlobalValue::ExternalLinkage, "_mlir_memref_to_llvm_free",
        module);
  CacheGlobals g;
  g.lock = internalGlobal(module, i32, "qlow.buffer_cache.lock");
  g.blocks = internalGlobal(module, llvm::ArrayType::get(ptr, kCacheSlots),
                            "qlow.buffer_cache.blocks");
  g.sizes = internalGlobal(module, llvm::ArrayType::get(i64, kCacheSlots),
                           "qlow.buffer_cache.sizes");
  g.cachedBytes = internalGlobal(module, i64, "qlow.buffer_cache.bytes");
  g.malloc = module.getOrInsertFunction(
      "malloc", llvm::FunctionType::get(ptr, {i64}, false));
  g.free = module.getOrInsertFunction(
      "free", llvm::FunctionType::get(voidTy, {ptr}, false));
  defineAlloc(alloc, g);
  defineFree(dealloc, g);
  auto *release = llvm::Function::Create(
      llvm::FunctionType::get(voidTy, {}, false),
      llvm::GlobalValue::InternalLinkage, "qlow.buffer_cache.release", module);
  defineRelease(release, g);
  llvm::appendToGlobalDtors(module, release, /*Priority=*/65535);
  alloc->setLinkage(llvm::GlobalValue::InternalLinkage);
  dealloc->setLinkage(llvm::GlobalValue::InternalLinkage);
}
