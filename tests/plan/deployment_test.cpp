#include "conveyor/plan/deployment.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

namespace conveyor::plan {
namespace {

using ::testing::HasSubstr;

StageProfile fixed(const std::string& name, double ms) {
  StageProfile s;
  s.name = name;
  s.by_threads[1] = ServiceTime::deterministic(ms * 1e-3);
  return s;
}

PipelineDemand pipeline(const std::string& name, int priority, std::optional<double> rate,
                        std::vector<double> stage_ms, std::optional<double> slo_ms = std::nullopt) {
  PipelineDemand p;
  p.name = name;
  p.priority = priority;
  p.rate_rps = rate;
  if (slo_ms) p.slo_p99_s = *slo_ms * 1e-3;
  for (std::size_t i = 0; i < stage_ms.size(); ++i)
    p.stages.push_back(fixed(name + ".s" + std::to_string(i), stage_ms[i]));
  return p;
}

std::vector<int> iota_cores(int n) {
  std::vector<int> cores(static_cast<std::size_t>(n));
  std::iota(cores.begin(), cores.end(), 0);
  return cores;
}

DeploymentRequest request(AllocationStrategy strategy, int cores, std::vector<PipelineDemand> pipelines) {
  DeploymentRequest r;
  r.strategy = strategy;
  r.cores = iota_cores(cores);
  r.pipelines = std::move(pipelines);
  r.sim_requests = 0;  // analytic: exact and fast
  return r;
}

std::string notes_of(const PipelineAllocation& a) {
  std::string all;
  for (const auto& n : a.notes) all += n + "\n";
  return all;
}

std::vector<double> steady(double rate, double seconds) {
  std::vector<double> t;
  for (int k = 0; k / rate < seconds; ++k) t.push_back(1.7e9 + k / rate);
  return t;
}

TEST(ProportionalShares, LargestRemainderAndAtLeastOne) {
  EXPECT_EQ(proportional_shares({3, 1}, 8, true), (std::vector<int>{6, 2}));
  EXPECT_EQ(proportional_shares({1, 1, 1}, 4, true), (std::vector<int>{2, 1, 1}));
  EXPECT_EQ(proportional_shares({100, 1, 1}, 3, true), (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(proportional_shares({100, 1, 1}, 3, false), (std::vector<int>{3, 0, 0}));
  EXPECT_EQ(proportional_shares({0, 0}, 3, false), (std::vector<int>{2, 1}));
  EXPECT_EQ(proportional_shares({2.5, 0.5}, 2, false), (std::vector<int>{2, 0}));
  EXPECT_THROW(proportional_shares({1, 1, 1}, 2, true), std::invalid_argument);
}

// Demands 100 req/s x 30 ms = 3 and 50 req/s x 20 ms = 1 core-seconds/s: 8 cores split 6 / 2.
TEST(Deployment, HistorySplitsCoresInProportionToDemand) {
  const Deployment d = allocate_deployment(request(
      AllocationStrategy::kHistory, 8, {pipeline("big", 1, 100, {10, 20}), pipeline("small", 5, 50, {20})}));
  ASSERT_EQ(d.pipelines.size(), 2u);
  const auto& big = d.pipelines[0];
  const auto& small = d.pipelines[1];
  EXPECT_EQ(big.cores, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(small.cores, (std::vector<int>{6, 7}));
  ASSERT_TRUE(big.plan && small.plan);
  EXPECT_DOUBLE_EQ(big.rate_rps, 100);
  EXPECT_TRUE(big.slo_met);
  EXPECT_TRUE(small.slo_met);
  EXPECT_EQ(big.shed_rps, 0);
  EXPECT_NEAR(big.plan->capacity_rps, 200, 1e-6);  // 2 x 10 ms and 4 x 20 ms workers
  EXPECT_THAT(notes_of(big), HasSubstr("75% of all demand"));
  EXPECT_EQ(d.cores_used(), 8);
}

// Both pipelines: one 10 ms stage (100 req/s per core). 'gold' at 250 req/s needs 3 cores, 'bronze' at
// 150 req/s needs 2.
std::vector<PipelineDemand> gold_and_bronze() {
  return {pipeline("bronze", 1, 150, {10}), pipeline("gold", 2, 250, {10}, 100)};
}

TEST(Deployment, PriorityMeetsTheImportantPipelineFirstAndTheOtherShedsTheRest) {
  const Deployment d = allocate_deployment(request(AllocationStrategy::kPriority, 4, gold_and_bronze()));
  const auto& bronze = d.pipelines[0];
  const auto& gold = d.pipelines[1];
  EXPECT_EQ(gold.cores.size(), 3u);
  EXPECT_TRUE(gold.slo_met);
  EXPECT_EQ(gold.shed_rps, 0);
  EXPECT_LE(gold.p99_s, 0.1);
  EXPECT_THAT(notes_of(gold), HasSubstr("fewest cores"));
  // Cores are contiguous in the file's order: bronze first.
  EXPECT_EQ(bronze.cores, (std::vector<int>{0}));
  EXPECT_EQ(gold.cores, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(bronze.slo_met);
  EXPECT_NEAR(bronze.shed_rps, 150 - 100, 1e-6);  // rate - capacity of one core
  EXPECT_THAT(notes_of(bronze), HasSubstr("cannot reach"));
  EXPECT_NEAR(d.shed_rps(), 50, 1e-6);
}

TEST(Deployment, PriorityLeavesNothingForTheLastWhenCoresRunOut) {
  const Deployment d = allocate_deployment(request(AllocationStrategy::kPriority, 3, gold_and_bronze()));
  EXPECT_EQ(d.pipelines[1].cores.size(), 3u);
  EXPECT_TRUE(d.pipelines[1].slo_met);
  EXPECT_TRUE(d.pipelines[0].cores.empty());
  EXPECT_FALSE(d.pipelines[0].plan);
  EXPECT_DOUBLE_EQ(d.pipelines[0].shed_rps, 150);
  EXPECT_THAT(notes_of(d.pipelines[0]), HasSubstr("sheds all"));
}

TEST(Deployment, PriorityGivesSpareCoresByDemandOnceAllAreMet) {
  const Deployment d = allocate_deployment(request(AllocationStrategy::kPriority, 6, gold_and_bronze()));
  // Fewest: gold 3, bronze 2; the spare core goes to the larger demand (2.5 vs 1.5 core-seconds/s).
  EXPECT_EQ(d.pipelines[1].cores.size(), 4u);
  EXPECT_EQ(d.pipelines[0].cores.size(), 2u);
  for (const auto& a : d.pipelines) {
    EXPECT_TRUE(a.slo_met) << a.name;
    EXPECT_EQ(a.shed_rps, 0) << a.name;
  }
}

TEST(Deployment, PriorityConfirmedBySimulation) {
  DeploymentRequest r = request(AllocationStrategy::kPriority, 4, gold_and_bronze());
  r.sim_requests = 20000;
  const Deployment d = allocate_deployment(r);
  EXPECT_EQ(d.pipelines[1].cores.size(), 3u);
  EXPECT_TRUE(d.pipelines[1].plan->simulated);
  EXPECT_TRUE(d.pipelines[1].slo_met);
  EXPECT_NEAR(d.pipelines[0].shed_rps, 50, 1e-6);
}

TEST(Deployment, ForecastPlansForThePeakAndSharesTheRestByDemand) {
  std::vector<PipelineDemand> pipelines = gold_and_bronze();
  pipelines[0].rate_rps.reset();
  pipelines[0].arrivals = steady(50, 60);
  pipelines[1].rate_rps.reset();
  pipelines[1].arrivals = steady(250, 60);
  const Deployment d = allocate_deployment(request(AllocationStrategy::kForecast, 6, pipelines));
  const auto& bronze = d.pipelines[0];
  const auto& gold = d.pipelines[1];
  ASSERT_TRUE(gold.forecast && bronze.forecast);
  EXPECT_NEAR(gold.rate_rps, 250, 250 * 0.03);
  EXPECT_NEAR(bronze.rate_rps, 50, 50 * 0.05);
  EXPECT_LT(gold.forecast->backtest_mape, 0.02);
  // Fewest: gold 3 (2 give 200 req/s), bronze 1; the 2 spare go by demand (2.5 : 0.5).
  EXPECT_EQ(gold.cores.size(), 5u);
  EXPECT_EQ(bronze.cores.size(), 1u);
  EXPECT_TRUE(gold.slo_met);
  EXPECT_TRUE(bronze.slo_met);
  EXPECT_THAT(notes_of(gold), HasSubstr("Holt forecast"));
}

TEST(Deployment, ForecastKeepsOneCoreForEveryLaterPipeline) {
  std::vector<PipelineDemand> pipelines = gold_and_bronze();
  pipelines[0].arrivals = steady(150, 60);
  pipelines[1].arrivals = steady(250, 60);
  const Deployment d = allocate_deployment(request(AllocationStrategy::kForecast, 3, pipelines));
  EXPECT_EQ(d.pipelines[1].cores.size(), 2u);  // gold cannot be met on the 2 it may take
  EXPECT_EQ(d.pipelines[0].cores.size(), 1u);
  EXPECT_GT(d.pipelines[1].shed_rps, 40);
  EXPECT_THAT(notes_of(d.pipelines[1]), HasSubstr("one kept for each pipeline after it"));
}

TEST(Deployment, ImpossibleRequestsAreErrorsNamingThePipeline) {
  const auto error_of = [](const DeploymentRequest& r) -> std::string {
    try {
      allocate_deployment(r);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_THAT(error_of(request(AllocationStrategy::kHistory, 0, gold_and_bronze())), HasSubstr("empty"));
  std::vector<PipelineDemand> three = gold_and_bronze();
  three.push_back(pipeline("tin", 0, 10, {1}));
  EXPECT_THAT(error_of(request(AllocationStrategy::kHistory, 2, three)),
              HasSubstr("3 pipelines and 2 cores"));
  EXPECT_EQ(error_of(request(AllocationStrategy::kPriority, 2, three)), "no error");
  std::vector<PipelineDemand> empty = gold_and_bronze();
  empty[0].stages.clear();
  EXPECT_THAT(error_of(request(AllocationStrategy::kHistory, 4, empty)),
              HasSubstr("'bronze' has no stage profiles"));
  std::vector<PipelineDemand> no_rate = gold_and_bronze();
  no_rate[1].rate_rps.reset();
  EXPECT_THAT(error_of(request(AllocationStrategy::kPriority, 4, no_rate)), HasSubstr("'gold' has no rate"));
  std::vector<PipelineDemand> short_history = gold_and_bronze();
  short_history[1].arrivals = {1, 2, 3};
  EXPECT_THAT(error_of(request(AllocationStrategy::kForecast, 4, short_history)),
              HasSubstr("pipeline 'gold': forecast: 3 arrival(s)"));
  EXPECT_THROW(parse_strategy("fair"), std::invalid_argument);
}

TEST(Deployment, SplitsAnSmtBudgetAtPhysicalCores) {
  const Topology smt = Topology::synthetic("package:1 core:4 pu:2");
  DeploymentRequest r =
      request(AllocationStrategy::kHistory, 8, {pipeline("a", 1, 100, {10}), pipeline("b", 1, 100, {10})});
  r.topology = &smt;
  const Deployment d = allocate_deployment(r);
  EXPECT_EQ(d.cores_budget, (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(d.pipelines[0].cores, (std::vector<int>{0, 2}));
  EXPECT_EQ(d.pipelines[0].hardware_threads, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(d.pipelines[1].hardware_threads, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(d.cores_used(), 4);
  ASSERT_TRUE(d.pipelines[1].plan);
  for (const auto& s : d.pipelines[1].plan->stages)
    for (int cpu : s.cores()) EXPECT_GE(cpu, 4) << "pipeline b's plan stays on its own cores";
}

}  // namespace
}  // namespace conveyor::plan
