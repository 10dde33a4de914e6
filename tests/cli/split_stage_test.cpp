// `split:` through the conveyor binary: bench runs and reports the segment stages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli/run_command.hpp"

namespace {

namespace fs = std::filesystem;

using Output = conveyor::testing::CommandOutput;

class SplitStageCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_split_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "inputs");
    cv::Mat image(48, 80, CV_8UC3, cv::Scalar(30, 140, 220));
    image(cv::Rect(10, 8, 30, 20)).setTo(cv::Scalar(200, 10, 60));
    cv::imwrite((dir_ / "inputs" / "a.png").string(), image);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the binary with the segment cache inside the test directory.
  Output conveyor(const std::string& args) {
    return conveyor::testing::run_command("XDG_CACHE_HOME=" + (dir_ / "cache").string() + " " +
                                         std::string(CONVEYOR_BINARY) + " " + args + " 2>&1");
  }

  fs::path write_pipeline(const std::string& model_stage) {
    const fs::path file = dir_ / "split.yaml";
    std::ofstream(file) << "name: split-test\n"
                           "stages:\n"
                           "  - {name: decode, op: image.decode, cores: none, args: {input: bytes, output: image}}\n"
                           "  - name: preprocess\n"
                           "    op: image.preprocess\n"
                           "    cores: none\n"
                           "    args: {input: image, output: pixels, size: [64, 64], resize: stretch}\n" +
                               model_stage;
    return file;
  }

  fs::path dir_;
};

TEST_F(SplitStageCli, BenchShowsOneRowPerSegmentStage) {
  const fs::path model = dir_ / "tinycnn.onnx";
  const Output zoo = conveyor("zoo tinycnn --image-size 64 -o " + model.string());
  ASSERT_EQ(zoo.status, 0) << zoo.text;
  const fs::path pipeline = write_pipeline(
      "  - name: model\n"
      "    op: onnx\n"
      "    cores: none\n"
      "    threads: 1\n"
      "    split: 3\n"
      "    args:\n"
      "      path: tinycnn.onnx\n"
      "      inputs: {input: pixels}\n");
  const std::string args =
      "bench " + pipeline.string() + " -i " + (dir_ / "inputs").string() + " -n 12 --warmup 2 -c 2";
  const Output json = conveyor(args + " --json");
  ASSERT_EQ(json.status, 0) << json.text;
  const auto report = nlohmann::json::parse(json.text.substr(json.text.find('{')));
  std::vector<std::string> names;
  for (const auto& stage : report.at("stages")) names.push_back(stage.at("name").get<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"decode", "preprocess", "model.0", "model.1", "model.2"}))
      << json.text;
  EXPECT_EQ(report.at("errors").get<int>(), 0) << json.text;

  const Output table = conveyor(args);
  ASSERT_EQ(table.status, 0) << table.text;
  for (const std::string name : {"model.0", "model.1", "model.2"})
    EXPECT_NE(table.text.find(name), std::string::npos) << table.text;
  // The measured node costs went into the cache given by XDG_CACHE_HOME; no segment file did.
  EXPECT_TRUE(fs::exists(dir_ / "cache" / "conveyor" / "segments"));
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "cache"))
    EXPECT_NE(entry.path().extension(), ".onnx") << entry.path();
}

TEST_F(SplitStageCli, SplitOnANonOnnxStageFailsNamingTheLine) {
  const fs::path file = dir_ / "bad.yaml";
  std::ofstream(file) << "stages:\n"
                         "  - name: decode\n"
                         "    op: image.decode\n"
                         "    split: 2\n";
  const Output out = conveyor("bench " + file.string() + " -i " + (dir_ / "inputs").string() + " -n 1");
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find(":4"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("stages[0].split"), std::string::npos) << out.text;
}

}  // namespace
