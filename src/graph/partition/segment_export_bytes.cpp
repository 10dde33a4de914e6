// The public, serialized form of segment export: parse the model once, export, serialize.
#include <limits>

#include "conveyor/graph/segment_export.hpp"
#include "graph/segment_export_proto.hpp"

namespace conveyor {
namespace {

onnx::ModelProto parse_model(const std::string& bytes) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw GraphError("the model is larger than 2 GiB; store its weights as external data");
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw GraphError("the model is not a valid ONNX ModelProto (truncated or corrupt protobuf)");
  return model;
}

}  // namespace

std::vector<std::string> export_stages(const std::string& model_bytes, const Graph& graph,
                                       const Partition& partition) {
  const onnx::ModelProto original = parse_model(model_bytes);
  std::vector<std::string> stages;
  for (std::size_t s = 0; s < partition.stages.size(); ++s)
    stages.push_back(export_stage(original, graph, partition, s).SerializeAsString());
  return stages;
}

std::string export_segment(const std::string& model_bytes, const Graph& graph,
                           const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                           const std::string& segment_name) {
  return export_segment(parse_model(model_bytes), graph, inputs, outputs, segment_name).SerializeAsString();
}

std::string graph_node_for(const std::string& model_bytes, const Graph& graph, const std::string& node_name) {
  return graph_node_for(parse_model(model_bytes), graph, node_name);
}

}  // namespace conveyor
