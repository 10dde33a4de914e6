#include "api/predicted_performance.hpp"

#include <iterator>

#include "api/stage_profiles.hpp"
#include "conveyor/config/stage_runs.hpp"
#include "conveyor/plan/performance_model.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/plan/simulator.hpp"

namespace conveyor {

std::optional<Predictions> predict_configuration(const PipelineConfig& config, const PipelineMetrics& metrics,
                                                 const plan::ProfileStore& store,
                                                 const std::string& cpu_model, const plan::Workload& workload,
                                                 const std::optional<plan::Plan>& chosen) {
  const auto runs = stage_runs(config);
  if (metrics.stages.size() != runs.size()) return std::nullopt;
  std::vector<plan::ModelStage> stages;
  const std::vector<plan::ModelStage> planned =
      chosen ? chosen->model_stages() : std::vector<plan::ModelStage>{};
  for (std::size_t s = 0; s < runs.size(); ++s) {
    plan::ModelStage m;
    m.name = metrics.stages[s].name;
    m.workers = std::max(1, metrics.stages[s].workers);
    m.threads = std::max(1, metrics.stages[s].threads_per_worker);
    if (runs[s].size() == 1) {
      const auto entry =
          store.lookup(stage_identity(config, config.stages[runs[s][0]]), m.threads, cpu_model);
      if (!entry || entry->count() == 0) return std::nullopt;
      m.service = entry->service_time();
    } else {  // a merged run: its members' times add, as the planner adds them
      std::vector<plan::StageProfile> members;
      for (std::size_t i : runs[s]) {
        plan::StageProfile member;
        member.name = config.stages[i].name;
        for (const auto& entry :
             store.lookup_all_threads(stage_identity(config, config.stages[i]), cpu_model))
          if (entry.count() > 0) member.by_threads[entry.threads] = entry.service_time();
        if (!member.by_threads.count(1)) return std::nullopt;
        members.push_back(std::move(member));
      }
      const plan::StageProfile merged = plan::merge_profiles(members, 0, members.size());
      m.service = std::prev(merged.by_threads.upper_bound(m.threads))->second;
    }
    if (s < planned.size()) m.shared_group = planned[s].shared_group;
    stages.push_back(std::move(m));
  }
  Predictions p;
  p.workload = workload.describe();
  const plan::Prediction a = plan::predict(stages, workload);
  p.analytic = {a.throughput_rps, a.latency_p50_s * 1e3, a.latency_p99_s * 1e3};

  plan::SimOptions sim;
  sim.workload = workload;
  sim.in_order = config.options.ordering == Ordering::kInOrder;
  std::vector<plan::SimStage> sim_stages = plan::sim_stages(stages, config.options.queue_capacity);
  for (std::size_t s = 0; s < sim_stages.size(); ++s) {
    const StageConfig& stage = config.stages[runs[s][0]];
    if (const std::size_t q = stage.queue_capacity) sim_stages[s].queue_capacity = q;
    // A stage that batched (its metrics count batches: its operator does batch) is simulated so, each
    // batch size with its stored time; one never stored is taken as that many single requests.
    if (runs[s].size() == 1 && stage.batch.batches() && !metrics.stages[s].batches_by_size.empty())
      sim_stages[s].batch =
          stored_batching(config, stage, stage.batch, stages[s].threads, stages[s].service, store, cpu_model);
  }
  const plan::SimResult r = plan::simulate(sim_stages, sim);
  p.simulated = {r.throughput_rps, r.latency.p50 * 1e3, r.latency.p99 * 1e3};
  for (std::size_t s = 0; s < stages.size(); ++s)
    p.stages.push_back({stages[s].name, s < a.stages.size() ? a.stages[s].utilization : 0.0,
                        s < r.stages.size() ? r.stages[s].utilization : 0.0});
  return p;
}

}  // namespace conveyor
