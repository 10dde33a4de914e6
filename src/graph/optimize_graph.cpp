#include "conveyor/graph/passes.hpp"

namespace conveyor {

void optimize_graph(Graph& graph) {
  remove_identities(graph);
  fold_batchnorm_into_conv(graph);
  fuse_gelu(graph);
  fuse_swish(graph);
  fuse_layernorm(graph);
  graph.remove_dead_nodes();
}

}  // namespace conveyor
