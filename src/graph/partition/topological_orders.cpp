#include <algorithm>
#include <limits>

#include "conveyor/graph/partition.hpp"
#include "graph/partition/value_liveness.hpp"

namespace conveyor {
namespace {

// Post-order depth-first walk from the graph outputs: a node is emitted right after everything it reads, so
// one branch of a block is finished before the next one starts.
std::vector<int> depth_first_order(const Graph& graph, const std::vector<int>& producer,
                                   bool reversed_inputs) {
  const std::size_t n = graph.nodes.size();
  std::vector<char> state(n, 0);  // 0 new, 1 on the stack, 2 emitted
  std::vector<int> order;
  order.reserve(n);
  struct Frame {
    int node;
    std::size_t next_input;
  };
  auto visit = [&](int root) {
    if (root < 0 || state[static_cast<std::size_t>(root)] != 0) return;
    std::vector<Frame> stack{{root, 0}};
    state[static_cast<std::size_t>(root)] = 1;
    while (!stack.empty()) {
      Frame& top = stack.back();
      const Node& node = graph.nodes[static_cast<std::size_t>(top.node)];
      if (top.next_input == node.inputs.size()) {
        state[static_cast<std::size_t>(top.node)] = 2;
        order.push_back(top.node);
        stack.pop_back();
        continue;
      }
      const std::size_t k = reversed_inputs ? node.inputs.size() - 1 - top.next_input : top.next_input;
      ++top.next_input;
      const int in = node.inputs[k];
      if (in < 0) continue;
      const int p = producer[static_cast<std::size_t>(in)];
      if (p >= 0 && state[static_cast<std::size_t>(p)] == 0) {
        state[static_cast<std::size_t>(p)] = 1;
        stack.push_back({p, 0});
      }
    }
  };
  for (int out : graph.outputs) visit(producer[static_cast<std::size_t>(out)]);
  for (std::size_t i = 0; i < n; ++i) visit(static_cast<int>(i));  // nodes no output needs, if any
  return order;
}

// List scheduling: among the nodes whose inputs are ready, run the one that adds the fewest live bytes
// (its new outputs minus the inputs it reads last); ties go to the earlier node of the file.
std::vector<int> min_live_order(const Graph& graph, const std::vector<int>& producer) {
  const std::size_t n = graph.nodes.size();
  std::vector<int> readers_left(graph.values.size(), 0);
  std::vector<int> waiting(n, 0);
  std::vector<std::vector<int>> dependents(n);
  for (std::size_t i = 0; i < n; ++i)
    for (int in : graph.nodes[i].inputs) {
      if (in < 0) continue;
      ++readers_left[static_cast<std::size_t>(in)];
      const int p = producer[static_cast<std::size_t>(in)];
      if (p >= 0) {
        ++waiting[i];
        dependents[static_cast<std::size_t>(p)].push_back(static_cast<int>(i));
      }
    }
  std::vector<int> ready;
  for (std::size_t i = 0; i < n; ++i)
    if (waiting[i] == 0) ready.push_back(static_cast<int>(i));
  auto growth = [&](int i) {
    const Node& node = graph.nodes[static_cast<std::size_t>(i)];
    double delta = 0;
    for (int out : node.outputs)
      if (out >= 0 && is_activation(graph, out)) delta += static_cast<double>(activation_bytes(graph, out));
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
      const int in = node.inputs[k];
      if (in < 0 || !is_activation(graph, in) || graph.is_output(in)) continue;
      if (std::find(node.inputs.begin(), node.inputs.begin() + static_cast<std::ptrdiff_t>(k), in) !=
          node.inputs.begin() + static_cast<std::ptrdiff_t>(k))
        continue;  // counted once
      const auto reads = std::count(node.inputs.begin(), node.inputs.end(), in);
      if (readers_left[static_cast<std::size_t>(in)] == reads)
        delta -= static_cast<double>(activation_bytes(graph, in));
    }
    return delta;
  };
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    std::size_t pick = 0;
    double pick_growth = std::numeric_limits<double>::infinity();
    for (std::size_t r = 0; r < ready.size(); ++r) {
      const double g = growth(ready[r]);
      if (g < pick_growth || (g == pick_growth && ready[r] < ready[pick])) {
        pick = r;
        pick_growth = g;
      }
    }
    const int i = ready[pick];
    ready.erase(ready.begin() + static_cast<std::ptrdiff_t>(pick));
    order.push_back(i);
    for (int in : graph.nodes[static_cast<std::size_t>(i)].inputs)
      if (in >= 0) --readers_left[static_cast<std::size_t>(in)];
    for (int d : dependents[static_cast<std::size_t>(i)])
      if (--waiting[static_cast<std::size_t>(d)] == 0) ready.push_back(d);
  }
  if (order.size() != n)
    throw GraphError("candidate_orders: the graph has a cycle (it is not topologically sortable)");
  return order;
}

}  // namespace

std::vector<NodeOrder> candidate_orders(const Graph& graph) {
  const std::vector<int> producer = value_producers(graph);
  std::vector<NodeOrder> candidates;
  NodeOrder file{"file", {}};
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) file.nodes.push_back(static_cast<int>(i));
  candidates.push_back(std::move(file));
  candidates.push_back({"dfs", depth_first_order(graph, producer, false)});
  candidates.push_back({"dfs-reversed", depth_first_order(graph, producer, true)});
  candidates.push_back({"min-live", min_live_order(graph, producer)});
  std::vector<NodeOrder> unique;
  for (auto& candidate : candidates) {
    const bool seen = std::any_of(unique.begin(), unique.end(),
                                  [&](const NodeOrder& kept) { return kept.nodes == candidate.nodes; });
    if (!seen) unique.push_back(std::move(candidate));
  }
  return unique;
}

std::vector<double> live_bytes_at_cuts(const Graph& graph, const std::vector<int>& order) {
  const Liveness liveness(graph, order);
  const int n = static_cast<int>(order.size());
  std::vector<double> delta(static_cast<std::size_t>(n) + 1, 0.0);
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const auto [first, last] = liveness.live_cuts(static_cast<int>(v));
    if (first > last) continue;
    const double bytes = static_cast<double>(activation_bytes(graph, static_cast<int>(v)));
    delta[static_cast<std::size_t>(first)] += bytes;
    delta[static_cast<std::size_t>(last) + 1] -= bytes;
  }
  std::vector<double> live(static_cast<std::size_t>(n), 0.0);
  double running = 0;
  for (int c = 1; c < n; ++c) {
    running += delta[static_cast<std::size_t>(c)];
    live[static_cast<std::size_t>(c)] = running;
  }
  return live;
}

}  // namespace conveyor
