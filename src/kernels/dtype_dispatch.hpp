#pragma once
// Helpers shared by the kernels' sources (not public API).
#include <cstdint>
#include <string>
#include <vector>

#include "conveyor/kernels/kernel_error.hpp"
#include "conveyor/tensor/dtype.hpp"
#include "conveyor/tensor/shape.hpp"
#include "conveyor/tensor/visit_dtype.hpp"

namespace conveyor::kernels_detail {

using conveyor::visit_dtype;

// Row-major strides of `shape` in elements.
inline std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

}  // namespace conveyor::kernels_detail
