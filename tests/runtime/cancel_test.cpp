// cancel(): one request ends cancelled, once, before its next stage; the others are untouched.
#include <gtest/gtest.h>

#include <atomic>

#include "conveyor/runtime/pipeline.hpp"
#include "runtime/gate.hpp"
#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using testing::Gate;
using testing::sample_with_value;
using testing::unpinned_stage;

bool was_cancelled(const Result& r) {
  return r.error && r.error->kind == RequestError::Kind::kCancelled;
}

// Stage "first" holds request 1 at a gate; stage "second" counts what reaches it.
struct HeldPipeline {
  Gate gate;
  std::atomic<int> first_runs{0}, second_runs{0};
  std::unique_ptr<Pipeline> pipeline;

  explicit HeldPipeline(Ordering ordering = Ordering::kInOrder) {
    std::vector<StageSpec> stages;
    stages.push_back(unpinned_stage("first", [this](Sample& s) {
      if (s.id == 1) gate.pass();
      ++first_runs;
    }));
    stages.push_back(unpinned_stage("second", [this](Sample&) { ++second_runs; }));
    PipelineOptions options;
    options.ordering = ordering;
    pipeline = std::make_unique<Pipeline>(options, std::move(stages));
  }
};

TEST(Cancel, AQueuedRequestIsCancelledWithoutRunningAndOrderHolds) {
  HeldPipeline p;
  std::vector<uint64_t> delivered;  // callbacks run one at a time
  std::vector<Result> results(4);
  for (uint64_t id = 1; id <= 3; ++id)
    p.pipeline->submit(sample_with_value(id, 0), [&, id](Result&& r) {
      delivered.push_back(r.sample.id);
      results[id] = std::move(r);
    });
  p.gate.wait_for_arrivals(1);  // 1 is in "first"; 2 and 3 wait in its queue
  EXPECT_TRUE(p.pipeline->cancel(2));
  p.gate.open();
  p.pipeline->wait_idle();
  EXPECT_EQ(delivered, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(results[1].ok());
  ASSERT_FALSE(results[2].ok());
  EXPECT_EQ(results[2].error->kind, RequestError::Kind::kCancelled);
  EXPECT_EQ(results[2].error->stage, "first");
  EXPECT_TRUE(results[3].ok());
  EXPECT_EQ(p.first_runs.load(), 2);
  EXPECT_EQ(p.second_runs.load(), 2);
}

TEST(Cancel, ARunningStageFinishesTheItemAndTheNextStageIsSkipped) {
  HeldPipeline p;
  auto future = p.pipeline->submit(sample_with_value(1, 0));
  p.gate.wait_for_arrivals(1);
  EXPECT_TRUE(p.pipeline->cancel(1));
  p.gate.open();
  Result r = future.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, RequestError::Kind::kCancelled);
  EXPECT_EQ(r.error->stage, "second");
  EXPECT_EQ(p.first_runs.load(), 1);
  EXPECT_EQ(p.second_runs.load(), 0);
}

TEST(Cancel, DuringTheLastStageStillEndsCancelled) {
  Gate gate;
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("only", [&](Sample&) { gate.pass(); }));
  Pipeline pipeline({}, std::move(stages));
  auto future = pipeline.submit(sample_with_value(7, 0));
  gate.wait_for_arrivals(1);
  EXPECT_TRUE(pipeline.cancel(7));
  gate.open();
  Result r = future.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, RequestError::Kind::kCancelled);
  EXPECT_EQ(pipeline.metrics().failed, 1u);
}

TEST(Cancel, FinishedUnknownOrAlreadyCancelledRequestsReturnFalse) {
  HeldPipeline p;
  EXPECT_TRUE(p.pipeline->submit(sample_with_value(5, 0)).get().ok());
  EXPECT_FALSE(p.pipeline->cancel(5));
  EXPECT_FALSE(p.pipeline->cancel(99));
  auto held = p.pipeline->submit(sample_with_value(1, 0));
  p.gate.wait_for_arrivals(1);
  EXPECT_TRUE(p.pipeline->cancel(1));
  EXPECT_FALSE(p.pipeline->cancel(1));
  p.gate.open();
  EXPECT_TRUE(was_cancelled(held.get()));
}

TEST(Cancel, EveryRequestWithTheIdIsCancelled) {
  HeldPipeline p(Ordering::kCompletion);
  auto held = p.pipeline->submit(sample_with_value(1, 0));
  p.gate.wait_for_arrivals(1);
  auto twin_a = p.pipeline->submit(sample_with_value(2, 0));
  auto twin_b = p.pipeline->submit(sample_with_value(2, 0));
  auto other = p.pipeline->submit(sample_with_value(3, 0));
  EXPECT_TRUE(p.pipeline->cancel(2));
  p.gate.open();
  EXPECT_TRUE(held.get().ok());
  EXPECT_TRUE(was_cancelled(twin_a.get()));
  EXPECT_TRUE(was_cancelled(twin_b.get()));
  EXPECT_TRUE(other.get().ok());
}

}  // namespace
}  // namespace conveyor
