#pragma once
// How many segments to cut a model into when the pipeline leaves the count to the planner (`split: auto`).
#include <vector>

#include "conveyor/graph/graph.hpp"
#include "conveyor/graph/partition.hpp"

namespace conveyor::plan {

// Going from K to K+1 segments must lower the bottleneck by more than this share to be worth a segment.
inline constexpr double kSplitMinGain = 0.05;

// The segment count for a graph whose nodes cost `node_cost_ms` (same indices as graph.nodes), with at
// most `max_segments` (the cores left for the model / the cores one segment needs) and `floor_ms` the
// bottleneck the rest of the pipeline sets (0: none):
//   B(K) = max(partition_graph's bottleneck at K, floor_ms): cutting finer than the rest of the pipeline can
//          follow gains nothing;
//   K    = the smallest K in 1..min(max_segments, nodes) such that going to K+1 segments lowers B by
//          kSplitMinGain or less (the limit when every step still gains more, or when the graph cannot be
//          cut into K+1 under `partition`'s constraints).
// `partition` gives the cuts' constraints (kept_together, orders; its stage count is ignored). Throws
// GraphError when the costs do not match the graph.
int choose_auto_split(const Graph& graph, const std::vector<double>& node_cost_ms, int max_segments,
                      double floor_ms = 0, const PartitionOptions& partition = {});

// choose_auto_split's choice with what it saw, for reports.
struct SplitChoice {
  int segments = 1;
  int max_segments = 1;  // the limit K could reach (cores, nodes)
  double floor_ms = 0;   // the bottleneck the rest of the pipeline sets (0: none known)
  // B(K) for K = 1, 2, ... as far as the choice looked: B(segments) is bottleneck_ms[segments - 1], and
  // B(segments + 1), when the next step was tried and gained too little, the entry after it.
  std::vector<double> bottleneck_ms;
  enum class Stop {
    kSmallGain,  // one more segment would lower B by kSplitMinGain or less
    kLimit,      // K reached max_segments (or the node count)
    kNoCut,      // the graph cannot be cut into one more segment under the constraints
  };
  Stop stop = Stop::kLimit;
};
SplitChoice explain_auto_split(const Graph& graph, const std::vector<double>& node_cost_ms, int max_segments,
                               double floor_ms = 0, const PartitionOptions& partition = {});

}  // namespace conveyor::plan
