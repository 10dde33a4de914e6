#pragma once
// A client's request input from a file's bytes, shaped as the model's metadata says the input is taken:
// BYTES [1] (the file's bytes as one element) for raw-bytes inputs, UINT8 [N] for a UINT8 input given a
// file that is not a .npy, and the file's own tensor (a .npy, whose dtype must be the input's) otherwise.
#include <string>

#include "serve/inference.hpp"
#include "serve/served_model.hpp"

namespace conveyor::serve {

// `origin` names the file in errors; throws std::invalid_argument when the file cannot be that input.
NamedTensor request_tensor(const TensorMetadata& input, std::string bytes, const std::string& origin);

}  // namespace conveyor::serve
