// The onnx operator in a batching stage: a model with a symbolic batch dimension runs several requests as
// one batch and gives each the outputs it would get alone; a model with a fixed batch says why it does not.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "conveyor/graph/zoo.hpp"
#include "ops/op_test_support.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

class OnnxBatching : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_onnx_batching_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path model(const std::string& name, zoo::ZooOptions options) {
    const fs::path path = dir_ / (name + (options.dynamic_batch ? "_dynamic" : "") + ".onnx");
    zoo::write(name, options, path.string());
    return path;
  }

  static BuiltOperator build(const fs::path& path, std::vector<int> batch_sizes) {
    return builtin_operators().build("onnx", OpArgs().set("path", path.string()),
                                     OpBuildContext{path.parent_path(), std::move(batch_sizes)});
  }

  static Sample random_sample(uint64_t id, const std::string& name, Shape shape) {
    std::mt19937 rng(static_cast<unsigned>(id));
    std::normal_distribution<float> normal;
    Sample sample;
    sample.id = id;
    Tensor t(DType::kFloat32, std::move(shape));
    for (float& v : t.values<float>()) v = normal(rng);
    sample.tensors[name] = std::move(t);
    return sample;
  }

  fs::path dir_;
};

float max_abs_difference(const Tensor& a, const Tensor& b) {
  float worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, std::abs(a.data<float>()[i] - b.data<float>()[i]));
  return worst;
}

TEST_F(OnnxBatching, ABatchGivesEachRequestWhatItGetsAlone) {
  for (const std::string name : {"mlp", "tinycnn"}) {
    const fs::path path = model(name, {.dynamic_batch = true, .image_size = 32});
    const BuiltOperator built = build(path, {1, 2, 3});
    ASSERT_TRUE(built.signature.batches) << name << ": " << built.signature.not_batched;
    const Shape shape = name == "mlp" ? Shape{1, 64} : Shape{1, 3, 32, 32};
    auto op = built.factory(WorkerContext{.batch_sizes = {1, 2, 3}});
    std::vector<Sample> batch, alone;
    for (uint64_t id = 0; id < 3; ++id) {
      batch.push_back(random_sample(id, "input", shape));
      alone.push_back(random_sample(id, "input", shape));
    }
    std::vector<Sample*> pointers;
    for (auto& sample : batch) pointers.push_back(&sample);
    ASSERT_TRUE(op->process_batch(pointers));
    for (std::size_t k = 0; k < alone.size(); ++k) {
      op->process(alone[k]);
      const Tensor& together = batch[k].at("logits");
      ASSERT_EQ(together.shape(), alone[k].at("logits").shape()) << name;
      EXPECT_LE(max_abs_difference(together, alone[k].at("logits")), 1e-4f) << name << " request " << k;
    }
    EXPECT_TRUE(op->process_batch(std::span<Sample* const>(pointers).first(2))) << name << ": batch of 2";
  }
}

TEST_F(OnnxBatching, OnlyTheSizesTheStageFormsAreCompiled) {
  const fs::path path = model("mlp", {.dynamic_batch = true});
  auto op = build(path, {1, 4}).factory(WorkerContext{.batch_sizes = {1, 4}});
  std::vector<Sample> samples;
  for (uint64_t id = 0; id < 2; ++id) samples.push_back(random_sample(id, "input", {1, 64}));
  std::vector<Sample*> two{&samples[0], &samples[1]};
  EXPECT_FALSE(op->process_batch(two));  // 2 is not a size the stage runs: each goes alone
  EXPECT_FALSE(samples[0].has("logits")) << "a refused batch must leave its samples untouched";
}

TEST_F(OnnxBatching, ABadInputFailsTheBatchBeforeAnythingIsWritten) {
  const fs::path path = model("mlp", {.dynamic_batch = true});
  auto op = build(path, {1, 2}).factory(WorkerContext{.batch_sizes = {1, 2}});
  std::vector<Sample> samples{random_sample(0, "input", {1, 64}), random_sample(1, "input", {1, 63})};
  std::vector<Sample*> pointers{&samples[0], &samples[1]};
  try {
    op->process_batch(pointers);
    FAIL() << "a batch holding a wrong shape ran";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("float32[1, 63]"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(samples[0].has("logits"));
}

TEST_F(OnnxBatching, AModelWithAFixedBatchSaysWhyItIsNotBatched) {
  const BuiltOperator built = build(model("mlp", {}), {1, 2, 4});
  EXPECT_FALSE(built.signature.batches);
  EXPECT_NE(built.signature.not_batched.find("fixed batch of 1"), std::string::npos)
      << built.signature.not_batched;
  EXPECT_NE(built.signature.not_batched.find("--batch dynamic"), std::string::npos);
  auto op = built.factory(WorkerContext{.batch_sizes = {1, 2, 4}});
  std::vector<Sample> samples{random_sample(0, "input", {1, 64}), random_sample(1, "input", {1, 64})};
  std::vector<Sample*> pointers{&samples[0], &samples[1]};
  EXPECT_FALSE(op->process_batch(pointers));
}

TEST_F(OnnxBatching, ADynamicModelInAStageThatDoesNotBatchRunsAtBatchOne) {
  const BuiltOperator built = build(model("mlp", {.dynamic_batch = true}), {1});
  EXPECT_FALSE(built.signature.batches);
  EXPECT_TRUE(built.signature.not_batched.empty());
  ASSERT_EQ(built.signature.inputs.size(), 1u);
  EXPECT_EQ(built.signature.inputs[0].dims, (std::vector<int64_t>{1, 64}));
}

}  // namespace
}  // namespace conveyor
