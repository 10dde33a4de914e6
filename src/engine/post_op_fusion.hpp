#pragma once
// Post-op fusion, the engine's own pass over a graph: which chains the compiler tries as one primitive.
#include <vector>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// One node of the fused graph and the original nodes it stands for.
struct FusedNode {
  int origin = -1;           // index in the original graph of the node it is (a chain's first node)
  std::vector<int> members;  // a chain's original node indices, first node first; empty when nothing fused
};

// A copy of a graph in which each Conv/ConvTranspose/MatMul/Gemm and the single-consumer chain after it
// is one node with oneDNN post-ops: a constant per-channel bias Add (moved into the bias input; MatMul
// gets a third "bias" input), then at most one residual Add of a same-shaped value (PostOp::kSum), then
// unary activations (PostOp::kEltwise). The fused node takes over the chain's last output and stands where
// the chain's last node stood, so the order stays topological. Value ids are the original graph's (plus
// the fused biases, appended), so a chain's original nodes can still be compiled one by one when oneDNN
// declines the fused primitive. Value::producer indexes the fused nodes.
struct PostOpFusion {
  Graph graph;
  std::vector<FusedNode> nodes;  // per graph.nodes
};

PostOpFusion fuse_post_ops(const Graph& graph);

}  // namespace conveyor
