#pragma once
// KServe v2 tensor datatypes ("FP32", "INT64", "BYTES", ...) and conveyor's dtypes.
#include <optional>
#include <string>
#include <string_view>

#include "conveyor/tensor/dtype.hpp"

namespace conveyor::serve {

inline constexpr std::string_view kBytes = "BYTES";

std::string datatype_name(DType dtype);
// The dtype of a KServe datatype; empty for BYTES and for types conveyor does not hold (FP16, UINT16, ...).
std::optional<DType> dtype_of_datatype(std::string_view datatype);
// Every datatype a request may carry, for error messages.
std::string known_datatypes();

}  // namespace conveyor::serve
