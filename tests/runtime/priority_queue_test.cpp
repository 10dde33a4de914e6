// BoundedQueue with priorities: highest effective priority (priority + waited / aging) first, FIFO within
// a priority, and plain FIFO without priority traits. Enqueue times are set explicitly: no clock, no sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <vector>

#include "runtime/bounded_queue.hpp"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using TimePoint = PriorityOrder::TimePoint;

struct Item {
  int id = 0;
  int priority = 0;
  TimePoint enqueued{};
};

struct ItemPriority {
  int priority(const Item& item) const { return item.priority; }
  TimePoint enqueued(const Item& item) const { return item.enqueued; }
};

using ItemQueue = BoundedQueue<Item, ItemPriority>;
const TimePoint t0 = TimePoint{} + 1000h;

void push(ItemQueue& queue, int id, int priority, TimePoint enqueued = t0) {
  Item item{id, priority, enqueued};
  ASSERT_TRUE(queue.push(item));
}

std::vector<int> drain(ItemQueue& queue) {
  queue.close();
  std::vector<int> ids;
  while (auto item = queue.pop()) ids.push_back(item->id);
  return ids;
}

TEST(PriorityQueue, HigherPriorityFirstAndFifoWithinAPriority) {
  ItemQueue queue(8, PriorityOrder(1h));
  push(queue, 1, 0);
  push(queue, 2, 2);
  push(queue, 3, 1);
  push(queue, 4, 2);
  push(queue, 5, 0);
  push(queue, 6, -1);
  push(queue, 7, 1);
  EXPECT_EQ(drain(queue), (std::vector<int>{2, 4, 3, 7, 1, 5, 6}));
}

TEST(PriorityQueue, WithinAPriorityTheEarlierEnqueuedGoesFirst) {
  ItemQueue queue(8, PriorityOrder(1h));
  push(queue, 1, 0, t0);
  push(queue, 2, 3, t0 + 1ms);
  push(queue, 3, 0, t0 + 2ms);
  push(queue, 4, 3, t0 + 3ms);
  push(queue, 5, 0, t0 + 4ms);
  EXPECT_EQ(drain(queue), (std::vector<int>{2, 4, 1, 3, 5}));
}

TEST(PriorityQueue, OneNonDefaultPriorityEverywhereIsFifo) {
  ItemQueue queue(8, PriorityOrder(1h));
  for (int id = 1; id <= 5; ++id) push(queue, id, 7, t0 + id * 1ms);
  EXPECT_EQ(drain(queue), (std::vector<int>{1, 2, 3, 4, 5}));
}

// aging 100 ms: a priority-0 item that has waited more than 100 ms longer than a priority-1 one is ahead
// of it; one that has waited less is behind it; exactly 100 ms is a tie, served oldest first.
TEST(PriorityQueue, AnOldLowPriorityItemBeatsANewHighPriorityOneOnceItHasWaitedLongEnough) {
  struct Case {
    std::chrono::milliseconds high_arrives_after;
    std::vector<int> expected;
  };
  for (const Case& c : {Case{150ms, {1, 2}}, Case{100ms, {1, 2}}, Case{99ms, {2, 1}}, Case{50ms, {2, 1}}}) {
    ItemQueue queue(4, PriorityOrder(100ms));
    push(queue, 1, 0, t0);
    push(queue, 2, 1, t0 + c.high_arrives_after);
    EXPECT_EQ(drain(queue), c.expected)
        << "high priority queued " << c.high_arrives_after.count() << " ms later";
  }
}

TEST(PriorityQueue, AgingCatchesUpOneLevelPerInterval) {
  ItemQueue queue(4, PriorityOrder(10ms));
  push(queue, 1, 0, t0);         // effective 3.5 at t0 + 35 ms
  push(queue, 2, 3, t0 + 10ms);  // effective 5.5
  push(queue, 3, 5, t0 + 35ms);  // effective 5.0
  EXPECT_EQ(drain(queue), (std::vector<int>{2, 3, 1}));
}

TEST(PriorityQueue, ZeroAgingIgnoresPriorities) {
  ItemQueue queue(8, PriorityOrder(0ms));
  push(queue, 1, 0);
  push(queue, 2, 9);
  push(queue, 3, -4);
  push(queue, 4, 9);
  EXPECT_EQ(drain(queue), (std::vector<int>{1, 2, 3, 4}));
}

// Pops from the middle while the ring wraps around: the items left keep their order.
TEST(PriorityQueue, KeepsOrderAcrossTheRingsWrapAround) {
  ItemQueue queue(4, PriorityOrder(1h));
  std::vector<int> popped;
  int next_id = 1;
  for (int round = 0; round < 6; ++round) {
    while (queue.size() < queue.capacity()) {
      const int id = next_id++;
      push(queue, id, id % 3 == 0 ? 1 : 0);
    }
    for (int i = 0; i < 2; ++i) popped.push_back(queue.pop()->id);
  }
  for (int id : drain(queue)) popped.push_back(id);
  // Each round tops the queue up to 4 and takes 2: priority 1 (multiples of 3) first, then the oldest.
  EXPECT_EQ(popped, (std::vector<int>{3, 1, 6, 2, 4, 5, 9, 7, 12, 8, 10, 11, 13, 14}));
}

TEST(PriorityQueue, ExtremePrioritiesAndAgingDoNotOverflow) {
  ItemQueue queue(4, PriorityOrder(std::chrono::hours(24 * 365 * 100)));
  push(queue, 1, INT_MIN, t0);
  push(queue, 2, 0, TimePoint{});
  push(queue, 3, INT_MAX, TimePoint::max());
  EXPECT_EQ(drain(queue), (std::vector<int>{3, 2, 1}));
}

TEST(BoundedQueue, WithoutPriorityTraitsIsAFifoThatDrainsAfterClose) {
  BoundedQueue<int> queue(3);
  for (int i : {5, 1, 4}) {
    int item = i;
    ASSERT_TRUE(queue.push(item));
  }
  int extra = 9;
  EXPECT_FALSE(queue.try_push(extra));  // full
  EXPECT_EQ(queue.pop(), 5);
  queue.close();
  EXPECT_FALSE(queue.push(extra));
  EXPECT_EQ(extra, 9);  // a refused item is left untouched
  EXPECT_EQ(queue.pop(), 1);
  EXPECT_EQ(queue.pop(), 4);
  EXPECT_EQ(queue.pop(), std::nullopt);
}

}  // namespace
}  // namespace conveyor
