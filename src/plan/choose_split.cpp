#include "conveyor/plan/choose_split.hpp"

#include <algorithm>

#include "conveyor/graph/partition.hpp"

namespace conveyor::plan {

SplitChoice explain_auto_split(const Graph& graph, const std::vector<double>& node_cost_ms, int max_segments,
                               double floor_ms, const PartitionOptions& partition) {
  SplitChoice choice;
  choice.floor_ms = floor_ms;
  choice.max_segments = std::max(1, std::min<int>(max_segments, static_cast<int>(graph.nodes.size())));
  PartitionOptions options = partition;
  options.stages = 1;
  choice.bottleneck_ms.push_back(
      std::max(floor_ms, partition_graph(graph, node_cost_ms, options).bottleneck_ms));
  for (int k = 1; k < choice.max_segments; ++k) {
    options.stages = k + 1;
    double next = 0;
    try {
      next = std::max(floor_ms, partition_graph(graph, node_cost_ms, options).bottleneck_ms);
    } catch (const GraphError&) {  // no cut into k + 1 keeps the groups whole
      choice.segments = k;
      choice.stop = SplitChoice::Stop::kNoCut;
      return choice;
    }
    const double bottleneck = choice.bottleneck_ms.back();
    choice.bottleneck_ms.push_back(next);
    if (next >= (1.0 - kSplitMinGain) * bottleneck) {
      choice.segments = k;
      choice.stop = SplitChoice::Stop::kSmallGain;
      return choice;
    }
  }
  choice.segments = choice.max_segments;
  choice.stop = SplitChoice::Stop::kLimit;
  return choice;
}

int choose_auto_split(const Graph& graph, const std::vector<double>& node_cost_ms, int max_segments,
                      double floor_ms, const PartitionOptions& partition) {
  return explain_auto_split(graph, node_cost_ms, max_segments, floor_ms, partition).segments;
}

}  // namespace conveyor::plan
