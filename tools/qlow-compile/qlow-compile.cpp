//===- qlow-compile.cpp - compile qlow graphs ahead of time ---------------===//
//
// qlow-compile model.mlir --cpu=znver4 -o model.o   (writes model.h too)
// qlow-compile model.mlir --target=aarch64 --cpu=neoverse-n2 -o model.o
// qlow-compile model.mlir --emit=asm|llvm|mlir -o -
//
//===----------------------------------------------------------------------===//

#include "qlow/Emit/Emit.h"
#include "qlow/Import/ONNX/ImportONNX.h"
#include "qlow/Registration.h"
#include "qlow/Support/CommandLine.h"
#include "qlow/Support/InputChecks.h"
#include "qlow/Support/Progress.h"
#include "qlow/Target/TargetDesc.h"

#include "mlir/IR/AsmState.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include <cctype>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory toolCategory("qlow-compile options");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<input.mlir | model.onnx>"),
                                      cl::cat(toolCategory));
static cl::opt<std::string> outputFile("o",
                                       cl::desc("Output file ('-': stdout)"),
                                       cl::cat(toolCategory));
static cl::opt<std::string>
    targetArch("target",
               cl::desc("Target architecture: x86_64 or aarch64 "
                        "(aarch64-linux-gnu objects)"),
               cl::init("x86_64"), cl::cat(toolCategory));
static cl::opt<std::string>
    cpu("cpu",
        cl::desc("Target CPU (see --list-cpus; default: host for x86_64, "
                 "generic for aarch64). For aarch64, a comma-separated list "
                 "(best first, ending with a baseline such as generic) "
                 "compiles one variant per CPU and picks one at run time "
                 "from HWCAP"),
        cl::init("host"), cl::cat(toolCategory));
static cl::opt<bool> listCpus("list-cpus",
                              cl::desc("List the known target CPUs and exit"),
                              cl::cat(toolCategory));
static cl::opt<mlir::qlow::EmitKind> emitKind(
    "emit", cl::desc("What to write"),
    cl::values(clEnumValN(mlir::qlow::EmitKind::Object, "obj",
                          "an object file (default)"),
               clEnumValN(mlir::qlow::EmitKind::Assembly, "asm", "assembly"),
               clEnumValN(mlir::qlow::EmitKind::LLVMIR, "llvm", "LLVM IR"),
               clEnumValN(mlir::qlow::EmitKind::MLIR, "mlir",
                          "the LLVM dialect after qlow-cpu-pipeline")),
    cl::init(mlir::qlow::EmitKind::Object), cl::cat(toolCategory));
static cl::opt<std::string>
    headerFile("header",
               cl::desc("C header to write (default with --emit=obj: the "
                        "output path with .h)"),
               cl::cat(toolCategory));
static cl::opt<unsigned> optLevel("opt-level",
                                  cl::desc("Optimization level, 0 to 3"),
                                  cl::init(2), cl::cat(toolCategory));

static cl::opt<std::string> modelName(
    "model-name",
    cl::desc("With model.onnx and -o DIR/: the library's name (default: the "
             "model file's name without .onnx)"),
    cl::cat(toolCategory));

static cl::opt<bool> progress(
    "progress",
    cl::desc("Report the compilation's progress on stderr (import, quantize, "
             "lower, codegen). Default: only when stderr is a terminal and "
             "the compilation takes more than a second; --progress=false: "
             "never"),
    cl::cat(toolCategory));

using mlir::qlow::CompileProgress;

/// Imports the ONNX model `inputFile` and folds its QDQ pairs, reporting
/// both phases.
static OwningOpRef<ModuleOp>
importAndFold(MLIRContext &context,
              const mlir::qlow::OnnxImportOptions &importOptions,
              bool keepNames) {
  CompileProgress *report = CompileProgress::get();
  if (report)
    report->startPhase("import", inputFile);
  OwningOpRef<ModuleOp> module =
      mlir::qlow::importOnnxFile(inputFile, &context, importOptions);
  if (!module)
    return nullptr;
  if (report) {
    report->endPhase(CompileProgress::summarizeOps(*module));
    report->startPhase("quantize", "qlow-fold-qdq, canonicalize");
  }
  if (failed(mlir::qlow::foldImportedModel(*module, keepNames)))
    return nullptr;
  if (report)
    report->endPhase(CompileProgress::summarizeOps(*module));
  return module;
}

static int fail(const Twine &message) {
  if (CompileProgress *report = CompileProgress::get())
    report->clearStatus();
  llvm::errs() << "qlow-compile: error: " << message << "\n";
  return 1;
}

/// model.onnx -o DIR/: writes DIR/lib<name>.a (the compiled model, weights
/// included) and DIR/<name>.h (qlow-compile's header plus the model API of
/// lib/Import/ONNX: <name>_create, <name>_run, <name>_destroy).
static int writeModelLibrary(MLIRContext &context) {
  std::string name = modelName;
  if (name.empty())
    for (char c : llvm::sys::path::stem(inputFile))
      name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    name = "model_" + name;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  CompileProgress::clearStatusOnDiagnostics(context);
  mlir::qlow::OnnxImportOptions importOptions;
  importOptions.functionName = name;
  OwningOpRef<ModuleOp> module =
      importAndFold(context, importOptions, /*keepNames=*/true);
  if (!module)
    return 1;
  auto func = module->lookupSymbol<func::FuncOp>(name);
  std::vector<std::string> ins, outs;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (auto a = func.getArgAttrOfType<StringAttr>(i, "qlow.onnx_name"))
      ins.push_back(a.str());
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    if (auto a = func.getResultAttrOfType<StringAttr>(i, "qlow.onnx_name"))
      outs.push_back(a.str());
  mlir::qlow::stripOnnxNames(*module);
  FailureOr<std::string> api = mlir::qlow::emitModelApi(func, name, ins, outs);
  std::string guard = "QLOW_" + llvm::StringRef(name).upper() + "_H";
  FailureOr<std::string> header = mlir::qlow::emitCHeader(*module, guard);
  if (failed(api) || failed(header))
    return 1;
  // The API goes inside the header's extern "C" block.
  size_t end = header->rfind("#ifdef __cplusplus\n}");
  if (end == std::string::npos)
    return fail("unexpected header layout");
  header->insert(end, *api + "\n");

  llvm::SmallString<0> object;
  llvm::raw_svector_ostream objectStream(object);
  mlir::qlow::EmitOptions options;
  options.arch = targetArch;
  options.cpu = cpu;
  options.optLevel = optLevel;
  options.kind = mlir::qlow::EmitKind::Object;
  if (failed(mlir::qlow::emitModule(*module, options, objectStream)))
    return 1;
  std::string member = name + ".o";
  llvm::NewArchiveMember archiveMember(llvm::MemoryBufferRef(
      llvm::StringRef(object.data(), object.size()), member));
  std::string archive;
  llvm::raw_string_ostream archiveStream(archive);
  if (llvm::Error e = llvm::writeArchiveToStream(
          archiveStream, {std::move(archiveMember)},
          llvm::SymtabWritingMode::NormalSymtab, llvm::object::Archive::K_GNU,
          /*Deterministic=*/true, /*Thin=*/false))
    return fail("cannot write the archive: " + llvm::toString(std::move(e)));

  if (std::error_code ec = llvm::sys::fs::create_directories(outputFile))
    return fail("cannot create " + outputFile + ": " + ec.message());
  llvm::SmallString<256> libPath(outputFile), headerPath(outputFile);
  llvm::sys::path::append(libPath, "lib" + name + ".a");
  llvm::sys::path::append(headerPath, name + ".h");
  std::string error;
  auto libOut = openOutputFile(libPath, &error);
  if (!libOut)
    return fail(error);
  auto headerOut = openOutputFile(headerPath, &error);
  if (!headerOut)
    return fail(error);
  libOut->os() << archive;
  headerOut->os() << *header;
  libOut->keep();
  headerOut->keep();
  if (CompileProgress *report = CompileProgress::get())
    report->finish();
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  // `--threads` is no option of this tool (libLLVM's own took it silently).
  mlir::qlow::hideLLVMThreadsOption();
  mlir::qlow::showOnlyToolOptions(toolCategory);
  cl::ParseCommandLineOptions(argc, argv,
                              "qlow-compile: qlow graphs to object code\n");
  CompileProgress::install(
      CompileProgress::modeFromFlag(progress, progress.getNumOccurrences() > 0),
      "qlow-compile");
  if (targetArch != "x86_64" && targetArch != "aarch64")
    return fail("unknown --target '" + targetArch +
                "'; known: x86_64, aarch64");
  // The host is not an AArch64 CPU here: default to the Armv8.0 baseline.
  if (targetArch == "aarch64" && cpu.getNumOccurrences() == 0)
    cpu = "generic";
  if (listCpus) {
    llvm::outs() << mlir::qlow::listTargetDescs(targetArch) << "\n";
    return 0;
  }
  if (inputFile.empty() || outputFile.empty())
    return fail("usage: qlow-compile <input.mlir> -o <output> (see --help)");
  std::string cpuError;
  // aarch64 takes several CPUs, best first: one variant each, chosen at run
  // time from the CPU's HWCAP bits.
  SmallVector<StringRef> cpus;
  StringRef(cpu).split(cpus, ',', -1, /*KeepEmpty=*/false);
  if (cpus.empty())
    return fail("--cpu is empty");
  if (cpus.size() > 1 && targetArch != "aarch64")
    return fail("several --cpu variants are for --target=aarch64 only");
  for (StringRef one : cpus)
    if (failed(mlir::qlow::lookupTargetDesc(targetArch, one, &cpuError)))
      return fail(cpuError);

  DialectRegistry registry;
  mlir::qlow::registerQlowDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  // model.onnx -o DIR/ (or an existing directory): a model library.
  if (mlir::qlow::isOnnxFile(inputFile) && !outputFile.empty() &&
      (llvm::StringRef(outputFile).ends_with("/") ||
       llvm::sys::fs::is_directory(outputFile)))
    return writeModelLibrary(context);

  std::string error;
  OwningOpRef<ModuleOp> module;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  CompileProgress::clearStatusOnDiagnostics(context);
  if (mlir::qlow::isOnnxFile(inputFile)) {
    // An ONNX model: imported, then its QDQ pairs folded (lib/Import/ONNX).
    module = importAndFold(context, {}, /*keepNames=*/false);
    if (!module)
      return 1;
  } else {
    auto file = openInputFile(inputFile, &error);
    if (!file)
      return fail(error);
    unsigned bufferId = sourceMgr.AddNewSourceBuffer(std::move(file), {});
    if (failed(mlir::qlow::checkNestingDepth(sourceMgr, bufferId)))
      return 1;
    module = mlir::qlow::parseModuleSafely(sourceMgr, &context);
  }
  if (!module || failed(verify(*module)))
    return 1;

  // The header describes the functions as the user wrote them, so it is
  // generated before the module is lowered in place.
  std::string headerPath = headerFile;
  if (headerPath.empty() && emitKind == mlir::qlow::EmitKind::Object &&
      outputFile != "-") {
    llvm::SmallString<256> path(outputFile);
    llvm::sys::path::replace_extension(path, "h");
    headerPath = path.str().str();
  }
  std::string header;
  if (!headerPath.empty()) {
    llvm::SmallString<64> stem(llvm::sys::path::stem(headerPath));
    std::string guard = "QLOW_";
    for (char c : stem)
      guard += std::isalnum(static_cast<unsigned char>(c))
                   ? static_cast<char>(std::toupper(c))
                   : '_';
    guard += "_H";
    FailureOr<std::string> text = mlir::qlow::emitCHeader(*module, guard);
    if (failed(text))
      return 1;
    header = std::move(*text);
  }

  // Outputs are kept only if everything succeeds: no partial files.
  auto output = openOutputFile(outputFile, &error);
  if (!output)
    return fail(error);
  mlir::qlow::EmitOptions options;
  options.arch = targetArch;
  options.cpu = cpu;
  options.optLevel = optLevel;
  options.kind = emitKind;
  if (failed(mlir::qlow::emitModule(*module, options, output->os())))
    return 1;
  if (!headerPath.empty()) {
    auto headerOut = openOutputFile(headerPath, &error);
    if (!headerOut)
      return fail(error);
    headerOut->os() << header;
    headerOut->keep();
  }
  output->keep();
  if (CompileProgress *report = CompileProgress::get())
    report->finish();
  return 0;
}
