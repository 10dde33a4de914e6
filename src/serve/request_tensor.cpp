#include "serve/request_tensor.hpp"

#include <cstring>
#include <stdexcept>

#include "conveyor/tensor/npy.hpp"
#include "conveyor/tensor/shape.hpp"
#include "serve/datatype.hpp"

namespace conveyor::serve {
namespace {

bool is_npy(const std::string& bytes) {
  return bytes.size() >= 6 && std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0;
}


}  // namespace

NamedTensor request_tensor(const TensorMetadata& input, std::string bytes, const std::string& origin) {
  NamedTensor out;
  out.name = input.name;
  out.datatype = input.datatype;
  out.binary = true;
  if (input.datatype == kBytes) {
    out.shape = {1};
    out.strings.push_back(std::move(bytes));
    return out;
  }
  const std::optional<DType> dtype = dtype_of_datatype(input.datatype);
  if (!dtype)
    throw std::invalid_argument("input '" + input.name + "' of the model is " + input.datatype +
                                ", which conveyor's client cannot send");
  if (!is_npy(bytes)) {
    if (*dtype != DType::kUInt8)
      throw std::invalid_argument("'" + origin + "' is not a .npy file, and the model's input '" +
                                  input.name + "' is " + input.datatype + " " + shape_str(input.shape) +
                                  ": give .npy files of that datatype");
    out.shape = {static_cast<int64_t>(bytes.size())};
    out.tensor = Tensor(DType::kUInt8, out.shape);
    if (!bytes.empty()) std::memcpy(out.tensor.raw(), bytes.data(), bytes.size());
    return out;
  }
  out.tensor = parse_npy(bytes.data(), bytes.size(), origin);
  if (out.tensor.dtype() != *dtype)
    throw std::invalid_argument("'" + origin + "' holds " + datatype_name(out.tensor.dtype()) +
                                "; the model's input '" + input.name + "' is " + input.datatype);
  out.shape = out.tensor.shape();
  return out;
}

}  // namespace conveyor::serve
