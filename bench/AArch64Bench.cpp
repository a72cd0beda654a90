//===- AArch64Bench.cpp - qlow-bench aarch64 ------------------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Emulated time means nothing, so the AArch64 kernels are measured by the
// instructions they execute. qemu-aarch64 logs each translation block when it
// translates it (`-d in_asm`: its guest instructions) and each time it runs
// it (`-d exec,nochain`: one line with the guest PC and the function); the
// count is the sum, over executions of blocks in qlow's functions, of the
// block's instructions. Debian's qemu ships no TCG plugins (libinsn.so), so
// the count is made from these logs. It covers everything qlow's compiled
// function does (the run-time packing of activations for smmla, the K loops,
// the epilogue), not libc (malloc/free of temporaries).
//
//===----------------------------------------------------------------------===//

#include "AArch64Bench.h"
#include "Int4Module.h"

#include "dialects/Qlow/IR/QlowOps.h"
#include "qlow/Emit/Emit.h"
#include "qlow/Registration.h"
#include "qlow/Target/TargetDesc.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace mlir;

namespace qlow::bench {
namespace {

/// The MLIR of an M x K x N matmul with constant weights (a fixed
/// pseudo-random pattern: the instruction count does not depend on values)
/// and an i32 result.
std::string matmulSource(int64_t m, int64_t k, int64_t n,
                         const std::string &activations) {
  std::string hex;
  hex.reserve(static_cast<size_t>(2 * k * n));
  uint32_t state = 12345;
  static const char digits[] = "0123456789ABCDEF";
  for (int64_t i = 0; i < k * n; ++i) {
    state = state * 1664525u + 1013904223u;
    uint8_t byte = static_cast<uint8_t>(state >> 24);
    hex += digits[byte >> 4];
    hex += digits[byte & 15];
  }
  std::string a = activations == "u8" ? "u8:f32, 0.02:128" : "i8:f32, 0.02:3";
  return llvm::formatv(
             "func.func @bench(%a: tensor<{0}x{1}x!quant.uniform<{3}>>) -> "
             "tensor<{0}x{2}xi32> {{\n"
             "  %w = arith.constant dense<\"0x{4}\"> : tensor<{1}x{2}xi8>\n"
             "  %wq = quant.scast %w : tensor<{1}x{2}xi8> to "
             "tensor<{1}x{2}x!quant.uniform<i8:f32, 0.01>>\n"
             "  %y = qlow.matmul %a, %wq : (tensor<{0}x{1}x!quant.uniform<{3}"
             ">>, tensor<{1}x{2}x!quant.uniform<i8:f32, 0.01>>) -> "
             "tensor<{0}x{2}xi32>\n"
             "  return %y : tensor<{0}x{2}xi32>\n}\n",
             m, k, n, a, hex)
      .str();
}

/// `func @bench(%x: f32 [M, K]) -> f32 [M, N]`: an int4 weight-only matmul
/// (i4 weights from a fixed pseudo-random pattern, a scale per group of
/// `group` rows and column, activations quantized per row at run time,
/// symmetric i8), the form qlow-aarch64-int4-matmul takes; with `bits` = 8,
/// i8 weights of the whole range (its whole-byte form).
OwningOpRef<ModuleOp> int4MatmulModule(MLIRContext &ctx, int64_t m, int64_t k,
                                       int64_t n, int64_t group,
                                       unsigned bits) {
  int64_t groups = k / group;
  SmallVector<float> scales(groups * n);
  for (int64_t i = 0; i < groups * n; ++i)
    scales[i] = 0.01f + 0.001f * static_cast<float>(i % 7);
  // The top bits of a fixed LCG, as stored i4 (8..15 are -8..-1) or i8
  // values.
  SmallVector<int8_t> weights;
  weights.reserve(static_cast<size_t>(k * n));
  uint32_t state = 12345;
  for (int64_t i = 0; i < k * n; ++i) {
    state = state * 1664525u + 1013904223u;
    int top = static_cast<int>(state >> (32 - bits));
    int half = 1 << (bits - 1);
    weights.push_back(static_cast<int8_t>(top >= half ? top - 2 * half : top));
  }
  return buildInt4WeightOnlyModule(ctx, "bench", m, k, n, group, weights,
                                   scales, bits);
}

/// The ideal instructions per MAC of an int4 weight-only matmul with `m`
/// rows: the inner loop of an sdot kernel on nibbles unpacked in registers,
/// with the best register tile that `registers` NEON registers hold. Per
/// step of 4 along K, a tile of R rows x V vectors (4 columns each, V even)
/// executes R * V sdot (by element), V unpacking instructions (one shift per
/// register: shl for the low nibbles, sshr for the high ones), and loads of
/// V / 2 registers of packed nibbles (16 bytes hold two vectors' weights)
/// and R / 4 of activations (16 bytes of a row serve 4 steps), for
/// 16 * R * V MACs. A load instruction fills L = 1, 2 or 4 registers (ldr q,
/// ldp q, ld1 {4 registers}): (V / 2 + R / 4) / L instructions per step, and
/// L raw registers live besides the R * V accumulators, V unpacked weights
/// and R activation registers. The ideal is the best tile and load width.
/// The once-per-group f32 update, the activations' quantization and the
/// loop control are left out, so no kernel reaches it.
double int4Ideal(int64_t m, int64_t registers) {
  double best = 1.0;
  for (int64_t width : {1, 2, 4})
    for (int64_t r = 1; r <= m; ++r)
      for (int64_t v = 2; r * v + v + r + width <= registers; v += 2)
        best = std::min(best, (r * v + v + (v / 2.0 + r / 4.0) / width) /
                                  (16.0 * r * v));
  return best;
}

/// The same ideal for 8-bit weights as whole bytes: nothing to unpack, and
/// one register of weights per vector per step (R * V sdot and (V + R / 4)
/// / L loads per step for 16 * R * V MACs; R * V + V + R registers live
/// besides none raw, the loads filling the weight registers themselves).
double int8WeightIdeal(int64_t m, int64_t registers) {
  double best = 1.0;
  for (int64_t width : {1, 2, 4})
    for (int64_t r = 1; r <= m; ++r)
      for (int64_t v = width; r * v + v + r <= registers; v += width)
        best = std::min(best, (r * v + (v + r / 4.0) / width) /
                                  (16.0 * r * v));
  return best;
}

/// Runs `program` with `args`; returns its exit code and says why on failure.
int run(StringRef program, ArrayRef<StringRef> args, StringRef what) {
  std::string error;
  SmallVector<StringRef> argv = {program};
  argv.append(args.begin(), args.end());
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(""),
                                          std::nullopt};
  int code = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, redirects,
                                       /*SecondsToWait=*/0, 0, &error);
  if (code != 0)
    llvm::errs() << "qlow-bench: error: " << what << " failed (" << code << ")"
                 << (error.empty() ? "" : ": " + error) << "\n";
  return code;
}

/// Whether the A64 instruction word `insn` is an int8 dot product: sdot
/// (vector or by element) or smmla/ummla/usmmla, on NEON or SVE registers.
/// qemu 7.2's disassembler prints these as `.byte`, so they are recognised
/// by their encodings.
bool isInt8Dot(uint32_t insn) {
  return (insn & 0xbfe0fc00) == 0x0e809400 || // sdot (vector)
         (insn & 0xbfc0f400) == 0x0f80e000 || // sdot (by element)
         (insn & 0xffe0fc00) == 0x4e80a400 || // smmla
         (insn & 0xffe0fc00) == 0x6e80a400 || // ummla
         (insn & 0xffe0fc00) == 0x4e80ac00 || // usmmla
         (insn & 0xffe0fc00) == 0x45009800 || // smmla (SVE)
         (insn & 0xffe0fc00) == 0x45c09800 || // ummla (SVE)
         (insn & 0xffe0fc00) == 0x45809800;   // usmmla (SVE)
}

/// Instructions executed in the functions `names`, from a qemu log of
/// `-d in_asm,exec,nochain`; `dots` counts the int8 dot products among them.
bool countInstructions(StringRef logPath, const llvm::StringSet<> &names,
                       uint64_t &total, uint64_t &dots) {
  auto buffer = llvm::MemoryBuffer::getFile(logPath);
  if (!buffer)
    return false;
  // Pass 1: instructions per translation block (by guest PC).
  llvm::DenseMap<uint64_t, std::pair<uint32_t, uint32_t>> blocks;
  SmallVector<StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  uint64_t current = 0;
  bool inBlock = false;
  for (StringRef line : lines) {
    if (line.starts_with("IN:")) {
      inBlock = true;
      current = 0;
      continue;
    }
    if (!inBlock)
      continue;
    if (!line.starts_with("0x")) {
      inBlock = false;
      continue;
    }
    // "0x00237e80:  d10083ff  sub      sp, sp, #0x20"
    StringRef addr = line.take_until([](char c) { return c == ':'; });
    uint64_t pc = 0;
    if (addr.drop_front(2).getAsInteger(16, pc))
      continue;
    if (current == 0) {
      // A block translated again (QEMU retranslates a block with fewer
      // instructions when its host code overflows the buffer, and logs both
      // attempts) counts as its last translation, not as both.
      current = pc;
      blocks[current] = {0, 0};
    }
    SmallVector<StringRef> fields;
    line.split(fields, ' ', -1, /*KeepEmpty=*/false);
    auto &entry = blocks[current];
    ++entry.first;
    uint32_t word = 0;
    if (fields.size() >= 2 && !fields[1].getAsInteger(16, word) &&
        isInt8Dot(word))
      ++entry.second;
  }
  // Pass 2: executions. "Trace 0: 0x7ff9ffc00100 [flags/pc/...] symbol"
  total = dots = 0;
  for (StringRef line : lines) {
    if (!line.starts_with("Trace "))
      continue;
    StringRef symbol = line.rsplit(' ').second;
    if (!names.contains(symbol))
      continue;
    StringRef bracket = line.split('[').second.split(']').first;
    StringRef pcField = bracket.split('/').second.split('/').first;
    uint64_t pc = 0;
    if (pcField.getAsInteger(16, pc))
      continue;
    auto it = blocks.find(pc);
    if (it == blocks.end())
      continue;
    total += it->second.first;
    dots += it->second.second;
  }
  return true;
}

} // namespace

int runAArch64Bench(const AArch64BenchOptions &options) {
  auto clang = llvm::sys::findProgramByName("clang-22");
  auto qemu = llvm::sys::findProgramByName("qemu-aarch64");
  if (!clang || !qemu ||
      !llvm::sys::fs::exists("/usr/aarch64-linux-gnu/lib/libc.a")) {
    llvm::errs() << "qlow-bench: error: aarch64 needs clang-22, qemu-aarch64 "
                    "and the arm64 cross sysroot (scripts/setup.sh installs "
                    "them)\n";
    return 1;
  }
  SmallString<128> work(options.workDir);
  bool temporary = work.empty();
  if (temporary) {
    if (llvm::sys::fs::createUniqueDirectory("qlow-bench-aarch64", work)) {
      llvm::errs() << "qlow-bench: error: cannot create a work directory\n";
      return 1;
    }
  } else if (llvm::sys::fs::create_directories(work)) {
    llvm::errs() << "qlow-bench: error: cannot create " << work << "\n";
    return 1;
  }

  DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  int status = 0;
  // One case: compile, link, run under qemu, count, print.
  auto runCase = [&](const std::string &cpu, int64_t m, int64_t k, int64_t n,
                     bool int4) {
    const bool bytes = int4 && options.weightBits == 8;
    std::string stem =
        llvm::formatv("{0}_{1}{2}x{3}x{4}", cpu,
                      bytes ? "int8w_" : int4 ? "int4_" : "", m, k, n)
            .str();
    auto path = [&](StringRef suffix) {
      SmallString<256> p(work);
      llvm::sys::path::append(p, stem + suffix.str());
      return p.str().str();
    };
    MLIRContext context(registry);
    context.loadAllAvailableDialects();
    OwningOpRef<ModuleOp> module =
        int4 ? int4MatmulModule(context, m, k, n, options.int4Group,
                                options.weightBits)
             : parseSourceString<ModuleOp>(
                   matmulSource(m, k, n, options.activations), &context);
    if (!module)
      return false;
    FailureOr<std::string> header =
        mlir::qlow::emitCHeader(*module, "QLOW_BENCH_H");
    if (failed(header))
      return false;
    {
      std::error_code ec;
      llvm::raw_fd_ostream h(path(".h"), ec);
      h << *header;
      llvm::raw_fd_ostream c(path("_main.c"), ec);
      c << "#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
        << "#include \"" << stem << ".h\"\n"
        << "int main(void) {\n"
        << llvm::formatv("  size_t m = {0}, k = {1}, n = {2};\n", m, k, n);
      if (int4)
        c << "  float *a = malloc(m * k * sizeof(float));\n"
          << "  float *y = malloc(m * n * sizeof(float));\n"
          << "  for (size_t i = 0; i < m * k; ++i)\n"
          << "    a[i] = (float)(i * 2654435761u >> 24) / 64.0f - 2.0f;\n"
          << "  qlow_bench((const void *)a, y);\n"
          << "  double sum = 0;\n"
          << "  for (size_t i = 0; i < m * n; ++i) sum += y[i];\n"
          << "  printf(\"%g\\n\", sum);\n  return 0;\n}\n";
      else
        c << "  uint8_t *a = malloc(m * k);\n"
          << "  int32_t *y = malloc(m * n * sizeof(int32_t));\n"
          << "  for (size_t i = 0; i < m * k; ++i)\n"
          << "    a[i] = (uint8_t)(i * 2654435761u >> 24);\n"
          << "  qlow_bench((const void *)a, y);\n"
          << "  long long sum = 0;\n"
          << "  for (size_t i = 0; i < m * n; ++i) sum += y[i];\n"
          << "  printf(\"%lld\\n\", sum);\n  return 0;\n}\n";
      llvm::raw_fd_ostream o(path(".o"), ec, llvm::sys::fs::OF_None);
      mlir::qlow::EmitOptions emit;
      emit.arch = "aarch64";
      emit.cpu = cpu;
      if (ec || failed(mlir::qlow::emitModule(*module, emit, o))) {
        llvm::errs() << "qlow-bench: error: cannot compile " << stem << "\n";
        return false;
      }
    }
    // A CPU with SVE kernels runs at the vector length they were compiled
    // for (qemu's max CPU defaults to 64 bytes in user mode).
    FailureOr<mlir::qlow::TargetDesc> desc =
        mlir::qlow::lookupTargetDesc("aarch64", cpu);
    const unsigned sveBits = succeeded(desc) ? desc->sveVectorBits : 0;
    std::string qemuCpu =
        sveBits ? llvm::formatv("max,sve-default-vector-length={0}",
                                sveBits / 8)
                      .str()
                : std::string("max");
    std::string exe = path(".exe"), log = path(".qemu.log");
    std::string include = "-I" + work.str().str();
    std::string mainC = path("_main.c"), obj = path(".o");
    if (run(*clang,
            {"--target=aarch64-linux-gnu", "-fuse-ld=lld", "-static", "-O1",
             include, mainC, obj, "-lm", "-o", exe},
            "clang-22 " + stem) != 0 ||
        run(*qemu,
            {"-cpu", qemuCpu, "-d", "in_asm,exec,nochain", "-D", log, exe},
            "qemu-aarch64 " + stem) != 0)
      return false;
    uint64_t total = 0, dots = 0;
    llvm::StringSet<> names = {"bench", "_mlir_ciface_bench"};
    if (!countInstructions(log, names, total, dots)) {
      llvm::errs() << "qlow-bench: error: cannot read " << log << "\n";
      return false;
    }
    if (temporary)
      llvm::sys::fs::remove(log);
    // The target description chooses SVE smmla (SVE kernels, every M),
    // smmla (i8mm) or sdot (dotprod); the int8 ideal is the dot instructions
    // alone: one SVE smmla per 32 MACs per 128-bit segment (64 at 256 bits;
    // M = 1 computes a padding row in every smmla, so it can reach half of
    // it). The int4 kernel uses sdot by element on every CPU; its ideal adds
    // the nibbles' loads and unpacking (8-bit weights: their loads).
    bool sve = !int4 && sveBits != 0;
    bool mmla = !int4 && !sve && m > 1 && succeeded(desc) &&
                desc->int8Dot == mlir::qlow::Int8DotKind::NeonI8mm;
    double macs = static_cast<double>(m) * k * n;
    double perMac = total / macs;
    const int64_t registers = succeeded(desc) ? desc->vectorRegisters : 32;
    double ideal =
        bytes  ? int8WeightIdeal(m, registers)
        : int4 ? int4Ideal(m, registers)
        : sve  ? 1.0 / (32.0 * sveBits / 128)
        : mmla ? 1.0 / 32
               : 1.0 / 16;
    llvm::outs() << llvm::formatv(
        "case={0} M={1} K={2} N={3} cpu={4} insn_per_mac={5:f4} "
        "ideal={6:f4} ratio={7:f3} dot_share={8:f3} insns={9} dots={10}\n",
        (bytes  ? "int8w_sdot_"
         : int4 ? "int4_sdot_"
         : sve  ? "sve_smmla_"
         : mmla ? "smmla_"
                : "sdot_") +
            llvm::formatv("{0}x{1}x{2}", m, k, n).str(),
        m, k, n, cpu, perMac, ideal, ideal / perMac,
        total ? static_cast<double>(dots) / total : 0.0, total, dots);
    llvm::outs().flush();
    return true;
  };
  for (const std::string &cpu : options.cpus) {
    for (const std::vector<int64_t> &shape : options.cases)
      if (!runCase(cpu, shape[0], shape[1], shape[2], /*int4=*/false))
        status = 1;
    for (const std::vector<int64_t> &shape : options.int4Cases) {
      if (shape[1] % options.int4Group != 0) {
        llvm::errs() << "qlow-bench: error: int4 K = " << shape[1]
                     << " is not a multiple of the group size "
                     << options.int4Group << "\n";
        status = 1;
        continue;
      }
      if (!runCase(cpu, shape[0], shape[1], shape[2], /*int4=*/true))
        status = 1;
    }
  }
  if (temporary)
    llvm::sys::fs::remove_directories(work);
  return status;
}

} // namespace qlow::bench
