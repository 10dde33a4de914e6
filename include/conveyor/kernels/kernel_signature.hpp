#pragma once
#include <string>
#include <vector>

#include "conveyor/kernels/kernel_attributes.hpp"
#include "conveyor/tensor/dtype.hpp"
#include "conveyor/tensor/shape.hpp"

namespace conveyor {

// The dtype and static shape of one kernel input or output; `present` is false for an optional one left out.
struct OperandType {
  DType dtype = DType::kFloat32;
  Shape shape;
  bool present = true;
};

// Everything a reference kernel is prepared from: the ONNX operator, its operands' types (all shapes
// static and already inferred) and attributes. `where` names the caller's object (e.g. a graph node) at the
// front of every error message.
struct KernelSignature {
  std::string op_type;
  std::vector<OperandType> inputs, outputs;
  KernelAttributes attributes;
  std::string where;
};

}  // namespace conveyor
