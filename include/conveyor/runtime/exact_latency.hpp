#pragma once
// Latency percentiles computed exactly from every sample, not from a histogram's buckets: what a load
// generator reports (it holds every request's latency anyway), in process or against a server.
#include <cstdint>
#include <vector>

#include "conveyor/runtime/latency_histogram.hpp"

namespace conveyor {

// Sorts `nanos`; percentiles by nearest rank (p50 of 1..100 is 50, p99 is 99), max, mean, sum, and the
// cumulative counts at kLatencyBoundsMs.
LatencySummary exact_latency_summary(std::vector<uint64_t>& nanos);

}  // namespace conveyor
