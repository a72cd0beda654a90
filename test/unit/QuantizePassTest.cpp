//===- QuantizePassTest.cpp - qlow-quantize's files and entry point -------===//
//
// The precision-file format round-trips through printPrecisionFile and
// parsePrecisionFile, malformed files and ranges are rejected with their
// reason, and quantizeModule leaves a module unchanged when a check fails
// (the pass fails before changing anything).
//
//===----------------------------------------------------------------------===//

#include "dialects/Qlow/Transforms/Quantize.h"
#include "qlow/Registration.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

using namespace mlir;
using namespace mlir::qlow;

namespace {

TEST(PrecisionFile, RoundTripsEveryField) {
  PrecisionFile file;
  PrecisionRule a;
  a.match = "block.*";
  a.activationBits = 16;
  a.activationSymmetric = true;
  PrecisionRule b;
  b.match = "fc\"1";  // a quote is escaped
  b.weightBits = 4;
  b.granularity = WeightGranularity::PerGroup;
  b.groupSize = 64;
  PrecisionRule c;
  c.match = "fc2";
  c.skip = true;
  file.rules = {a, b, c};
  std::string text = printPrecisionFile(file);
  llvm::Expected<PrecisionFile> parsed = parsePrecisionFile(text, "mem");
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
  ASSERT_EQ(parsed->rules.size(), 3u);
  EXPECT_EQ(parsed->rules[0].match, "block.*");
  EXPECT_EQ(parsed->rules[0].activationBits, 16u);
  EXPECT_EQ(parsed->rules[0].activationSymmetric, true);
  EXPECT_FALSE(parsed->rules[0].weightBits.has_value());
  EXPECT_EQ(parsed->rules[1].match, "fc\"1");
  EXPECT_EQ(parsed->rules[1].weightBits, 4u);
  EXPECT_EQ(parsed->rules[1].granularity, WeightGranularity::PerGroup);
  EXPECT_EQ(parsed->rules[1].groupSize, 64);
  EXPECT_EQ(parsed->rules[2].skip, true);
  EXPECT_FALSE(parsed->rules[2].groupSize.has_value());
  // Printing the parsed file gives the same text.
  EXPECT_EQ(printPrecisionFile(*parsed), text);
}

TEST(PrecisionFile, RejectsWithTheReason) {
  auto message = [](const char *text) {
    llvm::Expected<PrecisionFile> parsed = parsePrecisionFile(text, "p.json");
    EXPECT_FALSE(bool(parsed));
    return parsed ? std::string() : llvm::toString(parsed.takeError());
  };
  EXPECT_NE(message("{").find("is not valid JSON"), std::string::npos);
  EXPECT_NE(message(R"({"format": "qlow-precision", "version": 2, "layers": []})")
                .find("\"version\" is not 1"),
            std::string::npos);
  EXPECT_NE(message(R"({"format": "qlow-precision", "version": 1, "layers": [{"weight_bits": 4}]})")
                .find("layers[0] has no \"match\""),
            std::string::npos);
  EXPECT_NE(message(R"({"format": "qlow-precision", "version": 1, "layers": [{"match": "a", "scheme": "sym"}]})")
                .find("\"scheme\" must be"),
            std::string::npos);
  EXPECT_NE(message(R"({"format": "qlow-precision", "version": 1, "layers": [{"match": "a", "granularity": "per-row"}]})")
                .find("\"granularity\" must be"),
            std::string::npos);
  EXPECT_NE(message(R"({"format": "qlow-precision", "version": 1, "layers": [{"match": "a", "group_size": 0}]})")
                .find("\"group_size\" must be a positive integer"),
            std::string::npos);
  EXPECT_NE(message(R"({"format": "qlow-precision", "version": 1, "extra": 1, "layers": []})")
                .find("unknown field \"extra\""),
            std::string::npos);
}

/// Writes `text` to a temporary file and returns its path.
std::string writeTemp(const std::string &text) {
  llvm::SmallString<128> path;
  int fd;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("ranges", "json", fd, path));
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  os << text;
  return std::string(path);
}

TEST(CalibrationRanges, ReadsClipRangesAndShapes) {
  std::string path = writeTemp(
      R"({"format": "qlow-calibration", "version": 1, "function": "f",
          "method": "mse", "probes": {"f.arg0": {"shape": [2, 3],
          "min": -9, "max": 9, "clip_min": -1.5, "clip_max": 2.25}}})");
  llvm::Expected<CalibrationRanges> ranges = readCalibrationRanges(path);
  ASSERT_TRUE(bool(ranges)) << llvm::toString(ranges.takeError());
  EXPECT_EQ(ranges->function, "f");
  EXPECT_EQ(ranges->method, "mse");
  ASSERT_EQ(ranges->probes.count("f.arg0"), 1u);
  const ProbeRange &r = ranges->probes.at("f.arg0");
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.clipMin, -1.5f); // the clip range, not min/max
  EXPECT_EQ(r.clipMax, 2.25f);
  llvm::sys::fs::remove(path);

  std::string bad = writeTemp(
      R"({"format": "qlow-calibration", "version": 1, "function": "f",
          "probes": {"x": {"shape": [-1], "clip_min": 0, "clip_max": 1}}})");
  llvm::Expected<CalibrationRanges> rejected = readCalibrationRanges(bad);
  ASSERT_FALSE(bool(rejected));
  EXPECT_NE(llvm::toString(rejected.takeError()).find("bad \"shape\""),
            std::string::npos);
  llvm::sys::fs::remove(bad);
}

TEST(QuantizeModule, FailsBeforeChangingAnything) {
  DialectRegistry registry;
  registerQlowDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  const char *source = R"mlir(
    func.func @f(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
      %w = arith.constant dense<[[1.0, -1.0], [0.5, 0.25], [2.0, 0.0], [-0.5, 1.5]]> : tensor<4x2xf32>
      %y = qlow.matmul %x, %w : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
      %g = qlow.gelu %y : tensor<2x2xf32> -> tensor<2x2xf32>
      return %g : tensor<2x2xf32>
    })mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  std::string before;
  llvm::raw_string_ostream(before) << *module;

  // The matmul's range is there, gelu's input (the matmul's result) too, but
  // the precision file names a layer the graph lacks: an error, no change.
  CalibrationRanges ranges;
  ranges.path = "mem";
  ranges.function = "f";
  ranges.probes["f.arg0"] = {{2, 4}, -1.0f, 1.0f};
  ranges.probes["f.matmul_0"] = {{2, 2}, -4.0f, 4.0f};
  ranges.probes["f.gelu_0"] = {{2, 2}, -0.2f, 4.0f};
  PrecisionFile precision;
  PrecisionRule rule;
  rule.match = "f.matmul_9";
  rule.weightBits = 4;
  precision.rules = {rule};
  QuantizeConfig config;
  config.ranges = &ranges;
  config.precision = &precision;
  config.ops = QuantizeOpsScope::Full;
  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      diagnostics += d.str() + "\n";
      return success();
    });
    EXPECT_TRUE(failed(quantizeModule(*module, config)));
  }
  EXPECT_NE(diagnostics.find("names an unknown layer"), std::string::npos)
      << diagnostics;
  std::string after;
  llvm::raw_string_ostream(after) << *module;
  EXPECT_EQ(before, after);

  // Without the bad rule it quantizes: the gelu becomes qlow.int_gelu.
  config.precision = nullptr;
  config.report = false;
  EXPECT_TRUE(succeeded(quantizeModule(*module, config)));
  std::string quantized;
  llvm::raw_string_ostream(quantized) << *module;
  EXPECT_NE(quantized.find("qlow.int_gelu"), std::string::npos) << quantized;
  EXPECT_EQ(quantized.find("qlow.gelu "), std::string::npos) << quantized;
}

} // namespace
