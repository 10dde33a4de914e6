#include "conveyor/config/deployment_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "config/config_test_support.hpp"

namespace conveyor {
namespace {

using test::line_containing;
using ::testing::HasSubstr;

class DeploymentFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::path(::testing::TempDir()) / ("conveyor_deployment_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    write("a.yaml", "name: alpha\nstages:\n  - name: s\n    op: post.softmax\n");
    write("b.yaml", "name: beta\nstages:\n  - name: s\n    op: post.argmax\n");
    write("alpha_again.yaml", "name: alpha\nstages:\n  - name: s\n    op: post.argmax\n");
    write("arrivals.csv", "t\n1.0\n2.0\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  DeploymentConfig parse(const std::string& yaml) {
    return parse_deployment_config(yaml, dir_ / "deploy.yaml");
  }
  ConfigError error_of(const std::string& yaml) {
    try {
      parse(yaml);
    } catch (const ConfigError& error) {
      return error;
    }
    ADD_FAILURE() << "expected a ConfigError, the YAML parsed:\n" << yaml;
    return ConfigError("", 0, "", "");
  }

  std::filesystem::path dir_;
};

TEST_F(DeploymentFile, ReadsEveryKey) {
  const DeploymentConfig config = parse(
      "deployment: edge-box\n"
      "cores: 0-3,6\n"
      "pipelines:\n"
      "  - pipeline: a.yaml\n"
      "    priority: 2\n"
      "    slo_p99_ms: 12.5\n"
      "    rate_rps: 100\n"
      "    arrivals: arrivals.csv\n"
      "  - pipeline: b.yaml\n");
  EXPECT_EQ(config.name, "edge-box");
  EXPECT_EQ(config.core_ids, (std::vector<int>{0, 1, 2, 3, 6}));
  EXPECT_EQ(config.core_count, 0);
  ASSERT_EQ(config.pipelines.size(), 2u);
  const auto& a = config.pipelines[0];
  EXPECT_EQ(a.pipeline.name, "alpha");
  EXPECT_EQ(a.priority, 2);
  EXPECT_EQ(a.slo_p99_ms, 12.5);
  EXPECT_EQ(a.rate_rps, 100);
  EXPECT_EQ(a.arrivals, dir_ / "arrivals.csv");
  EXPECT_EQ(a.line, 4);
  const auto& b = config.pipelines[1];
  EXPECT_EQ(b.pipeline.name, "beta");
  EXPECT_EQ(b.priority, 0);
  EXPECT_FALSE(b.slo_p99_ms || b.rate_rps || b.arrivals);
}

TEST_F(DeploymentFile, CoresAsACountOrAList) {
  EXPECT_EQ(parse("cores: 4\npipelines:\n  - pipeline: a.yaml\n").core_count, 4);
  EXPECT_EQ(parse("cores: [3, 1]\npipelines:\n  - pipeline: a.yaml\n").core_ids, (std::vector<int>{3, 1}));
  const DeploymentConfig none = parse("pipelines:\n  - pipeline: a.yaml\n");
  EXPECT_EQ(none.core_count, 0);
  EXPECT_TRUE(none.core_ids.empty());
  EXPECT_EQ(none.name, "deploy");
}

TEST_F(DeploymentFile, ErrorsNameTheLineAndKey) {
  struct Case {
    std::string yaml, marker, key, message;
  };
  const std::vector<Case> cases = {
      {"pipelines:\n  - pipeline: a.yaml\n    prority: 2\n", "prority", "pipelines[0].prority",
       "did you mean 'priority'"},
      {"pipeline:\n  - pipeline: a.yaml\n", "pipeline:", "pipeline", "did you mean 'pipelines'"},
      {"pipelines:\n  - pipeline: a.yaml\n  - pipeline: nowhere.yaml\n", "nowhere", "pipelines[1].pipeline",
       "pipeline file 'nowhere.yaml' not found"},
      {"pipelines:\n  - pipeline: a.yaml\n    rate_rps: -5\n", "rate_rps", "pipelines[0].rate_rps",
       "must be a number > 0"},
      {"pipelines:\n  - pipeline: a.yaml\n    slo_p99_ms: fast\n", "slo_p99_ms", "pipelines[0].slo_p99_ms",
       "must be a number > 0, got 'fast'"},
      {"pipelines:\n  - pipeline: a.yaml\n    priority: 1.5\n", "priority", "pipelines[0].priority",
       "must be an integer >= 0"},
      {"pipelines:\n  - pipeline: a.yaml\n    arrivals: gone.csv\n", "arrivals", "pipelines[0].arrivals",
       "arrivals file 'gone.csv' not found"},
      {"pipelines:\n  - pipeline: a.yaml\n    arrivals: .\n", "arrivals", "pipelines[0].arrivals",
       "arrivals file '.' is a directory"},
      {"pipelines:\n  - pipeline: .\n", "pipeline:", "pipelines[0].pipeline",
       "pipeline file '.' is a directory"},
      {"pipelines:\n  - pipeline: a.yaml\n  - pipeline: alpha_again.yaml\n", "alpha_again",
       "pipelines[1].pipeline", "a second pipeline named 'alpha' (first at line 2)"},
      {"cores: 3-1\npipelines:\n  - pipeline: a.yaml\n", "cores", "cores", "bad range '3-1'"},
      {"cores: [0, 0]\npipelines:\n  - pipeline: a.yaml\n", "cores", "cores", "core 0 is listed twice"},
      {"cores: 0\npipelines:\n  - pipeline: a.yaml\n", "cores", "cores", "must be an integer >= 1"},
      {"deployment: x\npipelines: []\n", "pipelines", "pipelines", "needs at least one pipeline"},
      {"deployment: x\npipelines: a.yaml\n", "pipelines", "pipelines", "must be a list of pipelines"},
      {"pipelines:\n  - priority: 1\n", "priority", "pipelines[0].pipeline", "missing required key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    const ConfigError error = error_of(c.yaml);
    EXPECT_EQ(error.file(), (dir_ / "deploy.yaml").string());
    EXPECT_EQ(error.line(), line_containing(c.yaml, c.marker));
    EXPECT_EQ(error.key(), c.key);
    EXPECT_THAT(error.what(), HasSubstr(c.message));
  }
}

TEST_F(DeploymentFile, ErrorsInAPipelineFileNameThatFile) {
  write("broken.yaml", "name: broken\nstages:\n  - name: s\n    op: post.softmax\n    workers: 0\n");
  try {
    parse("pipelines:\n  - pipeline: broken.yaml\n");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.file(), (dir_ / "broken.yaml").string());
    EXPECT_EQ(error.line(), 5);
  }
}

TEST_F(DeploymentFile, GivenAsAPipelineFileItIsNamedWithThePipelinesItLists) {
  const std::string deployment =
      "deployment: box\npipelines:\n  - pipeline: a.yaml\n  - pipeline: sub/b.yaml\n    priority: 1\n";
  try {
    parse_pipeline_config(deployment, "conf/deploy.yaml");
    FAIL() << "a deployment file is not a pipeline file";
  } catch (const NotAPipelineFileError& error) {
    EXPECT_EQ(error.pipeline_files(), (std::vector<std::string>{"conf/a.yaml", "conf/sub/b.yaml"}));
    EXPECT_EQ(error.file(), "conf/deploy.yaml");
    EXPECT_NE(std::string(error.what()).find("is a deployment file (several pipelines), not a pipeline file"),
              std::string::npos)
        << error.what();
  }
  write("d.yaml", deployment);
  EXPECT_THROW(load_pipeline_config(dir_ / "d.yaml"), NotAPipelineFileError);
  // A pipeline file with a misplaced `pipelines:` key is still a pipeline file with an unknown key.
  try {
    parse_pipeline_config("pipelines: []\nstages:\n  - {name: s, op: x}\n", "p.yaml");
    FAIL() << "an unknown key must be refused";
  } catch (const NotAPipelineFileError&) {
    FAIL() << "a file with stages is a pipeline file";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key(), "pipelines");
  }
}

TEST_F(DeploymentFile, TellsDeploymentFilesFromPipelineFiles) {
  EXPECT_TRUE(is_deployment_yaml("pipelines:\n  - pipeline: a.yaml\n"));
  EXPECT_FALSE(is_deployment_yaml("stages:\n  - name: s\n    op: x\n"));
  EXPECT_FALSE(is_deployment_yaml("[unclosed"));
  write("d.yaml", "pipelines:\n  - pipeline: a.yaml\n");
  EXPECT_TRUE(is_deployment_file(dir_ / "d.yaml"));
  EXPECT_FALSE(is_deployment_file(dir_ / "a.yaml"));
  EXPECT_FALSE(is_deployment_file(dir_ / "missing.yaml"));
  EXPECT_EQ(load_deployment_config(dir_ / "d.yaml").name, "d");
  EXPECT_THROW(load_deployment_config(dir_ / "missing.yaml"), ConfigError);
}

}  // namespace
}  // namespace conveyor
