#pragma once
#include <filesystem>
#include <string>

namespace conveyor::cli {

// conveyor's cache directory: $XDG_CACHE_HOME/conveyor, else ~/.cache/conveyor, else /tmp/conveyor.
std::filesystem::path cache_dir();

// Writes `count` synthetic photos-like JPEGs (gradients, shapes, noise; seeded) into `dir` unless they are
// there already; returns the directory.
std::filesystem::path ensure_synthetic_images(const std::filesystem::path& dir, int count, int width, int height);

// Writes the zoo model `name` (seed 0) to `file` unless it is there already; returns the file.
std::filesystem::path ensure_zoo_model(const std::filesystem::path& file, const std::string& name);

// Writes `count` labels "class_0".."class_<count-1>" to `file` unless it is there already.
std::filesystem::path ensure_labels(const std::filesystem::path& file, int count);

}  // namespace conveyor::cli
