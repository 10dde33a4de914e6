#pragma once
#include <optional>
#include <string>

#include "conveyor/config/deployment_config.hpp"
#include "conveyor/plan/deployment.hpp"
#include "conveyor/plan/profile_store.hpp"

namespace conveyor::cli {

// `conveyor plan DEPLOYMENT.yaml`: glue between a deployment file and plan::allocate_deployment.

// Default strategy: priority when the pipelines' priorities differ, else history.
plan::AllocationStrategy default_strategy(const DeploymentConfig& config);

// Each pipeline's stage profiles (this CPU), limits, SLO, arrival history (its CSV, else the store's) and
// rate (rate_rps, else the mean rate recorded in its runs). Errors name the pipeline.
plan::DeploymentRequest deployment_request(const DeploymentConfig& config, const plan::ProfileStore& store,
                                           const std::string& cpu_model, plan::AllocationStrategy strategy);

// The budget: `cores_option` (the --cores text) if given, else the file's, else this machine's cores.
std::vector<int> deployment_cores(const DeploymentConfig& config, const std::string& cores_option);

}  // namespace conveyor::cli
