#pragma once
// Runs gnuplot (Debian package gnuplot-nox) on a script file, as a child process.
#include <filesystem>
#include <optional>

namespace conveyor {

// The gnuplot executable on PATH, or nothing.
std::optional<std::filesystem::path> find_gnuplot();

// Runs `gnuplot script`, its messages going to gnuplot.log beside the script. Throws
// std::runtime_error naming the package when gnuplot is missing, and with the end of gnuplot's messages
// when it fails.
void run_gnuplot(const std::filesystem::path& script);

}  // namespace conveyor
