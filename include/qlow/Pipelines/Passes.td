//===- Passes.td - passes of qlow's pipelines --------------*- tablegen -*-===//
//
// Passes that qlow's compilation pipelines run between upstream passes.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_PIPELINES_PASSES_TD
#define QLOW_PIPELINES_PASSES_TD

include "mlir/Pass/PassBase.td"

def QlowEmitCInterfacePass
    : Pass<"qlow-emit-c-interface", "::mlir::func::FuncOp"> {
  let summary = "Asks func-to-llvm for a C interface wrapper of every public "
                "function";
  let description = [{
    A compiled function is called from C++ (qlow-run's JIT, the libraries
    qlow-compile writes) through `_mlir_ciface_<name>`, which takes a pointer
    to one memref descriptor per argument instead of the descriptor's fields
    spread over many scalar arguments. `convert-func-to-llvm` emits that
    wrapper only for functions marked `llvm.emit_c_interface`; this pass marks
    every public function that has a body. Private functions and declarations
    are internal or external and get no wrapper.

    ```mlir
    // Before
    func.func @f(%x: memref<4xf32>, %out: memref<4xf32>) { ... }
    // After
    func.func @f(%x: memref<4xf32>, %out: memref<4xf32>)
        attributes {llvm.emit_c_interface} { ... }
    ```
  }];
}

def QlowSetTargetCpuPass
    : Pass<"qlow-set-target-cpu", "::mlir::func::FuncOp"> {
  let summary = "Records the CPU to generate code for on every function";
  let description = [{
    Sets `target_cpu` on every function with a body. `convert-func-to-llvm`
    carries it to the `llvm.func`, and LLVM generates that function's code
    for that CPU (instruction set and scheduling) whichever tool translates
    the module later. `host` stands for the CPU this pass runs on.

    ```mlir
    // qlow-set-target-cpu{cpu=znver4}
    func.func @f(...) attributes {target_cpu = "znver4"} { ... }
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"host\"",
           "CPU name as LLVM knows it (znver4, sapphirerapids, neoverse-v2, "
           "...), or host">,
  ];
}

def QlowFuseElementwisePass
    : Pass<"qlow-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuses chains of elementwise linalg.generics on tensors";
  let description = [{
    Applies upstream's producer-consumer fusion of elementwise linalg ops
    (`linalg::fuseElementwiseOps`) with two restrictions,
    so that no work is duplicated: a producer is fused only into its single
    consumer, and only into a consumer without reduction loops (fused into a
    contraction, it would be computed once per reduced element). After convert-qlow-to-linalg this makes a matmul's epilogue
    (requantization), the activation after it (a table lookup for quantized
    gelu and silu) and a residual add one generic, which the target's matmul
    kernel then applies to its accumulator registers. Unlike upstream's
    `linalg-fuse-elementwise-ops` it neither moves reshapes nor folds splat
    constants into generics, either of which would change the contractions
    the kernels match.

    ```mlir
    // Before: %e = linalg.generic ins(%acc, ...) {requantize}
    //         %g = linalg.generic ins(%e) {table lookup}
    // After:  %g = linalg.generic ins(%acc, ...) {requantize; table lookup}
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def QlowVectorizeElementwisePass
    : Pass<"qlow-vectorize-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Tiles elementwise linalg.generics to vector width and "
                "vectorizes them";
  let description = [{
    Every linalg.generic on static tensors whose loops are all parallel (what
    is left after the matmul kernels: dynamic quantization, unfused
    epilogues, elementwise ops, table lookups) is tiled with upstream's
    TilingInterface (`scf::tileUsingSCF`): 1 along every loop but the
    innermost, and the target's vector width in i32/f32 lanes (from the
    TargetDesc) along the innermost. Each tile is then vectorized with
    `linalg::vectorize` at that vector size; an innermost size that is not a
    multiple of it is split, the rest vectorized at its own static size (no
    masks); table lookups become `vector.gather`. Row reductions of f32
    matrices (the range of a dynamic quantization), and integer row
    reductions (the statistics of the integer-only softmax and layer_norm,
    exact in any order), and float row sums accumulated in f64 (the float
    layer_norm's and rms_norm's sums and sums of squares, softmax's
    denominator: reassociated, a few f64 ulps from the sequential sum), are
    tiled one row at a time with upstream's partial-reduction tiling into one
    vector of partial results, combined at the end of the row.

    Ops of at least 16384 iterations run on the OpenMP threads: their
    outermost parallel loop with more than one iteration (not the innermost)
    becomes an `scf.forall` of one row per iteration, which the pipeline's
    scf-forall-to-parallel and convert-scf-to-openmp turn into an OpenMP
    loop. Each row is computed as on one thread, so results do not depend
    on the thread count. Smaller ops stay on the calling thread.

    Row fusion comes first: a generic whose outermost loop is parallel over
    several rows, and the generics it reads one row at a time (transitively:
    a layer_norm's or rms_norm's row sums, mean, 1/sqrt and normalization
    before the quantize that follows it), become one loop over the rows
    with upstream's tile-and-fuse (`scf::tileConsumerAndFuseProducersUsingSCF`,
    one row per iteration; an `scf.forall` from 16384 iterations, else an
    `scf.for`): one pass over each row and one fork and join instead of one
    per op. A fused result that is also used outside the chain (the
    normalized values that a residual add reads too) is yielded by the same
    loop; a producer read whole by every row (a broadcast vector) or used
    before the consumer stays its own op. A row is computed with the same
    operations in the same order as unfused, so results are bit for bit the
    same.

    ```mlir
    // Before: linalg.generic {iterator_types = ["parallel", "parallel"]}
    //             ins(%x : tensor<128x768xf32>) ...
    // After:  scf.forall (%i) in (128) { scf.for %j = 0 to 768 step 16 {
    //           vector.transfer_read ... : vector<16xf32> ... } }
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"host\"",
           "CPU whose TargetDesc gives the vector width">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QlowApproximateMathPass
    : Pass<"qlow-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "Replaces f32 math.exp and math.erfc by upstream polynomial "
                "approximations";
  let description = [{
    LLVM has no vector form of `exp` or `erfc` without a vector math library,
    so a vectorized softmax or activation would call libm once per lane.
    Upstream's polynomial approximations
    (`populateMathPolynomialApproximationPatterns`) are plain arith/math
    (fma, floor, bit casts) on scalars and vectors alike: exp is Cephes' range
    reduction and degree-6 polynomial (results below 2^-126 flush to zero),
    erfc a degree-9 polynomial in (x - 2) / (x + 2) times exp(-x^2). Through
    them the float ops stay within 2^-20 of the largest result magnitude of
    lib/Reference's double-precision results (measured by
    test/e2e/random_float_ops.py: softmax and silu within 10 ulp of the
    non-tiny results, gelu within about 20). Other math ops (erf, tanh, ...)
    keep their LLVM intrinsic or libm call.

    ```mlir
    // Before
    %e = math.exp %x : vector<16xf32>
    // After: range reduction x = n ln2 + r, a degree-6 polynomial in r,
    // and 2^n built from its exponent bits (math.fma, math.floor, arith).
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def QlowDistinctResultBuffersPass
    : Pass<"qlow-distinct-result-buffers", "::mlir::func::FuncOp"> {
  let summary = "Gives each buffer a function returns a buffer of its own";
  let description = [{
    `buffer-results-to-out-params{hoist-static-allocs}` computes a result
    straight into the caller's out-parameter by replacing the result's
    `memref.alloc` with the out-parameter. A buffer returned twice
    (`return %r, %r`) would be replaced twice: upstream (LLVM 22) reads the
    erased allocation and crashes. This pass copies every repeated static
    buffer operand of `func.return` into an allocation of its own, so that
    each result is hoisted into its own out-parameter and the repeat becomes
    one copy between out-parameters.

    ```mlir
    // Before
    return %r, %r : memref<4xf32>, memref<4xf32>
    // After
    %copy = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
    memref.copy %r, %copy : memref<4xf32> to memref<4xf32>
    return %r, %copy : memref<4xf32>, memref<4xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def QlowLowerStridedCopiesPass
    : Pass<"qlow-lower-strided-copies", "::mlir::func::FuncOp"> {
  let summary = "Turns memref.copy between non-contiguous buffers into "
                "linalg.copy";
  let description = [{
    `finalize-memref-to-llvm` lowers a `memref.copy` to `llvm.memcpy` when both
    buffers are contiguous, and otherwise to a call of `memrefCopy` from MLIR's
    C runner utilities, a library that code compiled by qlow must not need.
    Bufferization creates such copies for `tensor.insert_slice` into a larger
    tensor, `tensor.pad` and similar. This pass rewrites exactly those copies
    (the ones `finalize-memref-to-llvm` would turn into a call) into
    `linalg.copy`, which then becomes loops like every other linalg op; the
    contiguous ones stay `memref.copy` and become `llvm.memcpy`.

    ```mlir
    // Before
    memref.copy %src, %dst : memref<2x4xi32, strided<[4, 1]>>
                          to memref<2x4xi32, strided<[6, 1], offset: 7>>
    // After
    linalg.copy ins(%src : memref<2x4xi32, strided<[4, 1]>>)
                outs(%dst : memref<2x4xi32, strided<[6, 1], offset: 7>>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // QLOW_PIPELINES_PASSES_TD
