//===- CompiledModule.h - JIT-compiled qlow functions -----------*- C++ -*-===//
//
// Compiles a module of qlow functions with qlow-cpu-pipeline, JIT-compiles the
// result with MLIR's ExecutionEngine, and calls its functions on the
// reference library's tensors, so that compiled code and lib/Reference run on
// the same inputs and produce directly comparable outputs.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_JIT_COMPILEDMODULE_H
#define QLOW_JIT_COMPILEDMODULE_H

#include "qlow/JIT/HugePageMapper.h"
#include "qlow/Reference/Types.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
namespace qlow {

namespace ref = ::qlow::ref;
struct CompileOptions;

/// What a caller must know to call a compiled function: its name and the
/// types of its arguments and results as the reference library describes
/// them. A quantized tensor crosses the boundary as its storage integers
/// (u8 as the same bits in a byte), so the element width comes from the
/// storage type; f32 is 4 bytes and i1 one byte.
struct EntrySignature {
  std::string name;
  /// Where the function is defined, for diagnostics about calling it.
  LocationAttr loc;
  std::vector<ref::TensorType> inputs;
  std::vector<ref::TensorType> results;
};

/// Reads the signature of `func`, emitting an error at it for types that
/// cannot cross the boundary (dynamic shapes, i4 storage, ...).
FailureOr<EntrySignature> getEntrySignature(func::FuncOp func);

class CompiledModule;

/// An entry's inputs, marshalled once into the buffers that compiled code
/// takes, for calls that repeat on the same inputs (latency loops, benchmarks):
/// each run then costs the call alone. The runs share the buffers: an entry
/// that updates an argument in place (a KV cache marked writable) sees the
/// previous run's update. Made by CompiledModule::prepare; it must not
/// outlive that module.
class PreparedCall {
public:
  ~PreparedCall();

  /// Calls the entry `repeat` times (at least once). When `secondsPerCall` is
  /// given it receives the mean time of one call. A crash of the compiled
  /// code is reported, not propagated; the module cannot be called after it.
  LogicalResult run(unsigned repeat = 1, double *secondsPerCall = nullptr);

  /// The results of the last run, as reference tensors.
  SmallVector<ref::Tensor> results() const;

  struct State;

private:
  friend class CompiledModule;
  PreparedCall(CompiledModule &module, std::unique_ptr<State> state);

  CompiledModule &module;
  std::unique_ptr<State> state;
};

/// A module lowered by qlow-cpu-pipeline and JIT-compiled for this machine.
class CompiledModule {
public:
  ~CompiledModule();

  /// Lowers `module` in place with qlow-cpu-pipeline and JIT-compiles it with
  /// `options` (its opt-level is also LLVM's optimization and code generation
  /// level). `entries` are the functions to be called: they and the functions
  /// they call are compiled, every other function is dropped first, and each
  /// entry is checked against its lowered form. Pipeline and JIT failures are
  /// emitted as diagnostics. `memory` says where the JIT puts code and
  /// constants: by default, read-only sections of 2 MiB or more (packed
  /// weights) on 2 MB pages where the OS has them.
  static FailureOr<std::unique_ptr<CompiledModule>>
  compile(ModuleOp module, const CompileOptions &options,
          ArrayRef<EntrySignature> entries,
          const JITMemoryOptions &memory = JITMemoryOptions());

  /// Calls `entry` `repeat` times (at least once) on `inputs` (one tensor of
  /// each input type) and returns the results of the last call. When
  /// `secondsPerCall` is given it receives the mean time of one call, without
  /// the copies in and out. A crash of the compiled code is reported, not
  /// propagated.
  FailureOr<SmallVector<ref::Tensor>> call(const EntrySignature &entry,
                                           ArrayRef<ref::Tensor> inputs,
                                           unsigned repeat = 1,
                                           double *secondsPerCall = nullptr);

  /// Marshals `inputs` (one tensor of each input type) for calls of `entry`
  /// (see PreparedCall). Wrong input types are diagnosed here.
  FailureOr<std::unique_ptr<PreparedCall>>
  prepare(const EntrySignature &entry, ArrayRef<ref::Tensor> inputs);

  /// The mappings of the read-only sections that were given 2 MB pages
  /// (empty when none was, or huge pages are off or unsupported).
  std::vector<HugePageSectionMapper::Mapping> largeConstantMappings() const;

private:
  friend class PreparedCall;
  CompiledModule() = default;

  MLIRContext *context = nullptr;
  /// Outlives the engine, whose section memory managers call it.
  std::unique_ptr<HugePageSectionMapper> sectionMapper;
  std::unique_ptr<ExecutionEngine> engine;
};

} // namespace qlow
} // namespace mlir

#endif // QLOW_JIT_COMPILEDMODULE_H
