// try_submit: admission that never waits longer than asked, whatever the pipeline's FullPolicy.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "conveyor/runtime/pipeline.hpp"
#include "runtime/gate.hpp"
#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using testing::Gate;
using testing::sample_with_value;
using testing::unpinned_stage;

class TrySubmitWhenFull : public ::testing::TestWithParam<FullPolicy> {};

TEST_P(TrySubmitWhenFull, RefusesWithoutBlockingOrThrowing) {
  Gate gate;
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("held", [&](Sample&) { gate.pass(); }));
  PipelineOptions options;
  options.max_in_flight = 2;
  options.on_full = GetParam();
  Pipeline pipeline(options, std::move(stages));
  auto first = pipeline.try_submit(sample_with_value(1, 0));
  auto second = pipeline.try_submit(sample_with_value(2, 0));
  EXPECT_TRUE(first.has_value());
  EXPECT_TRUE(second.has_value());
  EXPECT_FALSE(pipeline.try_submit(sample_with_value(3, 0)).has_value());
  EXPECT_FALSE(pipeline.try_submit(sample_with_value(4, 0), 5ms).has_value());
  bool called = false;
  EXPECT_FALSE(pipeline.try_submit(sample_with_value(5, 0), [&](Result&&) { called = true; }));
  EXPECT_EQ(pipeline.metrics().in_flight, 2u);
  gate.open();
  if (first) {
    EXPECT_EQ(first->get().sample.id, 1u);
  }
  if (second) {
    EXPECT_EQ(second->get().sample.id, 2u);
  }
  pipeline.wait_idle();
  EXPECT_FALSE(called);  // a refused request is not answered: it was never admitted
}

INSTANTIATE_TEST_SUITE_P(EitherPolicy, TrySubmitWhenFull,
                         ::testing::Values(FullPolicy::kBlock, FullPolicy::kFail));

TEST(TrySubmit, WaitsForATokenThatFreesUp) {
  Gate gate;
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("held", [&](Sample& s) {
    if (s.id == 1) gate.pass();
  }));
  PipelineOptions options;
  options.max_in_flight = 1;
  Pipeline pipeline(options, std::move(stages));
  auto first = pipeline.submit(sample_with_value(1, 0));
  gate.wait_for_arrivals(1);
  std::thread opener([&] { gate.open(); });
  // Whenever the opener runs, the one token comes back long before an hour is up.
  auto second = pipeline.try_submit(sample_with_value(2, 0), std::chrono::hours(1));
  opener.join();
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(first.get().ok());
  EXPECT_EQ(second->get().sample.id, 2u);
}

TEST(TrySubmit, CallbackFormAnswersOnce) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("add1", [](Sample& s) { s.at("x").data<float>()[0] += 1; }));
  Pipeline pipeline({}, std::move(stages));
  std::atomic<int> answers{0};
  float value = 0;
  ASSERT_TRUE(pipeline.try_submit(sample_with_value(1, 41), [&](Result&& r) {
    value = testing::value_of(r.sample);
    ++answers;
  }));
  pipeline.wait_idle();
  EXPECT_EQ(answers.load(), 1);
  EXPECT_EQ(value, 42);
}

TEST(TrySubmit, AfterShutdownThrowsClosedAsSubmitDoes) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("noop", [](Sample&) {}));
  Pipeline pipeline({}, std::move(stages));
  pipeline.shutdown();
  EXPECT_THROW(pipeline.try_submit(sample_with_value(1, 0)), PipelineClosedError);
  EXPECT_THROW(pipeline.try_submit(
                   sample_with_value(1, 0), [](Result&&) {}, 1s),
               PipelineClosedError);
}

TEST(TrySubmit, AWaitingCallerIsReleasedByShutdown) {
  Gate gate;
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("held", [&](Sample&) { gate.pass(); }));
  PipelineOptions options;
  options.max_in_flight = 1;
  Pipeline pipeline(options, std::move(stages));
  auto held = pipeline.submit(sample_with_value(1, 0));
  gate.wait_for_arrivals(1);
  std::atomic<bool> closed{false};
  std::thread waiter([&] {
    try {
      pipeline.try_submit(sample_with_value(2, 0), std::chrono::hours(1));
    } catch (const PipelineClosedError&) {
      closed = true;
    }
  });
  // The only token stays held until the waiter is done, so shutdown is what ends its wait.
  std::thread stopper([&] { pipeline.shutdown(ShutdownMode::kCancel); });
  waiter.join();
  gate.open();
  stopper.join();
  EXPECT_TRUE(closed.load());
  EXPECT_TRUE(held.get().ok());  // it was running when shutdown came: it finishes its last stage
}

}  // namespace
}  // namespace conveyor
