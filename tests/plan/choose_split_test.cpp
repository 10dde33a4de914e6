// split: auto's choice of the segment count.
#include "conveyor/plan/choose_split.hpp"

#include <gtest/gtest.h>

#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/graph/partition.hpp"
#include "conveyor/graph/zoo.hpp"

namespace conveyor::plan {
namespace {

Graph resnet18() {
  const std::string bytes = zoo::serialize("resnet18", zoo::ZooOptions{.image_size = 64});
  return parse_onnx(bytes.data(), bytes.size());
}

TEST(ChooseAutoSplit, StopsWhenTheBottleneckGainsFivePercentOrLess) {
  const Graph graph = resnet18();
  const std::vector<double> cost = analytic_node_cost_ms(graph);
  const int k = choose_auto_split(graph, cost, 8);
  ASSERT_GE(k, 1);
  ASSERT_LE(k, 8);
  auto bottleneck = [&](int stages) {
    PartitionOptions options;
    options.stages = stages;
    return partition_graph(graph, cost, options).bottleneck_ms;
  };
  for (int i = 1; i < k; ++i) EXPECT_LT(bottleneck(i + 1), 0.95 * bottleneck(i)) << "K=" << i;
  if (k < 8) {
    EXPECT_GE(bottleneck(k + 1), 0.95 * bottleneck(k));
  }
  EXPECT_EQ(choose_auto_split(graph, cost, 1), 1);
}

}  // namespace
}  // namespace conveyor::plan
