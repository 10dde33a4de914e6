#include "conveyor/runtime/load_generator.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "test_pipelines.hpp"

namespace conveyor {
namespace {

using testing::sample_with_value;
using testing::sleep_ms;
using testing::unpinned_stage;

// More requests offered at once than the pipeline admits, with on_full: fail: the refused ones are
// counted as rejected, every admitted one finishes, and nothing outlives the driver.
TEST(LoadGenerator, CountsRequestsRefusedByAFullPipeline) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("slow", [](Sample&) { sleep_ms(2); }));
  PipelineOptions options;
  options.max_in_flight = 1;
  options.on_full = FullPolicy::kFail;
  Pipeline pipeline(options, std::move(stages));
  LoadSpec spec;
  spec.requests = 20;
  spec.concurrency = 4;
  const LoadResult r = run_load(pipeline, spec, [](uint64_t i) { return sample_with_value(i, 0); });
  EXPECT_GE(r.requests, 1u);
  EXPECT_GE(r.rejected, 1u);
  EXPECT_EQ(r.requests + r.rejected, 20u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_NE(r.first_rejection.find("full"), std::string::npos) << r.first_rejection;
}

// Percentiles are exact, from every request: one request in ten sleeps 30 ms, the rest none, so the p50
// is a fast request's latency, the p90 a fast one too (rank 18 of 20) and the p99 a slow one's.
TEST(LoadGenerator, PercentilesAreExactOverEveryRequest) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("bimodal", [](Sample& s) {
    if (s.id % 10 == 9) sleep_ms(30);
  }));
  Pipeline pipeline(PipelineOptions{}, std::move(stages));
  LoadSpec spec;
  spec.requests = 20;
  spec.concurrency = 1;
  const LoadResult r = run_load(pipeline, spec, [](uint64_t i) { return sample_with_value(i, 0); });
  EXPECT_TRUE(r.exact_latency);
  EXPECT_EQ(r.latency.count, 20u);
  EXPECT_LT(r.latency.p50_ms, 15.0);
  EXPECT_LT(r.latency.p90_ms, 15.0);
  EXPECT_GE(r.latency.p99_ms, 30.0);
  EXPECT_DOUBLE_EQ(r.latency.p99_ms, r.latency.max_ms);  // nearest rank: 99% of 20 is the 20th
}

// Up to max_in_flight outstanding is never refused: a request's token is free before its callback runs, so
// the next request, sent as soon as the result arrives, finds room.
TEST(LoadGenerator, ConcurrencyUpToMaxInFlightIsNeverRefused) {
  for (std::size_t max_in_flight : {1u, 2u}) {
    std::vector<StageSpec> stages;
    stages.push_back(unpinned_stage("quick", [](Sample&) {}));
    PipelineOptions options;
    options.max_in_flight = max_in_flight;
    options.on_full = FullPolicy::kFail;
    Pipeline pipeline(options, std::move(stages));
    LoadSpec spec;
    spec.requests = 200;
    spec.concurrency = static_cast<int>(max_in_flight);
    const LoadResult r = run_load(pipeline, spec, [](uint64_t i) { return sample_with_value(i, 0); });
    EXPECT_EQ(r.rejected, 0u) << "max_in_flight " << max_in_flight << ": " << r.first_rejection;
    EXPECT_EQ(r.requests, 200u);
  }
}

// A submit that throws something else (the pipeline was shut down) leaves through run_load only after
// the requests already admitted have called back.
TEST(LoadGenerator, AnotherSubmitErrorWaitsForAdmittedRequests) {
  std::vector<StageSpec> stages;
  std::atomic<int> finished{0};
  stages.push_back(unpinned_stage("slow", [&](Sample&) {
    sleep_ms(5);
    ++finished;
  }));
  Pipeline pipeline({}, std::move(stages));
  LoadSpec spec;
  spec.requests = 10;
  spec.concurrency = 3;
  EXPECT_THROW(run_load(pipeline, spec,
                        [&](uint64_t i) {
                          if (i == 4) throw std::runtime_error("no more samples");
                          return sample_with_value(i, 0);
                        }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 4);
}

// A stop request ends the load early: nothing more is offered, what was admitted finishes and is counted.
TEST(LoadGenerator, StopEndsTheLoadAfterWhatIsInFlight) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("work", [](Sample&) { sleep_ms(1); }));
  Pipeline pipeline({}, std::move(stages));
  std::atomic<int> stop{0};
  std::atomic<uint64_t> seen{0};
  LoadSpec spec;
  spec.requests = 1000;
  spec.concurrency = 2;
  spec.stop = &stop;
  spec.on_result = [&](const Result&) {
    if (++seen == 5) stop = 1;
  };
  const LoadResult r = run_load(pipeline, spec, [](uint64_t i) { return sample_with_value(i, 0); });
  EXPECT_TRUE(r.stopped);
  EXPECT_GE(r.requests, 5u);
  EXPECT_LE(r.requests, 5u + 2u);  // at most `concurrency` were in flight when it was set
  EXPECT_EQ(r.requests, seen.load());
  EXPECT_EQ(r.errors, 0u);

  stop = 0;
  spec.requests = 20;
  spec.on_result = nullptr;
  const LoadResult full = run_load(pipeline, spec, [](uint64_t i) { return sample_with_value(i, 0); });
  EXPECT_FALSE(full.stopped);
  EXPECT_EQ(full.requests, 20u);
}

// Set during warmup, it measures nothing.
TEST(LoadGenerator, StopDuringWarmupMeasuresNothing) {
  std::vector<StageSpec> stages;
  std::atomic<int> stop{0};
  stages.push_back(unpinned_stage("work", [&](Sample&) { stop = 1; }));
  Pipeline pipeline({}, std::move(stages));
  LoadSpec spec;
  spec.warmup = 50;
  spec.requests = 50;
  spec.stop = &stop;
  const LoadResult r = run_load(pipeline, spec, [](uint64_t i) { return sample_with_value(i, 0); });
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.requests, 0u);
}

}  // namespace
}  // namespace conveyor
