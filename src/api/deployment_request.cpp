#include "api/deployment_request.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "api/stage_profiles.hpp"
#include "conveyor/plan/arrival_history.hpp"

namespace conveyor {

plan::AllocationStrategy default_strategy(const DeploymentConfig& config) {
  const auto differs = [&](const DeploymentPipelineConfig& p) {
    return p.priority != config.pipelines.front().priority;
  };
  return std::any_of(config.pipelines.begin(), config.pipelines.end(), differs)
             ? plan::AllocationStrategy::kPriority
             : plan::AllocationStrategy::kHistory;
}

namespace {

plan::PipelineDemand demand(const DeploymentPipelineConfig& entry, const plan::ProfileStore& store,
                            const Topology& machine, const std::filesystem::path& segment_cache_dir,
                            plan::AllocationStrategy strategy) {
  const std::string& cpu_model = machine.cpu_model();
  const PipelineConfig pipeline =
      expand_with_profiles(entry.pipeline, store, cpu_model, segment_cache_dir, machine);
  plan::PipelineDemand d;
  d.name = pipeline.name;
  d.priority = entry.priority;
  if (entry.slo_p99_ms) d.slo_p99_s = *entry.slo_p99_ms * 1e-3;
  d.max_in_flight = pipeline.options.max_in_flight;
  d.queue_capacity = pipeline.options.queue_capacity;
  d.stages = load_stage_profiles(pipeline, store, cpu_model);

  const std::string history = entry.arrivals ? entry.arrivals->string() : "the profile store";
  d.arrivals = entry.arrivals ? plan::read_arrivals_csv(*entry.arrivals) : store.arrivals(pipeline.name);
  d.rate_rps = entry.rate_rps;
  if (strategy == plan::AllocationStrategy::kForecast && !d.arrivals.empty()) {
    d.notes.push_back(fmt::format("arrival history: {} arrivals from {}{}", d.arrivals.size(), history,
                                  entry.rate_rps ? "; rate_rps is not used: the forecast peak is" : ""));
  } else if (entry.rate_rps) {
    d.notes.push_back(fmt::format("rate: {:g} req/s expected (rate_rps)", *entry.rate_rps));
  } else {
    if (d.arrivals.empty())
      throw std::invalid_argument(fmt::format(
          "pipeline '{}' ({}) has no rate: set rate_rps in the deployment file, give it an arrivals CSV, or "
          "run or bench it so that its arrivals are recorded",
          pipeline.name, pipeline.file.string()));
    try {
      d.rate_rps = plan::mean_recorded_rate(d.arrivals);
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument("pipeline '" + pipeline.name + "': " + error.what());
    }
    d.notes.push_back(fmt::format("rate: {:.1f} req/s, the mean of {} recorded arrivals over {} run(s) in {}",
                                  *d.rate_rps, d.arrivals.size(), plan::split_runs(d.arrivals).size(),
                                  history));
  }
  return d;
}

}  // namespace

plan::DeploymentRequest deployment_request(const DeploymentConfig& config, const plan::ProfileStore& store,
                                           const Topology& machine, const std::filesystem::path& segment_cache_dir,
                                           plan::AllocationStrategy strategy) {
  plan::DeploymentRequest request;
  request.strategy = strategy;
  for (const auto& entry : config.pipelines)
    request.pipelines.push_back(demand(entry, store, machine, segment_cache_dir, strategy));
  return request;
}

}  // namespace conveyor
