//===- OnnxBench.cpp - qlow-bench onnx: ONNX models against their peers ---===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// `qlow-bench onnx` builds the ONNX tests' models at benchmark sizes
// (bench/onnx_peers.py build: a BERT-style encoder layer quantized by ORT's
// quantize_static, a Llama-style decoder layer quantized by quantize_dynamic,
// a Llama-style MLP with MatMulNBits int4 weights, the same MLP with its int4
// weights in QDQ form (blocked DequantizeLinear), and the float encoder
// layer, which qlow quantizes with qlow-quantize), then for each model:
//
//  * imports it, compiles it for this CPU and times it in process, as
//    qlow-run does (the median of --repeat calls, without the copies in and
//    out);
//  * runs each peer (ONNX Runtime, IREE) in bench/onnx_peers.py on the same
//    inputs, which prints the median of as many calls and writes the peer's
//    outputs;
//  * checks that every output of every peer agrees with qlow's (cosine
//    similarity >= --min-cosine) before it prints a ratio, so that the
//    benchmark never times a wrong computation.
//
//===----------------------------------------------------------------------===//

#include "OnnxBench.h"

#include "qlow/Import/ONNX/ImportONNX.h"
#include "qlow/JIT/CompiledModule.h"
#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Reference/Npy.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "qlow/Registration.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

using namespace mlir;
namespace ref = ::qlow::ref;
using ::qlow::bench::OnnxBenchOptions;

#ifndef QLOW_ONNX_PEERS_SCRIPT
#error "bench/CMakeLists.txt defines QLOW_ONNX_PEERS_SCRIPT"
#endif

namespace {

int benchError(const llvm::Twine &message) {
  llvm::errs() << "qlow-bench: error: " << message << "\n";
  return 1;
}

//===----------------------------------------------------------------------===//
// The peers' script
//===----------------------------------------------------------------------===//

/// Runs `python onnx_peers.py args...`, its stdout and stderr into
/// `<logBase>.out` and `<logBase>.err`. Returns its stdout, or an error
/// message that ends with the tail of its stderr.
FailureOr<std::string> runPeersScript(const OnnxBenchOptions &options,
                                      ArrayRef<std::string> args,
                                      StringRef logBase, std::string &error) {
  std::string python = options.python.empty() ? "python3" : options.python;
  if (!StringRef(python).contains('/')) {
    auto found = llvm::sys::findProgramByName(python);
    if (!found) {
      error = "cannot find " + python + " on PATH (give --python)";
      return failure();
    }
    python = *found;
  }
  std::vector<StringRef> argv = {python, QLOW_ONNX_PEERS_SCRIPT};
  for (const std::string &arg : args)
    argv.push_back(arg);
  std::string outPath = (logBase + ".out").str();
  std::string errPath = (logBase + ".err").str();
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(outPath),
                                          StringRef(errPath)};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(python, argv, std::nullopt, redirects,
                                     /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                     &execError);
  auto read = [](StringRef path) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    return buffer ? (*buffer)->getBuffer().str() : std::string();
  };
  if (rc != 0) {
    std::string err = read(errPath);
    if (err.size() > 2000)
      err = "..." + err.substr(err.size() - 2000);
    error = llvm::formatv("{0} {1} failed (exit code {2}{3}){4}{5}",
                          QLOW_ONNX_PEERS_SCRIPT, args.front(), rc,
                          execError.empty() ? "" : ": " + execError,
                          err.empty() ? "" : ":\n", err)
                .str();
    return failure();
  }
  return read(outPath);
}

/// One line of the peers' script: `peer=<p> threads=<t> ms=<x>` or
/// `peer=<p> threads=<t> status=unsupported reason="..."`.
struct PeerLine {
  std::string peer;
  int threads = 0;
  std::optional<double> ms;
  std::string reason;
};

std::vector<PeerLine> parsePeerLines(StringRef text) {
  std::vector<PeerLine> lines;
  SmallVector<StringRef> rows;
  text.split(rows, '\n', -1, false);
  for (StringRef row : rows) {
    if (!row.starts_with("peer="))
      continue;
    PeerLine line;
    StringRef rest = row;
    while (!(rest = rest.ltrim()).empty()) {
      auto [key, tail] = rest.split('=');
      StringRef value;
      if (tail.starts_with("\"")) {
        size_t end = tail.find('"', 1);
        value = tail.slice(1, end);
        rest = end == StringRef::npos ? StringRef() : tail.drop_front(end + 1);
      } else {
        std::tie(value, rest) = tail.split(' ');
      }
      double ms = 0.0;
      if (key == "peer")
        line.peer = value.str();
      else if (key == "threads")
        (void)value.getAsInteger(10, line.threads);
      else if (key == "ms" && !value.getAsDouble(ms))
        line.ms = ms;
      else if (key == "reason")
        line.reason = value.str();
    }
    lines.push_back(line);
  }
  return lines;
}

//===----------------------------------------------------------------------===//
// qlow's side
//===----------------------------------------------------------------------===//

/// A model compiled by qlow, its inputs and its outputs on them.
struct QlowModel {
  std::unique_ptr<mlir::qlow::CompiledModule> compiled;
  mlir::qlow::EntrySignature signature;
  std::vector<ref::Tensor> inputs;
  SmallVector<ref::Tensor> outputs;
};

/// Imports `<dir>/<name>.onnx` (with its QDQ pairs folded, as qlow-run and
/// qlow-compile do), quantizes it with qlow-quantize where `quantize`, reads
/// its inputs `<dir>/<name>.<input>.npy`, compiles it for this CPU and runs
/// it once.
FailureOr<QlowModel> compileModel(MLIRContext &context, StringRef dir,
                                  StringRef name, bool quantize) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name + ".onnx");
  OwningOpRef<ModuleOp> module = mlir::qlow::importOnnxFile(path, &context);
  if (!module ||
      failed(mlir::qlow::foldImportedModel(*module, /*keepNames=*/true)))
    return failure();
  auto func = module->lookupSymbol<func::FuncOp>("model");
  if (!func)
    return failure();
  std::vector<std::string> inputNames;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto attr = func.getArgAttrOfType<StringAttr>(i, "qlow.onnx_name");
    inputNames.push_back(attr ? attr.str() : std::string());
  }
  mlir::qlow::stripOnnxNames(*module);
  if (quantize) {
    // The float model quantized by qlow's own pass, as the ONNX tests do
    // (`qlow-quantize mode=dynamic`: int8 weights per channel, activations
    // quantized at run time).
    PassManager pm(&context);
    if (failed(parsePassPipeline("qlow-quantize{mode=dynamic report=false}",
                                 pm)) ||
        failed(pm.run(*module)))
      return failure();
    // The benchmark is of the quantized model: make sure it is one.
    unsigned quantized = 0;
    module->walk([&](Operation *op) {
      std::optional<Attribute> dynamic = op->getInherentAttr("dynamic");
      quantized +=
          op->getName().getStringRef() == "qlow.matmul" && dynamic && *dynamic;
    });
    if (quantized == 0) {
      benchError(name + ": qlow-quantize quantized no matmul");
      return failure();
    }
  }
  FailureOr<mlir::qlow::EntrySignature> signature =
      mlir::qlow::getEntrySignature(func);
  if (failed(signature))
    return failure();
  QlowModel model;
  model.signature = *signature;
  for (auto [i, type] : llvm::enumerate(signature->inputs)) {
    llvm::SmallString<256> input(dir);
    llvm::sys::path::append(input, name + "." + inputNames[i] + ".npy");
    auto array = ref::readNpy(input.str().str());
    if (!array.ok()) {
      benchError(input + ": " + array.status.message());
      return failure();
    }
    ref::Tensor tensor = ref::Tensor::zeros(type);
    if (!type.isFloat() || !array->isFloat() ||
        array->f.size() != tensor.f.size()) {
      benchError(input + ": expected f32 values of " + type.str());
      return failure();
    }
    tensor.f = array->f;
    model.inputs.push_back(std::move(tensor));
  }
  mlir::qlow::CompileOptions options;
  options.cpu = "host";
  auto compiled =
      mlir::qlow::CompiledModule::compile(*module, options, {model.signature});
  if (failed(compiled))
    return failure();
  model.compiled = std::move(*compiled);
  auto outputs = model.compiled->call(model.signature, model.inputs);
  if (failed(outputs))
    return failure();
  for (const ref::Tensor &output : *outputs)
    if (!output.type.isFloat()) {
      benchError(name + ": output of type " + output.type.str() +
                 " (the peers' outputs are compared as f32)");
      return failure();
    }
  model.outputs = std::move(*outputs);
  return model;
}

/// Seconds of warm-up calls before timing (at least one call), as
/// bench/onnx_peers.py's WARM_UP_SECONDS for the peers: the timed calls
/// should find the CPU, the caches and the threads in their steady state,
/// not just out of the Python build or the compilation.
constexpr double kWarmUpSeconds = 0.2;

/// The median time of one call, in ms, over `repeat` calls after a warm-up.
FailureOr<double> timeQlow(QlowModel &model, unsigned repeat) {
  // The inputs are marshalled once; each call then runs on the same buffers.
  auto prepared = model.compiled->prepare(model.signature, model.inputs);
  if (failed(prepared))
    return failure();
  // The first calls warm caches and wake the CPU and the threads.
  double warmUp = 0.0;
  do {
    double perCall = 0.0;
    if (failed((*prepared)->run(1, &perCall)))
      return failure();
    warmUp += perCall;
  } while (warmUp < kWarmUpSeconds);
  std::vector<double> seconds;
  for (unsigned r = 0; r < repeat; ++r) {
    double perCall = 0.0;
    if (failed((*prepared)->run(1, &perCall)))
      return failure();
    seconds.push_back(perCall);
  }
  std::sort(seconds.begin(), seconds.end());
  return 1e3 * seconds[seconds.size() / 2];
}

/// The least cosine between a peer's outputs and qlow's for `model` when
/// --min-cosine is not given. Twelve quantized layers (encoder12_qdq) keep
/// qlow and ONNX Runtime's optimized session only within 0.9973 of each
/// other: ORT fuses the QDQ groups into kernels that round differently, and a
/// u8 step that differs in one layer reaches every later one. Both are as
/// close to the float model (qlow 0.99568, ORT 0.99400; README,
/// twenty-second session).
double defaultMinCosine(StringRef model) {
  return model == "encoder12_qdq" ? 0.99 : 0.999;
}

/// `v` as printf's %g writes it (0.999, 1.5).
std::string shortNumber(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", v);
  return text;
}

double cosine(ArrayRef<float> a, ArrayRef<float> b) {
  double ab = 0.0, aa = 0.0, bb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / (std::sqrt(aa) * std::sqrt(bb) + 1e-30);
}

} // namespace

int ::qlow::bench::runOnnxBench(const OnnxBenchOptions &options) {
  static const char *const known[] = {
      "encoder_qdq", "decoder_dynamic",    "mlp_int4",     "mlp_int4_qdq",
      "mlp_int8",    "encoder_float_qlow", "encoder12_qdq"};
  for (const std::string &model : options.models)
    if (!llvm::is_contained(known, model))
      return benchError("unknown model '" + model + "'; known: " +
                        llvm::join(std::begin(known), std::end(known), ", "));
  for (const std::string &peer : options.peers)
    if (peer != "onnxruntime" && peer != "iree")
      return benchError("unknown peer '" + peer +
                        "'; known: onnxruntime, iree");
  if (options.seq <= 0 || options.dModel <= 0 || options.heads <= 0 ||
      options.encoderFfn <= 0 || options.decoderFfn <= 0 ||
      options.dModel % options.heads != 0 ||
      (options.dModel / options.heads) % 2 != 0)
    return benchError("model sizes must be positive and --d-model a multiple "
                      "of --heads with an even head size");
  if (options.dModel % 32 != 0 || options.decoderFfn % 32 != 0)
    return benchError("mlp_int4, mlp_int4_qdq and mlp_int8: --d-model and "
                      "--decoder-ffn must be multiples of 32 (blocks of 32)");

  // The work directory: the user's, kept, or a temporary one, removed.
  llvm::SmallString<256> dir(options.workDir);
  bool removeDir = dir.empty();
  if (removeDir) {
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("qlow-bench-onnx", dir))
      return benchError("cannot create a temporary directory: " + ec.message());
  } else if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    return benchError("cannot create " + dir + ": " + ec.message());
  }
  struct Cleanup {
    llvm::SmallString<256> dir;
    bool remove;
    ~Cleanup() {
      if (remove)
        (void)llvm::sys::fs::remove_directories(dir);
    }
  } cleanup{dir, removeDir};
  auto file = [&](const llvm::Twine &name) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    return path.str().str();
  };

  // Build the models at the requested sizes.
  std::string error;
  auto built = runPeersScript(
      options,
      {"build", "--out-dir", dir.str().str(), "--models",
       llvm::join(options.models, ","), "--seq", std::to_string(options.seq),
       "--d-model", std::to_string(options.dModel), "--heads",
       std::to_string(options.heads), "--encoder-ffn",
       std::to_string(options.encoderFfn), "--decoder-ffn",
       std::to_string(options.decoderFfn)},
      file("build"), error);
  if (failed(built))
    return benchError(error);

  DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  mlir::qlow::registerQlowPasses();
  std::string threadList;
  for (int t : options.threads)
    threadList += (threadList.empty() ? "" : ",") + std::to_string(t);

  bool allAgree = true;
  for (const std::string &name : options.models) {
    // A context per model: the weights of the previous ones are freed.
    MLIRContext context(registry);
    context.loadAllAvailableDialects();
    FailureOr<QlowModel> model = compileModel(
        context, dir, name, /*quantize=*/name == "encoder_float_qlow");
    if (failed(model))
      return benchError("qlow cannot compile or run model " + name);
    double minCosine = options.minCosine.value_or(defaultMinCosine(name));
    std::map<int, double> qlowMs;
    for (int t : options.threads) {
      omp_set_num_threads(t);
      FailureOr<double> ms = timeQlow(*model, options.repeat);
      if (failed(ms))
        return benchError("qlow cannot run model " + name);
      qlowMs[t] = *ms;
    }

    // Each peer: its timings, then its outputs against qlow's.
    std::vector<std::string> checks;
    std::map<int, std::vector<std::string>> lines; // By thread count.
    for (const std::string &peer : options.peers) {
      std::string out = file(name + "." + peer);
      auto text =
          runPeersScript(options,
                         {peer == "onnxruntime" ? "ort" : "iree", "--model",
                          file(name + ".onnx"), "--inputs-prefix", file(name),
                          "--threads", threadList, "--repeat",
                          std::to_string(options.repeat), "--out", out},
                         out, error);
      if (failed(text))
        return benchError(error);
      std::vector<PeerLine> peerLines = parsePeerLines(*text);
      // The peer's outputs (written with its first timing) against qlow's.
      std::optional<double> worst;
      if (llvm::any_of(peerLines, [](const PeerLine &l) { return l.ms; })) {
        for (auto [k, output] : llvm::enumerate(model->outputs)) {
          std::string path = out + "." + std::to_string(k) + ".npy";
          auto array = ref::readNpy(path);
          if (!array.ok() || !array->isFloat() ||
              array->f.size() != output.f.size())
            return benchError(
                path + ": missing, or not " + output.type.str() +
                (array.ok() ? "" : ": " + array.status.message()));
          double c = cosine(output.f, array->f);
          worst = worst ? std::min(*worst, c) : c;
        }
        bool agree = *worst >= minCosine;
        allAgree &= agree;
        checks.push_back(llvm::formatv("check model={0} peer={1} "
                                       "min_output_cosine={2:f6} {3}",
                                       name, peer, *worst,
                                       agree ? "ok" : "MISMATCH")
                             .str());
      }
      for (int t : options.threads) {
        auto it = llvm::find_if(peerLines, [&](const PeerLine &l) {
          return l.peer == peer && l.threads == t;
        });
        if (it == peerLines.end())
          return benchError(llvm::formatv("{0} printed no result for model "
                                          "{1} with {2} threads (see {3}.out "
                                          "and {3}.err)",
                                          peer, name, t, out)
                                .str());
        if (!it->ms) {
          lines[t].push_back(llvm::formatv("model={0} threads={1} peer={2} "
                                           "status=unsupported reason=\"{3}\"",
                                           name, t, peer, it->reason)
                                 .str());
          continue;
        }
        if (worst && *worst < minCosine) {
          lines[t].push_back(llvm::formatv("model={0} threads={1} peer={2} "
                                           "status=mismatch min_output_cosine="
                                           "{3:f6} min_cosine={4}",
                                           name, t, peer, *worst,
                                           shortNumber(minCosine))
                                 .str());
          continue;
        }
        double x = qlowMs[t], y = *it->ms;
        lines[t].push_back(llvm::formatv("model={0} threads={1} qlow_ms={2:f4} "
                                         "peer={3} peer_ms={4:f4} ratio={5:f3}",
                                         name, t, x, peer, y, y / x)
                               .str());
      }
    }
    for (const std::string &line : checks)
      llvm::outs() << line << "\n";
    for (int t : options.threads)
      for (const std::string &line : lines[t])
        llvm::outs() << line << "\n";
    llvm::outs().flush();
  }
  if (!allAgree)
    return benchError(
        "a peer's outputs disagree with qlow's (cosine below " +
        (options.minCosine
             ? shortNumber(*options.minCosine)
             : shortNumber(defaultMinCosine("")) + "; " +
                   shortNumber(defaultMinCosine("encoder12_qdq")) +
                   " for encoder12_qdq") +
        "); its timings are not reported");
  return 0;
}
