#include "conveyor/tensor/dtype.hpp"

#include <stdexcept>

namespace conveyor {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return 4;
    case DType::kUInt8: return 1;
    case DType::kInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kBool: return 1;
    case DType::kFloat64: return 8;
  }
  throw std::invalid_argument("unknown dtype " + std::to_string(static_cast<int>(dtype)));
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kUInt8: return "uint8";
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
    case DType::kFloat64: return "float64";
  }
  return "unknown";
}

bool dtype_from_onnx(int32_t onnx_type, DType& out) {
  switch (onnx_type) {
    case 1: case 2: case 3: case 6: case 7: case 9: case 11:
      out = static_cast<DType>(onnx_type);
      return true;
    default:
      return false;
  }
}

}  // namespace conveyor
