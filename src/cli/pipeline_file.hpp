#pragma once
#include <string>

#include "conveyor/api/runtime.hpp"

namespace conveyor::cli {

// Runtime::load for a command that takes one pipeline file (`command`: "bench", "run", "profile",
// "simulate"): a deployment file given instead is refused with what the command can do with it — one of the
// pipeline files it names, or conveyor plan for the deployment.
PipelineConfig load_pipeline_file(const Runtime& runtime, const std::string& file,
                                  const std::string& command);

}  // namespace conveyor::cli
