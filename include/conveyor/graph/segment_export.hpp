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
//
// The model is given as its serialized bytes (what the .onnx file holds) and the segments come back
// serialized; src/graph/segment_export_proto.hpp has the same on onnx::ModelProto.
#include <cstddef>
#include <string>
#include <vector>

#include "conveyor/graph/graph.hpp"
#include "conveyor/graph/partition.hpp"

namespace conveyor {

// Every stage of `partition` (of `graph`, imported from `model_bytes`) as a standalone serialized model,
// in order: inputs = Stage::inputs, outputs = Stage::outputs, graph name "<model>_stage_<i>". Each passes
// onnx::checker. Throws GraphError when the bytes are not an ONNX model or a stage cannot be exported.
std::vector<std::string> export_stages(const std::string& model_bytes, const Graph& graph,
                                       const Partition& partition);

// A standalone serialized model computing `outputs` from `inputs` (tensor names of the model), typed with
// the static shapes of `graph`. Throws GraphError naming the segment and the tensor when an output cannot be
// computed from the inputs, a name is unknown, or the checker rejects the result.
std::string export_segment(const std::string& model_bytes, const Graph& graph,
                           const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                           const std::string& segment_name);

// The IR node to cut after when the user pins node `node_name` of the original model (see the ModelProto
// form in segment_export_proto.hpp: a node fused away maps to the node that absorbed it). Throws GraphError
// when no node has that name or the node was folded into a constant.
std::string graph_node_for(const std::string& model_bytes, const Graph& graph, const std::string& node_name);

}  // namespace conveyor
