// MatMul (batched, broadcast) and Gemm on the oneDNN matmul primitive.
#include "compiler.hpp"

namespace conveyor {
namespace {

using tag = dnnl::memory::format_tag;
using alg = dnnl::algorithm;

// Row-major strides of dims.
dnnl::memory::dims dense_strides(const dnnl::memory::dims& dims) {
  dnnl::memory::dims s(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * std::max<int64_t>(dims[i], 1);
  return s;
}

md_t dense(const dnnl::memory::dims& dims) { return md_t(dims, dt::f32, dense_strides(dims)); }

// shape with leading 1s up to `rank` (and ONNX's 1-D promotion done by the caller)
dnnl::memory::dims pad_front(const Shape& s, std::size_t rank) {
  dnnl::memory::dims d(rank, 1);
  std::copy(s.begin(), s.end(), d.begin() + static_cast<std::ptrdiff_t>(rank - s.size()));
  return d;
}

}  // namespace

bool Compiler::emit_matmul(const Node& n) {
  const int a = n.input(0), b = n.input(1), bias = n.input(2), y = n.output(0);
  if (!is_f32(a) || !is_f32(b) || (bias >= 0 && !is_f32(bias))) return false;
  // ONNX promotes a 1-D A to [1, K] and a 1-D B to [K, 1].
  const Shape& a_shape = value(a).shape;
  const Shape& b_shape = value(b).shape;
  const Shape as = a_shape.size() == 1 ? Shape{1, a_shape[0]} : a_shape;
  const Shape bs = b_shape.size() == 1 ? Shape{b_shape[0], 1} : b_shape;
  const int64_t k = as[as.size() - 1], nn = bs[bs.size() - 1];
  dnnl::memory::dims src, wei, dst;
  if (bs.size() == 2) {  // one weight matrix for every row: a single 2-D GEMM over all rows of A
    const int64_t rows = shape_numel(as) / std::max<int64_t>(k, 1);
    src = {rows, k};
    wei = {k, nn};
    dst = {rows, nn};
  } else {
    const std::size_t rank = std::max(as.size(), bs.size());
    src = pad_front(as, rank);
    wei = pad_front(bs, rank);
    dst = src;
    for (std::size_t i = 0; i + 2 < rank; ++i) dst[i] = std::max(src[i], wei[i]);
    dst[rank - 1] = nn;
  }
  const md_t src_md = dense(src), dst_md = dense(dst);
  const bool constant_b = value(b).is_constant() && wei.size() == 2;
  const md_t wei_md = constant_b ? md_t(wei, dt::f32, tag::any) : dense(wei);
  dnnl::memory::dims bias_dims(dst.size(), 1);
  bias_dims[bias_dims.size() - 1] = nn;
  const md_t bias_md = bias >= 0 ? dense(bias_dims) : md_t();

  dnnl::post_ops ops;
  int residual = -1;
  append_post_ops(n, ops, &residual);
  const dnnl::matmul::desc desc = bias >= 0 ? dnnl::matmul::desc(src_md, wei_md, bias_md, dst_md)
                                            : dnnl::matmul::desc(src_md, wei_md, dst_md);
  const dnnl::matmul::primitive_desc pd(desc, make_attr(ops), impl_.engine);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  step->primitive = dnnl::matmul(pd);
  memory(*step, DNNL_ARG_SRC, src_md, plain(a).storage);
  const int wst = constant_b ? prepared_constant(value(b).constant, dense(wei), pd.weights_desc(), value(b).name)
                             : plain(b).storage;
  memory(*step, DNNL_ARG_WEIGHTS, pd.weights_desc(), wst);
  if (bias >= 0) memory(*step, DNNL_ARG_BIAS, bias_md, plain(bias).storage);
  const md_t y_md = plain_md(value(y).shape, DType::kFloat32);
  const Slot out = residual >= 0 ? define_with_residual(n, residual, y, y_md) : define(y, y_md);
  memory(*step, DNNL_ARG_DST, dst_md, out.storage);
  add_dnnl(std::move(step), pd);
  return true;
}

bool Compiler::emit_gemm(const Node& n) {
  const int a = n.input(0), b = n.input(1), c = n.input(2), y = n.output(0);
  if (!is_f32(a) || !is_f32(b) || (c >= 0 && !is_f32(c))) return false;
  const float alpha = n.attrs.get_float("alpha", 1.0f);
  const float beta = c >= 0 ? n.attrs.get_float("beta", 1.0f) : 0.0f;
  if (alpha == 0.0f) return false;
  const bool ta = n.attrs.get_int("transA", 0) != 0, tb = n.attrs.get_int("transB", 0) != 0;
  const Shape& as = value(a).shape;
  const Shape& bs = value(b).shape;
  const int64_t m = ta ? as[1] : as[0], k = ta ? as[0] : as[1], nn = tb ? bs[0] : bs[1];
  const md_t src_md({m, k}, dt::f32, ta ? dnnl::memory::dims{1, m} : dnnl::memory::dims{k, 1});
  const md_t wei_stored({k, nn}, dt::f32, tb ? dnnl::memory::dims{1, k} : dnnl::memory::dims{nn, 1});
  const bool constant_b = value(b).is_constant();
  const md_t wei_md = constant_b ? md_t({k, nn}, dt::f32, tag::any) : wei_stored;
  const md_t dst_md({m, nn}, dt::f32, tag::ab);

  // alpha*A*B + beta*C as matmul + post-ops: a constant C becomes the bias beta*C/alpha followed by a
  // linear(alpha) post-op; a runtime C is scaled by beta in its own step and added by a binary post-op.
  const bool c_const = c >= 0 && beta != 0.0f && value(c).is_constant();
  const bool c_runtime = c >= 0 && beta != 0.0f && !c_const;
  const Shape& c_shape = c >= 0 ? value(c).shape : Shape{};
  const int64_t c_rows = c_shape.size() == 2 ? c_shape[0] : 1;
  const int64_t c_cols = c_shape.empty() ? 1 : c_shape[c_shape.size() - 1];
  const md_t c_md({c_rows, c_cols}, dt::f32, tag::ab);
  dnnl::post_ops ops;
  int binary_index = -1;
  if (alpha != 1.0f) ops.append_eltwise(1.0f, alg::eltwise_linear, alpha, 0.0f);
  if (c_runtime) {
    binary_index = ops.len();
    ops.append_binary(alg::binary_add, c_md);
  }
  int residual = -1;
  append_post_ops(n, ops, &residual);
  const dnnl::matmul::desc desc = c_const ? dnnl::matmul::desc(src_md, wei_md, c_md, dst_md)
                                          : dnnl::matmul::desc(src_md, wei_md, dst_md);
  const dnnl::matmul::primitive_desc pd(desc, make_attr(ops), impl_.engine);
  auto step = std::make_unique<DnnlStep>();
  step->label = label_of(n);
  step->primitive = dnnl::matmul(pd);
  memory(*step, DNNL_ARG_SRC, src_md, plain(a).storage);
  const int wst = constant_b ? prepared_constant(value(b).constant, wei_stored, pd.weights_desc(), value(b).name)
                             : plain(b).storage;
  memory(*step, DNNL_ARG_WEIGHTS, pd.weights_desc(), wst);
  if (c_const) {
    Tensor scaled = value(c).constant.clone();
    for (float& v : scaled.values<float>()) v = v * beta / alpha;
    memory(*step, DNNL_ARG_BIAS, c_md, constant_storage(scaled, value(c).name + "(scaled)"));
  }
  if (c_runtime) {
    int c_storage = plain(c).storage;
    if (beta != 1.0f) {  // beta * C into a temporary, before the matmul
      const dnnl::eltwise_forward::desc edesc(dnnl::prop_kind::forward_inference, alg::eltwise_linear, c_md, beta, 0.0f);
      const dnnl::eltwise_forward::primitive_desc epd(edesc, make_attr({}), impl_.engine);
      auto scale_step = std::make_unique<DnnlStep>();
      scale_step->label = label_of(n) + " beta*C";
      scale_step->primitive = dnnl::eltwise_forward(epd);
      const int scaled = new_storage(Storage::Kind::kArena, c_md.get_size(), value(c).name + "(beta)");
      memory(*scale_step, DNNL_ARG_SRC, c_md, c_storage);
      memory(*scale_step, DNNL_ARG_DST, c_md, scaled);
      add_dnnl(std::move(scale_step), epd);
      c_storage = scaled;
    }
    memory(*step, DNNL_ARG_ATTR_MULTIPLE_POST_OP(binary_index) | DNNL_ARG_SRC_1, c_md, c_storage);
  }
  const md_t y_md = plain_md(value(y).shape, DType::kFloat32);
  const Slot out = residual >= 0 ? define_with_residual(n, residual, y, y_md) : define(y, y_md);
  memory(*step, DNNL_ARG_DST, dst_md, out.storage);
  add_dnnl(std::move(step), pd);
  return true;
}

}  // namespace conveyor
