#pragma once
// BYTES tensors in binary form (HTTP binary data, gRPC raw contents): each element a 4-byte little-endian
// length, then that many bytes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace conveyor::serve {

// Throws ServeError(kBadRequest) when `bytes` does not hold exactly `elements` elements; `context` names
// the tensor in the message.
std::vector<std::string> split_length_prefixed(std::string_view bytes, int64_t elements, const std::string& context);
void append_length_prefixed(std::string& out, const std::vector<std::string>& strings);

}  // namespace conveyor::serve
