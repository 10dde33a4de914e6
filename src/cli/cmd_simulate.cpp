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
#include "cli/pipeline_file.hpp"

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

nlohmann::json batch_json(const plan::SimBatch& batch, const plan::SimStageResult& simulated) {
  if (batch.max_size <= 1) return nullptr;
  return {{"max_size", batch.max_size},
          {"max_delay_ms", batch.max_delay_s * 1e3},
          {"sizes", batch.sizes},
          {"requests_per_run", simulated.requests_per_run}};
}

std::string batch_text(const plan::SimBatch& batch, const plan::SimStageResult& simulated) {
  if (batch.max_size <= 1) return "";
  return fmt::format("  batches of up to {} within {:.2f} ms: {:.2f} requests per run", batch.max_size,
                     batch.max_delay_s * 1e3, simulated.requests_per_run);
}

void print_notes(const std::vector<std::string>& notes) {
  std::fflush(stdout);
  for (const std::string& note : notes) std::fprintf(stderr, "note: %s\n", note.c_str());
}

void run(const SimulateCommand& o) {
  const Runtime& runtime = cli_runtime();
  const PipelineConfig config = load_pipeline_file(runtime, o.pipeline, "simulate");
  SimulationOptions options;
  options.cores = o.cores.empty() ? runtime.topology().cpus() : parse_core_budget(o.cores);
  options.load.rate_rps = o.rate_rps;
  options.load.concurrency = o.concurrency;
  options.planned = o.planned;
  options.requests = o.requests;
  options.seed = o.seed;
  const Simulation simulation = with_profile_hint([&] {
    try {
      return runtime.simulate(config, options);
    } catch (const BudgetExceededError& error) {
      throw BudgetExceededError(std::string(error.what()) + " (--planned)");
    }
  });
  const std::vector<plan::ModelStage>& stages = simulation.stages;
  const plan::SimResult& r = simulation.simulated;
  const plan::Prediction& a = simulation.analytic;
  const std::vector<int>& cores = options.cores;
  const plan::Workload& workload = simulation.workload;

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
           {"batch", batch_json(simulation.batches[i], r.stages[i])},
           {"wait_ms", {{"mean", r.stages[i].wait.mean * 1e3}, {"p99", r.stages[i].wait.p99 * 1e3}}}});
    const nlohmann::json out{{"pipeline", config.name},
                             {"configuration", o.planned ? "planned" : "as written"},
                             {"cores", cores.size()},
                             {"load", workload.describe()},
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
                                 {"p99", number(a.latency_p99_s * 1e3)}}}}},
                             {"notes", simulation.notes}};
    std::printf("%s\n", json_text(out, 2).c_str());
    print_notes(simulation.notes);
    return;
  }
  std::printf("simulated '%s' (%s) on %zu cores, %s, %llu requests\n\n", config.name.c_str(),
              o.planned ? "planned configuration" : "as written", cores.size(), workload.describe().c_str(),
              static_cast<unsigned long long>(r.requests));
  std::printf("  %-16s %7s %7s %9s %6s %12s %11s\n", "stage", "workers", "threads", "T ms", "busy",
              "wait mean ms", "wait p99 ms");
  for (std::size_t i = 0; i < stages.size(); ++i)
    std::printf("  %-16s %7d %7d %9.3f %5.0f%% %12.3f %11.3f%s%s\n", stages[i].name.c_str(),
                stages[i].workers, stages[i].threads, stages[i].service.mean * 1e3,
                r.stages[i].utilization * 100, r.stages[i].wait.mean * 1e3, r.stages[i].wait.p99 * 1e3,
                stages[i].shared_group >= 0 ? "  (shares a core)" : "",
                batch_text(simulation.batches[i], r.stages[i]).c_str());
  std::printf("\nsimulated: %.1f req/s, latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              r.throughput_rps, r.latency.p50 * 1e3, r.latency.p90 * 1e3, r.latency.p99 * 1e3,
              r.latency.max * 1e3);
  const bool batching = std::any_of(simulation.batches.begin(), simulation.batches.end(),
                                    [](const plan::SimBatch& b) { return b.max_size > 1; });
  std::printf("analytic:  %.1f req/s (capacity %.1f), p50 %.2f ms, p99 %.2f ms; bottleneck %s%s\n",
              a.throughput_rps, a.capacity_rps, a.latency_p50_s * 1e3, a.latency_p99_s * 1e3,
              stages[a.bottleneck].name.c_str(),
              batching ? " (one request at a time: it does not batch)" : "");
  print_notes(simulation.notes);
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
