#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "conveyor/api/predictions.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/runtime/load_generator.hpp"

namespace conveyor::cli {

struct BenchContext {
  std::string pipeline;
  std::string load;       // "closed loop, concurrency 4" / "open loop, 200 req/s Poisson"
  uint64_t warmup = 0;
  // bench --url: the server driven and how the client talks to it; the stage rows, when there are any,
  // are what the server's /metrics counted between the scrapes around the measured requests (no cores or
  // percentiles). Empty in-process.
  std::string url{};
  std::string client{};
  std::vector<AutoSplitChoice> auto_splits{};  // what split: auto chose at start-up (in-process)
  bool remote() const { return !url.empty(); }
};

// The human report: totals, latency percentiles, then one row per stage and the bottleneck.
// With `predicted`, the models' numbers are shown next to the measured ones ("predicted" in the JSON).
std::string format_bench_report(const BenchContext& context, const LoadResult& result,
                                const std::optional<Predictions>& predicted = std::nullopt);
nlohmann::json bench_report_json(const BenchContext& context, const LoadResult& result,
                                 const std::optional<Predictions>& predicted = std::nullopt);

// Predicted (analytic, simulated) vs measured throughput / p50 / p99 and measured / predicted.
std::string format_prediction_comparison(const Predictions& predicted, const LoadResult& result);

// The stage that limits throughput: the highest utilisation.
std::size_t bottleneck_stage(const PipelineMetrics& metrics);

}  // namespace conveyor::cli
