#include <cmath>
#include <numeric>

#include "op_test_support.hpp"

namespace conveyor {
namespace {

using test::json_args;

using test::run_error;
using test::run_op;

Tensor softmax(const Tensor& logits, const OpArgs& args = OpArgs()) {
  Sample sample;
  sample.tensors["logits"] = logits;
  run_op("post.softmax", args, sample);
  return sample.at("probs");
}

TEST(PostSoftmax, ProbabilitiesSumToOneAndFollowExpRatios) {
  const std::vector<float> x = {1.0F, 2.0F, 0.5F, -3.0F};
  const Tensor p = softmax(Tensor::from<float>({1, 4}, x));
  ASSERT_EQ(p.shape(), (Shape{1, 4}));
  const auto v = p.values<float>();
  EXPECT_NEAR(std::accumulate(v.begin(), v.end(), 0.0), 1.0, 1e-6);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_GT(v[i], 0.0F);
    EXPECT_NEAR(v[i] / v[0], std::exp(x[i] - x[0]), 1e-5);
  }
}

TEST(PostSoftmax, LargeLogitsDoNotOverflow) {
  const Tensor big = softmax(Tensor::from<float>({3}, std::vector<float>{1000.0F, 1001.0F, 1002.0F}));
  const Tensor small = softmax(Tensor::from<float>({3}, std::vector<float>{0.0F, 1.0F, 2.0F}));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::isfinite(big.values<float>()[i]));
    EXPECT_NEAR(big.values<float>()[i], small.values<float>()[i], 1e-6);
  }
  const Tensor extreme = softmax(Tensor::from<float>({2}, std::vector<float>{-1e30F, 1e30F}));
  EXPECT_EQ(extreme.values<float>()[0], 0.0F);
  EXPECT_EQ(extreme.values<float>()[1], 1.0F);
}

TEST(PostSoftmax, AxisSelectsTheNormalisedDimension) {
  // [[0, 0], [ln 3, 0]]: along axis 0 the first column is (1/4, 3/4), the second (1/2, 1/2).
  const Tensor p = softmax(Tensor::from<float>({2, 2}, std::vector<float>{0.0F, 0.0F, std::log(3.0F), 0.0F}),
                           json_args(R"({"axis": 0})"));
  const auto v = p.values<float>();
  EXPECT_NEAR(v[0], 0.25, 1e-6);
  EXPECT_NEAR(v[2], 0.75, 1e-6);
  EXPECT_NEAR(v[1], 0.5, 1e-6);
  EXPECT_NEAR(v[3], 0.5, 1e-6);
  // The default (last axis) normalises rows instead.
  const Tensor by_rows =
      softmax(Tensor::from<float>({2, 2}, std::vector<float>{0.0F, 0.0F, std::log(3.0F), 0.0F}));
  const auto rows = by_rows.values<float>();
  EXPECT_NEAR(rows[2], 0.75, 1e-6);
  EXPECT_NEAR(rows[3], 0.25, 1e-6);
}

TEST(PostSoftmax, RejectsNonFloatInputAndBadAxis) {
  Sample sample;
  sample.tensors["logits"] = Tensor(DType::kInt64, {1, 3});
  EXPECT_NE(run_error("post.softmax", OpArgs(), sample).find("expected float32"), std::string::npos);
  sample.tensors["logits"] = Tensor(DType::kFloat32, {1, 3});
  const std::string error = run_error("post.softmax", json_args(R"({"axis": 2})"), sample);
  EXPECT_NE(error.find("axis 2 is out of range"), std::string::npos) << error;
  EXPECT_EQ(test::arg_error_key("post.softmax", json_args(R"({"axis": "last"})")), "axis");
  EXPECT_EQ(test::arg_error_key("post.softmax", json_args(R"({"dim": 1})")), "dim");
}

TEST(PostSoftmax, UsesConfiguredNames) {
  Sample sample;
  sample.tensors["scores"] = Tensor::from<float>({2}, std::vector<float>{1.0F, 1.0F});
  run_op("post.softmax", json_args(R"({"input": "scores", "output": "p"})"), sample);
  EXPECT_FLOAT_EQ(sample.at("p").values<float>()[0], 0.5F);
}

}  // namespace
}  // namespace conveyor
