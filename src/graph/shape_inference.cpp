#include "conveyor/graph/shape_inference.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "graph_util.hpp"

namespace conveyor {
namespace {

using detail::broadcast_shapes;
using detail::normalize_axis;
using detail::tensor_doubles;
using detail::tensor_ints;

// --- access helpers ---------------------------------------------------------------------------------------

const Value& input(const Graph& g, const Node& n, std::size_t i) {
  const int id = n.input(i);
  if (id < 0) throw GraphError("input " + std::to_string(i) + " is required");
  return g.value(id);
}

bool has_input(const Node& n, std::size_t i) { return n.input(i) >= 0; }

const Tensor& constant_input(const Graph& g, const Node& n, std::size_t i, const char* what) {
  const Value& v = input(g, n, i);
  if (!v.is_constant())
    throw GraphError(std::string("input ") + std::to_string(i) + " ('" + what + "', value '" + v.name +
                     "') must be a constant: shapes are static, so it must come from initializers or shape "
                     "arithmetic on static shapes");
  return v.constant;
}

// Moves a constant operand input into an attribute and drops the input (it is no longer read).
void drop_input(Node& n, std::size_t i) {
  if (i < n.inputs.size()) n.inputs[i] = -1;
  while (!n.inputs.empty() && n.inputs.back() < 0) n.inputs.pop_back();
}

void set_output(Graph& g, Node& n, std::size_t i, DType dtype, Shape shape) {
  const int id = n.output(i);
  if (id < 0) return;
  for (int64_t d : shape)
    if (d < 0) throw GraphError("output " + std::to_string(i) + " would have negative dim: " + shape_str(shape));
  shape_numel(shape);  // throws on overflow
  Value& v = g.value(id);
  v.dtype = dtype;
  v.shape = std::move(shape);
  v.typed = true;
}

void require_float(const Value& v, const char* what) {
  if (v.dtype != DType::kFloat32 && v.dtype != DType::kFloat64)
    throw GraphError(std::string(what) + " must be float32 or float64, got " + v.name + ": " +
                     std::string(dtype_name(v.dtype)));
}

// The element types of ONNX's MatMul and Gemm that conveyor holds (oneDNN runs the float32 ones, the
// reference kernels the rest).
void require_matrix_type(const Value& v, const char* what) {
  if (v.dtype != DType::kFloat32 && v.dtype != DType::kFloat64 && v.dtype != DType::kInt32 &&
      v.dtype != DType::kInt64)
    throw GraphError(std::string(what) + " must be float32, float64, int32 or int64, got " + v.name + ": " +
                     std::string(dtype_name(v.dtype)));
}

void require_rank_at_least(const Value& v, std::size_t rank) {
  if (v.shape.size() < rank)
    throw GraphError("input '" + v.name + "' " + shape_str(v.shape) + " must have rank >= " + std::to_string(rank));
}

int64_t rank_of(const Value& v) { return static_cast<int64_t>(v.shape.size()); }

std::vector<int64_t> normalized_axes(const std::vector<int64_t>& axes, int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t a : axes) out.push_back(normalize_axis(a, rank));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    throw GraphError("repeated axis in " + detail::ints_str(axes));
  return out;
}

// Axes from attribute `axes` or (newer opsets) from input `index`, moved into the attribute.
std::vector<int64_t> take_axes(Graph& g, Node& n, std::size_t index) {
  if (has_input(n, index)) {
    std::vector<int64_t> axes = tensor_ints(constant_input(g, n, index, "axes"));
    drop_input(n, index);
    n.attrs.set("axes", axes);
    return axes;
  }
  return n.attrs.get_ints("axes");
}

// --- operator families ------------------------------------------------------------------------------------

void infer_same(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  set_output(g, n, 0, x.dtype, x.shape);
}

void infer_unary_float(Graph& g, Node& n) {
  require_float(input(g, n, 0), "input");
  infer_same(g, n);
}

void infer_clip(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  float lo = n.attrs.get_float("min", -std::numeric_limits<float>::infinity());
  float hi = n.attrs.get_float("max", std::numeric_limits<float>::infinity());
  if (has_input(n, 1)) lo = static_cast<float>(tensor_doubles(constant_input(g, n, 1, "min")).at(0));
  if (has_input(n, 2)) hi = static_cast<float>(tensor_doubles(constant_input(g, n, 2, "max")).at(0));
  drop_input(n, 2);
  drop_input(n, 1);
  n.attrs.set("min", lo);
  n.attrs.set("max", hi);
  set_output(g, n, 0, x.dtype, x.shape);
}

void infer_softmax(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  require_float(x, "input");
  const bool coerce = g.opset < 13;
  const int64_t axis = normalize_axis(n.attrs.get_int("axis", coerce ? 1 : -1), std::max<int64_t>(rank_of(x), 1));
  n.attrs.set("axis", axis);
  n.attrs.set("coerce2d", int64_t{coerce ? 1 : 0});
  set_output(g, n, 0, x.dtype, x.shape);
}

void infer_binary(Graph& g, Node& n, bool comparison, bool same_dtype) {
  if (n.inputs.empty()) throw GraphError("needs at least one input");
  const Value& a = input(g, n, 0);
  Shape shape = a.shape;
  for (std::size_t i = 1; i < n.inputs.size(); ++i) {
    const Value& b = input(g, n, i);
    if (same_dtype && b.dtype != a.dtype)
      throw GraphError("inputs have different dtypes: " + std::string(dtype_name(a.dtype)) + " and " +
                       std::string(dtype_name(b.dtype)));
    shape = broadcast_shapes(shape, b.shape);
  }
  set_output(g, n, 0, comparison ? DType::kBool : a.dtype, shape);
}

void infer_where(Graph& g, Node& n) {
  const Value& c = input(g, n, 0);
  const Value& x = input(g, n, 1);
  const Value& y = input(g, n, 2);
  if (c.dtype != DType::kBool) throw GraphError("condition must be bool");
  if (x.dtype != y.dtype) throw GraphError("X and Y have different dtypes");
  set_output(g, n, 0, x.dtype, broadcast_shapes(broadcast_shapes(c.shape, x.shape), y.shape));
}

// Fills kernel_shape/strides/dilations/pads for Conv, ConvTranspose and the pools; returns spatial rank.
std::size_t canonical_window(Node& n, const Shape& x, const Shape* kernel_from_weights) {
  if (x.size() < 3) throw GraphError("input must be [N, C, spatial...], got " + shape_str(x));
  const std::size_t sp = x.size() - 2;
  std::vector<int64_t> kernel = n.attrs.get_ints("kernel_shape");
  if (kernel.empty() && kernel_from_weights) kernel.assign(kernel_from_weights->begin() + 2, kernel_from_weights->end());
  if (kernel.size() != sp) throw GraphError("kernel_shape " + detail::ints_str(kernel) + " does not fit input " + shape_str(x));
  std::vector<int64_t> strides = n.attrs.get_ints("strides", std::vector<int64_t>(sp, 1));
  std::vector<int64_t> dilations = n.attrs.get_ints("dilations", std::vector<int64_t>(sp, 1));
  std::vector<int64_t> pads = n.attrs.get_ints("pads", std::vector<int64_t>(2 * sp, 0));
  if (strides.size() != sp || dilations.size() != sp || pads.size() != 2 * sp)
    throw GraphError("strides/dilations/pads do not match the " + std::to_string(sp) + " spatial dims");
  for (std::size_t i = 0; i < sp; ++i) {
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1 || pads[i] < 0 || pads[i + sp] < 0)
      throw GraphError("kernel_shape, strides and dilations must be positive and pads non-negative");
    if (x[i + 2] < 1) throw GraphError("spatial dims must be positive, got " + shape_str(x));
  }
  n.attrs.set("kernel_shape", kernel);
  n.attrs.set("strides", strides);
  n.attrs.set("dilations", dilations);
  n.attrs.set("pads", pads);
  return sp;
}

// Output spatial sizes for a forward window (Conv, pools) with auto_pad resolved into explicit pads.
std::vector<int64_t> window_output(Node& n, const Shape& x, bool ceil_mode) {
  const std::size_t sp = x.size() - 2;
  const auto kernel = n.attrs.get_ints("kernel_shape");
  const auto strides = n.attrs.get_ints("strides");
  const auto dilations = n.attrs.get_ints("dilations");
  auto pads = n.attrs.get_ints("pads");
  const std::string auto_pad = n.attrs.get_string("auto_pad", "NOTSET");
  std::vector<int64_t> out(sp);
  for (std::size_t i = 0; i < sp; ++i) {
    const int64_t in = x[i + 2];
    const int64_t ek = (kernel[i] - 1) * dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out[i] = (in + strides[i] - 1) / strides[i];
      const int64_t total = std::max<int64_t>(0, (out[i] - 1) * strides[i] + ek - in);
      pads[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pads[i + sp] = total - pads[i];
      continue;
    }
    if (auto_pad == "VALID") {
      pads[i] = pads[i + sp] = 0;
    } else if (auto_pad != "NOTSET") {
      throw GraphError("unknown auto_pad '" + auto_pad + "'");
    }
    const int64_t span = in + pads[i] + pads[i + sp] - ek;
    if (span < 0) throw GraphError("window " + std::to_string(ek) + " is larger than padded input " + shape_str(x));
    out[i] = (ceil_mode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
    // PyTorch/ONNX rule: the last window must start inside the input or its left padding.
    if (ceil_mode && (out[i] - 1) * strides[i] >= in + pads[i]) --out[i];
  }
  n.attrs.set("pads", pads);
  n.attrs.erase("auto_pad");
  return out;
}

void infer_conv(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const Value& w = input(g, n, 1);
  require_float(x, "X");
  const int64_t group = n.attrs.get_int("group", 1);
  if (w.shape.size() != x.shape.size()) throw GraphError("W " + shape_str(w.shape) + " does not match X " + shape_str(x.shape));
  canonical_window(n, x.shape, &w.shape);
  if (group < 1 || x.shape[1] % group != 0 || w.shape[0] % group != 0 || x.shape[1] / group != w.shape[1])
    throw GraphError("channels of X " + shape_str(x.shape) + " and W " + shape_str(w.shape) + " do not match group " +
                     std::to_string(group));
  n.attrs.set("group", group);
  if (has_input(n, 2) && input(g, n, 2).shape != Shape{w.shape[0]})
    throw GraphError("bias B must be [" + std::to_string(w.shape[0]) + "]");
  Shape out{x.shape[0], w.shape[0]};
  for (int64_t d : window_output(n, x.shape, false)) out.push_back(d);
  set_output(g, n, 0, x.dtype, out);
}

void infer_conv_transpose(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const Value& w = input(g, n, 1);
  require_float(x, "X");
  const int64_t group = n.attrs.get_int("group", 1);
  if (w.shape.size() != x.shape.size()) throw GraphError("W does not match X");
  const std::size_t sp = canonical_window(n, x.shape, &w.shape);
  if (group < 1 || w.shape[0] != x.shape[1] || x.shape[1] % group != 0)
    throw GraphError("channels of X and W do not match group");
  n.attrs.set("group", group);
  const auto kernel = n.attrs.get_ints("kernel_shape");
  const auto strides = n.attrs.get_ints("strides");
  const auto dilations = n.attrs.get_ints("dilations");
  auto pads = n.attrs.get_ints("pads");
  const auto output_padding = n.attrs.get_ints("output_padding", std::vector<int64_t>(sp, 0));
  const auto output_shape = n.attrs.get_ints("output_shape");
  const std::string auto_pad = n.attrs.get_string("auto_pad", "NOTSET");
  if (output_padding.size() != sp) throw GraphError("output_padding does not match spatial rank");
  if (!output_shape.empty() && output_shape.size() != sp && output_shape.size() != sp + 2)
    throw GraphError("output_shape " + detail::ints_str(output_shape) + " does not match the spatial rank");
  Shape out{x.shape[0], w.shape[1] * group};
  for (std::size_t i = 0; i < sp; ++i) {
    const int64_t ek = (kernel[i] - 1) * dilations[i] + 1;
    const int64_t full = strides[i] * (x.shape[i + 2] - 1) + output_padding[i] + ek;
    int64_t target = -1;
    if (!output_shape.empty()) {
      target = output_shape[output_shape.size() - sp + i];
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      target = x.shape[i + 2] * strides[i];
    } else if (auto_pad == "VALID") {
      pads[i] = pads[i + sp] = 0;
    }
    if (target >= 0) {
      const int64_t total = full - target;
      if (auto_pad == "SAME_UPPER") {
        pads[i] = total / 2;
        pads[i + sp] = total - total / 2;
      } else {
        pads[i] = total - total / 2;
        pads[i + sp] = total / 2;
      }
    }
    // Canonical: output = strides*(in-1) + ek - pads_begin - pads_end (output_padding folded into pads_end).
    pads[i + sp] -= output_padding[i];
    const int64_t size = strides[i] * (x.shape[i + 2] - 1) + ek - pads[i] - pads[i + sp];
    if (size < 1) throw GraphError("output size would be " + std::to_string(size));
    out.push_back(size);
  }
  n.attrs.set("pads", pads);
  n.attrs.erase("auto_pad");
  n.attrs.erase("output_padding");
  n.attrs.erase("output_shape");
  set_output(g, n, 0, x.dtype, out);
}

void infer_pool(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  require_float(x, "X");
  if (n.output(1) >= 0) throw GraphError("the Indices output is not supported");
  if (n.attrs.get_int("storage_order", 0) != 0) throw GraphError("storage_order=1 is not supported");
  canonical_window(n, x.shape, nullptr);
  const bool ceil_mode = n.attrs.get_int("ceil_mode", 0) != 0;
  Shape out{x.shape[0], x.shape[1]};
  for (int64_t d : window_output(n, x.shape, ceil_mode)) out.push_back(d);
  set_output(g, n, 0, x.dtype, out);
}

void infer_global_pool(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  require_float(x, "X");
  require_rank_at_least(x, 3);
  Shape out = x.shape;
  std::fill(out.begin() + 2, out.end(), 1);
  set_output(g, n, 0, x.dtype, out);
}

void infer_batchnorm(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  require_float(x, "X");
  require_rank_at_least(x, 2);
  if (n.attrs.get_int("training_mode", 0) != 0 || n.output(1) >= 0 || n.output(2) >= 0)
    throw GraphError("training mode (running statistics outputs) is not supported");
  for (std::size_t i = 1; i <= 4; ++i)
    if (input(g, n, i).shape != Shape{x.shape[1]})
      throw GraphError("scale/B/mean/var must be [" + std::to_string(x.shape[1]) + "]");
  set_output(g, n, 0, x.dtype, x.shape);
}

void infer_layernorm(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  require_float(x, "X");
  const int64_t rank = rank_of(x);
  const int64_t axis = normalize_axis(n.attrs.get_int("axis", -1), rank);
  n.attrs.set("axis", axis);
  Shape stat = x.shape;
  for (int64_t i = axis; i < rank; ++i) stat[static_cast<std::size_t>(i)] = 1;
  set_output(g, n, 0, x.dtype, x.shape);
  set_output(g, n, 1, DType::kFloat32, stat);
  set_output(g, n, 2, DType::kFloat32, stat);
}

void infer_flatten(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const int64_t rank = rank_of(x);
  int64_t axis = n.attrs.get_int("axis", 1);
  if (axis < -rank || axis > rank) throw GraphError("axis out of range");
  if (axis < 0) axis += rank;
  n.attrs.set("axis", axis);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) (i < axis ? outer : inner) *= x.shape[static_cast<std::size_t>(i)];
  set_output(g, n, 0, x.dtype, {outer, inner});
}

void infer_gemm(Graph& g, Node& n) {
  const Value& a = input(g, n, 0);
  const Value& b = input(g, n, 1);
  require_matrix_type(a, "A");
  if (a.dtype != b.dtype || (has_input(n, 2) && input(g, n, 2).dtype != a.dtype))
    throw GraphError("A, B and C have different dtypes");
  if (a.shape.size() != 2 || b.shape.size() != 2) throw GraphError("A and B must be 2-D");
  const bool ta = n.attrs.get_int("transA", 0) != 0, tb = n.attrs.get_int("transB", 0) != 0;
  const int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  const int64_t kb = tb ? b.shape[1] : b.shape[0], nn = tb ? b.shape[0] : b.shape[1];
  if (k != kb) throw GraphError("inner dims differ: A " + shape_str(a.shape) + ", B " + shape_str(b.shape));
  if (has_input(n, 2)) broadcast_shapes(input(g, n, 2).shape, {m, nn});
  set_output(g, n, 0, a.dtype, {m, nn});
}

void infer_matmul(Graph& g, Node& n) {
  const Value& a = input(g, n, 0);
  const Value& b = input(g, n, 1);
  require_matrix_type(a, "A");
  if (a.dtype != b.dtype) throw GraphError("A and B have different dtypes");
  if (a.shape.empty() || b.shape.empty()) throw GraphError("MatMul inputs must have rank >= 1");
  Shape sa = a.shape, sb = b.shape;
  if (sa.size() == 1) sa.insert(sa.begin(), 1);
  if (sb.size() == 1) sb.push_back(1);
  if (sa.back() != sb[sb.size() - 2])
    throw GraphError("inner dims differ: " + shape_str(a.shape) + " x " + shape_str(b.shape));
  Shape batch = broadcast_shapes(Shape(sa.begin(), sa.end() - 2), Shape(sb.begin(), sb.end() - 2));
  Shape out = batch;
  if (a.shape.size() > 1) out.push_back(sa[sa.size() - 2]);
  if (b.shape.size() > 1) out.push_back(sb.back());
  set_output(g, n, 0, a.dtype, out);
}

void infer_reshape(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const std::vector<int64_t> spec = tensor_ints(constant_input(g, n, 1, "shape"));
  const bool allow_zero = n.attrs.get_int("allowzero", 0) != 0;
  Shape out;
  int infer_at = -1;
  int64_t known = 1;
  for (std::size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allow_zero) {
      if (i >= x.shape.size()) throw GraphError("shape " + detail::ints_str(spec) + " copies a missing dim");
      d = x.shape[i];
    }
    if (d == -1) {
      if (infer_at >= 0) throw GraphError("shape " + detail::ints_str(spec) + " has two -1");
      infer_at = static_cast<int>(i);
      out.push_back(1);
      continue;
    }
    if (d < 0) throw GraphError("shape " + detail::ints_str(spec) + " has a negative dim");
    out.push_back(d);
    known *= d;
  }
  const int64_t total = shape_numel(x.shape);
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0)
      throw GraphError("cannot reshape " + shape_str(x.shape) + " to " + detail::ints_str(spec));
    out[static_cast<std::size_t>(infer_at)] = total / known;
  }
  if (shape_numel(out) != total) throw GraphError("cannot reshape " + shape_str(x.shape) + " to " + detail::ints_str(spec));
  drop_input(n, 1);
  set_output(g, n, 0, x.dtype, out);
}

void infer_transpose(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const std::size_t rank = x.shape.size();
  std::vector<int64_t> perm = n.attrs.get_ints("perm");
  if (perm.empty())
    for (std::size_t i = rank; i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  if (perm.size() != rank) throw GraphError("perm " + detail::ints_str(perm) + " does not match rank");
  std::vector<int64_t> check = normalized_axes(perm, static_cast<int64_t>(rank));
  for (auto& p : perm) p = normalize_axis(p, static_cast<int64_t>(rank));
  (void)check;
  n.attrs.set("perm", perm);
  Shape out;
  for (int64_t p : perm) out.push_back(x.shape[static_cast<std::size_t>(p)]);
  set_output(g, n, 0, x.dtype, out);
}

void infer_concat(Graph& g, Node& n) {
  const Value& first = input(g, n, 0);
  const int64_t rank = rank_of(first);
  if (rank == 0) throw GraphError("cannot concatenate scalars");
  const int64_t axis = normalize_axis(n.attrs.get_int("axis", 0), rank);
  n.attrs.set("axis", axis);
  Shape out = first.shape;
  out[static_cast<std::size_t>(axis)] = 0;
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    const Value& v = input(g, n, i);
    if (v.dtype != first.dtype || rank_of(v) != rank) throw GraphError("inputs differ in dtype or rank");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && v.shape[static_cast<std::size_t>(d)] != first.shape[static_cast<std::size_t>(d)])
        throw GraphError("input shapes " + shape_str(first.shape) + " and " + shape_str(v.shape) + " differ off the axis");
    out[static_cast<std::size_t>(axis)] += v.shape[static_cast<std::size_t>(axis)];
  }
  set_output(g, n, 0, first.dtype, out);
}

void infer_gather(Graph& g, Node& n) {
  const Value& data = input(g, n, 0);
  const Value& idx = input(g, n, 1);
  if (idx.dtype != DType::kInt64 && idx.dtype != DType::kInt32) throw GraphError("indices must be int32/int64");
  const int64_t axis = normalize_axis(n.attrs.get_int("axis", 0), std::max<int64_t>(rank_of(data), 1));
  if (data.shape.empty()) throw GraphError("data must have rank >= 1");
  n.attrs.set("axis", axis);
  Shape out(data.shape.begin(), data.shape.begin() + axis);
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), data.shape.begin() + axis + 1, data.shape.end());
  set_output(g, n, 0, data.dtype, out);
}

void infer_unsqueeze(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const std::vector<int64_t> raw = take_axes(g, n, 1);
  const int64_t rank = rank_of(x) + static_cast<int64_t>(raw.size());
  const std::vector<int64_t> axes = normalized_axes(raw, rank);
  n.attrs.set("axes", axes);
  Shape out;
  std::size_t src = 0;
  for (int64_t i = 0; i < rank; ++i) {
    if (std::binary_search(axes.begin(), axes.end(), i)) out.push_back(1);
    else out.push_back(x.shape.at(src++));
  }
  set_output(g, n, 0, x.dtype, out);
}

void infer_squeeze(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  std::vector<int64_t> axes = normalized_axes(take_axes(g, n, 1), rank_of(x));
  if (axes.empty())
    for (std::size_t i = 0; i < x.shape.size(); ++i)
      if (x.shape[i] == 1) axes.push_back(static_cast<int64_t>(i));
  n.attrs.set("axes", axes);
  Shape out;
  for (std::size_t i = 0; i < x.shape.size(); ++i) {
    if (std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(i))) {
      if (x.shape[i] != 1) throw GraphError("cannot squeeze dim " + std::to_string(i) + " of " + shape_str(x.shape));
    } else {
      out.push_back(x.shape[i]);
    }
  }
  set_output(g, n, 0, x.dtype, out);
}

void infer_slice(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const int64_t rank = rank_of(x);
  const bool from_attrs = !has_input(n, 1) && n.attrs.has("starts");  // opset < 10
  std::vector<int64_t> starts = from_attrs ? n.attrs.get_ints("starts") : tensor_ints(constant_input(g, n, 1, "starts"));
  std::vector<int64_t> ends = from_attrs ? n.attrs.get_ints("ends") : tensor_ints(constant_input(g, n, 2, "ends"));
  std::vector<int64_t> axes, steps;
  if (has_input(n, 3)) axes = tensor_ints(constant_input(g, n, 3, "axes"));
  else if (from_attrs && n.attrs.has("axes")) axes = n.attrs.get_ints("axes");
  else for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (has_input(n, 4)) steps = tensor_ints(constant_input(g, n, 4, "steps"));
  else steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    throw GraphError("starts/ends/axes/steps differ in length");
  std::vector<int64_t> begin(static_cast<std::size_t>(rank), 0), step(static_cast<std::size_t>(rank), 1);
  Shape out = x.shape;
  std::vector<char> seen(static_cast<std::size_t>(rank), 0);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const auto a = static_cast<std::size_t>(normalize_axis(axes[i], rank));
    if (seen[a]) throw GraphError("axis repeated in Slice");
    seen[a] = 1;
    const int64_t dim = x.shape[a];
    const int64_t s = steps[i];
    if (s == 0) throw GraphError("step 0 in Slice");
    int64_t b = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (s > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      out[a] = e > b ? (e - b + s - 1) / s : 0;
    } else {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      out[a] = b > e ? (b - e + (-s) - 1) / (-s) : 0;
    }
    begin[a] = b;
    step[a] = s;
  }
  for (std::size_t i = 5; i-- > 1;) drop_input(n, i);
  n.attrs.set("begin", begin);
  n.attrs.set("step", step);
  set_output(g, n, 0, x.dtype, out);
}

void infer_split(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const int64_t axis = normalize_axis(n.attrs.get_int("axis", 0), rank_of(x));
  n.attrs.set("axis", axis);
  std::vector<int64_t> split = n.attrs.get_ints("split");
  if (has_input(n, 1)) {
    split = tensor_ints(constant_input(g, n, 1, "split"));
    drop_input(n, 1);
  }
  const int64_t dim = x.shape[static_cast<std::size_t>(axis)];
  const auto parts = static_cast<int64_t>(n.outputs.size());
  if (split.empty()) {
    const int64_t chunk = (dim + parts - 1) / parts;  // opset 18 rule; equal split when divisible
    for (int64_t i = 0; i < parts; ++i) split.push_back(std::min(chunk, dim - chunk * i));
  }
  if (static_cast<int64_t>(split.size()) != parts || std::accumulate(split.begin(), split.end(), int64_t{0}) != dim)
    throw GraphError("split " + detail::ints_str(split) + " does not divide dim " + std::to_string(dim) + " into " +
                     std::to_string(parts) + " outputs");
  n.attrs.set("split", split);
  for (std::size_t i = 0; i < n.outputs.size(); ++i) {
    if (split[i] < 0) throw GraphError("negative split size");
    Shape out = x.shape;
    out[static_cast<std::size_t>(axis)] = split[i];
    set_output(g, n, i, x.dtype, out);
  }
}

void infer_cast(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  DType to;
  const int64_t onnx_to = n.attrs.get_int("to", 0);
  if (!dtype_from_onnx(static_cast<int32_t>(onnx_to), to))
    throw GraphError("cast to ONNX type " + std::to_string(onnx_to) + " is not supported");
  n.attrs.set("to", static_cast<int64_t>(to));
  set_output(g, n, 0, to, x.shape);
}

void infer_expand(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const std::vector<int64_t> shape = tensor_ints(constant_input(g, n, 1, "shape"));
  drop_input(n, 1);
  set_output(g, n, 0, x.dtype, broadcast_shapes(x.shape, shape));
}

void infer_tile(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const std::vector<int64_t> repeats = tensor_ints(constant_input(g, n, 1, "repeats"));
  if (repeats.size() != x.shape.size()) throw GraphError("repeats must have one entry per dim");
  drop_input(n, 1);
  n.attrs.set("repeats", repeats);
  Shape out = x.shape;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (repeats[i] < 0) throw GraphError("negative repeat");
    out[i] *= repeats[i];
  }
  set_output(g, n, 0, x.dtype, out);
}

void infer_constant_of_shape(Graph& g, Node& n) {
  const std::vector<int64_t> shape = tensor_ints(constant_input(g, n, 0, "shape"));
  const Tensor* value = n.attrs.get_tensor("value");
  set_output(g, n, 0, value ? value->dtype() : DType::kFloat32, shape);
}

void infer_shape(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const int64_t rank = rank_of(x);
  int64_t start = n.attrs.get_int("start", 0), end = n.attrs.get_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  n.attrs.set("start", start);
  n.attrs.set("end", end);
  set_output(g, n, 0, DType::kInt64, {std::max<int64_t>(0, end - start)});
}

void infer_range(Graph& g, Node& n) {
  const auto start = tensor_doubles(constant_input(g, n, 0, "start")).at(0);
  const auto limit = tensor_doubles(constant_input(g, n, 1, "limit")).at(0);
  const auto delta = tensor_doubles(constant_input(g, n, 2, "delta")).at(0);
  if (delta == 0) throw GraphError("delta is 0");
  const auto count = static_cast<int64_t>(std::max(0.0, std::ceil((limit - start) / delta)));
  set_output(g, n, 0, input(g, n, 0).dtype, {count});
}

void infer_reduce(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const int64_t rank = rank_of(x);
  std::vector<int64_t> axes = normalized_axes(take_axes(g, n, 1), rank);
  const bool keep = n.attrs.get_int("keepdims", 1) != 0;
  const bool noop = n.attrs.get_int("noop_with_empty_axes", 0) != 0;
  if (axes.empty() && !noop)
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  n.attrs.set("axes", axes);
  n.attrs.set("keepdims", int64_t{keep ? 1 : 0});
  Shape out;
  for (int64_t i = 0; i < rank; ++i) {
    const bool reduced = std::binary_search(axes.begin(), axes.end(), i);
    if (!reduced) out.push_back(x.shape[static_cast<std::size_t>(i)]);
    else if (keep) out.push_back(1);
  }
  set_output(g, n, 0, x.dtype, out);
}

void infer_argmax(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const int64_t axis = normalize_axis(n.attrs.get_int("axis", 0), rank_of(x));
  n.attrs.set("axis", axis);
  Shape out = x.shape;
  if (n.attrs.get_int("keepdims", 1) != 0) out[static_cast<std::size_t>(axis)] = 1;
  else out.erase(out.begin() + axis);
  set_output(g, n, 0, DType::kInt64, out);
}

void infer_pad(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  const int64_t rank = rank_of(x);
  std::vector<int64_t> pads = n.attrs.get_ints("pads");
  float value = n.attrs.get_float("value", 0.0f);
  if (has_input(n, 1)) pads = tensor_ints(constant_input(g, n, 1, "pads"));
  if (has_input(n, 2)) value = static_cast<float>(tensor_doubles(constant_input(g, n, 2, "constant_value")).at(0));
  if (has_input(n, 3)) {
    const std::vector<int64_t> axes = tensor_ints(constant_input(g, n, 3, "axes"));
    std::vector<int64_t> full(static_cast<std::size_t>(2 * rank), 0);
    if (pads.size() != 2 * axes.size()) throw GraphError("pads do not match axes");
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const auto a = static_cast<std::size_t>(normalize_axis(axes[i], rank));
      full[a] = pads[i];
      full[a + static_cast<std::size_t>(rank)] = pads[i + axes.size()];
    }
    pads = full;
  }
  for (std::size_t i = 4; i-- > 1;) drop_input(n, i);
  if (pads.size() != static_cast<std::size_t>(2 * rank)) throw GraphError("pads must have 2*rank entries");
  const std::string mode = n.attrs.get_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge") throw GraphError("unknown pad mode '" + mode + "'");
  n.attrs.set("pads", pads);
  n.attrs.set("value", value);
  Shape out = x.shape;
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] += pads[i] + pads[i + out.size()];
    if (out[i] < 0) throw GraphError("pads remove more than the dim");
    if (mode != "constant" && x.shape[i] == 0 && out[i] > 0) throw GraphError("cannot pad an empty dim by reflection");
    if (mode == "reflect" && (pads[i] >= x.shape[i] || pads[i + out.size()] >= x.shape[i]))
      throw GraphError("reflect pads must be smaller than the dim");
  }
  set_output(g, n, 0, x.dtype, out);
}

void infer_resize(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  require_float(x, "X");
  const std::size_t rank = x.shape.size();
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (has_input(n, 3)) sizes = tensor_ints(constant_input(g, n, 3, "sizes"));
  if (has_input(n, 2) && sizes.empty()) scales = tensor_doubles(constant_input(g, n, 2, "scales"));
  if (n.attrs.has("axes")) throw GraphError("the axes attribute (opset 18) is not supported");
  Shape out = x.shape;
  std::vector<float> used_scales(rank, 1.0f);
  if (!sizes.empty()) {
    if (sizes.size() != rank) throw GraphError("sizes must have one entry per dim");
    for (std::size_t i = 0; i < rank; ++i) {
      out[i] = sizes[i];
      used_scales[i] = static_cast<float>(static_cast<double>(sizes[i]) / static_cast<double>(x.shape[i]));
    }
  } else if (!scales.empty()) {
    if (scales.size() != rank) throw GraphError("scales must have one entry per dim");
    for (std::size_t i = 0; i < rank; ++i) {
      if (scales[i] <= 0) throw GraphError("scales must be positive");
      out[i] = static_cast<int64_t>(std::floor(static_cast<double>(x.shape[i]) * static_cast<float>(scales[i])));
      used_scales[i] = static_cast<float>(scales[i]);
    }
  } else {
    throw GraphError("needs constant scales or sizes");
  }
  if (has_input(n, 1) && n.attrs.get_string("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize")
    n.attrs.set("roi", [&] {
      std::vector<float> roi;
      for (double r : tensor_doubles(constant_input(g, n, 1, "roi"))) roi.push_back(static_cast<float>(r));
      return roi;
    }());
  for (std::size_t i = 4; i-- > 1;) drop_input(n, i);
  const std::string mode = n.attrs.get_string("mode", "nearest");
  if (mode != "nearest" && mode != "linear" && mode != "cubic") throw GraphError("unknown mode '" + mode + "'");
  n.attrs.set("scales", used_scales);
  set_output(g, n, 0, x.dtype, out);
}

void infer_dropout(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  set_output(g, n, 0, x.dtype, x.shape);
  set_output(g, n, 1, DType::kBool, x.shape);
}

void infer_prelu(Graph& g, Node& n) {
  const Value& x = input(g, n, 0);
  broadcast_shapes(x.shape, input(g, n, 1).shape);
  set_output(g, n, 0, x.dtype, x.shape);
}

void infer_not(Graph& g, Node& n) {
  if (input(g, n, 0).dtype != DType::kBool) throw GraphError("input must be bool");
  infer_same(g, n);
}

void infer_size(Graph& g, Node& n) { set_output(g, n, 0, DType::kInt64, {}); }

using InferFn = std::function<void(Graph&, Node&)>;

const std::unordered_map<std::string, InferFn>& registry() {
  static const std::unordered_map<std::string, InferFn> table = [] {
    std::unordered_map<std::string, InferFn> t;
    for (const char* op : {"Relu", "Sigmoid", "Tanh", "Erf", "Gelu", "Exp", "Log", "Sqrt", "LeakyRelu", "HardSigmoid",
                           "HardSwish", "Swish", "Elu", "Selu", "Softplus", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos"})
      t[op] = infer_unary_float;
    for (const char* op : {"Identity", "Neg", "Abs", "Sign"}) t[op] = infer_same;
    t["Not"] = infer_not;
    t["Clip"] = infer_clip;
    t["Softmax"] = t["LogSoftmax"] = infer_softmax;
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "And", "Or", "Xor"})
      t[op] = [](Graph& g, Node& n) { infer_binary(g, n, false, true); };
    t["Pow"] = [](Graph& g, Node& n) { infer_binary(g, n, false, false); };
    t["Mod"] = [](Graph& g, Node& n) { infer_binary(g, n, false, true); };
    for (const char* op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"})
      t[op] = [](Graph& g, Node& n) { infer_binary(g, n, true, true); };
    t["Where"] = infer_where;
    t["Conv"] = infer_conv;
    t["ConvTranspose"] = infer_conv_transpose;
    t["MaxPool"] = t["AveragePool"] = infer_pool;
    t["GlobalAveragePool"] = t["GlobalMaxPool"] = infer_global_pool;
    t["BatchNormalization"] = infer_batchnorm;
    t["LayerNormalization"] = infer_layernorm;
    t["Flatten"] = infer_flatten;
    t["Gemm"] = infer_gemm;
    t["MatMul"] = infer_matmul;
    t["Reshape"] = infer_reshape;
    t["Transpose"] = infer_transpose;
    t["Concat"] = infer_concat;
    t["Gather"] = infer_gather;
    t["Unsqueeze"] = infer_unsqueeze;
    t["Squeeze"] = infer_squeeze;
    t["Slice"] = infer_slice;
    t["Split"] = infer_split;
    t["Cast"] = infer_cast;
    t["Expand"] = infer_expand;
    t["Tile"] = infer_tile;
    t["ConstantOfShape"] = infer_constant_of_shape;
    t["Shape"] = infer_shape;
    t["Size"] = infer_size;
    t["Range"] = infer_range;
    for (const char* op : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                           "ReduceSumSquare", "ReduceLogSumExp"})
      t[op] = infer_reduce;
    t["ArgMax"] = t["ArgMin"] = infer_argmax;
    t["Pad"] = infer_pad;
    t["Resize"] = infer_resize;
    t["Dropout"] = infer_dropout;
    t["PRelu"] = infer_prelu;
    return t;
  }();
  return table;
}

}  // namespace

bool is_known_op(const std::string& op_type) { return registry().count(op_type) != 0; }

std::vector<std::string> known_ops() {
  std::vector<std::string> ops;
  for (const auto& [op, infer] : registry()) ops.push_back(op);
  std::sort(ops.begin(), ops.end());
  return ops;
}

namespace {

// Inputs every node of the op must have (beyond these, infer functions check what they read).
std::size_t required_inputs(const std::string& op) {
  static const std::unordered_map<std::string, std::size_t> table = {
      {"Add", 2}, {"Sub", 2}, {"Mul", 2}, {"Div", 2}, {"Pow", 2}, {"Mod", 2}, {"And", 2}, {"Or", 2}, {"Xor", 2},
      {"Equal", 2}, {"Less", 2}, {"Greater", 2}, {"LessOrEqual", 2}, {"GreaterOrEqual", 2}, {"PRelu", 2},
      {"MatMul", 2}, {"Gemm", 2}, {"Conv", 2}, {"ConvTranspose", 2}, {"Gather", 2}, {"Expand", 2}, {"Tile", 2},
      {"Reshape", 2}, {"LayerNormalization", 2}, {"Where", 3}, {"Range", 3}, {"BatchNormalization", 5}};
  const auto it = table.find(op);
  return it == table.end() ? 1 : it->second;
}

}  // namespace

void infer_node(Graph& graph, Node& node) {
  const auto it = registry().find(node.op_type);
  if (it == registry().end()) throw GraphError("unsupported operator " + node.op_type);
  for (std::size_t i = 0; i < required_inputs(node.op_type); ++i)
    if (node.input(i) < 0) throw GraphError("input " + std::to_string(i) + " is required");
  if (node.output(0) < 0 && node.op_type != "Split") throw GraphError("output 0 is required");
  for (int in : node.inputs)
    if (in >= 0 && !graph.value(in).typed) throw GraphError("input '" + graph.value(in).name + "' has no known type");
  it->second(graph, node);
  for (int out : node.outputs)
    if (out >= 0 && !graph.value(out).typed)
      throw GraphError("output '" + graph.value(out).name + "' got no type");
}

}  // namespace conveyor
