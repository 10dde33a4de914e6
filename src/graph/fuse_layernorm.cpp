#include <optional>

#include "conveyor/graph/passes.hpp"
#include "graph/graph_util.hpp"

namespace conveyor {
namespace {

class LayerNormMatcher {
 public:
  explicit LayerNormMatcher(Graph& g) : g_(g), consumers_(g.consumers()), remove_(g.nodes.size(), 0) {}

  void run() {
    for (std::size_t i = 0; i < g_.nodes.size(); ++i)
      if (!remove_[i]) try_match(i);
    detail::erase_nodes(g_, remove_);
  }

 private:
  // The nodes reading `value` when it is an intermediate (no graph output).
  std::vector<int> readers(int value) const {
    if (value < 0 || g_.is_output(value)) return {};
    return consumers_[static_cast<std::size_t>(value)];
  }
  const Node* single_reader(int value, const char* op, int& index) const {
    const auto r = readers(value);
    if (r.size() != 1 || g_.nodes[static_cast<std::size_t>(r[0])].op_type != op) return nullptr;
    index = r[0];
    return &g_.nodes[static_cast<std::size_t>(index)];
  }
  std::optional<float> scalar(int id) const {
    if (id < 0 || !g_.value(id).is_constant() || g_.value(id).constant.numel() != 1 ||
        g_.value(id).dtype != DType::kFloat32)
      return std::nullopt;
    return g_.value(id).constant.data<float>()[0];
  }
  // For a binary node, the operand that is not `known`.
  static int other(const Node& n, int known) {
    if (n.inputs.size() != 2) return -1;
    return n.inputs[0] == known ? n.inputs[1] : n.inputs[1] == known ? n.inputs[0] : -1;
  }
  bool is_channel_constant(int id, int64_t channels) const {
    return id >= 0 && g_.value(id).is_constant() && g_.value(id).dtype == DType::kFloat32 &&
           g_.value(id).constant.numel() == channels;
  }

  void try_match(std::size_t r1_index) {
    const Node& r1 = g_.nodes[r1_index];
    if (r1.op_type != "ReduceMean" || r1.input(0) < 0) return;
    const int x = r1.input(0);
    const Value& xv = g_.value(x);
    const auto rank = static_cast<int64_t>(xv.shape.size());
    if (xv.dtype != DType::kFloat32 || rank == 0 || r1.attrs.get_ints("axes") != std::vector<int64_t>{rank - 1} ||
        r1.attrs.get_int("keepdims", 1) == 0)
      return;
    int sub_i, pow_i, r2_i, add_i, sqrt_i, div_i;
    const Node* sub = single_reader(r1.output(0), "Sub", sub_i);
    if (!sub || sub->input(0) != x || sub->input(1) != r1.output(0)) return;
    const int d = sub->output(0);
    const auto d_readers = readers(d);
    if (d_readers.size() != 2) return;
    pow_i = g_.nodes[static_cast<std::size_t>(d_readers[0])].op_type == "Pow" ? d_readers[0] : d_readers[1];
    div_i = pow_i == d_readers[0] ? d_readers[1] : d_readers[0];
    const Node& pow = g_.nodes[static_cast<std::size_t>(pow_i)];
    const Node& div = g_.nodes[static_cast<std::size_t>(div_i)];
    if (pow.op_type != "Pow" || pow.input(0) != d || scalar(pow.input(1)) != 2.0f) return;
    if (div.op_type != "Div" || div.input(0) != d) return;
    const Node* r2 = single_reader(pow.output(0), "ReduceMean", r2_i);
    if (!r2 || r2->attrs.get_ints("axes") != r1.attrs.get_ints("axes") || r2->attrs.get_int("keepdims", 1) == 0) return;
    const Node* add = single_reader(r2->output(0), "Add", add_i);
    if (!add) return;
    const auto eps = scalar(other(*add, r2->output(0)));
    if (!eps) return;
    const Node* sq = single_reader(add->output(0), "Sqrt", sqrt_i);
    if (!sq || div.input(1) != sq->output(0) || readers(sq->output(0)).size() != 1) return;

    const int64_t channels = xv.shape.back();
    std::vector<int> dead{static_cast<int>(r1_index), sub_i, pow_i, r2_i, add_i, sqrt_i, div_i};
    int out = div.output(0), gamma = -1, beta = -1, mul_i, bias_i;
    if (const Node* mul = single_reader(out, "Mul", mul_i); mul && is_channel_constant(other(*mul, out), channels)) {
      gamma = other(*mul, out);
      out = mul->output(0);
      dead.push_back(mul_i);
      if (const Node* bias = single_reader(out, "Add", bias_i); bias && is_channel_constant(other(*bias, out), channels)) {
        beta = other(*bias, out);
        out = bias->output(0);
        dead.push_back(bias_i);
      }
    }
    if (gamma < 0) {
      Value ones;
      ones.name = r1.name + ".layernorm_scale";
      ones.typed = true;
      ones.shape = {channels};
      ones.constant = Tensor(DType::kFloat32, {channels});
      for (float& v : ones.constant.values<float>()) v = 1.0f;
      gamma = g_.add_value(std::move(ones));
    }
    const int last = dead.back();
    for (int k : dead) remove_[static_cast<std::size_t>(k)] = 1;
    remove_[static_cast<std::size_t>(last)] = 0;
    Node& ln = g_.nodes[static_cast<std::size_t>(last)];
    ln.op_type = "LayerNormalization";
    ln.inputs = beta >= 0 ? std::vector<int>{x, gamma, beta} : std::vector<int>{x, gamma};
    ln.outputs = {out};
    ln.attrs = Attributes{};
    ln.attrs.set("axis", rank - 1);
    ln.attrs.set("epsilon", *eps);
    ln.post_ops.clear();
  }

  Graph& g_;
  std::vector<std::vector<int>> consumers_;
  std::vector<char> remove_;
};

}  // namespace

void fuse_layernorm(Graph& graph) { LayerNormMatcher(graph).run(); }

}  // namespace conveyor
