//===- Emit.h - object, assembly, LLVM IR and C header writers --*- C++ -*-===//
//
// The ahead-of-time end of the compiler: a module of qlow functions becomes
// an object file (or assembly, or LLVM IR) for a target CPU, and a C header
// that declares each function with its ABI.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_EMIT_EMIT_H
#define QLOW_EMIT_EMIT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
class raw_pwrite_stream;
} // namespace llvm

namespace mlir::qlow {

/// What qlow-compile writes.
enum class EmitKind { Object, Assembly, LLVMIR, MLIR };

struct EmitOptions {
  /// The target architecture: "x86_64" or "aarch64".
  std::string arch = "x86_64";
  /// A CPU the TargetDesc registry knows for `arch` (or "host").
  std::string cpu = "host";
  /// 0 to 3: qlow-cpu-pipeline's opt-level and LLVM's.
  unsigned optLevel = 2;
  EmitKind kind = EmitKind::Object;
};

/// Runs LLVM's default optimization pipeline at `optLevel` (0 to 3) for
/// `targetMachine` on `module`.
void optimizeLLVMModule(llvm::Module &module, unsigned optLevel,
                        llvm::TargetMachine *targetMachine);

/// Defines, with internal linkage, the `_mlir_memref_to_llvm_alloc` and
/// `_mlir_memref_to_llvm_free` that qlow-cpu-pipeline's code calls for its
/// temporary buffers, when `module` declares them: malloc/free behind a
/// thread-safe cache of freed blocks (16 KiB and up; at most 64 blocks and
/// 512 MiB), so that the buffers of one call are reused by the next instead
/// of being returned to the system and faulted in again. Called on every
/// module before optimizeLLVMModule (JIT, object, library).
void defineBufferCache(llvm::Module &module);

/// Writes the C header declaring every public function of `module` (which
/// must still be at the qlow level, before lowering): a plain-pointer entry
/// point `qlow_<name>(inputs..., outputs...)` over row-major buffers of the
/// storage types, and the memref-descriptor entry point it wraps. Fails with a
/// diagnostic for types that cannot cross the boundary.
FailureOr<std::string> emitCHeader(ModuleOp module, StringRef guard);

/// Lowers `module` with qlow-cpu-pipeline for `options.cpu` and writes it to
/// `os` as `options.kind`. Emits a diagnostic and fails on any error.
LogicalResult emitModule(ModuleOp module, const EmitOptions &options,
                         llvm::raw_pwrite_stream &os);

} // namespace mlir::qlow

#endif // QLOW_EMIT_EMIT_H
