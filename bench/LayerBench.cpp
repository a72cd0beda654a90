//===- LayerBench.cpp - qlow-bench layer: whole transformer layers --------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// `qlow-bench layer` builds a BERT-style encoder layer and a Llama-style
// decoder layer (prefill, and one decode step against a KV cache) in qlow IR,
// the same graphs test/e2e/transformer_layers.py builds (int8 matmuls with
// u8 activations per tensor and i8 weights per output channel, float ops
// between), compiles each with qlow-cpu-pipeline for this machine, checks
// the compiled layer against the reference semantics, and times:
//
//  * the whole layer (total_ms);
//  * each kernel alone: every qlow op of the layer other than quantize and
//    dequantize, in a function of its own with its constants (weights)
//    inside and, except for matmuls, the dequantizes of its operands and
//    the quantizes of its results, which the layer fuses into it (time per
//    kernel; matmul_ms is the sum over the matmuls, and other_share =
//    (total - matmul) / total);
//  * oneDNN's u8 x s8 -> s32 matmul on each matmul's shape
//    (onednn_matmul_ms, the sum).
//
//===----------------------------------------------------------------------===//

#include "LayerBench.h"
#include "OneDnnMatmul.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Interpreter/Interpreter.h"
#include "qlow/JIT/CompiledModule.h"
#include "qlow/Pipelines/Pipelines.h"
#include "qlow/Registration.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>
#include <sstream>

using namespace mlir;
namespace ref = ::qlow::ref;
using ::qlow::bench::LayerBenchOptions;
using ::qlow::bench::OneDnnMatmul;

namespace {

//===----------------------------------------------------------------------===//
// The layers as qlow IR (text), as transformer_layers.py writes them
//===----------------------------------------------------------------------===//

std::string tensorType(ArrayRef<int64_t> shape, StringRef element) {
  std::string text = "tensor<";
  for (int64_t d : shape)
    text += std::to_string(d) + "x";
  return text + element.str() + ">";
}

/// A double as MLIR parses it back exactly.
std::string fmt(double v) { return llvm::formatv("{0:e16}", v).str(); }

std::string actType(double scale, int64_t zeroPoint) {
  return "!quant.uniform<u8:f32, " + fmt(scale) + ":" +
         std::to_string(zeroPoint) + ">";
}

/// u8 activation parameters from a range [lo, hi] of the layer's values
/// (normalized inputs, weights ~ N(0, 1/K)), as transformer_layers.py.
std::pair<double, int64_t> actParams(StringRef which) {
  double lo = -5.0, hi = 5.0;
  if (which == "attn")
    lo = -3.0, hi = 3.0;
  else if (which == "gelu")
    lo = -0.2, hi = 5.0;
  else if (which == "swiglu")
    lo = -4.0, hi = 4.0;
  double scale = static_cast<float>((hi - lo) / 255.0);
  return {scale, std::llround(-lo / scale)};
}

/// Writes one function's body with fresh value names and seeded weights.
class LayerEmitter {
public:
  LayerEmitter(unsigned seed, unsigned weightBits)
      : rng(seed), weightMax((1 << (weightBits - 1)) - 1) {}

  std::string name(StringRef hint) {
    return "%" + hint.str() + std::to_string(++count);
  }
  void op(const std::string &text) { body += "  " + text + "\n"; }

  /// An i8 weight [k, n], symmetric per output channel.
  std::pair<std::string, std::string> weight(int64_t k, int64_t n,
                                             std::vector<double> &scales) {
    std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(double(k)));
    std::vector<double> w(k * n);
    for (double &v : w)
      v = normal(rng);
    scales.assign(n, 0.0);
    for (int64_t j = 0; j < n; ++j) {
      double mx = 1e-3;
      for (int64_t i = 0; i < k; ++i)
        mx = std::max(mx, std::abs(w[i * n + j]));
      scales[j] = static_cast<float>(mx / weightMax);
    }
    std::string hex;
    hex.reserve(2 * k * n);
    static const char *digits = "0123456789ABCDEF";
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j) {
        long q = std::lround(w[i * n + j] / scales[j]);
        auto byte = static_cast<uint8_t>(
            static_cast<int8_t>(std::clamp<long>(q, -weightMax, weightMax)));
        hex += digits[byte >> 4];
        hex += digits[byte & 15];
      }
    std::string qtype = "!quant.uniform<i8:f32:1, {";
    for (int64_t j = 0; j < n; ++j)
      qtype += (j ? "," : "") + fmt(scales[j]);
    qtype += "}>";
    std::string raw = name("wi"), val = name("w");
    op(raw + " = arith.constant dense<\"0x" + hex +
       "\"> : " + tensorType({k, n}, "i8"));
    op(val + " = quant.scast " + raw + " : " + tensorType({k, n}, "i8") +
       " to " + tensorType({k, n}, qtype));
    return {val, tensorType({k, n}, qtype)};
  }

  std::string vector(int64_t n, double mean, double std) {
    std::normal_distribution<double> normal(mean, std);
    std::string val = name("g"), list;
    for (int64_t i = 0; i < n; ++i)
      list += (i ? ", " : "") + fmt(static_cast<float>(normal(rng)));
    op(val + " = arith.constant dense<[" + list +
       "]> : " + tensorType({n}, "f32"));
    return val;
  }

  /// qlow.matmul of `x` [rows, k] quantized as `which`, by a fresh weight;
  /// an i32 bias when asked; an f32 result, or u8 `result` (fixed point).
  std::string linear(const std::string &x, int64_t rows, int64_t k, int64_t n,
                     StringRef which, bool bias, StringRef result = "") {
    auto [scale, zp] = actParams(which);
    std::string xt = tensorType({rows, k}, actType(scale, zp));
    std::string xq = name("xq");
    op(xq + " = qlow.quantize " + x + " : " + tensorType({rows, k}, "f32") +
       " -> " + xt);
    std::vector<double> ws;
    auto [w, wt] = weight(k, n, ws);
    std::string operands = xq + ", " + w, types = xt + ", " + wt;
    if (bias) {
      std::normal_distribution<double> normal(0.0, 0.1);
      std::string b = name("b"), list;
      for (int64_t j = 0; j < n; ++j)
        list += (j ? ", " : "") +
                std::to_string(std::lround(normal(rng) / (scale * ws[j])));
      op(b + " = arith.constant dense<[" + list +
         "]> : " + tensorType({n}, "i32"));
      operands += ", " + b;
      types += ", " + tensorType({n}, "i32");
    }
    std::string out = tensorType({rows, n}, "f32"), attrs;
    if (!result.empty()) {
      auto [os, oz] = actParams(result);
      out = tensorType({rows, n}, actType(os, oz));
      attrs = " {rounding = #qlow.rounding<fixedpoint>}";
    }
    std::string y = name("y");
    op(y + " = qlow.matmul " + operands + attrs + " : (" + types + ") -> " +
       out);
    return y;
  }

  std::string toHeads(const std::string &x, int64_t s, int64_t heads,
                      int64_t hd) {
    std::string e = name("e"), t = name("t"), et = name("te");
    std::string flat = tensorType({s, heads * hd}, "f32");
    std::string split = tensorType({1, s, heads, hd}, "f32");
    std::string perm = tensorType({1, heads, s, hd}, "f32");
    op(e + " = tensor.expand_shape " + x +
       " [[0, 1], [2, 3]] output_shape [1, " + std::to_string(s) + ", " +
       std::to_string(heads) + ", " + std::to_string(hd) + "] : " + flat +
       " into " + split);
    op(et + " = tensor.empty() : " + perm);
    op(t + " = linalg.transpose ins(" + e + " : " + split + ") outs(" + et +
       " : " + perm + ") permutation = [0, 2, 1, 3]");
    return t;
  }

  std::string fromHeads(const std::string &x, int64_t s, int64_t heads,
                        int64_t hd) {
    std::string t = name("t"), et = name("te"), c = name("c");
    std::string split = tensorType({1, s, heads, hd}, "f32");
    std::string perm = tensorType({1, heads, s, hd}, "f32");
    op(et + " = tensor.empty() : " + split);
    op(t + " = linalg.transpose ins(" + x + " : " + perm + ") outs(" + et +
       " : " + split + ") permutation = [0, 2, 1, 3]");
    op(c + " = tensor.collapse_shape " + t + " [[0, 1], [2, 3]] : " + split +
       " into " + tensorType({s, heads * hd}, "f32"));
    return c;
  }

  std::string binary(StringRef kind, const std::string &a, const std::string &b,
                     ArrayRef<int64_t> shape) {
    std::string v = name(kind), f = tensorType(shape, "f32");
    op(v + " = qlow." + kind.str() + " " + a + ", " + b + " : (" + f + ", " +
       f + ") -> " + f);
    return v;
  }

  std::string body;

private:
  std::mt19937 rng;
  /// The largest stored weight magnitude: 127 (8 bits) or 63 (7).
  long weightMax;
  int count = 0;
};

struct Dims {
  int64_t d, h, hkv, f;
  int64_t hd() const { return d / h; }
};

/// q, k, v of an attention and its types and attributes: as they are, or
/// with `int8Block` > 0 quantized per tensor (q and k i8 symmetric over the
/// "norm" range, v u8 with the "norm" activation type) for
/// `{int8, key_block = int8Block}`, as transformer_layers.py does.
struct AttentionOperands {
  std::vector<std::string> values, types;
  std::string attrs; // ", int8, key_block = N : i64" or empty
};
AttentionOperands attentionOperands(LayerEmitter &em,
                                    std::vector<std::string> qkv,
                                    const std::vector<int64_t> &qShape,
                                    const std::vector<int64_t> &kvShape,
                                    int64_t int8Block) {
  AttentionOperands out;
  const std::vector<int64_t> shapes[3] = {qShape, kvShape, kvShape};
  if (int8Block <= 0) {
    out.values = qkv;
    for (const auto &shape : shapes)
      out.types.push_back(tensorType(shape, "f32"));
    return out;
  }
  auto [vs, vz] = actParams("norm");
  std::string qk =
      "!quant.uniform<i8:f32, " + fmt(static_cast<float>(5.0 / 127.0)) + ">";
  const std::string elements[3] = {qk, qk, actType(vs, vz)};
  for (int i = 0; i < 3; ++i) {
    std::string y = em.name("q8");
    std::string type = tensorType(shapes[i], elements[i]);
    em.op(y + " = qlow.quantize " + qkv[i] + " : " +
          tensorType(shapes[i], "f32") + " -> " + type);
    out.values.push_back(y);
    out.types.push_back(type);
  }
  out.attrs = ", int8, key_block = " + std::to_string(int8Block) + " : i64";
  return out;
}

/// BERT-style post-LN encoder layer with an additive padding mask.
std::string emitEncoder(const std::string &fn, int64_t s, const Dims &n,
                        unsigned seed, int64_t int8Block, unsigned weightBits) {
  LayerEmitter em(seed, weightBits);
  int64_t hd = n.hd();
  std::string sd = tensorType({s, n.d}, "f32"), vd = tensorType({n.d}, "f32");
  std::string heads = tensorType({1, n.h, s, hd}, "f32");
  std::string mask = tensorType({1, 1, 1, s}, "f32");
  std::vector<std::string> qkv;
  for (int i = 0; i < 3; ++i)
    qkv.push_back(
        em.toHeads(em.linear("%x", s, n.d, n.d, "norm", true), s, n.h, hd));
  AttentionOperands a =
      attentionOperands(em, qkv, {1, n.h, s, hd}, {1, n.h, s, hd}, int8Block);
  std::string attn = em.name("attn");
  em.op(attn + " = qlow.attention " + a.values[0] + ", " + a.values[1] + ", " +
        a.values[2] + ", %mask" +
        (a.attrs.empty() ? "" : " {" + a.attrs.substr(2) + "}") + " : (" +
        a.types[0] + ", " + a.types[1] + ", " + a.types[2] + ", " + mask +
        ") -> " + heads);
  std::string o =
      em.linear(em.fromHeads(attn, s, n.h, hd), s, n.d, n.d, "attn", true);
  std::string r1 = em.binary("add", "%x", o, {s, n.d});
  std::string g1 = em.vector(n.d, 1.0, 0.1), b1 = em.vector(n.d, 0.0, 0.1);
  std::string h1 = em.name("ln");
  em.op(h1 + " = qlow.layer_norm " + r1 + ", " + g1 + ", " + b1 +
        " {epsilon = 1.0e-05 : f32} : (" + sd + ", " + vd + ", " + vd +
        ") -> " + sd);
  std::string up = em.linear(h1, s, n.d, n.f, "norm", true, "ffn");
  auto [us, uz] = actParams("ffn");
  std::string sf = tensorType({s, n.f}, "f32");
  std::string upf = em.name("upf"), gelu = em.name("gelu");
  em.op(upf + " = qlow.dequantize " + up + " : " +
        tensorType({s, n.f}, actType(us, uz)) + " -> " + sf);
  em.op(gelu + " = qlow.gelu " + upf + " : " + sf + " -> " + sf);
  std::string down = em.linear(gelu, s, n.f, n.d, "gelu", true);
  std::string r2 = em.binary("add", h1, down, {s, n.d});
  std::string g2 = em.vector(n.d, 1.0, 0.1), b2 = em.vector(n.d, 0.0, 0.1);
  std::string y = em.name("ln");
  em.op(y + " = qlow.layer_norm " + r2 + ", " + g2 + ", " + b2 +
        " {epsilon = 1.0e-05 : f32} : (" + sd + ", " + vd + ", " + vd +
        ") -> " + sd);
  em.op("return " + y + " : " + sd);
  return "func.func @" + fn + "(%x: " + sd + ", %mask: " + mask + ") -> " + sd +
         " {\n" + em.body + "}\n";
}

/// Llama-style pre-norm decoder layer; with `cache` = P, one step (s = 1)
/// against a KV cache passed as arguments with room for the step ([1, Hkv,
/// P + 1, hd]: the step writes position P in place).
std::string emitDecoder(const std::string &fn, int64_t s, const Dims &n,
                        unsigned seed, std::optional<int64_t> cache,
                        int64_t int8Block, unsigned weightBits) {
  LayerEmitter em(seed, weightBits);
  int64_t hd = n.hd(), t = s + cache.value_or(0);
  std::string sd = tensorType({s, n.d}, "f32"), vd = tensorType({n.d}, "f32");
  std::string table = tensorType({s, hd / 2}, "f32");
  auto rms = [&](const std::string &x) {
    std::string g = em.vector(n.d, 1.0, 0.1), y = em.name("rms");
    em.op(y + " = qlow.rms_norm " + x + ", " + g +
          " {epsilon = 1.0e-06 : f32} : (" + sd + ", " + vd + ") -> " + sd);
    return y;
  };
  auto rope = [&](const std::string &x, int64_t heads) {
    std::string y = em.name("rope"), ty = tensorType({1, heads, s, hd}, "f32");
    em.op(y + " = qlow.rope " + x + ", %cos, %sin : (" + ty + ", " + table +
          ", " + table + ") -> " + ty);
    return y;
  };
  std::string n1 = rms("%x");
  std::string q = rope(
      em.toHeads(em.linear(n1, s, n.d, n.h * hd, "norm", false), s, n.h, hd),
      n.h);
  std::string k =
      rope(em.toHeads(em.linear(n1, s, n.d, n.hkv * hd, "norm", false), s,
                      n.hkv, hd),
           n.hkv);
  std::string v = em.toHeads(em.linear(n1, s, n.d, n.hkv * hd, "norm", false),
                             s, n.hkv, hd);
  std::string args = "%x: " + sd + ", %cos: " + table + ", %sin: " + table;
  AttentionOperands ops = attentionOperands(em, {q, k, v}, {1, n.h, s, hd},
                                            {1, n.hkv, s, hd}, int8Block);
  if (cache) {
    // Caches with room for this step's position P: its key and value are
    // written there in place (no copy of the cache per step); with int8
    // attention the caches hold the stored bytes of the quantized values.
    std::string element = int8Block > 0 ? "i8" : "f32";
    std::string step = tensorType({1, n.hkv, s, hd}, element);
    std::string full = tensorType({1, n.hkv, t, hd}, element);
    // bufferization.writable = true: the caller lets the step write into
    // them (qlow-read-only-arguments would otherwise copy each cache).
    const std::string writable = " {bufferization.writable = true}";
    args += ", %kcache: " + full + writable + ", %vcache: " + full + writable;
    std::string at = "[0, 0, " + std::to_string(*cache) + ", 0] [1, " +
                     std::to_string(n.hkv) + ", " + std::to_string(s) + ", " +
                     std::to_string(hd) + "] [1, 1, 1, 1] : " + step +
                     " into " + full;
    for (int i = 1; i < 3; ++i) {
      std::string src = ops.values[i];
      if (int8Block > 0) {
        std::string raw = em.name("raw");
        em.op(raw + " = quant.scast " + src + " : " + ops.types[i] + " to " +
              step);
        src = raw;
      }
      std::string all = em.name(i == 1 ? "kall" : "vall");
      em.op(all + " = tensor.insert_slice " + src + " into " +
            (i == 1 ? "%kcache" : "%vcache") + at);
      if (int8Block > 0) {
        std::string element8 = ops.types[i].substr(ops.types[i].find("!quant"));
        element8.pop_back(); // the tensor type's '>'
        std::string typed = em.name("cache");
        std::string quantized = tensorType({1, n.hkv, t, hd}, element8);
        em.op(typed + " = quant.scast " + all + " : " + full + " to " +
              quantized);
        all = typed;
        ops.types[i] = quantized;
      } else {
        ops.types[i] = full;
      }
      ops.values[i] = all;
    }
  }
  std::string qt = tensorType({1, n.h, s, hd}, "f32");
  std::string attn = em.name("attn");
  em.op(attn + " = qlow.attention " + ops.values[0] + ", " + ops.values[1] +
        ", " + ops.values[2] + " {causal" + ops.attrs + "} : (" + ops.types[0] +
        ", " + ops.types[1] + ", " + ops.types[2] + ") -> " + qt);
  std::string o = em.linear(em.fromHeads(attn, s, n.h, hd), s, n.h * hd, n.d,
                            "attn", false);
  std::string a = em.binary("add", "%x", o, {s, n.d});
  std::string n2 = rms(a);
  std::string gate = em.linear(n2, s, n.d, n.f, "norm", false);
  std::string up = em.linear(n2, s, n.d, n.f, "norm", false);
  std::string sf = tensorType({s, n.f}, "f32");
  std::string act = em.name("silu");
  em.op(act + " = qlow.silu " + gate + " : " + sf + " -> " + sf);
  std::string prod = em.binary("mul", act, up, {s, n.f});
  std::string down = em.linear(prod, s, n.f, n.d, "swiglu", false);
  std::string y = em.binary("add", a, down, {s, n.d});
  em.op("return " + y + " : " + sd);
  return "func.func @" + fn + "(" + args + ") -> " + sd + " {\n" + em.body +
         "}\n";
}

//===----------------------------------------------------------------------===//
// Kernels, inputs, timing
//===----------------------------------------------------------------------===//

/// Whether `value` is a constant (a weight: arith.constant, maybe through
/// quant.scast), which a kernel's function keeps inside.
bool isConstant(Value value) {
  Operation *def = value.getDefiningOp();
  if (auto cast = dyn_cast_or_null<quant::StorageCastOp>(def))
    def = cast.getInput().getDefiningOp();
  return isa_and_nonnull<arith::ConstantOp>(def);
}

/// One function per kernel of `layer` (each qlow op except quantize and
/// dequantize), with the kernel's constants inside and its other operands
/// as arguments, in a new module. A kernel other than a matmul takes in the
/// qlow.dequantize ops that produce its operands and the qlow.quantize ops
/// that consume its results, as the layer's pipeline fuses them (a
/// dequantize -> gelu -> quantize chain becomes one byte table, a
/// layer_norm stores its quantized output): timed without them, the gelu
/// kernel ran the f32 op that the layer does not (0.46 ms against the
/// table's 0.18 ms alone at S = 128, FFN 3072, on Zen 3; the layer applies
/// the table in the up projection's epilogue). A matmul's own operands
/// and epilogue stay as they were, so that matmul_ms stays comparable with
/// oneDNN's matmuls. `fused` gets, per kernel, the names of the ops taken
/// in.
OwningOpRef<ModuleOp> extractKernels(func::FuncOp layer,
                                     SmallVector<Operation *> &kernels,
                                     std::vector<std::string> &fused) {
  MLIRContext *ctx = layer.getContext();
  OpBuilder b(ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(layer.getLoc());
  b.setInsertionPointToEnd(module->getBody());
  layer.walk([&](Operation *op) {
    if (!isa<mlir::qlow::QlowDialect>(op->getDialect()) ||
        isa<mlir::qlow::QuantizeOp, mlir::qlow::DequantizeOp>(op))
      return;
    kernels.push_back(op);
    const bool absorb = !isa<mlir::qlow::MatmulOp>(op);
    // The kernel's operands: a dequantize's input in place of its result.
    SetVector<Operation *> dequantizes;
    SetVector<Value> inputs;
    for (Value operand : op->getOperands()) {
      auto dequantize = operand.getDefiningOp<mlir::qlow::DequantizeOp>();
      if (absorb && dequantize) {
        dequantizes.insert(dequantize);
        operand = dequantize.getInput();
      }
      if (!isConstant(operand))
        inputs.insert(operand);
    }
    // Its results: each quantize user's, and the op's own where it has
    // other users (or none).
    SmallVector<Operation *> quantizes;
    SmallVector<Value> outputs;
    for (Value result : op->getResults()) {
      bool onlyQuantized = !result.use_empty();
      for (Operation *user : result.getUsers()) {
        if (absorb && isa<mlir::qlow::QuantizeOp>(user))
          quantizes.push_back(user);
        else
          onlyQuantized = false;
      }
      if (!onlyQuantized)
        outputs.push_back(result);
    }
    for (Operation *quantize : quantizes)
      outputs.push_back(quantize->getResult(0));
    std::string names;
    for (Operation *taken : dequantizes)
      names += (names.empty() ? "" : ",") +
               taken->getName().getStringRef().str();
    if (!quantizes.empty())
      names += (names.empty() ? "" : ",") +
               quantizes.front()->getName().getStringRef().str();
    fused.push_back(names);

    SmallVector<Type> args, results;
    for (Value input : inputs)
      args.push_back(input.getType());
    for (Value output : outputs)
      results.push_back(output.getType());
    auto fn = func::FuncOp::create(
        b, op->getLoc(), "kernel_" + std::to_string(kernels.size() - 1),
        b.getFunctionType(args, results));
    Block *entry = fn.addEntryBlock();
    OpBuilder kb = OpBuilder::atBlockEnd(entry);
    IRMapping map;
    for (auto [input, arg] : llvm::zip_equal(inputs, entry->getArguments()))
      map.map(input, arg);
    auto cloneConstant = [&](Value operand) {
      if (map.contains(operand) || !isConstant(operand))
        return;
      if (auto cast = operand.getDefiningOp<quant::StorageCastOp>())
        kb.clone(*cast.getInput().getDefiningOp(), map);
      kb.clone(*operand.getDefiningOp(), map);
    };
    for (Operation *dequantize : dequantizes) {
      cloneConstant(dequantize->getOperand(0));
      kb.clone(*dequantize, map);
    }
    for (Value operand : op->getOperands())
      cloneConstant(operand);
    kb.clone(*op, map);
    for (Operation *quantize : quantizes)
      kb.clone(*quantize, map);
    SmallVector<Value> returned;
    for (Value output : outputs)
      returned.push_back(map.lookup(output));
    func::ReturnOp::create(kb, op->getLoc(), returned);
    b.setInsertionPointToEnd(module->getBody());
  });
  return module;
}

/// Appends to `module` (extractKernels' functions, in order) a function
/// "layer_matmuls" that runs the bodies of the matmul kernels (`isMatmul`
/// per function) one after the other, as the layer does, with their
/// operands as arguments and their results returned. Timed alone, each
/// kernel finds its weights in cache from its previous call; in the layer,
/// every matmul streams them after the others' (7 MB at D = 768, more than
/// the L2). This chain streams the same weights in the same order, so it
/// measures the matmuls' share of the layer as the layer runs them.
void appendMatmulChain(ModuleOp module, ArrayRef<bool> isMatmul) {
  OpBuilder b(module.getContext());
  SmallVector<func::FuncOp> matmuls;
  for (auto [i, fn] : llvm::enumerate(module.getOps<func::FuncOp>()))
    if (i < isMatmul.size() && isMatmul[i])
      matmuls.push_back(fn);
  SmallVector<Type> args, results;
  for (func::FuncOp fn : matmuls) {
    llvm::append_range(args, fn.getArgumentTypes());
    llvm::append_range(results, fn.getResultTypes());
  }
  b.setInsertionPointToEnd(module.getBody());
  auto chain = func::FuncOp::create(b, module.getLoc(), "layer_matmuls",
                                    b.getFunctionType(args, results));
  Block *entry = chain.addEntryBlock();
  OpBuilder cb = OpBuilder::atBlockEnd(entry);
  SmallVector<Value> returned;
  unsigned arg = 0;
  for (func::FuncOp fn : matmuls) {
    IRMapping map;
    for (BlockArgument a : fn.getArguments())
      map.map(a, entry->getArgument(arg++));
    for (Operation &op : fn.getBody().front()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        for (Value v : ret.getOperands())
          returned.push_back(map.lookup(v));
        continue;
      }
      cb.clone(op, map);
    }
  }
  func::ReturnOp::create(cb, module.getLoc(), returned);
}

/// Random inputs of the given types: f32 N(0, 1), integers (quantized
/// storage values) uniform over their range.
std::vector<ref::Tensor> randomInputs(ArrayRef<ref::TensorType> types,
                                      std::mt19937 &rng) {
  std::vector<ref::Tensor> inputs;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const ref::TensorType &type : types) {
    ref::Tensor t = ref::Tensor::zeros(type);
    if (type.isFloat()) {
      for (float &v : t.f)
        v = normal(rng);
    } else {
      ref::IntType it = type.isQuant() ? type.quant.storage : type.intType;
      std::uniform_int_distribution<int64_t> dist(
          type.isQuant() ? type.quant.qmin() : it.min(),
          type.isQuant() ? type.quant.qmax() : it.max());
      for (int64_t &v : t.i)
        v = dist(rng);
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

/// A compiled function timed in batches of calls, its best batch kept.
struct TimedCalls {
  mlir::qlow::CompiledModule *module;
  const mlir::qlow::EntrySignature *entry;
  ArrayRef<ref::Tensor> inputs;
  unsigned repeat = 1;
  double best = 1e30; // Seconds per call.
  /// The inputs, marshalled once for all batches.
  std::unique_ptr<mlir::qlow::PreparedCall> call;

  /// One call to warm up, and the batch size: at least `minRepeat` calls,
  /// and enough for 20 ms (a decode step's 0.1 ms call or a 1 us kernel
  /// timed 20 times moved by 15% and more between runs).
  LogicalResult prepare(unsigned minRepeat) {
    auto prepared = module->prepare(*entry, inputs);
    if (failed(prepared))
      return failure();
    call = std::move(*prepared);
    double warmUp = 0.0;
    if (failed(call->run(1, &warmUp)))
      return failure();
    repeat = std::max<unsigned>(
        minRepeat, static_cast<unsigned>(std::min(
                       1e5, std::ceil(0.02 / std::max(warmUp, 1e-7)))));
    return success();
  }
  /// One batch.
  LogicalResult batch() {
    double perCall = 0.0;
    if (failed(call->run(repeat, &perCall)))
      return failure();
    best = std::min(best, perCall);
    return success();
  }
};

/// Rounds in which every timed function (the layer, each kernel, the
/// matmul chain) and every oneDNN matmul runs one batch: each figure is its
/// best batch, and the batches of all of them are spread over the whole
/// measurement. Timed one after the other (three batches each), a noisy
/// stretch of a shared host could fall on the kernels only: the 2-thread
/// decode step once showed matmuls summing to more than the whole layer.
constexpr int kTimingRounds = 3;

std::string shapeOf(Operation *op) {
  std::string text;
  for (Value operand : op->getOperands()) {
    auto type = cast<RankedTensorType>(operand.getType());
    if (!text.empty())
      text += ",";
    for (auto [i, d] : llvm::enumerate(type.getShape()))
      text += (i ? "x" : "") + std::to_string(d);
  }
  return text;
}

/// How a compiled layer's result compares with the reference's, by
/// transformer_layers.py's tolerance model. The integer matmuls are bit-exact
/// and the float ops between them are not all (f32 attention against the
/// reference's double, polynomial exp/erf): an activation within an f32
/// rounding of a quantization boundary may land one step away. Such a flip
/// stays in its token's row after attention, but there it does not stay one
/// step: the next normalization spreads it over the row, whose next quantize
/// flips more values, and the SwiGLU product scales them (measured: one f32
/// ulp of one attention output of the S=128, D=768 decoder, 2.3e-9 from a
/// boundary, gave 2^-7.7 * max |ref| in 140 values of its row, and the rest
/// of the layer was bit for bit). So: every value within 2^-6 * max |ref|,
/// and at most max(1, rows / 16) rows with a value beyond 2^-9 * max |ref|.
struct LayerCheck {
  double maxRef = 0.0, maxErr = 0.0;
  int64_t rows = 0, rowsBeyondTight = 0, rowsAllowed = 0;
  bool passed = false;
};

LayerCheck checkLayerResult(const ref::Tensor &expected,
                            const ref::Tensor &actual) {
  LayerCheck c;
  const std::vector<float> &e = expected.f, &a = actual.f;
  int64_t rowLength =
      expected.type.shape.empty() ? 1 : expected.type.shape.back();
  c.rows = rowLength ? int64_t(e.size()) / rowLength : 0;
  for (float v : e)
    c.maxRef = std::max(c.maxRef, double(std::abs(v)));
  double tight = std::ldexp(c.maxRef, -9);
  bool finite = a.size() == e.size();
  for (int64_t r = 0; finite && r < c.rows; ++r) {
    bool beyond = false;
    for (int64_t j = r * rowLength; j < (r + 1) * rowLength; ++j) {
      double err = std::abs(double(e[j]) - double(a[j]));
      if (!std::isfinite(err)) {
        finite = false;
        break;
      }
      c.maxErr = std::max(c.maxErr, err);
      beyond |= err > tight;
    }
    c.rowsBeyondTight += beyond;
  }
  c.rowsAllowed = std::max<int64_t>(1, c.rows / 16);
  c.passed = finite && c.maxErr <= std::ldexp(c.maxRef, -6) &&
             c.rowsBeyondTight <= c.rowsAllowed;
  if (!finite)
    c.maxErr = INFINITY;
  return c;
}

/// One layer: compile, check against the reference, time.
int benchLayer(MLIRContext &ctx, const std::string &name,
               const std::string &attention, const std::string &text,
               const LayerBenchOptions &options, std::mt19937 &rng) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &ctx);
  if (!module) {
    llvm::errs() << "qlow-bench: error: layer " << name << " does not parse\n";
    return 1;
  }
  auto layer = *module->getOps<func::FuncOp>().begin();
  SmallVector<Operation *> kernels;
  std::vector<std::string> fused;
  OwningOpRef<ModuleOp> kernelModule = extractKernels(layer, kernels, fused);
  FailureOr<mlir::qlow::EntrySignature> signature =
      mlir::qlow::getEntrySignature(layer);
  if (failed(signature))
    return 1;
  std::vector<ref::Tensor> inputs = randomInputs(signature->inputs, rng);
  // Padding masks as a model has them. The rope tables stay N(0, 1) draws
  // (not a rotation: larger q and k, and scores, than a model's).
  if (name.rfind("encoder", 0) == 0) {
    std::vector<float> &mask = inputs[1].f;
    for (size_t j = 0; j < mask.size(); ++j)
      mask[j] = j >= mask.size() - mask.size() / 4 ? -10000.0f : 0.0f;
  }
  FailureOr<SmallVector<ref::Tensor>> expected =
      mlir::qlow::evaluateFunction(layer, inputs);
  if (failed(expected)) {
    llvm::errs() << "qlow-bench: error: layer " << name
                 << " fails with the reference semantics\n";
    return 1;
  }

  // What the timing loop reports about each kernel, read now: compiling
  // lowers both modules in place.
  struct KernelInfo {
    std::string op, shapes;
    std::string fused; // the quantize/dequantize ops taken in, or empty
    bool isMatmul = false;
    int64_t m = 0, k = 0, n = 0;
  };
  std::vector<KernelInfo> infos;
  for (Operation *op : kernels) {
    KernelInfo info{op->getName().getStringRef().str(), shapeOf(op),
                    fused[infos.size()]};
    if (auto matmul = dyn_cast<mlir::qlow::MatmulOp>(op)) {
      ArrayRef<int64_t> lhs = matmul.getLhs().getType().getShape();
      info.isMatmul = true;
      info.m = lhs[0];
      info.k = lhs[1];
      info.n = matmul.getRhs().getType().getShape()[1];
    }
    infos.push_back(info);
  }

  SmallVector<bool> isMatmul;
  for (const KernelInfo &info : infos)
    isMatmul.push_back(info.isMatmul);
  appendMatmulChain(*kernelModule, isMatmul);
  SmallVector<mlir::qlow::EntrySignature> kernelEntries;
  for (auto fn : kernelModule->getOps<func::FuncOp>()) {
    FailureOr<mlir::qlow::EntrySignature> s = mlir::qlow::getEntrySignature(fn);
    if (failed(s))
      return 1;
    kernelEntries.push_back(*s);
  }
  mlir::qlow::CompileOptions compileOptions;
  compileOptions.cpu = "host";
  auto compiled = mlir::qlow::CompiledModule::compile(*module, compileOptions,
                                                      {*signature});
  auto compiledKernels = mlir::qlow::CompiledModule::compile(
      *kernelModule, compileOptions, kernelEntries);
  if (failed(compiled) || failed(compiledKernels)) {
    llvm::errs() << "qlow-bench: error: cannot compile layer " << name << "\n";
    return 1;
  }
  // The compiled layer must agree with the reference before it is timed
  // (transformer_layers.py's tolerance; see LayerCheck).
  auto result = (*compiled)->call(*signature, inputs);
  if (failed(result))
    return 1;
  LayerCheck check = checkLayerResult((*expected)[0], (*result)[0]);
  if (!check.passed) {
    llvm::errs() << llvm::formatv(
        "qlow-bench: error: layer {0}: compiled result differs from the "
        "reference (max |err| {1:e3} = 2^{2:f2} * max |ref| {3:e3}; allowed "
        "2^-6; rows with |err| > 2^-9 * max |ref|: {4} of {5}, allowed "
        "{6})\n",
        name, check.maxErr, std::log2(check.maxErr / check.maxRef),
        check.maxRef, check.rowsBeyondTight, check.rows, check.rowsAllowed);
    return 1;
  }
  double maxErr = check.maxErr;

  std::vector<std::vector<ref::Tensor>> kernelInputs;
  for (const mlir::qlow::EntrySignature &entry : kernelEntries)
    kernelInputs.push_back(randomInputs(entry.inputs, rng));
  // oneDNN on every matmul's shape (u8 x s8 -> s32).
  std::vector<std::unique_ptr<OneDnnMatmul>> peers;
  for (const KernelInfo &info : infos) {
    if (!info.isMatmul)
      continue;
    int64_t m = info.m, k = info.k, n = info.n;
    const int lo = options.weightBits == 8 ? -128 : -64;
    std::uniform_int_distribution<int> u8(0, 255), s8(lo, -lo - 1);
    std::vector<uint8_t> a(m * k);
    std::vector<int8_t> w(k * n);
    for (auto &v : a)
      v = static_cast<uint8_t>(u8(rng));
    for (auto &v : w)
      v = static_cast<int8_t>(s8(rng));
    peers.push_back(std::make_unique<OneDnnMatmul>(
        m, k, n, a, w, false, std::vector<int32_t>{}, std::vector<float>{},
        /*hugePages=*/true)); // As the layer's JIT'd weights (on by default).
  }

  for (int t : options.threads) {
    omp_set_num_threads(t);
    // items[0] the layer, then each kernel, then the matmul chain
    // (appendMatmulChain, the module's last function: the matmuls back to
    // back, in the layer's cache conditions).
    std::vector<TimedCalls> items;
    items.push_back({compiled->get(), &*signature, inputs});
    for (auto [entry, kernelInput] : llvm::zip_equal(kernelEntries, kernelInputs))
      items.push_back({compiledKernels->get(), &entry, kernelInput});
    for (TimedCalls &item : items)
      if (failed(item.prepare(options.repeat)))
        return 1;
    std::vector<double> peerBest(peers.size(), 1e30);
    for (auto &peer : peers)
      peer->run(); // Warm up.
    for (int round = 0; round < kTimingRounds; ++round) {
      for (TimedCalls &item : items)
        if (failed(item.batch()))
          return 1;
      for (auto [peer, best] : llvm::zip_equal(peers, peerBest)) {
        auto start = std::chrono::steady_clock::now();
        for (unsigned r = 0; r < options.repeat; ++r)
          peer->run();
        best = std::min(best, std::chrono::duration<double>(
                                  std::chrono::steady_clock::now() - start)
                                      .count() /
                                  options.repeat);
      }
    }
    double total = items.front().best;
    double matmulSeconds = 0.0, kernelSeconds = 0.0;
    for (auto [i, info] : llvm::enumerate(infos)) {
      double seconds = items[1 + i].best;
      kernelSeconds += seconds;
      if (info.isMatmul)
        matmulSeconds += seconds;
      llvm::outs() << llvm::formatv(
          "kernel layer={0} threads={1} index={2} op={3} shapes={4} "
          "{7}ms={5:f4} attention={6}\n",
          name, t, i, info.op, info.shapes, seconds * 1e3, attention,
          info.fused.empty() ? std::string() : "with=" + info.fused + " ");
    }
    double chainSeconds = items.back().best;
    double peerSeconds = 0.0;
    for (double best : peerBest)
      peerSeconds += best;
    llvm::outs() << llvm::formatv(
        "layer={0} threads={1} total_ms={2:f4} matmul_ms={3:f4} "
        "other_share={4:f3} onednn_matmul_ms={5:f4} kernels_ms={6:f4} "
        "layer_matmuls_ms={10:f4} other_share_in_layer={11:f3} "
        "max_abs_err_vs_reference={7:e2} rows_beyond_2^-9={8} "
        "weight_bits={12} attention={9}\n",
        name, t, total * 1e3, matmulSeconds * 1e3,
        (total - matmulSeconds) / total, peerSeconds * 1e3,
        kernelSeconds * 1e3, maxErr, check.rowsBeyondTight, attention,
        chainSeconds * 1e3, (total - chainSeconds) / total,
        options.weightBits);
    llvm::outs().flush();
  }
  return 0;
}

} // namespace

int ::qlow::bench::runLayerBench(const LayerBenchOptions &options) {
  DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  std::mt19937 rng(7);
  Dims encoder{options.dModel, options.heads, options.heads,
               options.encoderFfn};
  Dims decoder{options.dModel, options.heads, options.kvHeads,
               options.decoderFfn};
  if (options.dModel % options.heads != 0 ||
      options.heads % options.kvHeads != 0 ||
      options.dModel / options.heads % 2) {
    llvm::errs() << "qlow-bench: error: --d-model must be a multiple of "
                    "--heads (with an even head size), and --heads of "
                    "--kv-heads\n";
    return 1;
  }
  for (const std::string &which : options.layers)
    if (which != "encoder" && which != "decoder" && which != "decode") {
      llvm::errs() << "qlow-bench: error: unknown layer '" << which
                   << "'; known: encoder, decoder, decode\n";
      return 1;
    }
  // (mode, key block) pairs: f32 attention has key block 0.
  std::vector<std::pair<std::string, int64_t>> modes;
  const int64_t int8Block =
      options.int8AttentionKeyBlock > 0 ? options.int8AttentionKeyBlock : 64;
  for (const std::string &mode : options.attentionModes) {
    if (mode != "f32" && mode != "int8") {
      llvm::errs() << "qlow-bench: error: unknown attention mode '" << mode
                   << "'; known: f32, int8\n";
      return 1;
    }
    modes.emplace_back(mode, mode == "f32" ? 0 : int8Block);
  }
  if (modes.empty())
    modes.emplace_back(options.int8AttentionKeyBlock > 0 ? "int8" : "f32",
                       options.int8AttentionKeyBlock);
  for (const std::string &which : options.layers) {
    for (const auto &[mode, keyBlock] : modes) {
      std::string text, name;
      if (which == "encoder") {
        name = "encoder_s" + std::to_string(options.seq);
        text = emitEncoder("layer", options.seq, encoder, 0, keyBlock,
                           options.weightBits);
      } else if (which == "decoder") {
        name = "decoder_prefill_s" + std::to_string(options.seq);
        text = emitDecoder("layer", options.seq, decoder, 1, std::nullopt,
                           keyBlock, options.weightBits);
      } else {
        name = "decoder_decode_cache" + std::to_string(options.cache);
        text = emitDecoder("layer", 1, decoder, 1, options.cache, keyBlock,
                           options.weightBits);
      }
      // The line's last field(s): attention=f32, attention=int8 key_block=N.
      std::string attention =
          keyBlock > 0 ? "int8 key_block=" + std::to_string(keyBlock) : "f32";
      if (!options.writeLayersDir.empty()) {
        std::string path =
            options.writeLayersDir + "/" + name + "_" + mode + ".mlir";
        std::error_code error;
        llvm::raw_fd_ostream file(path, error);
        if (error) {
          llvm::errs() << "qlow-bench: error: cannot write '" << path
                       << "': " << error.message() << "\n";
          return 1;
        }
        file << text;
      }
      if (int rc = benchLayer(ctx, name, attention, text, options, rng))
        return rc;
    }
  }
  return 0;
}
