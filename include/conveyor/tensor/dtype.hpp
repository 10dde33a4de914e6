#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace conveyor {

// Element types a tensor can hold. Values match ONNX TensorProto.DataType where one exists.
enum class DType : int32_t {
  kFloat32 = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat64 = 11,
};

std::size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);  // "float32", "int64", ...
bool dtype_from_onnx(int32_t onnx_type, DType& out);

template <typename T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kFloat32; }
template <> constexpr DType dtype_of<double>() { return DType::kFloat64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::kUInt8; }
template <> constexpr DType dtype_of<int8_t>() { return DType::kInt8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kInt32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kInt64; }
template <> constexpr DType dtype_of<bool>() { return DType::kBool; }

}  // namespace conveyor
