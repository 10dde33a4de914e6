// The simulator's batching stages (SimBatch): batches form as the runtime forms them, and the time a batch
// takes comes from its own size's profile.
#include <gtest/gtest.h>

#include "conveyor/plan/simulator.hpp"

namespace conveyor::plan {
namespace {

// One stage: 1 ms alone, a batch of 8 in 2 ms (a quarter of a millisecond per request), 4 in 1.5 ms.
SimStage batching_stage(double max_delay_s) {
  SimStage stage;
  stage.name = "model";
  stage.service = ServiceTime::deterministic(1e-3);
  stage.queue_capacity = 64;
  stage.batch.max_size = 8;
  stage.batch.max_delay_s = max_delay_s;
  stage.batch.sizes = {1, 4, 8};
  stage.batch.by_size = {{4, ServiceTime::deterministic(1.5e-3)}, {8, ServiceTime::deterministic(2e-3)}};
  return stage;
}

SimOptions options(Workload workload) {
  SimOptions o;
  o.workload = workload;
  o.requests = 4000;
  o.warmup = 400;
  return o;
}

TEST(SimulatorBatching, FullBatchesUnderClosedLoadRunAtTheBatchesRate) {
  SimStage plain = batching_stage(0);
  plain.batch = SimBatch{};
  const double alone = simulate({plain}, options(Workload::closed(16))).throughput_rps;
  const double batched = simulate({batching_stage(0)}, options(Workload::closed(16))).throughput_rps;
  EXPECT_NEAR(alone, 1000, 10);
  EXPECT_NEAR(batched, 4000, 100);  // 8 per 2 ms
}

TEST(SimulatorBatching, ALoneRequestWaitsMaxDelayThenRunsAlone) {
  // At 5 req/s requests come one by one: each waits the 3 ms for company that never comes, then 1 ms.
  const SimResult r = simulate({batching_stage(3e-3)}, options(Workload::open(5)));
  EXPECT_NEAR(r.latency.p50, 4e-3, 1e-4);
  const SimResult no_delay = simulate({batching_stage(0)}, options(Workload::open(5)));
  EXPECT_NEAR(no_delay.latency.p50, 1e-3, 1e-4);
}

TEST(SimulatorBatching, WhatABatchHoldsRunsInTheLargestSizesThatFit) {
  // Closed loop with 5 in flight and no delay: after the first request, batches of 5 form = 4 + 1, taking
  // 1.5 + 1 ms: 2000 req/s.
  const SimResult r = simulate({batching_stage(0)}, options(Workload::closed(5)));
  EXPECT_NEAR(r.throughput_rps, 2000, 60);
}

TEST(SimulatorBatching, BadBatchSizesAreRefused) {
  SimStage stage = batching_stage(0);
  stage.batch.sizes = {2, 8};
  EXPECT_THROW(simulate({stage}, options(Workload::closed(2))), std::invalid_argument);
}

}  // namespace
}  // namespace conveyor::plan
