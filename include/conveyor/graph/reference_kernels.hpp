#pragma once
#include <functional>
#include <string>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// Plain C++ implementations of the ONNX operators on dense row-major buffers. Constant folding evaluates
// nodes with them; the engine runs them for the operators (or dtypes) oneDNN has no primitive for.
// A kernel is prepared once from a canonical, typed node (see infer_node) and then called with one pointer
// per node input and output, nullptr for optional ones left out. Kernels run on the calling thread only.
using RefKernel = std::function<void(const void* const* inputs, void* const* outputs)>;

bool has_reference_kernel(const std::string& op_type);
// Throws GraphError naming the node when it has no reference implementation for these dtypes/attributes.
RefKernel make_reference_kernel(const Graph& graph, const Node& node);

}  // namespace conveyor
