#include "conveyor/engine/memory_plan.hpp"

#include <gtest/gtest.h>

#include <random>

namespace conveyor {
namespace {

bool overlaps_in_time(const BufferLifetime& a, const BufferLifetime& b) { return a.first <= b.last && b.first <= a.last; }

void expect_valid(const std::vector<BufferLifetime>& buffers, const MemoryPlan& plan, std::size_t alignment) {
  ASSERT_EQ(plan.offsets.size(), buffers.size());
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % alignment, 0u);
    EXPECT_LE(plan.offsets[i] + buffers[i].bytes, plan.total_bytes);
    for (std::size_t j = i + 1; j < buffers.size(); ++j) {
      if (!overlaps_in_time(buffers[i], buffers[j])) continue;
      const bool disjoint = plan.offsets[i] + buffers[i].bytes <= plan.offsets[j] ||
                            plan.offsets[j] + buffers[j].bytes <= plan.offsets[i];
      EXPECT_TRUE(disjoint) << "buffers " << i << " and " << j << " are alive together and overlap";
    }
  }
}

TEST(MemoryPlan, BuffersWithDisjointLifetimesShareMemory) {
  // A chain: each buffer is produced by step i and read by step i+1.
  std::vector<BufferLifetime> chain;
  for (int i = 0; i < 10; ++i) chain.push_back({1000, i, i + 1});
  const MemoryPlan plan = plan_memory(chain, 64);
  expect_valid(chain, plan, 64);
  EXPECT_LE(plan.total_bytes, 2 * 1024u);  // two 1024-byte slots ping-pong
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
}

TEST(MemoryPlan, BuffersAliveTogetherDoNotOverlap) {
  const std::vector<BufferLifetime> all = {{100, 0, 5}, {200, 1, 3}, {300, 2, 4}};
  const MemoryPlan plan = plan_memory(all, 64);
  expect_valid(all, plan, 64);
  EXPECT_EQ(plan.total_bytes, 128u + 256u + 320u);
}

TEST(MemoryPlan, RandomLifetimesAreValidAndSmallerThanNoReuse) {
  std::mt19937 rng(42);
  std::vector<BufferLifetime> buffers;
  std::size_t sum = 0;
  for (int i = 0; i < 200; ++i) {
    const int first = static_cast<int>(rng() % 100);
    const int len = static_cast<int>(rng() % 10);
    buffers.push_back({1 + rng() % 100000, first, first + len});
    sum += buffers.back().bytes;
  }
  const MemoryPlan plan = plan_memory(buffers, 64);
  expect_valid(buffers, plan, 64);
  EXPECT_LT(plan.total_bytes, sum / 2);
}

TEST(MemoryPlan, EmptyPlan) {
  const MemoryPlan plan = plan_memory({}, 64);
  EXPECT_EQ(plan.total_bytes, 0u);
}

}  // namespace
}  // namespace conveyor
