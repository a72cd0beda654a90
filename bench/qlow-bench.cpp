//===- qlow-bench.cpp - qlow's kernels side by side with a peer -----------===//
//
// `qlow-bench matmul` builds each case as a qlow.matmul with constant
// weights, compiles it with qlow-cpu-pipeline for this machine, runs it and
// oneDNN's int8 matmul on the same inputs in the same process, checks that
// they agree, and prints one line per case with the ratio of their speeds.
// `qlow-bench layer` times whole encoder and decoder layers, kernel by
// kernel, next to oneDNN on their matmuls (LayerBench.cpp). `qlow-bench
// aarch64` counts the instructions per MAC of the AArch64 kernels under qemu
// (AArch64Bench.cpp).
//
//===----------------------------------------------------------------------===//

#include "AArch64Bench.h"
#include "Int4Module.h"
#include "LayerBench.h"
#include "Machine.h"
#include "OneDnnMatmul.h"
#include "OnnxBench.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/JIT/CompiledModule.h"
#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Reference/Ops.h"
#include "qlow/Registration.h"
#include "qlow/Support/CommandLine.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>

using namespace mlir;
namespace cl = llvm::cl;
namespace ref = ::qlow::ref;
using ::qlow::bench::OneDnnFloatMatmul;
using ::qlow::bench::OneDnnMatmul;

static cl::OptionCategory toolCategory("qlow-bench options");

static cl::opt<std::string>
    subcommand(cl::Positional, cl::Required,
               cl::desc("<matmul | layer | onnx | aarch64>"),
               cl::cat(toolCategory));
static cl::opt<std::string> aarch64Cpus(
    "aarch64-cpus",
    cl::desc("qlow-bench aarch64: comma-separated AArch64 CPUs to compile for "
             "(default: neoverse-n2,neoverse-n1, i8mm and dotprod)"),
    cl::cat(toolCategory));
static cl::opt<std::string> aarch64WorkDir(
    "aarch64-work-dir",
    cl::desc("qlow-bench aarch64: keep objects, programs and qemu logs here"),
    cl::cat(toolCategory));
static cl::opt<std::string>
    onlyCases("cases",
              cl::desc("Comma-separated M,K,N shapes to run, e.g. "
                       "1x4096x4096 (default: the issue's list)"),
              cl::cat(toolCategory));
static cl::opt<std::string> onlyInt4Cases(
    "int4-cases",
    cl::desc("Comma-separated M,K,N shapes of the int4 weight-only cases "
             "(default: 1x4096x4096,16x4096x4096; K a multiple of 128)"),
    cl::cat(toolCategory));
static cl::opt<unsigned> weightOnlyBits(
    "weight-only-bits",
    cl::desc("qlow-bench aarch64: the int4 cases' weights, 4 (i4) or 8 (i8 "
             "of any range in the same groups: the kernel's whole-byte "
             "form; case=int8w_sdot_...)"),
    cl::init(4), cl::cat(toolCategory));
static cl::opt<std::string> onlyFloatCases(
    "f32-cases",
    cl::desc("Comma-separated M,K,N shapes of the f32 cases (qlow's FMA "
             "kernel against oneDNN's f32 matmul; default: "
             "1x768x3072,128x768x768,128x768x3072,128x3072x768,"
             "1024x1024x1024)"),
    cl::cat(toolCategory));
static cl::opt<std::string> requantRounding(
    "requant-rounding",
    cl::desc("Rounding of the requantizing case: float (f32 scale and round "
             "half to even, as oneDNN's output scales) or fixedpoint "
             "(gemmlowp); default float"),
    cl::init("float"), cl::cat(toolCategory));
static cl::list<int>
    threadCounts("thread-counts",
                 cl::desc("Thread counts to measure (default 1,2)"),
                 cl::CommaSeparated, cl::cat(toolCategory));
static cl::opt<bool> skipMachine(
    "skip-machine-figures",
    cl::desc("Do not measure the vpdpbusd peak and the read bandwidth"),
    cl::cat(toolCategory));
static cl::opt<unsigned> alternateCalls(
    "alternate",
    cl::desc("int8 cases: also time N turns of qlow and of oneDNN taken "
             "one after the other, each after its input is written and its "
             "output zeroed (as CompiledModule::call does for qlow), and "
             "print the minimum and median time per call of each (on a busy "
             "machine both sides of a pair of turns see about the same load)"),
    cl::init(0), cl::cat(toolCategory));
static cl::opt<unsigned> alternateRepeat(
    "alternate-repeat",
    cl::desc("--alternate: back-to-back calls per turn, timed together "
             "(default 1)"),
    cl::init(1), cl::cat(toolCategory));
static cl::opt<bool> hugePages(
    "huge-pages",
    cl::desc("int4 cases and the read bandwidth: the JIT puts large "
             "constants (the packed weights) on 2 MB pages, and the "
             "streaming reads they are judged against read 2 MB pages too "
             "(default true; false puts all three on 4 KB pages, for A/B)"),
    cl::init(true), cl::cat(toolCategory));
static cl::opt<unsigned> weightBits(
    "weight-bits",
    cl::desc(
        "matmul int8 cases and layer weights: the s8 weights span the "
        "full range (8) or [-64, 63] (7, ONNX Runtime's reduce_range; a "
        "layer's per-channel scales then map max |w| to 63). Default: 8 on "
        "CPUs with AVX-512 VNNI or AVX-VNNI, 7 otherwise, where oneDNN "
        "2.6's vpmaddubsw kernels saturate pairs of full-range products "
        "(qlow's AVX2 kernels are exact for both: vpmaddubsw where no "
        "pair can saturate, i16 vpmaddwd otherwise). With 8 on such a "
        "CPU the s32 check reports oneDNN's differences instead of "
        "failing"),
    cl::init(0), cl::cat(toolCategory));
/// --weight-bits, or its default for this CPU; 0 (after a message) when it
/// is neither 7 nor 8.
unsigned resolvedWeightBits() {
  const unsigned bits = weightBits != 0
                            ? weightBits.getValue()
                            : (::qlow::bench::hostHasVnni() ? 8u : 7u);
  if (bits != 7 && bits != 8) {
    llvm::errs() << "qlow-bench: error: --weight-bits must be 7 or 8\n";
    return 0;
  }
  return bits;
}

static cl::opt<double>
    minSeconds("min-seconds",
               cl::desc("Time each measurement for at least this long"),
               cl::init(0.3), cl::cat(toolCategory));

// `layer` options (LayerBench.h); --thread-counts is shared.
static cl::list<std::string>
    layerNames("layers",
               cl::desc("layer: which layers (encoder, decoder, decode; "
                        "default all)"),
               cl::CommaSeparated, cl::cat(toolCategory));
static cl::opt<int64_t> layerSeq("seq", cl::desc("layer: sequence length"),
                                 cl::init(128), cl::cat(toolCategory));
static cl::opt<int64_t>
    layerCache("cache", cl::desc("layer: KV cache length of the decode step"),
               cl::init(512), cl::cat(toolCategory));
static cl::opt<int64_t> layerInt8Attention(
    "int8-attention",
    cl::desc("layer: int8 attention with this key_block (0: f32 attention)"),
    cl::init(0), cl::cat(toolCategory));
static cl::list<std::string> layerAttentionModes(
    "attention-modes",
    cl::desc("layer: time each layer with these attention modes (f32, int8; "
             "int8 with --int8-attention's key block, default 64); default: "
             "the one --int8-attention chooses"),
    cl::CommaSeparated, cl::cat(toolCategory));
static cl::opt<std::string> layerWriteDir(
    "write-layers",
    cl::desc("layer: also write each layer's qlow IR to "
             "<dir>/<layer>_<f32|int8>.mlir (for qlow-run or perf)"),
    cl::init(""), cl::cat(toolCategory));
static cl::opt<int64_t> layerDModel("d-model", cl::desc("layer: model width"),
                                    cl::init(768), cl::cat(toolCategory));
static cl::opt<int64_t> layerHeads("heads", cl::desc("layer: query heads"),
                                   cl::init(12), cl::cat(toolCategory));
static cl::opt<int64_t>
    layerKvHeads("kv-heads",
                 cl::desc("layer: the decoder's kv heads (default: --heads)"),
                 cl::init(0), cl::cat(toolCategory));
static cl::opt<int64_t> layerEncoderFfn("encoder-ffn",
                                        cl::desc("layer: encoder FFN width"),
                                        cl::init(3072), cl::cat(toolCategory));
static cl::opt<int64_t> layerDecoderFfn("decoder-ffn",
                                        cl::desc("layer: decoder FFN width"),
                                        cl::init(2048), cl::cat(toolCategory));
static cl::opt<unsigned>
    layerRepeat("repeat",
                cl::desc("layer: at least this many calls per timed batch, "
                         "and enough for 20 ms (best of three rounds, each "
                         "timing every function once); onnx: timed calls "
                         "per measurement (the median counts)"),
                cl::init(20), cl::cat(toolCategory));

// `onnx` options (OnnxBench.h); --thread-counts, --seq, --d-model, --heads,
// --encoder-ffn, --decoder-ffn and --repeat are shared with `layer`.
static cl::list<std::string> onnxModels(
    "models",
    cl::desc("onnx: which models (encoder_qdq, decoder_dynamic, mlp_int4, "
             "mlp_int4_qdq, mlp_int8, encoder_float_qlow; default all of "
             "these; also encoder12_qdq, twelve encoder layers)"),
    cl::CommaSeparated, cl::cat(toolCategory));
static cl::list<std::string>
    onnxPeers("peers",
              cl::desc("onnx: which peers (onnxruntime, iree; default both)"),
              cl::CommaSeparated, cl::cat(toolCategory));
static cl::opt<std::string>
    onnxWorkDir("work-dir",
                cl::desc("onnx: keep the models, inputs, peers' outputs and "
                         "logs here (default: a temporary directory)"),
                cl::cat(toolCategory));
static cl::opt<std::string>
    onnxPython("python",
               cl::desc("onnx: the Python that runs "
                        "bench/onnx_peers.py (default: python3)"),
               cl::cat(toolCategory));
static cl::opt<double> onnxMinCosine(
    "min-cosine",
    cl::desc("onnx: the least cosine similarity between every output of a "
             "peer and qlow's for a timing to be reported (default 0.999; "
             "0.99 for encoder12_qdq, twelve quantized layers)"),
    cl::init(0.999), cl::cat(toolCategory));

namespace {

struct Shape {
  int64_t m, k, n;
};

/// The shapes of the benchmark (issue #3).
std::vector<Shape> defaultShapes() {
  return {{1, 4096, 4096},   {16, 4096, 4096}, {128, 768, 768},
          {128, 768, 3072},  {128, 3072, 768}, {512, 4096, 4096},
          {1024, 1024, 1024}};
}

std::vector<Shape> parseShapes(StringRef text) {
  std::vector<Shape> shapes;
  SmallVector<StringRef> items;
  text.split(items, ',', -1, false);
  for (StringRef item : items) {
    SmallVector<StringRef> dims;
    item.split(dims, 'x');
    Shape s{0, 0, 0};
    if (dims.size() != 3 || dims[0].getAsInteger(10, s.m) ||
        dims[1].getAsInteger(10, s.k) || dims[2].getAsInteger(10, s.n) ||
        s.m <= 0 || s.k <= 0 || s.n <= 0) {
      llvm::errs() << "qlow-bench: error: bad shape '" << item
                   << "' (expected MxKxN)\n";
      std::exit(1);
    }
    shapes.push_back(s);
  }
  return shapes;
}

/// Builds `func @mm(%a: u8 [M, K]) -> s32 or s8 [M, N]` with the weights,
/// bias and scales as constants, as a model compiled ahead of time has them.
OwningOpRef<ModuleOp> buildMatmulModule(MLIRContext &ctx, const Shape &s,
                                        const std::vector<int8_t> &w,
                                        bool requantize, double lhsScale,
                                        const std::vector<double> &wScales,
                                        const std::vector<int32_t> &bias,
                                        double outScale) {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  Type f32 = b.getF32Type(), i8 = b.getI8Type();
  auto lhsQ = quant::UniformQuantizedType::get(0, i8, f32, lhsScale, 0, 0, 255);
  auto rhsQ = quant::UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, i8, f32, wScales,
      SmallVector<int64_t>(s.n, 0), 1, -128, 127);
  auto lhsType = RankedTensorType::get({s.m, s.k}, lhsQ);
  Type outElement = b.getI32Type();
  if (requantize)
    outElement = quant::UniformQuantizedType::get(
        quant::QuantizationFlags::Signed, i8, f32, outScale, 0, -128, 127);
  auto outType = RankedTensorType::get({s.m, s.n}, outElement);
  auto func = func::FuncOp::create(b, loc, "mm",
                                   b.getFunctionType({lhsType}, {outType}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  auto wStorage = RankedTensorType::get({s.k, s.n}, i8);
  Value wConst = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::getFromRawBuffer(
          wStorage,
          ArrayRef<char>(reinterpret_cast<const char *>(w.data()), w.size())));
  Value wq = quant::StorageCastOp::create(
      b, loc, RankedTensorType::get({s.k, s.n}, rhsQ), wConst);
  Value biasValue;
  if (requantize)
    biasValue = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get({s.n}, b.getI32Type()),
                               ArrayRef<int32_t>(bias)));
  Value y = mlir::qlow::MatmulOp::create(
      b, loc, outType, body->getArgument(0), wq, biasValue,
      requantRounding == "fixedpoint" ? mlir::qlow::RoundingMode::FixedPoint
                                      : mlir::qlow::RoundingMode::Float,
      /*dynamic=*/nullptr);
  func::ReturnOp::create(b, loc, y);
  return module;
}

/// Builds `func @mm(%x: f32 [M, K]) -> f32 [M, N]`: an int4 weight-only
/// matmul, i4 weights (stored values in `w`, row-major [K, N]) with a scale
/// per group of `group` rows and column, activations quantized per row at run
/// time (symmetric i8).
OwningOpRef<ModuleOp> buildInt4Module(MLIRContext &ctx, const Shape &s,
                                      int64_t group,
                                      const std::vector<int8_t> &w,
                                      const std::vector<float> &scales) {
  return ::qlow::bench::buildInt4WeightOnlyModule(ctx, "mm", s.m, s.k, s.n,
                                                  group, w, scales);
}

/// Seconds per call of `fn`, the best of three batches of at least
/// --min-seconds each.
template <typename Fn> double timePerCall(Fn fn) {
  fn(); // Warm up caches and any lazy initialization.
  double best = 1e30;
  for (int batch = 0; batch < 3; ++batch) {
    int64_t calls = 0;
    auto start = std::chrono::steady_clock::now();
    double elapsed = 0.0;
    do {
      fn();
      ++calls;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              start)
                    .count();
    } while (elapsed < minSeconds / 3);
    best = std::min(best, elapsed / calls);
  }
  return best;
}

/// Seconds per call of a compiled qlow function, timed as timePerCall times
/// its peers: a warm-up call, then the best of three batches of back-to-back
/// calls, each batch at least --min-seconds / 3 long (its call count from the
/// warm-up call's time). A batch's count was once derived from an assumed
/// 50 GOPS: 2 calls per batch at 1024^3, so that the first call of each batch
/// woke the OpenMP threads (asleep 1 ms after a region) and ran beside the
/// write-back of the 5 MB that call() had just written (input and zeroed
/// output), while oneDNN's batches ran about 50 calls (1024^3, 2 threads,
/// first 2-thread case of a run, busy machine: qlow at one thread's speed,
/// ratio 0.55-0.61).
FailureOr<double> timeCompiledCall(mlir::qlow::CompiledModule &compiled,
                                   const mlir::qlow::EntrySignature &signature,
                                   const ref::Tensor &input) {
  double warmUp = 0.0;
  if (failed(compiled.call(signature, {input}, 1, &warmUp)))
    return failure();
  unsigned repeat = static_cast<unsigned>(
      std::clamp(std::ceil(minSeconds / 3 / std::max(warmUp, 1e-9)), 1.0, 1e6));
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    double perCall = 0.0;
    if (failed(compiled.call(signature, {input}, repeat, &perCall)))
      return failure();
    best = std::min(best, perCall);
  }
  return best;
}

/// Builds `func @mm(%x: f32 [M, K]) -> f32 [M, N]`: a float matmul with the
/// constant weights `w` (row-major [K, N]).
OwningOpRef<ModuleOp> buildFloatMatmulModule(MLIRContext &ctx, const Shape &s,
                                             const std::vector<float> &w) {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  Type f32 = b.getF32Type();
  auto lhsType = RankedTensorType::get({s.m, s.k}, f32);
  auto outType = RankedTensorType::get({s.m, s.n}, f32);
  auto func = func::FuncOp::create(b, loc, "mm",
                                   b.getFunctionType({lhsType}, {outType}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  Value wConst = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({s.k, s.n}, f32),
                             ArrayRef<float>(w)));
  Value y = mlir::qlow::MatmulOp::create(
      b, loc, outType, body->getArgument(0), wConst, /*bias=*/Value(),
      mlir::qlow::RoundingMode::Float, /*dynamic=*/nullptr);
  func::ReturnOp::create(b, loc, y);
  return module;
}

/// The f32 cases: qlow's FMA kernel (qlow-float-matmul, weights packed at
/// compile time) against oneDNN's f32 matmul (weights reordered once), the
/// same inputs; the results agree within f32 rounding (different orders of
/// summation), checked against max |C|.
LogicalResult runFloat(MLIRContext &ctx, ArrayRef<int> threads,
                       std::mt19937 &rng) {
  std::vector<Shape> shapes = parseShapes(
      "1x768x3072,128x768x768,128x768x3072,128x3072x768,1024x1024x1024");
  if (!onlyFloatCases.empty())
    shapes = parseShapes(onlyFloatCases);
  else if (!onlyCases.empty() || !onlyInt4Cases.empty())
    return success(); // --cases and --int4-cases pick other kinds.
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const Shape &s : shapes) {
    std::vector<float> a(s.m * s.k), w(s.k * s.n);
    for (auto &v : a)
      v = normal(rng);
    for (auto &v : w)
      v = 0.05f * normal(rng);
    OwningOpRef<ModuleOp> module = buildFloatMatmulModule(ctx, s, w);
    auto func = module->lookupSymbol<func::FuncOp>("mm");
    FailureOr<mlir::qlow::EntrySignature> signature =
        mlir::qlow::getEntrySignature(func);
    mlir::qlow::CompileOptions options;
    options.cpu = "host";
    auto compiled =
        failed(signature)
            ? FailureOr<std::unique_ptr<mlir::qlow::CompiledModule>>(failure())
            : mlir::qlow::CompiledModule::compile(*module, options,
                                                  {*signature});
    if (failed(compiled)) {
      llvm::errs() << "qlow-bench: error: cannot compile the f32 case " << s.m
                   << "x" << s.k << "x" << s.n << "\n";
      return failure();
    }
    ref::Tensor input = ref::Tensor::zeros((*signature).inputs[0]);
    input.f = a;
    OneDnnFloatMatmul peer(s.m, s.k, s.n, a, w);
    peer.run();
    std::vector<float> expected = peer.result();
    auto result = (*compiled)->call(*signature, {input});
    if (failed(result))
      return failure();
    double maxDiff = 0.0, maxAbs = 0.0;
    for (size_t i = 0; i < expected.size(); ++i) {
      maxDiff = std::max<double>(
          maxDiff, std::fabs(double((*result)[0].f[i]) - expected[i]));
      maxAbs = std::max<double>(maxAbs, std::fabs(expected[i]));
    }
    double relDiff = maxDiff / std::max(maxAbs, 1e-30);
    if (relDiff > 1e-4) {
      llvm::errs() << "qlow-bench: error: f32 " << s.m << "x" << s.k << "x"
                   << s.n << ": qlow and oneDNN differ by " << relDiff
                   << " of max |C|\n";
      return failure();
    }
    double ops = 2.0 * s.m * s.n * s.k;
    for (int t : threads) {
      omp_set_num_threads(t);
      FailureOr<double> qlowTime =
          timeCompiledCall(**compiled, *signature, input);
      if (failed(qlowTime))
        return failure();
      double qlowSeconds = *qlowTime;
      double peerSeconds = timePerCall([&] { peer.run(); });
      double qlowGflops = ops / qlowSeconds / 1e9;
      double peerGflops = ops / peerSeconds / 1e9;
      llvm::outs() << llvm::formatv(
          "case=f32 M={0} K={1} N={2} threads={3} qlow_gflops={4:f1} "
          "peer=onednn peer_gflops={5:f1} ratio={6:f3} "
          "max_rel_diff_vs_peer={7:e}\n",
          s.m, s.k, s.n, t, qlowGflops, peerGflops, qlowGflops / peerGflops,
          relDiff);
      llvm::outs().flush();
    }
  }
  return success();
}

/// The int4 weight-only cases: M = 1 and 16, K = N = 4096, groups of 128,
/// against oneDNN's u8 x s8 matmul of the same shape (int4 streams half its
/// weight bytes) and against the read bandwidth measured here.
LogicalResult runInt4(MLIRContext &ctx, ArrayRef<int> threads,
                      std::mt19937 &rng) {
  const int64_t group = 128;
  std::vector<Shape> shapes = {{1, 4096, 4096}, {16, 4096, 4096}};
  if (!onlyInt4Cases.empty())
    shapes = parseShapes(onlyInt4Cases);
  else if (!onlyCases.empty() || !onlyFloatCases.empty())
    return success(); // --cases and --f32-cases pick other kinds only.
  for (const Shape &s : shapes) {
    if (s.k % group != 0) {
      llvm::errs() << "qlow-bench: error: K = " << s.k
                   << " is not a multiple of the group size " << group << "\n";
      return failure();
    }
    std::uniform_int_distribution<int> s4(-8, 7), u8(0, 255), s8(-128, 127);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> scaleDist(0.005f, 0.02f);
    std::vector<int8_t> w(s.k * s.n), w8(s.k * s.n);
    std::vector<float> scales(s.k / group * s.n), x(s.m * s.k);
    std::vector<uint8_t> a(s.m * s.k);
    for (auto &v : w)
      v = static_cast<int8_t>(s4(rng));
    for (auto &v : w8)
      v = static_cast<int8_t>(s8(rng));
    for (auto &v : scales)
      v = scaleDist(rng);
    for (auto &v : x)
      v = normal(rng);
    for (auto &v : a)
      v = static_cast<uint8_t>(u8(rng));
    std::string name =
        llvm::formatv("int4_g{0}_{1}x{2}x{3}", group, s.m, s.k, s.n).str();
    OwningOpRef<ModuleOp> module = buildInt4Module(ctx, s, group, w, scales);
    auto func = module->lookupSymbol<func::FuncOp>("mm");
    FailureOr<mlir::qlow::EntrySignature> signature =
        mlir::qlow::getEntrySignature(func);
    mlir::qlow::CompileOptions options;
    options.cpu = "host";
    mlir::qlow::JITMemoryOptions memory;
    memory.hugePages = hugePages;
    auto compiled =
        failed(signature)
            ? FailureOr<std::unique_ptr<mlir::qlow::CompiledModule>>(failure())
            : mlir::qlow::CompiledModule::compile(*module, options,
                                                  {*signature}, memory);
    if (failed(compiled)) {
      llvm::errs() << "qlow-bench: error: cannot compile case " << name << "\n";
      return failure();
    }
    ref::Tensor input = ref::Tensor::zeros((*signature).inputs[0]);
    input.f = x;
    auto result = (*compiled)->call(*signature, {input});
    if (failed(result)) {
      llvm::errs() << "qlow-bench: error: cannot run case " << name << "\n";
      return failure();
    }
    // Bit-exact against the reference semantics, as the tests require.
    {
      ref::QuantParams params = ref::QuantParams::subChannel(
          ref::IntType::i4(), {s.k / group, s.n},
          std::vector<double>(scales.begin(), scales.end()),
          std::vector<int64_t>(scales.size(), 0));
      std::vector<int64_t> stored(w.begin(), w.end());
      ref::Tensor rhs = ref::Tensor::makeQuant({s.k, s.n}, params, stored);
      ref::DynamicQuant dq;
      ref::Expected<ref::Tensor> expected =
          ref::matmul(input, rhs, nullptr, ref::TensorType::f32({s.m, s.n}),
                      ref::Rounding::FixedPoint, &dq);
      if (!expected.ok() || expected.value.f != (*result)[0].f) {
        llvm::errs() << "qlow-bench: error: " << name
                     << ": qlow's result differs from the reference"
                     << (expected.ok() ? "" : ": " + expected.status.message())
                     << "\n";
        return failure();
      }
    }
    // Where the packed weights really are, now that the first call touched
    // them: the JIT's large read-only sections, 2m when smaps shows them on
    // huge pages (4k when there is none: huge pages off or unsupported).
    const char *weightPages = "4k";
    double weightHugeMiB = 0.0;
    {
      auto mappings = (*compiled)->largeConstantMappings();
      for (const auto &mapping : mappings)
        weightHugeMiB +=
            mlir::qlow::residentHugePageBytes(mapping.base, mapping.size) /
            double(1 << 20);
      if (!mappings.empty() && llvm::all_of(mappings, [](const auto &mapping) {
            return llvm::StringRef(::qlow::bench::pageKind(
                       mapping.base, mapping.size)) == "2m";
          }))
        weightPages = "2m";
    }
    // oneDNN's s8 weights are its own allocation (4 KB pages): not moved.
    OneDnnMatmul peer(s.m, s.k, s.n, a, w8, /*requantize=*/false, {}, {},
                      hugePages);
    // Bytes the kernel must stream: two weights per byte and an f32 scale
    // per group and column.
    double weightBytes = s.k * s.n / 2.0 + 4.0 * scales.size();
    double ops = 2.0 * s.m * s.n * s.k;
    // A decoder's layers together hold far more weights than the caches, so
    // each call finds its weights in DRAM; and they run back to back, so the
    // call finds its thread pool awake. Every timed call follows an eviction
    // of the caches and then an empty parallel region that wakes the OpenMP
    // threads, for qlow and oneDNN alike; the median of the calls counts.
    // Without the wake-up, a 0.3 ms call would also time the wake-up of a
    // sleeping thread.
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    // The streaming read it is judged against reads as many bytes under the
    // same protocol (caches evicted, threads woken, the median of the same
    // number of calls, taken in turn with the kernel's), each thread a
    // contiguous share with zmm loads: ramp-up, DRAM latency and the
    // prefetchers' restart at each 4 KB page cost both alike. The best of
    // three sweeps of 512 MiB (no start-up, warm threads) is printed beside
    // it as the steady-state figure. Both read the page size the weights
    // were given (--huge-pages), so that the share is of the best streaming
    // read this machine does.
    const size_t readBytes =
        (static_cast<size_t>(weightBytes) + 255) / 256 * 256;
    ::qlow::bench::PageBuffer readBuffer(readBytes, hugePages);
    const int calls = 31;
    for (int t : threads) {
      omp_set_num_threads(t);
      std::vector<double> qlowTimes, peerTimes, readTimes;
      for (int rep = 0; rep < calls; ++rep) {
        double perCall = 0.0;
        ::qlow::bench::evictCaches();
        ::qlow::bench::wakeOpenMpThreads(t);
        if (failed((*compiled)->call(*signature, {input}, 1, &perCall)))
          return failure();
        qlowTimes.push_back(perCall);
        ::qlow::bench::evictCaches();
        ::qlow::bench::wakeOpenMpThreads(t);
        auto start = std::chrono::steady_clock::now();
        peer.run();
        peerTimes.push_back(std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count());
        ::qlow::bench::evictCaches();
        ::qlow::bench::wakeOpenMpThreads(t);
        int64_t sum = 0;
        readTimes.push_back(
            ::qlow::bench::timeRead(readBuffer.data(), readBytes, t, &sum));
        if (sum != static_cast<int64_t>(readBytes / 8)) {
          llvm::errs() << "qlow-bench: error: the streaming read summed " << sum
                       << ", not " << readBytes / 8 << "\n";
          return failure();
        }
      }
      double qlowSeconds = median(qlowTimes), peerSeconds = median(peerTimes);
      double qlowGops = ops / qlowSeconds / 1e9;
      double peerGops = ops / peerSeconds / 1e9;
      double weightGBs = weightBytes / qlowSeconds / 1e9;
      double bandwidth = readBytes / median(readTimes) / 1e9;
      const char *steadyPages = "4k";
      double steady =
          ::qlow::bench::measureReadBandwidthGBs(t, hugePages, &steadyPages);
      llvm::outs() << llvm::formatv(
          "case=int4_g{0}_weight_only_cold M={1} K={2} N={3} threads={4} "
          "qlow_gops={5:f1} peer=onednn_u8s8s32 peer_gops={6:f1} "
          "ratio={7:f3} weight_gbs={8:f1} stream_read_gbs={9:f1} "
          "bandwidth_share={10:f3} stream_read_512mib_gbs={11:f1} "
          "bandwidth_share_512mib={12:f3} weight_pages={13} "
          "weight_huge_mib={14:f1} read_pages={15} read_512mib_pages={16} "
          "onednn_weight_pages={17}\n",
          group, s.m, s.k, s.n, t, qlowGops, peerGops, qlowGops / peerGops,
          weightGBs, bandwidth, weightGBs / bandwidth, steady,
          steady > 0 ? weightGBs / steady : 0.0, weightPages, weightHugeMiB,
          readBuffer.pages(), steadyPages, peer.weightPages());
      llvm::outs().flush();
    }
  }
  return success();
}

int runMatmul() {
  if (requantRounding != "float" && requantRounding != "fixedpoint") {
    llvm::errs() << "qlow-bench: error: --requant-rounding must be float or "
                    "fixedpoint, got '"
                 << requantRounding << "'\n";
    return 1;
  }
  // --cases, --int4-cases and --f32-cases each pick their kind's shapes;
  // given any, only the kinds given run.
  std::vector<Shape> shapes = !onlyCases.empty() ? parseShapes(onlyCases)
                              : onlyInt4Cases.empty() && onlyFloatCases.empty()
                                  ? defaultShapes()
                                  : std::vector<Shape>();
  std::vector<int> threads(threadCounts.begin(), threadCounts.end());
  if (threads.empty())
    threads = {1, 2};

  DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  // Keep diagnostics (a failed compile) visible and fatal for this case only.
  double qlowBest = 0.0;
  std::mt19937 rng(42);
  // The plain s32 kernels, kept per case index for the epilogue's cost:
  // each requantizing case is timed against its s32 kernel in alternating
  // batches, so that both see the same machine (timed minutes apart, the
  // two drifted by up to 7% on a busy 2-core host).
  struct PlainKernel {
    std::unique_ptr<mlir::qlow::CompiledModule> compiled;
    mlir::qlow::EntrySignature signature;
    ref::Tensor input;
  };
  std::map<size_t, PlainKernel> plainKernels;

  // oneDNN 2.6 without VNNI (AVX2 and AVX-512 without VNNI) computes u8 x s8
  // with vpmaddubsw, whose i16 pair sums saturate for full-range weights
  // (255 * 128 * 2 > 32767): its results are then not the exact products
  // qlow computes. 7-bit weights keep both exact and comparable.
  const bool hostVnni = ::qlow::bench::hostHasVnni();
  const unsigned bits = resolvedWeightBits();
  if (bits == 0)
    return 1;
  const bool peerMaySaturate = bits == 8 && !hostVnni;
  for (bool requantize : {false, true}) {
    for (auto [shapeIndex, s] : llvm::enumerate(shapes)) {
      std::uniform_int_distribution<int> u8(0, 255),
          s8(bits == 8 ? -128 : -64, bits == 8 ? 127 : 63), b32(-5000, 5000);
      std::vector<uint8_t> a(s.m * s.k);
      std::vector<int8_t> w(s.k * s.n);
      std::vector<int32_t> bias(s.n);
      for (auto &v : a)
        v = u8(rng);
      for (auto &v : w)
        v = s8(rng);
      for (auto &v : bias)
        v = b32(rng);
      const double lhsScale = 0.02, outScale = 0.5 * s.k / 128.0;
      std::vector<double> wScales(s.n);
      std::vector<float> onednnScales(s.n);
      for (int64_t j = 0; j < s.n; ++j) {
        wScales[j] = 0.001 * (1 + j % 7);
        onednnScales[j] = static_cast<float>(lhsScale * wScales[j] / outScale);
      }
      std::string name =
          llvm::formatv("{0}_{1}x{2}x{3}",
                        requantize ? "u8s8s8_bias_perchannel" : "u8s8s32", s.m,
                        s.k, s.n)
              .str();

      // qlow: compile once (weights packed at compile time), then run.
      OwningOpRef<ModuleOp> module = buildMatmulModule(
          ctx, s, w, requantize, lhsScale, wScales, bias, outScale);
      auto func = module->lookupSymbol<func::FuncOp>("mm");
      FailureOr<mlir::qlow::EntrySignature> signature =
          mlir::qlow::getEntrySignature(func);
      mlir::qlow::CompileOptions options;
      options.cpu = "host";
      mlir::qlow::JITMemoryOptions memory;
      memory.hugePages = hugePages;
      auto compiled =
          failed(signature)
              ? FailureOr<std::unique_ptr<mlir::qlow::CompiledModule>>(
                    failure())
              : mlir::qlow::CompiledModule::compile(*module, options,
                                                    {*signature}, memory);
      if (failed(compiled)) {
        llvm::errs() << "qlow-bench: error: cannot compile case " << name
                     << "\n";
        return 1;
      }
      ref::Tensor input = ref::Tensor::zeros((*signature).inputs[0]);
      for (size_t i = 0; i < a.size(); ++i)
        input.i[i] = a[i];

      // The same matmul in oneDNN, and the agreement of the two results.
      OneDnnMatmul peer(s.m, s.k, s.n, a, w, requantize, bias, onednnScales,
                        hugePages);
      peer.run();
      std::vector<int32_t> expected = peer.result();
      auto result = (*compiled)->call(*signature, {input});
      if (failed(result)) {
        llvm::errs() << "qlow-bench: error: cannot run case " << name << "\n";
        return 1;
      }
      int64_t maxDiff = 0;
      for (size_t i = 0; i < expected.size(); ++i)
        maxDiff = std::max<int64_t>(maxDiff,
                                    std::abs((*result)[0].i[i] - expected[i]));
      if (!requantize && maxDiff != 0 && peerMaySaturate) {
        llvm::outs() << llvm::formatv(
            "note case={0} oneDNN's s32 results differ from the exact ones "
            "(max |diff| {1}): its vpmaddubsw saturates full-range weights "
            "on this CPU; qlow's are exact\n",
            name, maxDiff);
      } else if (!requantize && maxDiff != 0) {
        llvm::errs() << "qlow-bench: error: " << name
                     << ": qlow and oneDNN s32 results differ (max |diff| "
                     << maxDiff << ")\n";
        return 1;
      }

      double ops = 2.0 * s.m * s.n * s.k;
      for (int t : threads) {
        omp_set_num_threads(t);
        FailureOr<double> qlowTime =
            timeCompiledCall(**compiled, *signature, input);
        if (failed(qlowTime))
          return 1;
        double qlowSeconds = *qlowTime;
        double peerSeconds = timePerCall([&] { peer.run(); });
        double qlowGops = ops / qlowSeconds / 1e9;
        double peerGops = ops / peerSeconds / 1e9;
        if (t == 1)
          qlowBest = std::max(qlowBest, qlowGops);
        llvm::outs() << llvm::formatv(
            "case={0} M={1} K={2} N={3} threads={4} qlow_gops={5:f1} "
            "peer=onednn peer_gops={6:f1} ratio={7:f3} weight_bits={9}{8}\n",
            requantize ? "u8s8s8_bias_perchannel" : "u8s8s32", s.m, s.k, s.n, t,
            qlowGops, peerGops, qlowGops / peerGops,
            requantize ? llvm::formatv(" max_abs_diff_vs_peer={0} rounding={1}",
                                       maxDiff, requantRounding.getValue())
                             .str()
                       : std::string(),
            bits);
        if (alternateCalls > 0) {
          std::vector<double> qlowCalls, peerCalls;
          for (unsigned call = 0; call < alternateCalls; ++call) {
            double perCall = 0.0;
            const unsigned turn = std::max(1u, alternateRepeat.getValue());
            if (failed((*compiled)->call(*signature, {input}, turn, &perCall)))
              return 1;
            qlowCalls.push_back(perCall);
            peer.writeInput(a);
            auto start = std::chrono::steady_clock::now();
            for (unsigned r = 0; r < turn; ++r)
              peer.run();
            peerCalls.push_back(std::chrono::duration<double>(
                                    std::chrono::steady_clock::now() - start)
                                    .count() /
                                turn);
          }
          llvm::sort(qlowCalls);
          llvm::sort(peerCalls);
          double qlowMin = qlowCalls.front(), peerMin = peerCalls.front();
          double qlowMedian = qlowCalls[qlowCalls.size() / 2];
          double peerMedian = peerCalls[peerCalls.size() / 2];
          llvm::outs() << llvm::formatv(
              "alternate case={0} M={1} K={2} N={3} threads={4} turns={5} "
              "calls_per_turn={12} "
              "qlow_min_gops={6:f1} peer_min_gops={7:f1} ratio_min={8:f3} "
              "qlow_median_gops={9:f1} peer_median_gops={10:f1} "
              "ratio_median={11:f3}\n",
              requantize ? "u8s8s8_bias_perchannel" : "u8s8s32", s.m, s.k, s.n,
              t, alternateCalls.getValue(), ops / qlowMin / 1e9,
              ops / peerMin / 1e9, peerMin / qlowMin, ops / qlowMedian / 1e9,
              ops / peerMedian / 1e9, peerMedian / qlowMedian,
              std::max(1u, alternateRepeat.getValue()));
        }
        // The fused epilogue (bias, per-channel requantization to s8)
        // against the plain s32 kernel of the same shape and threads:
        // five rounds, each a batch of s32 calls then a batch of s8 calls
        // (a batch lasts about --min-seconds / 6), the best batch of each.
        auto plain = plainKernels.find(shapeIndex);
        if (requantize && plain != plainKernels.end()) {
          PlainKernel &p = plain->second;
          unsigned repeat = static_cast<unsigned>(std::clamp(
              std::ceil(minSeconds / 6 / std::max(qlowSeconds, 1e-9)), 1.0,
              1e6));
          double plainBest = 1e30, fusedBest = 1e30;
          for (int round = 0; round < 5; ++round) {
            double perCall = 0.0;
            if (failed(
                    p.compiled->call(p.signature, {p.input}, repeat, &perCall)))
              return 1;
            plainBest = std::min(plainBest, perCall);
            if (failed(
                    (*compiled)->call(*signature, {input}, repeat, &perCall)))
              return 1;
            fusedBest = std::min(fusedBest, perCall);
          }
          llvm::outs() << llvm::formatv(
              "epilogue M={0} K={1} N={2} threads={3} qlow_s32_ms={4:f4} "
              "qlow_s8_bias_perchannel_ms={5:f4} epilogue_cost={6:f3} "
              "rounds=5 calls_per_batch={7}\n",
              s.m, s.k, s.n, t, 1e3 * plainBest, 1e3 * fusedBest,
              fusedBest / plainBest - 1.0, repeat);
        }
        llvm::outs().flush();
      }
      if (!requantize)
        plainKernels[shapeIndex] =
            PlainKernel{std::move(*compiled), *signature, std::move(input)};
    }
  }
  if (failed(runInt4(ctx, threads, rng)))
    return 1;
  if (failed(runFloat(ctx, threads, rng)))
    return 1;
  if (skipMachine)
    return 0;
  double peak = ::qlow::bench::measureVnniPeakGops();
  llvm::outs() << llvm::formatv("vpdpbusd_peak_gops={0:f1} "
                                "qlow_best_share_of_peak={1:f3}\n",
                                peak, peak > 0 ? qlowBest / peak : 0.0);
  if (!::qlow::bench::hostHasVnni()) {
    // Without VNNI the int8 kernels (qlow's and oneDNN's) are vpmaddubsw
    // code: their ceiling is that sequence's rate.
    double avx2Peak = ::qlow::bench::measureAvx2Int8PeakGops();
    llvm::outs() << llvm::formatv(
        "avx2_int8_peak_gops={0:f1} form=vpmaddubsw+vpmaddwd+vpaddd "
        "qlow_best_share_of_peak={1:f3}\n",
        avx2Peak, avx2Peak > 0 ? qlowBest / avx2Peak : 0.0);
    // The same sequence beside f32 FMAs (2 int8 multiplies per FMA): only
    // where it beats the line above could a kernel that computes some
    // columns exactly in f32 pass the int8 ceiling (not on Zen 3: about
    // 0.94 of it).
    double mix = ::qlow::bench::measureAvx2FmaMixGops();
    llvm::outs() << llvm::formatv(
        "avx2_int8_fma_mix_gops={0:f1} form=2x(vpmaddubsw+vpmaddwd+vpaddd)+"
        "vfmadd231ps ratio_to_int8_peak={1:f3}\n",
        mix, avx2Peak > 0 ? mix / avx2Peak : 0.0);
  }
  for (int t : threads) {
    const char *pages = "4k";
    double gbs = ::qlow::bench::measureReadBandwidthGBs(t, hugePages, &pages);
    llvm::outs() << llvm::formatv(
        "stream_read_gbs threads={0} gbs={1:f1} pages={2}\n", t, gbs, pages);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  // qlow's kernels and oneDNN run on one OpenMP runtime here, libomp (see
  // Machine.h: oneDNN's GOMP_parallel calls bind to it). Idle OpenMP threads
  // spin before they sleep (libomp for 200 ms by default), competing on a
  // small machine with the main thread's serial work between timed regions.
  // They are told to sleep within 1 ms unless the user set otherwise;
  // GOMP_SPINCOUNT does the same for a build in which oneDNN binds to
  // libgomp instead.
  setenv("KMP_BLOCKTIME", "1", /*overwrite=*/0);
  setenv("GOMP_SPINCOUNT", "10000", /*overwrite=*/0);
  llvm::InitLLVM init(argc, argv);
  // libLLVM's own `--threads` swallowed `--threads 1`, and the default
  // thread counts were measured: `--threads` is --thread-counts.
  mlir::qlow::hideLLVMThreadsOption();
  static cl::alias threadsAlias(
      "threads", cl::desc("Alias for --thread-counts"),
      cl::aliasopt(threadCounts), cl::CommaSeparated, cl::cat(toolCategory));
  mlir::qlow::showOnlyToolOptions(toolCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "qlow-bench: qlow's kernels against a peer, measured in one process\n");
  if (subcommand == "layer") {
    ::qlow::bench::LayerBenchOptions options;
    if (!layerNames.empty())
      options.layers.assign(layerNames.begin(), layerNames.end());
    if (!threadCounts.empty())
      options.threads.assign(threadCounts.begin(), threadCounts.end());
    options.seq = layerSeq;
    options.cache = layerCache;
    options.int8AttentionKeyBlock = layerInt8Attention;
    options.attentionModes.assign(layerAttentionModes.begin(),
                                  layerAttentionModes.end());
    options.dModel = layerDModel;
    options.heads = layerHeads;
    options.kvHeads = layerKvHeads > 0 ? layerKvHeads : layerHeads;
    options.encoderFfn = layerEncoderFfn;
    options.decoderFfn = layerDecoderFfn;
    options.writeLayersDir = layerWriteDir;
    options.repeat = std::max(1u, layerRepeat.getValue());
    options.weightBits = resolvedWeightBits();
    if (options.weightBits == 0)
      return 1;
    if (options.seq <= 0 || options.cache <= 0 || options.dModel <= 0 ||
        options.heads <= 0 || options.kvHeads <= 0 || options.encoderFfn <= 0 ||
        options.decoderFfn <= 0) {
      llvm::errs() << "qlow-bench: error: layer sizes must be positive\n";
      return 1;
    }
    return ::qlow::bench::runLayerBench(options);
  }
  if (subcommand == "onnx") {
    ::qlow::bench::OnnxBenchOptions options;
    if (!onnxModels.empty())
      options.models.assign(onnxModels.begin(), onnxModels.end());
    if (!onnxPeers.empty())
      options.peers.assign(onnxPeers.begin(), onnxPeers.end());
    if (!threadCounts.empty())
      options.threads.assign(threadCounts.begin(), threadCounts.end());
    options.seq = layerSeq;
    options.dModel = layerDModel;
    options.heads = layerHeads;
    options.encoderFfn = layerEncoderFfn;
    options.decoderFfn = layerDecoderFfn;
    options.repeat = std::max(1u, layerRepeat.getValue());
    options.workDir = onnxWorkDir;
    options.python = onnxPython;
    if (onnxMinCosine.getNumOccurrences())
      options.minCosine = onnxMinCosine;
    return ::qlow::bench::runOnnxBench(options);
  }
  if (subcommand == "aarch64") {
    ::qlow::bench::AArch64BenchOptions options;
    if (!onlyCases.empty()) {
      options.cases.clear();
      for (const Shape &shape : parseShapes(onlyCases))
        options.cases.push_back({shape.m, shape.k, shape.n});
    }
    // As for matmul: --cases alone picks int8 shapes only.
    if (!onlyInt4Cases.empty() || !onlyCases.empty())
      options.int4Cases.clear();
    if (!onlyInt4Cases.empty()) {
      if (onlyCases.empty())
        options.cases.clear();
      for (const Shape &shape : parseShapes(onlyInt4Cases))
        options.int4Cases.push_back({shape.m, shape.k, shape.n});
    }
    if (!aarch64Cpus.empty()) {
      SmallVector<StringRef> cpus;
      StringRef(aarch64Cpus).split(cpus, ',', -1, false);
      options.cpus.assign(cpus.begin(), cpus.end());
    }
    if (weightOnlyBits != 4 && weightOnlyBits != 8) {
      llvm::errs() << "qlow-bench: error: --weight-only-bits must be 4 or 8, "
                      "not "
                   << weightOnlyBits << "\n";
      return 1;
    }
    options.weightBits = weightOnlyBits;
    options.workDir = aarch64WorkDir;
    return ::qlow::bench::runAArch64Bench(options);
  }
  if (subcommand != "matmul") {
    llvm::errs() << "qlow-bench: error: unknown subcommand '" << subcommand
                 << "'; known: matmul, layer, onnx, aarch64\n";
    return 1;
  }
  return runMatmul();
}
