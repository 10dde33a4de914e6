#include "conveyor/runtime/exact_latency.hpp"

#include <algorithm>
#include <cmath>

namespace conveyor {

LatencySummary exact_latency_summary(std::vector<uint64_t>& nanos) {
  LatencySummary out;
  if (nanos.empty()) return out;
  std::sort(nanos.begin(), nanos.end());
  const std::size_t n = nanos.size();
  auto ms = [](uint64_t v) { return static_cast<double>(v) / 1e6; };
  auto rank = [&](double q) {
    const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
    return nanos[std::clamp<std::size_t>(r, 1, n) - 1];
  };
  long double sum = 0;
  for (const uint64_t v : nanos) sum += v;
  out.count = n;
  out.sum_ms = static_cast<double>(sum / 1e6L);
  out.mean_ms = out.sum_ms / static_cast<double>(n);
  out.p50_ms = ms(rank(0.50));
  out.p90_ms = ms(rank(0.90));
  out.p99_ms = ms(rank(0.99));
  out.max_ms = ms(nanos.back());
  for (std::size_t i = 0; i < kLatencyBoundsMs.size(); ++i) {
    const auto bound = static_cast<uint64_t>(kLatencyBoundsMs[i] * 1e6);
    out.at_most[i] =
        static_cast<uint64_t>(std::upper_bound(nanos.begin(), nanos.end(), bound) - nanos.begin());
  }
  return out;
}

}  // namespace conveyor
