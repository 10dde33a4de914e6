#pragma once
// Tensors in binary form (HTTP's binary tensor data, gRPC's raw contents): numbers as they lie in memory
// (little-endian, row-major), BYTES as each element's 4-byte little-endian length, then its bytes.
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/inference.hpp"

namespace conveyor::serve {

// Fills `tensor` (its name, datatype and shape already set, `elements` of them) from `bytes`. Throws
// ServeError(kBadRequest) naming `context` and `field` (where the bytes came from) when they do not hold
// exactly that.
void read_binary_tensor(NamedTensor& tensor, std::string_view bytes, int64_t elements, const std::string& context,
                        const std::string& field);
void append_binary_tensor(std::string& out, const NamedTensor& tensor);

}  // namespace conveyor::serve
