#pragma once
#include <filesystem>
#include <string>

namespace conveyor {

// The bytes of an ONNX model file. Throws std::runtime_error naming the path when it is not a regular
// file, cannot be read, or is larger than protobuf parses (2 GiB: weights belong in external data then).
std::string read_model_bytes(const std::filesystem::path& path);

}  // namespace conveyor
