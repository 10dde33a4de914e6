#include "conveyor/engine/fused_chains.hpp"

#include "post_op_fusion.hpp"

namespace conveyor {

std::vector<std::vector<int>> fused_chains(const Graph& graph) {
  std::vector<std::vector<int>> chains;
  for (const FusedNode& node : fuse_post_ops(graph).nodes)
    if (node.members.size() > 1) chains.push_back(node.members);
  return chains;
}

}  // namespace conveyor
