// End-to-end: `conveyor plan DEPLOYMENT.yaml` on two synthetic pipelines whose profiles (and arrivals) are
// written straight into a private profile store (XDG_CACHE_HOME).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_command.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/profile_store.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Output = conveyor::testing::CommandOutput;

class DeploymentCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_deployment_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Both: one stage of 10 ms per request, so 100 req/s per core.
    write("gold.yaml", "name: gold\nstages:\n  - name: work\n    op: post.softmax\n");
    write("bronze.yaml", "name: bronze\nstages:\n  - name: work\n    op: post.argmax\n");
    plan::ProfileStore store(dir_ / "cache" / "conveyor" / "profiles");
    for (const char* name : {"gold.yaml", "bronze.yaml"}) {
      const PipelineConfig config = load_pipeline_config(dir_ / name);
      const StageConfig& stage = config.stages[0];
      store.record({stage.op, stage.args, config.base_dir}, stage.name, 1, {0.0095, 0.010, 0.0105},
                   Topology::detect().cpu_model());
    }
    std::vector<double> arrivals;  // 150 req/s for 30 s
    for (int k = 0; k < 4500; ++k) arrivals.push_back(1.7e9 + k / 150.0);
    store.record_arrivals("bronze", arrivals);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  static Output conveyor(const std::string& args, bool stderr_too = true) {
    return conveyor::testing::run_command("XDG_CACHE_HOME=" + (dir_ / "cache").string() + " " +
                                          CONVEYOR_BINARY + " " + args +
                                          (stderr_too ? " 2>&1" : " 2>/dev/null"));
  }

  static fs::path dir_;
};
fs::path DeploymentCli::dir_;

const char* kDeployment =
    "deployment: test-box\n"
    "pipelines:\n"
    "  - pipeline: bronze.yaml\n"
    "    priority: 1\n"
    "    rate_rps: 150\n"
    "  - pipeline: gold.yaml\n"
    "    priority: 2\n"
    "    slo_p99_ms: 100\n"
    "    rate_rps: 250\n";

TEST_F(DeploymentCli, PriorityJsonMeetsGoldAndShedsBronze) {
  write("deploy.yaml", kDeployment);
  const Output out =
      conveyor("plan " + (dir_ / "deploy.yaml").string() + " --strategy priority --cores 4 --json", false);
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  EXPECT_EQ(j.at("strategy"), "priority");
  EXPECT_EQ(j.at("cores_budget"), (std::vector<int>{0, 1, 2, 3}));
  const auto& pipelines = j.at("pipelines");
  ASSERT_EQ(pipelines.size(), 2u);
  const auto& bronze = pipelines[0];
  const auto& gold = pipelines[1];
  EXPECT_EQ(gold.at("name"), "gold");
  EXPECT_EQ(gold.at("priority"), 2);
  EXPECT_EQ(gold.at("cores"), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(gold.at("slo_met").get<bool>());
  EXPECT_EQ(gold.at("shed_rps"), 0);
  EXPECT_TRUE(gold.at("forecast").is_null());
  EXPECT_EQ(gold.at("plan").at("stages").at(0).at("workers"), 3);
  EXPECT_LE(gold.at("predicted").at("latency_ms").at("p99").get<double>(), 100);
  EXPECT_NEAR(gold.at("predicted").at("throughput_rps").get<double>(), 250, 250 * 0.05);
  EXPECT_EQ(bronze.at("cores"), (std::vector<int>{0}));
  EXPECT_FALSE(bronze.at("slo_met").get<bool>());
  EXPECT_NEAR(bronze.at("shed_rps").get<double>(), 50, 1e-6);  // 150 - 1 / 10 ms
  EXPECT_FALSE(bronze.at("notes").empty());
}

TEST_F(DeploymentCli, TextReportAndDefaultStrategy) {
  write("deploy.yaml", kDeployment);
  const Output out = conveyor("plan " + (dir_ / "deploy.yaml").string() + " --cores 4 --sim-requests 0");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_THAT(out.text, HasSubstr("strategy priority"));  // the priorities differ
  EXPECT_THAT(out.text, HasSubstr("gold (priority 2): cores 1-3 (3)"));
  EXPECT_THAT(out.text, HasSubstr("shed 50.0 req/s"));
  EXPECT_THAT(out.text, HasSubstr("total: 4 of 4 cores used"));
}

TEST_F(DeploymentCli, HistoryUsesTheRecordedRateWhenNoneIsGiven) {
  write("recorded.yaml",
        "pipelines:\n  - pipeline: bronze.yaml\n  - pipeline: gold.yaml\n    rate_rps: 50\n");
  const Output out = conveyor(
      "plan " + (dir_ / "recorded.yaml").string() + " --strategy history --cores 4 --sim-requests 0 --json",
      false);
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  EXPECT_NEAR(j.at("pipelines")[0].at("rate_rps").get<double>(), 150, 1);
  EXPECT_EQ(j.at("pipelines")[0].at("cores").size(), 3u);  // demands 1.5 : 0.5
  EXPECT_EQ(j.at("pipelines")[1].at("cores").size(), 1u);
}

TEST_F(DeploymentCli, ForecastFromTheRecordedArrivals) {
  write("forecast.yaml",
        "pipelines:\n  - pipeline: bronze.yaml\n  - pipeline: gold.yaml\n    rate_rps: 50\n");
  const Output out = conveyor(
      "plan " + (dir_ / "forecast.yaml").string() + " --strategy forecast --cores 4 --sim-requests 0 --json",
      false);
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  const auto& bronze = j.at("pipelines")[0];
  ASSERT_FALSE(bronze.at("forecast").is_null());
  EXPECT_NEAR(bronze.at("forecast").at("forecast_rps").get<double>(), 150, 5);
  EXPECT_GE(bronze.at("rate_rps").get<double>(), bronze.at("forecast").at("forecast_rps").get<double>());
  EXPECT_TRUE(j.at("pipelines")[1].at("forecast").is_null());  // gold has no history: its rate_rps
}

TEST_F(DeploymentCli, ErrorsNameThePipelineOrTheOption) {
  write("norate.yaml", "pipelines:\n  - pipeline: gold.yaml\n");
  Output out = conveyor("plan " + (dir_ / "norate.yaml").string() + " --cores 2");
  EXPECT_EQ(out.status, 1);
  EXPECT_THAT(out.text, HasSubstr("pipeline 'gold'"));
  EXPECT_THAT(out.text, HasSubstr("rate_rps"));

  write("deploy.yaml", kDeployment);
  out = conveyor("plan " + (dir_ / "deploy.yaml").string() + " --rate 10");
  EXPECT_EQ(out.status, 1);
  EXPECT_THAT(out.text, HasSubstr("--rate applies to a pipeline file"));

  out = conveyor("plan " + (dir_ / "gold.yaml").string() + " --strategy priority");
  EXPECT_EQ(out.status, 1);
  EXPECT_THAT(out.text, HasSubstr("--strategy applies to a deployment file"));

  out = conveyor("plan " + (dir_ / "deploy.yaml").string() + " --strategy history --cores 1");
  EXPECT_EQ(out.status, 1);
  EXPECT_THAT(out.text, HasSubstr("2 pipelines and 1 core"));

  write("typo.yaml", "pipelines:\n  - pipeline: gold.yaml\n    rate_rsp: 5\n");
  out = conveyor("plan " + (dir_ / "typo.yaml").string());
  EXPECT_EQ(out.status, 1);
  EXPECT_THAT(out.text,
              HasSubstr("typo.yaml:3: pipelines[0].rate_rsp: unknown key (did you mean 'rate_rps'?)"));
}

}  // namespace
}  // namespace conveyor
