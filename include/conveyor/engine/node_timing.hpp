#pragma once
// Measured per-node costs for the partitioner: the time each node takes inside the compiled executor.
#include <vector>

#include "conveyor/graph/graph.hpp"
#include "conveyor/tensor/tensor.hpp"

namespace conveyor {

// Inputs for timing a model when no real data is at hand, one per graph input in order: float inputs
// hold a fixed pattern in [-1, 1); other dtypes are zero (valid Gather indices, ids and masks).
std::vector<Tensor> synthetic_inputs(const Graph& graph);

// Compiles `graph` on the calling thread with `threads` intra-op threads and returns
// CompiledModel::profile_nodes over synthetic inputs: the median ms of each node of graph.nodes over
// `runs` runs. Pin the calling thread first for numbers that hold on a pinned worker. Throws EngineError.
std::vector<double> measure_node_cost_ms(const Graph& graph, int threads, int runs = 5);

}  // namespace conveyor
