// `plan: auto`, predicted vs measured, and the run history, end to end through the conveyor binary with a
// private profile store (XDG_CACHE_HOME) and generated JPEGs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "cli/run_command.hpp"
#include "conveyor/plan/profile_store.hpp"

namespace {

namespace fs = std::filesystem;

struct Output {
  int status;
  std::string out;  // stdout
  std::string err;  // stderr
};

class AutoPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_autoplan_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    for (int i = 0; i < 3; ++i) {
      cv::Mat image(100 + 30 * i, 140, CV_8UC3, cv::Scalar(20 * i, 100, 210));
      cv::imwrite((dir_ / "images" / ("img" + std::to_string(i) + ".jpg")).string(), image);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  Output conveyor(const std::string& args) {
    const fs::path err_file = dir_ / "stderr.txt";
    const auto run = conveyor::testing::run_command("XDG_CACHE_HOME=" + (dir_ / "cache").string() + " " +
                                                    CONVEYOR_BINARY + " " + args + " 2>" + err_file.string());
    std::ifstream in(err_file);
    std::stringstream err;
    err << in.rdbuf();
    return {run.status, run.text, err.str()};
  }

  // The example pipeline with `plan: <mode>` added at the top.
  fs::path pipeline_with_plan(const std::string& mode) {
    std::ifstream in(fs::path(CONVEYOR_SOURCE_DIR) / "examples" / "image_preprocess.yaml");
    std::stringstream text;
    text << "plan: " << mode << "\n" << in.rdbuf();
    const fs::path file = dir_ / ("pipeline_" + mode + ".yaml");
    std::ofstream(file) << text.str();
    return file;
  }
  std::string example() const {
    return (fs::path(CONVEYOR_SOURCE_DIR) / "examples" / "image_preprocess.yaml").string();
  }
  std::string images() const { return (dir_ / "images").string(); }
  fs::path store_dir() const { return dir_ / "cache" / "conveyor" / "profiles"; }

  // The stored profiles of the example's stages: stage -> threads -> samples.
  std::map<std::string, std::map<int, int>> stored_profiles() {
    const Output show = conveyor("profile --show " + example() + " --json");
    EXPECT_EQ(show.status, 0) << show.err;
    std::map<std::string, std::map<int, int>> found;
    const auto j = nlohmann::json::parse(show.out);
    for (const auto& p : j.at("profiles"))
      found[p.at("stage").get<std::string>()][p.at("threads").get<int>()] = p.at("samples").get<int>();
    return found;
  }

  fs::path dir_;
};

// "plan:   decode   workers 2  threads 1  cores 0-1" -> stage -> (workers, threads)
std::map<std::string, std::pair<int, int>> printed_plan(const std::string& err) {
  std::map<std::string, std::pair<int, int>> plan;
  const std::regex line(R"(plan:\s+(\S+)\s+workers (\d+)\s+threads (\d+)\s+cores \S+)");
  for (std::sregex_iterator it(err.begin(), err.end(), line), end; it != end; ++it)
    plan[(*it)[1]] = {std::stoi((*it)[2]), std::stoi((*it)[3])};
  return plan;
}

// The pipeline stages a printed plan covers: a merged planned stage "a+b" covers a and b.
std::set<std::string> planned_stages(const std::map<std::string, std::pair<int, int>>& plan) {
  std::set<std::string> stages;
  for (const auto& [name, setting] : plan)
    for (std::size_t begin = 0, plus; begin <= name.size(); begin = plus + 1) {
      plus = std::min(name.find('+', begin), name.size());
      stages.insert(name.substr(begin, plus - begin));
    }
  return stages;
}

const std::set<std::string> kExampleStages{"decode", "preprocess"};

TEST_F(AutoPlan, BenchProfilesMissingStagesPrintsThePlanAndPredictedVsMeasured) {
  const Output first = conveyor("bench " + pipeline_with_plan("auto").string() + " --input " + images() +
                                " --requests 30 --warmup 3");
  ASSERT_EQ(first.status, 0) << first.err;
  for (const char* stage : {"decode", "preprocess"})
    EXPECT_NE(first.err.find(std::string("stage '") + stage + "' has no stored profile"), std::string::npos)
        << first.err;
  const auto plan = printed_plan(first.err);
  EXPECT_EQ(planned_stages(plan), kExampleStages) << first.err;
  // Profiled at 1 and 2 threads (50 requests each), then the bench's 30 measured requests added to each
  // stage's history at the thread count it ran with, merged or not.
  for (const auto& [stage, by_threads] : stored_profiles()) {
    int samples = 0;
    for (const auto& [threads, count] : by_threads) samples += count;
    EXPECT_EQ(samples, 2 * 50 + 30) << stage << "\n" << first.err;
  }
  EXPECT_NE(first.out.find("predicted (stored profiles"), std::string::npos) << first.out;
  // Each row: label, analytic, simulated, measured, two ratios; the numbers are positive.
  for (const char* row : {"req/s", "p50 ms", "p99 ms"}) {
    const std::regex numbers(std::string(R"(\n\s+)") + row + R"(\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\n)");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(first.out, match, numbers)) << row << "\n" << first.out;
    for (int i = 1; i <= 3; ++i) EXPECT_GT(std::stod(match[i]), 0) << row;
    EXPECT_NEAR(std::stod(match[4]), std::stod(match[3]) / std::stod(match[1]), 0.01 + 0.01 * std::stod(match[4]))
        << row;
  }

  // Now every stage has a profile: nothing is profiled again, the plan is still printed.
  const Output second = conveyor("bench " + pipeline_with_plan("auto").string() + " --input " + images() +
                                 " --requests 20 --warmup 2");
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(second.err.find("has no stored profile"), std::string::npos) << second.err;
  EXPECT_EQ(planned_stages(printed_plan(second.err)), kExampleStages) << second.err;
}

TEST_F(AutoPlan, BenchJsonHasPredictedAndRunsThePrintedPlan) {
  const Output out = conveyor("bench " + pipeline_with_plan("auto").string() + " --input " + images() +
                              " --requests 25 --warmup 2 --json");
  ASSERT_EQ(out.status, 0) << out.err;
  const auto j = nlohmann::json::parse(out.out);
  ASSERT_TRUE(j.contains("predicted")) << out.out;
  EXPECT_GT(j["predicted"]["throughput_rps"].get<double>(), 0);
  EXPECT_GT(j["predicted"]["latency_ms"]["p50"].get<double>(), 0);
  EXPECT_GE(j["predicted"]["latency_ms"]["p99"].get<double>(), j["predicted"]["latency_ms"]["p50"].get<double>());
  EXPECT_GT(j["throughput_rps"].get<double>(), 0);  // the measured numbers stay beside it

  const auto plan = printed_plan(out.err);
  ASSERT_EQ(planned_stages(plan), kExampleStages) << out.err;
  for (const auto& stage : j["stages"]) {
    const auto chosen = plan.at(stage["name"].get<std::string>());
    EXPECT_EQ(stage["workers"].get<int>(), chosen.first) << stage;
    EXPECT_EQ(stage["threads"].get<int>(), chosen.second) << stage;
  }
}

TEST_F(AutoPlan, ManualBenchAddsItsMeasurementsToTheStoreAndPredictsOnceTheyExist) {
  const std::time_t before = std::time(nullptr);
  const Output first = conveyor("bench " + example() + " --input " + images() + " --requests 25 --warmup 4");
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.out.find("predicted (stored profiles"), std::string::npos) << first.out;  // none stored yet
  EXPECT_NE(first.err.find("no prediction"), std::string::npos) << first.err;

  // Each stage ran with one thread: 25 measured service times each (warmup not counted).
  const auto stored = stored_profiles();
  ASSERT_EQ(stored.size(), 2u) << first.err;
  for (const char* stage : {"decode", "preprocess"}) EXPECT_EQ(stored.at(stage).at(1), 25) << stage;

  // bench's arrivals are its own load generator's: not demand, so none are kept, and it says so.
  EXPECT_TRUE(conveyor::plan::ProfileStore(store_dir()).arrivals("image-preprocess").empty());
  EXPECT_NE(first.err.find("(25 generated arrivals: not demand, not kept)"), std::string::npos) << first.err;

  const Output second = conveyor("bench " + example() + " --input " + images() + " --requests 10 --warmup 1");
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(second.out.find("predicted (stored profiles"), std::string::npos) << second.out;
  for (const char* stage : {"decode", "preprocess"}) EXPECT_EQ(stored_profiles().at(stage).at(1), 35) << stage;

  // A run's arrivals are kept.
  const Output run = conveyor("run " + example() + " --input " + images() + " --output " +
                              (dir_ / "r.jsonl").string());
  ASSERT_EQ(run.status, 0) << run.err;
  const std::vector<double> arrivals = conveyor::plan::ProfileStore(store_dir()).arrivals("image-preprocess");
  ASSERT_FALSE(arrivals.empty());
  EXPECT_GE(arrivals.front(), static_cast<double>(before) - 1);
  EXPECT_LE(arrivals.back(), static_cast<double>(std::time(nullptr)) + 1);
}

TEST_F(AutoPlan, RunWithAutoPlanPrintsThePlanAndRecordsHistory) {
  const fs::path results = dir_ / "results.jsonl";
  const Output out = conveyor("run " + pipeline_with_plan("auto").string() + " --input " + images() +
                              " --output " + results.string());
  ASSERT_EQ(out.status, 0) << out.err;
  EXPECT_EQ(planned_stages(printed_plan(out.err)), kExampleStages) << out.err;
  std::ifstream in(results);
  int lines = 0;
  for (std::string line; std::getline(in, line);) {
    EXPECT_TRUE(nlohmann::json::parse(line)["ok"].get<bool>()) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 3);
  EXPECT_EQ(conveyor::plan::ProfileStore(store_dir()).arrivals("image-preprocess").size(), 3u);
}

TEST_F(AutoPlan, UnknownPlanModeIsAConfigErrorNamingLineAndKey) {
  const fs::path file = dir_ / "bogus.yaml";
  std::ofstream(file) << "name: x\nplan: bogus\nstages:\n  - name: decode\n    op: image.decode\n";
  const Output out = conveyor("bench " + file.string() + " --input " + images());
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.err.find("bogus.yaml:2: plan"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("auto"), std::string::npos) << out.err;  // says what is allowed
}

}  // namespace
