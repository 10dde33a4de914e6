#include "cli/bench_report.hpp"

#include <fmt/format.h>

#include "conveyor/runtime/topology.hpp"

namespace conveyor::cli {

std::size_t bottleneck_stage(const PipelineMetrics& metrics) {
  std::size_t worst = 0;
  for (std::size_t s = 1; s < metrics.stages.size(); ++s)
    if (metrics.stages[s].utilization > metrics.stages[worst].utilization) worst = s;
  return worst;
}

std::string format_bench_report(const BenchContext& context, const LoadResult& r) {
  std::string out;
  out += fmt::format("pipeline {}: {} stages on {}\n", context.pipeline, r.pipeline.stages.size(),
                     Topology::detect().describe());
  out += fmt::format("requests {} (+{} warmup), {}, errors {}\n", r.requests, context.warmup, context.load, r.errors);
  if (r.errors) out += fmt::format("first error: {}\n", r.first_error);
  out += fmt::format("throughput  {:.1f} req/s\n", r.throughput_rps);
  out += fmt::format("latency ms  p50 {:.2f}  p90 {:.2f}  p99 {:.2f}  max {:.2f}\n\n", r.latency.p50_ms,
                     r.latency.p90_ms, r.latency.p99_ms, r.latency.max_ms);
  out += fmt::format("{:<14} {:>7} {:>8} {:>7} {:>6} {:>12} {:>10} {:>10} {:>7} {:>6}\n", "stage", "workers", "cores",
                     "threads", "util", "service ms", "p99 ms", "queue ms", "items", "errors");
  for (const auto& s : r.pipeline.stages) {
    out += fmt::format("{:<14} {:>7} {:>8} {:>7} {:>5.1f}% {:>12.3f} {:>10.3f} {:>10.3f} {:>7} {:>6}\n", s.name,
                       s.workers, s.cores.empty() ? std::string("-") : format_cpu_list(s.cores), s.threads_per_worker,
                       100 * s.utilization, s.service.mean_ms, s.service.p99_ms, s.queue_wait.mean_ms, s.items,
                       s.errors);
  }
  if (!r.pipeline.stages.empty()) {
    const auto& b = r.pipeline.stages[bottleneck_stage(r.pipeline)];
    out += fmt::format("\nbottleneck: {} ({:.1f}% busy, {:.3f} ms per item over {} worker(s): at most {:.1f} req/s)\n",
                       b.name, 100 * b.utilization, b.service.mean_ms, b.workers,
                       b.service.mean_ms > 0 ? 1000.0 * b.workers / b.service.mean_ms : 0.0);
  }
  return out;
}

nlohmann::json bench_report_json(const BenchContext& context, const LoadResult& r) {
  auto summary = [](const LatencySummary& s) {
    return nlohmann::json{{"mean", s.mean_ms}, {"p50", s.p50_ms}, {"p90", s.p90_ms}, {"p99", s.p99_ms}, {"max", s.max_ms}};
  };
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : r.pipeline.stages) {
    stages.push_back({{"name", s.name},
                      {"workers", s.workers},
                      {"cores", s.cores.size()},
                      {"core_ids", s.cores},
                      {"threads", s.threads_per_worker},
                      {"utilization", s.utilization},
                      {"items", s.items},
                      {"errors", s.errors},
                      {"service_ms", summary(s.service)},
                      {"queue_ms", summary(s.queue_wait)},
                      {"queue_capacity", s.queue_capacity}});
  }
  nlohmann::json j{{"pipeline", context.pipeline},
                   {"load", context.load},
                   {"throughput_rps", r.throughput_rps},
                   {"latency_ms", summary(r.latency)},
                   {"requests", r.requests},
                   {"warmup", context.warmup},
                   {"errors", r.errors},
                   {"seconds", r.seconds},
                   {"stages", stages}};
  if (!r.pipeline.stages.empty()) j["bottleneck"] = r.pipeline.stages[bottleneck_stage(r.pipeline)].name;
  if (r.errors) j["first_error"] = r.first_error;
  return j;
}

}  // namespace conveyor::cli
