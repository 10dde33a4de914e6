#include "cli/bench_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "conveyor/runtime/topology.hpp"

namespace conveyor::cli {

std::size_t bottleneck_stage(const PipelineMetrics& metrics) {
  std::size_t worst = 0;
  for (std::size_t s = 1; s < metrics.stages.size(); ++s)
    if (metrics.stages[s].utilization > metrics.stages[worst].utilization) worst = s;
  return worst;
}

namespace {

// measured / predicted, or "-" when the prediction is zero or infinite.
std::string ratio(double measured, double predicted) {
  if (!(predicted > 0) || !std::isfinite(predicted)) return "-";
  return fmt::format("{:.2f}", measured / predicted);
}

nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

nlohmann::json ratio_json(double measured, double predicted) {
  if (!(predicted > 0) || !std::isfinite(predicted)) return nlohmann::json();
  return measured / predicted;
}

// The part of a merged stage's busy time its member spent (0 when the stage has none yet).
double member_share(const MemberMetrics& member, const StageMetrics& stage) {
  return stage.busy_seconds > 0 ? std::min(1.0, member.busy_seconds / stage.busy_seconds) : 0.0;
}

std::string bottleneck_line(const PipelineMetrics& metrics) {
  const auto& b = metrics.stages[bottleneck_stage(metrics)];
  return fmt::format("\nbottleneck: {} ({:.1f}% busy, {:.3f} ms per item over {} worker(s): at most {:.1f} req/s)\n",
                     b.name, 100 * b.utilization, b.service.mean_ms, b.workers,
                     b.service.mean_ms > 0 ? 1000.0 * b.workers / b.service.mean_ms : 0.0);
}

// A server's stages as its /metrics counted them: no cores (the server's, not known here) nor percentiles.
std::string format_remote_stages(const PipelineMetrics& metrics) {
  std::size_t name_width = 14;
  for (const auto& s : metrics.stages) name_width = std::max(name_width, s.name.size());
  std::string out = fmt::format("{:<{}} {:>7} {:>7} {:>6} {:>12} {:>10} {:>7} {:>6}   (server's /metrics)\n", "stage",
                                name_width, "workers", "threads", "util", "service ms", "queue ms", "items", "errors");
  for (const auto& s : metrics.stages)
    out += fmt::format("{:<{}} {:>7} {:>7} {:>5.1f}% {:>12.3f} {:>10.3f} {:>7} {:>6}\n", s.name, name_width, s.workers,
                       s.threads_per_worker, 100 * s.utilization, s.service.mean_ms, s.queue_wait.mean_ms, s.items,
                       s.errors);
  return out + bottleneck_line(metrics);
}

// Batches a batching stage ran, by size: "4×80 8×25" (sizes never run left out).
std::string batch_sizes_text(const StageMetrics& stage) {
  std::string text;
  for (std::size_t size = 1; size < stage.batches_by_size.size(); ++size)
    if (stage.batches_by_size[size] > 0)
      text += fmt::format("{}{}×{}", text.empty() ? "" : " ", size, stage.batches_by_size[size]);
  return text.empty() ? "none" : text;
}

// A batching stage's line under its row: how its requests were batched and what waiting for that cost.
std::string batch_line(const StageMetrics& stage, std::size_t name_width) {
  uint64_t runs = 0;
  for (const uint64_t count : stage.batches_by_size) runs += count;
  std::string line = fmt::format("{:<{}} batches: {} runs, {:.2f} requests per run ({}); waited {:.3f} ms mean, {:.3f} ms p99\n",
                                 "", name_width, runs, runs ? static_cast<double>(stage.items) / static_cast<double>(runs) : 0.0,
                                 batch_sizes_text(stage), stage.batch_wait.mean_ms, stage.batch_wait.p99_ms);
  if (stage.batches_retried)
    line += fmt::format("{:<{}} {} batch(es) failed whole and ran one request at a time; last: {}\n", "", name_width,
                        stage.batches_retried, stage.last_batch_failure);
  return line;
}

nlohmann::json batch_json(const StageMetrics& stage, const nlohmann::json& wait) {
  nlohmann::json by_size = nlohmann::json::object();
  for (std::size_t size = 1; size < stage.batches_by_size.size(); ++size)
    if (stage.batches_by_size[size] > 0) by_size[std::to_string(size)] = stage.batches_by_size[size];
  nlohmann::json j{{"max_size", stage.batches_by_size.size() - 1},
                   {"runs_by_size", std::move(by_size)},
                   {"wait_ms", wait},
                   {"retried", stage.batches_retried}};
  if (!stage.last_batch_failure.empty()) j["last_failure"] = stage.last_batch_failure;
  return j;
}

}  // namespace

std::string format_prediction_comparison(const Predictions& p, const LoadResult& r) {
  std::string out = fmt::format("predicted (stored profiles, {}) vs measured:\n", p.workload);
  out += fmt::format("  {:<12} {:>10} {:>10} {:>10} {:>9} {:>9}\n", "", "analytic", "simulated", "measured",
                     "meas/ana", "meas/sim");
  auto row = [&](const char* what, double analytic, double simulated, double measured) {
    out += fmt::format("  {:<12} {:>10.2f} {:>10.2f} {:>10.2f} {:>9} {:>9}\n", what, analytic, simulated, measured,
                       ratio(measured, analytic), ratio(measured, simulated));
  };
  row("req/s", p.analytic.throughput_rps, p.simulated.throughput_rps, r.throughput_rps);
  row("p50 ms", p.analytic.p50_ms, p.simulated.p50_ms, r.latency.p50_ms);
  row("p99 ms", p.analytic.p99_ms, p.simulated.p99_ms, r.latency.p99_ms);
  return out;
}

std::string format_bench_report(const BenchContext& context, const LoadResult& r,
                                const std::optional<Predictions>& predicted) {
  std::string out;
  const std::size_t stages = r.pipeline.stages.size();
  if (context.remote())
    out += fmt::format("model {} at {} ({})\n", context.pipeline, context.url, context.client);
  else
    out += fmt::format("pipeline {}: {} stage{} on {}\n", context.pipeline, stages, stages == 1 ? "" : "s",
                       Topology::detect().describe());
  for (const auto& split : context.auto_splits) out += split.summary + "\n";
  out += fmt::format("requests {} (+{} warmup), {}, errors {}\n", r.requests, context.warmup, context.load, r.errors);
  if (r.errors) out += fmt::format("first error: {}\n", r.first_error);
  if (r.rejected)
    out += fmt::format("rejected {} {}: {}\n", r.rejected,
                       context.remote() ? "by the server (max_in_flight reached)"
                                        : "at admission (on_full: fail, max_in_flight reached)",
                       r.first_rejection);
  out += fmt::format("throughput  {:.1f} req/s\n", r.throughput_rps);
  out += fmt::format("latency ms  p50 {:.2f}  p90 {:.2f}  p99 {:.2f}  max {:.2f}{}\n\n", r.latency.p50_ms,
                     r.latency.p90_ms, r.latency.p99_ms, r.latency.max_ms,
                     context.remote()   ? " (exact, client-side)"
                     : r.exact_latency ? " (exact)"
                                       : fmt::format(" (histogram, within {:.1f}%)",
                                                     100 * LatencyHistogram::kRelativeError));
  if (context.remote()) {
    if (r.pipeline.stages.empty()) return out + "(stages: see the server's /metrics)\n";
    out += format_remote_stages(r.pipeline);
    if (predicted) out += '\n' + format_prediction_comparison(*predicted, r);
    return out;
  }
  std::size_t name_width = 14;  // merged stages ("decode+preprocess") widen the column
  bool smt = false;  // some worker runs on hardware threads other than its cores' first: list them too
  for (const auto& s : r.pipeline.stages) {
    name_width = std::max(name_width, s.name.size());
    for (const auto& member : s.members) name_width = std::max(name_width, member.name.size() + 2);
    smt = smt || s.hardware_threads != s.cores;
  }
  out += fmt::format("{:<{}} {:>7} {:>8} {:>7} {:>6} {:>12} {:>10} {:>10} {:>7} {:>6}{}\n", "stage",
                     name_width, "workers", "cores", "threads", "util", "service ms", "p99 ms", "queue ms",
                     "items", "errors", smt ? "  hardware threads" : "");
  for (const auto& s : r.pipeline.stages) {
    const std::string threads = s.hardware_threads.empty() ? "-" : format_cpu_list(s.hardware_threads);
    out += fmt::format("{:<{}} {:>7} {:>8} {:>7} {:>5.1f}% {:>12.3f} {:>10.3f} {:>10.3f} {:>7} {:>6}{}\n",
                       s.name, name_width, s.workers,
                       s.cores.empty() ? std::string("-") : format_cpu_list(s.cores), s.threads_per_worker,
                       100 * s.utilization, s.service.mean_ms, s.service.p99_ms, s.queue_wait.mean_ms,
                       s.items, s.errors, smt ? "  " + threads : "");
    if (!s.batches_by_size.empty()) out += batch_line(s, name_width);
    // A merged stage's members under it: where its service time goes.
    for (const auto& member : s.members)
      out += fmt::format("{:<{}} {:>7} {:>8} {:>7} {:>6} {:>12.3f} {:>10.3f}   {:.0f}% of {}\n",
                         "  " + member.name, name_width, "", "", "", "", member.service.mean_ms,
                         member.service.p99_ms, 100 * member_share(member, s), s.name);
  }
  if (!r.pipeline.stages.empty()) out += bottleneck_line(r.pipeline);
  if (predicted) {
    out += '\n';
    out += format_prediction_comparison(*predicted, r);
  }
  return out;
}

nlohmann::json bench_report_json(const BenchContext& context, const LoadResult& r,
                                 const std::optional<Predictions>& predicted) {
  auto summary = [](const LatencySummary& s) {
    return nlohmann::json{{"mean", s.mean_ms}, {"p50", s.p50_ms}, {"p90", s.p90_ms}, {"p99", s.p99_ms}, {"max", s.max_ms}};
  };
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : r.pipeline.stages) {
    if (context.remote()) {  // what the server's /metrics has: no cores, mean times only
      stages.push_back({{"name", s.name},
                        {"workers", s.workers},
                        {"threads", s.threads_per_worker},
                        {"utilization", s.utilization},
                        {"items", s.items},
                        {"errors", s.errors},
                        {"service_ms", {{"mean", s.service.mean_ms}}},
                        {"queue_ms", {{"mean", s.queue_wait.mean_ms}}}});
      continue;
    }
    stages.push_back({{"name", s.name},
                      {"workers", s.workers},
                      {"cores", s.cores.size()},
                      {"core_ids", s.cores},
                      {"hardware_threads", s.hardware_threads},
                      {"threads", s.threads_per_worker},
                      {"utilization", s.utilization},
                      {"items", s.items},
                      {"errors", s.errors},
                      {"service_ms", summary(s.service)},
                      {"queue_ms", summary(s.queue_wait)},
                      {"queue_capacity", s.queue_capacity}});
    if (!s.batches_by_size.empty()) stages.back()["batch"] = batch_json(s, summary(s.batch_wait));
    if (!s.members.empty()) {
      nlohmann::json members = nlohmann::json::array();
      for (const auto& member : s.members)
        members.push_back({{"name", member.name},
                           {"service_ms", summary(member.service)},
                           {"share", member_share(member, s)}});
      stages.back()["members"] = std::move(members);
    }
  }
  nlohmann::json j{{"pipeline", context.pipeline},
                   {"load", context.load},
                   {"throughput_rps", r.throughput_rps},
                   {"latency_ms", summary(r.latency)},
                   {"latency_exact", r.exact_latency},
                   {"requests", r.requests},
                   {"warmup", context.warmup},
                   {"errors", r.errors},
                   {"rejected", r.rejected},
                   {"seconds", r.seconds},
                   {"stages", stages}};
  if (!context.auto_splits.empty()) {
    nlohmann::json splits = nlohmann::json::array();
    for (const auto& split : context.auto_splits)
      splits.push_back({{"stage", split.stage},
                        {"segments", split.segments},
                        {"max_segments", split.max_segments},
                        {"bottleneck_ms", split.bottleneck_ms},
                        {"other_stages_ms", split.floor_ms},
                        {"summary", split.summary}});
    j["auto_splits"] = std::move(splits);
  }
  if (!r.pipeline.stages.empty()) j["bottleneck"] = r.pipeline.stages[bottleneck_stage(r.pipeline)].name;
  if (r.errors) j["first_error"] = r.first_error;
  if (r.rejected) j["first_rejection"] = r.first_rejection;
  if (context.remote()) {
    j["url"] = context.url;
    j["client"] = context.client;
    j["stages_source"] = r.pipeline.stages.empty() ? nlohmann::json() : nlohmann::json("server /metrics");
  }
  if (const auto& p = predicted) {
    auto numbers = [](const PredictedNumbers& n) {
      return nlohmann::json{{"throughput_rps", n.throughput_rps},
                            {"latency_ms", {{"p50", finite_or_null(n.p50_ms)}, {"p99", finite_or_null(n.p99_ms)}}}};
    };
    // The simulator's numbers lead (it models the runtime's queues and tokens); the analytic model's follow.
    nlohmann::json out = numbers(p->simulated);
    out["source"] = "simulation";
    out["workload"] = p->workload;
    out["analytic"] = numbers(p->analytic);
    out["measured_over_predicted"] = {{"throughput", ratio_json(r.throughput_rps, p->simulated.throughput_rps)},
                                      {"p50", ratio_json(r.latency.p50_ms, p->simulated.p50_ms)},
                                      {"p99", ratio_json(r.latency.p99_ms, p->simulated.p99_ms)}};
    j["predicted"] = out;
  }
  return j;
}

}  // namespace conveyor::cli
