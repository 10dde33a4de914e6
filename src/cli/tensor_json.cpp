#include "cli/tensor_json.hpp"

namespace conveyor::cli {
namespace {

template <typename T>
nlohmann::json values_json(const Tensor& t) {
  nlohmann::json data = nlohmann::json::array();
  for (const T& v : t.values<T>()) data.push_back(v);
  return data;
}

}  // namespace

nlohmann::json tensor_json(const Tensor& tensor, std::size_t max_values) {
  nlohmann::json j{{"dtype", dtype_name(tensor.dtype())}, {"shape", tensor.shape()}};
  if (static_cast<std::size_t>(tensor.numel()) > max_values) return j;
  switch (tensor.dtype()) {
    case DType::kFloat32: j["data"] = values_json<float>(tensor); break;
    case DType::kFloat64: j["data"] = values_json<double>(tensor); break;
    case DType::kInt64: j["data"] = values_json<int64_t>(tensor); break;
    case DType::kInt32: j["data"] = values_json<int32_t>(tensor); break;
    case DType::kInt8: j["data"] = values_json<int8_t>(tensor); break;
    case DType::kUInt8: j["data"] = values_json<uint8_t>(tensor); break;
    case DType::kBool: j["data"] = values_json<bool>(tensor); break;
  }
  return j;
}

}  // namespace conveyor::cli
