#include "conveyor/runtime/chrome_trace.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace conveyor {
namespace {

using nlohmann::json;

constexpr int kPid = 1;  // one pipeline per trace

// Microseconds from the origin, to the nanosecond (what the clock gives; more digits only grow the file).
double micros(Clock::time_point origin, Clock::time_point t) {
  const double us = std::chrono::duration<double, std::micro>(t - origin).count();
  return std::round(us * 1e3) / 1e3;
}

// Each stage's lane count: one per worker (more if a result names a worker the stage did not declare).
std::vector<int> lane_counts(const Timeline& timeline) {
  std::vector<int> counts;
  for (const auto& stage : timeline.stages) counts.push_back(std::max(1, stage.workers));
  for (const auto& r : timeline.requests)
    for (std::size_t s = 0; s < counts.size(); ++s)
      if (r.served(s)) counts[s] = std::max(counts[s], r.stages[s].worker + 1);
  return counts;
}

// Each stage's first lane: lanes are numbered from 1, stage by stage.
std::vector<int> first_lanes(const std::vector<int>& counts) {
  std::vector<int> first;
  int next = 1;
  for (const int count : counts) {
    first.push_back(next);
    next += count;
  }
  return first;
}

// Events are written one by one, so a long trace never sits in memory as a JSON tree. Input names may be
// any bytes: invalid UTF-8 is replaced rather than refused.
class EventWriter {
 public:
  explicit EventWriter(std::ostream& out) : out_(out) {}
  void add(const json& event) {
    out_ << (first_ ? "\n" : ",\n") << event.dump(-1, ' ', false, json::error_handler_t::replace);
    first_ = false;
  }

 private:
  std::ostream& out_;
  bool first_ = true;
};

void write_lane_names(EventWriter& events, const Timeline& timeline, const std::vector<int>& counts,
                      const std::vector<int>& lanes) {
  events.add({{"ph", "M"},
              {"pid", kPid},
              {"tid", 0},
              {"name", "process_name"},
              {"args", {{"name", "pipeline " + timeline.pipeline}}}});
  for (std::size_t s = 0; s < timeline.stages.size(); ++s)
    for (int w = 0; w < counts[s]; ++w) {
      const int tid = lanes[s] + w;
      events.add({{"ph", "M"},
                  {"pid", kPid},
                  {"tid", tid},
                  {"name", "thread_name"},
                  {"args", {{"name", timeline.stages[s].name + " #" + std::to_string(w)}}}});
      events.add({{"ph", "M"},
                  {"pid", kPid},
                  {"tid", tid},
                  {"name", "thread_sort_index"},
                  {"args", {{"sort_index", tid}}}});
    }
}

// A complete event per stage that served the request, and a flow through them (its events sit in the
// middle of each slice, so each binds to its own slice whatever the neighbouring slices are).
void write_request(EventWriter& events, const Timeline& timeline, const std::vector<int>& lanes,
                   Clock::time_point origin, const TimelineRequest& r, uint64_t flow_id) {
  const int last = r.last_served();
  std::vector<json> flow;
  for (std::size_t s = 0; s < timeline.stages.size() && static_cast<int>(s) <= last; ++s) {
    if (!r.served(s)) continue;
    const StageTimes& t = r.stages[s];
    const int tid = lanes[s] + t.worker;
    const double ts = micros(origin, t.started);
    const double dur = std::max(0.0, micros(origin, t.finished) - ts);
    json args{{"request", r.id},
              {"worker", t.worker},
              {"queue_wait_ms", std::chrono::duration<double, std::milli>(t.started - t.enqueued).count()}};
    if (!r.source.empty()) args["input"] = r.source;
    json slice{{"ph", "X"},   {"cat", "stage"}, {"name", timeline.stages[s].name},
               {"pid", kPid}, {"tid", tid},     {"ts", ts},
               {"dur", dur},  {"args", args}};
    if (!r.ok() && static_cast<int>(s) == last) {
      slice["args"]["error"] = r.error;
      slice["cname"] = "terrible";  // chrome://tracing's red
    }
    events.add(slice);
    flow.push_back({{"cat", "request"},
                    {"name", "request"},
                    {"id", flow_id},
                    {"pid", kPid},
                    {"tid", tid},
                    {"ts", ts + dur / 2},
                    {"bp", "e"}});
  }
  if (flow.size() < 2) return;
  for (std::size_t i = 0; i < flow.size(); ++i) {
    flow[i]["ph"] = i == 0 ? "s" : i + 1 == flow.size() ? "f" : "t";
    events.add(flow[i]);
  }
}

void write_counter(EventWriter& events, const std::string& name, const std::string& key,
                   const std::vector<TimelinePoint>& series) {
  if (series.empty()) return;
  auto add = [&](double seconds, int value) {
    events.add({{"ph", "C"},
                {"pid", kPid},
                {"tid", 0},
                {"name", name},
                {"ts", std::round(seconds * 1e9) / 1e3},
                {"args", {{key, value}}}});
  };
  if (series.front().seconds > 0) add(0, 0);  // the track starts empty at the first submit
  for (const auto& p : series) add(p.seconds, p.value);
}

json other_data(const Timeline& timeline) {
  json data{{"pipeline", timeline.pipeline},
            {"requests_recorded", timeline.requests.size()},
            {"requests_dropped", timeline.dropped},
            {"max_requests", timeline.max_requests},
            {"clock", "steady clock, microseconds from the first recorded submit"},
            {"in_flight", "requests between their submit and the end of their last stage"}};
  if (timeline.dropped > 0)
    data["note"] = "only the first " + std::to_string(timeline.max_requests) +
                   " results are in this trace; " + std::to_string(timeline.dropped) +
                   " later ones were dropped (their queue depths and in-flight counts are missing too)";
  return data;
}

void write_trace(std::ostream& out, const Timeline& timeline) {
  const std::vector<int> counts = lane_counts(timeline);
  const std::vector<int> lanes = first_lanes(counts);
  const Clock::time_point origin = timeline.origin();
  out << "{\"displayTimeUnit\": \"ms\",\n\"otherData\": "
      << other_data(timeline).dump(-1, ' ', false, json::error_handler_t::replace) << ",\n\"traceEvents\": [";
  EventWriter events(out);
  write_lane_names(events, timeline, counts, lanes);
  for (std::size_t i = 0; i < timeline.requests.size(); ++i)
    write_request(events, timeline, lanes, origin, timeline.requests[i], i + 1);
  for (std::size_t s = 0; s < timeline.stages.size(); ++s)
    write_counter(events, "queue " + timeline.stages[s].name, "depth", queue_depth_series(timeline, s));
  write_counter(events, "in flight", "requests", in_flight_series(timeline));
  out << "\n]}\n";
}

}  // namespace

std::string chrome_trace_json(const Timeline& timeline) {
  std::ostringstream out;
  write_trace(out, timeline);
  return out.str();
}

void write_chrome_trace(const Timeline& timeline, const std::filesystem::path& file) {
  std::ofstream out(file, std::ios::binary);
  if (!out)
    throw std::runtime_error("cannot write the trace '" + file.string() + "': " + std::strerror(errno));
  write_trace(out, timeline);
  out.flush();
  if (!out)
    throw std::runtime_error("writing the trace '" + file.string() + "' failed: " + std::strerror(errno));
}

}  // namespace conveyor
