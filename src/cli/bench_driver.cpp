#include "cli/bench_driver.hpp"

#include <fmt/format.h>

#include "cli/inputs.hpp"
#include "cli/progress_bar.hpp"
#include "conveyor/runtime/load_generator.hpp"

namespace conveyor::cli {

std::vector<Tensor> read_input_tensors(const std::vector<std::string>& paths) {
  std::vector<Tensor> tensors;
  for (const auto& file : expand_inputs(paths)) tensors.push_back(sample_from_file(file, "bytes", 0).at("bytes"));
  return tensors;
}

plan::Workload bench_workload(const BenchOptions& bench, const PipelineConfig& config,
                              const PipelineMetrics& metrics) {
  if (bench.rate_rps) return plan::Workload::open(*bench.rate_rps, config.options.max_in_flight);
  int workers = 0;
  for (const auto& stage : metrics.stages) workers += stage.workers;
  return plan::Workload::closed(bench.concurrency > 0 ? bench.concurrency : 2 * workers,
                                config.options.max_in_flight);
}

LoadResult bench_pipeline(Pipeline& pipeline, const std::vector<RequestTensors>& requests,
                          const BenchOptions& options, BenchContext& context) {
  if (requests.empty()) throw std::runtime_error("bench needs at least one input");
  LoadSpec load;
  load.requests = options.requests;
  load.warmup = options.warmup;
  load.rate_rps = options.rate_rps;
  load.on_result = options.on_result;
  load.stop = options.stop;
  int workers = 0;
  for (const auto& stage : pipeline.placement()) workers += static_cast<int>(stage.size());
  load.concurrency = options.concurrency > 0 ? options.concurrency : 2 * workers;
  context.warmup = options.warmup;
  context.load = options.rate_rps ? fmt::format("open loop, Poisson arrivals at {:g} req/s", *options.rate_rps)
                                  : fmt::format("closed loop, concurrency {}", load.concurrency);
  ProgressBar progress("bench");
  if (options.progress) load.on_progress = [&](uint64_t done, uint64_t total) { progress.update(done, total); };
  LoadResult result = run_load(pipeline, load, [&](uint64_t i) {
    Sample sample;
    sample.id = i;
    sample.tensors = requests[i % requests.size()];
    return sample;
  });
  progress.finish();
  return result;
}

LoadResult bench_pipeline(Pipeline& pipeline, const std::vector<Tensor>& inputs, const std::string& input_tensor,
                          const BenchOptions& options, BenchContext& context) {
  std::vector<RequestTensors> requests;
  for (const auto& tensor : inputs) requests.push_back({{input_tensor, tensor}});
  return bench_pipeline(pipeline, requests, options, context);
}

}  // namespace conveyor::cli
