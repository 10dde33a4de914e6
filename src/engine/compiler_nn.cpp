// Convolutions, pooling and normalizations on oneDNN primitives, and the post-ops fused into them.
#include <cmath>
#include <limits>

#include "compiler.hpp"

namespace conveyor {
namespace {

using tag = dnnl::memory::format_tag;
using alg = dnnl::algorithm;

md_t any_md(const Shape& shape) { return md_t(to_dims(shape), dt::f32, tag::any); }

dnnl::memory::dims dims_of(const std::vector<int64_t>& v, int64_t minus = 0) {
  dnnl::memory::dims d;
  for (int64_t x : v) d.push_back(x - minus);
  return d;
}

}  // namespace

int Compiler::prepared_constant(const Tensor& t, const md_t& src_md, const md_t& want_md, const std::string& name) {
  if (src_md == want_md) return constant_storage(t, name);
  Tensor out(DType::kUInt8, {static_cast<int64_t>(want_md.get_size())});
  dnnl::memory src(src_md, impl_.engine, const_cast<void*>(t.raw()));
  dnnl::memory dst(want_md, impl_.engine, out.raw());
  dnnl::reorder(src, dst).execute(impl_.stream, src, dst);
  impl_.stream.wait();
  return constant_storage(out, name + "(compiled layout)");
}

void Compiler::append_post_ops(const Node& node, dnnl::post_ops& ops, int* sum_input) const {
  *sum_input = -1;
  for (const PostOp& p : node.post_ops) {
    if (p.kind == PostOp::Kind::kSum) {
      ops.append_sum(1.0f);
      *sum_input = node.input(static_cast<std::size_t>(p.input_index));
      continue;
    }
    const std::string& op = p.op_type;
    if (op == "Relu") ops.append_eltwise(1.0f, alg::eltwise_relu, 0.0f, 0.0f);
    else if (op == "LeakyRelu") ops.append_eltwise(1.0f, alg::eltwise_relu, p.alpha, 0.0f);
    else if (op == "Clip") ops.append_eltwise(1.0f, alg::eltwise_clip_v2, std::max(p.alpha, std::numeric_limits<float>::lowest()),
                                              std::min(p.beta, std::numeric_limits<float>::max()));
    else if (op == "Sigmoid") ops.append_eltwise(1.0f, alg::eltwise_logistic, 0.0f, 0.0f);
    else if (op == "Tanh") ops.append_eltwise(1.0f, alg::eltwise_tanh, 0.0f, 0.0f);
    else if (op == "Gelu") ops.append_eltwise(1.0f, p.alpha != 0 ? alg::eltwise_gelu_tanh : alg::eltwise_gelu_erf, 0.0f, 0.0f);
    else if (op == "HardSwish") ops.append_eltwise(1.0f, alg::eltwise_hardswish, 0.0f, 0.0f);
    else if (op == "Swish") ops.append_eltwise(1.0f, alg::eltwise_swish, 1.0f, 0.0f);
    else if (op == "Elu") ops.append_eltwise(1.0f, alg::eltwise_elu, p.alpha, 0.0f);
    else if (op == "HardSigmoid") {
      ops.append_eltwise(1.0f, alg::eltwise_linear, p.alpha, p.beta);
      ops.append_eltwise(1.0f, alg::eltwise_clip_v2, 0.0f, 1.0f);
    } else {
      throw EngineError(node.where() + ": cannot fuse post-op " + op);
    }
  }
}

Slot Compiler::define_with_residual(const Node& node, int residual, int out, const md_t& dst_md) {
  const Slot r = slot(residual);
  bool shared = false;  // another operand of the node lives in the residual's storage
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const int in = node.inputs[i];
    if (in < 0 || in == residual) continue;
    const auto& s = slots_[static_cast<std::size_t>(in)];
    if (s && s->storage == r.storage) shared = true;
  }
  int uses = 0;
  for (int in : node.inputs) uses += in == residual ? 1 : 0;
  if (r.md == dst_md && !shared && uses == 1 && can_overwrite(residual) && output_index_[static_cast<std::size_t>(out)] < 0)
    return define(out, dst_md, r.storage);  // accumulate in place
  const Slot d = define(out, dst_md);
  if (r.md == dst_md) add_copy(r.storage, d.storage, dst_md.get_size(), "copy residual '" + value(residual).name + "'");
  else add_reorder(r.storage, r.md, d.storage, dst_md, "reorder residual '" + value(residual).name + "'");
  return d;
}

bool Compiler::emit_conv(const Node& n) {
  const bool transposed = n.op_type == "ConvTranspose";
  const int x = n.input(0), w = n.input(1), b = n.input(2), y = n.output(0);
  if (!is_f32(x) || !is_f32(w) || (b >= 0 && !is_f32(b))) return false;
  const Shape& xs = value(x).shape;
  const Shape& ws = value(w).shape;
  const Shape& ys = value(y).shape;
  const std::size_t sp = xs.size() - 2;
  if (sp < 1 || sp > 3) return false;
  const int64_t group = n.attrs.get_int("group", 1);
  const auto strides = n.attrs.get_ints("strides");
  const auto dilations = n.attrs.get_ints("dilations");
  const auto pads = n.attrs.get_ints("pads");
  const std::vector<int64_t> pl(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(sp));
  const std::vector<int64_t> pr(pads.begin() + static_cast<std::ptrdiff_t>(sp), pads.end());
  const int64_t oc = ys[1], ic = xs[1];
  int64_t kernel_size = 1;
  for (std::size_t i = 2; i < ws.size(); ++i) kernel_size *= ws[i];

  // Logical oneDNN weights dims ([g,] O, I, k...) over the ONNX bytes, described by strides.
  dnnl::memory::dims wdims, wstrides;
  const int64_t og = oc / group, ig = ic / group;
  if (group > 1) wdims = {group, og, ig};
  else wdims = {oc, ic};
  for (std::size_t i = 2; i < ws.size(); ++i) wdims.push_back(ws[i]);
  dnnl::memory::dims kstr(sp, 1);
  for (std::size_t i = sp; i-- > 1;) kstr[i - 1] = kstr[i] * ws[i + 2];
  if (!transposed) {  // ONNX [O, I/g, k]
    if (group > 1) wstrides = {og * ig * kernel_size, ig * kernel_size, kernel_size};
    else wstrides = {ic * kernel_size, kernel_size};
  } else {  // ONNX [I, O/g, k]
    if (group > 1) wstrides = {ig * og * kernel_size, kernel_size, og * kernel_size};
    else wstrides = {kernel_size, oc * kernel_size};
  }
  wstrides.insert(wstrides.end(), kstr.begin(), kstr.end());
  const md_t w_onnx(wdims, dt::f32, wstrides);
  const md_t w_any(wdims, dt::f32, tag::any);
  const md_t bias_md = b >= 0 ? plain_md({oc}, DType::kFloat32) : md_t();

  dnnl::post_ops ops;
  int residual = -1;
  append_post_ops(n, ops, &residual);
  const dnnl::primitive_attr attr = make_attr(ops);
  const auto src_any = any_md(xs), dst_any = any_md(ys);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  md_t src_md, weights_md, dst_md;
  dnnl::primitive_desc_base pd_base;  // a handle to whichever primitive descriptor was made (sliced on purpose)
  if (!transposed) {
    const dnnl::convolution_forward::desc desc =
        b >= 0 ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, alg::convolution_direct, src_any,
                                                 w_any, bias_md, dst_any, dims_of(strides), dims_of(dilations, 1),
                                                 dims_of(pl), dims_of(pr))
               : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, alg::convolution_direct, src_any,
                                                 w_any, dst_any, dims_of(strides), dims_of(dilations, 1), dims_of(pl),
                                                 dims_of(pr));
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, impl_.engine);
    src_md = pd.src_desc();
    weights_md = pd.weights_desc();
    dst_md = pd.dst_desc();
    step->primitive = dnnl::convolution_forward(pd);
    pd_base = pd;
  } else {
    const dnnl::deconvolution_forward::desc desc =
        b >= 0 ? dnnl::deconvolution_forward::desc(dnnl::prop_kind::forward_inference, alg::deconvolution_direct,
                                                   src_any, w_any, bias_md, dst_any, dims_of(strides),
                                                   dims_of(dilations, 1), dims_of(pl), dims_of(pr))
               : dnnl::deconvolution_forward::desc(dnnl::prop_kind::forward_inference, alg::deconvolution_direct,
                                                   src_any, w_any, dst_any, dims_of(strides), dims_of(dilations, 1),
                                                   dims_of(pl), dims_of(pr));
    const dnnl::deconvolution_forward::primitive_desc pd(desc, attr, impl_.engine);
    src_md = pd.src_desc();
    weights_md = pd.weights_desc();
    dst_md = pd.dst_desc();
    step->primitive = dnnl::deconvolution_forward(pd);
    pd_base = pd;
  }

  const Slot src = in_layout(x, src_md);
  int weights_storage;
  if (value(w).is_constant()) {
    weights_storage = prepared_constant(value(w).constant, w_onnx, weights_md, value(w).name);
  } else {  // runtime weights: reorder on every run
    const int raw = plain(w).storage;
    weights_storage = new_storage(Storage::Kind::kArena, weights_md.get_size(), value(w).name + "(weights)");
    storage_last_use_[static_cast<std::size_t>(weights_storage)] = current_;
    add_reorder(raw, w_onnx, weights_storage, weights_md, "reorder weights '" + value(w).name + "'");
  }
  const int bias_storage = b >= 0 ? plain(b).storage : -1;
  const Slot dst = residual >= 0 ? define_with_residual(n, residual, y, dst_md) : define(y, dst_md);
  memory(*step, DNNL_ARG_SRC, src_md, src.storage);
  memory(*step, DNNL_ARG_WEIGHTS, weights_md, weights_storage);
  if (b >= 0) memory(*step, DNNL_ARG_BIAS, bias_md, bias_storage);
  memory(*step, DNNL_ARG_DST, dst_md, dst.storage);
  add_dnnl(std::move(step), pd_base);
  return true;
}

bool Compiler::emit_pool(const Node& n) {
  const int x = n.input(0), y = n.output(0);
  if (!is_f32(x)) return false;
  const Shape& xs = value(x).shape;
  const Shape& ys = value(y).shape;
  const std::size_t sp = xs.size() - 2;
  if (sp < 1 || sp > 3) return false;
  const bool global = n.op_type.rfind("Global", 0) == 0;
  std::vector<int64_t> kernel(xs.begin() + 2, xs.end()), strides(sp, 1), dil(sp, 1), pl(sp, 0), pr(sp, 0);
  if (!global) {
    kernel = n.attrs.get_ints("kernel_shape");
    strides = n.attrs.get_ints("strides");
    dil = n.attrs.get_ints("dilations");
    const auto pads = n.attrs.get_ints("pads");
    for (std::size_t i = 0; i < sp; ++i) {
      pl[i] = pads[i];
      // oneDNN derives the output size by floor division; ceil_mode's extra window becomes right padding.
      const int64_t ek = (kernel[i] - 1) * dil[i] + 1;
      const auto out_size = [&](int64_t right) {
        const int64_t span = xs[i + 2] + pl[i] + right - ek;
        return span < 0 ? -1 : span / strides[i] + 1;
      };
      pr[i] = pads[i + sp];
      if (out_size(pr[i]) != ys[i + 2]) pr[i] = (ys[i + 2] - 1) * strides[i] + ek - xs[i + 2] - pl[i];
      if (pr[i] < 0 || out_size(pr[i]) != ys[i + 2]) return false;
      if (pr[i] != pads[i + sp] && n.op_type == "AveragePool" && n.attrs.get_int("count_include_pad", 0) != 0)
        return false;  // the extra padding must not count: leave it to the reference kernel
    }
  }
  const bool is_max = n.op_type == "MaxPool" || n.op_type == "GlobalMaxPool";
  const alg a = is_max ? alg::pooling_max
                : n.attrs.get_int("count_include_pad", 0) != 0 ? alg::pooling_avg_include_padding
                                                                : alg::pooling_avg_exclude_padding;
  const Slot src = slot(x);
  const dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, a, src.md, any_md(ys), dims_of(strides),
                                            dims_of(kernel), dims_of(dil, 1), dims_of(pl), dims_of(pr));
  const dnnl::pooling_v2_forward::primitive_desc pd(desc, make_attr({}), impl_.engine);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  step->primitive = dnnl::pooling_v2_forward(pd);
  const Slot dst = define(y, pd.dst_desc());
  memory(*step, DNNL_ARG_SRC, src.md, src.storage);
  memory(*step, DNNL_ARG_DST, pd.dst_desc(), dst.storage);
  if (pd.workspace_desc().get_size() > 0) {
    const int ws = new_storage(Storage::Kind::kArena, pd.workspace_desc().get_size(), "pool workspace");
    memory(*step, DNNL_ARG_WORKSPACE, pd.workspace_desc(), ws);
  }
  add_dnnl(std::move(step), pd);
  return true;
}

bool Compiler::emit_batchnorm(const Node& n) {
  const int x = n.input(0), y = n.output(0);
  for (std::size_t i = 0; i < 5; ++i)
    if (!is_f32(n.input(i))) return false;
  const Shape& xs = value(x).shape;
  if (xs.size() < 2 || xs.size() > 5) return false;
  const int64_t c = xs[1];
  const Slot src = slot(x);
  const auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                     dnnl::normalization_flags::use_shift;
  const dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, src.md,
                                                     n.attrs.get_float("epsilon", 1e-5f), flags);
  const dnnl::batch_normalization_forward::primitive_desc pd(desc, make_attr({}), impl_.engine);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  step->primitive = dnnl::batch_normalization_forward(pd);
  const md_t vec = plain_md({c}, DType::kFloat32);
  memory(*step, DNNL_ARG_SRC, src.md, src.storage);
  memory(*step, DNNL_ARG_SCALE, vec, plain(n.input(1)).storage);
  memory(*step, DNNL_ARG_SHIFT, vec, plain(n.input(2)).storage);
  memory(*step, DNNL_ARG_MEAN, vec, plain(n.input(3)).storage);
  memory(*step, DNNL_ARG_VARIANCE, vec, plain(n.input(4)).storage);
  const Slot dst = define(y, pd.dst_desc());
  memory(*step, DNNL_ARG_DST, pd.dst_desc(), dst.storage);
  add_dnnl(std::move(step), pd);
  return true;
}

bool Compiler::emit_layernorm(const Node& n) {
  const int x = n.input(0), y = n.output(0), scale = n.input(1), shift = n.input(2);
  if (!is_f32(x) || !is_f32(scale) || (shift >= 0 && !is_f32(shift)) || n.output(1) >= 0 || n.output(2) >= 0)
    return false;
  const Shape& xs = value(x).shape;
  const int64_t axis = n.attrs.get_int("axis", -1);
  int64_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < xs.size(); ++i) (static_cast<int64_t>(i) < axis ? outer : inner) *= xs[i];
  if (shape_numel(value(scale).shape) != inner || (shift >= 0 && shape_numel(value(shift).shape) != inner)) return false;
  const md_t md2({outer, inner}, dt::f32, tag::ab);
  auto flags = dnnl::normalization_flags::use_scale;
  if (shift >= 0) flags = flags | dnnl::normalization_flags::use_shift;
  const dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, md2,
                                                     n.attrs.get_float("epsilon", 1e-5f), flags);
  const dnnl::layer_normalization_forward::primitive_desc pd(desc, make_attr({}), impl_.engine);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  step->primitive = dnnl::layer_normalization_forward(pd);
  const md_t vec = plain_md({inner}, DType::kFloat32);
  memory(*step, DNNL_ARG_SRC, md2, plain(x).storage);
  memory(*step, DNNL_ARG_SCALE, vec, plain(scale).storage);
  if (shift >= 0) memory(*step, DNNL_ARG_SHIFT, vec, plain(shift).storage);
  for (const auto& [arg, md] : {std::pair{DNNL_ARG_MEAN, pd.mean_desc()}, std::pair{DNNL_ARG_VARIANCE, pd.variance_desc()}})
    if (md.get_size() > 0) {
      const int st = new_storage(Storage::Kind::kArena, md.get_size(), "layernorm statistics");
      memory(*step, arg, md, st);
    }
  const Slot dst = define(y, plain_md(value(y).shape, DType::kFloat32));
  memory(*step, DNNL_ARG_DST, md2, dst.storage);
  add_dnnl(std::move(step), pd);
  return true;
}

}  // namespace conveyor
