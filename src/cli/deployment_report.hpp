#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "conveyor/config/deployment_config.hpp"
#include "conveyor/plan/deployment.hpp"

namespace conveyor::cli {

// How `conveyor plan DEPLOYMENT.yaml` reports an allocation: one block per pipeline (cores, rate planned
// for, predicted throughput and p99, SLO, shed load, the per-stage plan, why), then totals.
// Width of the stage-name column of a plan's table: merged stages ("decode+preprocess") can be long.
std::size_t stage_name_width(const plan::Plan& plan);

std::string deployment_text(const DeploymentConfig& config, const plan::Deployment& deployment);

// {"deployment", "strategy", "cores_budget", "pipelines": [{"name", "priority", "cores", "rate_rps",
//   "slo_p99_ms", "forecast": {...} | null, "plan": {"stages": [{"name", "workers", "threads", "cores"}],
//   "notes"}, "predicted": {"throughput_rps", "capacity_rps", "latency_ms": {"p50", "p99"}}, "slo_met",
//   "shed_rps", "notes"}], "totals": {...}, "notes"}
nlohmann::json deployment_json(const DeploymentConfig& config, const plan::Deployment& deployment);

}  // namespace conveyor::cli
