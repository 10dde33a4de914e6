#pragma once
#include <span>
#include <string>
#include <string_view>

#include "conveyor/runtime/sample.hpp"

namespace conveyor::ops {

// The scores of one sample's classes: a float32 tensor of shape [C] or [1, C] (any leading dims of 1).
// Throws std::invalid_argument naming the op and tensor for another dtype, a batch or an empty tensor.
std::span<const float> class_scores(const Sample& sample, const std::string& input, std::string_view op);

// Descending score order with ties broken by the lower index and NaN after every number, so that the
// order is total and reproducible.
inline bool ranks_before(float a, int64_t ia, float b, int64_t ib) {
  const bool a_nan = a != a;
  const bool b_nan = b != b;
  if (a_nan != b_nan) return b_nan;
  if (!a_nan && a != b) return a > b;
  return ia < ib;
}

}  // namespace conveyor::ops
