#pragma once
// Where each activation of a graph is produced and last read along one topological order (internal to the
// partitioner and the segment exporter).
#include <cstddef>
#include <utility>
#include <vector>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// A value computed at run time (not an initializer or folded constant).
inline bool is_activation(const Graph& graph, int value) {
  return value >= 0 && !graph.value(value).is_constant();
}
std::size_t activation_bytes(const Graph& graph, int value);

// The producing node of each value id (-1 for graph inputs, constants and unused values).
std::vector<int> value_producers(const Graph& graph);

class Liveness {
 public:
  // `order`: a topological order of all of graph.nodes. Throws GraphError when it is not a permutation.
  Liveness(const Graph& graph, const std::vector<int>& order);

  int position_of_node(int node) const { return position_[static_cast<std::size_t>(node)]; }
  // Position of the producer (-1 for graph inputs).
  int defined_at(int value) const { return defined_[static_cast<std::size_t>(value)]; }
  // Position of the last reader; the number of nodes for graph outputs; -1 when nothing reads it.
  int last_read_at(int value) const { return last_read_[static_cast<std::size_t>(value)]; }
  // Cuts c in [first, second] (cut c lies in front of position c) the activation is live across; empty
  // (first > second) for constants and values nobody needs across a cut.
  std::pair<int, int> live_cuts(int value) const;

 private:
  const Graph& graph_;
  int nodes_ = 0;
  std::vector<int> position_;
  std::vector<int> defined_;
  std::vector<int> last_read_;
};

}  // namespace conveyor
