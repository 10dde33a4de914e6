#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "conveyor/runtime/sample.hpp"

namespace conveyor::cli {

// Files named on the command line; a directory stands for its regular files (not recursive), sorted.
std::vector<std::filesystem::path> expand_inputs(const std::vector<std::string>& paths);

// A sample whose tensor `tensor_name` holds the file's bytes (uint8 [n]); `source` is the path.
Sample sample_from_file(const std::filesystem::path& file, const std::string& tensor_name, uint64_t id);

}  // namespace conveyor::cli
