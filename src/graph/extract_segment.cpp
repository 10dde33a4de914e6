#include "conveyor/graph/extract_segment.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace conveyor {
namespace {

// Value ids by name, over the values the graph still uses (removed nodes leave theirs behind in `values`).
std::map<std::string, int> live_values(const Graph& graph) {
  std::map<std::string, int> ids;
  auto note = [&](int id) {
    if (id >= 0) ids.emplace(graph.value(id).name, id);
  };
  for (int id : graph.inputs) note(id);
  for (const Node& node : graph.nodes) {
    for (int id : node.inputs) note(id);
    for (int id : node.outputs) note(id);
  }
  return ids;
}

}  // namespace

Graph extract_segment(const Graph& graph, const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs, const std::string& segment_name) {
  const std::string name = segment_name.empty() ? graph.name : segment_name;
  auto fail = [&](const std::string& why) -> GraphError {
    return GraphError("segment '" + name + "' of '" + graph.name + "': " + why);
  };
  const std::map<std::string, int> ids = live_values(graph);
  auto resolve = [&](const std::vector<std::string>& names, const char* role) {
    std::vector<int> resolved;
    std::set<std::string> seen;
    for (const std::string& n : names) {
      const auto it = ids.find(n);
      if (it == ids.end()) throw fail(std::string(role) + " '" + n + "' is not a tensor of the model");
      if (!seen.insert(n).second) throw fail(std::string(role) + " '" + n + "' is given twice");
      if (graph.value(it->second).is_constant()) throw fail(std::string(role) + " '" + n + "' is a constant");
      resolved.push_back(it->second);
    }
    return resolved;
  };
  const std::vector<int> input_ids = resolve(inputs, "input");
  const std::vector<int> output_ids = resolve(outputs, "output");
  if (output_ids.empty()) throw fail("it has no outputs");
  const std::set<int> is_input(input_ids.begin(), input_ids.end());

  // Walk back from the outputs; a value stops the walk at an input or a constant.
  std::vector<bool> keep_node(graph.nodes.size(), false);
  std::vector<bool> visited(graph.values.size(), false);
  for (int output : output_ids) {
    if (is_input.count(output)) throw fail("output '" + graph.value(output).name + "' is one of its inputs");
    std::vector<int> pending{output};
    while (!pending.empty()) {
      const int id = pending.back();
      pending.pop_back();
      if (id < 0 || visited[static_cast<std::size_t>(id)]) continue;
      visited[static_cast<std::size_t>(id)] = true;
      const Value& value = graph.value(id);
      if (is_input.count(id) || value.is_constant()) continue;
      if (value.producer < 0)
        throw fail("output '" + graph.value(output).name + "' needs '" + value.name +
                   "', which is neither one of its inputs nor computed from them");
      keep_node[static_cast<std::size_t>(value.producer)] = true;
      const Node& producer = graph.nodes[static_cast<std::size_t>(value.producer)];
      pending.insert(pending.end(), producer.inputs.begin(), producer.inputs.end());
    }
  }

  Graph segment;
  segment.name = name;
  segment.opset = graph.opset;
  std::vector<int> new_id(graph.values.size(), -1);
  auto map_value = [&](int id) {
    if (id < 0) return -1;
    int& mapped = new_id[static_cast<std::size_t>(id)];
    if (mapped < 0) {
      Value copy = graph.value(id);
      copy.producer = -1;
      mapped = segment.add_value(std::move(copy));
    }
    return mapped;
  };
  for (int id : input_ids) segment.inputs.push_back(map_value(id));
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    if (!keep_node[n]) continue;
    Node node = graph.nodes[n];
    for (int& id : node.inputs) id = map_value(id);
    for (int& id : node.outputs) {
      if (is_input.count(id))
        throw fail("input '" + graph.value(id).name + "' is also computed inside it, by " + node.where());
      id = map_value(id);
      if (id >= 0) segment.value(id).producer = static_cast<int>(segment.nodes.size());
    }
    segment.nodes.push_back(std::move(node));
  }
  for (int id : output_ids) segment.outputs.push_back(map_value(id));
  return segment;
}

}  // namespace conveyor
