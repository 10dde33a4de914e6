#pragma once
// Merged stages: a stage with `with_previous: true` runs on the workers of the stage before it, right after
// it. The runtime sees one stage per run of merged stages.
#include <cstddef>
#include <vector>

#include "conveyor/config/pipeline_config.hpp"

namespace conveyor {

// The runtime's stages as runs of the file's stage indices: each run is a stage followed by every stage
// merged with it (with_previous), in order; stages merged with nothing are runs of one.
std::vector<std::vector<std::size_t>> stage_runs(const PipelineConfig& config);

// `specs` (build_stage_specs: one per stage of `config`) with each run of merged stages made one StageSpec,
// named "a+b+c", taking the run's first stage's workers, cores, threads and queue.
std::vector<StageSpec> merge_stage_runs(const PipelineConfig& config, std::vector<StageSpec> specs);

}  // namespace conveyor
