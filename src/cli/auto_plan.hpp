#pragma once
#include <optional>
#include <string>
#include <vector>

#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/tensor/tensor.hpp"

namespace conveyor::cli {

// The load `run`/`bench` will put on the pipeline, for the planner: none of both is the default closed loop.
struct PlannedLoad {
  std::optional<double> rate_rps;
  std::optional<int> concurrency;
};

// `plan: auto`: profiles every stage without a stored profile on `inputs` (saying so on stderr), plans
// over this machine's cores for throughput, writes the chosen workers/threads/cores into `config` and
// prints the plan to stderr, one line per stage. `plan: manual`: leaves `config` alone, returns nothing.
std::optional<plan::Plan> apply_auto_plan(PipelineConfig& config, const std::vector<Tensor>& inputs,
                                          const std::string& input_tensor, const PlannedLoad& load);

}  // namespace conveyor::cli
