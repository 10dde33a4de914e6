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

std::vector<int64_t> indices(const Sample& s, const std::string& name) {
  const auto v = s.at(name).values<int64_t>();
  return {v.begin(), v.end()};
}

std::vector<float> scores(const Sample& s, const std::string& name) {
  const auto v = s.at(name).values<float>();
  return {v.begin(), v.end()};
}

TEST(PostTopk, BestClassesFirstWithLabels) {
  test::TempDir dir;
  dir.write_lines("labels.txt", {"cat", "dog", "fox", "owl", "eel"});
  Sample sample = with_probs({1, 5}, {0.1F, 0.5F, 0.2F, 0.05F, 0.15F});
  run_op("post.topk", json_args(R"({"k": 3, "labels": "labels.txt"})"), sample, OpBuildContext{dir.path()});
  EXPECT_EQ(indices(sample, "topk_indices"), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(scores(sample, "topk_scores"), (std::vector<float>{0.5F, 0.2F, 0.15F}));
  EXPECT_EQ(sample.at("topk_indices").shape(), (Shape{3}));
  EXPECT_EQ(sample.texts.at("topk_labels"), (std::vector<std::string>{"dog", "fox", "eel"}));
}

TEST(PostTopk, DefaultsToFiveAndNoLabels) {
  Sample sample = with_probs({8}, {8, 7, 6, 5, 4, 3, 2, 1});
  run_op("post.topk", OpArgs(), sample);
  EXPECT_EQ(indices(sample, "topk_indices"), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(sample.texts.count("topk_labels"), 0U);
}

TEST(PostTopk, KLargerThanTheClassCountIsClamped) {
  Sample sample = with_probs({1, 3}, {0.2F, 0.3F, 0.5F});
  run_op("post.topk", json_args(R"({"k": 10, "prefix": "best_"})"), sample);
  EXPECT_EQ(indices(sample, "best_indices"), (std::vector<int64_t>{2, 1, 0}));
  EXPECT_EQ(sample.at("best_scores").shape(), (Shape{3}));
}

TEST(PostTopk, TiesKeepTheLowerIndexFirstAndNanRanksLast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Sample sample = with_probs({5}, {0.3F, nan, 0.3F, 0.1F, 0.3F});
  run_op("post.topk", json_args(R"({"k": 5})"), sample);
  EXPECT_EQ(indices(sample, "topk_indices"), (std::vector<int64_t>{0, 2, 4, 3, 1}));
}

TEST(PostTopk, LabelsFileShorterThanTheClassesFailsNamingFileAndSizes) {
  test::TempDir dir;
  const auto labels = dir.write_lines("short.txt", {"a", "b", "c"});
  Sample sample = with_probs({1, 5}, {0.9F, 0.05F, 0.02F, 0.02F, 0.01F});
  const std::string error =
      run_error("post.topk", OpArgs().set("k", 1).set("labels", labels.string()), sample);
  EXPECT_NE(error.find(labels.string()), std::string::npos) << error;
  EXPECT_NE(error.find("3 labels"), std::string::npos) << error;
  EXPECT_NE(error.find("5 classes"), std::string::npos) << error;
}

TEST(PostTopk, AKLargerThanTheLabelsFileIsRefusedAtBuild) {
  test::TempDir dir;
  const auto labels = dir.write_lines("three.txt", {"a", "b", "c"});
  EXPECT_EQ(test::arg_error_message("post.topk", OpArgs().set("k", 3).set("labels", labels.string())), "");
  EXPECT_EQ(arg_error_key("post.topk", OpArgs().set("k", 4).set("labels", labels.string())), "k");
  const std::string message =
      test::arg_error_message("post.topk", OpArgs().set("k", 4).set("labels", labels.string()));
  EXPECT_NE(message.find("is 4"), std::string::npos) << message;
  EXPECT_NE(message.find("only 3 classes"), std::string::npos) << message;
  EXPECT_NE(message.find(labels.string()), std::string::npos) << message;
}

TEST(PostTopk, RejectsBatchesAndNonFloatScores) {
  Sample batch = with_probs({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_NE(run_error("post.topk", OpArgs(), batch).find("one sample"), std::string::npos);
  Sample ints;
  ints.tensors["probs"] = Tensor(DType::kInt32, {1, 3});
  EXPECT_NE(run_error("post.topk", OpArgs(), ints).find("float32"), std::string::npos);
}

TEST(PostTopk, BadArgsNameTheKey) {
  EXPECT_EQ(arg_error_key("post.topk", json_args(R"({"k": 0})")), "k");
  EXPECT_EQ(arg_error_key("post.topk", json_args(R"({"k": 2.5})")), "k");
  EXPECT_EQ(arg_error_key("post.topk", json_args(R"({"labels": "/no/such/labels.txt"})")), "labels");
  EXPECT_EQ(arg_error_key("post.topk", json_args(R"({"prefix": 1})")), "prefix");
  EXPECT_EQ(arg_error_key("post.topk", json_args(R"({"top": 5})")), "top");
  test::TempDir dir;
  const auto empty = dir.write("empty.txt", "");
  EXPECT_EQ(arg_error_key("post.topk", OpArgs().set("labels", empty.string())), "labels");
}

TEST(PostTopk, ExampleLabelsCoverAThousandClasses) {
  std::vector<float> values(1000, 0.0F);
  values[999] = 1.0F;
  Sample sample = with_probs({1, 1000}, values);
  run_op("post.topk", json_args(R"({"k": 1, "labels": "labels.txt"})"), sample,
         OpBuildContext{std::filesystem::path(CONVEYOR_SOURCE_DIR) / "examples/data"});
  EXPECT_EQ(sample.texts.at("topk_labels"), (std::vector<std::string>{"class_999"}));
}

}  // namespace
}  // namespace conveyor
