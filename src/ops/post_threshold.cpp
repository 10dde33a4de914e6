// post.threshold: one sample's class scores ([C] or [1, C] float32) -> every class scoring at least
// `threshold`, best first (ties: lower index first). NaN scores never pass.
#include <algorithm>

#include "ops/builtin_ops.hpp"
#include "ops/class_scores.hpp"
#include "ops/label_list.hpp"
#include "ops/op_args.hpp"

namespace conveyor::ops {
namespace {

constexpr const char* kOp = "post.threshold";

struct ThresholdConfig {
  std::string input;
  std::string prefix;
  float threshold = 0.5F;
  std::shared_ptr<const LabelList> labels;  // null: no label texts
};

void threshold(Sample& sample, const ThresholdConfig& config) {
  const auto scores = class_scores(sample, config.input, kOp);
  std::vector<int64_t> passed;
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (scores[i] >= config.threshold) passed.push_back(static_cast<int64_t>(i));
  std::sort(passed.begin(), passed.end(), [&](int64_t a, int64_t b) {
    return ranks_before(scores[static_cast<std::size_t>(a)], a, scores[static_cast<std::size_t>(b)], b);
  });

  const auto n = static_cast<int64_t>(passed.size());
  Tensor indices(DType::kInt64, {n});
  Tensor values(DType::kFloat32, {n});
  std::vector<std::string> labels;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t index = passed[static_cast<std::size_t>(i)];
    indices.data<int64_t>()[i] = index;
    values.data<float>()[i] = scores[static_cast<std::size_t>(index)];
    if (config.labels) labels.push_back(config.labels->at(index, static_cast<int64_t>(scores.size())));
  }
  sample.tensors[config.prefix + "indices"] = std::move(indices);
  sample.tensors[config.prefix + "scores"] = std::move(values);
  if (config.labels) sample.texts[config.prefix + "labels"] = std::move(labels);
}

BuiltOperator build(const OpArgs& args, const OpBuildContext& context) {
  ArgReader reader(kOp, args, context, {"input", "threshold", "prefix", "labels"});
  auto config = std::make_shared<ThresholdConfig>();
  config->input = reader.name("input", "probs");
  config->threshold = static_cast<float>(reader.required_number("threshold"));
  config->prefix = reader.string("prefix", "above_");
  const auto labels_file = reader.optional_file("labels");
  reader.finish();
  config->labels = load_labels_arg(reader, labels_file);
  OperatorSignature signature;
  signature.inputs.push_back({.name = config->input, .dtype = DType::kFloat32, .dims = {-1}});
  signature.outputs.push_back({.name = config->prefix + "indices", .dtype = DType::kInt64, .dims = {-1}});
  signature.outputs.push_back({.name = config->prefix + "scores", .dtype = DType::kFloat32, .dims = {-1}});
  if (config->labels) signature.outputs.push_back({.name = config->prefix + "labels", .dims = {-1}, .text = true});
  return {make_operator([config](Sample& sample) { threshold(sample, *config); }), std::move(signature)};
}

}  // namespace

void add_post_threshold(OperatorRegistry& registry) {
  registry.add(kOp,
               "classes of [C] or [1, C] float32 scores >= threshold, best first: <prefix>indices int64 [n], "
               "<prefix>scores float32 [n], texts <prefix>labels",
               build);
}

}  // namespace conveyor::ops
