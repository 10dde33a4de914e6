#include "conveyor/plan/profile_stage.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace conveyor::plan {
namespace {

Sample input(float value) {
  Sample s;
  s.tensors["x"] = Tensor::from<float>({1}, std::vector<float>{value});
  return s;
}

StageSpec doubling_stage(double sleep_ms) {
  StageSpec spec;
  spec.name = "double";
  spec.factory = make_operator([sleep_ms](Sample& s) {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(sleep_ms));
    if (s.at("x").data<float>()[0] < 0) throw std::runtime_error("negative input");
    s.tensors["y"] = Tensor::from<float>({1}, std::vector<float>{2 * s.at("x").data<float>()[0]});
  });
  return spec;
}

TEST(ProfileStage, MeasuresEveryRequestAndReturnsOutputsInInputOrder) {
  ProfileRunOptions options;
  options.requests = 12;
  options.warmup = 2;
  options.pin = false;
  const auto m = profile_stage(doubling_stage(1.0), 1, {input(1), input(2), input(3)}, options);
  ASSERT_EQ(m.service.size(), 12u);
  for (double s : m.service) EXPECT_GE(s, 1.0e-3);  // sleep_for never returns early
  ASSERT_EQ(m.outputs.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(m.outputs[static_cast<std::size_t>(i)].at("y").data<float>()[0], 2.0f * (i + 1));
  EXPECT_EQ(m.errors, 0u);
}

TEST(ProfileStage, FailingInputsAreCountedAndLeftOutOfTheOutputs) {
  ProfileRunOptions options;
  options.requests = 4;
  options.warmup = 0;
  options.pin = false;
  const auto m = profile_stage(doubling_stage(0), 1, {input(1), input(-1)}, options);
  EXPECT_EQ(m.errors, 2u);
  EXPECT_EQ(m.service.size(), 2u);
  ASSERT_EQ(m.outputs.size(), 1u);
  EXPECT_NE(m.first_error.find("negative input"), std::string::npos);
}

TEST(ProfileStage, AllFailingIsAnError) {
  ProfileRunOptions options;
  options.pin = false;
  options.requests = 3;
  EXPECT_THROW(profile_stage(doubling_stage(0), 1, {input(-1)}, options), std::runtime_error);
  EXPECT_THROW(profile_stage(doubling_stage(0), 1, {}, options), std::invalid_argument);
}

TEST(ProfileStage, RefusesMoreThreadsThanCores) {
  const Topology two = Topology::from_cpus({0, 1});
  EXPECT_THROW(profile_stage(doubling_stage(0), 3, {input(1)}, {}, two), std::invalid_argument);
}

}  // namespace
}  // namespace conveyor::plan
