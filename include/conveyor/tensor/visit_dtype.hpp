#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "conveyor/tensor/dtype.hpp"

namespace conveyor {

// Calls fn(T{}) with T the C++ type of `dtype`.
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
  throw std::invalid_argument("unknown dtype " + std::to_string(static_cast<int>(dtype)));
}

}  // namespace conveyor
