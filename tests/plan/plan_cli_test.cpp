// End-to-end: conveyor profile -> plan -> simulate on the example image pipeline, with a private profile
// directory (XDG_CACHE_HOME) and generated JPEGs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "cli/run_command.hpp"

namespace {

namespace fs = std::filesystem;

using Output = conveyor::testing::CommandOutput;

class PlanCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_plan_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    for (int i = 0; i < 3; ++i) {
      cv::Mat image(120 + 40 * i, 160, CV_8UC3, cv::Scalar(30 * i, 120, 200));
      cv::imwrite((dir_ / "images" / ("img" + std::to_string(i) + ".jpg")).string(), image);
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static Output conveyor(const std::string& args, bool stderr_too = true) {
    return conveyor::testing::run_command("XDG_CACHE_HOME=" + (dir_ / "cache").string() + " " + CONVEYOR_BINARY +
                                         " " + args + (stderr_too ? " 2>&1" : " 2>/dev/null"));
  }
  static std::string example() {
    return (fs::path(CONVEYOR_SOURCE_DIR) / "examples" / "image_preprocess.yaml").string();
  }
  static void profile() {
    const Output out = conveyor("profile " + example() + " --input " + (dir_ / "images").string() +
                                " --threads 1 --requests 6 --warmup 1");
    ASSERT_EQ(out.status, 0) << out.text;
  }

  static fs::path dir_;
};
fs::path PlanCli::dir_;

// Runs first (gtest keeps declaration order within a suite): nothing is profiled yet.
TEST_F(PlanCli, PlanWithoutProfilesSaysWhichStagesAndHowToProfile) {
  fs::remove_all(dir_ / "cache");
  const Output out = conveyor("plan " + example());
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.text.find("'decode'"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("conveyor profile"), std::string::npos) << out.text;
  const Output sim = conveyor("simulate " + example());
  EXPECT_EQ(sim.status, 1);
  EXPECT_NE(sim.text.find("conveyor profile"), std::string::npos) << sim.text;
}

TEST_F(PlanCli, ProfileStoresEveryStageAndShowListsThem) {
  profile();
  const Output show = conveyor("profile --show " + example() + " --json", false);
  ASSERT_EQ(show.status, 0) << show.text;
  const auto j = nlohmann::json::parse(show.text);
  std::set<std::string> stages;
  for (const auto& p : j.at("profiles")) {
    stages.insert(p.at("stage").get<std::string>());
    EXPECT_EQ(p.at("threads"), 1);
    EXPECT_EQ(p.at("samples"), 6);
    EXPECT_GT(p.at("mean_ms").get<double>(), 0);
  }
  EXPECT_EQ(stages, (std::set<std::string>{"decode", "preprocess"}));
}

TEST_F(PlanCli, PlanJsonHasTheDocumentedShape) {
  profile();
  const Output out = conveyor("plan " + example() + " --cores 2 --sim-requests 2000 --no-merging --json", false);
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  const auto& stages = j.at("plan").at("stages");
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[1].at("members"), nlohmann::json::array({"preprocess"}));
  std::set<int> cores;
  for (const auto& s : stages) {
    EXPECT_GE(s.at("workers").get<int>(), 1);
    EXPECT_GE(s.at("threads").get<int>(), 1);
    for (int c : s.at("cores").get<std::vector<int>>())
      EXPECT_TRUE(cores.insert(c).second) << "core " << c << " twice";
  }
  EXPECT_EQ(stages[0].at("name"), "decode");
  EXPECT_GT(j.at("predicted").at("throughput_rps").get<double>(), 0);
  EXPECT_GT(j.at("predicted").at("latency_ms").at("p99").get<double>(),
            j.at("predicted").at("latency_ms").at("p50").get<double>() * 0.99);
  EXPECT_TRUE(j.at("bottleneck") == "decode" || j.at("bottleneck") == "preprocess");
  EXPECT_GT(j.at("bound_rps").get<double>(), 0);
}

TEST_F(PlanCli, OneCoreMakesTheStagesShareItOrRunMerged) {
  profile();
  const Output out = conveyor("plan " + example() + " --cores 1 --sim-requests 0 --no-merging --json", false);
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  for (const auto& s : j.at("plan").at("stages")) EXPECT_TRUE(s.at("share_cores").get<bool>()) << s.dump();
  const Output text = conveyor("plan " + example() + " --cores 1 --sim-requests 0 --no-fusion");  // the old name
  EXPECT_NE(text.text.find("share_cores: true"), std::string::npos) << text.text;

  // With merging (the default) one worker runs both stages in turn: no core is time-sliced.
  const Output merged = conveyor("plan " + example() + " --cores 1 --sim-requests 0 --json", false);
  ASSERT_EQ(merged.status, 0) << merged.text;
  const nlohmann::json plan = nlohmann::json::parse(merged.text);
  const auto& stages = plan.at("plan").at("stages");
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(stages[0].at("name"), "decode+preprocess");
  EXPECT_FALSE(stages[0].at("share_cores").get<bool>());
  const Output apply = conveyor("plan " + example() + " --cores 1 --sim-requests 0");
  EXPECT_NE(apply.text.find("  - name: preprocess\n    with_previous: true\n"), std::string::npos) << apply.text;
}

TEST_F(PlanCli, SimulateReportsThroughputLatencyAndStages) {
  profile();
  const Output out = conveyor("simulate " + example() + " --concurrency 3 --requests 3000 --json", false);
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  EXPECT_GT(j.at("simulated").at("throughput_rps").get<double>(), 0);
  EXPECT_EQ(j.at("simulated").at("stages").size(), 2u);
  const auto& latency = j.at("simulated").at("latency_ms");
  EXPECT_LE(latency.at("p50").get<double>(), latency.at("p99").get<double>());
  EXPECT_LE(latency.at("p99").get<double>(), latency.at("max").get<double>());
  // As written the pipeline needs 2 cores: a 1-core budget is refused with the way out.
  const Output small = conveyor("simulate " + example() + " --cores 1");
  EXPECT_EQ(small.status, 1);
  EXPECT_NE(small.text.find("--planned"), std::string::npos) << small.text;
  EXPECT_EQ(conveyor("simulate " + example() + " --cores 1 --planned --requests 2000").status, 0);
}

TEST_F(PlanCli, BadArgumentsAreErrorsNotCrashes) {
  profile();
  for (const std::string& args :
       {"plan " + example() + " --cores abc", "plan " + example() + " --cores 3-1",
        "plan " + example() + " --objective speed",
        "profile " + example() + " --input " + (dir_ / "images").string() + " --threads 0",
        "profile " + example()}) {
    const Output out = conveyor(args);
    EXPECT_NE(out.status, 0) << args;
    EXPECT_GT(out.status, 0) << args << ": " << out.text;  // exited, did not crash
  }
}

}  // namespace
