#include "api/auto_plan.hpp"

#include <fmt/format.h>

#include "api/stage_profiles.hpp"

namespace conveyor {

plan::Plan apply_auto_plan(PipelineConfig& config, const StartOptions& start, plan::ProfileStore& store,
                           const Topology& machine, const std::function<void(const std::string&)>& note) {
  std::vector<int> threads;
  for (int t = 1; t <= machine.thread_count(); ++t) threads.push_back(t);
  plan::ProfileRunOptions run;
  run.requests = 50;
  run.warmup = 5;
  // Without inputs, a stage with no profile is a MissingProfilesError below.
  if (!start.profiling_inputs.empty())
    profile_missing_stages(
        config, start.profiling_inputs, threads, store, run,
        [&](const std::string& stage) {
          note(fmt::format(
              "plan: auto: stage '{}' has no stored profile on this CPU; profiling it at 1..{} thread(s), "
              "{} requests each",
              stage, machine.thread_count(), run.requests));
        },
        machine);

  PlanOptions options;  // the machine's cores, for throughput
  options.load = start.load;
  options.front_end = start.front_end;
  options.sim_requests = 5000;
  plan::Plan chosen = plan_pipeline(config, store, machine, options);
  apply_plan(config, chosen);

  note(fmt::format("plan: auto for '{}' on {} cores (objective throughput, {}): predicted {:.1f} req/s",
                   config.name, chosen.cores_budget, chosen.workload.describe(), chosen.throughput_rps));
  for (const auto& s : chosen.stages)
    note(fmt::format("plan:   {:<16} workers {}  threads {}  cores {}{}  (T {:.3f} ms)", s.name, s.workers,
                     s.threads, format_cpu_list(s.cores()), s.share_cores ? " shared" : "",
                     s.service.mean * 1e3));
  return chosen;
}

}  // namespace conveyor
