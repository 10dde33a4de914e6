#pragma once
// Writing pipeline stages as standalone ONNX models.
//
// Segments are cut out of the ORIGINAL ModelProto rather than re-emitted from the optimised IR: the exported
// files keep the model's own nodes, attributes and initializers (BatchNormalization stays a node, Clip keeps
// its min/max inputs), so any ONNX runtime reads them exactly as it reads the whole model, and nothing of
// the IR's private forms (fused post-ops, shape operands turned into attributes) leaks into a file. The IR
// decides where the cuts are; its value names are the model's tensor names, so a cut maps back by name.
// A stage's nodes are found by walking back from its outputs through the original graph until its inputs,
// initializers or Constant nodes. Where the walk meets a tensor the importer folded into a constant (shape
// arithmetic such as Shape -> Gather -> Concat feeding a Reshape), the folded value is written as an
// initializer of that name instead of following the computation back into an earlier stage. Nodes the
// optimiser removed (Identity, Dropout) are copied into the stage that reads through them.
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
