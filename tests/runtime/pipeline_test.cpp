#include "conveyor/runtime/pipeline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <set>

#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using testing::sample_with_value;
using testing::sleep_ms;
using testing::unpinned_stage;
using testing::value_of;

TEST(Pipeline, StagesRunInSequenceOnEverySample) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("add1", [](Sample& s) { s.at("x").data<float>()[0] += 1; }));
  stages.push_back(unpinned_stage("times3", [](Sample& s) { s.at("x").data<float>()[0] *= 3; }));
  stages.push_back(unpinned_stage("copy", [](Sample& s) { s.tensors["y"] = s.at("x").clone(); }));
  Pipeline pipeline({}, std::move(stages));
  std::vector<std::future<Result>> futures;
  for (int i = 0; i < 50; ++i) futures.push_back(pipeline.submit(sample_with_value(i, static_cast<float>(i))));
  for (int i = 0; i < 50; ++i) {
    Result r = futures[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(r.ok()) << r.error->describe();
    EXPECT_EQ(value_of(r.sample, "y"), static_cast<float>((i + 1) * 3));
    EXPECT_EQ(r.sample.stage_times.size(), 3u);
    EXPECT_LE(r.sample.stage_times[0].finished, r.sample.stage_times[2].started);
  }
}

TEST(Pipeline, ReplicatedStageKeepsInputOrder) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("first", [](Sample&) {}));
  // Four replicas with random service times finish out of order; delivery must not.
  stages.push_back(unpinned_stage(
      "jittery",
      [](Sample& s) {
        thread_local std::mt19937 rng(static_cast<unsigned>(s.id));
        sleep_ms(std::uniform_real_distribution<double>(0, 2)(rng));
      },
      4));
  PipelineOptions options;
  options.ordering = Ordering::kInOrder;
  Pipeline pipeline(options, std::move(stages));
  std::mutex mutex;
  std::vector<uint64_t> delivered;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i)
    pipeline.submit(sample_with_value(i, 0), [&](Result&& r) {
      std::lock_guard lock(mutex);
      delivered.push_back(r.sample.id);
    });
  pipeline.wait_idle();
  ASSERT_EQ(delivered.size(), static_cast<std::size_t>(kRequests));
  for (int i = 0; i < kRequests; ++i) EXPECT_EQ(delivered[static_cast<std::size_t>(i)], static_cast<uint64_t>(i));
}

TEST(Pipeline, CompletionOrderDeliversEveryRequestOnce) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("jittery", [](Sample& s) { sleep_ms(s.id % 3 == 0 ? 2.0 : 0.0); }, 3));
  PipelineOptions options;
  options.ordering = Ordering::kCompletion;
  Pipeline pipeline(options, std::move(stages));
  std::mutex mutex;
  std::multiset<uint64_t> delivered;
  for (int i = 0; i < 100; ++i)
    pipeline.submit(sample_with_value(i, 0), [&](Result&& r) {
      std::lock_guard lock(mutex);
      delivered.insert(r.sample.id);
    });
  pipeline.wait_idle();
  ASSERT_EQ(delivered.size(), 100u);
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(delivered.count(i), 1u);
}

TEST(Pipeline, FastProducerIsHeldToMaxInFlight) {
  std::atomic<int> live{0}, peak{0};
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("slow", [](Sample&) { sleep_ms(0.5); }));
  PipelineOptions options;
  options.max_in_flight = 4;
  options.queue_capacity = 64;
  options.on_full = FullPolicy::kBlock;
  Pipeline pipeline(options, std::move(stages));
  for (int i = 0; i < 100; ++i) {
    const int now_live = ++live;  // admitted and not yet delivered
    int seen = peak.load();
    while (now_live > seen && !peak.compare_exchange_weak(seen, now_live)) {
    }
    pipeline.submit(sample_with_value(i, 0), [&](Result&&) { --live; });
  }
  pipeline.wait_idle();
  // The producer counts a request live just before submit returns, so it can be one ahead of the pipeline,
  // and a request's token is free just before its callback (which counts it dead) runs: one more.
  EXPECT_LE(peak.load(), static_cast<int>(options.max_in_flight) + 2);
  EXPECT_GE(peak.load(), 2);
  EXPECT_EQ(pipeline.metrics().completed, 100u);
}

TEST(Pipeline, FailFastWhenFull) {
  std::atomic<bool> release{false};
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("blocked", [&](Sample&) {
    while (!release) sleep_ms(0.2);
  }));
  PipelineOptions options;
  options.max_in_flight = 3;
  options.on_full = FullPolicy::kFail;
  Pipeline pipeline(options, std::move(stages));
  std::vector<std::future<Result>> admitted;
  for (int i = 0; i < 3; ++i) admitted.push_back(pipeline.submit(sample_with_value(i, 0)));
  EXPECT_THROW(pipeline.submit(sample_with_value(99, 0)), PipelineFullError);
  release = true;
  for (auto& f : admitted) EXPECT_TRUE(f.get().ok());
  EXPECT_NO_THROW(pipeline.submit(sample_with_value(100, 0)).get());
}

TEST(Pipeline, AFailingRequestFailsAloneWithStageAndMessage) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("parse", [](Sample& s) {
    if (s.id % 3 == 0) throw std::runtime_error("bad input " + std::to_string(s.id));
  }));
  std::atomic<int> later_runs{0};
  stages.push_back(unpinned_stage("after", [&](Sample&) { ++later_runs; }));
  Pipeline pipeline({}, std::move(stages));
  std::vector<std::future<Result>> futures;
  for (int i = 0; i < 30; ++i) futures.push_back(pipeline.submit(sample_with_value(i, 0)));
  for (int i = 0; i < 30; ++i) {
    Result r = futures[static_cast<std::size_t>(i)].get();
    EXPECT_EQ(r.sample.id, static_cast<uint64_t>(i));
    if (i % 3 == 0) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error->kind, RequestError::Kind::kOperator);
      EXPECT_EQ(r.error->stage, "parse");
      EXPECT_EQ(r.error->describe(), "stage 'parse': bad input " + std::to_string(i));
    } else {
      EXPECT_TRUE(r.ok());
    }
  }
  EXPECT_EQ(later_runs.load(), 20);
  const PipelineMetrics m = pipeline.metrics();
  EXPECT_EQ(m.failed, 10u);
  EXPECT_EQ(m.completed, 20u);
  EXPECT_EQ(m.stages[0].errors, 10u);
  EXPECT_EQ(m.stages[1].items, 20u);
}

TEST(Pipeline, ExpiredDeadlineFailsBeforeTheNextStage) {
  std::atomic<int> second_runs{0};
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("slow", [](Sample&) { sleep_ms(20); }));
  stages.push_back(unpinned_stage("second", [&](Sample&) { ++second_runs; }));
  Pipeline pipeline({}, std::move(stages));
  Sample late = sample_with_value(1, 0);
  late.deadline = Clock::now() + std::chrono::milliseconds(5);
  Sample relaxed = sample_with_value(2, 0);
  relaxed.deadline = Clock::now() + std::chrono::hours(1);
  auto late_result = pipeline.submit(std::move(late));
  auto relaxed_result = pipeline.submit(std::move(relaxed));
  Result r = late_result.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, RequestError::Kind::kDeadline);
  EXPECT_EQ(r.error->stage, "second");
  EXPECT_TRUE(relaxed_result.get().ok());
  EXPECT_EQ(second_runs.load(), 1);
}

TEST(Pipeline, DrainingShutdownFinishesEverythingInFlight) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("a", [](Sample&) { sleep_ms(0.3); }, 2));
  stages.push_back(unpinned_stage("b", [](Sample& s) { s.at("x").data<float>()[0] = 7; }));
  PipelineOptions options;
  options.max_in_flight = 32;
  Pipeline pipeline(options, std::move(stages));
  std::vector<std::future<Result>> futures;
  for (int i = 0; i < 32; ++i) futures.push_back(pipeline.submit(sample_with_value(i, 0)));
  pipeline.shutdown(ShutdownMode::kDrain);
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    Result r = f.get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(value_of(r.sample), 7);
  }
  EXPECT_THROW(pipeline.submit(sample_with_value(99, 0)), PipelineClosedError);
}

TEST(Pipeline, CancellingShutdownFailsWhatIsLeftExactlyOnce) {
  std::atomic<int> deliveries{0}, cancelled{0};
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("slow", [](Sample&) { sleep_ms(2); }));
  stages.push_back(unpinned_stage("tail", [](Sample&) {}));
  PipelineOptions options;
  options.max_in_flight = 40;
  options.queue_capacity = 40;
  Pipeline pipeline(options, std::move(stages));
  for (int i = 0; i < 40; ++i)
    pipeline.submit(sample_with_value(i, 0), [&](Result&& r) {
      ++deliveries;
      if (!r.ok() && r.error->kind == RequestError::Kind::kCancelled) ++cancelled;
    });
  pipeline.shutdown(ShutdownMode::kCancel);
  EXPECT_EQ(deliveries.load(), 40);
  EXPECT_GT(cancelled.load(), 20);  // 40 x 2 ms queued; shutdown comes long before they could all run
}

TEST(Pipeline, OperatorFactoryFailureIsAStartupErrorNamingTheStage) {
  StageSpec spec;
  spec.name = "model";
  spec.cores.kind = CoreSpec::Kind::kUnpinned;
  spec.factory = [](const WorkerContext&) -> std::unique_ptr<Operator> {
    throw std::runtime_error("cannot open model.onnx");
  };
  std::vector<StageSpec> stages;
  stages.push_back(std::move(spec));
  try {
    Pipeline pipeline({}, std::move(stages));
    FAIL() << "expected a startup error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("stage 'model' worker 0: cannot open model.onnx"), std::string::npos)
        << e.what();
  }
}

TEST(Pipeline, WorkerContextCarriesPlacementAndThreads) {
  std::mutex mutex;
  std::vector<WorkerContext> contexts;
  StageSpec spec;
  spec.name = "probe";
  spec.workers = 1;
  spec.cores.kind = CoreSpec::Kind::kIds;
  spec.cores.ids = {Topology::detect().cpus().front()};
  spec.factory = [&](const WorkerContext& c) {
    std::lock_guard lock(mutex);
    contexts.push_back(c);
    return make_operator([](Sample&) {})(c);
  };
  std::vector<StageSpec> stages;
  stages.push_back(std::move(spec));
  Pipeline pipeline({}, std::move(stages));
  ASSERT_EQ(contexts.size(), 1u);
  EXPECT_EQ(contexts[0].stage, "probe");
  EXPECT_EQ(contexts[0].cores, std::vector<int>{Topology::detect().cpus().front()});
  EXPECT_EQ(contexts[0].threads, 1);
}

TEST(Pipeline, MetricsCountItemsAndBusyTime) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("busy", [](Sample&) { sleep_ms(1); }));
  Pipeline pipeline({}, std::move(stages));
  for (int i = 0; i < 20; ++i) pipeline.submit(sample_with_value(i, 0));
  pipeline.wait_idle();
  const PipelineMetrics m = pipeline.metrics();
  ASSERT_EQ(m.stages.size(), 1u);
  EXPECT_EQ(m.stages[0].items, 20u);
  EXPECT_EQ(m.stages[0].service.count, 20u);
  EXPECT_GE(m.stages[0].service.p50_ms, 0.9);
  EXPECT_GE(m.stages[0].busy_seconds, 0.019);
  EXPECT_GT(m.stages[0].utilization, 0.0);
  EXPECT_LE(m.stages[0].utilization, 1.0);
  EXPECT_EQ(m.latency.count, 20u);
  EXPECT_GE(m.latency.max_ms, m.stages[0].service.p50_ms);
  pipeline.reset_metrics();
  EXPECT_EQ(pipeline.metrics().stages[0].items, 0u);
  EXPECT_EQ(pipeline.metrics().completed, 0u);
}

}  // namespace
}  // namespace conveyor
