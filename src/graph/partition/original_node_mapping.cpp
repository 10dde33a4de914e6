#include <set>
#include <unordered_map>

#include "graph/segment_export_proto.hpp"

namespace conveyor {
namespace {

bool passes_input_through(const std::string& op) {
  return op == "Identity" || op == "Dropout" || op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
         op == "Unsqueeze" || op == "Cast" || op == "Expand";
}

class NodeMapper {
 public:
  NodeMapper(const onnx::ModelProto& original, const Graph& graph) : model_(original.graph()), ir_(graph) {
    for (int i = 0; i < model_.node_size(); ++i) {
      const auto& node = model_.node(i);
      // The importer names unnamed nodes "<op>_<index>"; do the same so both sides agree.
      by_name_.emplace(node.name().empty() ? node.op_type() + "_" + std::to_string(i) : node.name(), i);
      for (const std::string& out : node.output()) producer_[out] = i;
      for (const std::string& in : node.input()) readers_[in].push_back(i);
    }
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      ir_nodes_.insert(graph.nodes[i].name);
      for (int out : graph.nodes[i].outputs)
        if (out >= 0) ir_producer_[graph.value(out).name] = static_cast<int>(i);
    }
    for (std::size_t v = 0; v < graph.values.size(); ++v)
      if (graph.values[v].is_constant()) folded_.insert(graph.values[v].name);
  }

  std::string map(const std::string& name) {
    if (ir_nodes_.count(name)) return name;
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) throw GraphError("no node named '" + name + "' in the model");
    const std::string found = map_node(it->second);
    if (!found.empty()) return found;
    throw GraphError("node '" + name + "' (" + model_.node(it->second).op_type() +
                     ") was folded into constants by the importer; there is no computation to cut after");
  }

 private:
  // The IR node computing node `i`'s result, or "" when it became a constant.
  std::string map_node(int i) {
    if (!visited_.insert(i).second) return "";
    const onnx::NodeProto& node = model_.node(i);
    for (const std::string& out : node.output())
      if (const auto p = ir_producer_.find(out); p != ir_producer_.end())
        return ir_.nodes[static_cast<std::size_t>(p->second)].name;
    bool all_folded = true;
    for (const std::string& out : node.output())
      all_folded = all_folded && (out.empty() || folded_.count(out));
    if (all_folded) return "";
    if (passes_input_through(node.op_type()) && node.input_size() > 0) {
      // A bypassed no-op: cutting after it is cutting after whatever computed its input.
      const auto p = producer_.find(node.input(0));
      if (p == producer_.end())
        throw GraphError("node '" + node.name() + "' only passes graph input '" + node.input(0) +
                         "' through; no computation comes before it");
      return map_node(p->second);
    }
    for (const std::string& out : node.output())  // fused into a node downstream
      for (int reader : readers_[out]) {
        const std::string found = map_node(reader);
        if (!found.empty()) return found;
      }
    return "";
  }

  const onnx::GraphProto& model_;
  const Graph& ir_;
  std::unordered_map<std::string, int> by_name_;
  std::unordered_map<std::string, int> producer_;
  std::unordered_map<std::string, std::vector<int>> readers_;
  std::set<std::string> ir_nodes_;
  std::unordered_map<std::string, int> ir_producer_;
  std::set<std::string> folded_;
  std::set<int> visited_;
};

}  // namespace

std::string graph_node_for(const onnx::ModelProto& original, const Graph& graph,
                           const std::string& node_name) {
  return NodeMapper(original, graph).map(node_name);
}

}  // namespace conveyor
