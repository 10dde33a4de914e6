// The planner's batching (choose_batching): batch size and delay chosen from measured batch times under the
// load the plan is for, never where batching does not pay.
#include <gtest/gtest.h>

#include "conveyor/plan/planner.hpp"

namespace conveyor::plan {
namespace {

StageProfile fixed(const std::string& name, double ms) {
  StageProfile s;
  s.name = name;
  s.by_threads[1] = ServiceTime::deterministic(ms * 1e-3);
  return s;
}

// A model stage of 2 ms alone whose batches of 4 take 4 ms and of 8 take 6 ms (0.75 ms per request).
StageProfile batching_model(bool choose) {
  StageProfile s = fixed("encoder", 2);
  s.role = StageProfile::Role::kModel;
  s.choose_batch = choose;
  s.batch.max_size = 8;
  s.by_batch[4][1] = ServiceTime::deterministic(4e-3);
  s.by_batch[8][1] = ServiceTime::deterministic(6e-3);
  return s;
}

PlanRequest two_stages(StageProfile model) {
  PlanRequest request;
  request.stages = {fixed("tokenize", 0.2), std::move(model)};
  request.cores = {0, 1};
  request.merge = false;
  request.sim_requests = 4000;
  return request;
}

bool mentions(const Plan& plan, const std::string& text) {
  for (const auto& note : plan.notes)
    if (note.find(text) != std::string::npos) return true;
  return false;
}

TEST(PlannerBatching, UnderHeavyLoadItBatchesAndPredictsTheBatchesRate) {
  PlanRequest request = two_stages(batching_model(true));
  request.concurrency = 32;
  const Plan plan = make_plan(request);
  ASSERT_EQ(plan.stages.size(), 2u);
  const StagePlan& encoder = plan.stages[1];
  EXPECT_EQ(encoder.batch.max_size, 8) << plan.notes.back();
  EXPECT_GT(plan.throughput_rps, 1.2 * 500);  // unbatched: 500 req/s at most
  EXPECT_NEAR(plan.throughput_rps, 8 / 6e-3, 0.05 * 8 / 6e-3);
  EXPECT_TRUE(mentions(plan, "batch: auto chose batch up to 8")) << plan.notes.back();
  EXPECT_FALSE(plan.stages[0].batch.batches());
}

TEST(PlannerBatching, BatchingCanWinOverTheLayoutThatIsBestUnbatched) {
  // Unbatched, two replicas of the whole pipeline merged (2 x 1 / 2.2 ms = 909 req/s) beat a core per stage
  // (500 req/s); batched, a core per stage runs the encoder's batches of 8 at 1333 req/s.
  PlanRequest request = two_stages(batching_model(true));
  request.merge = true;
  request.concurrency = 32;
  const Plan plan = make_plan(request);
  ASSERT_EQ(plan.stages.size(), 2u) << plan.notes.back();
  EXPECT_EQ(plan.stages[1].batch.max_size, 8);
  EXPECT_NEAR(plan.throughput_rps, 8 / 6e-3, 0.05 * 8 / 6e-3);
  request.stages[1].choose_batch = false;
  request.stages[1].batch = BatchSpec{};
  const Plan unbatched = make_plan(request);
  ASSERT_EQ(unbatched.stages.size(), 1u) << "merged replicas are the best unbatched layout";
  EXPECT_LT(unbatched.throughput_rps, 0.75 * plan.throughput_rps);
}

TEST(PlannerBatching, AtLowLoadItDoesNotBatch) {
  PlanRequest request = two_stages(batching_model(true));
  request.rate_rps = 100;  // 20% of the unbatched capacity: waiting for company only adds latency
  const Plan plan = make_plan(request);
  EXPECT_FALSE(plan.stages[1].batch.batches()) << plan.notes.back();
  EXPECT_TRUE(mentions(plan, "chose no batching")) << plan.notes.back();
  PlanRequest unbatched = two_stages(fixed("encoder", 2));
  unbatched.rate_rps = 100;
  EXPECT_NEAR(plan.p99_s, make_plan(unbatched).p99_s, 1e-9);
}

TEST(PlannerBatching, ARateBeyondTheUnbatchedCapacityIsMetByBatching) {
  PlanRequest request = two_stages(batching_model(true));
  request.rate_rps = 800;  // unbatched: 500 req/s; batches of 8: 1333
  const Plan plan = make_plan(request);
  EXPECT_TRUE(plan.stages[1].batch.batches()) << plan.notes.back();
  EXPECT_TRUE(plan.slo_met);
  EXPECT_GE(plan.throughput_rps, 0.97 * 800);
}

TEST(PlannerBatching, UnderAnSloTheChosenBatchKeepsP99WithinIt) {
  // Closed loop, latency is N / X: the most throughput is also the lowest latency. Open loop it is not: a
  // long delay gathers bigger batches and holds requests longer; the choice must meet the SLO.
  PlanRequest request = two_stages(batching_model(true));
  request.rate_rps = 800;
  request.slo_p99_s = 15e-3;
  const Plan plan = make_plan(request);
  EXPECT_TRUE(plan.stages[1].batch.batches()) << plan.notes.back();
  EXPECT_TRUE(plan.slo_met) << plan.notes.back();
  EXPECT_LE(plan.p99_s, *request.slo_p99_s) << plan.notes.back();
}

TEST(PlannerBatching, BatchSizesNeverMeasuredAreSaidToBeGuessed) {
  StageProfile model = batching_model(false);
  model.batch.sizes = {1, 2, 4, 8};  // as written; 2 has no measured time
  PlanRequest request = two_stages(model);
  request.concurrency = 16;
  const Plan plan = make_plan(request);
  EXPECT_EQ(plan.stages[1].batch.max_size, 8);
  EXPECT_TRUE(mentions(plan, "batches of 2 were never measured")) << plan.notes.back();
}

TEST(PlannerBatching, AutoWithoutMeasuredBatchesDoesNotBatch) {
  StageProfile model = batching_model(true);
  model.by_batch.clear();
  PlanRequest request = two_stages(model);
  request.concurrency = 16;
  const Plan plan = make_plan(request);
  EXPECT_FALSE(plan.stages[1].batch.batches());
  EXPECT_TRUE(mentions(plan, "no batch size was measured")) << plan.notes.back();
}

}  // namespace
}  // namespace conveyor::plan
