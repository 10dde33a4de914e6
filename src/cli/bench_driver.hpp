#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/bench_report.hpp"
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
};

// Drives `pipeline` with samples whose `input_tensor` cycles through `inputs` (shared, not copied).
LoadResult bench_pipeline(Pipeline& pipeline, const std::vector<Tensor>& inputs, const std::string& input_tensor,
                          const BenchOptions& options, BenchContext& context);

std::vector<Tensor> read_input_tensors(const std::vector<std::string>& paths);

}  // namespace conveyor::cli
