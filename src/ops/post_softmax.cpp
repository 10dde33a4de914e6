// post.softmax: float32 scores -> probabilities along one axis (max subtracted first, so large logits
// cannot overflow exp).
#include <cmath>
#include <limits>
#include <stdexcept>

#include "ops/builtin_ops.hpp"
#include "ops/op_args.hpp"

namespace conveyor::ops {
namespace {

constexpr const char* kOp = "post.softmax";

void softmax(Sample& sample, const std::string& input, const std::string& output, int64_t axis_arg) {
  const Tensor& logits = sample.at(input);
  if (logits.dtype() != DType::kFloat32)
    throw std::invalid_argument(std::string(kOp) + ": input '" + input + "' is " + logits.describe() +
                                ", expected float32");
  const auto rank = static_cast<int64_t>(logits.rank());
  const int64_t axis = axis_arg < 0 ? axis_arg + rank : axis_arg;
  if (axis < 0 || axis >= rank)
    throw std::invalid_argument(std::string(kOp) + ": axis " + std::to_string(axis_arg) +
                                " is out of range for input '" + input + "' " + logits.describe());

  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= logits.dim(static_cast<std::size_t>(d));
  for (int64_t d = axis + 1; d < rank; ++d) inner *= logits.dim(static_cast<std::size_t>(d));
  const int64_t n = logits.dim(static_cast<std::size_t>(axis));

  Tensor probs(DType::kFloat32, logits.shape());
  const float* in = logits.data<float>();
  float* out = probs.data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * n * inner + i;
      float max_value = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < n; ++k) max_value = std::max(max_value, in[base + k * inner]);
      double sum = 0.0;
      for (int64_t k = 0; k < n; ++k) {
        const float e = std::exp(in[base + k * inner] - max_value);
        out[base + k * inner] = e;
        sum += e;
      }
      const auto scale = static_cast<float>(1.0 / sum);
      for (int64_t k = 0; k < n; ++k) out[base + k * inner] *= scale;
    }
  }
  sample.tensors[output] = std::move(probs);
}

BuiltOperator build(const OpArgs& args, const OpBuildContext& context) {
  ArgReader reader(kOp, args, context, {"input", "output", "axis"});
  const std::string input = reader.name("input", "logits");
  const std::string output = reader.name("output", "probs");
  const int64_t axis = reader.integer("axis", -1, std::numeric_limits<int32_t>::min());
  reader.finish();
  OperatorSignature signature;
  signature.inputs.push_back({.name = input, .dtype = DType::kFloat32, .dims = {-1}});
  signature.outputs.push_back(
      {.name = output, .dtype = DType::kFloat32, .dims = {-1}, .dims_of_input = input});
  return {make_operator([input, output, axis](Sample& sample) { softmax(sample, input, output, axis); }),
          std::move(signature)};
}

}  // namespace

void add_post_softmax(OperatorRegistry& registry) {
  registry.add(kOp, "numerically stable softmax of float32 scores along `axis` (default -1)", build);
}

}  // namespace conveyor::ops
