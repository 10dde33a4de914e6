// Stages checked against each other before a pipeline starts: what one stage reads must be what the stages
// before it write, as their operators declare it (dtype, fixed dims, post.topk's k against the classes).
#include "api/stage_signatures.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "conveyor/api/runtime.hpp"
#include "conveyor/graph/zoo.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class StageSignatures : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_signatures_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = dir_ / "tinycnn.onnx";  // float32 input [1, 3, 32, 32] -> logits [1, 10]
    zoo::write("tinycnn", zoo::ZooOptions{.seed = 3, .image_size = 32}, model_.string());
    RuntimeOptions options;
    options.profile_dir = dir_ / "profiles";
    options.segment_cache_dir = dir_ / "segments";
    runtime_ = std::make_unique<Runtime>(options);
  }
  void TearDown() override {
    runtime_.reset();
    fs::remove_all(dir_);
  }

  // decode -> preprocess at `size` -> the model (reading "pixels").
  PipelineConfig image_pipeline(const std::string& size) const {
    return runtime_->parse(
        "stages:\n"
        "  - {name: decode, op: image.decode, cores: none}\n"
        "  - {name: preprocess, op: image.preprocess, cores: none, args: {size: " +
            size +
            "}}\n"
            "  - name: cnn\n"
            "    op: onnx\n"
            "    cores: none\n"
            "    threads: 1\n"
            "    args: {path: " +
            model_.string() + ", inputs: {input: pixels}}\n",
        dir_ / "image.yaml");
  }

  // The model -> softmax -> post.topk with `k`.
  PipelineConfig topk_pipeline(int k) const {
    return runtime_->parse(
        "stages:\n"
        "  - {name: cnn, op: onnx, cores: none, threads: 1, args: {path: " +
            model_.string() +
            "}}\n"
            "  - {name: softmax, op: post.softmax, cores: none, args: {input: logits}}\n"
            "  - {name: topk, op: post.topk, cores: none, args: {k: " +
            std::to_string(k) + "}}\n",
        dir_ / "topk.yaml");
  }

  // The ConfigError starting `config` throws ("" when it starts).
  std::string start_error(const PipelineConfig& config, int* line = nullptr) {
    try {
      runtime_->start(config);
    } catch (const ConfigError& error) {
      if (line) *line = error.line();
      return error.what();
    }
    return "";
  }

  fs::path dir_, model_;
  std::unique_ptr<Runtime> runtime_;
};

TEST_F(StageSignatures, APreprocessSizeTheModelCannotTakeIsAStartupError) {
  EXPECT_EQ(start_error(image_pipeline("[32, 32]")), "");
  int line = 0;
  const std::string error = start_error(image_pipeline("[28, 28]"), &line);
  EXPECT_TRUE(contains(error, "stage 'cnn' (onnx) reads 'pixels' as float32 [1, 3, 32, 32]")) << error;
  EXPECT_TRUE(contains(error, "stage 'preprocess' (image.preprocess) writes it as float32 [1, 3, 28, 28]"))
      << error;
  EXPECT_TRUE(contains(error, "dim 2 is 28, not 32")) << error;
  EXPECT_EQ(line, 4) << "the line of the stage that cannot read it";
}

TEST_F(StageSignatures, ATopkLargerThanTheModelsClassesIsAStartupError) {
  EXPECT_EQ(start_error(topk_pipeline(10)), "");
  int line = 0;
  const std::string error = start_error(topk_pipeline(5000), &line);
  EXPECT_TRUE(contains(error, "stage 'topk' (post.topk) needs at least 5000 elements")) << error;
  EXPECT_TRUE(contains(error, "(k is 5000)")) << error;
  // The classes reach topk through softmax, which keeps its input's dims.
  EXPECT_TRUE(contains(error, "stage 'softmax' (post.softmax) writes it as float32 [1, 10]")) << error;
  EXPECT_EQ(line, 4);
}

TEST_F(StageSignatures, UnknownDimsAndRanksMatchAnythingButDtypesMustAgree) {
  const PipelineConfig config = runtime_->parse(
      "stages:\n  - {name: a, op: x, cores: none}\n  - {name: b, op: y, cores: none}\n", dir_ / "p.yaml");
  const auto specs = [](TensorSignature written, TensorSignature read) {
    std::vector<StageSpec> specs(2);
    specs[0].signature.outputs.push_back(std::move(written));
    specs[1].signature.inputs.push_back(std::move(read));
    return specs;
  };
  const TensorSignature fixed{.name = "t", .dtype = DType::kFloat32, .dims = {1, 4}};
  EXPECT_NO_THROW(check_stage_signatures(config, specs(fixed, {.name = "t", .dims = {-1, 4}})));
  EXPECT_NO_THROW(check_stage_signatures(config, specs(fixed, {.name = "t", .dims = {-1}})));  // other rank
  EXPECT_NO_THROW(check_stage_signatures(config, specs(fixed, {.name = "other", .dims = {9}})));
  EXPECT_THROW(check_stage_signatures(config, specs(fixed, {.name = "t", .dims = {1, 5}})), ConfigError);
  try {
    check_stage_signatures(config, specs(fixed, {.name = "t", .dtype = DType::kInt64, .dims = {1, 4}}));
    FAIL() << "an int64 reader of a float32 tensor must be refused";
  } catch (const ConfigError& error) {
    EXPECT_TRUE(contains(error.what(), "the dtypes differ (float32 vs int64)")) << error.what();
  }
}

}  // namespace
}  // namespace conveyor
