#pragma once
// TensorProto -> Tensor conversion (internal to the graph layer).
#include <onnx/onnx_pb.h>

#include <cstddef>
#include <string>

#include "conveyor/tensor/tensor.hpp"

namespace conveyor::detail {

// Converts `proto` (typed fields, raw_data or external data relative to base_dir) into a Tensor.
// Refuses tensors above max_bytes, unsupported dtypes and data whose size does not match the dims.
// Throws GraphError naming `what` (e.g. "initializer 'conv1.weight'").
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir, std::size_t max_bytes,
                         const std::string& what);

}  // namespace conveyor::detail
