#pragma once
#include <vector>

#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/runtime/pipeline_spec.hpp"

namespace conveyor {

// Checks, before a pipeline starts, that each stage can read what the stages before it say they write:
// for every input a stage declares (OperatorSignature) that an earlier stage declares as an output (the
// latest one writing that name), the dtypes agree, the dims agree where both fix them (same rank; -1 or an
// unknown rank matches anything), and an input needing a long enough last axis (min_last_dim: post.topk's
// k) gets one. `specs` are build_stage_specs(config): one per stage, in order. Throws ConfigError at the
// reading stage's line, naming both stages, the tensor and both shapes: what would otherwise fail every
// request.
void check_stage_signatures(const PipelineConfig& config, const std::vector<StageSpec>& specs);

// build_stage_specs, then check_stage_signatures: how the api builds every pipeline it runs or profiles.
std::vector<StageSpec> build_checked_stage_specs(const PipelineConfig& config,
                                                 const OperatorRegistry& registry);

}  // namespace conveyor
