#include "conveyor/graph/graph.hpp"

#include <algorithm>
#include <queue>

#include "conveyor/kernels/kernel_error.hpp"

namespace conveyor {
namespace {

// Calls `get` on the kernels' attribute map, turning its type errors into GraphError.
template <typename Get>
auto graph_error_on_type_mismatch(Get&& get) {
  try {
    return get();
  } catch (const KernelError& e) {
    throw GraphError(e.what());
  }
}

}  // namespace

int64_t Attributes::get_int(const std::string& name, int64_t fallback) const {
  return graph_error_on_type_mismatch([&] { return values_.get_int(name, fallback); });
}

float Attributes::get_float(const std::string& name, float fallback) const {
  return graph_error_on_type_mismatch([&] { return values_.get_float(name, fallback); });
}

std::string Attributes::get_string(const std::string& name, const std::string& fallback) const {
  return graph_error_on_type_mismatch([&] { return values_.get_string(name, fallback); });
}

std::vector<int64_t> Attributes::get_ints(const std::string& name, const std::vector<int64_t>& fallback) const {
  return graph_error_on_type_mismatch([&] { return values_.get_ints(name, fallback); });
}

std::vector<float> Attributes::get_floats(const std::string& name, const std::vector<float>& fallback) const {
  return graph_error_on_type_mismatch([&] { return values_.get_floats(name, fallback); });
}

const Tensor* Attributes::get_tensor(const std::string& name) const {
  return graph_error_on_type_mismatch([&] { return values_.get_tensor(name); });
}

int Graph::add_value(Value value) {
  values.push_back(std::move(value));
  return static_cast<int>(values.size()) - 1;
}

int Graph::find_value(const std::string& value_name) const {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].name == value_name) return static_cast<int>(i);
  return -1;
}

bool Graph::is_output(int value_id) const {
  return std::find(outputs.begin(), outputs.end(), value_id) != outputs.end();
}

void Graph::sort_topologically() {
  const std::size_t n = nodes.size();
  std::vector<int> producer(values.size(), -1);
  for (std::size_t i = 0; i < n; ++i)
    for (int out : nodes[i].outputs) {
      if (out < 0) continue;
      if (producer[static_cast<std::size_t>(out)] >= 0)
        throw GraphError("value '" + values[static_cast<std::size_t>(out)].name + "' is produced by both " +
                         nodes[static_cast<std::size_t>(producer[static_cast<std::size_t>(out)])].where() +
                         " and " + nodes[i].where());
      producer[static_cast<std::size_t>(out)] = static_cast<int>(i);
    }
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> readers(n);
  for (std::size_t i = 0; i < n; ++i)
    for (int in : nodes[i].inputs) {
      if (in < 0) continue;
      const int p = producer[static_cast<std::size_t>(in)];
      if (p < 0) {
        const Value& v = values[static_cast<std::size_t>(in)];
        const bool is_input = std::find(inputs.begin(), inputs.end(), in) != inputs.end();
        if (!v.is_constant() && !is_input)
          throw GraphError(nodes[i].where() + " reads '" + v.name +
                           "', which is no graph input, initializer or node output");
        continue;
      }
      ++pending[i];
      readers[static_cast<std::size_t>(p)].push_back(static_cast<int>(i));
    }
  // Kahn's algorithm, taking ready nodes in their original order so a sorted graph stays as it is.
  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (std::size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push(static_cast<int>(i));
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    const int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int r : readers[static_cast<std::size_t>(i)])
      if (--pending[static_cast<std::size_t>(r)] == 0) ready.push(r);
  }
  if (order.size() != n) {
    for (std::size_t i = 0; i < n; ++i)
      if (pending[i] > 0)
        throw GraphError("the graph has a cycle through " + nodes[i].where());
  }
  std::vector<Node> sorted;
  sorted.reserve(n);
  for (int i : order) sorted.push_back(std::move(nodes[static_cast<std::size_t>(i)]));
  nodes = std::move(sorted);
  for (Value& v : values) v.producer = -1;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    for (int out : nodes[i].outputs)
      if (out >= 0) values[static_cast<std::size_t>(out)].producer = static_cast<int>(i);
}

void Graph::remove_dead_nodes() {
  std::vector<char> live_value(values.size(), 0);
  for (int out : outputs) live_value[static_cast<std::size_t>(out)] = 1;
  std::vector<char> keep(nodes.size(), 0);
  for (std::size_t k = nodes.size(); k-- > 0;) {
    const Node& node = nodes[k];
    bool needed = false;
    for (int out : node.outputs)
      if (out >= 0 && live_value[static_cast<std::size_t>(out)] &&
          !values[static_cast<std::size_t>(out)].is_constant())
        needed = true;
    if (!needed) continue;
    keep[k] = 1;
    for (int in : node.inputs)
      if (in >= 0) live_value[static_cast<std::size_t>(in)] = 1;
  }
  std::vector<Node> kept;
  for (std::size_t k = 0; k < nodes.size(); ++k)
    if (keep[k]) kept.push_back(std::move(nodes[k]));
  nodes = std::move(kept);
  for (Node& node : nodes)  // outputs nobody reads become "unused"
    for (int& out : node.outputs)
      if (out >= 0 && !live_value[static_cast<std::size_t>(out)]) out = -1;
  for (Value& v : values) v.producer = -1;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    for (int out : nodes[i].outputs)
      if (out >= 0) values[static_cast<std::size_t>(out)].producer = static_cast<int>(i);
}

std::vector<std::vector<int>> Graph::consumers() const {
  std::vector<std::vector<int>> result(values.size());
  for (std::size_t i = 0; i < nodes.size(); ++i)
    for (int in : nodes[i].inputs)
      if (in >= 0) result[static_cast<std::size_t>(in)].push_back(static_cast<int>(i));
  return result;
}

std::string Graph::summary() const {
  std::map<std::string, int> counts;
  for (const Node& node : nodes) ++counts[node.op_type];
  std::string text;
  for (const auto& [op, count] : counts) {
    if (!text.empty()) text += ", ";
    text += op + " x" + std::to_string(count);
  }
  return text;
}

}  // namespace conveyor
