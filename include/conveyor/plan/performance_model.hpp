#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/plan/service_time.hpp"

namespace conveyor::plan {

// One stage of a configuration as the model sees it: r workers, each taking T = service(threads) per item.
struct ModelStage {
  std::string name;
  int workers = 1;
  int threads = 1;
  ServiceTime service;
  // Stages with the same group >= 0 time-share one core (the OS alternates their workers: processor
  // sharing). Such stages have one worker each.
  int shared_group = -1;
};

// The load: open loop (Poisson arrivals at rate_rps) or closed loop (`concurrency` requests always
// outstanding). Either way at most max_in_flight are admitted (0: no limit).
struct Workload {
  std::optional<double> rate_rps;
  int concurrency = 1;
  std::size_t max_in_flight = 0;

  static Workload open(double rate_rps, std::size_t max_in_flight = 0);
  static Workload closed(int concurrency, std::size_t max_in_flight = 0);
  std::string describe() const;  // "Poisson arrivals at 50 req/s" / "closed loop, 8 in flight"
};

struct StagePrediction {
  std::string name;
  double capacity_rps = 0;  // r / T (a shared group: 1 / its summed T)
  double utilization = 0;   // throughput / capacity
  double wait_s = 0;        // mean time queued before service
  double sojourn_s = 0;     // mean wait + service
};

struct Prediction {
  double throughput_rps = 0;
  double capacity_rps = 0;  // the most it can do: min over stages, and max_in_flight / sum T
  bool stable = true;       // open loop: the rate is below capacity (else latencies are infinite)
  std::size_t bottleneck = 0;
  double service_sum_s = 0;  // one request alone: sum of T
  double latency_mean_s = 0, latency_p50_s = 0, latency_p99_s = 0;
  std::vector<StagePrediction> stages;
};

// Throughput X = min_i r_i / T_i, capped by Little's law at N / sum T_i for N in flight. Open loop:
// per-stage M/G/c waits (Erlang C with the Allen-Cunneen (ca^2 + cs^2)/2 correction), the arrival
// variability carried stage to stage by Whitt's QNA departure formula, processor sharing T / (1 - rho) for
// stages sharing a core; the latency distribution is a gamma fitted to the summed means and variances.
// Closed loop: W = N / X (Little), with the queueing put at the bottleneck.
Prediction predict(const std::vector<ModelStage>& stages, const Workload& load);

// Time for a batch of n requests to pass through (fill and drain): sum T + (n - 1) x max T_i / r_i,
// i.e. (n + K - 1) x T for K balanced single-worker stages.
double batch_time(const std::vector<ModelStage>& stages, std::size_t n);

// Erlang C: probability that an arrival waits in an M/M/c queue with offered load a = lambda x T (< c).
double erlang_c(int servers, double offered_load);

// Mean wait in queue of a G/G/c stage (Allen-Cunneen): ErlangC / (c/T - lambda) x (ca2 + cs2) / 2.
double ggc_mean_wait(int servers, double mean_service, double arrival_rate, double ca2, double cs2);

}  // namespace conveyor::plan
