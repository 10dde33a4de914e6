// The engine's post-op fusion: which chains become one oneDNN primitive, and chains oneDNN declines
// running node by node instead of failing to compile.
#include "engine/post_op_fusion.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "graph/onnx_model_builder.hpp"
#include "graph/zoo/zoo_model.hpp"

namespace conveyor {
namespace {

using testing::ModelBuilder;
using testing::parse_model;
using testing::random_tensor;

TEST(PostOpFusion, ConvBiasResidualReluBecomeOneNode) {
  ModelBuilder b;
  b.input("x", {1, 4, 6, 6}).output("y");
  b.initializer("w", random_tensor({4, 4, 3, 3}, 2));
  b.initializer("bias", random_tensor({1, 4, 1, 1}, 3));
  ModelBuilder::attr(b.node("Conv", {"x", "w"}, {"c"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Add", {"c", "bias"}, {"cb"});
  b.node("Add", {"x", "cb"}, {"r"});
  b.node("Relu", {"r"}, {"y"});
  const Graph original = parse_model(b);
  ASSERT_EQ(original.nodes.size(), 4u) << original.summary();  // the importer fuses nothing
  const PostOpFusion f = fuse_post_ops(original);
  const Graph& g = f.graph;
  ASSERT_EQ(g.nodes.size(), 1u) << g.summary();
  const Node& conv = g.nodes[0];
  EXPECT_EQ(g.value(conv.input(2)).shape, (Shape{4}));
  ASSERT_EQ(conv.post_ops.size(), 2u);
  EXPECT_EQ(conv.post_ops[0].kind, PostOp::Kind::kSum);
  EXPECT_EQ(g.value(conv.input(static_cast<std::size_t>(conv.post_ops[0].input_index))).name, "x");
  EXPECT_EQ(conv.post_ops[1].op_type, "Relu");
  EXPECT_EQ(g.value(conv.output(0)).name, "y");
  EXPECT_EQ(f.nodes[0].origin, 0);
  EXPECT_EQ(f.nodes[0].members, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_TRUE(original.nodes[0].post_ops.empty());  // the caller's graph is left alone
}

TEST(PostOpFusion, MatMulBiasAddBecomesItsBias) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 8}).output("y");
  b.initializer("w", random_tensor({8, 5}, 1));
  b.initializer("b", random_tensor({5}, 2));
  b.node("MatMul", {"x", "w"}, {"m"});
  b.node("Add", {"m", "b"}, {"y"});
  const Graph original = parse_model(b);
  ASSERT_EQ(original.nodes.size(), 2u);
  const PostOpFusion f = fuse_post_ops(original);
  ASSERT_EQ(f.graph.nodes.size(), 1u);
  EXPECT_EQ(f.graph.nodes[0].inputs.size(), 3u);
  EXPECT_TRUE(f.graph.nodes[0].post_ops.empty());
}

TEST(PostOpFusion, NoFusionAcrossABranch) {
  ModelBuilder b;
  b.input("x", {1, 2, 4, 4}).output("y").output("c");
  b.initializer("w", random_tensor({2, 2, 1, 1}, 2));
  b.node("Conv", {"x", "w"}, {"c"});
  b.node("Relu", {"c"}, {"y"});
  const PostOpFusion f = fuse_post_ops(parse_model(b));
  EXPECT_EQ(f.graph.nodes.size(), 2u);
  EXPECT_TRUE(f.graph.nodes[0].post_ops.empty());
  EXPECT_TRUE(f.nodes[0].members.empty());
}

TEST(PostOpFusion, AFusedNodeStandsWhereItsChainEnds) {
  // The residual is computed after the Conv: the fused node must come after the residual's producer.
  ModelBuilder b;
  b.input("x", {1, 2, 4, 4}).output("y");
  b.initializer("w", random_tensor({2, 2, 1, 1}, 2));
  b.node("Conv", {"x", "w"}, {"c"});
  b.node("Sigmoid", {"x"}, {"s"});
  b.node("Add", {"c", "s"}, {"y"});
  const PostOpFusion f = fuse_post_ops(parse_model(b));
  ASSERT_EQ(f.graph.nodes.size(), 2u) << f.graph.summary();
  EXPECT_EQ(f.graph.nodes[0].op_type, "Sigmoid");
  EXPECT_EQ(f.graph.nodes[1].op_type, "Conv");
  EXPECT_EQ(f.graph.value(f.graph.outputs[0]).producer, 1);
}

// Gemm with alpha 0 has no oneDNN form here: the Gemm runs as a reference kernel and the Relu on its own.
TEST(PostOpFusion, AGemmWithAlphaZeroBeforeAReluRunsUnfused) {
  ModelBuilder b;
  b.input("a", {2, 3}).output("y");
  b.initializer("b", random_tensor({3, 4}, 1));
  b.initializer("c", Tensor::from<float>({4}, std::vector<float>{-1, 2, -3, 4}));
  onnx::NodeProto& gemm = b.node("Gemm", {"a", "b", "c"}, {"g"});
  ModelBuilder::attr(gemm, "alpha", 0.0f);
  ModelBuilder::attr(gemm, "beta", 2.0f);
  b.node("Relu", {"g"}, {"y"});
  CompiledModel model = CompiledModel::compile(parse_model(b), EngineOptions{1});
  EXPECT_EQ(model.stats().declined_fusions, 1u);
  EXPECT_EQ(model.stats().fused_chains, 0u);
  const Tensor y = model.run({random_tensor({2, 3}, 7)})[0];
  EXPECT_EQ(std::vector<float>(y.values<float>().begin(), y.values<float>().end()),
            (std::vector<float>{0, 4, 0, 8, 0, 4, 0, 8}));
}

// A MatMul of integers (no oneDNN primitive) followed by an Add: both run as reference kernels, exactly.
TEST(PostOpFusion, AnIntegerMatMulBeforeAnAddRuns) {
  ModelBuilder b;
  b.input("a", {2, 2}, DType::kInt64).output("y");
  b.initializer("b", Tensor::from<int64_t>({2, 2}, std::vector<int64_t>{1, 2, 3, 4}));
  b.initializer("c", Tensor::from<int64_t>({2}, std::vector<int64_t>{100, 200}));
  b.node("MatMul", {"a", "b"}, {"m"});
  b.node("Add", {"m", "c"}, {"y"});
  CompiledModel model = CompiledModel::compile(parse_model(b), EngineOptions{1});
  const Tensor y = model.run({Tensor::from<int64_t>({2, 2}, std::vector<int64_t>{1, 0, -1, 5})})[0];
  EXPECT_EQ(std::vector<int64_t>(y.values<int64_t>().begin(), y.values<int64_t>().end()),
            (std::vector<int64_t>{101, 202, 114, 218}));
}

// A MatMul with a 1-D B ([3, 4] x [4] -> [3]) and a residual Add of a [3] value: oneDNN's [3, 1]
// destination holds the same bytes as the [3] residual.
TEST(PostOpFusion, AMatMulWithAVectorOperandTakesAResidual) {
  ModelBuilder b;
  b.input("a", {3, 4}).input("r", {3}).output("y");
  b.initializer("v", Tensor::from<float>({4}, std::vector<float>{1, 2, 3, 4}));
  b.node("MatMul", {"a", "v"}, {"m"});
  b.node("Add", {"m", "r"}, {"y"});
  CompiledModel model = CompiledModel::compile(parse_model(b), EngineOptions{1});
  EXPECT_EQ(model.stats().fused_chains, 1u);
  const Tensor a = Tensor::from<float>({3, 4}, std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1});
  const Tensor r = Tensor::from<float>({3}, std::vector<float>{10, 20, 30});
  const Tensor y = model.run(std::vector<Tensor>{a, r})[0];
  EXPECT_EQ(std::vector<float>(y.values<float>().begin(), y.values<float>().end()),
            (std::vector<float>{11, 22, 40}));
}

// A constant Add after a MatMul with a 1-D B is per row of A, not a bias along a channel dimension.
TEST(PostOpFusion, AConstantAddAfterAMatMulWithAVectorOperandIsNotABias) {
  ModelBuilder b;
  b.input("a", {3, 4}).output("y");
  b.initializer("v", Tensor::from<float>({4}, std::vector<float>{1, 2, 3, 4}));
  b.initializer("c", Tensor::from<float>({3}, std::vector<float>{10, 20, 30}));
  b.node("MatMul", {"a", "v"}, {"m"});
  b.node("Add", {"m", "c"}, {"y"});
  CompiledModel model = CompiledModel::compile(parse_model(b), EngineOptions{1});
  const Tensor a = Tensor::from<float>({3, 4}, std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1});
  const Tensor y = model.run(std::vector<Tensor>{a})[0];
  EXPECT_EQ(std::vector<float>(y.values<float>().begin(), y.values<float>().end()),
            (std::vector<float>{11, 22, 40}));
}

// Every bias, residual Add and Relu of ResNet-50 is fused into its convolution: no step works for them.
TEST(PostOpFusion, ResNet50FusesEveryConvolutionChain) {
  const std::string bytes = zoo::serialize("resnet50", zoo::ZooOptions{.image_size = 64});
  const Graph g = parse_onnx(bytes.data(), bytes.size());
  CompiledModel model = CompiledModel::compile(g, EngineOptions{1});
  EXPECT_EQ(model.stats().declined_fusions, 0u);
  std::size_t convs = 0;
  for (const Node& n : g.nodes) convs += n.op_type == "Conv" ? 1 : 0;
  EXPECT_EQ(convs, 53u);
  // 16 bottlenecks of three Conv + Relu chains (the third with the residual Add) and the stem's; the four
  // downsampling convolutions are the residual of another chain, and nothing follows the final Gemm.
  EXPECT_EQ(model.stats().fused_chains, 49u);
  std::istringstream steps(model.describe());
  for (std::string line; std::getline(steps, line);) {
    const auto at = line.rfind("-> node ");
    if (at == std::string::npos) continue;
    const std::string& op = g.nodes[static_cast<std::size_t>(std::stoi(line.substr(at + 8)))].op_type;
    EXPECT_TRUE(op != "Relu" && op != "Add") << line;
  }
  std::printf("resnet50 (64x64): %zu steps, %zu oneDNN primitives, %zu fused chains\n", model.stats().steps,
              model.stats().dnnl_steps, model.stats().fused_chains);
}

}  // namespace
}  // namespace conveyor
