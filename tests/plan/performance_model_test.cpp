#include "conveyor/plan/performance_model.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace conveyor::plan {
namespace {

ModelStage stage(const std::string& name, ServiceTime t, int workers = 1) {
  ModelStage s;
  s.name = name;
  s.workers = workers;
  s.service = std::move(t);
  return s;
}

TEST(ErlangC, MatchesClosedFormsForOneAndTwoServers) {
  for (double rho : {0.1, 0.5, 0.9}) {
    EXPECT_NEAR(erlang_c(1, rho), rho, 1e-12);                            // M/M/1: P(wait) = rho
    EXPECT_NEAR(erlang_c(2, 2 * rho), 2 * rho * rho / (1 + rho), 1e-12);  // M/M/2
  }
  EXPECT_EQ(erlang_c(3, 0), 0);
  EXPECT_EQ(erlang_c(3, 3.5), 1);
}

TEST(PerformanceModel, MM1LatencyIsOneOverMuMinusLambda) {
  const double mu = 100, lambda = 70;  // 10 ms service, 70 req/s
  const Prediction p = predict({stage("s", ServiceTime::exponential(1 / mu))}, Workload::open(lambda));
  ASSERT_TRUE(p.stable);
  EXPECT_NEAR(p.latency_mean_s, 1 / (mu - lambda), 1e-12);
  // The M/M/1 sojourn time is exponential with rate mu - lambda.
  EXPECT_NEAR(p.latency_p50_s, std::log(2.0) / (mu - lambda), 0.02 * std::log(2.0) / (mu - lambda));
  EXPECT_NEAR(p.latency_p99_s, std::log(100.0) / (mu - lambda), 0.02 * std::log(100.0) / (mu - lambda));
  EXPECT_NEAR(p.stages[0].utilization, lambda / mu, 1e-12);
  EXPECT_NEAR(p.throughput_rps, lambda, 1e-12);
}

TEST(PerformanceModel, MD1WaitIsPollaczekKhinchine) {
  const double t = 0.004, lambda = 200;  // rho = 0.8
  const double rho = lambda * t;
  const Prediction p = predict({stage("s", ServiceTime::deterministic(t))}, Workload::open(lambda));
  EXPECT_NEAR(p.stages[0].wait_s, rho * t / (2 * (1 - rho)), 1e-12);
  EXPECT_NEAR(p.latency_mean_s, t + rho * t / (2 * (1 - rho)), 1e-12);
}

TEST(PerformanceModel, MMcWaitIsErlangCOverServiceRateGap) {
  const double t = 0.010, lambda = 250;  // 3 servers, a = 2.5
  const Prediction p = predict({stage("s", ServiceTime::exponential(t), 3)}, Workload::open(lambda));
  EXPECT_NEAR(p.stages[0].wait_s, erlang_c(3, 2.5) / (3 / t - lambda), 1e-12);
  EXPECT_NEAR(p.stages[0].utilization, lambda * t / 3, 1e-12);
}

TEST(PerformanceModel, TandemOfExponentialStagesIsAJacksonNetwork) {
  const double lambda = 50;
  const std::vector<ModelStage> stages{stage("a", ServiceTime::exponential(0.010)),
                                       stage("b", ServiceTime::exponential(0.015))};
  const Prediction p = predict(stages, Workload::open(lambda));
  EXPECT_NEAR(p.latency_mean_s, 1 / (100 - lambda) + 1 / (1 / 0.015 - lambda), 1e-9);
}

TEST(PerformanceModel, ThroughputIsTheSlowestStageAndLittlesLawCapsIt) {
  const std::vector<ModelStage> stages{stage("decode", ServiceTime::deterministic(0.001)),
                                       stage("model", ServiceTime::deterministic(0.003)),
                                       stage("post", ServiceTime::deterministic(0.001))};
  const Prediction many = predict(stages, Workload::closed(64));
  EXPECT_NEAR(many.throughput_rps, 1 / 0.003, 1e-9);
  EXPECT_EQ(many.bottleneck, 1u);
  EXPECT_NEAR(many.latency_mean_s, 64 * 0.003, 1e-9);  // Little: W = N / X
  const Prediction one = predict(stages, Workload::closed(1));
  EXPECT_NEAR(one.throughput_rps, 1 / 0.005, 1e-9);
  EXPECT_NEAR(one.latency_mean_s, 0.005, 1e-12);
  const Prediction tokens = predict(stages, Workload::closed(64, 1));  // max_in_flight 1
  EXPECT_NEAR(tokens.throughput_rps, 1 / 0.005, 1e-9);
  EXPECT_NEAR(tokens.latency_mean_s, 64 * 0.005, 1e-9);  // the client's 64 include those waiting for a token
  auto three = stages;
  three[1].workers = 3;
  const Prediction balanced = predict(three, Workload::closed(64));
  EXPECT_NEAR(balanced.throughput_rps, 1000, 1e-9);
  EXPECT_NEAR(balanced.stages[1].utilization, 1.0, 1e-12);
}

TEST(PerformanceModel, RateAboveCapacityIsUnstable) {
  const Prediction p = predict({stage("s", ServiceTime::deterministic(0.010))}, Workload::open(150));
  EXPECT_FALSE(p.stable);
  EXPECT_NEAR(p.throughput_rps, 100, 1e-9);
  EXPECT_TRUE(std::isinf(p.latency_p99_s));
}

TEST(PerformanceModel, StagesSharingACoreShareItsCapacity) {
  auto a = stage("a", ServiceTime::deterministic(0.001));
  auto b = stage("b", ServiceTime::deterministic(0.003));
  a.shared_group = b.shared_group = 0;
  const Prediction p = predict({a, b}, Workload::closed(16));
  EXPECT_NEAR(p.throughput_rps, 250, 1e-9);
  const Prediction open = predict({a, b}, Workload::open(125));  // core 50% busy
  EXPECT_NEAR(open.stages[1].sojourn_s, 0.003 / 0.5, 1e-12);     // processor sharing: T / (1 - rho)
}

TEST(PerformanceModel, BatchFillAndDrain) {
  const std::vector<ModelStage> balanced{stage("a", ServiceTime::deterministic(0.002)),
                                         stage("b", ServiceTime::deterministic(0.002)),
                                         stage("c", ServiceTime::deterministic(0.002))};
  EXPECT_NEAR(batch_time(balanced, 10), (10 + 3 - 1) * 0.002, 1e-12);
  EXPECT_NEAR(batch_time(balanced, 1), 0.006, 1e-12);
  EXPECT_EQ(batch_time(balanced, 0), 0);
}

TEST(PerformanceModel, RejectsBadInput) {
  EXPECT_THROW(predict({}, Workload::closed(1)), std::invalid_argument);
  EXPECT_THROW(predict({stage("s", ServiceTime::deterministic(0.001), 0)}, Workload::closed(1)),
               std::invalid_argument);
  EXPECT_THROW(predict({stage("s", ServiceTime::deterministic(0.001))}, Workload::open(-1)),
               std::invalid_argument);
  EXPECT_THROW(ServiceTime::deterministic(0), std::invalid_argument);
}

TEST(ServiceTimeTest, SamplesGiveMeanCvAndQuantiles) {
  const ServiceTime t = ServiceTime::from_samples({0.003, 0.001, 0.002, 0.004});
  EXPECT_NEAR(t.mean, 0.0025, 1e-15);
  EXPECT_NEAR(t.cv2, 1.25e-6 / (0.0025 * 0.0025), 1e-12);
  EXPECT_NEAR(t.quantile(0), 0.001, 1e-15);
  EXPECT_NEAR(t.quantile(1), 0.004, 1e-15);
  EXPECT_NEAR(t.quantile(0.5), 0.0025, 1e-15);
  EXPECT_THROW(ServiceTime::from_samples({}), std::invalid_argument);
  // Samples so large that their sum and squares overflow would make the mean and cv^2 inf or NaN.
  EXPECT_THROW(ServiceTime::from_samples({1e305, 1e305, 1e305}), std::invalid_argument);
  EXPECT_NO_THROW(ServiceTime::from_samples({ServiceTime::kMaxSeconds, 0}));
}

TEST(ServiceTimeTest, GammaQuantileOfAnExponential) {
  for (double q : {0.5, 0.9, 0.99})
    EXPECT_NEAR(gamma_quantile(1, 1, q), -std::log(1 - q), 0.02 * -std::log(1 - q));
  EXPECT_EQ(gamma_quantile(2, 0, 0.99), 2);
  EXPECT_NEAR(normal_quantile(0.975), 1.959964, 1e-6);
}

}  // namespace
}  // namespace conveyor::plan
