#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/plan/performance_model.hpp"
#include "conveyor/plan/service_time.hpp"
#include "conveyor/plan/simulator.hpp"
#include "conveyor/runtime/pipeline_spec.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor::plan {

enum class Objective { kThroughput, kLatency };
Objective parse_objective(const std::string& text);  // "throughput" | "latency"; throws otherwise
const char* objective_name(Objective objective);

// What is known about one stage: its service time at each profiled intra-op thread count.
struct StageProfile {
  std::string name;
  std::map<int, ServiceTime> by_threads;  // must hold t = 1; a count that cuts T by < 5% is not used
  bool parallel = true;                   // false: T(t) = T(1), so it only ever gets one thread
  // A server's front end (its protocol threads, planned as the pipeline's first stage) never shares a core
  // with a stage that runs a model, on a budget of two cores or more: a model's cores stay its own.
  enum class Role { kStage, kModel, kFrontEnd };
  Role role = Role::kStage;
  // Dynamic batching. `batch`: how the stage batches as written (max_size 1: it does not); with
  // `choose_batch` the planner chooses max_size (up to batch.max_size) and max_delay itself. `by_batch`: per
  // batch size above 1 and thread count, the time one run of a batch of that size takes (measured).
  BatchSpec batch{};
  bool choose_batch = false;
  std::map<int, std::map<int, ServiceTime>> by_batch{};
};

struct PlanRequest {
  std::vector<StageProfile> stages;
  // The budget: the physical cores these hardware-thread ids name, in topology order; `topology` groups
  // them into cores (null: each id is a core of its own). With `smt`, a worker runs on every hardware
  // thread of its cores, else on one per core.
  std::vector<int> cores;
  const Topology* topology = nullptr;
  bool smt = true;
  std::optional<double> rate_rps;   // expected Poisson arrivals; none: closed loop
  std::optional<int> concurrency;   // closed-loop load; default 2 x workers (throughput) or 1 (latency)
  std::optional<double> slo_p99_s;  // p99 latency at that load must not exceed this
  Objective objective = Objective::kThroughput;
  bool merge = true;                // may run consecutive stages merged on the same workers
  std::size_t max_in_flight = 64;   // the pipeline's admission tokens
  std::size_t queue_capacity = 16;  // each stage's input queue
  int finalists = 5;                // best analytic candidates confirmed by simulation
  uint64_t sim_requests = 20000;    // 0: no simulation, analytic numbers only
  uint64_t seed = 1;
};

// One planned stage: a pipeline stage, or a run of consecutive ones merged (named "a+b+c") whose workers
// run each member's operator in turn.
struct StagePlan {
  std::string name;
  std::vector<std::string> members;  // the pipeline stages it runs, in order (one unless merged)
  int workers = 1;
  int threads = 1;
  // Per worker: the hardware threads of its physical cores (contiguous in the budget's order), all of
  // them or one per core with smt off; a worker of t threads gets the fewest whole cores holding t.
  std::vector<std::vector<int>> worker_cores;
  bool share_cores = false;  // time-shares its core with other stages (budget < stages)
  ServiceTime service;       // T(threads)
  BatchSpec batch{};         // how it batches (max_size 1: one request at a time)

  std::vector<int> cores() const;  // every core of the stage
};

struct Plan {
  Objective objective = Objective::kThroughput;
  Workload workload;  // the load the predictions are for
  std::vector<StagePlan> stages;
  Prediction analytic;
  std::optional<SimResult> simulated;
  // Predicted numbers: simulated when the plan was confirmed by simulation, else analytic.
  double throughput_rps = 0;
  double capacity_rps = 0;  // saturation throughput (analytic)
  double p50_s = 0, p99_s = 0;
  std::string bottleneck;
  double bound_rps = 0;       // work-conserving bound: cores / sum_i T_i(1)
  double ratio_to_bound = 0;  // capacity / bound
  bool slo_met = true;
  int cores_used = 0;
  int cores_budget = 0;
  uint64_t configurations = 0;     // configurations the analytic model evaluated
  std::vector<std::string> notes;  // the decisions, in words

  std::vector<ModelStage> model_stages() const;
};

// Stages [begin, end) run one after the other by the same worker, as one profile named "a+b+c": times add
// at each thread count (a stage profiled at fewer threads, or not parallel, takes its time at the most
// threads it has a profile for). Its role is the front end's if a member is the front end, else a model's
// if a member runs one.
StageProfile merge_profiles(const std::vector<StageProfile>& stages, std::size_t begin, std::size_t end);

// Searches every configuration (workers r_i >= 1, threads t_i >= 1 from the profiled counts,
// sum r_i x ceil(t_i / hardware threads per core) <= physical cores) with the analytic model, pruning
// branches that cannot beat the best found, confirms the best `finalists` with the simulator and returns the
// winner with its predictions. Runs of consecutive stages may be merged into one planned stage (service times
// add): every way of merging is tried for up to 10 stages (beyond that: none, or all into one), so
// "whole-pipeline replicas" and "one worker on every core" are candidates too; with no gain, stages stay
// separate. With fewer cores than planned stages, they are grouped onto cores (every grouping is tried) and
// share them. With two cores or more, the front end is never merged or grouped with a model.
// Then batching (choose_batching.cpp): a stage that batches as written is simulated so; one whose batch the
// planner chooses gets the max_size and max_delay that simulate best at the load (none where it does not
// pay).
Plan make_plan(const PlanRequest& request);

// How the simulator runs `profile`'s stage batching as `spec` says at `threads`: each size's measured batch
// time; a size never measured there is taken as that many single requests (no gain) and listed in `guessed`.
SimBatch simulated_batch(const StageProfile& profile, int threads, const BatchSpec& spec,
                         std::vector<int>* guessed = nullptr);

}  // namespace conveyor::plan
