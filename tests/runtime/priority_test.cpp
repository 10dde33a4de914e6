// Pipeline stage queues serve higher Sample::priority first (PipelineOptions::priority_aging).
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "conveyor/runtime/pipeline.hpp"
#include "runtime/gate.hpp"
#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using testing::Gate;
using testing::unpinned_stage;

// One worker held on a gate by the first request while low-priority then high-priority requests queue
// behind it; returns the ids in the order they completed, leaving out request 0. A second stage, also one
// worker, checks that later stages' queues keep the order too (request 0, alone there at first, may be
// overtaken in it, hence left out).
std::vector<uint64_t> completion_order(std::chrono::milliseconds aging) {
  Gate gate;
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("held", [&](Sample& s) {
    if (s.id == 0) gate.pass();
  }));
  stages.push_back(unpinned_stage("next", [](Sample&) {}));
  PipelineOptions options;
  options.ordering = Ordering::kCompletion;
  options.priority_aging = aging;
  Pipeline pipeline(options, std::move(stages));

  std::mutex mutex;
  std::vector<uint64_t> order;
  auto submit = [&](uint64_t id, int priority) {
    Sample sample;
    sample.id = id;
    sample.priority = priority;
    pipeline.submit(std::move(sample), [&](Result&& result) {
      EXPECT_TRUE(result.ok()) << result.error->describe();
      std::lock_guard lock(mutex);
      if (result.sample.id != 0) order.push_back(result.sample.id);
    });
  };
  submit(0, 0);
  gate.wait_for_arrivals(1);  // the worker holds request 0; the rest wait in the first stage's queue
  for (uint64_t id : {1, 2, 3}) submit(id, 0);
  for (uint64_t id : {11, 12, 13}) submit(id, 2);
  submit(21, 1);
  gate.open();
  pipeline.wait_idle();
  return order;
}

TEST(PipelinePriority, HigherPriorityRequestsCompleteFirst) {
  // An hour per level: no wait in this test comes near it, so priority alone decides.
  EXPECT_EQ(completion_order(1h), (std::vector<uint64_t>{11, 12, 13, 21, 1, 2, 3}));
}

TEST(PipelinePriority, ZeroAgingServesInSubmitOrder) {
  EXPECT_EQ(completion_order(0ms), (std::vector<uint64_t>{1, 2, 3, 11, 12, 13, 21}));
}

TEST(PipelinePriority, RejectsNegativeAging) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("a", [](Sample&) {}));
  PipelineOptions options;
  options.priority_aging = -1ms;
  EXPECT_THROW(Pipeline(options, std::move(stages)), std::invalid_argument);
}

}  // namespace
}  // namespace conveyor
