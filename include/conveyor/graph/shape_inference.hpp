#pragma once
#include <string>
#include <vector>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// Brings `node` to its canonical form and sets dtype and static shape of its outputs. Its inputs must be
// typed. Canonical form: operands that ONNX passes as inputs but that fix the output shape (Reshape's shape,
// Slice's starts/ends/axes/steps, Squeeze/Unsqueeze/Reduce* axes, Split sizes, Pad pads, Clip bounds,
// Resize scales/sizes, Expand/Tile shapes) must be constants and become attributes, with negative axes
// resolved and defaults filled in (Conv/pool kernel_shape, strides, dilations, explicit pads for auto_pad).
// Throws GraphError (without the node's name: the caller adds it) when the node cannot be typed.
void infer_node(Graph& graph, Node& node);

// Whether infer_node knows `op_type` (of the default ONNX domain).
bool is_known_op(const std::string& op_type);
// Every op_type infer_node knows, sorted.
std::vector<std::string> known_ops();

}  // namespace conveyor
