#pragma once
#include <cstddef>
#include <vector>

namespace conveyor {

// A buffer needed from step `first` to step `last` inclusive.
struct BufferLifetime {
  std::size_t bytes = 0;
  int first = 0;
  int last = 0;
};

struct MemoryPlan {
  std::vector<std::size_t> offsets;  // parallel to the requests, multiples of the alignment
  std::size_t total_bytes = 0;
};

// Places buffers in one arena so that buffers alive at the same step never overlap; buffers with
// disjoint lifetimes share memory. Greedy: largest first, each at the lowest offset that fits.
MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, std::size_t alignment = 64);

}  // namespace conveyor
