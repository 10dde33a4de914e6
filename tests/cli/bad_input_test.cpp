// The binary against bad input found by a robustness sweep: each case once crashed, hung, lost results or
// destroyed a file; now it gives a clear error (or handles the input) and loses nothing.
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

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string file_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_bad_input_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "inputs");
    cv::imwrite((dir_ / "inputs" / "a.png").string(), cv::Mat(12, 16, CV_8UC3, cv::Scalar(10, 200, 30)));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // stdout and stderr together, the profile history kept in the test directory; `timeout` turns a hang
  // into a failure (status 124) instead of a stuck test run.
  Output conveyor(const std::string& args) {
    return conveyor::testing::run_command("XDG_CACHE_HOME=" + (dir_ / "cache").string() + " timeout 120 " +
                                          std::string(CONVEYOR_BINARY) + " " + args + " 2>&1");
  }

  fs::path decode_pipeline(const std::string& options) {
    const fs::path file = dir_ / "decode.yaml";
    std::ofstream(file) << options << "stages:\n  - {name: decode, op: image.decode, cores: none}\n";
    return file;
  }

  std::vector<nlohmann::json> result_lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

  fs::path dir_;
};

// A file name that is not UTF-8 once made the results' JSON throw inside a callback: run waited forever
// for that line and wrote none of the others.
TEST_F(BadInput, RunWritesEveryLineWhenAFileNameIsNotUtf8) {
  fs::copy_file(dir_ / "inputs" / "a.png", dir_ / "inputs" / "b\xff\xfe.png");
  fs::copy_file(dir_ / "inputs" / "a.png", dir_ / "inputs" / "c.png");
  const fs::path results = dir_ / "results.jsonl";
  const Output out = conveyor("run " + decode_pipeline("").string() + " --input " +
                              (dir_ / "inputs").string() + " --output " + results.string());
  ASSERT_EQ(out.status, 0) << out.text;
  const auto lines = result_lines(results);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines) EXPECT_TRUE(line["ok"].get<bool>()) << line.dump();
  EXPECT_TRUE(contains(lines[1]["input"].get<std::string>(), "b\xef\xbf\xbd"));  // U+FFFD for the bad bytes
}

// With on_full: fail, run (the pipeline's only client) waits for room instead of losing inputs; it once
// threw "pipeline is full" and wrote nothing, not even the admitted request's line.
TEST_F(BadInput, RunFeedsAFailFastPipelineWithoutLosingInputs) {
  for (int i = 0; i < 12; ++i)
    fs::copy_file(dir_ / "inputs" / "a.png", dir_ / "inputs" / ("copy" + std::to_string(i) + ".png"));
  const fs::path results = dir_ / "results.jsonl";
  const Output out = conveyor("run " + decode_pipeline("max_in_flight: 1\non_full: fail\n").string() +
                              " --input " + (dir_ / "inputs").string() + " --output " + results.string());
  ASSERT_EQ(out.status, 0) << out.text;
  const auto lines = result_lines(results);
  ASSERT_EQ(lines.size(), 13u);
  for (const auto& line : lines) EXPECT_TRUE(line["ok"].get<bool>()) << line.dump();
}

TEST_F(BadInput, RunRefusesToWriteResultsOverAnInput) {
  const fs::path input = dir_ / "inputs" / "a.png";
  const auto size = fs::file_size(input);
  const Output out = conveyor("run " + decode_pipeline("").string() + " --input " + input.string() +
                              " --output " + input.string());
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "is also an input")) << out.text;
  EXPECT_EQ(fs::file_size(input), size);
}

// -o naming the pipeline file (or a model, a vocabulary) once replaced it with results; only an earlier
// results file may be replaced.
TEST_F(BadInput, RunReplacesOnlyAnEarlierResultsFile) {
  const fs::path pipeline = decode_pipeline("");
  const std::string yaml = file_text(pipeline);
  const std::string inputs = " --input " + (dir_ / "inputs").string();
  const Output refused = conveyor("run " + pipeline.string() + inputs + " --output " + pipeline.string());
  EXPECT_EQ(refused.status, 1) << refused.text;
  EXPECT_TRUE(contains(refused.text, "exists and is not a results file")) << refused.text;
  EXPECT_EQ(file_text(pipeline), yaml);

  const fs::path results = dir_ / "results.jsonl";
  for (int twice = 0; twice < 2; ++twice) {
    const Output out = conveyor("run " + pipeline.string() + inputs + " --output " + results.string());
    EXPECT_EQ(out.status, 0) << out.text;
  }
  EXPECT_EQ(result_lines(results).size(), 1u);
}

TEST_F(BadInput, BenchExitsWith3WhenRequestsFail) {
  std::ofstream(dir_ / "inputs" / "b_garbage.png") << "not an image";
  const Output out = conveyor("bench " + decode_pipeline("").string() + " --input " +
                              (dir_ / "inputs").string() + " --requests 10 --warmup 0");
  EXPECT_EQ(out.status, 3) << out.text;
  EXPECT_TRUE(contains(out.text, "errors 5")) << out.text;
}

// More concurrency than max_in_flight with on_full: fail once crashed bench (callbacks outlived the load
// driver); the refused requests are now reported.
TEST_F(BadInput, BenchReportsRequestsAFailFastPipelineRefused) {
  const Output out =
      conveyor("bench " + decode_pipeline("max_in_flight: 1\non_full: fail\n").string() + " --input " +
               (dir_ / "inputs").string() + " --requests 30 --warmup 0 --concurrency 4 --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text.substr(out.text.find('{')));
  EXPECT_GE(j["rejected"].get<int>(), 1);
  EXPECT_EQ(j["requests"].get<int>() + j["rejected"].get<int>(), 30);
}

// Worker threads the OS refuses (here: 600 stacks of 64 MB under a 4 GB address-space limit) once
// terminated the process; the workers already started are now stopped and the failure named.
TEST_F(BadInput, AWorkerThreadTheOsRefusesIsAStartupError) {
  const fs::path file = dir_ / "many_workers.yaml";
  std::ofstream(file) << "stages:\n  - {name: d, op: image.decode, workers: 600, cores: none}\n";
  const Output out = conveyor::testing::run_command(
      "ulimit -s 65536 2>/dev/null; ulimit -v 4000000; XDG_CACHE_HOME=" + (dir_ / "cache").string() + " timeout 120 " +
      std::string(CONVEYOR_BINARY) + " run " + file.string() + " --input " + (dir_ / "inputs").string() +
      " --output " + (dir_ / "out.jsonl").string() + " 2>&1");
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "stage 'd': cannot start worker")) << out.text;
}

TEST_F(BadInput, NumericOptionsSayWhatTheyWant) {
  const std::string pipeline = decode_pipeline("").string();
  const std::string inputs = " --input " + (dir_ / "inputs").string();
  const struct {
    std::string args, message;
  } cases[] = {
      {"bench " + pipeline + inputs + " --warmup -1", "--warmup: must be a whole number from 0 to"},
      {"bench " + pipeline + inputs + " --rate nan", "--rate: must be a finite number > 0, got 'nan'"},
      {"bench " + pipeline + inputs + " --requests 0", "--requests: must be a whole number from 1 to"},
      {"run " + pipeline + inputs + " --max-values -1", "--max-values: must be a whole number from 0 to"},
      {"simulate " + pipeline + " --requests 99999999999999",
       "--requests: must be a whole number from 1 to 2000000"},
      {"infer " + pipeline + " --info --threads 100000", "--threads: must be a whole number from 1 to 1024"},
      {"profile " + pipeline + inputs + " --threads 1,,2", "--threads: empty entry in '1,,2'"},
  };
  for (const auto& c : cases) {
    const Output out = conveyor(c.args);
    EXPECT_NE(out.status, 0) << c.args;
    EXPECT_TRUE(contains(out.text, c.message)) << c.args << "\n" << out.text;
  }
}

TEST_F(BadInput, DevicesAreNotReadAsFiles) {
  const Output pipeline = conveyor("run /dev/zero --input " + (dir_ / "inputs").string());
  EXPECT_EQ(pipeline.status, 1);
  EXPECT_TRUE(contains(pipeline.text, "/dev/zero: is not a regular file")) << pipeline.text;
  const Output model = conveyor("infer /dev/zero --info");
  EXPECT_EQ(model.status, 1);
  EXPECT_TRUE(contains(model.text, "'/dev/zero' is not a regular file")) << model.text;
  const Output split = conveyor("split /dev/zero -k 2");
  EXPECT_EQ(split.status, 1);
  EXPECT_TRUE(contains(split.text, "'/dev/zero' is not a regular file")) << split.text;
}

TEST_F(BadInput, UnknownCommandIsNamed) {
  const Output out = conveyor("frobnicate");
  EXPECT_EQ(out.status, 2);  // a usage error
  EXPECT_TRUE(contains(out.text, "unknown command 'frobnicate'")) << out.text;
  const Output option = conveyor("--frob");
  EXPECT_EQ(option.status, 2);
  EXPECT_TRUE(contains(option.text, "unknown option '--frob'")) << option.text;
  EXPECT_EQ(conveyor("--help").status, 0);
}

}  // namespace
