// The onnx operator's `segment` arg: the part of the model between boundary tensors, cut in memory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/graph/zoo.hpp"
#include "ops/op_test_support.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

class OnnxSegment : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_onnx_segment_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = dir_ / "tinycnn.onnx";
    zoo::write("tinycnn", zoo::ZooOptions{.image_size = 32}, path_.string());
    graph_ = load_onnx(path_.string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  nlohmann::json args(const nlohmann::json& segment) const {
    return {{"path", path_.string()}, {"segment", segment}};
  }
  std::string name_of(int value) const { return graph_.value(value).name; }
  // A tensor between the first node and the rest.
  std::string cut() const { return name_of(graph_.nodes.at(0).outputs.at(0)); }

  fs::path dir_, path_;
  Graph graph_;
};

TEST_F(OnnxSegment, BadSegmentsAreErrorsOfTheSegmentArg) {
  const std::string in = name_of(graph_.inputs[0]), out = name_of(graph_.outputs[0]);
  for (const nlohmann::json& bad :
       {nlohmann::json("x"), nlohmann::json{{"inputs", {in}}},
        nlohmann::json{{"inputs", {in}}, {"outputs", {}}}, nlohmann::json{{"inputs", {in}}, {"outputs", {1}}},
        nlohmann::json{{"inputs", {in}}, {"outputs", {"nope"}}},
        nlohmann::json{{"inputs", {cut()}}, {"outputs", {out}}, {"nodes", 1}},
        nlohmann::json{{"inputs", {cut()}}, {"outputs", {cut()}}}})
    EXPECT_EQ(test::arg_error_key("onnx", args(bad)), "segment") << bad.dump();
  // An output the inputs cannot compute names the tensor that is missing.
  const std::string message =
      test::arg_error_message("onnx", args({{"inputs", {cut()}}, {"outputs", {out}}}));
  EXPECT_EQ(message, "") << "the rest of the model after its first node is a closed segment";
  EXPECT_NE(test::arg_error_message("onnx", args({{"inputs", {in}}, {"outputs", {"nope"}}})).find("'nope'"),
            std::string::npos);
}

TEST_F(OnnxSegment, TwoSegmentsChainedGiveTheWholeModelsResult) {
  const std::string in = name_of(graph_.inputs[0]), out = name_of(graph_.outputs[0]);
  Tensor image(DType::kFloat32, Shape{1, 3, 32, 32});
  for (int64_t i = 0; i < image.numel(); ++i)
    image.data<float>()[i] = static_cast<float>(i % 17) / 17.0f - 0.5f;
  Sample whole;
  whole.tensors[in] = image;
  test::run_op("onnx", {{"path", path_.string()}}, whole);
  Sample split;
  split.tensors[in] = image;
  test::run_op("onnx", args({{"inputs", {in}}, {"outputs", {cut()}}}), split);
  ASSERT_TRUE(split.tensors.count(cut()));
  test::run_op("onnx", args({{"inputs", {cut()}}, {"outputs", {out}}}), split);
  const Tensor& a = split.at(out);
  const Tensor& b = whole.at(out);
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0);
}

}  // namespace
}  // namespace conveyor
