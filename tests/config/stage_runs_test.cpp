// with_previous: merged stages in pipeline files, the runs they form, and one runtime stage per run.
#include <gtest/gtest.h>

#include "config/config_test_support.hpp"
#include "conveyor/config/stage_runs.hpp"
#include "conveyor/runtime/pipeline.hpp"

namespace conveyor {
namespace {

using test::line_containing;
using test::parse_error;

const std::string kMerged =
    "stages:\n"
    "  - {name: a, op: x, workers: 2, cores: none, threads: 1, queue_capacity: 3}\n"
    "  - {name: b, op: x, with_previous: true}\n"
    "  - {name: c, op: x, cores: none}\n"
    "  - {name: d, op: x, with_previous: true}\n"
    "  - {name: e, op: x, with_previous: false, cores: none}\n";

TEST(StageRuns, WithPreviousJoinsTheStageBeforeIt) {
  const PipelineConfig config = parse_pipeline_config(kMerged, "p.yaml");
  EXPECT_FALSE(config.stages[0].with_previous);
  EXPECT_TRUE(config.stages[1].with_previous);
  EXPECT_EQ(stage_runs(config), (std::vector<std::vector<std::size_t>>{{0, 1}, {2, 3}, {4}}));
}

TEST(StageRuns, MergedRunsBecomeOneRuntimeStageRunningEachOperatorInTurn) {
  PipelineConfig config = parse_pipeline_config(kMerged, "p.yaml");
  std::vector<StageSpec> specs;
  for (const auto& stage : config.stages) {
    StageSpec spec;
    spec.name = stage.name;
    spec.workers = stage.workers;
    spec.cores = stage.cores;
    spec.threads = stage.threads;
    spec.queue_capacity = stage.queue_capacity;
    spec.factory = make_operator([name = stage.name](Sample& s) { s.texts["order"].push_back(name); });
    specs.push_back(std::move(spec));
  }
  std::vector<StageSpec> merged = merge_stage_runs(config, specs);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].name, "a+b");
  EXPECT_EQ(merged[0].workers, 2);
  EXPECT_EQ(merged[0].threads, 1);
  EXPECT_EQ(merged[0].queue_capacity, 3u);
  EXPECT_EQ(merged[1].name, "c+d");
  EXPECT_EQ(merged[2].name, "e");

  Pipeline pipeline({}, std::move(merged));
  const Result result = pipeline.submit(Sample{}).get();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.sample.texts.at("order"), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(pipeline.metrics().stages.size(), 3u);

  specs.pop_back();
  EXPECT_THROW(merge_stage_runs(config, specs), std::logic_error);
}

TEST(StageRuns, TheFirstStageHasNothingToRunWith) {
  const std::string yaml = "stages:\n  - name: a\n    op: x\n    with_previous: true\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, "with_previous"));
  EXPECT_EQ(error.key(), "stages[0].with_previous");
}

TEST(StageRuns, AMergedStageCannotSetWhatItsRunDecides) {
  for (const std::string key :
       {"workers: 2", "cores: 1", "share_cores: true", "threads: 2", "queue_capacity: 2", "split: 2"}) {
    const std::string yaml = "stages:\n  - {name: a, op: x}\n  - name: b\n    op: onnx\n    with_previous: true\n    " +
                             key + "\n";
    const ConfigError error = parse_error(yaml);
    EXPECT_EQ(error.line(), line_containing(yaml, key)) << key;
    EXPECT_NE(std::string(error.what()).find("with_previous"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace conveyor
