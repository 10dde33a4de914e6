#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "conveyor/plan/performance_model.hpp"
#include "conveyor/plan/service_time.hpp"

namespace conveyor::plan {

// A batching stage, as the runtime's BatchSpec runs it: a worker that takes a request takes what else is
// queued, up to max_size, waits up to max_delay_s for more, then runs what it holds in batches of the
// largest `sizes` that fit, one after another, and hands every request on when all have run.
struct SimBatch {
  int max_size = 1;  // 1: no batching
  double max_delay_s = 0;
  std::vector<int> sizes;              // ascending, 1 first, max_size last
  std::map<int, ServiceTime> by_size;  // time of one batch run of each size above 1
};

struct SimStage {
  std::string name;
  int workers = 1;
  ServiceTime service;
  std::size_t queue_capacity = 16;  // input queue; 0 = unbounded
  int shared_group = -1;            // same group >= 0: one worker each, time-sharing one core
  SimBatch batch{};
};

// Where service times come from: the measured samples (resampled) when a stage has them, else a gamma
// (kEmpirical, kGamma) or lognormal (kLognormal) with the stage's mean and cv^2. cv^2 = 0 is deterministic.
enum class Sampling { kEmpirical, kGamma, kLognormal };

struct SimOptions {
  Workload workload = Workload::closed(1);  // max_in_flight: admission tokens (0 = unlimited)
  bool in_order = true;                     // deliver in arrival order (reorder buffer) holding tokens
  uint64_t requests = 20000;                // measured
  uint64_t warmup = 2000;                   // simulated first, not measured
  uint64_t seed = 1;
  Sampling sampling = Sampling::kEmpirical;
};

struct SimLatency {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;  // seconds
};

struct SimStageResult {
  std::string name;
  double utilization = 0;  // time in service / (workers x window)
  SimLatency wait;         // before service: from the previous stage's finish (or arrival), blocking included
  double requests_per_run = 1;  // a batching stage's mean batch (what one take held)
};

struct SimResult {
  uint64_t requests = 0;
  double seconds = 0;  // measurement window
  double throughput_rps = 0;
  SimLatency latency;  // arrival (an open loop's scheduled arrival) -> delivery
  std::vector<SimStageResult> stages;
};

// Discrete-event simulation of the runtime's pipeline: r_i workers per stage, bounded input queues (a
// worker that finished an item waits until the next queue has room), admission tokens, the reorder
// buffer, closed-loop or Poisson arrivals. Same inputs and seed, same result.
SimResult simulate(const std::vector<SimStage>& stages, const SimOptions& options);

// The model's stages with every queue at `queue_capacity`.
std::vector<SimStage> sim_stages(const std::vector<ModelStage>& stages, std::size_t queue_capacity);

}  // namespace conveyor::plan
