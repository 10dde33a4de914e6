#pragma once
// Segment export on the ModelProto itself, for the graph layer and its tests; the public API on bytes is
// conveyor/graph/segment_export.hpp (where the export is described).
#include <onnx/onnx_pb.h>

#include <cstddef>
#include <string>
#include <vector>

#include "conveyor/graph/graph.hpp"
#include "conveyor/graph/partition.hpp"

namespace conveyor {

// A standalone model computing `outputs` from `inputs` (tensor names of `original`), with the nodes,
// initializers and Constant nodes it needs. Inputs and outputs are typed with the static shapes of `graph`
// (the IR imported from `original`). The result passes onnx::checker; throws GraphError naming the segment
// and the tensor when an output cannot be computed from the inputs, a name is unknown, or the checker
// rejects the result.
onnx::ModelProto export_segment(const onnx::ModelProto& original, const Graph& graph,
                                const std::vector<std::string>& inputs,
                                const std::vector<std::string>& outputs, const std::string& segment_name);

// Stage `stage` of `partition` (of `graph`, imported from `original`): inputs = Stage::inputs, outputs =
// Stage::outputs (cut tensors leaving it and graph outputs produced in it). Graph name "<model>_stage_<i>".
onnx::ModelProto export_stage(const onnx::ModelProto& original, const Graph& graph,
                              const Partition& partition, std::size_t stage);

// The IR node to cut after when the user pins node `node_name` of the original model: the node itself when
// it survived optimisation, else the IR node that took over its output (a BatchNormalization or Relu fused
// into the Conv before it), the producer of its input for a removed pass-through node (Identity, Dropout,
// no-op Reshape), or the first node downstream that computes it. Throws GraphError when no node has that
// name or the node was folded into a constant.
std::string graph_node_for(const onnx::ModelProto& original, const Graph& graph,
                           const std::string& node_name);

}  // namespace conveyor
