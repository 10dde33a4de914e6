#pragma once
#include <memory>
#include <string>

#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/runtime/pipeline.hpp"

namespace conveyor::cli {

struct LoadedPipeline {
  PipelineConfig config;
  std::unique_ptr<Pipeline> pipeline;
};

// Reads a pipeline file, builds its operators from the built-in registry and starts it.
LoadedPipeline start_pipeline(const std::string& file);
LoadedPipeline start_pipeline(PipelineConfig config);

}  // namespace conveyor::cli
