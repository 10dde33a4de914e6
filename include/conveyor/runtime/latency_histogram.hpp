#pragma once
#include <array>
#include <atomic>
#include <cstdint>

namespace conveyor {

// The upper bounds, in milliseconds, of the cumulative counts a summary carries (histogram buckets for
// exporters such as Prometheus).
inline constexpr std::array<double, 18> kLatencyBoundsMs = {0.05, 0.1,  0.25, 0.5,  1,    2.5,  5,    10,   25,
                                                             50,   100,  250,  500,  1000, 2500, 5000, 10000, 30000};

// Percentiles of a duration sample set, in milliseconds.
struct LatencySummary {
  uint64_t count = 0;
  double mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  double sum_ms = 0;
  std::array<uint64_t, kLatencyBoundsMs.size()> at_most{};  // durations <= kLatencyBoundsMs[i]
};

// Lock-free log-linear histogram of durations in nanoseconds: 64 sub-buckets per power of two, a duration
// read back as its bucket's midpoint within kRelativeError (0.78%). record() is a few relaxed atomic adds,
// so the hot path can call it on every item and readers never block writers.
class LatencyHistogram {
 public:
  void record(uint64_t nanos);
  LatencySummary summary() const;
  void merge_into(LatencyHistogram& target) const;  // target += this (for per-worker -> per-stage)
  void reset();

  static constexpr int kSubBits = 6;
  static constexpr double kRelativeError = 1.0 / (2 << kSubBits);  // half a bucket's width
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
