// post.topk: one sample's class scores ([C] or [1, C] float32) -> the k best classes, best first.
// k larger than the class count is refused when the count is known before the first sample (a labels file,
// an earlier stage's fixed output dims: see OperatorSignature), and clamped to it otherwise.
#include <algorithm>
#include <numeric>

#include "ops/builtin_ops.hpp"
#include "ops/class_scores.hpp"
#include "ops/label_list.hpp"
#include "ops/op_args.hpp"

namespace conveyor::ops {
namespace {

constexpr const char* kOp = "post.topk";

struct TopkConfig {
  std::string input;
  std::string prefix;
  int64_t k = 5;
  std::shared_ptr<const LabelList> labels;  // null: no label texts
};

void topk(Sample& sample, const TopkConfig& config) {
  const auto scores = class_scores(sample, config.input, kOp);
  const auto classes = static_cast<int64_t>(scores.size());
  const int64_t k = std::min(config.k, classes);

  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return ranks_before(scores[static_cast<std::size_t>(a)], a, scores[static_cast<std::size_t>(b)], b);
  });

  Tensor top_scores(DType::kFloat32, {k});
  Tensor top_indices(DType::kInt64, {k});
  std::vector<std::string> labels;
  for (int64_t i = 0; i < k; ++i) {
    const int64_t index = order[static_cast<std::size_t>(i)];
    top_indices.data<int64_t>()[i] = index;
    top_scores.data<float>()[i] = scores[static_cast<std::size_t>(index)];
    if (config.labels) labels.push_back(config.labels->at(index, classes));
  }
  sample.tensors[config.prefix + "scores"] = std::move(top_scores);
  sample.tensors[config.prefix + "indices"] = std::move(top_indices);
  if (config.labels) sample.texts[config.prefix + "labels"] = std::move(labels);
}

BuiltOperator build(const OpArgs& args, const OpBuildContext& context) {
  ArgReader reader(kOp, args, context, {"input", "k", "prefix", "labels"});
  auto config = std::make_shared<TopkConfig>();
  config->input = reader.name("input", "probs");
  config->k = reader.integer("k", 5, 1);
  config->prefix = reader.string("prefix", "topk_");
  const auto labels_file = reader.optional_file("labels");
  reader.finish();
  config->labels = load_labels_arg(reader, labels_file);
  // Line i of the labels file names class i: a file of fewer lines than k cannot be for k classes or more.
  if (config->labels && static_cast<int64_t>(config->labels->size()) < config->k)
    throw reader.error("k", "is " + std::to_string(config->k) + ", but the labels file '" +
                                labels_file->string() + "' names only " +
                                std::to_string(config->labels->size()) +
                                " classes: k must be at most the number of classes");
  OperatorSignature signature;
  signature.inputs.push_back({.name = config->input,
                              .dtype = DType::kFloat32,
                              .dims = {-1},
                              .min_last_dim = config->k,
                              .min_last_dim_reason = "k is " + std::to_string(config->k)});
  signature.outputs.push_back({.name = config->prefix + "scores", .dtype = DType::kFloat32, .dims = {-1}});
  signature.outputs.push_back({.name = config->prefix + "indices", .dtype = DType::kInt64, .dims = {-1}});
  if (config->labels) signature.outputs.push_back({.name = config->prefix + "labels", .dims = {-1}, .text = true});
  return {make_operator([config](Sample& sample) { topk(sample, *config); }), std::move(signature)};
}

}  // namespace

void add_post_topk(OperatorRegistry& registry) {
  registry.add(kOp,
               "k best classes of [C] or [1, C] float32 scores: <prefix>scores float32 [k], <prefix>indices "
               "int64 [k], texts <prefix>labels",
               build);
}

}  // namespace conveyor::ops
