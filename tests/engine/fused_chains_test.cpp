// fused_chains: what the compiler fuses, so that splitting a model never cuts a fused chain apart.
#include "conveyor/engine/fused_chains.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/graph/partition.hpp"
#include "conveyor/graph/zoo.hpp"

namespace conveyor {
namespace {

Graph resnet18() {
  const std::string bytes = zoo::serialize("resnet18", zoo::ZooOptions{.seed = 1, .image_size = 64});
  return parse_onnx(bytes.data(), bytes.size());
}

TEST(FusedChains, EachConvWithTheActivationsAfterIt) {
  const Graph graph = resnet18();
  const std::vector<std::vector<int>> chains = fused_chains(graph);
  ASSERT_FALSE(chains.empty());
  std::set<int> fused_activations;
  for (const auto& chain : chains) {
    ASSERT_GE(chain.size(), 2u);
    EXPECT_EQ(graph.nodes[static_cast<std::size_t>(chain.front())].op_type, "Conv");
    for (std::size_t i = 1; i < chain.size(); ++i) {
      const std::string& op = graph.nodes[static_cast<std::size_t>(chain[i])].op_type;
      EXPECT_TRUE(op == "Relu" || op == "Add") << op;
      fused_activations.insert(chain[i]);
    }
  }
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {  // every Relu of resnet18 follows a Conv or an Add
    if (graph.nodes[n].op_type == "Relu") {
      EXPECT_TRUE(fused_activations.count(static_cast<int>(n))) << n;
    }
  }
}

TEST(FusedChains, APartitionKeepingThemNeverStartsASegmentInsideOne) {
  const Graph graph = resnet18();
  std::vector<double> cost(graph.nodes.size(), 0.0);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n)  // costs as measured: a chain's on its first node
    cost[n] = graph.nodes[n].op_type == "Conv" ? 1.0 : graph.nodes[n].op_type == "Gemm" ? 0.5 : 0.0;
  PartitionOptions options;
  options.kept_together = fused_chains(graph);
  for (int k : {2, 3, 4}) {
    options.stages = k;
    for (const Stage& stage : partition_graph(graph, cost, options).stages) {
      const std::string& op = graph.nodes[static_cast<std::size_t>(stage.nodes.front())].op_type;
      EXPECT_TRUE(op != "Relu" && op != "Add") << "K=" << k << ": a segment begins at a " << op;
    }
  }
}

}  // namespace
}  // namespace conveyor
