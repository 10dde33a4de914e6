#include <cmath>

#include "conveyor/graph/passes.hpp"
#include "graph/graph_util.hpp"

namespace conveyor {
namespace {

bool near(float value, double want) {
  return std::fabs(value - want) < 1e-4 * std::fabs(want);
}

// What Mul(x, gate(x)) becomes when `gate` is x's Sigmoid (Swish) or HardSigmoid with HardSwish's constants.
const char* fused_op(const Node& gate) {
  if (gate.op_type == "Sigmoid") return "Swish";
  if (gate.op_type == "HardSigmoid" && near(gate.attrs.get_float("alpha", 0.2f), 1.0 / 6) &&
      near(gate.attrs.get_float("beta", 0.5f), 0.5))
    return "HardSwish";
  return nullptr;
}

}  // namespace

void fuse_swish(Graph& graph) {
  const auto consumers = graph.consumers();
  std::vector<char> remove(graph.nodes.size(), 0);
  for (Node& mul : graph.nodes) {
    if (mul.op_type != "Mul" || mul.inputs.size() != 2) continue;
    for (int side = 0; side < 2; ++side) {
      const int gated = mul.inputs[static_cast<std::size_t>(side)],
                x = mul.inputs[static_cast<std::size_t>(1 - side)];
      const Value& gv = graph.value(gated);
      if (gv.producer < 0 || graph.is_output(gated) || consumers[static_cast<std::size_t>(gated)].size() != 1)
        continue;
      const Node& gate = graph.nodes[static_cast<std::size_t>(gv.producer)];
      const char* op = fused_op(gate);
      if (!op || gate.input(0) != x || graph.value(x).shape != graph.value(mul.output(0)).shape) continue;
      remove[static_cast<std::size_t>(gv.producer)] = 1;
      mul.op_type = op;
      mul.inputs = {x};
      mul.attrs = Attributes{};
      break;
    }
  }
  detail::erase_nodes(graph, remove);
}

}  // namespace conveyor
