// post.argmax: one sample's class scores ([C] or [1, C] float32) -> the best class, int64 [1]
// (the lowest index on ties; NaN never wins over a number).
#include "ops/builtin_ops.hpp"
#include "ops/class_scores.hpp"
#include "ops/op_args.hpp"

namespace conveyor::ops {
namespace {

constexpr const char* kOp = "post.argmax";

void argmax(Sample& sample, const std::string& input, const std::string& output) {
  const auto scores = class_scores(sample, input, kOp);
  int64_t best = 0;
  for (int64_t i = 1; i < static_cast<int64_t>(scores.size()); ++i)
    if (ranks_before(scores[static_cast<std::size_t>(i)], i, scores[static_cast<std::size_t>(best)], best))
      best = i;
  Tensor result(DType::kInt64, {1});
  result.data<int64_t>()[0] = best;
  sample.tensors[output] = std::move(result);
}

BuiltOperator build(const OpArgs& args, const OpBuildContext& context) {
  ArgReader reader(kOp, args, context, {"input", "output"});
  const std::string input = reader.name("input", "probs");
  const std::string output = reader.name("output", "class");
  reader.finish();
  OperatorSignature signature;
  signature.inputs.push_back({.name = input, .dtype = DType::kFloat32, .dims = {-1}});
  signature.outputs.push_back({.name = output, .dtype = DType::kInt64, .dims = {1}});
  return {make_operator([input, output](Sample& sample) { argmax(sample, input, output); }),
          std::move(signature)};
}

}  // namespace

void add_post_argmax(OperatorRegistry& registry) {
  registry.add(kOp, "index of the best class of [C] or [1, C] float32 scores, int64 [1]", build);
}

}  // namespace conveyor::ops
