#include <onnx/checker.h>

#include <cstring>
#include <set>
#include <unordered_map>

#include "graph/segment_export_proto.hpp"

namespace conveyor {
namespace {

onnx::TensorProto tensor_to_proto(const Tensor& tensor, const std::string& name) {
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(tensor.dtype()));  // DType values are ONNX's
  for (int64_t d : tensor.shape()) proto.add_dims(d);
  proto.set_raw_data(std::string(static_cast<const char*>(tensor.raw()), tensor.nbytes()));
  return proto;
}

void set_type(onnx::ValueInfoProto& info, const Value& value) {
  info.set_name(value.name);
  auto* tensor_type = info.mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(static_cast<int32_t>(value.dtype));
  auto* shape = tensor_type->mutable_shape();
  for (int64_t d : value.shape) shape->add_dim()->set_dim_value(d);
}

bool is_external(const onnx::TensorProto& tensor) {
  return tensor.data_location() == onnx::TensorProto::EXTERNAL;
}

// Collects what a segment needs by walking back from its outputs through the original graph.
class SegmentExtractor {
 public:
  SegmentExtractor(const onnx::ModelProto& original, const Graph& graph, std::string segment_name)
      : graph_(original.graph()), ir_(graph), where_("segment '" + std::move(segment_name) + "'") {
    for (int i = 0; i < graph_.node_size(); ++i)
      for (const std::string& out : graph_.node(i).output())
        if (!out.empty()) producer_[out] = i;
    for (int i = 0; i < graph_.initializer_size(); ++i) initializer_[graph_.initializer(i).name()] = i;
    for (const auto& in : graph_.input()) graph_inputs_.insert(in.name());
    for (std::size_t v = 0; v < graph.values.size(); ++v)
      ir_value_.emplace(graph.values[v].name, static_cast<int>(v));
    node_needed_.assign(static_cast<std::size_t>(graph_.node_size()), 0);
  }

  const std::string& where() const { return where_; }

  int ir_value(const std::string& name, const char* role) const {
    const auto it = ir_value_.find(name);
    if (it == ir_value_.end())
      throw GraphError(where_ + ": " + role + " '" + name + "' is no tensor of the imported graph");
    return it->second;
  }

  void add_input(const std::string& name) {
    if (!producer_.count(name) && !graph_inputs_.count(name))
      throw GraphError(where_ + ": input '" + name +
                       "' is neither a graph input nor a node output of the model");
    if (!inputs_.insert(name).second) throw GraphError(where_ + ": input '" + name + "' is listed twice");
  }

  void require(const std::string& output) {
    if (inputs_.count(output)) throw GraphError(where_ + ": '" + output + "' is both an input and an output");
    std::vector<std::string> pending{output};
    while (!pending.empty()) {
      const std::string name = std::move(pending.back());
      pending.pop_back();
      if (name.empty() || !visited_.insert(name).second || inputs_.count(name)) continue;
      if (const auto init = initializer_.find(name); init != initializer_.end()) {
        initializers_.insert(init->second);
        continue;
      }
      const auto ir = ir_value_.find(name);
      const bool folded = ir != ir_value_.end() && ir_.value(ir->second).is_constant();
      if (const auto p = producer_.find(name); p != producer_.end()) {
        const onnx::NodeProto& node = graph_.node(p->second);
        if (node.op_type() != "Constant" && folded) {
          folded_.push_back(ir->second);
          continue;
        }
        if (node_needed_[static_cast<std::size_t>(p->second)]) continue;
        node_needed_[static_cast<std::size_t>(p->second)] = 1;
        for (const std::string& in : node.input()) pending.push_back(in);
        continue;
      }
      if (graph_inputs_.count(name) && folded) {  // a frozen input
        folded_.push_back(ir->second);
        continue;
      }
      if (graph_inputs_.count(name))
        throw GraphError(where_ + ": needs graph input '" + name + "' (to compute '" + output +
                         "'), which is not among the segment's inputs");
      throw GraphError(where_ + ": tensor '" + name + "' (needed for '" + output +
                       "') is produced by no node, input or initializer of the model");
    }
  }

  void write(onnx::GraphProto& out) const {
    for (int i = 0; i < graph_.node_size(); ++i)
      if (node_needed_[static_cast<std::size_t>(i)]) *out.add_node() = graph_.node(i);
    for (int i : initializers_) {
      const onnx::TensorProto& init = graph_.initializer(i);
      if (!is_external(init)) {
        *out.add_initializer() = init;
        continue;
      }
      // Data files live next to the original model; embed the values the importer already read.
      const int v = ir_value(init.name(), "initializer");
      *out.add_initializer() = tensor_to_proto(ir_.value(v).constant, init.name());
    }
    for (int v : folded_) *out.add_initializer() = tensor_to_proto(ir_.value(v).constant, ir_.value(v).name);
    std::set<std::string> produced;
    for (int i = 0; i < graph_.node_size(); ++i)
      if (node_needed_[static_cast<std::size_t>(i)])
        for (const std::string& name : graph_.node(i).output()) produced.insert(name);
    for (const auto& info : graph_.value_info())
      if (produced.count(info.name())) *out.add_value_info() = info;
  }

 private:
  const onnx::GraphProto& graph_;
  const Graph& ir_;
  std::string where_;
  std::unordered_map<std::string, int> producer_;
  std::unordered_map<std::string, int> initializer_;
  std::unordered_map<std::string, int> ir_value_;
  std::set<std::string> graph_inputs_;
  std::set<std::string> inputs_;
  std::set<std::string> visited_;
  std::vector<char> node_needed_;
  std::set<int> initializers_;
  std::vector<int> folded_;
};

}  // namespace

onnx::ModelProto export_segment(const onnx::ModelProto& original, const Graph& graph,
                                const std::vector<std::string>& inputs,
                                const std::vector<std::string>& outputs, const std::string& segment_name) {
  SegmentExtractor extractor(original, graph, segment_name);
  if (outputs.empty()) throw GraphError(extractor.where() + ": has no outputs");
  for (const std::string& name : inputs) extractor.add_input(name);
  std::set<std::string> seen_outputs;
  for (const std::string& name : outputs) {
    if (!seen_outputs.insert(name).second)
      throw GraphError(extractor.where() + ": output '" + name + "' is listed twice");
    extractor.require(name);
  }

  onnx::ModelProto model;
  model.set_ir_version(original.ir_version());
  *model.mutable_opset_import() = original.opset_import();
  model.set_producer_name(original.producer_name().empty() ? "conveyor" : original.producer_name());
  model.set_producer_version(original.producer_version());
  model.set_domain(original.domain());
  model.set_model_version(original.model_version());
  *model.mutable_functions() = original.functions();
  onnx::GraphProto& out = *model.mutable_graph();
  out.set_name(segment_name);
  for (const std::string& name : inputs)
    set_type(*out.add_input(), graph.value(extractor.ir_value(name, "input")));
  for (const std::string& name : outputs)
    set_type(*out.add_output(), graph.value(extractor.ir_value(name, "output")));
  extractor.write(out);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw GraphError(extractor.where() + ": the exported model fails the ONNX checker: " + e.what());
  }
  return model;
}

onnx::ModelProto export_stage(const onnx::ModelProto& original, const Graph& graph,
                              const Partition& partition, std::size_t stage) {
  if (stage >= partition.stages.size())
    throw GraphError("export_stage: stage " + std::to_string(stage) + " of a partition with " +
                     std::to_string(partition.stages.size()) + " stages");
  const Stage& s = partition.stages[stage];
  std::vector<std::string> inputs, outputs;
  for (const CutTensor& t : s.inputs) inputs.push_back(t.name);
  for (const CutTensor& t : s.outputs) outputs.push_back(t.name);
  const std::string model_name = original.graph().name().empty() ? graph.name : original.graph().name();
  return export_segment(
      original, graph, inputs, outputs,
      (model_name.empty() ? std::string("model") : model_name) + "_stage_" + std::to_string(stage));
}

}  // namespace conveyor
