//===- Pipelines.h - qlow's compilation pipelines ---------------*- C++ -*-===//
//
// The pass pipelines that take a module of qlow graphs to the LLVM dialect,
// with the options that drive them. Tools build pipelines through these
// functions and never re-list passes.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_PIPELINES_PIPELINES_H
#define QLOW_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir {
class OpPassManager;
namespace qlow {

/// Options of the compilation pipelines. Each one changes what the pipeline
/// emits; tools that go on to run LLVM (qlow-run's JIT) read them too.
struct CompileOptions : public PassPipelineOptions<CompileOptions> {
  PassOptions::Option<unsigned> optLevel{
      *this, "opt-level",
      llvm::cl::desc("Optimization level, 0 to 3. At 0 the MLIR cleanups "
                     "between stages (canonicalize, cse) are skipped; LLVM "
                     "consumers (qlow-run's JIT) optimize and generate code "
                     "at this level"),
      llvm::cl::init(2)};
  PassOptions::Option<std::string> cpu{
      *this, "cpu",
      llvm::cl::desc("CPU to generate code for, recorded as the target_cpu "
                     "of every function (\"host\": the CPU this runs on; "
                     "empty: leave the choice to the code generator)"),
      llvm::cl::init("")};
  PassOptions::Option<std::string> target{
      *this, "target",
      llvm::cl::desc("Architecture of `cpu`: x86_64 (x86 kernels, OpenMP "
                     "threads) or aarch64 (NEON sdot/smmla kernels, one "
                     "thread)"),
      llvm::cl::init("x86_64")};
};

/// Builds the CPU pipeline on the module-level `pm`: qlow -> linalg on
/// tensors -> buffers (results become caller-allocated out-parameters, every
/// other allocation is freed) -> loops -> LLVM dialect, with a
/// `_mlir_ciface_` wrapper for every public function. Correct first: linalg
/// ops become plain loops; tiling and vectorization come later.
void buildQlowCpuPipeline(OpPassManager &pm, const CompileOptions &options);

} // namespace qlow
} // namespace mlir

#endif // QLOW_PIPELINES_PIPELINES_H
