#include "conveyor/runtime/load_generator.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace conveyor
