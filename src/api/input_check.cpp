#include "conveyor/api/input_check.hpp"

#include <algorithm>

namespace conveyor {
namespace {

bool shape_fits(const std::vector<int64_t>& want, const Shape& given) {
  if (want.size() == 1 && want[0] == -1) return true;  // the rank is not known either
  if (want.size() != given.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (want[i] != -1 && want[i] != given[i]) return false;
  return true;
}

std::string described(DType dtype, const Shape& shape) {
  return std::string(dtype_name(dtype)) + " " + shape_str(shape);
}

}  // namespace

std::string input_mismatch(const TensorSignature& want, DType dtype, const Shape& shape) {
  if (want.text) return "is a tensor; it takes a list of strings";
  if (want.bytes) {
    if (dtype == DType::kUInt8 && shape.size() == 1) return "";
    return "is " + described(dtype, shape) + "; it takes raw bytes (uint8 [N])";
  }
  if (dtype == want.dtype && shape_fits(want.dims, shape)) return "";
  const bool any_size = std::find(want.dims.begin(), want.dims.end(), -1) != want.dims.end();
  return "is " + described(dtype, shape) + "; it takes " + described(want.dtype, want.dims) +
         (any_size ? " (-1: any size)" : "");
}

}  // namespace conveyor
