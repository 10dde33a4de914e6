#include "conveyor/plan/simulator.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace conveyor::plan {
namespace {

SimStage stage(const std::string& name, ServiceTime t, int workers = 1, std::size_t queue = 0) {
  return {name, workers, std::move(t), queue, -1};
}

SimOptions open_loop(double rate, uint64_t requests) {
  SimOptions o;
  o.workload = Workload::open(rate);
  o.requests = requests;
  o.warmup = requests / 10;
  return o;
}

TEST(Simulator, MM1MeanLatencyMatchesTheory) {
  const double mu = 100, lambda = 60;
  SimOptions o = open_loop(lambda, 400000);
  o.in_order = false;
  const SimResult r = simulate({stage("s", ServiceTime::exponential(1 / mu))}, o);
  EXPECT_NEAR(r.latency.mean, 1 / (mu - lambda), 0.03 / (mu - lambda));
  EXPECT_NEAR(r.throughput_rps, lambda, 0.02 * lambda);
  EXPECT_NEAR(r.stages[0].utilization, lambda / mu, 0.02);
  EXPECT_NEAR(r.latency.p99, std::log(100.0) / (mu - lambda), 0.06 * std::log(100.0) / (mu - lambda));
}

TEST(Simulator, MD1WaitMatchesPollaczekKhinchine) {
  const double t = 0.002, lambda = 350;  // rho = 0.7
  const double rho = lambda * t;
  const SimResult r = simulate({stage("s", ServiceTime::deterministic(t))}, open_loop(lambda, 300000));
  EXPECT_NEAR(r.stages[0].wait.mean, rho * t / (2 * (1 - rho)), 0.04 * rho * t / (2 * (1 - rho)));
}

TEST(Simulator, DeterministicTwoStagePipelineRunsAtTheSlowerStage) {
  SimOptions o;
  o.workload = Workload::closed(8, 64);
  o.requests = 1000;
  o.warmup = 50;
  const SimResult r = simulate({stage("a", ServiceTime::deterministic(0.001), 1, 4),
                                stage("b", ServiceTime::deterministic(0.003), 1, 4)},
                               o);
  EXPECT_NEAR(r.throughput_rps, 1 / 0.003, 1e-6);
  EXPECT_NEAR(r.stages[1].utilization, 1.0, 1e-9);
  EXPECT_NEAR(r.stages[0].utilization, 1.0 / 3, 0.01);  // window edges: a few items of 1000
  // One at a time, a request takes the sum of the stages.
  o.workload = Workload::closed(1);
  const SimResult one = simulate(
      {stage("a", ServiceTime::deterministic(0.001)), stage("b", ServiceTime::deterministic(0.003))}, o);
  EXPECT_NEAR(one.throughput_rps, 1 / 0.004, 1e-6);
  EXPECT_NEAR(one.latency.max, 0.004, 1e-12);
}

TEST(Simulator, ClosedLoopObeysLittlesLaw) {
  SimOptions o;
  o.requests = 100000;
  o.warmup = 5000;
  for (int n : {1, 3, 12}) {
    o.workload = Workload::closed(n, 8);  // tokens below the concurrency: the wait for a token counts
    const SimResult r = simulate({stage("a", ServiceTime::with_cv2(0.002, 0.5), 2, 2),
                                  stage("b", ServiceTime::exponential(0.003), 1, 2),
                                  stage("c", ServiceTime::with_cv2(0.001, 2), 1, 2)},
                                 o);
    EXPECT_NEAR(r.throughput_rps * r.latency.mean, n, 0.01 * n) << "concurrency " << n;
  }
}

TEST(Simulator, ReplicasAddUpAndInOrderDeliveryHoldsBackOvertakers) {
  SimOptions o;
  o.workload = Workload::closed(16, 16);
  o.requests = 20000;
  const std::vector<SimStage> stages{stage("a", ServiceTime::deterministic(0.001)),
                                     stage("b", ServiceTime::with_cv2(0.003, 1), 3, 8),
                                     stage("c", ServiceTime::deterministic(0.001))};
  const SimResult in_order = simulate(stages, o);
  o.in_order = false;
  const SimResult any_order = simulate(stages, o);
  EXPECT_GT(in_order.throughput_rps, 0.8 * 1000);
  EXPECT_LE(in_order.throughput_rps, 1000 * 1.0001);
  EXPECT_LT(in_order.throughput_rps, any_order.throughput_rps * 1.0001);
}

TEST(Simulator, BlockingAfterServiceThrottlesTheFastStage) {
  SimOptions o;
  o.workload = Workload::closed(32, 32);
  o.requests = 2000;
  // A fast stage feeding a slow one through a queue of 1 cannot run ahead: it sits blocked.
  const SimResult r = simulate({stage("fast", ServiceTime::deterministic(0.001), 1, 1),
                                stage("slow", ServiceTime::deterministic(0.004), 1, 1)},
                               o);
  EXPECT_NEAR(r.throughput_rps, 250, 1e-6);
  EXPECT_NEAR(r.stages[0].utilization, 0.25, 0.01);
}

TEST(Simulator, SharedCoreTimeSlicesItsStages) {
  SimOptions o;
  o.workload = Workload::closed(8);
  o.requests = 2000;
  std::vector<SimStage> stages{stage("a", ServiceTime::deterministic(0.001), 1, 4),
                               stage("b", ServiceTime::deterministic(0.003), 1, 4)};
  stages[0].shared_group = stages[1].shared_group = 0;
  const SimResult r = simulate(stages, o);
  EXPECT_NEAR(r.throughput_rps, 250, 0.25);
}

TEST(Simulator, SameSeedSameResultOtherSeedOtherResult) {
  SimOptions o = open_loop(200, 5000);
  const std::vector<SimStage> stages{stage("a", ServiceTime::with_cv2(0.002, 0.7), 1, 8),
                                     stage("b", ServiceTime::from_samples({0.001, 0.002, 0.004}), 1, 8)};
  const SimResult a = simulate(stages, o), b = simulate(stages, o);
  EXPECT_EQ(a.latency.mean, b.latency.mean);
  EXPECT_EQ(a.latency.p99, b.latency.p99);
  o.seed = 2;
  EXPECT_NE(simulate(stages, o).latency.mean, a.latency.mean);
  o.sampling = Sampling::kLognormal;
  EXPECT_GT(simulate(stages, o).latency.mean, 0);
}

TEST(Simulator, EmpiricalSamplingDrawsOnlyMeasuredValues) {
  SimOptions o;
  o.workload = Workload::closed(1);
  o.requests = 500;
  const SimResult r = simulate({stage("s", ServiceTime::from_samples({0.001, 0.005}))}, o);
  EXPECT_GE(r.latency.p50, 0.001 - 1e-12);
  EXPECT_LE(r.latency.max, 0.005 + 1e-12);
  EXPECT_NEAR(r.latency.mean, 0.003, 0.0003);
}

TEST(Simulator, RejectsBadInput) {
  SimOptions o;
  EXPECT_THROW(simulate({}, o), std::invalid_argument);
  EXPECT_THROW(simulate({stage("s", ServiceTime::deterministic(1), 0)}, o), std::invalid_argument);
  o.workload = Workload::closed(0);
  EXPECT_THROW(simulate({stage("s", ServiceTime::deterministic(1))}, o), std::invalid_argument);
}

}  // namespace
}  // namespace conveyor::plan
