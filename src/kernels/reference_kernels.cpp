#include "conveyor/kernels/reference_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "dtype_dispatch.hpp"

namespace conveyor {
namespace {

using kernels_detail::strides_of;
using kernels_detail::visit_dtype;

struct Info {
  DType dtype = DType::kFloat32;
  Shape shape;
  int64_t numel = 0;
  bool present = false;
};

// The signature with each operand's element count worked out once.
struct Ctx {
  const std::string& op;
  const KernelAttributes& attrs;
  const std::string& where;
  std::vector<Info> in, out;
};

Ctx make_ctx(const KernelSignature& s) {
  Ctx c{s.op_type, s.attributes, s.where, {}, {}};
  auto info = [](const OperandType& t) {
    Info i;
    if (!t.present) return i;
    i.dtype = t.dtype;
    i.shape = t.shape;
    i.numel = shape_numel(t.shape);
    i.present = true;
    return i;
  };
  for (const OperandType& t : s.inputs) c.in.push_back(info(t));
  for (const OperandType& t : s.outputs) c.out.push_back(info(t));
  return c;
}

// "node 'x' (Relu): " for a signature with a `where`, "Relu: " without.
std::string prefix(const Ctx& c) {
  return (c.where.empty() ? c.op : c.where) + ": ";
}

[[noreturn]] void unsupported(const Ctx& c, const std::string& why) {
  throw KernelError(prefix(c) + "no reference kernel: " + why);
}

// Strides of `in` broadcast to `out` (0 along broadcast dims), in elements, padded to out's rank.
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> s(out.size(), 0);
  const std::vector<int64_t> own = strides_of(in);
  const std::size_t lead = out.size() - in.size();
  for (std::size_t i = 0; i < in.size(); ++i) s[lead + i] = in[i] == 1 ? 0 : own[i];
  return s;
}

// Calls fn(out_index, offsets) for every element of `out`, offsets[k] the element offset into input k.
template <std::size_t K, typename Fn>
void for_each_broadcast(const Shape& out, const std::array<std::vector<int64_t>, K>& strides, Fn&& fn) {
  const int64_t total = shape_numel(out);
  const std::size_t rank = out.size();
  std::vector<int64_t> idx(rank, 0);
  std::array<int64_t, K> off{};
  for (int64_t i = 0; i < total; ++i) {
    fn(i, off);
    for (std::size_t d = rank; d-- > 0;) {
      ++idx[d];
      for (std::size_t k = 0; k < K; ++k) off[k] += strides[k][d];
      if (idx[d] < out[d]) break;
      for (std::size_t k = 0; k < K; ++k) off[k] -= strides[k][d] * out[d];
      idx[d] = 0;
    }
  }
}

// --- unary ---------------------------------------------------------------------------------------------------

template <typename T>
T gelu(T x, bool tanh_form) {
  if (tanh_form) return T(0.5) * x * (T(1) + std::tanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x)));
  return T(0.5) * x * (T(1) + std::erf(x * T(0.7071067811865476)));
}

RefKernel unary_float(const Ctx& c) {
  const std::string& op = c.op;
  const KernelAttributes& a = c.attrs;
  const float alpha = a.get_float("alpha", op == "LeakyRelu" ? 0.01f : op == "HardSigmoid" ? 0.2f : op == "Selu" ? 1.67326319f : 1.0f);
  const float beta = a.get_float("beta", 0.5f);
  const float gamma = a.get_float("gamma", 1.05070102f);
  const float lo = a.get_float("min", -std::numeric_limits<float>::infinity());
  const float hi = a.get_float("max", std::numeric_limits<float>::infinity());
  const bool tanh_form = a.get_string("approximate", "none") == "tanh";
  const int64_t count = c.in[0].numel;
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    if constexpr (!std::is_floating_point_v<T>) {
      unsupported(c, "needs a float input");
    } else {
      T (*fn)(T, T, T, T, T, T, bool) = nullptr;
      static const std::unordered_map<std::string, T (*)(T, T, T, T, T, T, bool)> table = {
          {"Relu", [](T x, T, T, T, T, T, bool) { return x > 0 ? x : T(0); }},
          {"Sigmoid", [](T x, T, T, T, T, T, bool) { return T(1) / (T(1) + std::exp(-x)); }},
          {"Tanh", [](T x, T, T, T, T, T, bool) { return std::tanh(x); }},
          {"Erf", [](T x, T, T, T, T, T, bool) { return std::erf(x); }},
          {"Gelu", [](T x, T, T, T, T, T, bool t) { return gelu(x, t); }},
          {"Exp", [](T x, T, T, T, T, T, bool) { return std::exp(x); }},
          {"Log", [](T x, T, T, T, T, T, bool) { return std::log(x); }},
          {"Sqrt", [](T x, T, T, T, T, T, bool) { return std::sqrt(x); }},
          {"LeakyRelu", [](T x, T al, T, T, T, T, bool) { return x >= 0 ? x : al * x; }},
          {"HardSigmoid", [](T x, T al, T be, T, T, T, bool) { return std::clamp(al * x + be, T(0), T(1)); }},
          {"HardSwish", [](T x, T, T, T, T, T, bool) { return x * std::clamp(x / T(6) + T(0.5), T(0), T(1)); }},
          {"Swish", [](T x, T, T, T, T, T, bool) { return x / (T(1) + std::exp(-x)); }},
          {"Elu", [](T x, T al, T, T, T, T, bool) { return x >= 0 ? x : al * (std::exp(x) - T(1)); }},
          {"Selu", [](T x, T al, T, T ga, T, T, bool) { return x > 0 ? ga * x : ga * al * (std::exp(x) - T(1)); }},
          {"Softplus", [](T x, T, T, T, T, T, bool) { return x > 20 ? x : std::log1p(std::exp(x)); }},
          {"Reciprocal", [](T x, T, T, T, T, T, bool) { return T(1) / x; }},
          {"Floor", [](T x, T, T, T, T, T, bool) { return std::floor(x); }},
          {"Ceil", [](T x, T, T, T, T, T, bool) { return std::ceil(x); }},
          {"Round", [](T x, T, T, T, T, T, bool) { return std::nearbyint(x); }},
          {"Sin", [](T x, T, T, T, T, T, bool) { return std::sin(x); }},
          {"Cos", [](T x, T, T, T, T, T, bool) { return std::cos(x); }},
          {"Clip", [](T x, T, T, T, T l, T h, bool) { return std::min(std::max(x, l), h); }},
      };
      const auto it = table.find(op);
      if (it == table.end()) unsupported(c, "unknown unary op");
      fn = it->second;
      const T al = static_cast<T>(alpha), be = static_cast<T>(beta), ga = static_cast<T>(gamma);
      const T l = static_cast<T>(lo), h = static_cast<T>(hi);
      return [=](const void* const* in, void* const* out) {
        const T* x = static_cast<const T*>(in[0]);
        T* y = static_cast<T*>(out[0]);
        for (int64_t i = 0; i < count; ++i) y[i] = fn(x[i], al, be, ga, l, h, tanh_form);
      };
    }
  });
}

RefKernel unary_numeric(const Ctx& c) {
  const std::string op = c.op;
  const int64_t count = c.in[0].numel;
  if (op == "Clip" && c.in[0].dtype != DType::kFloat32 && c.in[0].dtype != DType::kFloat64) {
    const double lo = c.attrs.get_float("min", -std::numeric_limits<float>::infinity());
    const double hi = c.attrs.get_float("max", std::numeric_limits<float>::infinity());
    return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
      using T = decltype(zero);
      return [=](const void* const* in, void* const* out) {
        const T* x = static_cast<const T*>(in[0]);
        T* y = static_cast<T*>(out[0]);
        for (int64_t i = 0; i < count; ++i)
          y[i] = static_cast<T>(std::min(std::max(static_cast<double>(x[i]), lo), hi));
      };
    });
  }
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    if constexpr (std::is_same_v<T, bool>) {
      if (op != "Not") unsupported(c, "bool input");
      return [=](const void* const* in, void* const* out) {
        const bool* x = static_cast<const bool*>(in[0]);
        bool* y = static_cast<bool*>(out[0]);
        for (int64_t i = 0; i < count; ++i) y[i] = !x[i];
      };
    } else {
      if (op == "Neg")
        return [=](const void* const* in, void* const* out) {
          const T* x = static_cast<const T*>(in[0]);
          T* y = static_cast<T*>(out[0]);
          for (int64_t i = 0; i < count; ++i) y[i] = static_cast<T>(-x[i]);
        };
      if (op == "Abs")
        return [=](const void* const* in, void* const* out) {
          const T* x = static_cast<const T*>(in[0]);
          T* y = static_cast<T*>(out[0]);
          for (int64_t i = 0; i < count; ++i) y[i] = x[i] < 0 ? static_cast<T>(-x[i]) : x[i];
        };
      if (op == "Sign")
        return [=](const void* const* in, void* const* out) {
          const T* x = static_cast<const T*>(in[0]);
          T* y = static_cast<T*>(out[0]);
          for (int64_t i = 0; i < count; ++i) y[i] = static_cast<T>(x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0);
        };
      if constexpr (std::is_floating_point_v<T>) return unary_float(c);
      unsupported(c, "needs a float input");
    }
  });
}

// --- binary / variadic -----------------------------------------------------------------------------------------

template <typename T>
T safe_div(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return a / b;
  } else {
    if (b == 0) return 0;  // integer division by zero is undefined in ONNX; never trap
    if constexpr (std::is_signed_v<T>)
      if (b == -1) return static_cast<T>(-static_cast<std::make_unsigned_t<T>>(a));
    return static_cast<T>(a / b);
  }
}

template <typename T>
T safe_mod(T a, T b, bool fmod) {
  if constexpr (std::is_same_v<T, bool>) {
    return a;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (fmod) return std::fmod(a, b);
    T r = std::fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  } else {
    if (b == 0) return 0;
    if constexpr (std::is_signed_v<T>)
      if (b == -1) return 0;
    T r = static_cast<T>(a % b);
    if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
    return r;
  }
}

// Integer arithmetic goes through the unsigned type so overflow wraps instead of being undefined.
template <typename T, bool = std::is_integral_v<T>>
struct WrapType {
  using type = T;
};
template <typename T>
struct WrapType<T, true> {
  using type = std::make_unsigned_t<T>;
};

template <typename T>
T arith(const std::string& op, T a, T b, bool fmod) {
  if constexpr (std::is_same_v<T, bool>) {
    if (op == "And") return a && b;
    if (op == "Or") return a || b;
    if (op == "Xor") return a != b;
    if (op == "Max") return a || b;
    if (op == "Min") return a && b;
    return a;
  } else {
    // Integer arithmetic wraps (two's complement) instead of overflowing (undefined in C++).
    using W = typename WrapType<T>::type;
    if (op == "Add" || op == "Sum" || op == "Mean") return static_cast<T>(static_cast<W>(a) + static_cast<W>(b));
    if (op == "Sub") return static_cast<T>(static_cast<W>(a) - static_cast<W>(b));
    if (op == "Mul") return static_cast<T>(static_cast<W>(a) * static_cast<W>(b));
    if (op == "Div") return safe_div(a, b);
    if (op == "Max") return std::max(a, b);
    if (op == "Min") return std::min(a, b);
    if (op == "Mod") return safe_mod(a, b, fmod);
    return a;
  }
}

enum class BinOp { kAdd, kSub, kMul, kDiv, kMax, kMin, kMod, kAnd, kOr, kXor, kMean, kEq, kLt, kGt, kLe, kGe };

RefKernel variadic(const Ctx& c) {
  const std::string op = c.op;
  const bool fmod = c.attrs.get_int("fmod", 0) != 0;
  const Shape out_shape = c.out[0].shape;
  std::vector<std::vector<int64_t>> strides;
  for (const Info& i : c.in) strides.push_back(broadcast_strides(i.shape, out_shape));
  const bool logical = op == "And" || op == "Or" || op == "Xor";
  if (logical != (c.in[0].dtype == DType::kBool)) unsupported(c, "logical ops need bool inputs (and only they)");
  const std::size_t k = c.in.size();
  const int64_t count = c.out[0].numel;
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    // Resolve the op once into a function pointer; string compares stay out of the element loop.
    T (*fn)(T, T) = nullptr;
    if (op == "Add" || op == "Sum" || op == "Mean") fn = [](T a, T b) { return arith<T>("Add", a, b, false); };
    else if (op == "Sub") fn = [](T a, T b) { return arith<T>("Sub", a, b, false); };
    else if (op == "Mul") fn = [](T a, T b) { return arith<T>("Mul", a, b, false); };
    else if (op == "Div") fn = [](T a, T b) { return arith<T>("Div", a, b, false); };
    else if (op == "Max") fn = [](T a, T b) { return arith<T>("Max", a, b, false); };
    else if (op == "Min") fn = [](T a, T b) { return arith<T>("Min", a, b, false); };
    else if (op == "And") fn = [](T a, T b) { return arith<T>("And", a, b, false); };
    else if (op == "Or") fn = [](T a, T b) { return arith<T>("Or", a, b, false); };
    else if (op == "Xor") fn = [](T a, T b) { return arith<T>("Xor", a, b, false); };
    else if (op == "Mod") fn = fmod ? +[](T a, T b) { return safe_mod<T>(a, b, true); } : +[](T a, T b) { return safe_mod<T>(a, b, false); };
    else unsupported(c, "unknown binary op");
    if constexpr (std::is_same_v<T, bool>) {
      if (op == "Mod" || op == "Div" || op == "Sub") unsupported(c, "bool arithmetic");
    }
    const bool mean = op == "Mean";
    return [=](const void* const* in, void* const* out) {
      T* y = static_cast<T*>(out[0]);
      const T* a = static_cast<const T*>(in[0]);
      for_each_broadcast<1>(out_shape, {strides[0]}, [&](int64_t i, const std::array<int64_t, 1>& o) { y[i] = a[o[0]]; });
      for (std::size_t j = 1; j < k; ++j) {
        const T* b = static_cast<const T*>(in[j]);
        for_each_broadcast<1>(out_shape, {strides[j]}, [&](int64_t i, const std::array<int64_t, 1>& o) { y[i] = fn(y[i], b[o[0]]); });
      }
      if constexpr (!std::is_same_v<T, bool>) {
        if (mean)
          for (int64_t i = 0; i < count; ++i) y[i] = static_cast<T>(y[i] / static_cast<T>(k));
      }
    };
  });
}

RefKernel pow_kernel(const Ctx& c) {
  const Shape out_shape = c.out[0].shape;
  const std::array<std::vector<int64_t>, 2> strides{broadcast_strides(c.in[0].shape, out_shape),
                                                     broadcast_strides(c.in[1].shape, out_shape)};
  const DType bt = c.in[1].dtype;
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    if constexpr (std::is_same_v<T, bool>) {
      unsupported(c, "bool base");
    } else {
      return visit_dtype(bt, [&](auto zero_b) -> RefKernel {
        using B = decltype(zero_b);
        return [=](const void* const* in, void* const* out) {
          const T* a = static_cast<const T*>(in[0]);
          const B* b = static_cast<const B*>(in[1]);
          T* y = static_cast<T*>(out[0]);
          for_each_broadcast<2>(out_shape, strides, [&](int64_t i, const std::array<int64_t, 2>& o) {
            const double r = std::pow(static_cast<double>(a[o[0]]), static_cast<double>(b[o[1]]));
            if constexpr (std::is_floating_point_v<T>) {
              y[i] = static_cast<T>(r);
            } else {
              y[i] = std::isfinite(r) && std::fabs(r) < 9.2e18 ? static_cast<T>(r) : T(0);
            }
          });
        };
      });
    }
  });
}

RefKernel compare(const Ctx& c) {
  const std::string op = c.op;
  const Shape out_shape = c.out[0].shape;
  const std::array<std::vector<int64_t>, 2> strides{broadcast_strides(c.in[0].shape, out_shape),
                                                     broadcast_strides(c.in[1].shape, out_shape)};
  const int which = op == "Equal" ? 0 : op == "Less" ? 1 : op == "Greater" ? 2 : op == "LessOrEqual" ? 3 : 4;
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    return [=](const void* const* in, void* const* out) {
      const T* a = static_cast<const T*>(in[0]);
      const T* b = static_cast<const T*>(in[1]);
      bool* y = static_cast<bool*>(out[0]);
      for_each_broadcast<2>(out_shape, strides, [&](int64_t i, const std::array<int64_t, 2>& o) {
        const T x = a[o[0]], z = b[o[1]];
        switch (which) {
          case 0: y[i] = x == z; break;
          case 1: y[i] = x < z; break;
          case 2: y[i] = x > z; break;
          case 3: y[i] = x <= z; break;
          default: y[i] = x >= z; break;
        }
      });
    };
  });
}

RefKernel where_kernel(const Ctx& c) {
  const Shape out_shape = c.out[0].shape;
  const std::array<std::vector<int64_t>, 3> strides{broadcast_strides(c.in[0].shape, out_shape),
                                                     broadcast_strides(c.in[1].shape, out_shape),
                                                     broadcast_strides(c.in[2].shape, out_shape)};
  const std::size_t elem = dtype_size(c.out[0].dtype);
  return [=](const void* const* in, void* const* out) {
    const bool* cond = static_cast<const bool*>(in[0]);
    const auto* x = static_cast<const std::byte*>(in[1]);
    const auto* y = static_cast<const std::byte*>(in[2]);
    auto* z = static_cast<std::byte*>(out[0]);
    for_each_broadcast<3>(out_shape, strides, [&](int64_t i, const std::array<int64_t, 3>& o) {
      std::memcpy(z + static_cast<std::size_t>(i) * elem,
                  cond[o[0]] ? x + static_cast<std::size_t>(o[1]) * elem : y + static_cast<std::size_t>(o[2]) * elem, elem);
    });
  };
}

RefKernel prelu_kernel(const Ctx& c) {
  const Shape out_shape = c.out[0].shape;
  const std::array<std::vector<int64_t>, 2> strides{broadcast_strides(c.in[0].shape, out_shape),
                                                     broadcast_strides(c.in[1].shape, out_shape)};
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    return [=](const void* const* in, void* const* out) {
      const T* x = static_cast<const T*>(in[0]);
      const T* s = static_cast<const T*>(in[1]);
      T* y = static_cast<T*>(out[0]);
      for_each_broadcast<2>(out_shape, strides, [&](int64_t i, const std::array<int64_t, 2>& o) {
        y[i] = x[o[0]] < T(0) ? static_cast<T>(x[o[0]] * s[o[1]]) : x[o[0]];
      });
    };
  });
}

// --- data movement -------------------------------------------------------------------------------------------

RefKernel copy_kernel(const Ctx& c) {
  const std::size_t bytes = static_cast<std::size_t>(c.in[0].numel) * dtype_size(c.in[0].dtype);
  const bool mask = c.out.size() > 1 && c.out[1].present;  // Dropout mask: all true in inference
  const auto mask_count = static_cast<std::size_t>(c.in[0].numel);
  return [=](const void* const* in, void* const* out) {
    if (out[0] != in[0] && bytes) std::memmove(out[0], in[0], bytes);
    if (mask) std::memset(out[1], 1, mask_count);
  };
}

RefKernel expand_kernel(const Ctx& c) {
  const Shape out_shape = c.out[0].shape;
  const std::array<std::vector<int64_t>, 1> strides{broadcast_strides(c.in[0].shape, out_shape)};
  const std::size_t elem = dtype_size(c.in[0].dtype);
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const std::byte*>(in[0]);
    auto* y = static_cast<std::byte*>(out[0]);
    for_each_broadcast<1>(out_shape, strides, [&](int64_t i, const std::array<int64_t, 1>& o) {
      std::memcpy(y + static_cast<std::size_t>(i) * elem, x + static_cast<std::size_t>(o[0]) * elem, elem);
    });
  };
}

// Copies a strided view of the input (offset + per-output-dim strides, in elements) into a dense output.
RefKernel gather_view(const Ctx& c, int64_t offset, std::vector<int64_t> strides) {
  const Shape out_shape = c.out[0].shape;
  const std::size_t elem = dtype_size(c.in[0].dtype);
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const std::byte*>(in[0]) + offset * static_cast<int64_t>(elem);
    auto* y = static_cast<std::byte*>(out[0]);
    for_each_broadcast<1>(out_shape, {strides}, [&](int64_t i, const std::array<int64_t, 1>& o) {
      std::memcpy(y + static_cast<std::size_t>(i) * elem, x + o[0] * static_cast<int64_t>(elem), elem);
    });
  };
}

RefKernel transpose_kernel(const Ctx& c) {
  const auto perm = c.attrs.get_ints("perm");
  const auto in_strides = strides_of(c.in[0].shape);
  std::vector<int64_t> s;
  for (int64_t p : perm) s.push_back(in_strides[static_cast<std::size_t>(p)]);
  return gather_view(c, 0, s);
}

RefKernel slice_kernel(const Ctx& c) {
  const auto begin = c.attrs.get_ints("begin");
  const auto step = c.attrs.get_ints("step");
  const auto in_strides = strides_of(c.in[0].shape);
  int64_t offset = 0;
  std::vector<int64_t> s(in_strides.size());
  for (std::size_t d = 0; d < s.size(); ++d) {
    if (c.out[0].shape[d] > 0) offset += begin[d] * in_strides[d];
    s[d] = step[d] * in_strides[d];
  }
  if (c.out[0].numel == 0) offset = 0;
  return gather_view(c, offset, s);
}

RefKernel tile_kernel(const Ctx& c) {
  const Shape in_shape = c.in[0].shape, out_shape = c.out[0].shape;
  const auto in_strides = strides_of(in_shape);
  const std::size_t elem = dtype_size(c.in[0].dtype);
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const std::byte*>(in[0]);
    auto* y = static_cast<std::byte*>(out[0]);
    const int64_t total = shape_numel(out_shape);
    std::vector<int64_t> idx(out_shape.size(), 0);
    for (int64_t i = 0; i < total; ++i) {
      int64_t src = 0;
      for (std::size_t d = 0; d < idx.size(); ++d) src += (idx[d] % in_shape[d]) * in_strides[d];
      std::memcpy(y + static_cast<std::size_t>(i) * elem, x + static_cast<std::size_t>(src) * elem, elem);
      for (std::size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < out_shape[d]) break;
        idx[d] = 0;
      }
    }
  };
}

// Splits a shape around `axis` into outer (before), the axis dim and inner (after) element counts.
void around_axis(const Shape& s, int64_t axis, int64_t& outer, int64_t& dim, int64_t& inner) {
  outer = inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= s[static_cast<std::size_t>(i)];
  dim = s[static_cast<std::size_t>(axis)];
  for (std::size_t i = static_cast<std::size_t>(axis) + 1; i < s.size(); ++i) inner *= s[i];
}

RefKernel concat_kernel(const Ctx& c) {
  const int64_t axis = c.attrs.get_int("axis", 0);
  const std::size_t elem = dtype_size(c.out[0].dtype);
  int64_t outer, dim, inner;
  around_axis(c.out[0].shape, axis, outer, dim, inner);
  std::vector<std::size_t> block;  // bytes per outer step of each input
  for (const Info& i : c.in) block.push_back(static_cast<std::size_t>(i.shape[static_cast<std::size_t>(axis)] * inner) * elem);
  return [=](const void* const* in, void* const* out) {
    auto* y = static_cast<std::byte*>(out[0]);
    for (int64_t o = 0; o < outer; ++o)
      for (std::size_t k = 0; k < block.size(); ++k) {
        if (block[k]) std::memcpy(y, static_cast<const std::byte*>(in[k]) + static_cast<std::size_t>(o) * block[k], block[k]);
        y += block[k];
      }
  };
}

RefKernel split_kernel(const Ctx& c) {
  const int64_t axis = c.attrs.get_int("axis", 0);
  const auto split = c.attrs.get_ints("split");
  const std::size_t elem = dtype_size(c.in[0].dtype);
  int64_t outer, dim, inner;
  around_axis(c.in[0].shape, axis, outer, dim, inner);
  std::vector<std::size_t> block;
  for (int64_t s : split) block.push_back(static_cast<std::size_t>(s * inner) * elem);
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const std::byte*>(in[0]);
    for (int64_t o = 0; o < outer; ++o)
      for (std::size_t k = 0; k < block.size(); ++k) {
        if (out[k] && block[k]) std::memcpy(static_cast<std::byte*>(out[k]) + static_cast<std::size_t>(o) * block[k], x, block[k]);
        x += block[k];
      }
  };
}

RefKernel gather_kernel(const Ctx& c) {
  const int64_t axis = c.attrs.get_int("axis", 0);
  const std::size_t elem = dtype_size(c.in[0].dtype);
  int64_t outer, dim, inner;
  around_axis(c.in[0].shape, axis, outer, dim, inner);
  const int64_t count = c.in[1].numel;
  const bool idx64 = c.in[1].dtype == DType::kInt64;
  const std::string where = prefix(c);
  const auto row = static_cast<std::size_t>(inner) * elem;
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const std::byte*>(in[0]);
    auto* y = static_cast<std::byte*>(out[0]);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < count; ++j) {
        int64_t k = idx64 ? static_cast<const int64_t*>(in[1])[j] : static_cast<const int32_t*>(in[1])[j];
        if (k < 0) k += dim;
        if (k < 0 || k >= dim)
          throw KernelError(where + "index " + std::to_string(k) + " out of range [0, " + std::to_string(dim) + ")");
        if (row) std::memcpy(y, x + static_cast<std::size_t>(o * dim + k) * row, row);
        y += row;
      }
  };
}

RefKernel cast_kernel(const Ctx& c) {
  const int64_t count = c.in[0].numel;
  return visit_dtype(c.in[0].dtype, [&](auto zs) -> RefKernel {
    using S = decltype(zs);
    return visit_dtype(c.out[0].dtype, [&](auto zd) -> RefKernel {
      using D = decltype(zd);
      return [=](const void* const* in, void* const* out) {
        const S* x = static_cast<const S*>(in[0]);
        D* y = static_cast<D*>(out[0]);
        for (int64_t i = 0; i < count; ++i) {
          if constexpr (std::is_same_v<D, bool>) {
            y[i] = x[i] != S(0);
          } else if constexpr (std::is_floating_point_v<S> && !std::is_floating_point_v<D>) {
            // Out-of-range float -> int conversion is undefined in C++: saturate (NaN -> 0).
            const double v = static_cast<double>(x[i]);
            y[i] = std::isnan(v) ? D(0)
                   : v <= static_cast<double>(std::numeric_limits<D>::lowest()) ? std::numeric_limits<D>::lowest()
                   : v >= static_cast<double>(std::numeric_limits<D>::max()) ? std::numeric_limits<D>::max()
                                                                              : static_cast<D>(v);
          } else {
            y[i] = static_cast<D>(x[i]);
          }
        }
      };
    });
  });
}

RefKernel constant_of_shape_kernel(const Ctx& c) {
  Tensor value = c.attrs.get_tensor("value") ? *c.attrs.get_tensor("value") : Tensor(DType::kFloat32, {1});
  if (value.numel() != 1) unsupported(c, "value must have one element");
  const int64_t count = c.out[0].numel;
  const std::size_t elem = dtype_size(value.dtype());
  return [=](const void* const*, void* const* out) {
    auto* y = static_cast<std::byte*>(out[0]);
    for (int64_t i = 0; i < count; ++i) std::memcpy(y + static_cast<std::size_t>(i) * elem, value.raw(), elem);
  };
}

RefKernel shape_kernel(const Ctx& c) {
  const Shape s = c.in[0].shape;
  const int64_t start = c.attrs.get_int("start", 0), end = c.attrs.get_int("end", static_cast<int64_t>(s.size()));
  return [=](const void* const*, void* const* out) {
    auto* y = static_cast<int64_t*>(out[0]);
    for (int64_t i = start; i < end; ++i) y[i - start] = s[static_cast<std::size_t>(i)];
  };
}

RefKernel size_kernel(const Ctx& c) {
  const int64_t n = c.in[0].numel;
  return [=](const void* const*, void* const* out) { *static_cast<int64_t*>(out[0]) = n; };
}

RefKernel range_kernel(const Ctx& c) {
  const int64_t count = c.out[0].numel;
  return visit_dtype(c.out[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    return [=](const void* const* in, void* const* out) {
      const T start = *static_cast<const T*>(in[0]);
      const T delta = *static_cast<const T*>(in[2]);
      T* y = static_cast<T*>(out[0]);
      for (int64_t i = 0; i < count; ++i) y[i] = static_cast<T>(start + static_cast<T>(i) * delta);
    };
  });
}

// --- matrix products ------------------------------------------------------------------------------------------

// Sum of a[i*as] * b[i*bs] over k terms: exact two's-complement wrap for integers, double for floats.
template <typename T>
auto dot(const T* a, int64_t a_step, const T* b, int64_t b_step, int64_t k) {
  if constexpr (std::is_floating_point_v<T>) {
    double acc = 0;
    for (int64_t i = 0; i < k; ++i)
      acc += static_cast<double>(a[i * a_step]) * static_cast<double>(b[i * b_step]);
    return acc;
  } else {
    using W = typename WrapType<T>::type;
    W acc = 0;
    for (int64_t i = 0; i < k; ++i)
      acc = static_cast<W>(acc + static_cast<W>(a[i * a_step]) * static_cast<W>(b[i * b_step]));
    return static_cast<T>(acc);
  }
}

// numpy matmul: a 1-D A is [1, K], a 1-D B is [K, 1]; the leading (batch) dims broadcast.
RefKernel matmul_kernel(const Ctx& c) {
  const Shape& a_shape = c.in[0].shape;
  const Shape& b_shape = c.in[1].shape;
  if (a_shape.empty() || b_shape.empty()) unsupported(c, "MatMul needs inputs of rank >= 1");
  if (c.in[0].dtype != c.in[1].dtype || c.out[0].dtype != c.in[0].dtype) unsupported(c, "mixed dtypes");
  const Shape as = a_shape.size() == 1 ? Shape{1, a_shape[0]} : a_shape;
  const Shape bs = b_shape.size() == 1 ? Shape{b_shape[0], 1} : b_shape;
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  if (bs[bs.size() - 2] != k) unsupported(c, "inner dimensions differ");
  const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  Shape batch(std::max(a_batch.size(), b_batch.size()), 1);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto dim = [&](const Shape& s) {
      return i + s.size() < batch.size() ? 1 : s[i + s.size() - batch.size()];
    };
    batch[i] = std::max(dim(a_batch), dim(b_batch));
  }
  if (shape_numel(batch) * m * n != c.out[0].numel) unsupported(c, "output shape does not match the inputs");
  const std::array<std::vector<int64_t>, 2> strides{broadcast_strides(a_batch, batch),
                                                    broadcast_strides(b_batch, batch)};
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    if constexpr (std::is_same_v<T, bool>) {
      unsupported(c, "bool MatMul");
    } else {
      return [=](const void* const* in, void* const* out) {
        const T* a = static_cast<const T*>(in[0]);
        const T* b = static_cast<const T*>(in[1]);
        T* y = static_cast<T*>(out[0]);
        for_each_broadcast<2>(batch, strides, [&](int64_t i, const std::array<int64_t, 2>& o) {
          const T* am = a + o[0] * m * k;
          const T* bm = b + o[1] * k * n;
          T* ym = y + i * m * n;
          for (int64_t r = 0; r < m; ++r)
            for (int64_t col = 0; col < n; ++col)
              ym[r * n + col] = static_cast<T>(dot(am + r * k, 1, bm + col, n, k));
        });
      };
    }
  });
}

// Y = alpha * A' * B' + beta * C, A' = transA ? A^T : A (2-D), C broadcast to [M, N].
RefKernel gemm_kernel(const Ctx& c) {
  const Shape& a_shape = c.in[0].shape;
  const Shape& b_shape = c.in[1].shape;
  if (a_shape.size() != 2 || b_shape.size() != 2) unsupported(c, "Gemm needs 2-D A and B");
  const bool has_c = c.in.size() > 2 && c.in[2].present;
  for (const Info& i : c.in)
    if (i.present && i.dtype != c.out[0].dtype) unsupported(c, "mixed dtypes");
  const bool ta = c.attrs.get_int("transA", 0) != 0, tb = c.attrs.get_int("transB", 0) != 0;
  const double alpha = c.attrs.get_float("alpha", 1.0f);
  const double beta = has_c ? c.attrs.get_float("beta", 1.0f) : 0.0;
  const int64_t m = ta ? a_shape[1] : a_shape[0], k = ta ? a_shape[0] : a_shape[1];
  const int64_t n = tb ? b_shape[0] : b_shape[1];
  if ((tb ? b_shape[1] : b_shape[0]) != k) unsupported(c, "inner dimensions differ");
  if (c.out[0].shape != Shape{m, n}) unsupported(c, "output shape does not match the inputs");
  // A' element (r, i) is a[r * a_row + i * a_step]; B' element (i, col) is b[i * b_step + col * b_col].
  const int64_t a_row = ta ? 1 : k, a_step = ta ? m : 1;
  const int64_t b_step = tb ? 1 : n, b_col = tb ? k : 1;
  const std::vector<int64_t> c_strides =
      has_c ? broadcast_strides(c.in[2].shape, {m, n}) : std::vector<int64_t>{0, 0};
  return visit_dtype(c.out[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    if constexpr (std::is_same_v<T, bool>) {
      unsupported(c, "bool Gemm");
    } else {
      return [=](const void* const* in, void* const* out) {
        const T* a = static_cast<const T*>(in[0]);
        const T* b = static_cast<const T*>(in[1]);
        const T* bias = has_c ? static_cast<const T*>(in[2]) : nullptr;
        T* y = static_cast<T*>(out[0]);
        for (int64_t r = 0; r < m; ++r)
          for (int64_t col = 0; col < n; ++col) {
            double v = alpha * static_cast<double>(dot(a + r * a_row, a_step, b + col * b_col, b_step, k));
            if (bias) v += beta * static_cast<double>(bias[r * c_strides[0] + col * c_strides[1]]);
            if constexpr (std::is_floating_point_v<T>) {
              y[r * n + col] = static_cast<T>(v);
            } else {
              y[r * n + col] = std::isfinite(v) && std::fabs(v) < 9.2e18 ? static_cast<T>(v) : T(0);
            }
          }
      };
    }
  });
}

// --- reductions, normalizations --------------------------------------------------------------------------------

RefKernel reduce_kernel(const Ctx& c) {
  const std::string op = c.op;
  const auto axes = c.attrs.get_ints("axes");
  const Shape in_shape = c.in[0].shape;
  // Output strides over the input's dims with 0 for reduced dims (keepdims layout = out layout).
  Shape kept = in_shape;
  for (int64_t a : axes) kept[static_cast<std::size_t>(a)] = 1;
  std::vector<int64_t> ostr = broadcast_strides(kept, in_shape);
  int64_t reduced = 1;
  for (int64_t a : axes) reduced *= in_shape[static_cast<std::size_t>(a)];
  const int64_t out_count = c.out[0].numel;
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    if constexpr (std::is_same_v<T, bool>) {
      unsupported(c, "bool reduction");
    } else {
      return [=](const void* const* in, void* const* out) {
        const T* x = static_cast<const T*>(in[0]);
        T* y = static_cast<T*>(out[0]);
        std::vector<double> acc(static_cast<std::size_t>(out_count));
        const double init = op == "ReduceMax" ? -std::numeric_limits<double>::infinity()
                            : op == "ReduceMin" ? std::numeric_limits<double>::infinity()
                            : op == "ReduceProd" ? 1.0 : 0.0;
        std::fill(acc.begin(), acc.end(), init);
        const int which = op == "ReduceMax" ? 1 : op == "ReduceMin" ? 2 : op == "ReduceProd" ? 3 : op == "ReduceL1" ? 4
                          : (op == "ReduceL2" || op == "ReduceSumSquare") ? 5 : op == "ReduceLogSumExp" ? 6 : 0;
        double shift = 0;  // LogSumExp: subtract the max for stability
        if (which == 6) {
          shift = -std::numeric_limits<double>::infinity();
          for (int64_t i = 0; i < shape_numel(in_shape); ++i) shift = std::max(shift, static_cast<double>(x[i]));
          if (!std::isfinite(shift)) shift = 0;
        }
        for_each_broadcast<1>(in_shape, {ostr}, [&](int64_t i, const std::array<int64_t, 1>& o) {
          const double v = static_cast<double>(x[i]);
          double& a = acc[static_cast<std::size_t>(o[0])];
          switch (which) {
            case 1: a = std::max(a, v); break;
            case 2: a = std::min(a, v); break;
            case 3: a *= v; break;
            case 4: a += std::fabs(v); break;
            case 5: a += v * v; break;
            case 6: a += std::exp(v - shift); break;
            default: a += v; break;
          }
        });
        for (int64_t i = 0; i < out_count; ++i) {
          double v = acc[static_cast<std::size_t>(i)];
          if (op == "ReduceMean") v /= static_cast<double>(reduced);
          if (op == "ReduceL2") v = std::sqrt(v);
          if (op == "ReduceLogSumExp") v = std::log(v) + shift;
          if constexpr (std::is_floating_point_v<T>) {
            y[i] = static_cast<T>(v);
          } else {
            y[i] = std::isfinite(v) && std::fabs(v) < 9.2e18 ? static_cast<T>(v) : T(0);
          }
        }
      };
    }
  });
}

RefKernel argmax_kernel(const Ctx& c) {
  const bool is_max = c.op == "ArgMax";
  const bool last = c.attrs.get_int("select_last_index", 0) != 0;
  int64_t outer, dim, inner;
  around_axis(c.in[0].shape, c.attrs.get_int("axis", 0), outer, dim, inner);
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    return [=](const void* const* in, void* const* out) {
      const T* x = static_cast<const T*>(in[0]);
      auto* y = static_cast<int64_t*>(out[0]);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          int64_t best = 0;
          for (int64_t k = 1; k < dim; ++k) {
            const T v = x[(o * dim + k) * inner + i], b = x[(o * dim + best) * inner + i];
            const bool better = is_max ? (last ? v >= b : v > b) : (last ? v <= b : v < b);
            if (better) best = k;
          }
          y[o * inner + i] = best;
        }
    };
  });
}

RefKernel softmax_kernel(const Ctx& c) {
  const bool log_form = c.op == "LogSoftmax";
  const int64_t axis = c.attrs.get_int("axis", -1);
  int64_t outer = 1, dim = 1, inner = 1;
  const Shape& s = c.in[0].shape;
  if (s.empty()) {
    outer = dim = inner = 1;
  } else if (c.attrs.get_int("coerce2d", 0) != 0) {
    for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) (i < axis ? outer : dim) *= s[static_cast<std::size_t>(i)];
  } else {
    around_axis(s, axis, outer, dim, inner);
  }
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    if constexpr (!std::is_floating_point_v<T>) {
      unsupported(c, "needs a float input");
    } else {
      return [=](const void* const* in, void* const* out) {
        const T* x = static_cast<const T*>(in[0]);
        T* y = static_cast<T*>(out[0]);
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < inner; ++i) {
            const auto at = [&](int64_t k) { return (o * dim + k) * inner + i; };
            T m = -std::numeric_limits<T>::infinity();
            for (int64_t k = 0; k < dim; ++k) m = std::max(m, x[at(k)]);
            T sum = 0;
            for (int64_t k = 0; k < dim; ++k) sum += std::exp(x[at(k)] - m);
            for (int64_t k = 0; k < dim; ++k)
              y[at(k)] = log_form ? x[at(k)] - m - std::log(sum) : std::exp(x[at(k)] - m) / sum;
          }
      };
    }
  });
}

RefKernel layernorm_kernel(const Ctx& c) {
  const int64_t axis = c.attrs.get_int("axis", -1);
  const float eps = c.attrs.get_float("epsilon", 1e-5f);
  int64_t outer = 1, inner = 1;
  const Shape& s = c.in[0].shape;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) (i < axis ? outer : inner) *= s[static_cast<std::size_t>(i)];
  const Shape norm(s.begin() + axis, s.end());
  const std::vector<int64_t> scale_str = broadcast_strides(c.in[1].shape, norm);
  const std::vector<int64_t> bias_str = c.in.size() > 2 && c.in[2].present ? broadcast_strides(c.in[2].shape, norm) : std::vector<int64_t>{};
  if (c.in[0].dtype != DType::kFloat32) unsupported(c, "needs float32");
  const bool has_bias = !bias_str.empty();
  const std::size_t outputs = c.out.size();
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const float*>(in[0]);
    const auto* scale = static_cast<const float*>(in[1]);
    const auto* bias = has_bias ? static_cast<const float*>(in[2]) : nullptr;
    auto* y = static_cast<float*>(out[0]);
    auto* mean_out = outputs > 1 ? static_cast<float*>(out[1]) : nullptr;
    auto* inv_out = outputs > 2 ? static_cast<float*>(out[2]) : nullptr;
    std::vector<int64_t> so(norm.size() ? inner : 1), bo(so.size());
    for_each_broadcast<1>(norm, {scale_str}, [&](int64_t i, const std::array<int64_t, 1>& o) { so[static_cast<std::size_t>(i)] = o[0]; });
    if (bias) for_each_broadcast<1>(norm, {bias_str}, [&](int64_t i, const std::array<int64_t, 1>& o) { bo[static_cast<std::size_t>(i)] = o[0]; });
    for (int64_t o = 0; o < outer; ++o) {
      const float* xr = x + o * inner;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < inner; ++i) mean += xr[i];
      mean /= static_cast<double>(inner);
      for (int64_t i = 0; i < inner; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      var /= static_cast<double>(inner);
      const double inv = 1.0 / std::sqrt(var + eps);
      for (int64_t i = 0; i < inner; ++i) {
        const double v = (xr[i] - mean) * inv * scale[so[static_cast<std::size_t>(i)]];
        y[o * inner + i] = static_cast<float>(bias ? v + bias[bo[static_cast<std::size_t>(i)]] : v);
      }
      if (mean_out) mean_out[o] = static_cast<float>(mean);
      if (inv_out) inv_out[o] = static_cast<float>(inv);
    }
  };
}

RefKernel batchnorm_kernel(const Ctx& c) {
  const float eps = c.attrs.get_float("epsilon", 1e-5f);
  const int64_t n = c.in[0].shape[0], ch = c.in[0].shape[1];
  const int64_t inner = ch ? c.in[0].numel / std::max<int64_t>(n * ch, 1) : 0;
  if (c.in[0].dtype != DType::kFloat32) unsupported(c, "needs float32");
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const float*>(in[0]);
    const auto* scale = static_cast<const float*>(in[1]);
    const auto* bias = static_cast<const float*>(in[2]);
    const auto* mean = static_cast<const float*>(in[3]);
    const auto* var = static_cast<const float*>(in[4]);
    auto* y = static_cast<float*>(out[0]);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t k = 0; k < ch; ++k) {
        const float s = scale[k] / std::sqrt(var[k] + eps), t = bias[k] - mean[k] * s;
        const int64_t base = (b * ch + k) * inner;
        for (int64_t i = 0; i < inner; ++i) y[base + i] = x[base + i] * s + t;
      }
  };
}

RefKernel global_pool_kernel(const Ctx& c) {
  const bool is_max = c.op == "GlobalMaxPool";
  const int64_t planes = c.in[0].shape[0] * c.in[0].shape[1];
  const int64_t area = planes ? c.in[0].numel / planes : 0;
  if (c.in[0].dtype != DType::kFloat32) unsupported(c, "needs float32");
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const float*>(in[0]);
    auto* y = static_cast<float*>(out[0]);
    for (int64_t p = 0; p < planes; ++p) {
      double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
      for (int64_t i = 0; i < area; ++i) acc = is_max ? std::max(acc, static_cast<double>(x[p * area + i])) : acc + x[p * area + i];
      y[p] = static_cast<float>(is_max ? acc : acc / static_cast<double>(area));
    }
  };
}

RefKernel pool_kernel(const Ctx& c) {
  const bool is_max = c.op == "MaxPool";
  const bool include_pad = c.attrs.get_int("count_include_pad", 0) != 0;
  const auto kernel = c.attrs.get_ints("kernel_shape");
  const auto strides = c.attrs.get_ints("strides");
  const auto dil = c.attrs.get_ints("dilations", std::vector<int64_t>(kernel.size(), 1));
  const auto pads = c.attrs.get_ints("pads");
  const Shape in_shape = c.in[0].shape, out_shape = c.out[0].shape;
  const std::size_t sp = in_shape.size() - 2;
  if (c.in[0].dtype != DType::kFloat32 || kernel.size() != sp) unsupported(c, "needs float32 [N, C, spatial...]");
  const Shape in_sp(in_shape.begin() + 2, in_shape.end()), out_sp(out_shape.begin() + 2, out_shape.end());
  const int64_t planes = in_shape[0] * in_shape[1];
  const int64_t in_area = shape_numel(in_sp), out_area = shape_numel(out_sp), window = shape_numel(kernel);
  const auto in_str = strides_of(in_sp);
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const float*>(in[0]);
    auto* y = static_cast<float*>(out[0]);
    std::vector<int64_t> o(sp), k(sp);
    for (int64_t p = 0; p < planes; ++p) {
      std::fill(o.begin(), o.end(), 0);
      for (int64_t oi = 0; oi < out_area; ++oi) {
        double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
        int64_t inside = 0, padded = 0;
        std::fill(k.begin(), k.end(), 0);
        for (int64_t w = 0; w < window; ++w) {
          bool ok = true, in_pad = true;
          int64_t off = 0;
          for (std::size_t d = 0; d < sp; ++d) {
            const int64_t pos = o[d] * strides[d] - pads[d] + k[d] * dil[d];
            ok = ok && pos >= 0 && pos < in_sp[d];
            in_pad = in_pad && pos >= -pads[d] && pos < in_sp[d] + pads[d + sp];
            off += pos * in_str[d];
          }
          if (in_pad) ++padded;
          if (ok) {
            ++inside;
            const double v = x[p * in_area + off];
            acc = is_max ? std::max(acc, v) : acc + v;
          }
          for (std::size_t d = sp; d-- > 0;) {
            if (++k[d] < kernel[d]) break;
            k[d] = 0;
          }
        }
        const int64_t count = include_pad ? padded : inside;
        y[p * out_area + oi] = static_cast<float>(is_max ? acc : (count ? acc / static_cast<double>(count) : 0.0));
        for (std::size_t d = sp; d-- > 0;) {
          if (++o[d] < out_sp[d]) break;
          o[d] = 0;
        }
      }
    }
  };
}

RefKernel pad_kernel(const Ctx& c) {
  const auto pads = c.attrs.get_ints("pads");
  const std::string mode = c.attrs.get_string("mode", "constant");
  const double value = c.attrs.get_float("value", 0.0f);
  const Shape in_shape = c.in[0].shape, out_shape = c.out[0].shape;
  const auto in_strides = strides_of(in_shape);
  const std::size_t rank = in_shape.size();
  return visit_dtype(c.in[0].dtype, [&](auto zero) -> RefKernel {
    using T = decltype(zero);
    const T fill = static_cast<T>(value);
    return [=](const void* const* in, void* const* out) {
      const T* x = static_cast<const T*>(in[0]);
      T* y = static_cast<T*>(out[0]);
      const int64_t total = shape_numel(out_shape);
      std::vector<int64_t> idx(rank, 0);
      for (int64_t i = 0; i < total; ++i) {
        int64_t src = 0;
        bool inside = true;
        for (std::size_t d = 0; d < rank; ++d) {
          int64_t k = idx[d] - pads[d];
          const int64_t dim = in_shape[d];
          if (k < 0 || k >= dim) {
            if (mode == "constant") {
              inside = false;
              break;
            }
            if (mode == "edge") {
              k = std::clamp<int64_t>(k, 0, dim - 1);
            } else {  // reflect, without repeating the edge
              const int64_t period = 2 * (dim - 1);
              if (period == 0) k = 0;
              else {
                k = ((k % period) + period) % period;
                if (k >= dim) k = period - k;
              }
            }
          }
          src += k * in_strides[d];
        }
        y[i] = inside ? x[src] : fill;
        for (std::size_t d = rank; d-- > 0;) {
          if (++idx[d] < out_shape[d]) break;
          idx[d] = 0;
        }
      }
    };
  });
}

// Source coordinate of output index `x` along one dim (ONNX Resize coordinate_transformation_mode).
double resize_source(const std::string& mode, int64_t x, double scale, int64_t in_len, int64_t out_len, double roi_start,
                     double roi_end) {
  const double xd = static_cast<double>(x);
  if (mode == "half_pixel") return (xd + 0.5) / scale - 0.5;
  if (mode == "pytorch_half_pixel") return out_len > 1 ? (xd + 0.5) / scale - 0.5 : 0.0;
  if (mode == "align_corners") {  // the ONNX reference uses the unrounded resized length in_len * scale
    const double resized = static_cast<double>(in_len) * scale;
    return out_len == 1 || resized <= 1.0 ? 0.0 : xd * static_cast<double>(in_len - 1) / (resized - 1.0);
  }
  if (mode == "asymmetric") return xd / scale;
  if (mode == "tf_crop_and_resize")
    return out_len > 1 ? roi_start * static_cast<double>(in_len - 1) +
                             xd * (roi_end - roi_start) * static_cast<double>(in_len - 1) / static_cast<double>(out_len - 1)
                       : 0.5 * (roi_start + roi_end) * static_cast<double>(in_len - 1);
  throw KernelError("unsupported coordinate_transformation_mode '" + mode + "'");
}

RefKernel resize_kernel(const Ctx& c) {
  const KernelAttributes& a = c.attrs;
  const std::string mode = a.get_string("mode", "nearest");
  if (mode == "cubic") unsupported(c, "cubic mode is not supported");
  const std::string ctm = a.get_string("coordinate_transformation_mode", "half_pixel");
  const std::string nearest = a.get_string("nearest_mode", "round_prefer_floor");
  const float extrapolation = a.get_float("extrapolation_value", 0.0f);
  const auto scales = a.get_floats("scales");
  const auto roi = a.get_floats("roi");
  const Shape in_shape = c.in[0].shape, out_shape = c.out[0].shape;
  const std::size_t rank = in_shape.size();
  if (c.in[0].dtype != DType::kFloat32) unsupported(c, "needs float32");
  // Per dim and output index: up to two source indices and the weight of the second; -1 = extrapolate.
  struct Tap {
    int64_t i0, i1;
    float w1;
    bool outside;
  };
  std::vector<std::vector<Tap>> taps(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    const double rs = roi.size() == 2 * rank ? roi[d] : 0.0, re = roi.size() == 2 * rank ? roi[d + rank] : 1.0;
    for (int64_t x = 0; x < out_shape[d]; ++x) {
      const double src = resize_source(ctm, x, scales[d], in_shape[d], out_shape[d], rs, re);
      const int64_t last = in_shape[d] - 1;
      Tap t{0, 0, 0.0f, ctm == "tf_crop_and_resize" && (src < 0 || src > static_cast<double>(last))};
      if (mode == "nearest") {
        double r;
        if (nearest == "floor") r = std::floor(src);
        else if (nearest == "ceil") r = std::ceil(src);
        else if (nearest == "round_prefer_ceil") r = std::floor(src + 0.5);
        else r = (src - std::floor(src) == 0.5) ? std::floor(src) : std::round(src);
        t.i0 = t.i1 = std::clamp<int64_t>(static_cast<int64_t>(r), 0, last);
      } else {
        const double cl = std::clamp(src, 0.0, static_cast<double>(last));
        t.i0 = static_cast<int64_t>(std::floor(cl));
        t.i1 = std::min(t.i0 + 1, last);
        t.w1 = static_cast<float>(cl - static_cast<double>(t.i0));
      }
      taps[d].push_back(t);
    }
  }
  const auto in_strides = strides_of(in_shape);
  return [=](const void* const* in, void* const* out) {
    const auto* x = static_cast<const float*>(in[0]);
    auto* y = static_cast<float*>(out[0]);
    const int64_t total = shape_numel(out_shape);
    std::vector<int64_t> idx(rank, 0);
    for (int64_t i = 0; i < total; ++i) {
      bool outside = false;
      for (std::size_t d = 0; d < rank; ++d) outside = outside || taps[d][static_cast<std::size_t>(idx[d])].outside;
      if (outside) {
        y[i] = extrapolation;
      } else {
        double acc = 0;
        // Sum over the 2^rank corners, skipping dims whose second weight is 0.
        const std::size_t corners = std::size_t{1} << rank;
        for (std::size_t m = 0; m < corners; ++m) {
          double w = 1;
          int64_t off = 0;
          for (std::size_t d = 0; d < rank && w != 0; ++d) {
            const Tap& t = taps[d][static_cast<std::size_t>(idx[d])];
            const bool second = (m >> d) & 1;
            w *= second ? t.w1 : 1.0 - t.w1;
            off += (second ? t.i1 : t.i0) * in_strides[d];
          }
          if (w != 0) acc += w * x[off];
        }
        y[i] = static_cast<float>(acc);
      }
      for (std::size_t d = rank; d-- > 0;) {
        if (++idx[d] < out_shape[d]) break;
        idx[d] = 0;
      }
    }
  };
}

using Maker = RefKernel (*)(const Ctx&);

const std::unordered_map<std::string, Maker>& makers() {
  static const std::unordered_map<std::string, Maker> table = [] {
    std::unordered_map<std::string, Maker> t;
    for (const char* op : {"Relu", "Sigmoid", "Tanh", "Erf", "Gelu", "Exp", "Log", "Sqrt", "LeakyRelu", "HardSigmoid",
                           "HardSwish", "Swish", "Elu", "Selu", "Softplus", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos"})
      t[op] = unary_float;
    for (const char* op : {"Neg", "Abs", "Sign", "Not", "Clip"}) t[op] = unary_numeric;
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Mod", "And", "Or", "Xor"})
      t[op] = variadic;
    t["Pow"] = pow_kernel;
    for (const char* op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"}) t[op] = compare;
    t["Where"] = where_kernel;
    t["PRelu"] = prelu_kernel;
    for (const char* op : {"Identity", "Dropout", "Reshape", "Flatten", "Squeeze", "Unsqueeze"}) t[op] = copy_kernel;
    t["Expand"] = expand_kernel;
    t["Transpose"] = transpose_kernel;
    t["Slice"] = slice_kernel;
    t["Tile"] = tile_kernel;
    t["Concat"] = concat_kernel;
    t["Split"] = split_kernel;
    t["Gather"] = gather_kernel;
    t["Cast"] = cast_kernel;
    t["ConstantOfShape"] = constant_of_shape_kernel;
    t["Shape"] = shape_kernel;
    t["Size"] = size_kernel;
    t["Range"] = range_kernel;
    for (const char* op : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                           "ReduceSumSquare", "ReduceLogSumExp"})
      t[op] = reduce_kernel;
    t["ArgMax"] = t["ArgMin"] = argmax_kernel;
    t["Softmax"] = t["LogSoftmax"] = softmax_kernel;
    t["LayerNormalization"] = layernorm_kernel;
    t["BatchNormalization"] = batchnorm_kernel;
    t["GlobalAveragePool"] = t["GlobalMaxPool"] = global_pool_kernel;
    t["Pad"] = pad_kernel;
    t["MaxPool"] = t["AveragePool"] = pool_kernel;
    t["Resize"] = resize_kernel;
    t["MatMul"] = matmul_kernel;
    t["Gemm"] = gemm_kernel;
    return t;
  }();
  return table;
}

}  // namespace

bool has_reference_kernel(const std::string& op_type) {
  return makers().count(op_type) != 0;
}

RefKernel make_reference_kernel(const KernelSignature& signature) {
  const std::string where = signature.where.empty() ? signature.op_type : signature.where;
  const auto it = makers().find(signature.op_type);
  if (it == makers().end()) throw KernelError(where + ": no reference kernel for " + signature.op_type);
  const Ctx ctx = make_ctx(signature);
  try {
    return it->second(ctx);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw KernelError(what.rfind(where, 0) == 0 ? what : where + ": " + what);
  }
}

}  // namespace conveyor
