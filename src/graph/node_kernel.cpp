#include "conveyor/graph/node_kernel.hpp"

namespace conveyor {

KernelSignature kernel_signature(const Graph& graph, const Node& node) {
  KernelSignature s;
  s.op_type = node.op_type;
  s.attributes = node.attrs.for_kernels();
  s.where = node.where();
  auto operand = [&](int id) {
    OperandType t;
    t.present = id >= 0;
    if (id >= 0) {
      t.dtype = graph.value(id).dtype;
      t.shape = graph.value(id).shape;
    }
    return t;
  };
  for (int id : node.inputs) s.inputs.push_back(operand(id));
  for (int id : node.outputs) s.outputs.push_back(operand(id));
  return s;
}

RefKernel make_node_kernel(const Graph& graph, const Node& node) {
  if (!node.post_ops.empty())
    throw GraphError(node.where() + ": reference kernels do not run fused post-ops");
  try {
    return make_reference_kernel(kernel_signature(graph, node));
  } catch (const KernelError& e) {
    throw GraphError(e.what());
  }
}

}  // namespace conveyor
