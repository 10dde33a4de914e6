#pragma once
#include <string>
#include <vector>

#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/plan/profile_store.hpp"

namespace conveyor::cli {

// Glue between pipeline files (config) and the plan layer, shared by `profile`, `plan` and `simulate`.

plan::StageIdentity stage_identity(const PipelineConfig& config, const StageConfig& stage);

// Intra-op threads each worker of the stage runs with, as the file configures it.
int configured_threads(const StageConfig& stage);

// Every stage's stored profiles on this CPU (all thread counts). Throws one error listing each stage
// without a 1-thread profile and the `conveyor profile` command that measures it.
std::vector<plan::StageProfile> load_stage_profiles(const PipelineConfig& config,
                                                    const plan::ProfileStore& store,
                                                    const std::string& cpu_model);

// "4" -> the first 4 usable cores (0..3 beyond the machine's size, for what-ifs); "0-3,6" -> those ids.
std::vector<int> parse_core_budget(const std::string& text);

// "1..4" | "1,2,4" | "2" -> sorted distinct thread counts >= 1.
std::vector<int> parse_thread_counts(const std::string& text);

std::string profile_command_hint(const PipelineConfig& config, const std::string& threads);

}  // namespace conveyor::cli
