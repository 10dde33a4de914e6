#include "cli/deployment_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "conveyor/runtime/topology.hpp"

namespace conveyor::cli {
namespace {

// JSON has no infinity: a latency that grows without bound is null.
nlohmann::json milliseconds(double seconds) {
  return std::isfinite(seconds) ? nlohmann::json(seconds * 1e3) : nlohmann::json();
}

std::string ms_text(double seconds) {
  return std::isfinite(seconds) ? fmt::format("{:.2f} ms", seconds * 1e3) : "unbounded";
}

std::optional<double> slo_ms(const DeploymentConfig& config, const std::string& name) {
  for (const auto& p : config.pipelines)
    if (p.pipeline.name == name) return p.slo_p99_ms;
  return std::nullopt;
}

nlohmann::json forecast_json(const plan::LoadForecast& f) {
  return {
      {"arrivals", f.arrivals},
      {"interval_s", f.interval_s},
      {"intervals", f.intervals},
      {"mean_rps", f.mean_rps},
      {"alpha", f.fit.alpha},
      {"beta", f.fit.beta},
      {"trend_rps_per_interval", f.fit.trend},
      {"residual_sd_rps", f.fit.residual_sd},
      {"forecast_rps", f.forecast_rps},
      {"peak_rps", f.peak_rps},
      {"z", f.z},
      {"backtest",
       {{"intervals", f.backtest_intervals}, {"mape", f.backtest_mape}, {"rmse_rel", f.backtest_rmse_rel}}}};
}

std::string slo_text(const plan::PipelineAllocation& a, std::optional<double> slo) {
  if (!slo) return a.slo_met ? "no SLO, keeps up" : "no SLO, does NOT keep up";
  if (a.slo_met) return fmt::format("SLO p99 <= {:g} ms met", *slo);
  const bool confirmed = a.shed_rps > 0 || !(a.p99_s <= *slo * 1e-3);
  return fmt::format("SLO p99 <= {:g} ms NOT met{}", *slo, confirmed ? "" : " (not confirmed to keep up)");
}

std::string stage_table(const plan::Plan& p) {
  const std::size_t width = stage_name_width(p);
  std::string out = fmt::format("    {:<{}} {:>7} {:>7}  {:<14} {:>9}\n", "stage", width, "workers", "threads",
                                "cores", "T ms");
  for (const auto& s : p.stages)
    out += fmt::format("    {:<{}} {:>7} {:>7}  {:<14} {:>9.3f}\n", s.name, width, s.workers, s.threads,
                       format_cpu_list(s.cores()) + (s.share_cores ? " shared" : ""), s.service.mean * 1e3);
  return out;
}

}  // namespace

std::size_t stage_name_width(const plan::Plan& plan) {
  std::size_t width = 16;
  for (const auto& s : plan.stages) width = std::max(width, s.name.size());
  return width;
}

std::string deployment_text(const DeploymentConfig& config, const plan::Deployment& d) {
  std::string out = fmt::format("deployment '{}': {} pipeline{} on {} core{} [{}], strategy {}\n",
                                config.name, d.pipelines.size(), d.pipelines.size() == 1 ? "" : "s",
                                d.cores_budget.size(), d.cores_budget.size() == 1 ? "" : "s",
                                format_cpu_list(d.cores_budget), plan::strategy_name(d.strategy));
  double rate = 0, served = 0;
  for (const auto& a : d.pipelines) {
    rate += a.rate_rps;
    served += a.rate_rps - a.shed_rps;
    out +=
        fmt::format("\n{} (priority {}): {}\n", a.name, a.priority,
                    a.cores.empty() ? std::string("no cores")
                                    : fmt::format("cores {} ({})", format_cpu_list(a.cores), a.cores.size()));
    out += fmt::format(
        "  planned for {:.1f} req/s; predicted {:.1f} req/s, p50 {}, p99 {}; {}; shed {:.1f} req/s\n",
        a.rate_rps, a.throughput_rps, ms_text(a.p50_s), ms_text(a.p99_s), slo_text(a, slo_ms(config, a.name)),
        a.shed_rps);
    if (a.plan) out += stage_table(*a.plan);
    out += "  why:\n";
    for (const auto& n : a.notes) out += "    - " + n + "\n";
    if (a.plan)
      for (const auto& n : a.plan->notes) out += "    - plan: " + n + "\n";
  }
  out += fmt::format("\ntotal: {} of {} cores used; {:.1f} of {:.1f} req/s served, {:.1f} req/s shed\n",
                     d.cores_used(), d.cores_budget.size(), served, rate, d.shed_rps());
  for (const auto& n : d.notes) out += "  - " + n + "\n";
  return out;
}

nlohmann::json deployment_json(const DeploymentConfig& config, const plan::Deployment& d) {
  nlohmann::json pipelines = nlohmann::json::array();
  double rate = 0;
  for (const auto& a : d.pipelines) {
    rate += a.rate_rps;
    nlohmann::json stages = nlohmann::json::array();
    nlohmann::json plan_notes = nlohmann::json::array();
    double capacity = 0;
    if (a.plan) {
      for (const auto& s : a.plan->stages)
        stages.push_back({{"name", s.name},
                          {"members", s.members},
                          {"workers", s.workers},
                          {"threads", s.threads},
                          {"cores", s.cores()},
                          {"share_cores", s.share_cores},
                          {"service_ms", s.service.mean * 1e3}});
      plan_notes = a.plan->notes;
      capacity = a.plan->capacity_rps;
    }
    const std::optional<double> slo = slo_ms(config, a.name);
    pipelines.push_back({{"name", a.name},
                         {"priority", a.priority},
                         {"cores", a.cores},
                         {"hardware_threads", a.hardware_threads},
                         {"rate_rps", a.rate_rps},
                         {"slo_p99_ms", slo ? nlohmann::json(*slo) : nlohmann::json()},
                         {"forecast", a.forecast ? forecast_json(*a.forecast) : nlohmann::json()},
                         {"plan", {{"stages", stages}, {"notes", plan_notes}}},
                         {"predicted",
                          {{"throughput_rps", a.throughput_rps},
                           {"capacity_rps", capacity},
                           {"latency_ms", {{"p50", milliseconds(a.p50_s)}, {"p99", milliseconds(a.p99_s)}}}}},
                         {"slo_met", a.slo_met},
                         {"shed_rps", a.shed_rps},
                         {"notes", a.notes}});
  }
  return {{"deployment", config.name},
          {"strategy", plan::strategy_name(d.strategy)},
          {"cores_budget", d.cores_budget},
          {"pipelines", pipelines},
          {"totals", {{"cores_used", d.cores_used()}, {"rate_rps", rate}, {"shed_rps", d.shed_rps()}}},
          {"notes", d.notes}};
}

}  // namespace conveyor::cli
