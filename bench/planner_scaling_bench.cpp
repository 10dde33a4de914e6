// The planner on examples/image_preprocess.yaml: profiles its stages here (in-process, on generated JPEGs),
// prints the planned configuration and its predicted (analytic and simulated) numbers for 2..64 cores,
// then validates the prediction for this machine by running the planned pipeline for real.
// Usage: planner_scaling_bench [PIPELINE.yaml] (default examples/image_preprocess.yaml, from the repo root)
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstdio>

#include "bench_support.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/plan/profile_stage.hpp"
#include "conveyor/runtime/load_generator.hpp"
#include "conveyor/runtime/pipeline.hpp"

namespace {

using namespace conveyor;
using bench::planned_specs;
using bench::synthetic_jpegs;

std::string describe(const plan::Plan& p) {
  std::vector<std::string> parts;
  for (const auto& s : p.stages)
    parts.push_back(fmt::format("{} {}x{}{}", s.name, s.workers, s.threads, s.share_cores ? "s" : ""));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string file = argc > 1 ? argv[1] : "examples/image_preprocess.yaml";
  const PipelineConfig config = load_pipeline_config(file);
  const std::vector<StageSpec> specs = build_stage_specs(config, builtin_operators());
  const Topology& machine = Topology::detect();
  std::printf("pipeline '%s' (%zu stages) on %s\n\n", config.name.c_str(), specs.size(),
              machine.describe().c_str());

  // 1. Profiles: each stage at 1..machine threads, on the previous stage's outputs.
  std::vector<Sample> inputs;
  for (auto& t : synthetic_jpegs(16)) {
    Sample s;
    s.tensors["bytes"] = t;
    inputs.push_back(std::move(s));
  }
  plan::ProfileRunOptions run;
  run.requests = 300;
  run.warmup = 20;
  const std::vector<plan::StageProfile> profiles =
      bench::profile_stages(specs, std::move(inputs), machine.thread_count(), run);

  // 2. Plans for growing core budgets (thread counts beyond this machine's are not profiled: replicas only).
  std::printf("\n%5s  %-38s %10s %10s %8s %8s %10s %6s %8s %9s\n", "cores", "plan (workers x threads)",
              "capacity", "sim req/s", "p50 ms", "p99 ms", "bound", "ratio", "configs", "search ms");
  for (int cores : {1, 2, 4, 8, 16, 64}) {
    plan::PlanRequest request;
    request.stages = profiles;
    for (int c = 0; c < cores; ++c) request.cores.push_back(c);
    request.max_in_flight =
        std::max<std::size_t>(config.options.max_in_flight, 4 * static_cast<std::size_t>(cores));
    request.queue_capacity = config.options.queue_capacity;
    request.sim_requests = 20000;
    const auto t0 = std::chrono::steady_clock::now();
    const plan::Plan p = plan::make_plan(request);
    const double search_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%5d  %-38s %10.1f %10.1f %8.2f %8.2f %10.1f %6.2f %8llu %9.1f\n", cores, describe(p).c_str(),
                p.capacity_rps, p.throughput_rps, p.p50_s * 1e3, p.p99_s * 1e3, p.bound_rps, p.ratio_to_bound,
                static_cast<unsigned long long>(p.configurations), search_ms);
  }
  std::printf(
      "(max_in_flight raised to 4 x cores where the file's %zu would cap throughput; 's' = shares a core)\n",
      config.options.max_in_flight);

  // 3. Validation on this machine: predicted vs measured, closed loop and open loop at 70% of capacity.
  plan::PlanRequest request;
  request.stages = profiles;
  request.cores = machine.cpus();
  request.topology = &machine;
  request.max_in_flight = config.options.max_in_flight;
  request.queue_capacity = config.options.queue_capacity;
  const plan::Plan p = plan::make_plan(request);
  std::printf("\nvalidation on this machine (%d cores), plan: %s\n", machine.core_count(),
              describe(p).c_str());
  std::vector<Tensor> jpegs = synthetic_jpegs(16);
  auto measure = [&](const plan::Workload& load) {
    Pipeline pipeline(config.options, planned_specs(specs, p));
    LoadSpec spec;
    spec.requests = 3000;
    spec.warmup = 300;
    spec.rate_rps = load.rate_rps;
    spec.concurrency = load.concurrency;
    return run_load(pipeline, spec, [&](uint64_t i) {
      Sample s;
      s.id = i;
      s.tensors["bytes"] = jpegs[i % jpegs.size()];
      return s;
    });
  };
  std::printf("%-34s %12s %12s %12s   %s\n", "load", "req/s", "p50 ms", "p99 ms", "");
  const std::vector<plan::Workload> loads{
      p.workload, plan::Workload::open(0.7 * p.capacity_rps, config.options.max_in_flight)};
  for (const auto& load : loads) {
    plan::SimOptions sim;
    sim.workload = load;
    sim.requests = 20000;
    const plan::SimResult predicted =
        plan::simulate(plan::sim_stages(p.model_stages(), config.options.queue_capacity), sim);
    const plan::Prediction analytic = plan::predict(p.model_stages(), load);
    const LoadResult measured = measure(load);
    std::printf("%-34s %12.1f %12.2f %12.2f   analytic\n", load.describe().c_str(), analytic.throughput_rps,
                analytic.latency_p50_s * 1e3, analytic.latency_p99_s * 1e3);
    std::printf("%-34s %12.1f %12.2f %12.2f   simulated\n", "", predicted.throughput_rps,
                predicted.latency.p50 * 1e3, predicted.latency.p99 * 1e3);
    std::printf("%-34s %12.1f %12.2f %12.2f   measured\n", "", measured.throughput_rps,
                measured.latency.p50_ms, measured.latency.p99_ms);
    std::printf("%-34s %12.2f %12.2f %12.2f   measured / simulated\n", "",
                measured.throughput_rps / predicted.throughput_rps,
                measured.latency.p50_ms / (predicted.latency.p50 * 1e3),
                measured.latency.p99_ms / (predicted.latency.p99 * 1e3));
    // Shared machines drift: re-simulate with the service times the stages actually took during the run,
    // to separate a wrong model (this row is off too) from slower cores (this row matches the measurement).
    std::vector<plan::ModelStage> in_run = p.model_stages();
    std::string service;
    for (std::size_t i = 0; i < in_run.size(); ++i) {
      const double mean = measured.pipeline.stages[i].service.mean_ms * 1e-3;
      service += fmt::format(" {} {:.3f} ms (profiled {:.3f})", in_run[i].name, mean * 1e3,
                             in_run[i].service.mean * 1e3);
      in_run[i].service = plan::ServiceTime::with_cv2(mean, in_run[i].service.cv2);
    }
    const plan::SimResult again =
        plan::simulate(plan::sim_stages(in_run, config.options.queue_capacity), sim);
    std::printf("%-34s %12.1f %12.2f %12.2f   simulated with in-run service times:%s\n", "",
                again.throughput_rps, again.latency.p50 * 1e3, again.latency.p99 * 1e3, service.c_str());
  }
  std::printf(
      "(machine load average while running: see `uptime`; other processes on these cores slow the stages)\n");
  return 0;
}
