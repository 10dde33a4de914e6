#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config_test_support.hpp"
#include "conveyor/config/pipeline_config.hpp"

namespace conveyor {
namespace {

using test::line_containing;
using ::testing::HasSubstr;

// An operator that records which stage's args built it, so a test can tell the factories apart.
OperatorFactory labelling_factory(const std::string& label) {
  return make_operator([label](Sample& sample) { sample.texts["built_by"].push_back(label); });
}

// "test.gate" requires a number `threshold` in [0, 1]; "test.echo" accepts anything; "test.broken" throws
// something that is not an OpArgError.
OperatorRegistry test_registry(std::filesystem::path* seen_base_dir = nullptr) {
  OperatorRegistry registry;
  registry.add("test.gate", "passes samples over a threshold",
               [seen_base_dir](const OpArgs& args, const OpBuildContext& context) {
                 if (seen_base_dir != nullptr) *seen_base_dir = context.base_dir;
                 if (!args.has("threshold")) throw OpArgError("threshold", "missing required argument");
                 const OpArgs threshold = args.at("threshold");
                 if (!threshold.is_number() || threshold.as_double() < 0 || threshold.as_double() > 1) {
                   throw OpArgError("threshold", "must be a number in [0, 1], got " + threshold.to_json());
                 }
                 return labelling_factory("gate " + threshold.to_json());
               });
  registry.add("test.echo", "does nothing", [](const OpArgs& args, const OpBuildContext&) {
    return labelling_factory("echo " + args.to_json());
  });
  registry.add("test.broken", "always fails", [](const OpArgs&, const OpBuildContext&) -> OperatorFactory {
    throw std::runtime_error("model file is corrupt");
  });
  return registry;
}

ConfigError build_error(const std::string& yaml, const OperatorRegistry& registry) {
  const PipelineConfig config = parse_pipeline_config(yaml, "pipeline.yaml");
  try {
    build_stage_specs(config, registry);
  } catch (const ConfigError& error) {
    return error;
  }
  ADD_FAILURE() << "expected a ConfigError";
  return ConfigError("", 0, "", "");
}

TEST(BuildStageSpecs, CopiesStageSettingsAndBuildsEachFactoryFromItsArgs) {
  const std::string yaml = R"(stages:
  - name: first
    op: test.echo
    workers: 2
    cores: [0, 1]
    threads: 1
    queue_capacity: 3
    args: {word: hi}
  - name: second
    op: test.gate
    cores: none
    share_cores: true
    args:
      threshold: 0.5
)";
  std::filesystem::path seen_base_dir;
  const OperatorRegistry registry = test_registry(&seen_base_dir);
  const PipelineConfig config = parse_pipeline_config(yaml, "conf/pipeline.yaml");
  const std::vector<StageSpec> specs = build_stage_specs(config, registry);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(seen_base_dir, config.base_dir);

  EXPECT_EQ(specs[0].name, "first");
  EXPECT_EQ(specs[0].workers, 2);
  EXPECT_EQ(specs[0].cores.kind, CoreSpec::Kind::kIds);
  EXPECT_EQ(specs[0].cores.ids, (std::vector<int>{0, 1}));
  EXPECT_EQ(specs[0].threads, 1);
  EXPECT_EQ(specs[0].queue_capacity, 3u);
  EXPECT_EQ(specs[1].name, "second");
  EXPECT_EQ(specs[1].cores.kind, CoreSpec::Kind::kUnpinned);
  EXPECT_TRUE(specs[1].cores.shared);
  EXPECT_EQ(specs[1].threads, 0);

  Sample sample;
  for (const StageSpec& spec : specs) {
    ASSERT_TRUE(spec.factory);
    spec.factory(WorkerContext{spec.name, 0, {}, 1})->process(sample);
  }
  EXPECT_EQ(sample.texts.at("built_by"), (std::vector<std::string>{R"(echo {"word":"hi"})", "gate 0.5"}));
}

TEST(BuildStageSpecs, OpArgErrorPointsAtTheArgumentLine) {
  const std::string yaml = R"(stages:
  - name: pass
    op: test.echo
  - name: gate
    op: test.gate
    args:
      other: 1
      threshold: 7
)";
  const ConfigError error = build_error(yaml, test_registry());
  EXPECT_EQ(error.file(), "pipeline.yaml");
  EXPECT_EQ(error.line(), line_containing(yaml, "threshold: 7"));
  EXPECT_EQ(error.key(), "stages[1].args.threshold");
  EXPECT_THAT(error.what(), HasSubstr("must be a number in [0, 1], got 7"));
}

TEST(BuildStageSpecs, MissingArgumentPointsAtTheStage) {
  const std::string yaml = "stages:\n  - name: pass\n    op: test.echo\n  - name: gate\n    op: test.gate\n";
  const ConfigError error = build_error(yaml, test_registry());
  EXPECT_EQ(error.line(), line_containing(yaml, "- name: gate"));
  EXPECT_EQ(error.key(), "stages[1].args.threshold");
  EXPECT_THAT(error.what(), HasSubstr("missing required argument"));
}

TEST(BuildStageSpecs, UnknownOpPointsAtTheOpLineAndListsKnownOps) {
  const std::string yaml = "stages:\n  - name: gate\n    workers: 1\n    op: test.gat\n";
  const ConfigError error = build_error(yaml, test_registry());
  EXPECT_EQ(error.line(), line_containing(yaml, "op: test.gat"));
  EXPECT_EQ(error.key(), "stages[0].op");
  EXPECT_THAT(error.what(), HasSubstr("unknown op 'test.gat'"));
  EXPECT_THAT(error.what(), HasSubstr("did you mean 'test.gate'"));
  EXPECT_THAT(error.what(), HasSubstr("test.broken, test.echo, test.gate"));
}

TEST(BuildStageSpecs, AnUnknownArgNamesTheStageTheKeyItsLineAndTheClosestAcceptedOne) {
  const std::string yaml = R"(stages:
  - name: decode
    op: image.decode
  - name: preprocess
    op: image.preprocess
    args:
      resize: stretch
      szie: [224, 224]
)";
  const ConfigError error = build_error(yaml, builtin_operators());
  EXPECT_EQ(error.line(), line_containing(yaml, "szie:"));
  EXPECT_EQ(error.key(), "stages[1].args.szie");
  EXPECT_THAT(error.what(), HasSubstr("stage 'preprocess': image.preprocess has no arg 'szie'"));
  EXPECT_THAT(error.what(), HasSubstr("(did you mean 'size'?)"));
  EXPECT_THAT(error.what(),
              HasSubstr("it accepts: input, interpolation, mean, output, resize, resize_to, rgb, "
                        "scale, size, std"));
  // Nothing like any accepted key: no guess, still the list.
  const ConfigError far =
      build_error("stages:\n  - {name: d, op: image.decode, args: {quality: 9}}\n", builtin_operators());
  EXPECT_THAT(far.what(), ::testing::Not(HasSubstr("did you mean")));
  EXPECT_THAT(far.what(), HasSubstr("has no arg 'quality'; it accepts: input, max_pixels, output"));
}

TEST(BuildStageSpecs, OtherBuilderFailuresPointAtTheArgs) {
  const std::string yaml = "stages:\n  - name: model\n    op: test.broken\n    args:\n      path: m.onnx\n";
  const ConfigError error = build_error(yaml, test_registry());
  EXPECT_EQ(error.line(), line_containing(yaml, "args:"));
  EXPECT_EQ(error.key(), "stages[0].args");
  EXPECT_THAT(error.what(), HasSubstr("model file is corrupt"));
}

}  // namespace
}  // namespace conveyor
