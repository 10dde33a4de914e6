#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "conveyor/runtime/pipeline.hpp"

namespace conveyor {

// How to drive a pipeline: closed loop (`concurrency` requests always outstanding) or open loop (Poisson
// arrivals at `rate_rps`).
struct LoadSpec {
  uint64_t requests = 1000;
  uint64_t warmup = 0;              // run first, excluded from every number
  int concurrency = 1;              // closed loop when rate_rps is empty
  std::optional<double> rate_rps;   // open loop
  uint64_t seed = 1;
  std::function<void(uint64_t done, uint64_t total)> on_progress;  // called from the driver thread
  // Called with every measured request's result, on a pipeline thread (keep it short).
  std::function<void(const Result& result)> on_result;
  // Read between requests and while waiting (set it from another thread or a signal handler): 1 stops
  // admitting and lets what is in flight finish; 2 also cancels what is in flight (those results are
  // errors of kind kCancelled). LoadResult::stopped says the load ended early.
  const std::atomic<int>* stop = nullptr;
};

inline constexpr std::size_t kMaxExactLatencies = 10'000'000;  // 80 MB of samples

struct LoadResult {
  uint64_t requests = 0;  // finished, with or without an error
  uint64_t errors = 0;
  uint64_t rejected = 0;  // refused at admission (on_full: fail with max_in_flight reached)
  double seconds = 0;
  double throughput_rps = 0;
  // Open loop: from each request's scheduled arrival (so a stalled submit counts against latency, no
  // coordinated omission); closed loop: from submit. Percentiles exact (nearest rank over every request)
  // up to kMaxExactLatencies requests, beyond them the histogram's (LatencyHistogram::kRelativeError).
  LatencySummary latency;
  bool exact_latency = true;
  PipelineMetrics pipeline;         // stage metrics over the measured requests only
  std::string first_error;          // one example, for the report
  std::string first_rejection;
  bool stopped = false;  // LoadSpec::stop ended the load before every request was offered
};

// Runs warmup + requests through the pipeline; make_sample(i) builds request i.
LoadResult run_load(Pipeline& pipeline, const LoadSpec& spec, const std::function<Sample(uint64_t)>& make_sample);

}  // namespace conveyor
