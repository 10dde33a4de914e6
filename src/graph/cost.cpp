#include "conveyor/graph/cost.hpp"

namespace conveyor {
namespace {

double numel(const Graph& g, int id) { return id < 0 ? 0.0 : static_cast<double>(shape_numel(g.value(id).shape)); }

}  // namespace

NodeCost node_cost(const Graph& g, const Node& n) {
  NodeCost cost;
  for (int in : n.inputs)
    if (in >= 0) cost.bytes += numel(g, in) * static_cast<double>(dtype_size(g.value(in).dtype));
  double out_elems = 0;
  for (int out : n.outputs)
    if (out >= 0) {
      out_elems += numel(g, out);
      cost.bytes += numel(g, out) * static_cast<double>(dtype_size(g.value(out).dtype));
    }
  const std::string& op = n.op_type;
  if (op == "Conv" || op == "ConvTranspose") {
    // Each output (Conv) or input (ConvTranspose) element takes C_in/group * prod(kernel) multiply-adds.
    const Shape& w = g.value(n.input(1)).shape;
    double per = 1;
    for (std::size_t i = 1; i < w.size(); ++i) per *= static_cast<double>(w[i]);
    if (op == "Conv") {
      cost.flops = 2.0 * numel(g, n.output(0)) * per;
    } else {
      const double group = static_cast<double>(n.attrs.get_int("group", 1));
      cost.flops = 2.0 * numel(g, n.input(0)) * per * group / static_cast<double>(std::max<int64_t>(w[0], 1)) *
                   static_cast<double>(w[0]) / group;
    }
  } else if (op == "MatMul" || op == "Gemm") {
    const Shape& a = g.value(n.input(0)).shape;
    double k = static_cast<double>(a.empty() ? 1 : a.back());
    if (op == "Gemm" && n.attrs.get_int("transA", 0) != 0) k = static_cast<double>(a[0]);
    cost.flops = 2.0 * numel(g, n.output(0)) * k;
  } else if (op == "MaxPool" || op == "AveragePool") {
    double window = 1;
    for (int64_t k : n.attrs.get_ints("kernel_shape")) window *= static_cast<double>(k);
    cost.flops = numel(g, n.output(0)) * window;
  } else if (op == "Softmax" || op == "LogSoftmax" || op == "LayerNormalization" || op == "BatchNormalization") {
    cost.flops = 5.0 * numel(g, n.input(0));
  } else if (op == "Erf" || op == "Gelu" || op == "Exp" || op == "Log" || op == "Tanh" || op == "Sigmoid" ||
             op == "Swish") {
    cost.flops = 10.0 * out_elems;
  } else {
    cost.flops = std::max(out_elems, numel(g, n.input(0)));
  }
  for (const PostOp& p : n.post_ops) cost.flops += (p.kind == PostOp::Kind::kSum ? 1.0 : 4.0) * numel(g, n.output(0));
  return cost;
}

GraphCost graph_cost(const Graph& graph) {
  GraphCost total;
  for (const Node& n : graph.nodes) {
    total.nodes.push_back(node_cost(graph, n));
    total.flops += total.nodes.back().flops;
    total.bytes += total.nodes.back().bytes;
  }
  return total;
}

}  // namespace conveyor
