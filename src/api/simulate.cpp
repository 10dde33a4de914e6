// Runtime::simulate: a pipeline file's stages (as written or planned) through the simulator and the
// analytic model.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

#include "api/stage_profiles.hpp"
#include "conveyor/api/errors.hpp"
#include "conveyor/api/runtime.hpp"
#include "conveyor/runtime/core_allocation.hpp"

namespace conveyor {
namespace {

// The stages as the file configures them, with the stored service time at their thread count.
std::vector<plan::ModelStage> configured_stages(const PipelineConfig& config, const Runtime& runtime,
                                                int budget) {
  std::vector<plan::ModelStage> stages;
  std::vector<std::string> missing, missing_names;
  int needed = 0;
  for (const auto& stage : config.stages) {
    plan::ModelStage m;
    m.name = stage.name;
    m.workers = stage.workers;
    m.threads = threads_per_worker(stage, runtime.topology());
    needed += cores_claimed(stage, runtime.topology());
    if (auto entry = runtime.stored_profile(config, stage, m.threads)) {
      m.service = entry->service_time();
    } else {
      missing.push_back(fmt::format("'{}' at {} thread{}", stage.name, m.threads, m.threads > 1 ? "s" : ""));
      missing_names.push_back(stage.name);
    }
    stages.push_back(std::move(m));
  }
  if (!missing.empty())
    throw MissingProfilesError(
        fmt::format("no profile on this CPU ({}) for stage {} of '{}'", runtime.topology().cpu_model(),
                    fmt::join(missing, ", "), config.name),
        config.file.string(), missing_names);
  if (needed > budget)
    throw BudgetExceededError(
        fmt::format("'{}' as written needs {} cores, the budget is {}: give its stages "
                    "fewer workers or cores, or simulate the planned configuration",
                    config.name, needed, budget));
  return stages;
}

}  // namespace

Simulation Runtime::simulate(const PipelineConfig& file_config, const SimulationOptions& options) const {
  const PipelineConfig config = expand(file_config);
  const std::vector<int> cores = options.cores.empty() ? topology().cpus() : options.cores;
  Simulation result;
  // For each simulated stage: the pipeline stage whose batching it runs (none when merged) and how.
  std::vector<std::pair<const StageConfig*, BatchSpec>> batching;
  if (options.planned) {
    PlanOptions plan_options;
    plan_options.cores = cores;
    plan_options.load = options.load;
    plan_options.sim_requests = 0;
    const plan::Plan chosen = plan(config, plan_options);
    result.stages = chosen.model_stages();
    for (const plan::StagePlan& stage : chosen.stages) {
      const auto it = std::find_if(config.stages.begin(), config.stages.end(),
                                   [&](const StageConfig& c) { return c.name == stage.name; });
      batching.emplace_back(stage.members.size() == 1 && it != config.stages.end() ? &*it : nullptr,
                            stage.batch);
    }
  } else {
    result.stages = configured_stages(config, *this, static_cast<int>(topology().cores_of(cores).size()));
    for (const StageConfig& stage : config.stages) batching.emplace_back(&stage, stage.batch);
  }
  int workers = 0;
  for (const auto& s : result.stages) workers += s.workers;
  const std::size_t max_in_flight = config.options.max_in_flight;
  result.workload =
      options.load.rate_rps
          ? plan::Workload::open(*options.load.rate_rps, max_in_flight)
          : plan::Workload::closed(options.load.concurrency.value_or(2 * workers), max_in_flight);
  plan::SimOptions sim;
  sim.workload = result.workload;
  sim.in_order = config.options.ordering == Ordering::kInOrder;
  sim.requests = options.requests;
  sim.warmup = std::max<uint64_t>(100, options.requests / 10);
  sim.seed = options.seed;
  std::vector<plan::SimStage> sim_stages = plan::sim_stages(result.stages, config.options.queue_capacity);
  for (std::size_t i = 0; i < sim_stages.size(); ++i) {
    if (config.stages[i].queue_capacity && !options.planned)
      sim_stages[i].queue_capacity = config.stages[i].queue_capacity;
    const auto& [stage, spec] = batching[i];
    if (!stage || !spec.batches()) continue;
    std::vector<int> guessed;
    sim_stages[i].batch =
        stored_batching(config, *stage, spec, result.stages[i].threads, result.stages[i].service, profiles(),
                        topology().cpu_model(), &guessed);
    if (!guessed.empty())
      result.notes.push_back(fmt::format(
          "stage '{}': batch{} of {} never measured at {} thread{}: taken as that many single requests (run "
          "`conveyor profile` on the pipeline; an operator that does not batch is never measured so)",
          stage->name, guessed.size() > 1 ? "es" : "", fmt::join(guessed, ", "), result.stages[i].threads,
          result.stages[i].threads > 1 ? "s" : ""));
  }
  result.simulated = plan::simulate(sim_stages, sim);
  for (const plan::SimStage& stage : sim_stages) result.batches.push_back(stage.batch);
  result.analytic = plan::predict(result.stages, result.workload);
  return result;
}

}  // namespace conveyor
