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

    With `features`, also `target_features` (LLVM's per-function
    "target-features"), which adds to or removes from what the CPU implies:
    an AArch64 library's variants each carry their target description's
    features, so that a NEON i8mm variant for Neoverse-N2 uses no SVE
    instruction and runs on any CPU with i8mm. A feature must start with `+`
    or `-`.

    ```mlir
    // qlow-set-target-cpu{cpu=znver4}
    func.func @f(...) attributes {target_cpu = "znver4"} { ... }
    // qlow-set-target-cpu{cpu=neoverse-n2 features=+neon,+i8mm,-sve}
    func.func @f(...) attributes {target_cpu = "neoverse-n2",
        target_features = #llvm.target_features<["+neon", "+i8mm", "-sve"]>}
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"host\"",
           "CPU name as LLVM knows it (znver4, sapphirerapids, neoverse-v2, "
           "...), or host">,
    Option<"features", "features", "std::string", /*default=*/"\"\"",
           "LLVM target features for every function on top of the CPU's, "
           "comma-separated (e.g. +neon,+i8mm,-sve); empty: none">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def QlowFuseElementwisePass
    : Pass<"qlow-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuses chains of elementwise linalg.generics on tensors";
  let description = [{
    Applies upstream's producer-consumer fusion of elementwise linalg ops
    (`linalg::fuseElementwiseOps`) with three restrictions,
    so that no work is duplicated: a producer is fused only into its single
    consumer, only into a consumer without reduction loops (fused into a
    contraction, it would be computed once per reduced element), and only
    where the consumer reads each of its elements once (not through a
    broadcast: a layer_norm's per-row 1/sqrt(var / D + eps) fused into the
    normalization would be computed once per element of the row). After convert-qlow-to-linalg this makes a matmul's epilogue
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

def QlowSinkExpandShapesPass
    : Pass<"qlow-sink-expand-shapes", "::mlir::func::FuncOp"> {
  let summary = "Moves the expand_shape of a matmul epilogue's result below "
                "the elementwise generic that reads it";
  let description = [{
    qlow-flatten-matmul-batches computes ONNX's `[1, S, D]` matmuls as 2-D
    matmuls followed by a `tensor.expand_shape`, so the bias add, activation
    or table lookup after them (still on `[1, S, N]`) reads a reshape and
    qlow-fuse-elementwise cannot merge it into the epilogue that the int8
    kernels apply in registers: it ran as a separate pass over memory. This
    pass applies upstream's `populateFoldReshapeOpsByCollapsingPatterns` to
    such a consumer only (an all-parallel generic reading the single-use
    expand_shape of an all-parallel generic's single-use result): the
    consumer runs on the collapsed shape (its other operands collapsed or
    read through collapsed maps) and the expand_shape moves after it.
    Contractions and every other reshape stay as they are.

    ```mlir
    // Before
    %e = linalg.generic {requantize} ins(%acc ...) -> tensor<128x3072xi8>
    %x = tensor.expand_shape %e [[0, 1], [2]] : ... into tensor<1x128x3072xi8>
    %g = linalg.generic {bias, table} ins(%x, %bias ...) -> tensor<1x128x3072xi8>
    // After
    %g = linalg.generic {bias, table} ins(%e, %bias ...) -> tensor<128x3072xi8>
    %x = tensor.expand_shape %g [[0, 1], [2]] : ... into tensor<1x128x3072xi8>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QlowTabulateByteFunctionsPass
    : Pass<"qlow-tabulate-byte-functions", "::mlir::func::FuncOp"> {
  let summary = "Replaces elementwise float computations of one byte tensor "
                "by a table lookup";
  let description = [{
    A quantized graph often computes an elementwise function of one tensor
    of at most 8-bit integers through f32 and requantizes the result to at
    most 8 bits: ONNX Runtime's QDQ form of GELU keeps
    `DequantizeLinear -> Div -> Erf -> Q/DQ -> Add -> Mul -> Q/DQ -> Mul ->
    QuantizeLinear` between the FFN matmuls, which qlow-fuse-elementwise
    makes one generic with erfc, divisions and four roundings per element.
    Its result has at most 256 distinct values, one per stored input value,
    so it is a table. This pass finds every `linalg.generic` whose loops are
    all parallel, whose result is an integer of at most 8 bits, whose body
    contains float arithmetic, and whose inputs are one varying tensor of
    integers of at most 8 bits (read through one indexing map, possibly
    several times) plus constants that are the same at every point (splat
    or 0-d constants, or constants read at constant indices). It evaluates
    the body for every bit pattern of the varying input at compile time and
    replaces the generic by a lookup in a constant 1-D table, indexed by the
    zero-extended input: the form the int8 matmul kernels apply in their
    fused epilogue, after qlow-fuse-elementwise merges it into one.

    The values are those the compiled body computes: the body is copied into
    a scratch function, f32 math.exp and math.erfc are replaced by the same
    polynomial approximations as qlow-approximate-math (which the pipeline
    applies to the generic's code), and every op is then constant-folded
    with IEEE f32 arithmetic (round to nearest even; math.fma fused). So the
    table holds exactly what the generic computed before, bit for bit
    (test/Pipelines/qlow-tabulate-byte-functions-run.test compiles both on
    all 256 values and compares them), not libm's erf: against ONNX Runtime
    the result differs only where erfc's approximation (within 2^-20 of
    the result) crosses a rounding boundary of the quantization, at most
    one step of that quantization. A body with an op that does not fold
    (a call, a memory access, an op without a folder) is left as it is.

    ```mlir
    // Before
    %r = linalg.generic {indexing_maps = [#id, #scalar, #id], ...}
        ins(%x, %c : tensor<128x3072xi8>, tensor<f32>) outs(%e : ...) {
      ^bb0(%in: i8, %s: f32, %out: i8):
        // extui, sitofp, mulf, divf, erfc, ..., roundeven, fptosi, trunci
        linalg.yield %q : i8
    } -> tensor<128x3072xi8>
    // After
    %t = arith.constant dense<[...]> : tensor<256xi8>
    %r = linalg.generic {indexing_maps = [#id, #id], ...}
        ins(%x : tensor<128x3072xi8>) outs(%e : ...) {
      ^bb0(%in: i8, %out: i8):
        %i = arith.extui %in : i8 to i32
        %j = arith.index_cast %i : i32 to index
        %v = tensor.extract %t[%j] : tensor<256xi8>
        linalg.yield %v : i8
    } -> tensor<128x3072xi8>
    ```

    A generic that is not such a function may end with one: an epilogue
    fused after its matmul's requantization reads the i32 accumulators, and
    a QDQ graph's attention scores are then rounded to u8, multiplied by a
    quantized constant (the 1 / sqrt(D) Mul) and rounded again. Where the
    body computes a value of 4 to 8 bits from which the result is computed
    with constants only (through float work, in at least 4 ops), that tail
    is tabulated the same way: the body yields `table[zext(byte)]` instead,
    and the int8 kernels apply the lookup in registers
    (test/Pipelines/Inputs/requantized_scores.mlir runs both forms on the
    same inputs).
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark on every generic tabulated (whole, or its tail "
           "after a byte value), and on every one that matches but whose "
           "body does not fold (with the op)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QlowFloatMatmulPass
    : Pass<"qlow-float-matmul", "::mlir::func::FuncOp"> {
  let summary = "Builds register-tiled FMA kernels for f32 contractions";
  let description = [{
    The f32 contraction that convert-qlow-to-linalg emits for a float
    `qlow.matmul` (a linalg.generic with loops (b..., m, n, k), maps
    (b..., m, k), (b..., k, n), (b..., m, n), body `out + a * w` in plain
    f32 arithmetic, on a linalg.fill) becomes a register-tiled kernel:
    `rows x vectors` f32 accumulators (TargetDesc::chooseFloatMatmulTile:
    6 x 2 ymm on AVX2, 8 x 3 zmm on AVX-512, 8 x 3 q registers on NEON;
    wider and shorter tiles for M < 4) stay in registers through all of K,
    each step broadcasting one element per row against the step's weight
    vectors with `vector.fma`. Constant 2-D weights are packed at compile
    time into column panels `[N / nr][K][nr]` (zeros past N); run-time and
    batched weights are read in place, padded to whole panels with
    `tensor.pad` when N is not a multiple of `nr`. Rows are not padded: the
    last tile of a block is smaller. An elementwise generic that consumes a
    2-D contraction (bias add, activation, residual, a quantize) is applied
    to the accumulators before they are stored (the int8 kernels'
    `matchEpilogue` / `applyEpilogue`). Work items are row blocks x column
    panels (x batches) of one `scf.forall`, as for the int8 kernels
    (TargetDesc::chooseFloatRowBlock cuts the rows into blocks when the
    activations exceed half of L2, or when there are fewer than 8 panels).

    Each result is the sum over k in order with one fused multiply-add per
    step; lib/Reference rounds the product and the sum separately, so the
    two agree within the float tolerance, not bit for bit. Contractions with
    fast-math flags, dynamic shapes or an empty dimension are left alone.

    ```mlir
    // Before
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<128x768xf32>)
    %r = linalg.generic {... ["parallel", "parallel", "reduction"]}
        ins(%a, %w : tensor<128x768xf32>, tensor<768x768xf32>) outs(%f ...)
    // After: scf.forall over (row block, panel) with, per register tile,
    // an scf.for over K carrying 12 vector<8xf32> accumulators:
    //   %b = vector.broadcast %a_mk : f32 to vector<8xf32>
    //   %acc' = vector.fma %b, %w_kj, %acc : vector<8xf32>
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"host\"",
           "Target CPU whose description sizes the tiles (an x86 CPU name, "
           "or a registry key such as aarch64-neoverse-n1)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
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
    vector of partial results, combined at the end of the row; the partial
    results are the loop's vector iter_arg (upstream
    `hoistLoopInvariantSubsets`), in registers rather than a buffer per row.
    `linalg.transpose` ops outside the kernels are generalized first, so that
    one keeping the innermost dimension (a decoder's heads transposed before
    rope) is vectorized and threaded like any elementwise op.
    Generics that read or write tensors of integers narrower than a byte (i1,
    i4), as operands or through `tensor.extract`, stay scalar loops: such a
    tensor keeps one value per byte in memory, where LLVM loads and stores a
    vector of them as packed bits.

    Whether a loop nest runs on the OpenMP threads is a cost model of the
    TargetDesc (`worthParallelRegion`): the bytes its ops read and write
    (every operand of every op in the nest, a fused intermediate row counted
    as written and read) against `parallelMinBytesPerThread` for each of two
    threads, the least work per thread that pays for a fork and join (about
    a microsecond at 2 threads). Where it pays, the op's outermost parallel
    loop with more than one iteration (not the innermost) becomes an
    `scf.forall` of one row per iteration, which the pipeline's
    scf-forall-to-parallel and convert-scf-to-openmp turn into an OpenMP
    loop; each row is computed as on one thread, so results do not depend
    on the thread count. Smaller nests (a decode step's [1, 768] rows, its
    [1, 12, 1, 64] heads) stay on the calling thread: no omp.parallel.
    `parallel-min-bytes-per-thread` overrides the target's value (0: every
    nest with more than one row is threaded).

    Row fusion comes first: a generic whose outermost loop is parallel over
    several rows, and the generics it reads one row at a time (transitively:
    a layer_norm's or rms_norm's row sums, mean, 1/sqrt and normalization
    before the quantize that follows it), become one loop over the rows
    with upstream's tile-and-fuse (`scf::tileConsumerAndFuseProducersUsingSCF`,
    one row per iteration; an `scf.forall` where the chain's bytes pay for a
    region as above, else an `scf.for`): one pass over each row and one fork
    and join instead of one per op. A fused result that is also used
    outside the chain (the normalized values that a residual add reads too)
    is yielded by the same loop; a producer read whole by every row (a broadcast vector) or used
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
    Option<"parallelMinBytesPerThread", "parallel-min-bytes-per-thread",
           "int64_t", /*default=*/"-1",
           "Least bytes per thread (of two) for which a loop nest gets a "
           "parallel region; -1: the TargetDesc's "
           "parallelMinBytesPerThread">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QlowMergeSiblingForallsPass
    : Pass<"qlow-merge-sibling-foralls", "::mlir::func::FuncOp"> {
  let summary = "Merges independent sibling scf.foralls of the same iteration "
                "space into one parallel region";
  let description = [{
    Why: every top-level `scf.forall` becomes one OpenMP parallel region (a
    fork, and a join at a barrier: 0.3-1 us at 2 threads on the 2-vCPU
    Zen 5). A decode step's q, k and v projections are three kernels of the
    same 6 work items (768 columns in tiles of 128) that read the same
    activations; their regions can be one.

    For each top-level `scf.forall` in order, the next `scf.forall` of its
    block is merged into it (upstream `fuseIndependentSiblingForallLoops`:
    one loop whose iteration runs both bodies, both shared outputs) when:
    both have the same static bounds and steps and no mapping; the second
    reads nothing the first computes (its results, or an op between the two
    that uses them, transitively); and both loops and the ops between them
    that depend on the first are free of memory effects (tensors, before
    bufferization). Those dependent ops (the q heads' transpose and rope)
    move after the second loop; the merged loop takes the second's place.
    The merged loop is then tried with the loop after it. Each iteration
    computes what the two loops' iterations computed, so results are
    unchanged.

    ```mlir
    // Before
    %q = scf.forall (%i) in (6) shared_outs(%o = %eq) -> (tensor<1x768xf32>) {...}
    %qt = linalg.generic ... ins(%q ...)           // depends on %q
    %k = scf.forall (%i) in (6) shared_outs(%o = %ek) -> (tensor<1x768xf32>) {...}
    // After
    %m:2 = scf.forall (%i) in (6) shared_outs(%o1 = %eq, %o2 = %ek)
        -> (tensor<1x768xf32>, tensor<1x768xf32>) {... both bodies ...}
    %qt = linalg.generic ... ins(%m#0 ...)
    ```
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def QlowApproximateMathPass
    : Pass<"qlow-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "Replaces f32 math.exp and math.erfc by polynomial "
                "approximations";
  let description = [{
    LLVM has no vector form of `exp` or `erfc` without a vector math library,
    so a vectorized softmax or activation would call libm once per lane.
    The approximations are plain arith/math (fma, floor, bit casts) on
    scalars and vectors alike:
    - exp is upstream's (`populateMathPolynomialApproximationPatterns`):
      Cephes' range reduction and degree-6 polynomial (results below 2^-126
      flush to zero).
    - erfc is qlow's own. Upstream's (a degree-9 polynomial in
      (x - 2) / (x + 2) times exp(-x^2)) takes two divisions and about 70
      vector operations on AVX2; the erf form of GELU spent most of its time
      there. Here a = min(|x|, 10), t = 1 / (1 + a / 2),
      erfc(a) = t Q(t) exp(-a^2) with Q a degree-8 polynomial
      (scripts/fit_erfc.py), a^2 split exactly into hi + lo by an fma so
      that exp(-hi) (1 - lo) loses nothing to its rounding, and
      erfc(x) = 2 - erfc(|x|) for negative x: one division, about half the
      operations (GELU of 128 x 3072 on a Zen 3 core: 0.72 -> 0.48 ms).
      Relative error within 2^-21 wherever erfc(x) >= 2^-120, erfc(0) = 1
      exactly, NaN kept (test qlow-approximate-math-erfc-accuracy.test).
    Through them the float ops stay within 2^-20 of the largest result
    magnitude of lib/Reference's double-precision results (measured by
    test/e2e/random_float_ops.py). Other math ops (erf, tanh, f64, ...) keep
    their LLVM intrinsic or libm call.

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

def QlowRoundToIntPass
    : Pass<"qlow-round-to-int", "::mlir::func::FuncOp"> {
  let summary = "Rewrites fptosi(roundeven(x)) as one round-to-integer "
                "conversion (llvm.intr.lrint)";
  let description = [{
    Quantization rounds half to even and converts to an integer
    (`arith.fptosi` of `math.roundeven`). LLVM keeps the two steps: on x86
    `vrndscaleps` then `vcvttps2dq`. `llvm.intr.lrint` rounds in the current
    rounding mode and converts in one step (`vcvtps2dq`); qlow's code runs in
    the default floating-point environment (round to nearest, ties to even)
    everywhere, so the two agree on every value `fptosi` defines. Out of the
    integer range `fptosi` is poison and `lrint` an unspecified value, so the
    rewrite only refines. Scalars and vectors alike; a `math.roundeven` with
    other users stays for them.

    ```mlir
    // Before
    %r = math.roundeven %x : vector<16xf32>
    %i = arith.fptosi %r : vector<16xf32> to vector<16xi32>
    // After
    %i = llvm.intr.lrint(%x) : (vector<16xf32>) -> vector<16xi32>
    ```

    It runs in qlow-cpu-pipeline after vectorization, before the conversion
    to the LLVM dialect.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def QlowReadOnlyArgumentsPass
    : Pass<"qlow-read-only-arguments", "::mlir::func::FuncOp"> {
  let summary = "Keeps bufferization from writing into a caller's input "
                "buffers";
  let description = [{
    One-Shot Bufferize takes the buffer of a function's tensor argument as
    writable unless the argument says `bufferization.writable = false`. A
    `tensor.insert_slice` into an argument (a decode step appending its key
    to a KV cache passed in) then writes into the caller's buffer, although
    the function's tensor semantics leave its inputs unchanged and the C
    header that `qlow-compile` writes declares them `const`.

    This pass marks every tensor argument of every public function with a
    body `bufferization.writable = false`, unless the argument already
    carries `bufferization.writable`. Bufferization then writes into a copy
    where the function would write into such an argument (the copy costs a
    read and a write of the argument, once per call). An argument that the
    caller may let the function overwrite, such as a KV cache it appends to,
    says `bufferization.writable = true`: the function may then write into
    its buffer (its contents after a call are unspecified), and the C header
    declares it without `const`. Private functions are left to
    bufferization's own analysis of their calls.

    Precondition: `bufferization.writable = true` only on tensor arguments.

    ```mlir
    // Before
    func.func @step(%x: tensor<1x64xf32>, %cache: tensor<9x64xf32>) -> ...
    // After
    func.func @step(%x: tensor<1x64xf32> {bufferization.writable = false},
                    %cache: tensor<9x64xf32> {bufferization.writable = false})
    ```
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
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

    A returned `memref.expand_shape` or `memref.collapse_shape` of a static
    allocation (a row op such as layer_norm computed on its `[rows, last]`
    matrix and reshaped back to `[1, S, D]`) would be copied into its
    out-parameter after the last kernel; the allocation takes the returned
    shape instead, and its users see it through the inverse reshape (same
    bytes), so it is hoisted too. Not when the allocation is also returned
    as it is.

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

def QlowParallelToOpenMPPass
    : Pass<"qlow-parallel-to-openmp", "::mlir::ModuleOp"> {
  let summary = "Runs each outermost scf.parallel on OpenMP's threads, its "
                "iterations split statically without a worksharing loop";
  let description = [{
    Each outermost `scf.parallel` without reductions becomes an `omp.parallel`
    region in which every thread computes its own block of the flattened
    iteration space from `omp_get_thread_num()` and `omp_get_num_threads()`
    (as OpenMP's static schedule does: the first `total % threads` threads
    take one iteration more) and runs it as an `scf.for`, each iteration's
    body in a `memref.alloca_scope`.

    Upstream's `convert-scf-to-openmp` makes an `omp.wsloop` inside the
    region instead. Its translation calls `__kmpc_for_static_init` and ends
    the loop with a barrier before the region's own join barrier. In
    Debian's libomp that init formats debug strings with `vsnprintf` and
    `malloc` on every call, whether or not tracing is on (as a build with
    `KMP_DEBUG` does): the int8 decode step of `qlow-bench layer`, with five
    short parallel loops, spent 2-4% of its time there, and the second
    barrier costs more at 2 threads. Here a parallel loop costs one fork and
    one join.

    The first dimension's index is clamped to its trip count minus one,
    which it never exceeds (each thread's block lies within the iterations):
    the clamp tells LLVM so, which then folds masks of loads that the
    indices keep in bounds (three of the four on the column sums of a
    `int8-matmul-asm.mlir` tile epilogue, all four of which the
    `omp.wsloop` form kept).

    `scf.parallel` ops with reductions, and those nested in another parallel
    loop, are left as they are (`convert-scf-to-openmp`, which the CPU
    pipeline runs next, takes them). The pass declares
    `omp_get_thread_num` and `omp_get_num_threads` as private functions of
    type `() -> i32`; a symbol of either name with another meaning is an
    error.

    ```mlir
    // Before
    scf.parallel (%i, %j) = (%c0, %c0) to (%c6, %c5) step (%c1, %c2) {
      "use"(%i, %j) : (index, index) -> ()
    }
    // After (trip counts 6 and 3; t, n: the thread's number and count)
    omp.parallel {
      // begin = t * (18 / n) + min(t, 18 % n), end = begin + 18 / n + (t < 18 % n)
      scf.for %k = %begin to %end step %c1 {
        // %i = %k / 3, %j = (%k % 3) * 2
        memref.alloca_scope {
          "use"(%i, %j) : (index, index) -> ()
        }
      }
      omp.terminator
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect", "::mlir::omp::OpenMPDialect",
    "::mlir::scf::SCFDialect"
  ];
}

#endif // QLOW_PIPELINES_PASSES_TD
