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

TEST(ChooseAutoSplit, ExplainsTheBottlenecksItComparedAndWhyItStopped) {
  const Graph graph = resnet18();
  const std::vector<double> cost = analytic_node_cost_ms(graph);
  const SplitChoice choice = explain_auto_split(graph, cost, 8);
  EXPECT_EQ(choice.segments, choose_auto_split(graph, cost, 8));
  EXPECT_EQ(choice.max_segments, 8);
  for (std::size_t i = 0; i < choice.bottleneck_ms.size(); ++i) {
    PartitionOptions options;
    options.stages = static_cast<int>(i) + 1;
    EXPECT_DOUBLE_EQ(choice.bottleneck_ms[i], partition_graph(graph, cost, options).bottleneck_ms)
        << "K=" << i + 1;
  }
  if (choice.stop == SplitChoice::Stop::kSmallGain) {
    ASSERT_EQ(choice.bottleneck_ms.size(), static_cast<std::size_t>(choice.segments) + 1);
    EXPECT_GE(choice.bottleneck_ms.back(), 0.95 * choice.bottleneck_ms[choice.bottleneck_ms.size() - 2]);
  } else {
    EXPECT_EQ(choice.stop, SplitChoice::Stop::kLimit);
    EXPECT_EQ(choice.segments, 8);
  }

  const SplitChoice one = explain_auto_split(graph, cost, 1);  // no room for a second segment
  EXPECT_EQ(one.segments, 1);
  EXPECT_EQ(one.stop, SplitChoice::Stop::kLimit);
  EXPECT_EQ(one.bottleneck_ms.size(), 1u);

  const double floor_ms = 2 * choice.bottleneck_ms.front();  // the rest of the pipeline is slower already
  const SplitChoice floored = explain_auto_split(graph, cost, 8, floor_ms);
  EXPECT_EQ(floored.segments, 1);
  EXPECT_EQ(floored.stop, SplitChoice::Stop::kSmallGain);
  EXPECT_DOUBLE_EQ(floored.floor_ms, floor_ms);
  EXPECT_DOUBLE_EQ(floored.bottleneck_ms.front(), floor_ms);
}

}  // namespace
}  // namespace conveyor::plan
