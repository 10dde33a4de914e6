// merge_stages: several operators run in turn by one stage's workers, each one timed.
#include "conveyor/runtime/merged_stage.hpp"

#include <gtest/gtest.h>

#include "conveyor/runtime/pipeline.hpp"
#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using testing::sample_with_value;
using testing::sleep_ms;
using testing::unpinned_stage;
using testing::value_of;

TEST(MergedStage, RunsEachOperatorInTurnAndTimesEachOne) {
  std::vector<StageSpec> members;
  members.push_back(unpinned_stage("add1", [](Sample& s) { s.at("x").data<float>()[0] += 1; }));
  members.push_back(unpinned_stage("slow_times3", [](Sample& s) {
    sleep_ms(5);
    s.at("x").data<float>()[0] *= 3;
  }));
  StageSpec merged = merge_stages(members, "add1+slow_times3");
  merged.cores.kind = CoreSpec::Kind::kUnpinned;
  std::vector<StageSpec> stages;
  stages.push_back(std::move(merged));
  Pipeline pipeline({}, std::move(stages));
  const Result r = pipeline.submit(sample_with_value(0, 2.0f)).get();
  ASSERT_TRUE(r.ok()) << r.error->describe();
  EXPECT_EQ(value_of(r.sample, "x"), 9.0f);  // (2 + 1) * 3: in order
  ASSERT_EQ(r.sample.stage_times.size(), 1u);
  const auto& seconds = r.sample.member_seconds.at("add1+slow_times3");
  ASSERT_EQ(seconds.size(), 2u);
  EXPECT_GE(seconds[0], 0.0);
  EXPECT_GE(seconds[1], 0.004);  // it slept 5 ms: a sleep lasts at least that long
  const double stage_seconds =
      std::chrono::duration<double>(r.sample.stage_times[0].finished - r.sample.stage_times[0].started).count();
  EXPECT_LE(seconds[0] + seconds[1], stage_seconds + 1e-6);
}

TEST(MergedStage, MetricsShowEachMembersServiceTimeUnderTheStage) {
  std::vector<StageSpec> members;
  members.push_back(unpinned_stage("quick", [](Sample& s) { s.at("x").data<float>()[0] += 1; }));
  members.push_back(unpinned_stage("slow", [](Sample&) { sleep_ms(3); }));
  StageSpec merged = merge_stages(members, "quick+slow");
  EXPECT_EQ(merged.members, (std::vector<std::string>{"quick", "slow"}));
  merged.cores.kind = CoreSpec::Kind::kUnpinned;
  std::vector<StageSpec> stages;
  stages.push_back(std::move(merged));
  stages.push_back(unpinned_stage("alone", [](Sample&) {}));
  Pipeline pipeline({}, std::move(stages));
  std::vector<double> slow_seconds;
  for (uint64_t i = 0; i < 4; ++i) {
    const Result r = pipeline.submit(sample_with_value(i, 1.0f)).get();
    ASSERT_TRUE(r.ok()) << r.error->describe();
    slow_seconds.push_back(r.sample.member_seconds.at("quick+slow")[1]);
  }
  const PipelineMetrics metrics = pipeline.metrics();
  ASSERT_EQ(metrics.stages.size(), 2u);
  EXPECT_TRUE(metrics.stages[1].members.empty()) << "a stage of one operator has no members";
  const auto& shown = metrics.stages[0].members;
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0].name, "quick");
  EXPECT_EQ(shown[1].name, "slow");
  EXPECT_EQ(shown[0].service.count, 4u);
  EXPECT_EQ(shown[1].service.count, 4u);
  double slow_total = 0;
  for (double s : slow_seconds) slow_total += s;
  EXPECT_NEAR(shown[1].busy_seconds, slow_total, 1e-6);  // the times the samples carried, summed
  EXPECT_LE(shown[0].busy_seconds + shown[1].busy_seconds, metrics.stages[0].busy_seconds + 1e-6);
  pipeline.reset_metrics();
  EXPECT_EQ(pipeline.metrics().stages[0].members[1].service.count, 0u);
}

}  // namespace
}  // namespace conveyor
