#pragma once
#include <array>
#include <atomic>
#include <cstdint>

namespace conveyor {

// Percentiles of a duration sample set, in milliseconds.
struct LatencySummary {
  uint64_t count = 0;
  double mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

// Lock-free log-linear histogram of durations in nanoseconds: 8 sub-buckets per power of two (relative
// error <= 6.25%). record() is a few relaxed atomic adds, so the hot path can call it on every item and
// readers never block writers.
class LatencyHistogram {
 public:
  void record(uint64_t nanos);
  LatencySummary summary() const;
  void merge_into(LatencyHistogram& target) const;  // target += this (for per-worker -> per-stage)
  void reset();

  static constexpr int kSubBits = 3;
  static constexpr int kBuckets = (1 << (kSubBits + 1)) + ((64 - kSubBits - 1) << kSubBits);
  static int bucket_of(uint64_t nanos);
  static uint64_t bucket_midpoint(int bucket);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace conveyor
