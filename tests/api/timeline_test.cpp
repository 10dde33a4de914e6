// A running pipeline's timeline (StartOptions::timeline_requests) and its charts (plot_timeline, gnuplot).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "conveyor/api/runtime.hpp"
#include "conveyor/api/timeline_plot.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

class TimelineFacade : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_timeline_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    RuntimeOptions options;
    options.profile_dir = dir_ / "profiles";
    options.segment_cache_dir = dir_ / "segments";
    runtime_ = std::make_unique<Runtime>(options);
  }
  void TearDown() override {
    runtime_.reset();
    fs::remove_all(dir_);
  }

  // softmax -> argmax on 4 logits, unpinned: any machine runs it.
  std::unique_ptr<RunningPipeline> start(std::size_t timeline_requests) {
    const PipelineConfig config = runtime_->parse(
        "name: scores\nstages:\n"
        "  - name: soft_max\n    op: post.softmax\n    cores: none\n"
        "  - name: arg_max\n    op: post.argmax\n    cores: none\n    workers: 2\n",
        dir_ / "scores.yaml");
    StartOptions options;
    options.timeline_requests = timeline_requests;
    return runtime_->start(config, options);
  }

  static Sample logits(uint64_t id) {
    Sample s;
    s.id = id;
    s.source = "logits " + std::to_string(id);
    s.tensors["logits"] = Tensor::from<float>({4}, std::vector<float>{1, 2, 3, static_cast<float>(id)});
    return s;
  }

  static Timeline run(RunningPipeline& running, uint64_t requests) {
    std::vector<std::future<Result>> results;
    for (uint64_t i = 0; i < requests; ++i) results.push_back(running.submit(logits(i)));
    for (auto& r : results) EXPECT_TRUE(r.get().ok());
    running.pipeline().wait_idle();
    return *running.timeline();
  }

  static std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path dir_;
  std::unique_ptr<Runtime> runtime_;
};

TEST_F(TimelineFacade, KeepsNoTimelineUnlessAsked) {
  const auto running = start(0);
  EXPECT_FALSE(running->timeline().has_value());
}

TEST_F(TimelineFacade, SubmittedAndRecordedResultsLandInTheTimeline) {
  const auto running = start(30);
  const Timeline timeline = run(*running, 20);
  EXPECT_EQ(timeline.pipeline, "scores");
  ASSERT_EQ(timeline.stages.size(), 2u);
  EXPECT_EQ(timeline.stages[1].name, "arg_max");
  EXPECT_EQ(timeline.stages[1].workers, 2);
  ASSERT_EQ(timeline.requests.size(), 20u);
  for (const auto& r : timeline.requests) {
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.source, "logits " + std::to_string(r.id));
    ASSERT_EQ(r.stages.size(), 2u);
    EXPECT_LE(r.stages[0].finished, r.stages[1].started);
    EXPECT_GE(r.stages[1].worker, 0);
    EXPECT_LT(r.stages[1].worker, 2);
  }
  // A load generator's results come in through record(); past the cap they are only counted.
  Result extra = running->submit(logits(99)).get();
  for (int i = 0; i < 12; ++i) running->record(extra);
  const Timeline capped = *running->timeline();
  EXPECT_EQ(capped.requests.size(), 30u);
  EXPECT_EQ(capped.dropped, 3u);
}

TEST_F(TimelineFacade, PlotsAnSvgNamingEveryStage) {
  const auto running = start(100);
  const Timeline timeline = run(*running, 40);
  const fs::path svg = dir_ / "chart.svg";
  plot_timeline(timeline, std::nullopt, svg);
  const std::string text = read(svg);
  EXPECT_TRUE(text.rfind("<?xml", 0) == 0 || text.rfind("<svg", 0) == 0) << text.substr(0, 100);
  EXPECT_NE(text.find("</svg>"), std::string::npos);
  for (const char* name : {"soft_max", "arg_max", "queue soft_max", "in flight", "latency"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
  EXPECT_EQ(text.find("predicted"), std::string::npos);
}

TEST_F(TimelineFacade, PlotsPredictionsBesideTheMeasurements) {
  const auto running = start(100);
  const Timeline timeline = run(*running, 40);
  Predictions predicted;
  predicted.workload = "closed loop, 4 in flight";
  predicted.analytic = {1234.5, 0.2, 0.9};
  predicted.simulated = {1111.0, 0.25, 1.1};
  predicted.stages = {{"soft_max", 0.4, 0.45}, {"arg_max", 0.3, 0.35}};
  const fs::path svg = dir_ / "predicted.svg";
  plot_timeline(timeline, predicted, svg);
  const std::string text = read(svg);
  for (const char* label : {"soft_max predicted (simulator) 45%", "arg_max predicted (analytic) 30%",
                            "predicted (simulator) 1111 req/s", "predicted p50, p99 (simulator)"})
    EXPECT_NE(text.find(label), std::string::npos) << label;
}

TEST_F(TimelineFacade, PlotsAPng) {
  const auto running = start(100);
  const Timeline timeline = run(*running, 10);
  const fs::path png = dir_ / "chart.png";
  plot_timeline(timeline, std::nullopt, png);
  const std::string bytes = read(png);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(TimelineFacade, RefusesWhatItCannotPlot) {
  EXPECT_THROW(check_plot_file(dir_ / "chart.pdf"), std::invalid_argument);
  EXPECT_THROW(check_plot_file(dir_ / "no_such_folder" / "chart.svg"), std::invalid_argument);
  try {
    plot_timeline(Timeline{}, std::nullopt, dir_ / "empty.svg");
    FAIL() << "an empty timeline has nothing to plot";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("empty.svg"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "empty.svg"));
}

}  // namespace
}  // namespace conveyor
