#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/bench_report.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/performance_model.hpp"
#include "conveyor/runtime/pipeline.hpp"

namespace conveyor::cli {

struct BenchOptions {
  uint64_t requests = 500;
  uint64_t warmup = 50;
  int concurrency = 0;             // 0: 2 x the pipeline's workers
  std::optional<double> rate_rps;
  bool json = false;
  bool progress = true;
  std::function<void(const Result&)> on_result;  // every measured result (on a pipeline thread)
  const std::atomic<int>* stop = nullptr;        // LoadSpec::stop (an InterruptWatch's level)
};

// One request's tensors, by name.
using RequestTensors = std::map<std::string, Tensor>;

// Drives `pipeline` with requests that cycle through `requests` (their tensors shared, not copied).
LoadResult bench_pipeline(Pipeline& pipeline, const std::vector<RequestTensors>& requests,
                          const BenchOptions& options, BenchContext& context);
// ... each request one tensor `input_tensor`, cycling through `inputs`.
LoadResult bench_pipeline(Pipeline& pipeline, const std::vector<Tensor>& inputs, const std::string& input_tensor,
                          const BenchOptions& options, BenchContext& context);

// The load a bench with `options` put on a pipeline that ran as `metrics` says, as the models take it.
plan::Workload bench_workload(const BenchOptions& options, const PipelineConfig& config,
                              const PipelineMetrics& metrics);

std::vector<Tensor> read_input_tensors(const std::vector<std::string>& paths);

}  // namespace conveyor::cli
