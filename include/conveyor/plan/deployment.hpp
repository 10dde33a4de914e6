#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/plan/load_forecast.hpp"
#include "conveyor/plan/planner.hpp"

namespace conveyor::plan {

// Static allocation of one machine's cores among several pipelines: each gets a disjoint, contiguous set
// of cores and a plan (make_plan) on it.
//
// Strategies:
//   history   cores in proportion to demand = recorded rate x sum of 1-thread service times (core-seconds
//             per second), largest remainder, at least 1 each.
//   forecast  each pipeline is planned for the peak of its forecast rate (load_forecast.hpp); in descending
//             priority each gets the fewest cores whose plan meets its SLO at that rate (keeping one core
//             for each pipeline after it); the cores left over go out in proportion to demand.
//   priority  in descending priority each gets the fewest cores that meet its SLO at its expected rate;
//             one that cannot be met gets every core left, and the pipelines after it get none (they shed
//             all their load). Cores left once every pipeline is met go out in proportion to demand.
// "Meets" means the plan keeps up with the rate (capacity above it) and, with an SLO, its p99 is within it.
enum class AllocationStrategy { kHistory, kForecast, kPriority };
AllocationStrategy parse_strategy(const std::string& text);  // "history" | "forecast" | "priority"
const char* strategy_name(AllocationStrategy strategy);

struct PipelineDemand {
  std::string name;
  int priority = 0;  // higher = more important
  std::optional<double> slo_p99_s;
  std::optional<double> rate_rps;  // expected (or recorded) load; history and priority need it
  std::vector<double> arrivals;    // sorted unix seconds; the forecast strategy needs them
  std::vector<StageProfile> stages;
  std::size_t max_in_flight = 64;
  std::size_t queue_capacity = 16;
  std::vector<std::string> notes;  // where the inputs came from (e.g. the recorded rate); reported first
};

struct DeploymentRequest {
  std::vector<PipelineDemand> pipelines;
  std::vector<int> cores;  // the budget: the physical cores these hardware-thread ids name, in topology order
  const Topology* topology = nullptr;  // groups `cores` into physical cores; null: each id is a core
  bool smt = true;                     // PlanRequest::smt of every pipeline's plan
  AllocationStrategy strategy = AllocationStrategy::kHistory;
  ForecastOptions forecast;
  uint64_t sim_requests = 20000;  // per confirming simulation (0: analytic model only)
  uint64_t seed = 1;
  bool merge = true;  // the pipelines' plans may merge consecutive stages (PlanRequest::merge)
};

struct PipelineAllocation {
  std::string name;
  int priority = 0;
  std::vector<int> cores;  // physical cores (PhysicalCore::id), contiguous in the budget's order; empty: none
  std::vector<int> hardware_threads;  // theirs
  double rate_rps = 0;     // the rate it was planned for
  std::optional<LoadForecast> forecast;
  std::optional<Plan> plan;  // none without cores
  double throughput_rps = 0;
  double p50_s = 0, p99_s = 0;  // infinite when it cannot keep up
  bool slo_met = false;
  double shed_rps = 0;             // rate - predicted capacity, when positive: load it cannot serve
  std::vector<std::string> notes;  // the allocation's decisions, in words (the plan has its own)
};

struct Deployment {
  AllocationStrategy strategy = AllocationStrategy::kHistory;
  std::vector<int> cores_budget;              // its physical cores (PhysicalCore::id)
  std::vector<PipelineAllocation> pipelines;  // in the request's order
  std::vector<std::string> notes;

  int cores_used() const;
  double shed_rps() const;
};

// Throws std::invalid_argument for impossible requests (no cores, a pipeline without stage profiles or
// without the rate or history its strategy needs, more pipelines than cores where each needs one), naming
// the pipeline.
Deployment allocate_deployment(const DeploymentRequest& request);

// Largest-remainder split of `total` in proportion to `weights` (>= 0, not all 0); with `at_least_one`, no
// share is 0 (taken from the shares most above their quota). Needs total >= weights.size() then.
std::vector<int> proportional_shares(const std::vector<double>& weights, int total, bool at_least_one);

}  // namespace conveyor::plan
