// The pipeline files shipped in examples/ parse (the deployment file too), fit a 2-core machine, and pass
// arguments the operators accept (checked against stand-ins that know each op's documented argument names).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "conveyor/config/deployment_config.hpp"
#include "conveyor/config/pipeline_config.hpp"

namespace conveyor {
namespace {

const std::filesystem::path kExamples = std::filesystem::path(CONVEYOR_SOURCE_DIR) / "examples";

// Stand-ins for the built-in ops: accept exactly the documented argument names.
OperatorRegistry argument_checking_registry() {
  const std::map<std::string, std::set<std::string>> contract = {
      {"image.decode", {"input", "output"}},
      {"image.preprocess", {"input", "output", "size", "resize", "rgb", "mean", "std", "scale"}},
      {"text.wordpiece", {"vocab", "input", "max_length", "lowercase"}},
      {"post.softmax", {"input", "output", "axis"}},
      {"post.topk", {"input", "k", "labels", "prefix"}},
      {"post.argmax", {"input", "output"}},
      {"post.threshold", {"input", "threshold", "prefix"}},
      {"onnx", {"path", "inputs", "outputs", "dims", "threads"}},
  };
  OperatorRegistry registry;
  for (const auto& [name, allowed] : contract) {
    registry.add(name, "stand-in", [allowed](const OpArgs& args, const OpBuildContext&) {
      for (const auto& key : args.keys()) {
        if (allowed.count(key) == 0) throw OpArgError(key, "not an argument of this op");
      }
      return make_operator([](Sample&) {});
    });
  }
  return registry;
}

std::vector<std::filesystem::path> example_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    if (entry.path().extension() == ".yaml" && !is_deployment_file(entry.path()))
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Examples, EveryExampleParsesFitsTwoCoresAndUsesKnownArguments) {
  const std::vector<std::filesystem::path> files = example_files();
  ASSERT_GE(files.size(), 2u);
  const OperatorRegistry registry = argument_checking_registry();
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    PipelineConfig config;
    ASSERT_NO_THROW(config = load_pipeline_config(file));
    int owned_cores = 0;
    for (const StageConfig& stage : config.stages) {
      if (config.plan == PlanMode::kAuto) break;  // the planner lays it out on the machine's cores
      if (stage.cores.shared) continue;
      if (stage.cores.kind == CoreSpec::Kind::kCount) owned_cores += stage.cores.per_worker * stage.workers;
      if (stage.cores.kind == CoreSpec::Kind::kIds) owned_cores += static_cast<int>(stage.cores.ids.size());
    }
    EXPECT_LE(owned_cores, 2);
    EXPECT_NO_THROW(build_stage_specs(config, registry));
  }
}

TEST(Examples, ImagePreprocessIsDecodeThenPreprocess) {
  const PipelineConfig config = load_pipeline_config(kExamples / "image_preprocess.yaml");
  ASSERT_EQ(config.stages.size(), 2u);
  EXPECT_EQ(config.stages[0].name, "decode");
  EXPECT_EQ(config.stages[0].op, "image.decode");
  EXPECT_EQ(config.stages[0].args, OpArgs().set("input", "bytes").set("output", "image"));
  EXPECT_EQ(config.stages[1].name, "preprocess");
  EXPECT_EQ(config.stages[1].op, "image.preprocess");
  EXPECT_EQ(config.stages[1].args.at("input"), OpArgs("image"));
  EXPECT_EQ(config.stages[1].args.at("output"), OpArgs("pixels"));
  EXPECT_EQ(config.stages[1].args.at("size"), OpArgs(std::vector<int64_t>{224, 224}));
  EXPECT_EQ(config.stages[1].args.at("resize"), OpArgs("shorter_side_crop"));
}

std::vector<std::string> ops_of(const PipelineConfig& config) {
  std::vector<std::string> ops;
  for (const StageConfig& stage : config.stages) ops.push_back(stage.op);
  return ops;
}

TEST(Examples, ImageClassifyRunsAModelAndTopKWithLabelsKeptOutsideTheRepository) {
  const PipelineConfig config = load_pipeline_config(kExamples / "image_classify.yaml");
  EXPECT_THAT(ops_of(config), ::testing::ElementsAre("image.decode", "image.preprocess", "onnx", "post.softmax",
                                                     "post.topk"));
  const std::string model = config.stages[2].args.at("path").as_string();
  EXPECT_EQ(model.rfind("~/", 0), 0u) << model << ": models are written outside the repository";
  EXPECT_TRUE(config.stages[4].args.has("labels"));
  EXPECT_EQ(config.plan, PlanMode::kManual);
}

// Each `plan: auto` example is its hand-laid-out twin with the layout left to the planner.
TEST(Examples, EveryAutoExampleIsItsManualTwinPlannedByThePlanner) {
  for (const std::string twin : {"image_classify", "text_classify"}) {
    SCOPED_TRACE(twin);
    const PipelineConfig manual = load_pipeline_config(kExamples / (twin + ".yaml"));
    const PipelineConfig automatic = load_pipeline_config(kExamples / (twin + "_auto.yaml"));
    EXPECT_EQ(automatic.plan, PlanMode::kAuto);
    ASSERT_EQ(ops_of(automatic), ops_of(manual));
    for (std::size_t i = 0; i < manual.stages.size(); ++i) {
      EXPECT_EQ(automatic.stages[i].name, manual.stages[i].name);
      EXPECT_EQ(automatic.stages[i].args, manual.stages[i].args);
    }
  }
}

TEST(Examples, TextTokenizeHasOneWordPieceStage) {
  const PipelineConfig config = load_pipeline_config(kExamples / "text_tokenize.yaml");
  ASSERT_EQ(config.stages.size(), 1u);
  EXPECT_EQ(config.stages[0].name, "tokenize");
  EXPECT_EQ(config.stages[0].op, "text.wordpiece");
  EXPECT_EQ(config.stages[0].args.at("vocab"), OpArgs("data/vocab.txt"));
  EXPECT_EQ(config.stages[0].args.at("max_length"), OpArgs(128));
  EXPECT_EQ(config.base_dir, std::filesystem::absolute(kExamples));
}

TEST(Examples, TheDeploymentFileNamesTheExamplePipelines) {
  const DeploymentConfig config = load_deployment_config(kExamples / "deployment.yaml");
  ASSERT_EQ(config.pipelines.size(), 2u);
  EXPECT_EQ(config.pipelines[0].pipeline.name, "image-classify");
  EXPECT_EQ(config.pipelines[1].pipeline.name, "text-tokenize");
  EXPECT_GT(config.pipelines[0].priority, config.pipelines[1].priority);
}

}  // namespace
}  // namespace conveyor
