#pragma once
// Helpers shared by the kernels' sources (not public API).
#include <cstdint>
#include <string>
#include <vector>

#include "conveyor/kernels/kernel_error.hpp"
#include "conveyor/tensor/dtype.hpp"
#include "conveyor/tensor/shape.hpp"

namespace conveyor::kernels_detail {

// Calls fn(T{}) with T the C++ type of dtype.
template <typename Fn>
auto visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32:
      return fn(float{});
    case DType::kFloat64:
      return fn(double{});
    case DType::kInt64:
      return fn(int64_t{});
    case DType::kInt32:
      return fn(int32_t{});
    case DType::kInt8:
      return fn(int8_t{});
    case DType::kUInt8:
      return fn(uint8_t{});
    case DType::kBool:
      return fn(bool{});
  }
  throw KernelError("unknown dtype " + std::to_string(static_cast<int>(dtype)));
}

// Row-major strides of `shape` in elements.
inline std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

}  // namespace conveyor::kernels_detail
