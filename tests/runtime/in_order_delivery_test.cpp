// In-order delivery hands results to callbacks outside the reorder lock, one callback at a time, in order.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "conveyor/runtime/pipeline.hpp"
#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using testing::sample_with_value;
using testing::unpinned_stage;

// Request 0's callback waits until the stage has started request 3. Under the reorder lock that would never
// happen (the other worker would wait for the lock with request 1 instead of taking 2, then 3); outside it,
// the other worker parks 1 and goes on.
TEST(InOrderDelivery, ASlowCallbackDoesNotHoldUpTheStages) {
  std::mutex mutex;
  std::condition_variable changed;
  bool third_started = false;
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage(
      "work",
      [&](Sample& s) {
        if (s.id != 3) return;
        std::lock_guard lock(mutex);
        third_started = true;
        changed.notify_all();
      },
      2));
  Pipeline pipeline({}, std::move(stages));
  bool saw_third = false;
  std::vector<uint64_t> delivered;
  for (uint64_t id = 0; id < 6; ++id)
    pipeline.submit(sample_with_value(id, 0), [&](Result&& r) {
      if (r.sample.id == 0) {
        std::unique_lock lock(mutex);
        // A bound only so that a regression fails instead of hanging.
        saw_third = changed.wait_for(lock, std::chrono::seconds(30), [&] { return third_started; });
      }
      delivered.push_back(r.sample.id);
    });
  pipeline.wait_idle();
  EXPECT_TRUE(saw_third);
  EXPECT_EQ(delivered, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
}

TEST(InOrderDelivery, CallbacksRunOneAtATimeInSubmitOrderAndWaitIdleWaitsForThem) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage(
      "first", [](Sample&) {}, 3));
  stages.push_back(unpinned_stage(
      "second", [](Sample& s) { testing::sleep_ms(s.id % 5 == 0 ? 0.3 : 0); }, 3));
  Pipeline pipeline({}, std::move(stages));
  std::atomic<int> running{0}, overlapped{0};
  std::vector<uint64_t> delivered;
  constexpr uint64_t kRequests = 300;
  for (uint64_t id = 0; id < kRequests; ++id)
    pipeline.submit(sample_with_value(id, 0), [&](Result&& r) {
      if (running.fetch_add(1) != 0) ++overlapped;
      if (r.sample.id % 7 == 0) std::this_thread::yield();
      delivered.push_back(r.sample.id);
      running.fetch_sub(1);
    });
  pipeline.wait_idle();
  EXPECT_EQ(overlapped.load(), 0);
  ASSERT_EQ(delivered.size(), kRequests);  // every callback has returned
  for (uint64_t id = 0; id < kRequests; ++id) EXPECT_EQ(delivered[id], id);
}

}  // namespace
}  // namespace conveyor
