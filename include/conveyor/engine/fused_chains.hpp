#pragma once
#include <vector>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// The chains of `graph`'s nodes (indices into graph.nodes, first node first) that the compiler tries to
// run as one oneDNN primitive with post-ops: a Conv/ConvTranspose/MatMul/Gemm and the bias Add, residual
// Add and activations after it. Partitioning keeps each chain in one segment (PartitionOptions::kept_together).
std::vector<std::vector<int>> fused_chains(const Graph& graph);

}  // namespace conveyor
