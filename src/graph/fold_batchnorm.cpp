#include <cmath>

#include "conveyor/graph/passes.hpp"
#include "graph/graph_util.hpp"

namespace conveyor {
namespace {

bool all_constant_f32(const Graph& g, const Node& n, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    const int id = n.input(i);
    if (id < 0 || !g.value(id).is_constant() || g.value(id).dtype != DType::kFloat32) return false;
  }
  return true;
}

}  // namespace

void fold_batchnorm_into_conv(Graph& graph) {
  const auto consumers = graph.consumers();
  std::vector<char> remove(graph.nodes.size(), 0);
  for (std::size_t b = 0; b < graph.nodes.size(); ++b) {
    Node& bn = graph.nodes[b];
    if (bn.op_type != "BatchNormalization" || !all_constant_f32(graph, bn, 1, 5)) continue;
    const int x = bn.input(0);
    const Value xv = graph.value(x);
    if (xv.producer < 0 || graph.is_output(x) || consumers[static_cast<std::size_t>(x)].size() != 1) continue;
    Node& conv = graph.nodes[static_cast<std::size_t>(xv.producer)];
    if (conv.op_type != "Conv" || !conv.post_ops.empty() || !all_constant_f32(graph, conv, 1, 2)) continue;
    if (conv.input(2) >= 0 && !all_constant_f32(graph, conv, 2, 3)) continue;

    const Tensor w = graph.value(conv.input(1)).constant;  // a handle: add_value below may move values
    const int64_t oc = w.dim(0);
    const int64_t per_oc = oc ? w.numel() / oc : 0;
    const float eps = bn.attrs.get_float("epsilon", 1e-5f);
    const float* scale = graph.value(bn.input(1)).constant.data<float>();
    const float* shift = graph.value(bn.input(2)).constant.data<float>();
    const float* mean = graph.value(bn.input(3)).constant.data<float>();
    const float* var = graph.value(bn.input(4)).constant.data<float>();
    Tensor new_w = w.clone();
    Tensor new_b(DType::kFloat32, {oc});
    const float* old_b = conv.input(2) >= 0 ? graph.value(conv.input(2)).constant.data<float>() : nullptr;
    for (int64_t o = 0; o < oc; ++o) {
      const float s = scale[o] / std::sqrt(var[o] + eps);
      float* row = new_w.data<float>() + o * per_oc;
      for (int64_t i = 0; i < per_oc; ++i) row[i] *= s;
      new_b.data<float>()[o] = ((old_b ? old_b[o] : 0.0f) - mean[o]) * s + shift[o];
    }
    Value wv;
    wv.name = conv.name + ".bn_folded_weight";
    wv.dtype = DType::kFloat32;
    wv.shape = w.shape();
    wv.typed = true;
    wv.constant = new_w;
    Value bv = wv;
    bv.name = conv.name + ".bn_folded_bias";
    bv.shape = {oc};
    bv.constant = new_b;
    conv.inputs.resize(std::max<std::size_t>(conv.inputs.size(), 3), -1);
    conv.inputs[1] = graph.add_value(std::move(wv));
    conv.inputs[2] = graph.add_value(std::move(bv));
    conv.outputs[0] = bn.outputs[0];
    remove[b] = 1;
  }
  detail::erase_nodes(graph, remove);
}

}  // namespace conveyor
