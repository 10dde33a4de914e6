#include "serve/prometheus_text.hpp"

#include <fmt/format.h>

#include <functional>

namespace conveyor::serve {
namespace {

std::string escaped(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// One metric family: its header once, then a line per labelled series.
class Family {
 public:
  Family(std::string& out, const std::string& name, const char* type, const char* help)
      : out_(out), name_(name) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void value(const std::string& labels, double value) {
    if (labels.empty())
      out_ += fmt::format("{} {}\n", name_, value);
    else
      out_ += fmt::format("{}{{{}}} {}\n", name_, labels, value);
  }
  // A cumulative histogram in seconds from a summary in milliseconds.
  void histogram(const std::string& labels, const LatencySummary& summary) {
    for (std::size_t i = 0; i < kLatencyBoundsMs.size(); ++i)
      out_ += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name_, labels, kLatencyBoundsMs[i] / 1e3,
                          summary.at_most[i]);
    out_ += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name_, labels, summary.count);
    out_ += fmt::format("{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name_, labels, summary.sum_ms / 1e3, name_,
                        labels, summary.count);
  }

 private:
  std::string& out_;
  std::string name_;
};

struct Snapshot {
  std::string labels;  // model="..."
  const ServedModel* model;
  PipelineMetrics pipeline;
};

std::string stage_labels(const Snapshot& s, const StageMetrics& stage) {
  return s.labels + ",stage=\"" + escaped(stage.name) + "\"";
}

}  // namespace

std::string prometheus_text(const std::vector<std::shared_ptr<ServedModel>>& models,
                            const FrontEndMeter& front_end) {
  std::vector<Snapshot> snapshots;
  for (const auto& model : models)
    snapshots.push_back(
        {"model=\"" + escaped(model->name()) + "\"", model.get(), model->running().pipeline().metrics()});
  std::string out;
  auto per_model = [&](const char* name, const char* type, const char* help,
                       const std::function<double(const Snapshot&)>& value) {
    Family family(out, name, type, help);
    for (const auto& s : snapshots) family.value(s.labels, value(s));
  };
  auto count = [](const std::atomic<uint64_t>& c) {
    return static_cast<double>(c.load(std::memory_order_relaxed));
  };
  per_model("conveyor_requests_total", "counter", "Inference requests that reached the model.",
            [&](const Snapshot& s) { return count(s.model->counts().received); });
  per_model("conveyor_request_successes_total", "counter", "Requests answered with outputs.",
            [&](const Snapshot& s) { return count(s.model->counts().succeeded); });
  per_model("conveyor_request_failures_total", "counter", "Admitted requests answered with an error.",
            [&](const Snapshot& s) { return count(s.model->counts().failed); });
  per_model("conveyor_request_rejections_total", "counter",
            "Requests not admitted: invalid, over max_in_flight, or shutting down.",
            [&](const Snapshot& s) { return count(s.model->counts().rejected); });
  per_model("conveyor_request_overloads_total", "counter",
            "Requests refused because max_in_flight was reached.",
            [&](const Snapshot& s) { return count(s.model->counts().overloaded); });
  per_model("conveyor_in_flight", "gauge", "Requests admitted and not yet answered.",
            [](const Snapshot& s) { return static_cast<double>(s.pipeline.in_flight); });
  per_model("conveyor_max_in_flight", "gauge", "The model's admission limit.", [](const Snapshot& s) {
    return static_cast<double>(s.model->running().config().options.max_in_flight);
  });
  {
    Family family(out, "conveyor_request_duration_seconds", "histogram",
                  "Time from admission to the reply, admitted requests.");
    for (const auto& s : snapshots) family.histogram(s.labels, s.model->counts().latency.summary());
  }
  auto per_stage = [&](const char* name, const char* type, const char* help,
                       const std::function<double(const StageMetrics&)>& value) {
    Family family(out, name, type, help);
    for (const auto& s : snapshots)
      for (const auto& stage : s.pipeline.stages) family.value(stage_labels(s, stage), value(stage));
  };
  per_stage("conveyor_stage_items_total", "counter", "Requests the stage's operator ran on.",
            [](const StageMetrics& st) { return static_cast<double>(st.items); });
  per_stage("conveyor_stage_errors_total", "counter", "Requests that failed in the stage.",
            [](const StageMetrics& st) { return static_cast<double>(st.errors); });
  per_stage("conveyor_stage_busy_seconds_total", "counter", "Time inside the stage's operator, all workers.",
            [](const StageMetrics& st) { return st.busy_seconds; });
  per_stage("conveyor_stage_utilization", "gauge", "Busy time over elapsed time and workers.",
            [](const StageMetrics& st) { return st.utilization; });
  per_stage("conveyor_stage_queue_depth", "gauge", "Requests waiting in the stage's input queue.",
            [](const StageMetrics& st) { return static_cast<double>(st.queue_depth); });
  per_stage("conveyor_stage_queue_capacity", "gauge", "Capacity of the stage's input queue.",
            [](const StageMetrics& st) { return static_cast<double>(st.queue_capacity); });
  per_stage("conveyor_stage_workers", "gauge", "Workers (pinned threads) of the stage.",
            [](const StageMetrics& st) { return static_cast<double>(st.workers); });
  per_stage("conveyor_stage_threads_per_worker", "gauge", "Intra-op threads of each worker.",
            [](const StageMetrics& st) { return static_cast<double>(st.threads_per_worker); });
  {
    Family family(out, "conveyor_stage_service_seconds", "histogram",
                  "Time inside the stage's operator per request.");
    for (const auto& s : snapshots)
      for (const auto& stage : s.pipeline.stages) family.histogram(stage_labels(s, stage), stage.service);
  }
  {
    Family family(out, "conveyor_stage_queue_seconds", "histogram",
                  "Time in the stage's input queue per request.");
    for (const auto& s : snapshots)
      for (const auto& stage : s.pipeline.stages) family.histogram(stage_labels(s, stage), stage.queue_wait);
  }
  {
    Family family(out, "conveyor_stage_batches_total", "counter",
                  "Batches a batching stage ran, by batch size (requests in the batch).");
    for (const auto& s : snapshots)
      for (const auto& stage : s.pipeline.stages)
        for (std::size_t size = 1; size < stage.batches_by_size.size(); ++size)
          family.value(stage_labels(s, stage) + ",size=\"" + std::to_string(size) + "\"",
                       static_cast<double>(stage.batches_by_size[size]));
  }
  {
    Family family(out, "conveyor_stage_batch_wait_seconds", "histogram",
                  "Time a request of a batching stage waited, once taken, for its batch to start.");
    for (const auto& s : snapshots)
      for (const auto& stage : s.pipeline.stages)
        if (!stage.batches_by_size.empty()) family.histogram(stage_labels(s, stage), stage.batch_wait);
  }
  Family(out, "conveyor_front_end_cpu_seconds_total", "counter",
         "CPU time of the front ends' threads (HTTP and gRPC: parsing, routing, encoding, event loops).")
      .value("", front_end.cpu_seconds());
  Family(out, "conveyor_front_end_requests_total", "counter",
         "HTTP requests and gRPC calls the front ends handled.")
      .value("", static_cast<double>(front_end.requests()));
  Family(out, "conveyor_front_end_threads", "gauge", "Front-end threads.").value("", front_end.threads());
  return out;
}

}  // namespace conveyor::serve
