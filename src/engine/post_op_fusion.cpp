#include "post_op_fusion.hpp"

#include <algorithm>
#include <limits>

namespace conveyor {
namespace {

bool is_anchor(const Node& n) {
  return n.op_type == "Conv" || n.op_type == "ConvTranspose" || n.op_type == "MatMul" || n.op_type == "Gemm";
}

bool is_fusable_activation(const std::string& op) {
  return op == "Relu" || op == "LeakyRelu" || op == "Clip" || op == "Sigmoid" || op == "Tanh" || op == "Gelu" ||
         op == "HardSwish" || op == "HardSigmoid" || op == "Swish" || op == "Elu";
}

PostOp activation(const Node& n) {
  PostOp p;
  p.kind = PostOp::Kind::kEltwise;
  p.op_type = n.op_type;
  if (n.op_type == "LeakyRelu") p.alpha = n.attrs.get_float("alpha", 0.01f);
  if (n.op_type == "Elu") p.alpha = n.attrs.get_float("alpha", 1.0f);
  if (n.op_type == "HardSigmoid") {
    p.alpha = n.attrs.get_float("alpha", 0.2f);
    p.beta = n.attrs.get_float("beta", 0.5f);
  }
  if (n.op_type == "Clip") {
    p.alpha = n.attrs.get_float("min", -std::numeric_limits<float>::infinity());
    p.beta = n.attrs.get_float("max", std::numeric_limits<float>::infinity());
  }
  if (n.op_type == "Gelu") p.alpha = n.attrs.get_string("approximate", "none") == "tanh" ? 1.0f : 0.0f;
  return p;
}

// The anchor's channel count that a bias runs along: dim 1 for convolutions, the last dim for matmuls
// (-1: none, as for a MatMul with a 1-D B, whose output's last dim is A's rows).
int64_t bias_channels(const Graph& g, const Node& anchor, const Shape& out) {
  if (anchor.op_type == "Conv" || anchor.op_type == "ConvTranspose") return out.size() > 1 ? out[1] : -1;
  if (anchor.op_type == "MatMul" && g.value(anchor.input(1)).shape.size() < 2) return -1;
  return out.empty() ? -1 : out.back();
}

// Whether constant `c` added to the anchor's output is a plain per-channel bias.
bool is_bias_shape(const Graph& g, const Node& anchor, const Shape& out, const Shape& c) {
  const int64_t ch = bias_channels(g, anchor, out);
  if (ch < 0 || shape_numel(c) != ch || c.size() > out.size()) return false;
  if (anchor.op_type == "Conv" || anchor.op_type == "ConvTranspose") {
    // [C], broadcast from the right, only fits a conv output of rank 2 — require [C,1,..] or [1,C,1,..].
    const std::size_t lead = out.size() - c.size();
    for (std::size_t i = 0; i < c.size(); ++i)
      if (c[i] != (lead + i == 1 ? ch : 1)) return false;
    return true;
  }
  for (std::size_t i = 0; i + 1 < c.size(); ++i)
    if (c[i] != 1) return false;
  return c.empty() ? ch == 1 : c.back() == ch;
}

// Tries to fuse the single consumer of anchor's output into the anchor; returns the consumer's index or -1.
// Nodes already fused into an anchor (`absorbed`) stay in the graph but read nothing any more.
int try_fuse(Graph& g, std::size_t a, const std::vector<char>& absorbed) {
  Node& anchor = g.nodes[a];
  const int out = anchor.output(0);
  if (out < 0 || g.is_output(out) || g.value(out).dtype != DType::kFloat32) return -1;
  std::vector<int> consumers = g.consumers()[static_cast<std::size_t>(out)];
  std::erase_if(consumers, [&](int c) { return absorbed[static_cast<std::size_t>(c)] != 0; });
  if (consumers.size() != 1) return -1;
  const int ci = consumers[0];
  Node& next = g.nodes[static_cast<std::size_t>(ci)];
  if (next.output(0) < 0 || g.value(next.output(0)).shape != g.value(out).shape) return -1;
  const bool has_sum = std::any_of(anchor.post_ops.begin(), anchor.post_ops.end(),
                                   [](const PostOp& p) { return p.kind == PostOp::Kind::kSum; });
  if (is_fusable_activation(next.op_type)) {
    anchor.post_ops.push_back(activation(next));
  } else if (next.op_type == "Add" && next.inputs.size() == 2) {
    const int other = next.inputs[0] == out ? next.inputs[1] : next.inputs[0];
    if (other == out || other < 0) return -1;
    const Value& ov = g.value(other);
    if (ov.dtype != DType::kFloat32) return -1;
    if (ov.is_constant() && anchor.post_ops.empty() && is_bias_shape(g, anchor, g.value(out).shape, ov.shape)) {
      const int64_t ch = bias_channels(g, anchor, g.value(out).shape);
      const int old_bias = anchor.input(2);
      if (anchor.op_type == "Gemm" && old_bias >= 0) return -1;
      Tensor bias = ov.constant.reshaped({ch}).clone();
      if (old_bias >= 0) {
        const Tensor& ob = g.value(old_bias).constant;
        if (ob.empty() || ob.numel() != ch) return -1;
        for (int64_t i = 0; i < ch; ++i) bias.data<float>()[i] += ob.data<float>()[i];
      }
      Value bv;
      bv.name = anchor.name + ".fused_bias";
      bv.dtype = DType::kFloat32;
      bv.shape = {ch};
      bv.typed = true;
      bv.constant = bias;
      anchor.inputs.resize(std::max<std::size_t>(anchor.inputs.size(), 3), -1);
      anchor.inputs[2] = g.add_value(std::move(bv));
      if (anchor.op_type == "Gemm") anchor.attrs.set("beta", 1.0f);
    } else if (!ov.is_constant() && !has_sum && ov.shape == g.value(out).shape) {
      anchor.inputs.resize(std::max<std::size_t>(anchor.inputs.size(), 3), -1);
      PostOp p;
      p.kind = PostOp::Kind::kSum;
      p.op_type = "Add";
      p.input_index = static_cast<int>(anchor.inputs.size());
      anchor.inputs.push_back(other);
      anchor.post_ops.push_back(p);
    } else {
      return -1;
    }
  } else {
    return -1;
  }
  anchor.outputs[0] = next.outputs[0];
  return ci;
}

}  // namespace

PostOpFusion fuse_post_ops(const Graph& original) {
  PostOpFusion fusion;
  Graph& g = fusion.graph;
  g = original;
  const std::size_t count = g.nodes.size();
  std::vector<std::vector<int>> chains(count);  // per anchor: the nodes fused into it, in order
  std::vector<char> absorbed(count, 0);
  std::vector<int> owner(count, -1);  // per absorbed node: its anchor
  for (std::size_t a = 0; a < count; ++a) {
    const Node& anchor = g.nodes[a];
    if (!is_anchor(anchor)) continue;
    if (anchor.op_type == "Conv" && anchor.input(2) >= 0 && !g.value(anchor.input(2)).is_constant()) continue;
    for (int fused; (fused = try_fuse(g, a, absorbed)) >= 0;) {
      chains[a].push_back(fused);
      absorbed[static_cast<std::size_t>(fused)] = 1;
      owner[static_cast<std::size_t>(fused)] = static_cast<int>(a);
    }
  }
  std::vector<Node> nodes;
  for (std::size_t i = 0; i < count; ++i) {
    if (!chains[i].empty()) continue;  // an anchor: placed where its chain ends
    if (!absorbed[i]) {
      nodes.push_back(std::move(g.nodes[i]));
      fusion.nodes.push_back({static_cast<int>(i), {}});
      continue;
    }
    const auto a = static_cast<std::size_t>(owner[i]);
    if (chains[a].back() != static_cast<int>(i)) continue;
    FusedNode fused{static_cast<int>(a), {static_cast<int>(a)}};
    fused.members.insert(fused.members.end(), chains[a].begin(), chains[a].end());
    nodes.push_back(std::move(g.nodes[a]));
    fusion.nodes.push_back(std::move(fused));
  }
  g.nodes = std::move(nodes);
  for (Value& v : g.values) v.producer = -1;
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (int out : g.nodes[i].outputs)
      if (out >= 0) g.value(out).producer = static_cast<int>(i);
  return fusion;
}

}  // namespace conveyor
