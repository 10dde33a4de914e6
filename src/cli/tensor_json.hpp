#pragma once
#include <nlohmann/json.hpp>

#include "conveyor/tensor/tensor.hpp"

namespace conveyor::cli {

// {"dtype", "shape", "data"}; "data" (flat, row-major) only when the tensor has at most max_values elements.
nlohmann::json tensor_json(const Tensor& tensor, std::size_t max_values);

}  // namespace conveyor::cli
