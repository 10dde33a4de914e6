#pragma once
#include "conveyor/graph/graph.hpp"
#include "conveyor/kernels/reference_kernels.hpp"

namespace conveyor {

// A typed, canonical node (see infer_node) as the kernels layer describes an operator call.
KernelSignature kernel_signature(const Graph& graph, const Node& node);

// The node's reference kernel (kernels/reference_kernels.hpp). Throws GraphError naming the node when it
// has fused post-ops or no reference implementation for its dtypes/attributes. The kernel itself may throw
// KernelError while running (e.g. a Gather index out of range).
RefKernel make_node_kernel(const Graph& graph, const Node& node);

}  // namespace conveyor
