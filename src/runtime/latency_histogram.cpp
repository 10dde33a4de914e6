#include "conveyor/runtime/latency_histogram.hpp"

#include <algorithm>
#include <bit>

namespace conveyor {

int LatencyHistogram::bucket_of(uint64_t nanos) {
  constexpr uint64_t kLinear = uint64_t{1} << (kSubBits + 1);
  if (nanos < kLinear) return static_cast<int>(nanos);
  const int exponent = std::bit_width(nanos) - 1;  // >= kSubBits + 1
  const int sub = static_cast<int>((nanos >> (exponent - kSubBits)) & ((1 << kSubBits) - 1));
  return static_cast<int>(kLinear) + ((exponent - kSubBits - 1) << kSubBits) + sub;
}

uint64_t LatencyHistogram::bucket_midpoint(int bucket) {
  constexpr int kLinear = 1 << (kSubBits + 1);
  if (bucket < kLinear) return static_cast<uint64_t>(bucket);
  const int exponent = ((bucket - kLinear) >> kSubBits) + kSubBits + 1;
  const uint64_t sub = static_cast<uint64_t>((bucket - kLinear) & ((1 << kSubBits) - 1));
  const uint64_t width = uint64_t{1} << (exponent - kSubBits);
  const uint64_t low = (uint64_t{1} << exponent) + sub * width;
  return low + width / 2;
}

void LatencyHistogram::record(uint64_t nanos) {
  counts_[static_cast<std::size_t>(bucket_of(nanos))].fetch_add(1, std::memory_order_relaxed);
  total_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(nanos, std::memory_order_relaxed);
  uint64_t seen = max_.load(std::memory_order_relaxed);
  while (nanos > seen && !max_.compare_exchange_weak(seen, nanos, std::memory_order_relaxed)) {
  }
}

LatencySummary LatencyHistogram::summary() const {
  LatencySummary s;
  std::array<uint64_t, kBuckets> counts;
  uint64_t total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) total += counts[i] = counts_[i].load(std::memory_order_relaxed);
  s.count = total;
  if (total == 0) return s;
  constexpr double kMs = 1e-6;
  const double max_ns = static_cast<double>(max_.load(std::memory_order_relaxed));
  s.max_ms = max_ns * kMs;
  s.sum_ms = static_cast<double>(sum_.load(std::memory_order_relaxed)) * kMs;
  s.mean_ms = s.sum_ms / static_cast<double>(total);
  // Buckets ascend: one pass hands each bucket's count to the first bound at or above it, then sums up.
  std::size_t bound = 0;
  for (int b = 0; b < kBuckets && bound < kLatencyBoundsMs.size(); ++b) {
    while (bound < kLatencyBoundsMs.size() && static_cast<double>(bucket_midpoint(b)) * kMs > kLatencyBoundsMs[bound])
      ++bound;
    if (bound < kLatencyBoundsMs.size()) s.at_most[bound] += counts[static_cast<std::size_t>(b)];
  }
  for (std::size_t i = 1; i < kLatencyBoundsMs.size(); ++i) s.at_most[i] += s.at_most[i - 1];
  auto percentile = [&](double q) {
    const auto rank = static_cast<uint64_t>(q * static_cast<double>(total - 1)) + 1;
    uint64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b) {
      seen += counts[static_cast<std::size_t>(b)];
      if (seen >= rank) return std::min(static_cast<double>(bucket_midpoint(b)), max_ns) * kMs;
    }
    return max_ns * kMs;
  };
  s.p50_ms = percentile(0.50);
  s.p90_ms = percentile(0.90);
  s.p99_ms = percentile(0.99);
  return s;
}

void LatencyHistogram::merge_into(LatencyHistogram& target) const {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    target.counts_[i].fetch_add(counts_[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  target.total_.fetch_add(total_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  target.sum_.fetch_add(sum_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  const uint64_t mine = max_.load(std::memory_order_relaxed);
  uint64_t seen = target.max_.load(std::memory_order_relaxed);
  while (mine > seen && !target.max_.compare_exchange_weak(seen, mine, std::memory_order_relaxed)) {
  }
}

void LatencyHistogram::reset() {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  total_.store(0, std::memory_order_relaxed);
  sum_.store(0, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

}  // namespace conveyor
