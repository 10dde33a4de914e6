// End-to-end: one stage's corrupt profile file in a private profile store (XDG_CACHE_HOME) troubles only
// the commands that need that stage, and `run` still records everything else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli/run_command.hpp"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using Output = conveyor::testing::CommandOutput;

class CorruptProfileCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_corrupt_profile_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    cv::imwrite((dir_ / "images" / "a.png").string(), cv::Mat(24, 32, CV_8UC3, cv::Scalar(10, 120, 200)));
    const std::string decode = "  - {name: decode, op: image.decode, cores: none}\n";
    write("decode_only.yaml", "name: decode-only\nstages:\n" + decode);
    write("both.yaml", "name: both\nstages:\n" + decode +
                           "  - {name: preprocess, op: image.preprocess, cores: none, args: {size: 8}}\n");
    const Output profiled = conveyor("profile " + path("both.yaml") + " --input " + path("images") +
                                     " --threads 1 --requests 3 --warmup 0");
    ASSERT_EQ(profiled.status, 0) << profiled.text;
    for (const auto& item : fs::directory_iterator(profiles())) {
      if (item.path().extension() != ".json") continue;
      nlohmann::json j = nlohmann::json::parse(std::ifstream(item.path()));
      if (j.at("op") != "image.preprocess") continue;
      j["batches"][0]["samples_ms"][0] = -1.0;
      std::ofstream(item.path()) << j.dump(1);
      corrupt_ = item.path();
    }
    ASSERT_FALSE(corrupt_.empty());
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path profiles() const { return dir_ / "cache" / "conveyor" / "profiles"; }
  Output conveyor(const std::string& args) const {
    return conveyor::testing::run_command("XDG_CACHE_HOME=" + (dir_ / "cache").string() + " " +
                                          CONVEYOR_BINARY + " " + args + " 2>&1");
  }
  std::size_t decode_samples() const {
    for (const auto& item : fs::directory_iterator(profiles())) {
      if (item.path().extension() != ".json") continue;
      const nlohmann::json j = nlohmann::json::parse(std::ifstream(item.path()));
      if (j.at("op") == "image.decode") return j.at("count").get<std::size_t>();
    }
    return 0;
  }

  fs::path dir_;
  fs::path corrupt_;
};

TEST_F(CorruptProfileCli, PlanOfAPipelineWithoutThatStageWorks) {
  const Output out = conveyor("plan " + path("decode_only.yaml") + " --cores 1 --sim-requests 0");
  EXPECT_EQ(out.status, 0) << out.text;
}

TEST_F(CorruptProfileCli, PlanOfThePipelineWithThatStageNamesTheFileAndField) {
  const Output out = conveyor("plan " + path("both.yaml") + " --cores 1 --sim-requests 0");
  EXPECT_EQ(out.status, 1);
  EXPECT_THAT(out.text, HasSubstr("profile file '" + corrupt_.string() +
                                  "' is corrupt: batches[0].samples_ms[0]: must be a duration in ms"));
}

TEST_F(CorruptProfileCli, ShowListsTheOthersAndWarnsAboutTheFile) {
  const Output out = conveyor("profile --show");
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_THAT(out.text, HasSubstr("warning: profile file '" + corrupt_.string() + "' is corrupt"));
  EXPECT_THAT(out.text, HasSubstr("image.decode"));
}

TEST_F(CorruptProfileCli, RunRecordsTheOtherStagesAndTheArrivals) {
  const std::size_t before = decode_samples();
  const Output out =
      conveyor("run " + path("both.yaml") + " --input " + path("images") + " --output " + path("out.jsonl"));
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_THAT(out.text,
              HasSubstr("warning: stage 'preprocess': not added to the profile history: profile file '" +
                        corrupt_.string() + "' is corrupt"));
  EXPECT_THAT(out.text, HasSubstr("history: 1 service times of 1 stage(s) and 1 arrivals added"));
  EXPECT_EQ(decode_samples(), before + 1);
  EXPECT_TRUE(fs::exists(profiles() / "arrivals" / "both.jsonl"));
  EXPECT_THAT(out.text, Not(HasSubstr("could not add this run")));
}

}  // namespace
