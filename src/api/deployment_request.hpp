#pragma once
#include <filesystem>

#include "conveyor/config/deployment_config.hpp"
#include "conveyor/plan/deployment.hpp"
#include "conveyor/plan/profile_store.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor {

// Glue between a deployment file and plan::allocate_deployment, behind Runtime::plan_deployment.

// Default strategy: priority when the pipelines' priorities differ, else history.
plan::AllocationStrategy default_strategy(const DeploymentConfig& config);

// Each pipeline's stage profiles (this CPU), limits, SLO, arrival history (its CSV, else the store's) and
// rate (rate_rps, else the mean rate recorded in its runs). Errors name the pipeline.
plan::DeploymentRequest deployment_request(const DeploymentConfig& config, const plan::ProfileStore& store,
                                           const Topology& machine, const std::filesystem::path& segment_cache_dir,
                                           plan::AllocationStrategy strategy);

}  // namespace conveyor
