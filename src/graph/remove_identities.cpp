#include <algorithm>

#include "conveyor/graph/passes.hpp"

namespace conveyor {
namespace {

bool is_noop(const Graph& g, const Node& n) {
  if (n.op_type == "Identity" || n.op_type == "Dropout") return true;
  if (n.inputs.empty() || n.input(0) < 0 || n.output(0) < 0) return false;
  const Value& in = g.value(n.input(0));
  const Value& out = g.value(n.output(0));
  if (n.op_type == "Reshape" || n.op_type == "Flatten" || n.op_type == "Squeeze" ||
      n.op_type == "Unsqueeze" || n.op_type == "Expand")
    return in.shape == out.shape;
  if (n.op_type == "Cast") return in.dtype == out.dtype;
  if (n.op_type == "Pad") {  // PyTorch exports AvgPool2d as a Pad of zeros before the pool
    if (!n.attrs.has("pads")) return false;
    const auto pads = n.attrs.get_ints("pads");
    return std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; });
  }
  return false;
}

}  // namespace

void remove_identities(Graph& graph) {
  std::vector<Node> kept;
  for (Node& node : graph.nodes) {
    const int src = node.input(0), dst = node.output(0);
    if (!is_noop(graph, node) || src < 0 || dst < 0 || graph.is_output(dst)) {
      kept.push_back(std::move(node));
      continue;
    }
    if (node.op_type == "Dropout" && node.output(1) >= 0) {  // inference mask: all true
      Value& mask = graph.value(node.output(1));
      mask.constant = Tensor(DType::kBool, mask.shape);
      std::fill(mask.constant.values<bool>().begin(), mask.constant.values<bool>().end(), true);
    }
    for (Node& other : graph.nodes)
      for (int& in : other.inputs)
        if (in == dst) in = src;
    for (Node& other : kept)
      for (int& in : other.inputs)
        if (in == dst) in = src;
  }
  graph.nodes = std::move(kept);
  graph.sort_topologically();
}

}  // namespace conveyor
