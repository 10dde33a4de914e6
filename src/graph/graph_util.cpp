#include "graph_util.hpp"

#include <algorithm>

namespace conveyor::detail {

std::vector<int64_t> tensor_ints(const Tensor& t) {
  return visit_dtype(t.dtype(), [&](auto zero) -> std::vector<int64_t> {
    using T = decltype(zero);
    if constexpr (std::is_floating_point_v<T>) {
      throw GraphError("expected an integer tensor, got " + t.describe());
    } else {
      std::vector<int64_t> out;
      out.reserve(static_cast<std::size_t>(t.numel()));
      for (T v : t.values<T>()) out.push_back(static_cast<int64_t>(v));
      return out;
    }
  });
}

std::vector<double> tensor_doubles(const Tensor& t) {
  return visit_dtype(t.dtype(), [&](auto zero) {
    using T = decltype(zero);
    std::vector<double> out;
    out.reserve(static_cast<std::size_t>(t.numel()));
    for (T v : t.values<T>()) out.push_back(static_cast<double>(v));
    return out;
  });
}

Tensor scalar_tensor(DType dtype, double value) {
  Tensor t(dtype, {});
  visit_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    t.data<T>()[0] = static_cast<T>(value);
    return 0;
  });
  return t;
}

int64_t normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    throw GraphError("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw GraphError("shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::string ints_str(const std::vector<int64_t>& v) { return shape_str(v); }

void erase_nodes(Graph& graph, const std::vector<char>& remove) {
  std::vector<Node> kept;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    if (!remove[i]) kept.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(kept);
  graph.sort_topologically();
}

}  // namespace conveyor::detail
