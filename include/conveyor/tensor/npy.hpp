#pragma once
#include <string>

#include "conveyor/tensor/tensor.hpp"

namespace conveyor {

// numpy .npy format v1/v2 (little-endian, C order): float32, float64, int64, int32, int8, uint8, bool.
// Errors throw TensorError naming the file and what is wrong with it.
Tensor read_npy(const std::string& path);
// A .npy file's dtype and shape, from its header alone (the data is not read, nor checked to be complete).
struct NpyInfo {
  DType dtype;
  Shape shape;
};
NpyInfo read_npy_info(const std::string& path);
Tensor parse_npy(const void* bytes, std::size_t size, const std::string& origin);
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace conveyor
