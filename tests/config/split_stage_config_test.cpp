// `split:` on onnx stages as the config layer reads it: counts, auto, and the errors at its line. Expanding
// split stages into segment stages is the api layer's (tests/api/split_stages_test.cpp).
#include <gtest/gtest.h>

#include "config/config_test_support.hpp"
#include "conveyor/ops/registry.hpp"

namespace conveyor {
namespace {

using test::line_containing;
using test::parse_error;

TEST(SplitConfig, ReadsCountAndAuto) {
  const PipelineConfig config = parse_pipeline_config(
      "stages:\n"
      "  - {name: a, op: onnx, split: 3, args: {path: m.onnx}}\n"
      "  - {name: b, op: onnx, split: auto, args: {path: m.onnx}}\n"
      "  - {name: c, op: onnx, args: {path: m.onnx}}\n",
      "pipeline.yaml");
  ASSERT_EQ(config.stages.size(), 3u);
  EXPECT_EQ(config.stages[0].split.value_or(-1), 3);
  EXPECT_EQ(config.stages[1].split.value_or(-1), StageConfig::kSplitAuto);
  EXPECT_FALSE(config.stages[2].split.has_value());
}

TEST(SplitConfig, SplitOnANonOnnxOpIsAnErrorAtTheSplitLine) {
  const std::string yaml =
      "stages:\n"
      "  - name: decode\n"
      "    op: image.decode\n"
      "    split: 2\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, "split:"));
  EXPECT_EQ(error.key(), "stages[0].split");
  EXPECT_NE(std::string(error.what()).find("image.decode"), std::string::npos) << error.what();
}

TEST(SplitConfig, BadSplitValuesNameTheKeyAndLine) {
  for (const std::string value : {"0", "-1", "two", "1.5", "\"2\"", "[2]", "true"}) {
    const std::string yaml =
        "stages:\n"
        "  - name: model\n"
        "    op: onnx\n"
        "    split: " + value + "\n"
        "    args: {path: m.onnx}\n";
    const ConfigError error = parse_error(yaml);
    EXPECT_EQ(error.line(), line_containing(yaml, "split:")) << value;
    EXPECT_EQ(error.key(), "stages[0].split") << value;
  }
}

TEST(SplitConfig, CoreIdListsCannotBeSplit) {
  const std::string yaml =
      "stages:\n"
      "  - name: model\n"
      "    op: onnx\n"
      "    cores: [0, 1]\n"
      "    split: 2\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, "split:"));
  EXPECT_EQ(error.key(), "stages[0].split");
}

TEST(SplitConfig, BuildingAnUnexpandedSplitStageIsAnError) {
  const std::string yaml = "stages:\n  - {name: m, op: onnx, split: 2, args: {path: m.onnx}}\n";
  const PipelineConfig config = parse_pipeline_config(yaml, "pipeline.yaml");
  EXPECT_THROW(build_stage_specs(config, builtin_operators()), ConfigError);
}

}  // namespace
}  // namespace conveyor
