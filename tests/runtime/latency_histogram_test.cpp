#include "conveyor/runtime/latency_histogram.hpp"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

TEST(LatencyHistogram, BucketsRoundTripWithinRelativeError) {
  EXPECT_LE(LatencyHistogram::kRelativeError, 0.01) << "the documented bound: 1%";
  for (uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 127ull, 128ull, 129ull, 1000ull, 123456ull, 987654321ull,
                     1ull << 50}) {
    const uint64_t mid = LatencyHistogram::bucket_midpoint(LatencyHistogram::bucket_of(v));
    EXPECT_LE(std::abs(static_cast<double>(mid) - static_cast<double>(v)),
              LatencyHistogram::kRelativeError * static_cast<double>(v) + 1)
        << v;
  }
  // Every duration in a range of octaves, not only chosen ones.
  for (uint64_t v = 1000; v < 4'000'000; v = v * 1001 / 1000 + 1) {
    const double mid = static_cast<double>(LatencyHistogram::bucket_midpoint(LatencyHistogram::bucket_of(v)));
    ASSERT_LE(std::abs(mid - static_cast<double>(v)), LatencyHistogram::kRelativeError * static_cast<double>(v) + 1)
        << v;
  }
  EXPECT_LT(LatencyHistogram::bucket_of(~uint64_t{0}), LatencyHistogram::kBuckets);
}

TEST(LatencyHistogram, PercentilesOfAUniformSample) {
  LatencyHistogram h;
  for (uint64_t ms = 1; ms <= 1000; ++ms) h.record(ms * 1'000'000);  // 1..1000 ms
  const LatencySummary s = h.summary();
  EXPECT_EQ(s.count, 1000u);
  EXPECT_NEAR(s.mean_ms, 500.5, 1e-6);
  EXPECT_NEAR(s.p50_ms, 500, 500 * LatencyHistogram::kRelativeError);
  EXPECT_NEAR(s.p90_ms, 900, 900 * LatencyHistogram::kRelativeError);
  EXPECT_NEAR(s.p99_ms, 990, 990 * LatencyHistogram::kRelativeError);
  EXPECT_DOUBLE_EQ(s.max_ms, 1000);
}

TEST(LatencyHistogram, MergeAddsCountsAndKeepsTheMax) {
  LatencyHistogram a, b, total;
  a.record(1'000'000);
  b.record(5'000'000);
  b.record(3'000'000);
  a.merge_into(total);
  b.merge_into(total);
  EXPECT_EQ(total.summary().count, 3u);
  EXPECT_DOUBLE_EQ(total.summary().max_ms, 5);
  total.reset();
  EXPECT_EQ(total.summary().count, 0u);
}

}  // namespace
}  // namespace conveyor
