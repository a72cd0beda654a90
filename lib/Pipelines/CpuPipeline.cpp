//===- CpuPipeline.cpp - qlow's CPU compilation pipeline ------------------===//
//
// qlow -> linalg on tensors -> buffers -> loops -> LLVM dialect. Upstream
// passes wherever upstream has the step; qlow's own passes only where it
// does not (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Pipelines.h"

#include "dialects/Qlow/Transforms/Passes.h"
#include "qlow/Conversion/QlowToLinalg.h"
#include "qlow/Pipelines/Passes.h"
#include "qlow/Target/AArch64/Passes.h"
#include "qlow/Target/TargetDesc.h"
#include "qlow/Target/X86/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::qlow::buildQlowCpuPipeline(OpPassManager &pm,
                                      const CompileOptions &options) {
  auto addCleanups = [&]() {
    if (options.optLevel == 0)
      return;
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  };

  // The target's description, when a CPU is named. Passes that take only a
  // `cpu` get the description's registry key for non-x86 targets
  // ("aarch64-neoverse-n1"), which names its architecture.
  FailureOr<TargetDesc> targetDesc = failure();
  if (!options.cpu.empty())
    targetDesc = lookupTargetDesc(options.target, options.cpu);
  const bool x86 = options.target == "x86_64";
  const bool aarch64 = succeeded(targetDesc) && targetDesc->isAArch64();
  const std::string passCpu =
      aarch64 ? targetDesc->name : static_cast<std::string>(options.cpu);

  // Matmuls of [B..., M, K] activations with shared weights as 2-D ones,
  // which the kernels below recognise (ONNX writes [1, S, D]).
  pm.addNestedPass<func::FuncOp>(createQlowFlattenMatmulBatchesPass());

  // Float activations between quantized values (dequantize, f32 gelu/silu,
  // quantize) become the quantized ops, tables that the matmul epilogues
  // gather from, where lib/Reference proves them equal on every value.
  pm.addNestedPass<func::FuncOp>(createQlowFoldQuantizedActivationsPass());

  // Int4 weight-only matmuls (dynamic activations, packed nibbles) become
  // kernels while the qlow ops still say what they are. The pass leaves them
  // alone on CPUs without an int8 dot product it can use (VNNI, or AVX2's
  // vpmaddubsw).
  if (!options.cpu.empty() && x86) {
    QlowX86Int4MatmulPassOptions int4;
    int4.cpu = options.cpu;
    pm.addNestedPass<func::FuncOp>(createQlowX86Int4MatmulPass(int4));
  }
  if (aarch64 && (targetDesc->int8Dot == Int8DotKind::NeonSdot ||
                  targetDesc->int8Dot == Int8DotKind::NeonI8mm)) {
    QlowAArch64Int4MatmulPassOptions int4;
    int4.cpu = targetDesc->name;
    pm.addNestedPass<func::FuncOp>(createQlowAArch64Int4MatmulPass(int4));
  }

  // Attention becomes one fused kernel (online softmax over key blocks)
  // while it is still one op; its quantized operands are dequantized by qlow
  // ops that the conversion below lowers.
  // Its vector code is target-neutral (the TargetDesc's vector width).
  if (!options.cpu.empty() && (x86 || aarch64)) {
    QlowX86AttentionPassOptions attention;
    attention.cpu = passCpu;
    pm.addNestedPass<func::FuncOp>(createQlowX86AttentionPass(attention));
  }

  // 8-bit quantized softmax rows (QDQ attention's probabilities) in vector
  // registers, one pass over the scores; f32 steps instead of the
  // reference's double rounding, so not at opt-level=0, which computes every
  // op as written.
  if (!options.cpu.empty() && x86 && options.optLevel > 0) {
    QlowX86Int8SoftmaxPassOptions softmax;
    softmax.cpu = options.cpu;
    pm.addNestedPass<func::FuncOp>(createQlowX86Int8SoftmaxPass(softmax));
  }

  // Out of the qlow dialect: linalg/arith/math on tensors of f32 and signless
  // integers; function signatures carry storage types.
  pm.addPass(createConvertQlowToLinalgPass());
  addCleanups();
  // Epilogues, activations and residual adds become one generic that the
  // matmul kernels below apply in registers.
  pm.addNestedPass<func::FuncOp>(createQlowFuseElementwisePass());
  // A fused chain that is a function of one byte tensor (ONNX Runtime's QDQ
  // GELU: dequantize, erf, three requantizations) becomes a 256-entry table
  // of what it computes. The generics after a flattened matmul's
  // expand_shape (bias adds, that table) move onto its 2-D result, and the
  // second fusion merges them into the epilogue. Not at opt-level=0, which
  // computes every op as written.
  if (options.optLevel > 0) {
    pm.addNestedPass<func::FuncOp>(createQlowTabulateByteFunctionsPass());
    pm.addNestedPass<func::FuncOp>(createQlowSinkExpandShapesPass());
    pm.addNestedPass<func::FuncOp>(createQlowFuseElementwisePass());
  }

  // Target codegen on tensors: int8 contractions with constant weights become
  // packed-weight dot-product kernels where the target description has one;
  // the rest stays for the loops below.
  // SVE kernels first where the CPU has them (fixed vector length); NEON
  // takes what they leave.
  if (aarch64 && targetDesc->sveVectorBits != 0) {
    QlowAArch64SveInt8MatmulPassOptions sve;
    sve.cpu = targetDesc->name;
    pm.addNestedPass<func::FuncOp>(createQlowAArch64SveInt8MatmulPass(sve));
  }
  if (aarch64 && targetDesc->int8Dot != Int8DotKind::None) {
    QlowAArch64Int8MatmulPassOptions neon;
    neon.cpu = targetDesc->name;
    pm.addNestedPass<func::FuncOp>(createQlowAArch64Int8MatmulPass(neon));
    addCleanups();
  }
  if (!options.cpu.empty() && (x86 || aarch64)) {
    FailureOr<TargetDesc> desc = lookupTargetDesc(options.target, options.cpu);
    if (x86 && succeeded(desc) && desc->int8Dot != Int8DotKind::None) {
      QlowX86Int8MatmulPassOptions vnni;
      vnni.cpu = options.cpu;
      pm.addNestedPass<func::FuncOp>(createQlowX86Int8MatmulPass(vnni));
      addCleanups();
    }
    // f32 contractions (float matmuls, the layers a mixed-precision plan
    // leaves in float) become FMA kernels with their epilogues; not at
    // opt-level=0, which computes every op as written (a fused multiply-add
    // rounds once where the op rounds twice).
    if (succeeded(desc) && options.optLevel > 0) {
      QlowFloatMatmulPassOptions floatMatmul;
      floatMatmul.cpu = passCpu;
      pm.addNestedPass<func::FuncOp>(createQlowFloatMatmulPass(floatMatmul));
      addCleanups();
    }
    // What the kernels leave (dynamic quantization, unfused epilogues,
    // elementwise ops) is tiled to the vector width and vectorized.
    if (succeeded(desc)) {
      QlowVectorizeElementwisePassOptions vectorize;
      vectorize.cpu = passCpu;
      pm.addNestedPass<func::FuncOp>(
          createQlowVectorizeElementwisePass(vectorize));
      addCleanups();
    }
  }
  // Independent kernels of the same iteration space (a decode step's q, k
  // and v projections) share one parallel region: one fork and join instead
  // of one per kernel. AArch64's loops run in order (no regions to save).
  if (!options.cpu.empty() && x86 && options.optLevel > 0)
    pm.addNestedPass<func::FuncOp>(createQlowMergeSiblingForallsPass());

  // Tensors to buffers. Function boundaries get identity layouts so that a
  // caller passes plain row-major buffers; every result becomes an
  // out-parameter the caller allocates (public functions included: they are
  // the ones callers see), and a result computed in a buffer of its own is
  // computed straight into the out-parameter instead of being copied there
  // (which needs one buffer per result: see qlow-distinct-result-buffers).
  // A caller's inputs are read-only unless an argument says
  // bufferization.writable = true (qlow-read-only-arguments): the C header
  // declares them const.
  pm.addNestedPass<func::FuncOp>(createQlowReadOnlyArgumentsPass());
  // A tensor.empty whose contents are inserted into another tensor becomes
  // a slice of that tensor, so that it is computed in place: rope's first
  // half (its empty output, folded from a slice of the result's, got a
  // buffer of its own and a scalar copy loop) and a decode step's value in
  // its cache slot.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Parallel loops of the kernels (scf.forall over independent tiles) become
  // scf.parallel, and OpenMP below: the thread count is the OpenMP runtime's,
  // chosen by the caller at run time (omp_set_num_threads, OMP_NUM_THREADS).
  pm.addNestedPass<func::FuncOp>(createForallToParallelLoopPass());
  pm.addNestedPass<func::FuncOp>(createQlowDistinctResultBuffersPass());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  // Every remaining allocation is a temporary: upstream's ownership-based
  // deallocation frees each one after its last use (One-Shot Bufferize itself
  // inserts no deallocations).
  bufferization::buildBufferDeallocationPipeline(pm);

  // Buffers to loops. Copies that would need MLIR's runtime library become
  // linalg.copy first, and loops with the rest.
  pm.addNestedPass<func::FuncOp>(createQlowLowerStridedCopiesPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // AArch64 objects are linked against a cross sysroot without libomp: their
  // parallel loops run in order (scf-to-cf lowers them to plain loops).
  // qlow-parallel-to-openmp splits each parallel loop among the threads
  // inline; upstream's convert-scf-to-openmp takes any loop it leaves.
  if (!aarch64) {
    pm.addPass(createQlowParallelToOpenMPPass());
    pm.addPass(createConvertSCFToOpenMPPass());
  }
  // scf-to-openmp wraps each parallel body in a memref.alloca_scope; the
  // canonicalizer inlines the ones without allocas (all of ours), which
  // scf-to-cf could not otherwise split into blocks.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  addCleanups();

  // Into the LLVM dialect. exp and erfc (softmax, gelu, silu) become
  // polynomials that stay in vector registers; math functions without an
  // LLVM intrinsic become libm calls.
  pm.addNestedPass<func::FuncOp>(createQlowApproximateMathPass());
  // Quantization's roundeven + fptosi as one conversion (vcvtps2dq).
  pm.addNestedPass<func::FuncOp>(createQlowRoundToIntPass());
  // Without VNNI, the int8 attention's ymm dot_u8s8 becomes its exact AVX2
  // sequence.
  QlowX86LowerIntrinsicsPassOptions intrinsics;
  intrinsics.avx2DotU8S8 = x86 && succeeded(targetDesc) &&
                           targetDesc->int8Dot == Int8DotKind::Avx2;
  pm.addPass(createQlowX86LowerIntrinsicsPass(intrinsics));
  // arm_sve's smmla/usmmla (qlow-aarch64-sve-int8-matmul) to their LLVM
  // intrinsics.
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.armSVE = aarch64;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  // Temporary buffers are allocated and freed through
  // _mlir_memref_to_llvm_alloc/_free, which qlow's emitters and JIT define as
  // a cache of freed blocks in front of malloc (lib/Emit/BufferCache.cpp):
  // with malloc/free, glibc returned a layer's few MB of intermediates to the
  // system after each call and the next call faulted them all in again.
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  pm.addNestedPass<func::FuncOp>(arith::createArithExpandOpsPass());
  pm.addNestedPass<func::FuncOp>(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  if (!options.cpu.empty()) {
    QlowSetTargetCpuPassOptions cpu;
    cpu.cpu = aarch64 ? targetDesc->cpu : static_cast<std::string>(options.cpu);
    // An AArch64 function keeps to its target description's features (a
    // NEON i8mm variant for an SVE2 CPU uses no SVE), whatever the CPU of
    // the target machine that compiles the library's variants together.
    if (aarch64)
      cpu.features = targetDesc->features;
    pm.addNestedPass<func::FuncOp>(createQlowSetTargetCpuPass(cpu));
  }
  pm.addNestedPass<func::FuncOp>(createQlowEmitCInterfacePass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  // Vectorization's padding values of masked reads.
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
