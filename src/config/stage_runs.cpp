#include "conveyor/config/stage_runs.hpp"

#include <stdexcept>

#include "conveyor/runtime/merged_stage.hpp"

namespace conveyor {

std::vector<std::vector<std::size_t>> stage_runs(const PipelineConfig& config) {
  std::vector<std::vector<std::size_t>> runs;
  for (std::size_t i = 0; i < config.stages.size(); ++i) {
    if (config.stages[i].with_previous && !runs.empty())
      runs.back().push_back(i);
    else
      runs.push_back({i});
  }
  return runs;
}

std::vector<StageSpec> merge_stage_runs(const PipelineConfig& config, std::vector<StageSpec> specs) {
  if (specs.size() != config.stages.size())
    throw std::logic_error("merge_stage_runs: " + std::to_string(specs.size()) + " specs for " +
                           std::to_string(config.stages.size()) + " stages");
  std::vector<StageSpec> merged;
  for (const auto& run : stage_runs(config)) {
    if (run.size() == 1) {
      merged.push_back(std::move(specs[run[0]]));
      continue;
    }
    std::vector<StageSpec> members;
    std::string name;
    for (std::size_t i : run) {
      name += (name.empty() ? "" : "+") + specs[i].name;
      members.push_back(specs[i]);
    }
    StageSpec spec = merge_stages(members, name);
    const StageSpec& head = specs[run[0]];
    spec.workers = head.workers;
    spec.cores = head.cores;
    spec.threads = head.threads;
    spec.queue_capacity = head.queue_capacity;
    merged.push_back(std::move(spec));
  }
  return merged;
}

}  // namespace conveyor
