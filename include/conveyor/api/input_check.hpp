#pragma once
#include <string>

#include "conveyor/runtime/operator.hpp"
#include "conveyor/tensor/shape.hpp"

namespace conveyor {

// What keeps a tensor of `dtype` and `shape` from being the pipeline input `want` (a RunningPipeline's
// signature().inputs entry), e.g. "is int64 [1, 64]; it takes float32 [-1, 64] (-1: any size)"; empty
// when it fits. A dims of [-1] says nothing of the rank; raw-bytes inputs take uint8 [N].
std::string input_mismatch(const TensorSignature& want, DType dtype, const Shape& shape);

}  // namespace conveyor
