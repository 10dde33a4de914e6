#include "conveyor/plan/choose_split.hpp"

#include <algorithm>

#include "conveyor/graph/partition.hpp"

namespace conveyor::plan {

int choose_auto_split(const Graph& graph, const std::vector<double>& node_cost_ms, int max_segments,
                      double floor_ms, const PartitionOptions& partition) {
  const int limit = std::max(1, std::min<int>(max_segments, static_cast<int>(graph.nodes.size())));
  PartitionOptions options = partition;
  options.stages = 1;
  double bottleneck = std::max(floor_ms, partition_graph(graph, node_cost_ms, options).bottleneck_ms);
  for (int k = 1; k < limit; ++k) {
    options.stages = k + 1;
    double next = 0;
    try {
      next = std::max(floor_ms, partition_graph(graph, node_cost_ms, options).bottleneck_ms);
    } catch (const GraphError&) {  // no cut into k + 1 keeps the groups whole
      return k;
    }
    if (next >= (1.0 - kSplitMinGain) * bottleneck) return k;
    bottleneck = next;
  }
  return limit;
}

}  // namespace conveyor::plan
