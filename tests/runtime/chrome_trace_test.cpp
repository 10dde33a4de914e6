#include "conveyor/runtime/chrome_trace.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using nlohmann::json;
using testing::sample_with_value;
using testing::sleep_ms;
using testing::unpinned_stage;

constexpr uint64_t kFailingId = 7;

// decode (1 worker) -> model (2 workers) -> post (1 worker); request kFailingId fails in model.
Timeline record_run(std::size_t requests, std::size_t max_requests) {
  std::vector<StageSpec> stages;
  stages.push_back(unpinned_stage("decode", [](Sample&) { sleep_ms(0.2); }));
  stages.push_back(unpinned_stage(
      "model",
      [](Sample& s) {
        sleep_ms(0.5);
        if (s.id == kFailingId) throw std::runtime_error("bad tensor");
      },
      2));
  stages.push_back(unpinned_stage("post", [](Sample&) {}));
  PipelineOptions options;
  options.name = "traced";
  Pipeline pipeline(options, std::move(stages));
  TimelineRecorder recorder(pipeline, max_requests);
  for (uint64_t i = 0; i < requests; ++i) {
    Sample sample = sample_with_value(i, 0);
    sample.source = "input_" + std::to_string(i) + ".jpg";
    pipeline.submit(std::move(sample), [&recorder](Result&& r) { recorder.record(r); });
  }
  pipeline.wait_idle();
  return recorder.timeline();
}

std::vector<json> events_of(const json& trace, const std::string& phase) {
  std::vector<json> events;
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == phase) events.push_back(e);
  return events;
}

TEST(ChromeTrace, IsAJsonObjectWithOneNamedLanePerWorker) {
  const json trace = json::parse(chrome_trace_json(record_run(12, 100)));
  EXPECT_EQ(trace.at("displayTimeUnit"), "ms");
  EXPECT_EQ(trace.at("otherData").at("requests_recorded"), 12);
  EXPECT_EQ(trace.at("otherData").at("requests_dropped"), 0);
  std::map<int, std::string> lanes;
  std::string process;
  for (const auto& e : events_of(trace, "M")) {
    if (e.at("name") == "thread_name") lanes[e.at("tid").get<int>()] = e.at("args").at("name");
    if (e.at("name") == "process_name") process = e.at("args").at("name");
  }
  EXPECT_EQ(process, "pipeline traced");
  std::set<std::string> names;
  for (const auto& [tid, name] : lanes) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"decode #0", "model #0", "model #1", "post #0"}));
  EXPECT_EQ(lanes.size(), 4u);  // distinct tids
}

TEST(ChromeTrace, HasASliceForEveryRequestAndStageInOrder) {
  const Timeline timeline = record_run(12, 100);
  const json trace = json::parse(chrome_trace_json(timeline));
  std::map<int, std::string> lane_names;
  for (const auto& e : events_of(trace, "M"))
    if (e.at("name") == "thread_name") lane_names[e.at("tid").get<int>()] = e.at("args").at("name");

  // request id -> stage name -> slice
  std::map<uint64_t, std::map<std::string, json>> slices;
  for (const auto& x : events_of(trace, "X")) {
    EXPECT_GE(x.at("dur").get<double>(), 0.0);
    EXPECT_GE(x.at("ts").get<double>(), 0.0);
    const std::string stage = x.at("name");
    // The slice sits on a lane of its own stage.
    EXPECT_EQ(lane_names.at(x.at("tid").get<int>()).rfind(stage + " #", 0), 0u) << x.dump();
    const uint64_t id = x.at("args").at("request");
    EXPECT_EQ(x.at("args").at("input"), "input_" + std::to_string(id) + ".jpg");
    EXPECT_GE(x.at("args").at("queue_wait_ms").get<double>(), 0.0);
    EXPECT_TRUE(slices[id].emplace(stage, x).second) << "two slices for request " << id << " at " << stage;
  }
  ASSERT_EQ(slices.size(), 12u);
  for (const auto& [id, by_stage] : slices) {
    if (id == kFailingId) {
      // It failed in model: no post slice, and the model slice carries the error.
      ASSERT_EQ(by_stage.size(), 2u);
      EXPECT_NE(by_stage.at("model").at("args").at("error").get<std::string>().find("bad tensor"),
                std::string::npos);
      EXPECT_FALSE(by_stage.at("decode").at("args").contains("error"));
      continue;
    }
    ASSERT_EQ(by_stage.size(), 3u) << "request " << id;
    auto end = [](const json& x) { return x.at("ts").get<double>() + x.at("dur").get<double>(); };
    EXPECT_GE(by_stage.at("model").at("ts").get<double>(), end(by_stage.at("decode")));
    EXPECT_GE(by_stage.at("post").at("ts").get<double>(), end(by_stage.at("model")));
    for (const auto& [stage, x] : by_stage) EXPECT_FALSE(x.at("args").contains("error"));
  }
}

TEST(ChromeTrace, FlowsLinkEachRequestAcrossItsSlices) {
  const json trace = json::parse(chrome_trace_json(record_run(12, 100)));
  const auto slices = events_of(trace, "X");
  // Every flow event lies inside a slice on its own lane.
  auto inside_a_slice = [&](const json& flow) {
    for (const auto& x : slices)
      if (x.at("tid") == flow.at("tid") && x.at("ts").get<double>() <= flow.at("ts").get<double>() &&
          flow.at("ts").get<double>() <= x.at("ts").get<double>() + x.at("dur").get<double>())
        return true;
    return false;
  };
  std::map<uint64_t, std::string> phases;  // flow id -> its phases in order, e.g. "stf"
  std::map<uint64_t, double> last_ts;
  for (const auto& e : trace.at("traceEvents")) {
    const std::string ph = e.at("ph");
    if (ph != "s" && ph != "t" && ph != "f") continue;
    const uint64_t id = e.at("id");
    EXPECT_EQ(e.at("cat"), "request");
    EXPECT_TRUE(inside_a_slice(e)) << e.dump();
    if (last_ts.count(id)) {
      EXPECT_GT(e.at("ts").get<double>(), last_ts[id]);
    }
    last_ts[id] = e.at("ts").get<double>();
    phases[id] += ph;
  }
  ASSERT_EQ(phases.size(), 12u);  // every request passed at least two stages
  std::size_t two_stage = 0;
  for (const auto& [id, p] : phases) {
    EXPECT_TRUE(p == "stf" || p == "sf") << "flow " << id << ": " << p;
    two_stage += p == "sf";
  }
  EXPECT_EQ(two_stage, 1u);  // the failed one stopped after model
}

TEST(ChromeTrace, CountersRiseAndReturnToZero) {
  const json trace = json::parse(chrome_trace_json(record_run(12, 100)));
  std::map<std::string, std::vector<json>> counters;
  for (const auto& c : events_of(trace, "C")) counters[c.at("name")].push_back(c);
  ASSERT_EQ(counters.size(), 4u);
  for (const char* name : {"queue decode", "queue model", "queue post", "in flight"}) {
    ASSERT_TRUE(counters.count(name)) << name;
    const auto& series = counters[name];
    int peak = 0;
    double previous = -1;
    for (const auto& c : series) {
      const int value = c.at("args").begin()->get<int>();
      EXPECT_GE(value, 0) << name;
      EXPECT_GE(c.at("ts").get<double>(), previous) << name;
      previous = c.at("ts").get<double>();
      peak = std::max(peak, value);
    }
    EXPECT_EQ(series.back().at("args").begin()->get<int>(), 0) << name;
    if (std::string(name) != "queue post") {
      EXPECT_GT(peak, 0) << name;
    }
  }
  // 12 submitted at once: all twelve were in flight together.
  int in_flight_peak = 0;
  for (const auto& c : counters["in flight"])
    in_flight_peak = std::max(in_flight_peak, c.at("args").at("requests").get<int>());
  EXPECT_GE(in_flight_peak, 2);
}

TEST(ChromeTrace, KeepsOnlyTheFirstRequestsAndSaysSo) {
  const Timeline timeline = record_run(10, 4);
  EXPECT_EQ(timeline.requests.size(), 4u);
  EXPECT_EQ(timeline.dropped, 6u);
  const json trace = json::parse(chrome_trace_json(timeline));
  EXPECT_EQ(trace.at("otherData").at("requests_dropped"), 6);
  EXPECT_NE(trace.at("otherData").at("note").get<std::string>().find("first 4"), std::string::npos);
  std::set<uint64_t> requests;
  for (const auto& x : events_of(trace, "X")) requests.insert(x.at("args").at("request").get<uint64_t>());
  EXPECT_EQ(requests.size(), 4u);
}

TEST(ChromeTrace, WorkerIndexIsRecordedPerStage) {
  const Timeline timeline = record_run(20, 100);
  std::set<int> model_workers;
  for (const auto& r : timeline.requests) {
    EXPECT_EQ(r.stages.at(0).worker, 0);
    ASSERT_GE(r.stages.at(1).worker, 0);
    EXPECT_LT(r.stages.at(1).worker, 2);
    model_workers.insert(r.stages[1].worker);
  }
  EXPECT_FALSE(model_workers.empty());
}

TEST(ChromeTrace, WritesAFileAndNamesOneItCannotWrite) {
  const Timeline timeline = record_run(3, 100);
  const auto file = std::filesystem::path(::testing::TempDir()) / "conveyor_trace_test.json";
  write_chrome_trace(timeline, file);
  std::ifstream in(file);
  EXPECT_EQ(json::parse(in).at("traceEvents").size(),
            json::parse(chrome_trace_json(timeline)).at("traceEvents").size());
  std::filesystem::remove(file);
  try {
    write_chrome_trace(timeline, "/nonexistent-dir/trace.json");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/trace.json"), std::string::npos) << e.what();
  }
}

TEST(TimelineSeries, BusyFractionsAndLatenciesComeFromTheSlices) {
  // Built by hand: one stage, one worker, busy for the first half of a 2 s window.
  Timeline timeline;
  timeline.stages = {{"only", 1}};
  const Clock::time_point t0{std::chrono::seconds(100)};
  TimelineRequest r;
  r.submitted = t0;
  r.stages = {StageTimes{t0, t0, t0 + std::chrono::seconds(1), 0}};
  timeline.requests.push_back(r);
  TimelineRequest idle_end;  // submitted and served instantly at 2 s
  idle_end.submitted = t0 + std::chrono::seconds(2);
  idle_end.stages = {StageTimes{idle_end.submitted, idle_end.submitted, idle_end.submitted, 0}};
  timeline.requests.push_back(idle_end);
  EXPECT_DOUBLE_EQ(timeline.span_seconds(), 2.0);
  const auto busy = busy_fractions(timeline, 0, 4, timeline.span_seconds());
  ASSERT_EQ(busy.size(), 4u);
  EXPECT_NEAR(busy[0], 1.0, 1e-9);
  EXPECT_NEAR(busy[1], 1.0, 1e-9);
  EXPECT_NEAR(busy[2], 0.0, 1e-9);
  EXPECT_NEAR(busy[3], 0.0, 1e-9);
  const auto latencies = latencies_ms(timeline);
  ASSERT_EQ(latencies.size(), 2u);
  EXPECT_NEAR(latencies[0], 0.0, 1e-9);
  EXPECT_NEAR(latencies[1], 1000.0, 1e-9);
  const auto done = finished_counts(timeline, 2, timeline.span_seconds());
  EXPECT_EQ(done, (std::vector<uint64_t>{0, 2}));  // finished at 1 s (second bin's start) and at 2 s
  EXPECT_THROW(busy_fractions(timeline, 0, 0, 1.0), std::invalid_argument);
  // Depth 2 from 0.5 s to 1.5 s, then 0: bins of 1 s hold means 1 and 1.
  const std::vector<TimelinePoint> depth{{0.5, 2}, {1.5, 0}};
  const auto means = mean_over_bins(depth, 2, 2.0);
  ASSERT_EQ(means.size(), 2u);
  EXPECT_NEAR(means[0], 1.0, 1e-9);
  EXPECT_NEAR(means[1], 1.0, 1e-9);
  EXPECT_NEAR(mean_over_bins(depth, 4, 2.0)[1], 2.0, 1e-9);
}

}  // namespace
}  // namespace conveyor
