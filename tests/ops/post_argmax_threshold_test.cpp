#include "op_test_support.hpp"

namespace conveyor {
namespace {

using test::json_args;

using test::arg_error_key;
using test::run_error;
using test::run_op;

Sample with_probs(Shape shape, std::vector<float> values) {
  Sample sample;
  sample.tensors["probs"] = Tensor::from<float>(std::move(shape), values);
  return sample;
}

TEST(PostArgmax, GivesTheBestClassAsInt64) {
  Sample sample = with_probs({1, 4}, {0.1F, 0.2F, 0.6F, 0.1F});
  run_op("post.argmax", OpArgs(), sample);
  const Tensor& cls = sample.at("class");
  ASSERT_EQ(cls.dtype(), DType::kInt64);
  ASSERT_EQ(cls.shape(), (Shape{1}));
  EXPECT_EQ(cls.values<int64_t>()[0], 2);
}

TEST(PostArgmax, TiesGiveTheLowerIndexAndNanNeverWins) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Sample sample = with_probs({5}, {nan, 0.1F, 0.4F, 0.4F, -1.0F});
  run_op("post.argmax", json_args(R"({"output": "best"})"), sample);
  EXPECT_EQ(sample.at("best").values<int64_t>()[0], 2);
}

TEST(PostArgmax, RejectsBadInputAndArgs) {
  Sample batch = with_probs({2, 2}, {1, 2, 3, 4});
  EXPECT_NE(run_error("post.argmax", OpArgs(), batch).find("one sample"), std::string::npos);
  EXPECT_EQ(arg_error_key("post.argmax", json_args(R"({"output": 7})")), "output");
  EXPECT_EQ(arg_error_key("post.argmax", json_args(R"({"axis": -1})")), "axis");
}

TEST(PostThreshold, KeepsScoresAtOrAboveTheThresholdBestFirst) {
  Sample sample = with_probs({1, 6}, {0.2F, 0.7F, 0.5F, 0.1F, 0.9F, 0.5F});
  run_op("post.threshold", json_args(R"({"threshold": 0.5})"), sample);
  const auto idx = sample.at("above_indices").values<int64_t>();
  const auto val = sample.at("above_scores").values<float>();
  EXPECT_EQ(std::vector<int64_t>(idx.begin(), idx.end()), (std::vector<int64_t>{4, 1, 2, 5}));
  EXPECT_EQ(std::vector<float>(val.begin(), val.end()), (std::vector<float>{0.9F, 0.7F, 0.5F, 0.5F}));
  EXPECT_EQ(sample.at("above_indices").dtype(), DType::kInt64);
}

TEST(PostThreshold, NothingAboveGivesEmptyTensors) {
  Sample sample = with_probs({3}, {0.1F, 0.2F, 0.3F});
  run_op("post.threshold", json_args(R"({"threshold": 0.95, "prefix": "hit_"})"), sample);
  EXPECT_EQ(sample.at("hit_indices").shape(), (Shape{0}));
  EXPECT_EQ(sample.at("hit_scores").shape(), (Shape{0}));
}

TEST(PostThreshold, OptionalLabelsFollowTheOrder) {
  test::TempDir dir;
  const auto labels = dir.write_lines("l.txt", {"zero", "one", "two"});
  Sample sample = with_probs({3}, {0.6F, 0.1F, 0.8F});
  run_op("post.threshold", OpArgs().set("threshold", 0.5).set("labels", labels.string()), sample);
  EXPECT_EQ(sample.texts.at("above_labels"), (std::vector<std::string>{"two", "zero"}));
}

TEST(PostThreshold, BadArgsNameTheKey) {
  EXPECT_EQ(arg_error_key("post.threshold", OpArgs()), "threshold");
  EXPECT_EQ(arg_error_key("post.threshold", json_args(R"({"threshold": "high"})")), "threshold");
  EXPECT_EQ(arg_error_key("post.threshold", json_args(R"({"threshold": 0.5, "min": 0.1})")), "min");
}

}  // namespace
}  // namespace conveyor
