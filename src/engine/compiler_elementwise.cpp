// Element-wise, broadcast, softmax, reduction, concat, transpose and view operators on oneDNN.
#include <algorithm>
#include <limits>
#include <optional>

#include "compiler.hpp"

namespace conveyor {
namespace {

using alg = dnnl::algorithm;

struct EltwiseSpec {
  alg algorithm;
  float alpha = 0, beta = 0;
};

bool eltwise_spec(const Node& n, EltwiseSpec& spec) {
  const std::string& op = n.op_type;
  const Attributes& a = n.attrs;
  if (op == "Relu")
    spec = {alg::eltwise_relu};
  else if (op == "LeakyRelu")
    spec = {alg::eltwise_relu, a.get_float("alpha", 0.01f)};
  else if (op == "Sigmoid")
    spec = {alg::eltwise_logistic};
  else if (op == "Tanh")
    spec = {alg::eltwise_tanh};
  else if (op == "Exp")
    spec = {alg::eltwise_exp};
  else if (op == "Log")
    spec = {alg::eltwise_log};
  else if (op == "Sqrt")
    spec = {alg::eltwise_sqrt};
  else if (op == "Abs")
    spec = {alg::eltwise_abs};
  else if (op == "Neg")
    spec = {alg::eltwise_linear, -1.0f, 0.0f};
  else if (op == "Elu")
    spec = {alg::eltwise_elu, a.get_float("alpha", 1.0f)};
  else if (op == "HardSwish")
    spec = {alg::eltwise_hardswish};
  else if (op == "Swish")
    spec = {alg::eltwise_swish, 1.0f};
  else if (op == "Softplus")
    spec = {alg::eltwise_soft_relu};
  else if (op == "Round")
    spec = {alg::eltwise_round};
  else if (op == "Reciprocal")
    spec = {alg::eltwise_pow, 1.0f, -1.0f};
  else if (op == "Gelu")
    spec = {a.get_string("approximate", "none") == "tanh" ? alg::eltwise_gelu_tanh : alg::eltwise_gelu_erf};
  else if (op == "Clip")
    spec = {alg::eltwise_clip_v2, std::max(a.get_float("min", 0), std::numeric_limits<float>::lowest()),
            std::min(a.get_float("max", 0), std::numeric_limits<float>::max())};
  else
    return false;
  return true;
}

dnnl::memory::dims padded_dims(const Shape& s, std::size_t rank) {
  dnnl::memory::dims d(rank, 1);
  for (std::size_t i = 0; i < s.size(); ++i) d[rank - s.size() + i] = s[i];
  return d;
}

md_t dense(const dnnl::memory::dims& dims, dt type = dt::f32) {
  dnnl::memory::dims s(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * std::max<int64_t>(dims[i], 1);
  return md_t(dims, type, s);
}

}  // namespace

bool Compiler::emit_eltwise(const Node& n) {
  const int x = n.input(0), y = n.output(0);
  EltwiseSpec spec;
  if (!is_f32(x) || !eltwise_spec(n, spec)) return false;
  return add_eltwise_step(n, x, y, spec.algorithm, spec.alpha, spec.beta);
}

bool Compiler::add_eltwise_step(const Node& n, int x, int y, dnnl::algorithm algorithm, float alpha,
                                float beta) {
  const Slot src = slot(x);
  const dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src.md, alpha, beta);
  const dnnl::eltwise_forward::primitive_desc pd(desc, make_attr({}), impl_.engine);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  step->primitive = dnnl::eltwise_forward(pd);
  const bool in_place = can_overwrite(x) && output_index_[static_cast<std::size_t>(y)] < 0;
  const Slot dst = define(y, src.md, in_place ? src.storage : -1);
  memory(*step, DNNL_ARG_SRC, src.md, src.storage);
  memory(*step, DNNL_ARG_DST, src.md, dst.storage);
  add_dnnl(std::move(step), pd);
  return true;
}

bool Compiler::emit_binary(const Node& n) {
  if (n.inputs.size() != 2) return false;
  int a = n.input(0), b = n.input(1);
  const int y = n.output(0);
  if (!is_f32(a) || !is_f32(b)) return false;
  const std::string& op = n.op_type;
  if (op == "Pow") {  // x ^ constant scalar
    const Value& e = value(b);
    if (!e.is_constant() || e.constant.numel() != 1 || value(a).shape != value(y).shape) return false;
    return add_eltwise_step(n, a, y, alg::eltwise_pow, 1.0f, e.constant.data<float>()[0]);
  }
  const Shape& ys = value(y).shape;
  const bool commutative = op == "Add" || op == "Mul" || op == "Max" || op == "Min";
  if (value(a).shape != ys) {
    if (!commutative || value(b).shape != ys) return false;
    std::swap(a, b);
  }
  const alg algorithm = op == "Add"   ? alg::binary_add
                        : op == "Sub" ? alg::binary_sub
                        : op == "Mul" ? alg::binary_mul
                        : op == "Div" ? alg::binary_div
                        : op == "Max" ? alg::binary_max
                                      : alg::binary_min;
  Slot s0, s1;
  md_t src1_md;
  std::optional<dnnl::binary::primitive_desc> pd;
  if (value(b).shape == ys) {  // same shapes: any layout, src1 follows src0
    s0 = slot(a);
    s1 = in_layout(b, s0.md);
    src1_md = s0.md;
  } else {
    src1_md = dense(padded_dims(value(b).shape, std::max<std::size_t>(ys.size(), 1)));
    // A broadcast operand (a squeeze-excite gate [1, C, 1, 1]) applied to src0 in its blocked layout, when
    // oneDNN has a fast kernel for it: no reorder to plain and back around the multiply.
    if (!slot(a).plain) {
      const dnnl::binary::primitive_desc blocked(
          dnnl::binary::desc(algorithm, slot(a).md, src1_md, slot(a).md), make_attr({}), impl_.engine);
      if (std::string(blocked.impl_info_str()).rfind("ref", 0) != 0) {
        s0 = slot(a);
        pd = blocked;
      }
    }
    if (!pd) s0 = plain(a);
    s1 = plain(b);
  }
  if (!pd) pd.emplace(dnnl::binary::desc(algorithm, s0.md, src1_md, s0.md), make_attr({}), impl_.engine);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  step->primitive = dnnl::binary(*pd);
  const auto st0 = static_cast<std::size_t>(s0.storage);
  const bool in_place = impl_.storages[st0].kind == Storage::Kind::kArena &&
                        storage_last_use_[st0] <= current_ && s0.storage != s1.storage &&
                        output_index_[static_cast<std::size_t>(y)] < 0;
  const Slot dst = define(y, s0.md, in_place ? s0.storage : -1);
  memory(*step, DNNL_ARG_SRC_0, s0.md, s0.storage);
  memory(*step, DNNL_ARG_SRC_1, src1_md, s1.storage);
  memory(*step, DNNL_ARG_DST, s0.md, dst.storage);
  add_dnnl(std::move(step), *pd);
  return true;
}

bool Compiler::emit_softmax(const Node& n) {
  const int x = n.input(0), y = n.output(0);
  const Shape& xs = value(x).shape;
  if (!is_f32(x) || xs.empty()) return false;
  const int64_t axis = n.attrs.get_int("axis", -1);
  md_t md;
  int dnnl_axis = static_cast<int>(axis);
  if (n.attrs.get_int("coerce2d", 0) != 0) {
    int64_t outer = 1, inner = 1;
    for (std::size_t i = 0; i < xs.size(); ++i) (static_cast<int64_t>(i) < axis ? outer : inner) *= xs[i];
    md = dense({outer, inner});
    dnnl_axis = 1;
  } else {
    md = plain_md(xs, DType::kFloat32);
  }
  const dnnl::softmax_v2_forward::desc desc(
      dnnl::prop_kind::forward_inference,
      n.op_type == "LogSoftmax" ? alg::softmax_log : alg::softmax_accurate, md, md, dnnl_axis);
  const dnnl::softmax_v2_forward::primitive_desc pd(desc, make_attr({}), impl_.engine);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  step->primitive = dnnl::softmax_v2_forward(pd);
  const Slot src = plain(x);
  const Slot dst = define(y, plain_md(xs, DType::kFloat32));
  memory(*step, DNNL_ARG_SRC, md, src.storage);
  memory(*step, DNNL_ARG_DST, md, dst.storage);
  add_dnnl(std::move(step), pd);
  return true;
}

bool Compiler::emit_reduce(const Node& n) {
  const int x = n.input(0), y = n.output(0);
  const std::string& op = n.op_type;
  const auto axes = n.attrs.get_ints("axes");
  const Shape& xs = value(x).shape;
  if (!is_f32(x) || axes.empty() || xs.empty()) return false;
  alg algorithm;
  float p = 0.0f;
  if (op == "ReduceMean")
    algorithm = alg::reduction_mean;
  else if (op == "ReduceSum")
    algorithm = alg::reduction_sum;
  else if (op == "ReduceMax")
    algorithm = alg::reduction_max;
  else if (op == "ReduceMin")
    algorithm = alg::reduction_min;
  else if (op == "ReduceProd")
    algorithm = alg::reduction_mul;
  else if (op == "ReduceL1") {
    algorithm = alg::reduction_norm_lp_sum;
    p = 1.0f;
  } else if (op == "ReduceL2") {
    algorithm = alg::reduction_norm_lp_sum;
    p = 2.0f;
  } else if (op == "ReduceSumSquare") {
    algorithm = alg::reduction_norm_lp_power_p_sum;
    p = 2.0f;
  } else
    return false;
  Shape kept = xs;
  for (int64_t a : axes) kept[static_cast<std::size_t>(a)] = 1;
  const md_t src_md = plain_md(xs, DType::kFloat32), dst_md = plain_md(kept, DType::kFloat32);
  if (src_md == dst_md) return false;
  const dnnl::reduction::desc desc(algorithm, src_md, dst_md, p, 0.0f);
  const dnnl::reduction::primitive_desc pd(desc, make_attr({}), impl_.engine);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  step->primitive = dnnl::reduction(pd);
  memory(*step, DNNL_ARG_SRC, src_md, plain(x).storage);
  const Slot dst = define(y, plain_md(value(y).shape, DType::kFloat32));
  memory(*step, DNNL_ARG_DST, dst_md, dst.storage);
  add_dnnl(std::move(step), pd);
  return true;
}

bool Compiler::emit_concat(const Node& n) {
  const int y = n.output(0);
  if (!is_f32(y)) return false;
  for (int in : n.inputs)
    if (!is_f32(in)) return false;
  const int axis = static_cast<int>(n.attrs.get_int("axis", 0));
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto emit_with = [&](const std::vector<Slot>& srcs, const dnnl::concat::primitive_desc& pd) {
    auto step = std::make_unique<DnnlStep>();
    step->label = label_of(n);
    step->primitive = dnnl::concat(pd);
    for (std::size_t i = 0; i < srcs.size(); ++i)
      memory(*step, DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), srcs[i].md, srcs[i].storage);
    const Slot dst = define(y, pd.dst_desc());
    memory(*step, DNNL_ARG_DST, pd.dst_desc(), dst.storage);
    add_dnnl(std::move(step), pd);
    return true;
  };

  // Inputs that share a blocked layout (convolution outputs) are concatenated in it, as a copy of whole
  // blocks, when oneDNN can: no reorder to plain and back into the next convolution's layout.
  std::vector<Slot> own;
  std::vector<md_t> own_mds;
  for (int in : n.inputs) {
    own.push_back(slot(in));
    own_mds.push_back(own.back().md);
  }
  const bool blocked = std::none_of(own.begin(), own.end(), [](const Slot& s) { return s.plain; });
  if (blocked) {
    try {
      const dnnl::concat::primitive_desc pd(axis, own_mds, impl_.engine, attr);
      if (std::string(pd.impl_info_str()).rfind("simple", 0) == 0) return emit_with(own, pd);
    } catch (const dnnl::error&) {  // layouts that cannot be concatenated as blocks: plain below
    }
  }

  std::vector<Slot> srcs;
  std::vector<md_t> mds;
  for (int in : n.inputs) {
    srcs.push_back(plain(in));
    mds.push_back(srcs.back().md);
  }
  const md_t dst_md = plain_md(value(y).shape, DType::kFloat32);
  return emit_with(srcs, dnnl::concat::primitive_desc(dst_md, axis, mds, impl_.engine, attr));
}

void Compiler::add_strided_copy(int x, int y, const std::vector<int64_t>& begin, const std::vector<int64_t>& step,
                                const std::string& label) {
  dt type;
  dnnl_type(value(x).dtype, type);
  const Shape& xs = value(x).shape;
  dnnl::memory::dims in_strides(xs.size(), 1);
  for (std::size_t i = xs.size(); i-- > 1;) in_strides[i - 1] = in_strides[i] * std::max<int64_t>(xs[i], 1);
  dnnl::memory::dims strides(xs.size());
  int64_t offset = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    strides[i] = in_strides[i] * step[i];
    offset += begin[i] * in_strides[i];
  }
  md_t src_md(to_dims(value(y).shape), type, strides);  // the input's elements the output takes, in place
  src_md.data.offset0 = offset;
  const Slot src = plain(x);
  const md_t dst_md = plain_md(value(y).shape, value(y).dtype);
  const Slot dst = define(y, dst_md);
  add_reorder(src.storage, src_md, dst.storage, dst_md, label);
}

// Slice (positive steps) and Split as oneDNN reorders reading the input through strides and an offset: one
// pass at copy speed (a transformer's packed QKV projection is sliced three ways per layer).
bool Compiler::emit_slice(const Node& n) {
  const int x = n.input(0);
  dt type;
  const Shape& xs = value(x).shape;
  if (!dnnl_type(value(x).dtype, type) || xs.empty()) return false;
  if (n.op_type == "Slice") {
    const auto begin = n.attrs.get_ints("begin"), step = n.attrs.get_ints("step");
    if (begin.size() != xs.size() || std::any_of(step.begin(), step.end(), [](int64_t s) { return s < 1; }))
      return false;
    add_strided_copy(x, n.output(0), begin, step, label_of(n));
    return true;
  }
  const auto axis = static_cast<std::size_t>(n.attrs.get_int("axis", 0));
  const auto split = n.attrs.get_ints("split");
  std::vector<int64_t> begin(xs.size(), 0);
  const std::vector<int64_t> step(xs.size(), 1);
  for (std::size_t i = 0; i < n.outputs.size(); ++i) {
    if (n.outputs[i] >= 0) add_strided_copy(x, n.outputs[i], begin, step, label_of(n));
    begin[axis] += split[i];
  }
  return true;
}

bool Compiler::emit_transpose(const Node& n) {
  const int x = n.input(0), y = n.output(0);
  dt type;
  const Shape& xs = value(x).shape;
  if (!dnnl_type(value(x).dtype, type) || xs.empty()) return false;
  const auto perm = n.attrs.get_ints("perm");
  dnnl::memory::dims in_strides(xs.size(), 1);
  for (std::size_t i = xs.size(); i-- > 1;) in_strides[i - 1] = in_strides[i] * std::max<int64_t>(xs[i], 1);
  dnnl::memory::dims dims, strides;
  for (int64_t p : perm) {
    dims.push_back(xs[static_cast<std::size_t>(p)]);
    strides.push_back(in_strides[static_cast<std::size_t>(p)]);
  }
  const md_t src_md(dims, type, strides);  // the input read in output order
  const md_t dst_md = plain_md(value(y).shape, value(y).dtype);
  const Slot src = plain(x);
  const Slot dst = define(y, dst_md);
  add_reorder(src.storage, src_md, dst.storage, dst_md, label_of(n));
  return true;
}

bool Compiler::emit_view(const Node& n) {
  if (n.output(1) >= 0 || n.input(0) < 0) return false;  // Dropout's mask is written by the reference kernel
  define_view(n.output(0), n.input(0));
  return true;
}

}  // namespace conveyor
