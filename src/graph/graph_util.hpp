#pragma once
// Small helpers shared by the graph layer's sources (not public API).
#include <cstdint>
#include <string>
#include <vector>

#include "conveyor/graph/graph.hpp"
#include "conveyor/tensor/visit_dtype.hpp"

namespace conveyor::detail {

// Elements of an integer (int64/int32/uint8/int8/bool) or float tensor as int64 / double.
std::vector<int64_t> tensor_ints(const Tensor& t);
std::vector<double> tensor_doubles(const Tensor& t);
// Scalar (or one-element) tensor of `dtype` holding `value`.
Tensor scalar_tensor(DType dtype, double value);

// Resolves a possibly negative axis against `rank`; throws GraphError when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank);
// numpy-style broadcast of two shapes; throws GraphError when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);
std::string ints_str(const std::vector<int64_t>& v);

// Drops the nodes marked in `remove` (indexed like graph.nodes) and restores topological order.
void erase_nodes(Graph& graph, const std::vector<char>& remove);

}  // namespace conveyor::detail
