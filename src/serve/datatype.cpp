#include "serve/datatype.hpp"

#include <array>
#include <utility>

namespace conveyor::serve {
namespace {

constexpr std::array<std::pair<DType, std::string_view>, 7> kNames = {{
    {DType::kFloat32, "FP32"},
    {DType::kFloat64, "FP64"},
    {DType::kUInt8, "UINT8"},
    {DType::kInt8, "INT8"},
    {DType::kInt32, "INT32"},
    {DType::kInt64, "INT64"},
    {DType::kBool, "BOOL"},
}};

}  // namespace

std::string datatype_name(DType dtype) {
  for (const auto& [d, name] : kNames)
    if (d == dtype) return std::string(name);
  return "UNKNOWN";
}

std::optional<DType> dtype_of_datatype(std::string_view datatype) {
  for (const auto& [d, name] : kNames)
    if (name == datatype) return d;
  return std::nullopt;
}

std::string known_datatypes() {
  std::string text;
  for (const auto& [d, name] : kNames) text += std::string(name) + ", ";
  return text + std::string(kBytes);
}

}  // namespace conveyor::serve
