// ResultQueue: results popped by a client thread instead of a callback per request.
#include "conveyor/runtime/result_queue.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using testing::sample_with_value;
using testing::unpinned_stage;

TEST(ResultQueue, OneThreadCollectsManyRequestsInSubmitOrder) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage(
      "jittery", [](Sample& s) { testing::sleep_ms(s.id % 4 == 0 ? 0.5 : 0); }, 3));
  Pipeline pipeline({}, std::move(stages));
  ResultQueue results;
  for (uint64_t id = 0; id < 60; ++id) pipeline.submit(sample_with_value(id, 0), results.callback());
  for (uint64_t id = 0; id < 60; ++id) {
    std::optional<Result> r = results.next();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->sample.id, id);  // Sample::id is the client's tag
  }
  EXPECT_FALSE(results.next(0ms).has_value());
  EXPECT_EQ(results.size(), 0u);
}

TEST(ResultQueue, NextReturnsNothingWhenNoResultCame) {
  ResultQueue results;
  EXPECT_FALSE(results.next(0ms).has_value());
  EXPECT_FALSE(results.next(1ms).has_value());
}

TEST(ResultQueue, CloseWakesAWaiterAndKeepsLaterResults) {
  ResultQueue results;
  std::thread waiter([&] { EXPECT_FALSE(results.next().has_value()); });
  results.close();
  waiter.join();
  ResultCallback put = results.callback();
  Result late;
  late.sample.id = 9;
  put(std::move(late));
  std::optional<Result> r = results.next();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->sample.id, 9u);
  EXPECT_FALSE(results.next().has_value());  // closed and empty: no wait
}

TEST(ResultQueue, ItsCallbackKeepsTheQueueAlive) {
  ResultCallback put;
  {
    ResultQueue results;
    put = results.callback();
  }
  put(Result{});  // nobody pops it, but nothing dangles
}

// The token is free before the result reaches the queue, so a client that refills as it pops, keeping
// max_in_flight requests outstanding, is never refused, even with a first queue smaller than that.
TEST(ResultQueue, AClientKeepingMaxInFlightOutstandingIsNeverRefused) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage(
      "a", [](Sample&) {}, 2));
  stages.push_back(unpinned_stage("b", [](Sample&) {}));
  PipelineOptions options;
  options.max_in_flight = 8;
  options.queue_capacity = 2;
  options.on_full = FullPolicy::kFail;
  Pipeline pipeline(options, std::move(stages));
  ResultQueue results;
  uint64_t next_id = 0, refused = 0;
  std::set<uint64_t> answered;
  for (; next_id < options.max_in_flight; ++next_id)
    if (!pipeline.try_submit(sample_with_value(next_id, 0), results.callback())) ++refused;
  while (answered.size() < 400) {
    std::optional<Result> r = results.next();
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(answered.insert(r->sample.id).second) << r->sample.id;
    if (next_id < 400 + options.max_in_flight) {
      if (next_id % 2 == 0) {
        if (!pipeline.try_submit(sample_with_value(next_id, 0), results.callback())) ++refused;
      } else {
        EXPECT_NO_THROW(pipeline.submit(sample_with_value(next_id, 0), results.callback()));
      }
      ++next_id;
    }
  }
  EXPECT_EQ(refused, 0u);
  pipeline.wait_idle();
}

}  // namespace
}  // namespace conveyor
