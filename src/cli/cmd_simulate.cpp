#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cli/cli_runtime.hpp"
#include "cli/commands.hpp"
#include "cli/json_text.hpp"
#include "cli/option_checks.hpp"
#include "cli/option_lists.hpp"
#include "conveyor/plan/simulator.hpp"
#include "conveyor/runtime/core_allocation.hpp"

namespace conveyor::cli {
namespace {

struct SimulateCommand {
  std::string pipeline;
  std::string cores;
  std::optional<double> rate_rps;
  std::optional<int> concurrency;
  uint64_t requests = 20000;
  uint64_t seed = 1;
  bool planned = false;
  bool json = false;
};

nlohmann::json number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

nlohmann::json latency_json(const plan::SimLatency& l) {
  return {{"mean", l.mean * 1e3},
          {"p50", l.p50 * 1e3},
          {"p90", l.p90 * 1e3},
          {"p99", l.p99 * 1e3},
          {"max", l.max * 1e3}};
}

// The stages as the pipeline file configures them, with the stored service time at their thread count.
std::vector<plan::ModelStage> configured_stages(const PipelineConfig& config, const Runtime& runtime, int budget) {
  const std::string& cpu = runtime.topology().cpu_model();
  std::vector<plan::ModelStage> stages;
  std::vector<std::string> missing;
  int needed = 0;
  for (const auto& stage : config.stages) {
    plan::ModelStage m;
    m.name = stage.name;
    m.workers = stage.workers;
    m.threads = threads_per_worker(stage, runtime.topology());
    needed += cores_claimed(stage, runtime.topology());
    if (auto entry = runtime.stored_profile(config, stage, m.threads))
      m.service = entry->service_time();
    else
      missing.push_back(fmt::format("'{}' at {} thread{}", stage.name, m.threads, m.threads > 1 ? "s" : ""));
    stages.push_back(std::move(m));
  }
  if (!missing.empty()) {
    std::vector<int> counts;
    for (const auto& s : stages) counts.push_back(s.threads);
    std::sort(counts.begin(), counts.end());
    counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
    const std::string threads = fmt::format("{}", fmt::join(counts, ","));
    throw std::runtime_error(
        fmt::format("no profile on this CPU ({}) for stage {} of '{}'.\nMeasure {} first:\n  {}", cpu,
                    fmt::join(missing, ", "), config.name, missing.size() > 1 ? "them" : "it",
                    profile_command_hint(config.file.string(), threads)));
  }
  if (needed > budget)
    throw std::runtime_error(
        fmt::format("'{}' as written needs {} cores, the budget is {}: lower workers/cores in "
                    "the file, or simulate the planned configuration with --planned",
                    config.name, needed, budget));
  return stages;
}

void run(const SimulateCommand& o) {
  const Runtime& runtime = cli_runtime();
  const PipelineConfig config = runtime.expand(runtime.load(o.pipeline));
  const std::vector<int> cores = o.cores.empty() ? runtime.topology().cpus() : parse_core_budget(o.cores);

  std::vector<plan::ModelStage> stages;
  if (o.planned) {
    PlanOptions options;
    options.cores = cores;
    options.load.rate_rps = o.rate_rps;
    options.load.concurrency = o.concurrency;
    options.sim_requests = 0;
    stages = with_profile_hint([&] { return runtime.plan(config, options); }).model_stages();
  } else {
    stages = configured_stages(config, runtime, static_cast<int>(runtime.topology().cores_of(cores).size()));
  }
  int workers = 0;
  for (const auto& s : stages) workers += s.workers;
  plan::SimOptions sim;
  sim.workload =
      o.rate_rps ? plan::Workload::open(*o.rate_rps, config.options.max_in_flight)
                 : plan::Workload::closed(o.concurrency.value_or(2 * workers), config.options.max_in_flight);
  sim.in_order = config.options.ordering == Ordering::kInOrder;
  sim.requests = o.requests;
  sim.warmup = std::max<uint64_t>(100, o.requests / 10);
  sim.seed = o.seed;
  std::vector<plan::SimStage> sim_stages = plan::sim_stages(stages, config.options.queue_capacity);
  for (std::size_t i = 0; i < sim_stages.size(); ++i)
    if (config.stages[i].queue_capacity && !o.planned)
      sim_stages[i].queue_capacity = config.stages[i].queue_capacity;
  const plan::SimResult r = plan::simulate(sim_stages, sim);
  const plan::Prediction a = plan::predict(stages, sim.workload);

  if (o.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t i = 0; i < stages.size(); ++i)
      rows.push_back(
          {{"name", stages[i].name},
           {"workers", stages[i].workers},
           {"threads", stages[i].threads},
           {"shared_core", stages[i].shared_group >= 0},
           {"service_ms", stages[i].service.mean * 1e3},
           {"utilization", r.stages[i].utilization},
           {"wait_ms", {{"mean", r.stages[i].wait.mean * 1e3}, {"p99", r.stages[i].wait.p99 * 1e3}}}});
    const nlohmann::json out{{"pipeline", config.name},
                             {"configuration", o.planned ? "planned" : "as written"},
                             {"cores", cores.size()},
                             {"load", sim.workload.describe()},
                             {"simulated",
                              {{"requests", r.requests},
                               {"throughput_rps", r.throughput_rps},
                               {"latency_ms", latency_json(r.latency)},
                               {"stages", rows}}},
                             {"analytic",
                              {{"throughput_rps", a.throughput_rps},
                               {"capacity_rps", a.capacity_rps},
                               {"bottleneck", stages[a.bottleneck].name},
                               {"latency_ms",
                                {{"mean", number(a.latency_mean_s * 1e3)},
                                 {"p50", number(a.latency_p50_s * 1e3)},
                                 {"p99", number(a.latency_p99_s * 1e3)}}}}}};
    std::printf("%s\n", json_text(out, 2).c_str());
    return;
  }
  std::printf("simulated '%s' (%s) on %zu cores, %s, %llu requests\n\n", config.name.c_str(),
              o.planned ? "planned configuration" : "as written", cores.size(),
              sim.workload.describe().c_str(), static_cast<unsigned long long>(r.requests));
  std::printf("  %-16s %7s %7s %9s %6s %12s %11s\n", "stage", "workers", "threads", "T ms", "busy",
              "wait mean ms", "wait p99 ms");
  for (std::size_t i = 0; i < stages.size(); ++i)
    std::printf("  %-16s %7d %7d %9.3f %5.0f%% %12.3f %11.3f%s\n", stages[i].name.c_str(), stages[i].workers,
                stages[i].threads, stages[i].service.mean * 1e3, r.stages[i].utilization * 100,
                r.stages[i].wait.mean * 1e3, r.stages[i].wait.p99 * 1e3,
                stages[i].shared_group >= 0 ? "  (shares a core)" : "");
  std::printf("\nsimulated: %.1f req/s, latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              r.throughput_rps, r.latency.p50 * 1e3, r.latency.p90 * 1e3, r.latency.p99 * 1e3,
              r.latency.max * 1e3);
  std::printf("analytic:  %.1f req/s (capacity %.1f), p50 %.2f ms, p99 %.2f ms; bottleneck %s\n",
              a.throughput_rps, a.capacity_rps, a.latency_p50_s * 1e3, a.latency_p99_s * 1e3,
              stages[a.bottleneck].name.c_str());
}

}  // namespace

void add_simulate_command(CLI::App& app) {
  auto o = std::make_shared<SimulateCommand>();
  CLI::App* cmd = app.add_subcommand(
      "simulate", "Predict a pipeline's throughput and latency by simulating it with its stored profiles");
  cmd->add_option("pipeline", o->pipeline, "Pipeline file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--cores", o->cores,
                  "Core budget: a count (4) or core ids (0-3,6); default: this machine's");
  auto* rate =
      cmd->add_option("-r,--rate", o->rate_rps, "Open loop: Poisson arrivals at this many requests/s")
          ->check(positive_number());
  cmd->add_option("-c,--concurrency", o->concurrency,
                  "Closed loop: requests kept in flight (default 2 x workers)")
      ->check(whole_number(1, kMaxConcurrency))
      ->excludes(rate);
  cmd->add_option("-n,--requests", o->requests, "Simulated requests")
      ->capture_default_str()
      ->check(whole_number(1, kMaxSimulatedRequests));
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str()->check(whole_number(0, kMaxSeed));
  cmd->add_flag("--planned", o->planned, "Simulate the configuration `conveyor plan` picks for --cores");
  cmd->add_flag("--json", o->json, "Print one JSON object instead of the table");
  cmd->footer(
      "Examples:\n  conveyor simulate examples/image_classify.yaml --concurrency 4\n"
      "  conveyor simulate examples/image_classify.yaml --cores 16 --planned --rate 800 --json");
  cmd->callback([o] { run(*o); });
}

}  // namespace conveyor::cli
