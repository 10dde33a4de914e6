// What the binary says at start-up and in its reports that a newcomer needs: a deployment file given where
// one pipeline file goes, and where a merged stage's time goes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "cli/run_command.hpp"

namespace {

namespace fs = std::filesystem;

using Output = conveyor::testing::CommandOutput;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class StartupMessages : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_startup_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "inputs");
    cv::imwrite((dir_ / "inputs" / "a.png").string(), cv::Mat(12, 16, CV_8UC3, cv::Scalar(10, 200, 30)));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `args` run from the source directory (so example paths read as a user types them); with `stderr`, its
  // output too.
  Output conveyor(const std::string& args, bool with_stderr = true) {
    return conveyor::testing::run_command(
        "cd " + std::string(CONVEYOR_SOURCE_DIR) + " && XDG_CACHE_HOME=" + (dir_ / "cache").string() +
        " timeout 120 " + CONVEYOR_BINARY + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
  }

  std::string inputs() const { return " --input " + (dir_ / "inputs").string(); }

  fs::path dir_;
};

TEST_F(StartupMessages, ADeploymentFileWhereAPipelineGoesNamesItsPipelinesAndConveyorPlan) {
  const Output bench = conveyor("bench examples/deployment.yaml" + inputs() + " --requests 1");
  EXPECT_EQ(bench.status, 1) << bench.text;
  EXPECT_TRUE(contains(bench.text,
                       "'examples/deployment.yaml' is a deployment file (several pipelines); bench takes one "
                       "pipeline file, e.g. one of those it names: examples/image_classify.yaml, "
                       "examples/text_tokenize.yaml; or use 'conveyor plan examples/deployment.yaml' for a "
                       "deployment"))
      << bench.text;
  EXPECT_FALSE(contains(bench.text, "unknown key")) << bench.text;

  const Output run =
      conveyor("run examples/deployment.yaml" + inputs() + " --output " + (dir_ / "out.jsonl").string());
  EXPECT_EQ(run.status, 1) << run.text;
  EXPECT_TRUE(contains(run.text, "run takes one pipeline file, e.g. one of those it names")) << run.text;

  const Output profile = conveyor("profile examples/deployment.yaml" + inputs());
  EXPECT_EQ(profile.status, 1) << profile.text;
  EXPECT_TRUE(contains(profile.text,
                       "profile each of those it names (examples/image_classify.yaml, "
                       "examples/text_tokenize.yaml), then plan the deployment with 'conveyor "
                       "plan examples/deployment.yaml'"))
      << profile.text;
}

TEST_F(StartupMessages, BenchShowsAMergedStagesMembersUnderItsRow) {
  const fs::path pipeline = dir_ / "merged.yaml";
  std::ofstream(pipeline)
      << "stages:\n"
         "  - {name: decode, op: image.decode, cores: none}\n"
         "  - {name: preprocess, op: image.preprocess, with_previous: true, args: {size: 8}}\n"
         "  - {name: softmax, op: post.softmax, cores: none, args: {input: pixels}}\n";
  const Output text = conveyor("bench " + pipeline.string() + inputs() + " --requests 6 --warmup 0", false);
  ASSERT_EQ(text.status, 0) << text.text;
  std::istringstream lines(text.text);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("decode+preprocess ", 0) == 0 || line.rfind("  decode ", 0) == 0 ||
        line.rfind("  preprocess ", 0) == 0 || line.rfind("softmax ", 0) == 0)
      rows.push_back(line);
  ASSERT_EQ(rows.size(), 4u) << text.text;
  EXPECT_EQ(rows[0].rfind("decode+preprocess ", 0), 0u) << text.text;
  EXPECT_EQ(rows[1].rfind("  decode ", 0), 0u) << text.text;
  EXPECT_EQ(rows[2].rfind("  preprocess ", 0), 0u) << text.text;
  EXPECT_EQ(rows[3].rfind("softmax ", 0), 0u) << text.text;
  EXPECT_TRUE(contains(rows[1], "% of decode+preprocess")) << text.text;
  EXPECT_TRUE(contains(rows[2], "% of decode+preprocess")) << text.text;

  const Output json =
      conveyor("bench " + pipeline.string() + inputs() + " --requests 6 --warmup 0 --json", false);
  ASSERT_EQ(json.status, 0) << json.text;
  const nlohmann::json report = nlohmann::json::parse(json.text);
  const nlohmann::json& merged = report.at("stages").at(0);
  EXPECT_EQ(merged.at("name"), "decode+preprocess");
  ASSERT_EQ(merged.at("members").size(), 2u) << json.text;
  double shares = 0;
  for (std::size_t m = 0; m < 2; ++m) {
    const nlohmann::json& member = merged.at("members").at(m);
    EXPECT_EQ(member.at("name"), m == 0 ? "decode" : "preprocess");
    EXPECT_EQ(member.at("service_ms").at("mean").get<double>() > 0, true) << json.text;
    shares += member.at("share").get<double>();
  }
  EXPECT_GT(shares, 0.0);
  EXPECT_LE(shares, 1.0 + 1e-9);
  EXPECT_FALSE(report.at("stages").at(1).contains("members")) << "softmax is a stage of one operator";
}

}  // namespace
