#include "conveyor/engine/memory_plan.hpp"

#include <algorithm>
#include <numeric>

namespace conveyor {

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, std::size_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<std::size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return buffers[a].bytes != buffers[b].bytes ? buffers[a].bytes > buffers[b].bytes : buffers[a].first < buffers[b].first;
  });
  auto round_up = [&](std::size_t v) { return (v + alignment - 1) / alignment * alignment; };
  std::vector<std::size_t> placed;
  std::vector<std::pair<std::size_t, std::size_t>> busy;  // [begin, end) of overlapping placed buffers
  for (std::size_t i : order) {
    const BufferLifetime& b = buffers[i];
    busy.clear();
    for (std::size_t p : placed) {
      const BufferLifetime& o = buffers[p];
      if (o.first <= b.last && b.first <= o.last) busy.emplace_back(plan.offsets[p], plan.offsets[p] + round_up(o.bytes));
    }
    std::sort(busy.begin(), busy.end());
    std::size_t offset = 0;
    const std::size_t need = round_up(b.bytes);
    for (const auto& [begin, end] : busy) {
      if (begin >= offset + need) break;  // fits in the gap before this one
      offset = std::max(offset, end);
    }
    plan.offsets[i] = offset;
    plan.total_bytes = std::max(plan.total_bytes, offset + need);
    placed.push_back(i);
  }
  return plan;
}

}  // namespace conveyor
