#include "ops/class_scores.hpp"

#include <stdexcept>

namespace conveyor::ops {

std::span<const float> class_scores(const Sample& sample, const std::string& input, std::string_view op) {
  const Tensor& scores = sample.at(input);
  const auto fail = [&](const std::string& why) {
    return std::invalid_argument(std::string(op) + ": input '" + input + "' is " + scores.describe() + ", " +
                                 why);
  };
  if (scores.dtype() != DType::kFloat32) throw fail("expected float32 class scores");
  if (scores.rank() == 0 || scores.numel() == 0) throw fail("expected a non-empty [C] or [1, C] tensor");
  for (std::size_t i = 0; i + 1 < scores.rank(); ++i)
    if (scores.dim(i) != 1) throw fail("expected the scores of one sample, [C] or [1, C]");
  return scores.values<float>();
}

}  // namespace conveyor::ops
