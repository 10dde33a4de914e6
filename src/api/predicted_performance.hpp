#pragma once
#include <optional>

#include "conveyor/api/predictions.hpp"
#include "conveyor/runtime/metrics.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/plan/profile_store.hpp"

namespace conveyor {

// What the analytic model and the simulator predict for the configuration a bench actually ran (each
// stage's workers and threads from `metrics`, its stored service time at that thread count) under
// `workload`. Nothing when a stage has no stored profile at its thread count. `chosen` (plan: auto) adds
// which stages time-share a core.
std::optional<Predictions> predict_configuration(const PipelineConfig& config, const PipelineMetrics& metrics,
                                                 const plan::ProfileStore& store, const std::string& cpu_model,
                                                 const plan::Workload& workload,
                                                 const std::optional<plan::Plan>& chosen);

}  // namespace conveyor
