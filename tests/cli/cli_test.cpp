// End-to-end tests of the conveyor binary: what a user types, what they get back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "cli/run_command.hpp"

namespace {

namespace fs = std::filesystem;

using Output = conveyor::testing::CommandOutput;

// stdout and stderr together; run and bench add to the profile history, so keep it out of the user's cache.
Output conveyor(const std::string& args) {
  const fs::path cache = fs::path(::testing::TempDir()) / ("conveyor_cli_cache_" + std::to_string(::getpid()));
  return conveyor::testing::run_command("XDG_CACHE_HOME=" + cache.string() + " " + CONVEYOR_BINARY + " " + args +
                                        " 2>&1");
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "inputs");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  void write_jpeg(const fs::path& path, int width, int height) {
    cv::Mat image(height, width, CV_8UC3, cv::Scalar(40, 120, 200));
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg);
    write_file(path, std::string(jpeg.begin(), jpeg.end()));
  }
  fs::path example(const std::string& name) { return fs::path(CONVEYOR_SOURCE_DIR) / "examples" / name; }

  fs::path dir_;
};

TEST_F(Cli, RunWritesOneLinePerInputInOrderWithErrorsForBadImages) {
  write_jpeg(dir_ / "inputs" / "a_good.jpg", 320, 240);
  write_file(dir_ / "inputs" / "b_corrupt.jpg", "\xff\xd8\xff\xe0 this is not really a jpeg");
  write_file(dir_ / "inputs" / "c_empty.jpg", "");
  write_jpeg(dir_ / "inputs" / "d_good.jpg", 100, 400);
  const fs::path results = dir_ / "results.jsonl";
  const Output out = conveyor("run " + example("image_preprocess.yaml").string() + " --input " +
                              (dir_ / "inputs").string() + " --output " + results.string());
  EXPECT_EQ(out.status, 3) << out.text;  // some inputs failed
  EXPECT_NE(out.text.find("4 inputs: 2 ok, 2 failed"), std::string::npos) << out.text;

  std::ifstream in(results);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 4u);
  const char* names[] = {"a_good.jpg", "b_corrupt.jpg", "c_empty.jpg", "d_good.jpg"};
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_EQ(fs::path(lines[i]["input"].get<std::string>()).filename(), names[i]);
  EXPECT_TRUE(lines[0]["ok"].get<bool>());
  EXPECT_EQ(lines[0]["outputs"]["pixels"]["shape"], nlohmann::json({1, 3, 224, 224}));
  for (std::size_t bad : {1u, 2u}) {
    EXPECT_FALSE(lines[bad]["ok"].get<bool>());
    EXPECT_EQ(lines[bad]["error"]["stage"], "decode");
    EXPECT_FALSE(lines[bad]["error"]["message"].get<std::string>().empty());
  }
  EXPECT_TRUE(lines[3]["ok"].get<bool>());
}

TEST_F(Cli, BenchJsonHasTheDocumentedFields) {
  write_jpeg(dir_ / "inputs" / "one.jpg", 256, 256);
  const Output out = conveyor("bench " + example("image_preprocess.yaml").string() + " --input " +
                              (dir_ / "inputs").string() + " --requests 40 --warmup 5 --concurrency 2 --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  EXPECT_EQ(j["requests"], 40);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_GT(j["throughput_rps"].get<double>(), 0);
  for (const char* p : {"p50", "p90", "p99", "max"}) EXPECT_GT(j["latency_ms"][p].get<double>(), 0) << p;
  ASSERT_EQ(j["stages"].size(), 2u);
  for (const auto& stage : j["stages"]) {
    EXPECT_EQ(stage["workers"], 1);
    EXPECT_EQ(stage["cores"], 1);
    EXPECT_EQ(stage["items"], 40);
    EXPECT_GE(stage["utilization"].get<double>(), 0);
    EXPECT_LE(stage["utilization"].get<double>(), 1.0);
    EXPECT_GT(stage["service_ms"]["mean"].get<double>(), 0);
    EXPECT_GE(stage["service_ms"]["p99"].get<double>(), stage["service_ms"]["p50"].get<double>());
    EXPECT_TRUE(stage["queue_ms"].contains("mean"));
  }
  EXPECT_EQ(j["stages"][0]["name"], "decode");
}

TEST_F(Cli, BadYamlIsAnErrorWithFileAndLine) {
  const fs::path file = dir_ / "bad.yaml";
  write_file(file, "name: x\nstages:\n  - name: decode\n    op: image.decode\n    workers: two\n");
  write_jpeg(dir_ / "inputs" / "one.jpg", 64, 64);
  const Output out = conveyor("run " + file.string() + " --input " + (dir_ / "inputs").string() + " --output " +
                              (dir_ / "r.jsonl").string());
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.text.find("bad.yaml:5: stages[0].workers"), std::string::npos) << out.text;
}

TEST_F(Cli, ImpossibleCoreRequestIsAStartupError) {
  const fs::path file = dir_ / "greedy.yaml";
  write_file(file, "stages:\n  - name: decode\n    op: image.decode\n    cores: 4096\n");
  write_jpeg(dir_ / "inputs" / "one.jpg", 64, 64);
  const Output out = conveyor("bench " + file.string() + " --input " + (dir_ / "inputs").string());
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.text.find("stage 'decode': asks for 4096 cores per worker"), std::string::npos) << out.text;
}

TEST_F(Cli, UnknownOpArgumentNamesItsLine) {
  const fs::path file = dir_ / "typo.yaml";
  write_file(file, "stages:\n  - name: pre\n    op: image.preprocess\n    args:\n      size: [224, 224]\n      meen: [0, 0, 0]\n");
  write_jpeg(dir_ / "inputs" / "one.jpg", 64, 64);
  const Output out = conveyor("bench " + file.string() + " --input " + (dir_ / "inputs").string());
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.text.find("typo.yaml:6: stages[0].args.meen"), std::string::npos) << out.text;
}

TEST_F(Cli, EveryCommandHasHelpWithAnExample) {
  for (const char* command : {"demo", "run", "bench", "ops", "zoo", "profile", "plan", "simulate", "split"}) {
    const Output out = conveyor(std::string(command) + " --help");
    EXPECT_EQ(out.status, 0) << command;
    EXPECT_NE(out.text.find("Example"), std::string::npos) << command << ":\n" << out.text;
  }
}

}  // namespace
