#include "graph/partition/value_liveness.hpp"

#include <algorithm>
#include <string>

namespace conveyor {

std::size_t activation_bytes(const Graph& graph, int value) {
  const Value& v = graph.value(value);
  return static_cast<std::size_t>(shape_numel(v.shape)) * dtype_size(v.dtype);
}

std::vector<int> value_producers(const Graph& graph) {
  std::vector<int> producer(graph.values.size(), -1);
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    for (int out : graph.nodes[i].outputs)
      if (out >= 0) producer[static_cast<std::size_t>(out)] = static_cast<int>(i);
  return producer;
}

Liveness::Liveness(const Graph& graph, const std::vector<int>& order)
    : graph_(graph), nodes_(static_cast<int>(order.size())) {
  const std::size_t n = graph.nodes.size();
  if (order.size() != n)
    throw GraphError("node order has " + std::to_string(order.size()) + " entries for " + std::to_string(n) +
                     " nodes");
  position_.assign(n, -1);
  for (std::size_t p = 0; p < order.size(); ++p) {
    const int node = order[p];
    if (node < 0 || static_cast<std::size_t>(node) >= n || position_[static_cast<std::size_t>(node)] >= 0)
      throw GraphError("node order is not a permutation of the graph's nodes (entry " + std::to_string(p) +
                       ")");
    position_[static_cast<std::size_t>(node)] = static_cast<int>(p);
  }
  defined_.assign(graph.values.size(), -1);
  last_read_.assign(graph.values.size(), -1);
  for (std::size_t i = 0; i < n; ++i) {
    const int pos = position_[i];
    for (int out : graph.nodes[i].outputs)
      if (out >= 0) defined_[static_cast<std::size_t>(out)] = pos;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const int pos = position_[i];
    for (int in : graph.nodes[i].inputs) {
      if (in < 0) continue;
      int& last = last_read_[static_cast<std::size_t>(in)];
      last = std::max(last, pos);
      if (defined_[static_cast<std::size_t>(in)] >= pos)
        throw GraphError("node order runs " + graph.nodes[i].where() + " before the producer of '" +
                         graph.value(in).name + "' (not a topological order)");
    }
  }
  for (int out : graph.outputs) last_read_[static_cast<std::size_t>(out)] = nodes_;
}

std::pair<int, int> Liveness::live_cuts(int value) const {
  if (!is_activation(graph_, value)) return {1, 0};
  const int first = std::max(defined_[static_cast<std::size_t>(value)] + 1, 1);
  const int last = std::min(last_read_[static_cast<std::size_t>(value)], nodes_ - 1);
  return {first, last};
}

}  // namespace conveyor
