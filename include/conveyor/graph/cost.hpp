#pragma once
#include <vector>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// Work estimate of one node: floating-point operations (a multiply-add counts 2) and bytes moved
// (runtime inputs and weights read once, outputs written once). Used by the partitioner and `infer --info`.
struct NodeCost {
  double flops = 0;
  double bytes = 0;
};

NodeCost node_cost(const Graph& graph, const Node& node);

struct GraphCost {
  double flops = 0;
  double bytes = 0;
  std::vector<NodeCost> nodes;  // parallel to graph.nodes
};

GraphCost graph_cost(const Graph& graph);

}  // namespace conveyor
