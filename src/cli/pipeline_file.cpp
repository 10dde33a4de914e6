#include "cli/pipeline_file.hpp"

#include "cli/stage_profiles.hpp"
#include "conveyor/config/stage_runs.hpp"


namespace conveyor::cli {

LoadedPipeline start_pipeline(PipelineConfig config) {
  config = expand_with_profiles(config);
  auto specs = fuse_stage_runs(config, build_stage_specs(config, builtin_operators()));
  LoadedPipeline loaded{std::move(config), nullptr};
  loaded.pipeline = std::make_unique<Pipeline>(loaded.config.options, std::move(specs));
  return loaded;
}

LoadedPipeline start_pipeline(const std::string& file) { return start_pipeline(load_pipeline_config(file)); }

}  // namespace conveyor::cli
