//===- ImportONNXTest.cpp - lib/Import/ONNX from C++-built models ---------===//
//
// Models built with onnx.proto's C++ classes, imported from memory: what a
// small graph becomes, that every truncation of a serialized model either
// imports into valid IR or fails with an error diagnostic (never a crash or
// a partial module), and the messages of bad quantization parameters and
// unknown ops.
//
//===----------------------------------------------------------------------===//

#include "qlow/Import/ONNX/ImportONNX.h"
#include "qlow/Registration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace mlir;

namespace {

class ImportONNXTest : public ::testing::Test {
protected:
  ImportONNXTest() {
    DialectRegistry registry;
    qlow::registerQlowDialects(registry);
    context = std::make_unique<MLIRContext>(registry);
  }

  /// Imports `bytes`, collecting the error messages.
  OwningOpRef<ModuleOp> import(const std::string &bytes) {
    errors.clear();
    ScopedDiagnosticHandler handler(context.get(), [&](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error)
        errors.push_back(d.str());
      return success();
    });
    return qlow::importOnnxModel(bytes, "test.onnx", context.get());
  }

  static onnx::ValueInfoProto *input(onnx::GraphProto *g, const char *name,
                                     std::vector<int64_t> shape) {
    auto *vi = g->add_input();
    vi->set_name(name);
    auto *tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape)
      tt->mutable_shape()->add_dim()->set_dim_value(d);
    return vi;
  }

  static onnx::NodeProto *node(onnx::GraphProto *g, const char *op,
                               const char *name,
                               std::vector<std::string> inputs,
                               std::vector<std::string> outputs) {
    auto *n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto &i : inputs)
      n->add_input(i);
    for (auto &o : outputs)
      n->add_output(o);
    return n;
  }

  static void floatInit(onnx::GraphProto *g, const char *name,
                        std::vector<int64_t> shape, std::vector<float> v) {
    auto *t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape)
      t->add_dims(d);
    for (float f : v)
      t->add_float_data(f);
  }

  /// x[2, 3] -> MatMul(w[3, 2]) -> Relu -> y.
  static onnx::ModelProto matmulRelu() {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(17);
    auto *g = m.mutable_graph();
    input(g, "x", {2, 3});
    floatInit(g, "w", {3, 2}, {1, 2, 3, 4, 5, 6});
    node(g, "MatMul", "mm", {"x", "w"}, {"h"});
    node(g, "Relu", "relu", {"h"}, {"y"});
    g->add_output()->set_name("y");
    return m;
  }

  std::unique_ptr<MLIRContext> context;
  std::vector<std::string> errors;
};

TEST_F(ImportONNXTest, MatmulReluImports) {
  auto module = import(matmulRelu().SerializeAsString());
  ASSERT_TRUE(module) << (errors.empty() ? "" : errors.front());
  auto func = module->lookupSymbol<func::FuncOp>("model");
  ASSERT_TRUE(func);
  EXPECT_EQ(func.getNumArguments(), 1u);
  EXPECT_EQ(func.getNumResults(), 1u);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  EXPECT_NE(text.find("qlow.matmul"), std::string::npos);
  EXPECT_NE(text.find("arith.maximumf"), std::string::npos);
  EXPECT_NE(text.find("tensor<2x2xf32>"), std::string::npos);
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(ImportONNXTest, EveryTruncationFailsCleanlyOrImports) {
  std::string bytes = matmulRelu().SerializeAsString();
  int imported = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto module = import(bytes.substr(0, n));
    if (module) {
      ++imported;
      EXPECT_TRUE(succeeded(verify(*module))) << "prefix " << n;
    } else {
      EXPECT_FALSE(errors.empty()) << "prefix " << n << " failed silently";
    }
  }
  // Only prefixes that end exactly where the output list is complete (the
  // rest of the message is optional) can import.
  EXPECT_LT(imported, 4);
}

TEST_F(ImportONNXTest, ZeroScaleIsAnError) {
  onnx::ModelProto m;
  m.add_opset_import()->set_version(17);
  auto *g = m.mutable_graph();
  input(g, "x", {4});
  floatInit(g, "s", {}, {0.0f});
  node(g, "QuantizeLinear", "quant", {"x", "s"}, {"q"});
  node(g, "DequantizeLinear", "dequant", {"q", "s"}, {"y"});
  g->add_output()->set_name("y");
  EXPECT_FALSE(import(m.SerializeAsString()));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("node 'quant' (QuantizeLinear): scale 0"),
            std::string::npos)
      << errors[0];
}

TEST_F(ImportONNXTest, UnknownOpNamesOpAndNode) {
  onnx::ModelProto m = matmulRelu();
  m.mutable_graph()->mutable_node(1)->set_op_type("Relu6");
  EXPECT_FALSE(import(m.SerializeAsString()));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("node 'relu' (Relu6): unknown op 'Relu6'"),
            std::string::npos)
      << errors[0];
}

TEST_F(ImportONNXTest, WrongInitializerSizeIsAnError) {
  onnx::ModelProto m = matmulRelu();
  m.mutable_graph()->mutable_initializer(0)->add_float_data(7.0f);
  EXPECT_FALSE(import(m.SerializeAsString()));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("tensor 'w' holds 7 values where its shape needs 6"),
            std::string::npos)
      << errors[0];
}

} // namespace
