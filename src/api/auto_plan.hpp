#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/api/runtime.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/planner.hpp"

namespace conveyor {

// `plan: auto`: profiles every stage of the expanded `config` without a stored profile on the start's
// profiling inputs (telling `note` about each), plans over the machine's cores for throughput under its
// load (with its front end as the first stage, if any), writes the chosen workers/threads/cores into
// `config` and tells `note` the plan, one line per stage.
plan::Plan apply_auto_plan(PipelineConfig& config, const StartOptions& start, plan::ProfileStore& store,
                           const Topology& machine, const std::function<void(const std::string&)>& note);

}  // namespace conveyor
