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

}  // namespace
}  // namespace conveyor
