#include <cmath>
#include <optional>

#include "conveyor/graph/passes.hpp"
#include "graph/graph_util.hpp"

namespace conveyor {
namespace {

// Value of a one-element float constant, if `id` is one.
std::optional<double> scalar(const Graph& g, int id) {
  if (id < 0) return std::nullopt;
  const Value& v = g.value(id);
  if (!v.is_constant() || v.constant.numel() != 1 || v.dtype != DType::kFloat32) return std::nullopt;
  return static_cast<double>(v.constant.data<float>()[0]);
}

bool near(std::optional<double> v, double want) { return v && std::fabs(*v - want) < 1e-3 * std::fabs(want); }

struct Matcher {
  const Graph& g;
  const std::vector<std::vector<int>>& consumers;

  // The single consumer of an intermediate value, if it has exactly one and is no graph output.
  const Node* only_consumer(int value, int& index) const {
    if (value < 0 || g.is_output(value) || consumers[static_cast<std::size_t>(value)].size() != 1) return nullptr;
    index = consumers[static_cast<std::size_t>(value)][0];
    return &g.nodes[static_cast<std::size_t>(index)];
  }
  // For a binary node with one scalar-constant operand: the other operand, and the constant.
  int other_operand(const Node& n, std::optional<double>& constant) const {
    if (n.inputs.size() != 2) return -1;
    if ((constant = scalar(g, n.inputs[1]))) return n.inputs[0];
    if ((constant = scalar(g, n.inputs[0]))) return n.inputs[1];
    return -1;
  }
};

}  // namespace

void fuse_gelu(Graph& graph) {
  const auto consumers = graph.consumers();
  const Matcher m{graph, consumers};
  std::vector<char> remove(graph.nodes.size(), 0);
  for (std::size_t e = 0; e < graph.nodes.size(); ++e) {
    const Node& erf = graph.nodes[e];
    if (erf.op_type != "Erf" || erf.input(0) < 0) continue;
    const int scaled = erf.input(0);
    const Value& sv = graph.value(scaled);
    if (sv.producer < 0 || consumers[static_cast<std::size_t>(scaled)].size() != 1 || graph.is_output(scaled)) continue;
    const Node& div = graph.nodes[static_cast<std::size_t>(sv.producer)];
    std::optional<double> c;
    const int x = m.other_operand(div, c);
    if (x < 0 || div.inputs[0] != x) continue;
    if (!((div.op_type == "Div" && near(c, std::sqrt(2.0))) || (div.op_type == "Mul" && near(c, std::sqrt(0.5))))) continue;
    int add_i, mul_i, last_i;
    const Node* add = m.only_consumer(erf.output(0), add_i);
    if (!add || add->op_type != "Add" || m.other_operand(*add, c) != erf.output(0) || !near(c, 1.0)) continue;
    const Node* mul = m.only_consumer(add->output(0), mul_i);
    if (!mul || mul->op_type != "Mul" || mul->inputs.size() != 2) continue;
    const int partner = mul->inputs[0] == add->output(0) ? mul->inputs[1] : mul->inputs[0];
    int last_out;
    std::vector<int> dead{sv.producer, static_cast<int>(e), add_i};
    if (partner == x) {  // (x * (1 + erf)) * 0.5
      const Node* half = m.only_consumer(mul->output(0), last_i);
      if (!half || half->op_type != "Mul" || m.other_operand(*half, c) != mul->output(0) || !near(c, 0.5)) continue;
      dead.push_back(mul_i);
      last_out = half->output(0);
    } else {  // (x * 0.5) * (1 + erf)
      const Value& pv = graph.value(partner);
      if (pv.producer < 0 || graph.is_output(partner) || consumers[static_cast<std::size_t>(partner)].size() != 1) continue;
      const Node& half = graph.nodes[static_cast<std::size_t>(pv.producer)];
      if (half.op_type != "Mul" || m.other_operand(half, c) != x || !near(c, 0.5)) continue;
      dead.push_back(pv.producer);
      last_i = mul_i;
      last_out = mul->output(0);
    }
    // x feeds the Div and the Mul by itself or 0.5; everything else in the pattern dies.
    for (int d : dead) remove[static_cast<std::size_t>(d)] = 1;
    Node& gelu = graph.nodes[static_cast<std::size_t>(last_i)];
    gelu.op_type = "Gelu";
    gelu.inputs = {x};
    gelu.outputs = {last_out};
    gelu.attrs = Attributes{};
    remove[static_cast<std::size_t>(last_i)] = 0;
  }
  detail::erase_nodes(graph, remove);
}

}  // namespace conveyor
