#include <gtest/gtest.h>

#include <cmath>

#include "conveyor/graph/cost.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "graph/onnx_model_builder.hpp"

namespace conveyor {
namespace {

using testing::ModelBuilder;
using testing::random_tensor;

Graph parse(const ModelBuilder& b, bool optimize = true) {
  return testing::parse_model(b, optimize);
}

TEST(Passes, BatchNormFoldsIntoConv) {
  ModelBuilder b;
  b.input("x", {1, 2, 5, 5}).output("y");
  const Tensor w = random_tensor({3, 2, 3, 3}, 1);
  const Tensor scale = Tensor::from<float>({3}, std::vector<float>{1.5f, 0.5f, 2.0f});
  const Tensor shift = Tensor::from<float>({3}, std::vector<float>{0.1f, -0.2f, 0.3f});
  const Tensor mean = Tensor::from<float>({3}, std::vector<float>{0.5f, 1.0f, -1.0f});
  const Tensor var = Tensor::from<float>({3}, std::vector<float>{4.0f, 1.0f, 0.25f});
  b.initializer("w", w).initializer("scale", scale).initializer("shift", shift);
  b.initializer("mean", mean).initializer("var", var);
  b.node("Conv", {"x", "w"}, {"c"});
  ModelBuilder::attr(b.node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"y"}), "epsilon",
                     0.0f);
  const Graph g = parse(b);
  ASSERT_EQ(g.nodes.size(), 1u) << g.summary();
  const Node& conv = g.nodes[0];
  ASSERT_GE(conv.input(2), 0);
  const Tensor& fw = g.value(conv.input(1)).constant;
  const Tensor& fb = g.value(conv.input(2)).constant;
  for (int64_t o = 0; o < 3; ++o) {
    const float s = scale.data<float>()[o] / std::sqrt(var.data<float>()[o]);
    EXPECT_FLOAT_EQ(fw.data<float>()[o * 18 + 5], w.data<float>()[o * 18 + 5] * s);
    EXPECT_FLOAT_EQ(fb.data<float>()[o], shift.data<float>()[o] - mean.data<float>()[o] * s);
  }
  EXPECT_EQ(g.value(g.outputs[0]).name, "y");
}

TEST(Passes, ErfPatternBecomesGelu) {
  ModelBuilder b(13);
  b.input("x", {2, 8}).output("y");
  b.initializer("sqrt2", Tensor::from<float>({}, std::vector<float>{1.4142135f}));
  b.initializer("one", Tensor::from<float>({}, std::vector<float>{1.0f}));
  b.initializer("half", Tensor::from<float>({}, std::vector<float>{0.5f}));
  b.node("Div", {"x", "sqrt2"}, {"d"});
  b.node("Erf", {"d"}, {"e"});
  b.node("Add", {"e", "one"}, {"a"});
  b.node("Mul", {"x", "a"}, {"m"});
  b.node("Mul", {"m", "half"}, {"y"});
  const Graph g = parse(b);
  ASSERT_EQ(g.nodes.size(), 1u) << g.summary();
  EXPECT_EQ(g.nodes[0].op_type, "Gelu");
}

// LayerNorm as exporters spell it before opset 17.
ModelBuilder layernorm_pattern() {
  ModelBuilder b(13);
  b.input("x", {2, 3, 8}).output("y");
  b.initializer("two", Tensor::from<float>({}, std::vector<float>{2.0f}));
  b.initializer("eps", Tensor::from<float>({}, std::vector<float>{1e-5f}));
  b.initializer("gamma", random_tensor({8}, 1));
  b.initializer("beta", random_tensor({8}, 2));
  ModelBuilder::attr(b.node("ReduceMean", {"x"}, {"mean"}), "axes", std::vector<int64_t>{-1});
  b.node("Sub", {"x", "mean"}, {"d"});
  b.node("Pow", {"d", "two"}, {"sq"});
  ModelBuilder::attr(b.node("ReduceMean", {"sq"}, {"var"}), "axes", std::vector<int64_t>{-1});
  b.node("Add", {"var", "eps"}, {"ve"});
  b.node("Sqrt", {"ve"}, {"sd"});
  b.node("Div", {"d", "sd"}, {"n"});
  b.node("Mul", {"n", "gamma"}, {"m"});
  b.node("Add", {"m", "beta"}, {"y"});
  return b;
}

TEST(Passes, LayerNormPatternBecomesOneNode) {
  const Graph g = parse(layernorm_pattern());
  ASSERT_EQ(g.nodes.size(), 1u) << g.summary();
  EXPECT_EQ(g.nodes[0].op_type, "LayerNormalization");
  EXPECT_EQ(g.nodes[0].attrs.get_int("axis", 0), 2);
  EXPECT_FLOAT_EQ(g.nodes[0].attrs.get_float("epsilon", 0), 1e-5f);
  EXPECT_EQ(g.nodes[0].inputs.size(), 3u);
}

TEST(Passes, IdentityAndDropoutDisappear) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("y");
  b.node("Identity", {"x"}, {"a"});
  b.node("Dropout", {"a"}, {"d"});
  b.node("Relu", {"d"}, {"y"});
  const Graph g = parse(b);
  ASSERT_EQ(g.nodes.size(), 1u) << g.summary();
  EXPECT_EQ(g.nodes[0].inputs[0], g.inputs[0]);
}

TEST(Passes, APadOfZerosDisappearsAndAShiftingPadStays) {
  const auto pad_then_relu = [](std::vector<int64_t> pads) {
    ModelBuilder b(13);
    b.input("x", {1, 2, 4, 4}).output("y");
    b.initializer("pads", Tensor::from<int64_t>({8}, std::span<const int64_t>(pads)));
    b.node("Pad", {"x", "pads"}, {"p"});
    b.node("Relu", {"p"}, {"y"});
    return parse(b);
  };
  const Graph zeros = pad_then_relu({0, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_EQ(zeros.nodes.size(), 1u) << zeros.summary();
  EXPECT_EQ(zeros.nodes[0].inputs[0], zeros.inputs[0]);
  // Same shape, but the content moves down a row: not a no-op.
  const Graph shifted = pad_then_relu({0, 0, 1, 0, 0, 0, -1, 0});
  EXPECT_EQ(shifted.nodes.size(), 2u) << shifted.summary();
}

TEST(Passes, SiluAndHardSwishPatternsBecomeOneActivation) {
  const auto gated = [](const std::string& gate, float alpha, bool gate_is_output) {
    ModelBuilder b(13);
    b.input("x", {2, 3}).output("y");
    if (gate_is_output) b.output("g");
    onnx::NodeProto& n = b.node(gate, {"x"}, {"g"});
    if (gate == "HardSigmoid") {
      ModelBuilder::attr(n, "alpha", alpha);
      ModelBuilder::attr(n, "beta", 0.5f);
    }
    b.node("Mul", {"g", "x"}, {"y"});
    return parse(b);
  };
  Graph g = gated("Sigmoid", 0, false);
  ASSERT_EQ(g.nodes.size(), 1u) << g.summary();
  EXPECT_EQ(g.nodes[0].op_type, "Swish");
  EXPECT_EQ(g.nodes[0].inputs, std::vector<int>{g.inputs[0]});
  g = gated("HardSigmoid", 1.0f / 6, false);
  ASSERT_EQ(g.nodes.size(), 1u) << g.summary();
  EXPECT_EQ(g.nodes[0].op_type, "HardSwish");
  EXPECT_EQ(gated("HardSigmoid", 0.2f, false).nodes.size(), 2u) << "not HardSwish's constants";
  EXPECT_EQ(gated("Sigmoid", 0, true).nodes.size(), 2u) << "the gate is needed on its own";
}

TEST(Cost, ConvFlopsCountMultiplyAdds) {
  ModelBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y");
  b.initializer("w", random_tensor({4, 3, 3, 3}, 1));
  b.node("Conv", {"x", "w"}, {"y"});
  const Graph g = parse(b);
  const NodeCost c = node_cost(g, g.nodes[0]);
  EXPECT_DOUBLE_EQ(c.flops, 2.0 * (4 * 6 * 6) * (3 * 3 * 3));
  EXPECT_DOUBLE_EQ(c.bytes, 4.0 * (3 * 64 + 4 * 27 + 4 * 36));
  EXPECT_DOUBLE_EQ(graph_cost(g).flops, c.flops);
}

TEST(Cost, MatMulFlops) {
  ModelBuilder b(13);
  b.input("a", {2, 4, 8}).input("bm", {2, 8, 5}).output("y");
  b.node("MatMul", {"a", "bm"}, {"y"});
  const Graph g = parse(b);
  EXPECT_DOUBLE_EQ(node_cost(g, g.nodes[0]).flops, 2.0 * 2 * 4 * 5 * 8);
}

}  // namespace
}  // namespace conveyor
