// Per-node costs measured inside the executor (CompiledModel::profile_nodes, measure_node_cost_ms).
#include "conveyor/engine/node_timing.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <sstream>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "graph/zoo/zoo_model.hpp"

namespace conveyor {
namespace {

Graph zoo_graph(const std::string& name) {
  const std::string bytes = zoo::build(name, zoo::ZooOptions{.image_size = 64}).SerializeAsString();
  return parse_onnx(bytes.data(), bytes.size(), {}, "", name);
}

TEST(NodeTiming, OneCostPerGraphNodeAndEveryKernelCounts) {
  const Graph graph = zoo_graph("resnet18");
  const std::vector<double> cost = measure_node_cost_ms(graph, 1, 3);
  ASSERT_EQ(cost.size(), graph.nodes.size());
  for (std::size_t n = 0; n < cost.size(); ++n) {
    EXPECT_GE(cost[n], 0.0) << graph.nodes[n].where();
    if (graph.nodes[n].op_type == "Conv") {
      EXPECT_GT(cost[n], 0.0) << graph.nodes[n].where();
    }
  }
}

// Each step is counted for the node it was compiled for: a step labelled with a node's name maps to that
// node, every Conv node has its primitive, and the output copy maps to the node producing the output.
TEST(NodeTiming, StepsMapToTheNodesTheyWereCompiledFor) {
  const Graph graph = zoo_graph("resnet18");
  CompiledModel model = CompiledModel::compile(graph, {});
  std::istringstream lines(model.describe());
  std::set<int> nodes_with_steps;
  for (std::string line; std::getline(lines, line);) {
    const auto arrow = line.rfind(" -> node ");
    if (arrow == std::string::npos) continue;
    const int node = std::stoi(line.substr(arrow + 9));
    ASSERT_GE(node, 0);
    ASSERT_LT(node, static_cast<int>(graph.nodes.size())) << line;
    nodes_with_steps.insert(node);
    for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
      if (line.find(graph.nodes[n].where() + " [") != std::string::npos) {
        EXPECT_EQ(node, static_cast<int>(n)) << line;
      }
    }
  }
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    if (graph.nodes[n].op_type == "Conv") {
      EXPECT_TRUE(nodes_with_steps.count(static_cast<int>(n))) << graph.nodes[n].where();
    }
  }
}

TEST(NodeTiming, ProfilingLeavesTheResultsUnchanged) {
  const Graph graph = zoo_graph("tinycnn");
  EngineOptions options;
  options.threads = 1;
  CompiledModel model = CompiledModel::compile(graph, options);
  const std::vector<Tensor> inputs = synthetic_inputs(graph);
  const std::vector<Tensor> before = model.run(inputs);
  EXPECT_EQ(model.profile_nodes(inputs, 2).size(), graph.nodes.size());
  const std::vector<Tensor> after = model.run(inputs);
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(std::memcmp(before[i].raw(), after[i].raw(), before[i].nbytes()), 0);
}

TEST(NodeTiming, BadArgumentsAreErrors) {
  const Graph graph = zoo_graph("tinycnn");
  EXPECT_THROW(measure_node_cost_ms(graph, 0, 1), EngineError);
  EXPECT_THROW(measure_node_cost_ms(graph, 1, 0), EngineError);
  CompiledModel model = CompiledModel::compile(graph, {});
  EXPECT_THROW(model.profile_nodes({}, 1), EngineError);  // the model takes an input
}

TEST(NodeTiming, SyntheticInputsMatchTheGraphInputs) {
  const std::string bytes = zoo::build("bert", zoo::ZooOptions{.layers = 1, .hidden = 32, .heads = 2,
                                                               .seq_len = 8, .vocab = 50})
                                .SerializeAsString();
  const Graph graph = parse_onnx(bytes.data(), bytes.size(), {}, "", "bert");
  const std::vector<Tensor> inputs = synthetic_inputs(graph);
  ASSERT_EQ(inputs.size(), graph.inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(inputs[i].dtype(), graph.value(graph.inputs[i]).dtype);
    EXPECT_EQ(inputs[i].shape(), graph.value(graph.inputs[i]).shape);
  }
  EXPECT_EQ(measure_node_cost_ms(graph, 1, 1).size(), graph.nodes.size());
}

}  // namespace
}  // namespace conveyor
