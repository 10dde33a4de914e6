#include <vector>

#include "conveyor/graph/node_kernel.hpp"
#include "conveyor/graph/passes.hpp"
#include "conveyor/graph/shape_inference.hpp"

namespace conveyor {
namespace {

bool foldable(const Graph& g, const Node& n, std::size_t max_bytes) {
  if (!n.post_ops.empty() || !has_reference_kernel(n.op_type)) return false;
  const bool shape_only = n.op_type == "Shape" || n.op_type == "Size";
  if (!shape_only)
    for (int in : n.inputs)
      if (in >= 0 && !g.value(in).is_constant()) return false;
  bool any_output = false;
  for (int out : n.outputs) {
    if (out < 0) continue;
    const Value& v = g.value(out);
    if (static_cast<std::size_t>(shape_numel(v.shape)) > max_bytes / dtype_size(v.dtype)) return false;
    any_output = true;
  }
  return any_output;
}

void evaluate(Graph& g, const Node& n) {
  RefKernel kernel = make_node_kernel(g, n);
  std::vector<const void*> in;
  for (int id : n.inputs) in.push_back(id >= 0 && g.value(id).is_constant() ? g.value(id).constant.raw() : nullptr);
  std::vector<Tensor> results;
  std::vector<void*> out;
  for (int id : n.outputs) {
    if (id < 0) {
      results.emplace_back();
      out.push_back(nullptr);
      continue;
    }
    results.emplace_back(g.value(id).dtype, g.value(id).shape);
    out.push_back(results.back().raw());
  }
  try {
    kernel(in.data(), out.data());
  } catch (const KernelError& e) {
    throw GraphError(e.what());
  }
  for (std::size_t i = 0; i < n.outputs.size(); ++i)
    if (n.outputs[i] >= 0) g.value(n.outputs[i]).constant = std::move(results[i]);
}

}  // namespace

void type_and_fold(Graph& graph, std::size_t max_folded_bytes) {
  for (Node& node : graph.nodes) {
    try {
      infer_node(graph, node);
      if (foldable(graph, node, max_folded_bytes)) evaluate(graph, node);
    } catch (const GraphError& e) {
      const std::string what = e.what();
      if (what.rfind(node.where(), 0) == 0) throw;
      throw GraphError(node.where() + ": " + what);
    } catch (const std::exception& e) {
      throw GraphError(node.where() + ": " + e.what());
    }
  }
}

}  // namespace conveyor
