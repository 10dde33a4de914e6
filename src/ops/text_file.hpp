#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace conveyor::ops {

// The lines of a text file without their line endings ("\n" or "\r\n") or a leading UTF-8 byte-order
// mark (editors on Windows write one); a final newline does not add an empty line. Throws std::runtime_error naming the file when it cannot be read.
std::vector<std::string> read_lines(const std::filesystem::path& path);

}  // namespace conveyor::ops
