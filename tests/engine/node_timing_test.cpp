// Per-node costs measured inside the executor (CompiledModel::profile_nodes, measure_node_cost_ms).
#include "conveyor/engine/node_timing.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/graph/zoo.hpp"

namespace conveyor {
namespace {

Graph zoo_graph(const std::string& name) {
  const std::string bytes = zoo::build(name, zoo::ZooOptions{.image_size = 64}).SerializeAsString();
  return parse_onnx(bytes.data(), bytes.size(), {}, "", name);
}

TEST(NodeTiming, OneCostPerGraphNodeAndTheConvolutionsCarryTheWork) {
  const Graph graph = zoo_graph("resnet18");
  const std::vector<double> cost = measure_node_cost_ms(graph, 1, 3);
  ASSERT_EQ(cost.size(), graph.nodes.size());
  double total = 0, conv = 0;
  for (std::size_t n = 0; n < cost.size(); ++n) {
    EXPECT_GE(cost[n], 0.0) << graph.nodes[n].where();
    total += cost[n];
    if (graph.nodes[n].op_type == "Conv") {
      EXPECT_GT(cost[n], 0.0) << graph.nodes[n].where();
      conv += cost[n];
    }
  }
  // ResNet-18 is ~all convolution FLOPs: whatever the machine's noise, they hold most of the time.
  EXPECT_GT(conv, 0.5 * total);
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
