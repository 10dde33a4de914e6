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

  OpArgs args(const OpArgs& segment) const {
    return OpArgs().set("path", path_.string()).set("segment", segment);
  }
  // A segment arg: {inputs: [...], outputs: [...]}.
  static OpArgs bounds(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
    return OpArgs().set("inputs", inputs).set("outputs", outputs);
  }
  std::string name_of(int value) const { return graph_.value(value).name; }
  // A tensor between the first node and the rest.
  std::string cut() const { return name_of(graph_.nodes.at(0).outputs.at(0)); }

  fs::path dir_, path_;
  Graph graph_;
};

TEST_F(OnnxSegment, BadSegmentsAreErrorsOfTheSegmentArg) {
  const std::string in = name_of(graph_.inputs[0]), out = name_of(graph_.outputs[0]);
  for (const OpArgs& bad :
       {OpArgs("x"), OpArgs().set("inputs", std::vector<std::string>{in}),
        OpArgs().set("inputs", std::vector<std::string>{in}).set("outputs", OpArgs(nullptr)),
        OpArgs().set("inputs", std::vector<std::string>{in}).set("outputs", std::vector<int64_t>{1}),
        bounds({in}, {"nope"}), bounds({cut()}, {out}).set("nodes", 1), bounds({cut()}, {cut()})})
    EXPECT_EQ(test::arg_error_key("onnx", args(bad)), "segment") << bad.to_json();
  // An output the inputs cannot compute names the tensor that is missing.
  const std::string message = test::arg_error_message("onnx", args(bounds({cut()}, {out})));
  EXPECT_EQ(message, "") << "the rest of the model after its first node is a closed segment";
  EXPECT_NE(test::arg_error_message("onnx", args(bounds({in}, {"nope"}))).find("'nope'"), std::string::npos);
}

TEST_F(OnnxSegment, TwoSegmentsChainedGiveTheWholeModelsResult) {
  const std::string in = name_of(graph_.inputs[0]), out = name_of(graph_.outputs[0]);
  Tensor image(DType::kFloat32, Shape{1, 3, 32, 32});
  for (int64_t i = 0; i < image.numel(); ++i)
    image.data<float>()[i] = static_cast<float>(i % 17) / 17.0f - 0.5f;
  Sample whole;
  whole.tensors[in] = image;
  test::run_op("onnx", OpArgs().set("path", path_.string()), whole);
  Sample split;
  split.tensors[in] = image;
  test::run_op("onnx", args(bounds({in}, {cut()})), split);
  ASSERT_TRUE(split.tensors.count(cut()));
  test::run_op("onnx", args(bounds({cut()}, {out})), split);
  const Tensor& a = split.at(out);
  const Tensor& b = whole.at(out);
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0);
}

}  // namespace
}  // namespace conveyor
