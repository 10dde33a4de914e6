#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "cli/cli_runtime.hpp"
#include "cli/commands.hpp"
#include "cli/deployment_report.hpp"
#include "cli/json_text.hpp"
#include "cli/option_checks.hpp"
#include "cli/option_lists.hpp"

namespace conveyor::cli {
namespace {

struct PlanCommand {
  std::string pipeline;
  std::string cores;  // default: the machine's
  std::optional<double> slo_p99_ms;
  std::optional<double> rate_rps;
  std::optional<int> concurrency;
  std::string objective = "throughput";
  uint64_t sim_requests = 20000;
  bool no_merging = false;
  std::string strategy;  // deployment files only; default: see default_strategy
  bool json = false;
};

double ms(double seconds) {
  return std::isfinite(seconds) ? seconds * 1e3 : seconds;
}

// JSON has no infinity: an unstable prediction is null.
nlohmann::json number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

// A stage's batch as the pipeline file writes it: "{max_size: 8, max_delay_ms: 2.2, sizes: [1, 2, 4, 8]}".
std::string batch_yaml(const BatchSpec& batch) {
  return fmt::format("{{max_size: {}, max_delay_ms: {:g}, sizes: [{}]}}", batch.max_size,
                     std::chrono::duration<double, std::milli>(batch.max_delay).count(),
                     fmt::join(batch.run_sizes(), ", "));
}

nlohmann::json plan_json(const PipelineConfig& config, const plan::Plan& p) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : p.stages) {
    stages.push_back({{"name", s.name},
                      {"members", s.members},
                      {"workers", s.workers},
                      {"threads", s.threads},
                      {"cores", s.cores()},
                      {"worker_cores", s.worker_cores},
                      {"share_cores", s.share_cores},
                      {"service_ms", s.service.mean * 1e3}});
    if (s.batch.batches())
      stages.back()["batch"] = {
          {"max_size", s.batch.max_size},
          {"max_delay_ms", std::chrono::duration<double, std::milli>(s.batch.max_delay).count()},
          {"sizes", s.batch.run_sizes()}};
  }
  return {{"pipeline", config.name},
          {"objective", plan::objective_name(p.objective)},
          {"load", p.workload.describe()},
          {"plan", {{"stages", stages}}},
          {"predicted",
           {{"throughput_rps", p.throughput_rps},
            {"capacity_rps", p.capacity_rps},
            {"latency_ms", {{"p50", number(ms(p.p50_s))}, {"p99", number(ms(p.p99_s))}}},
            {"source", p.simulated ? "simulation" : "analytic model"}}},
          {"analytic",
           {{"throughput_rps", p.analytic.throughput_rps},
            {"latency_ms",
             {{"mean", number(ms(p.analytic.latency_mean_s))},
              {"p50", number(ms(p.analytic.latency_p50_s))},
              {"p99", number(ms(p.analytic.latency_p99_s))}}}}},
          {"bottleneck", p.bottleneck},
          {"bound_rps", p.bound_rps},
          {"ratio_to_bound", p.ratio_to_bound},
          {"slo_met", p.slo_met},
          {"cores_used", p.cores_used},
          {"cores_budget", p.cores_budget},
          {"configurations", p.configurations},
          {"notes", p.notes}};
}

std::string plan_text(const PipelineConfig& config, const plan::Plan& p) {
  std::string out = fmt::format("plan for '{}' on {} cores, objective {}, {}\n\n", config.name,
                                p.cores_budget, plan::objective_name(p.objective), p.workload.describe());
  const std::size_t width = stage_name_width(p);
  out += fmt::format("  {:<{}} {:>7} {:>7}  {:<14} {:>9} {:>6}\n", "stage", width, "workers", "threads",
                     "cores", "T ms", "busy");
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const auto& s = p.stages[i];
    out += fmt::format("  {:<{}} {:>7} {:>7}  {:<14} {:>9.3f} {:>5.0f}%\n", s.name, width, s.workers,
                       s.threads, format_cpu_list(s.cores()) + (s.share_cores ? " shared" : ""),
                       s.service.mean * 1e3, std::min(1.0, p.analytic.stages[i].utilization) * 100);
  }
  out += fmt::format("\npredicted ({}): {:.1f} req/s, p50 {:.2f} ms, p99 {:.2f} ms\n",
                     p.simulated ? "simulated" : "analytic", p.throughput_rps, ms(p.p50_s), ms(p.p99_s));
  out += fmt::format("analytic model:  {:.1f} req/s (capacity {:.1f}), p50 {:.2f} ms, p99 {:.2f} ms\n",
                     p.analytic.throughput_rps, p.capacity_rps, ms(p.analytic.latency_p50_s),
                     ms(p.analytic.latency_p99_s));
  out += fmt::format(
      "bottleneck: {}\nbound: {:.1f} req/s (cores / sum of 1-thread service times); capacity is {:.0f}% "
      "of it\n",
      p.bottleneck, p.bound_rps, p.ratio_to_bound * 100);
  out += "\nwhy:\n";
  for (const auto& n : p.notes) out += "  - " + n + "\n";
  out += fmt::format("\nto apply, set in {}:\n", config.file.string());
  for (const auto& s : p.stages) {
    out += fmt::format("  - name: {}\n    workers: {}\n    cores: [{}]\n    threads: {}\n", s.members.front(),
                       s.workers, fmt::join(s.cores(), ", "), s.threads);
    if (s.share_cores) out += "    share_cores: true\n";
    if (s.batch.batches()) out += "    batch: " + batch_yaml(s.batch) + "\n";
    for (std::size_t m = 1; m < s.members.size(); ++m)
      out += fmt::format("  - name: {}\n    with_previous: true\n", s.members[m]);
  }
  return out;
}

// Several pipelines sharing the machine: divide the cores among them, then plan each on its share.
void run_deployment(const PlanCommand& o, const CLI::App& cmd) {
  for (const char* single : {"--rate", "--concurrency", "--slo-p99-ms", "--objective"})
    if (cmd.count(single) > 0)
      throw std::invalid_argument(std::string(single) + " applies to a pipeline file; " + o.pipeline +
                                  " is a deployment file: set rate_rps and slo_p99_ms per pipeline in it");
  const DeploymentConfig config = load_deployment_config(o.pipeline);
  DeploymentPlanOptions options;
  if (!o.strategy.empty()) options.strategy = plan::parse_strategy(o.strategy);
  if (!o.cores.empty()) options.cores = parse_core_budget(o.cores);
  options.sim_requests = o.sim_requests;
  options.merge = !o.no_merging;
  const plan::Deployment deployment =
      with_profile_hint([&] { return cli_runtime().plan_deployment(config, options); });
  if (o.json)
    std::printf("%s\n", json_text(deployment_json(config, deployment), 2).c_str());
  else
    std::printf("%s", deployment_text(config, deployment).c_str());
}

void run(const PlanCommand& o, const CLI::App& cmd) {
  if (is_deployment_file(o.pipeline)) return run_deployment(o, cmd);
  if (!o.strategy.empty())
    throw std::invalid_argument("--strategy applies to a deployment file (one with a 'pipelines:' list); " +
                                o.pipeline + " is a pipeline file");
  Runtime& runtime = cli_runtime();
  const PipelineConfig config = runtime.expand(runtime.load(o.pipeline));
  PlanOptions options;
  if (!o.cores.empty()) options.cores = parse_core_budget(o.cores);
  options.load.rate_rps = o.rate_rps;
  options.load.concurrency = o.concurrency;
  if (o.slo_p99_ms) options.slo_p99_s = *o.slo_p99_ms * 1e-3;
  options.objective = plan::parse_objective(o.objective);
  options.sim_requests = o.sim_requests;
  options.merge = !o.no_merging;
  const plan::Plan p = with_profile_hint([&] { return runtime.plan(config, options); });
  if (o.json)
    std::printf("%s\n", json_text(plan_json(config, p), 2).c_str());
  else
    std::printf("%s", plan_text(config, p).c_str());
}

}  // namespace

void add_plan_command(CLI::App& app) {
  auto o = std::make_shared<PlanCommand>();
  CLI::App* cmd = app.add_subcommand(
      "plan",
      "Choose workers, threads and cores per stage from stored profiles; predict throughput and latency");
  cmd->add_option("file", o->pipeline, "Pipeline file, or deployment file (YAML with a 'pipelines:' list)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--cores", o->cores,
                  "Core budget: a count (4) or core ids (0-3,6); default: this machine's");
  cmd->add_option("--slo-p99-ms", o->slo_p99_ms, "p99 latency the plan must meet at the load")
      ->check(positive_number());
  auto* rate =
      cmd->add_option("-r,--rate", o->rate_rps, "Expected load: Poisson arrivals at this many requests/s")
          ->check(positive_number());
  cmd->add_option(
         "-c,--concurrency", o->concurrency,
         "Expected load: closed loop with this many in flight (default 2 x workers, or 1 for latency)")
      ->check(whole_number(1, kMaxConcurrency))
      ->excludes(rate);
  cmd->add_option("--objective", o->objective, "throughput | latency")
      ->capture_default_str()
      ->check(CLI::IsMember({"throughput", "latency"}));
  cmd->add_option("--sim-requests", o->sim_requests, "Requests per confirming simulation (0: analytic only)")
      ->capture_default_str()
      ->check(whole_number(0, kMaxSimulatedRequests));
  cmd->add_flag(
      "--no-merging,--no-fusion", o->no_merging,
      "Keep every stage separate (by default runs of consecutive stages may be merged onto the same "
      "workers when that plans more throughput)");
  cmd->add_option(
         "--strategy", o->strategy,
         "Deployment files: how the cores are divided among the pipelines: history (in proportion to "
         "recorded demand), forecast (fewest cores meeting each SLO at the forecast peak rate, the "
         "rest by demand) or priority (most important first); default: priority when the "
         "priorities differ, else history")
      ->check(CLI::IsMember({"history", "forecast", "priority"}));
  cmd->add_flag("--json", o->json, "Print one JSON object instead of the text");
  cmd->footer(
      "Examples:\n  conveyor plan examples/image_classify.yaml\n"
      "  conveyor plan examples/image_classify.yaml --cores 0-7 --rate 400 --slo-p99-ms 20 --json\n"
      "  conveyor plan examples/deployment.yaml --strategy priority\n"
      "Needs stored profiles: run 'conveyor profile PIPELINE.yaml --input FILES...' first.");
  cmd->callback([o, cmd] { run(*o, *cmd); });
}

}  // namespace conveyor::cli
