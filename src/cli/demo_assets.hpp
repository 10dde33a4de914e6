#pragma once
#include <filesystem>

namespace conveyor::cli {

// conveyor's cache directory: $XDG_CACHE_HOME/conveyor, else ~/.cache/conveyor, else /tmp/conveyor.
std::filesystem::path cache_dir();

// Writes `count` synthetic photos-like JPEGs (gradients, shapes, noise; seeded) into `dir` unless they are
// there already; returns the directory.
std::filesystem::path ensure_synthetic_images(const std::filesystem::path& dir, int count, int width, int height);

}  // namespace conveyor::cli
