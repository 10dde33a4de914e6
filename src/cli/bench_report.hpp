#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "conveyor/runtime/load_generator.hpp"

namespace conveyor::cli {

struct BenchContext {
  std::string pipeline;
  std::string load;       // "closed loop, concurrency 4" / "open loop, 200 req/s Poisson"
  uint64_t warmup = 0;
};

// The human report: totals, latency percentiles, then one row per stage and the bottleneck.
std::string format_bench_report(const BenchContext& context, const LoadResult& result);
nlohmann::json bench_report_json(const BenchContext& context, const LoadResult& result);

// The stage that limits throughput: the highest utilisation.
std::size_t bottleneck_stage(const PipelineMetrics& metrics);

}  // namespace conveyor::cli
