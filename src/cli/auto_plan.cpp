#include "cli/auto_plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

#include "cli/stage_profiles.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor::cli {

std::optional<plan::Plan> apply_auto_plan(PipelineConfig& config, const std::vector<Tensor>& inputs,
                                          const std::string& input_tensor, const PlannedLoad& load) {
  if (config.plan != PlanMode::kAuto) return std::nullopt;
  const Topology& machine = Topology::detect();
  plan::ProfileStore store;
  // Plan the stages that will run: split stages become their segments first.
  config = expand_with_profiles(config, store, machine.cpu_model());

  std::vector<Sample> samples;
  for (const auto& tensor : inputs) {
    Sample s;
    s.tensors[input_tensor] = tensor;
    samples.push_back(std::move(s));
  }
  std::vector<int> threads;
  for (int t = 1; t <= machine.thread_count(); ++t) threads.push_back(t);
  plan::ProfileRunOptions run;
  run.requests = 50;
  run.warmup = 5;
  profile_missing_stages(config, std::move(samples), threads, store, run, [&](const std::string& stage) {
    std::fprintf(stderr,
                 "plan: auto: stage '%s' has no stored profile on this CPU; profiling it at 1..%d thread(s), "
                 "%llu requests each (as `conveyor profile` does)\n",
                 stage.c_str(), machine.thread_count(), static_cast<unsigned long long>(run.requests));
  });

  plan::PlanRequest request;
  request.stages = load_stage_profiles(config, store, machine.cpu_model());
  request.cores = machine.cpus();
  request.topology = &machine;
  request.smt = config.stages.front().cores.smt;
  request.rate_rps = load.rate_rps;
  request.concurrency = load.concurrency;
  request.objective = plan::Objective::kThroughput;
  request.max_in_flight = config.options.max_in_flight;
  request.queue_capacity = config.options.queue_capacity;
  request.sim_requests = 5000;
  plan::Plan chosen = plan::make_plan(request);
  apply_plan(config, chosen);

  std::fprintf(stderr, "plan: auto for '%s' on %d cores (objective throughput, %s): predicted %.1f req/s\n",
               config.name.c_str(), chosen.cores_budget, chosen.workload.describe().c_str(), chosen.throughput_rps);
  for (const auto& s : chosen.stages)
    std::fprintf(stderr, "plan:   %-16s workers %d  threads %d  cores %s%s  (T %.3f ms)\n", s.name.c_str(), s.workers,
                 s.threads, format_cpu_list(s.cores()).c_str(), s.share_cores ? " shared" : "", s.service.mean * 1e3);
  return chosen;
}

}  // namespace conveyor::cli
