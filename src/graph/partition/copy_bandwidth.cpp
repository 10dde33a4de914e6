#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <vector>

#include "conveyor/graph/partition.hpp"

namespace conveyor {

double measure_copy_bandwidth_gbps(std::size_t bytes, int repeats) {
  if (bytes < 4096 || repeats < 1)
    throw GraphError("measure_copy_bandwidth_gbps: needs >= 4096 bytes and >= 1 repeat");
  std::vector<unsigned char> source(bytes), target(bytes);
  for (std::size_t i = 0; i < bytes; i += 4096)
    source[i] = static_cast<unsigned char>(i >> 12);  // fault pages in
  std::memcpy(target.data(), source.data(), bytes);   // warm up
  double best_seconds = std::numeric_limits<double>::infinity();
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    std::memcpy(target.data(), source.data(), bytes);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    best_seconds = std::min(best_seconds, took.count());
    source[static_cast<std::size_t>(r) % bytes] ^= target[bytes - 1];  // keep the copies observable
  }
  return static_cast<double>(bytes) / std::max(best_seconds, 1e-9) / 1e9;
}

}  // namespace conveyor
