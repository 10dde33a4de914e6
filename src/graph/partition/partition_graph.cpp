#include <algorithm>
#include <cmath>
#include <map>

#include "conveyor/graph/partition.hpp"
#include "graph/partition/value_liveness.hpp"

namespace conveyor {
namespace {

double transfer_ms(double bytes, double gbps) {
  return bytes / (gbps * 1e6);
}

std::vector<NodeOrder> orders_to_try(const Graph& graph, const std::vector<std::string>& wanted) {
  std::vector<NodeOrder> all = candidate_orders(graph);
  if (wanted.empty()) return all;
  // Candidate orders that coincide are merged under the first name; list every name the caller may use.
  const std::vector<std::string> known = {"file", "dfs", "dfs-reversed", "min-live"};
  std::vector<NodeOrder> chosen;
  for (const std::string& name : wanted) {
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw GraphError("partition: unknown node order '" + name +
                       "' (known: file, dfs, dfs-reversed, min-live)");
    for (const NodeOrder& order : all)
      if (order.name == name) chosen.push_back(order);
  }
  if (chosen.empty()) chosen.push_back(all.front());  // the wanted orders coincide with "file"
  return chosen;
}

std::vector<int> pinned_nodes(const Graph& graph, const std::vector<std::string>& names, int stages) {
  std::map<std::string, int> by_name;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    by_name.emplace(graph.nodes[i].name, static_cast<int>(i));
  std::vector<int> nodes;
  for (const std::string& name : names) {
    const auto it = by_name.find(name);
    if (it == by_name.end())
      throw GraphError("partition: cannot pin a cut after node '" + name +
                       "': the graph has no such node (after optimisation; fused nodes take the name of the "
                       "first node of their chain)");
    if (std::find(nodes.begin(), nodes.end(), it->second) == nodes.end()) nodes.push_back(it->second);
  }
  if (static_cast<int>(nodes.size()) > stages - 1)
    throw GraphError("partition: " + std::to_string(nodes.size()) + " pinned cuts need at least " +
                     std::to_string(nodes.size() + 1) + " stages, but " + std::to_string(stages) +
                     " were asked for");
  return nodes;
}

CutTensor cut_tensor(const Graph& graph, int value) {
  return {graph.value(value).name, value, activation_bytes(graph, value)};
}

Stage describe_stage(const Graph& graph, const std::vector<int>& order, const Liveness& liveness,
                     const std::vector<double>& node_cost_ms, int begin, int end, double gbps) {
  Stage stage;
  stage.begin = begin;
  stage.end = end;
  stage.nodes.assign(order.begin() + begin, order.begin() + end);
  stage.first_node = graph.nodes[static_cast<std::size_t>(stage.nodes.front())].name;
  stage.last_node = graph.nodes[static_cast<std::size_t>(stage.nodes.back())].name;
  for (int node : stage.nodes) stage.compute_ms += node_cost_ms[static_cast<std::size_t>(node)];
  std::vector<char> seen(graph.values.size(), 0);
  for (int node : stage.nodes)
    for (int in : graph.nodes[static_cast<std::size_t>(node)].inputs)
      if (is_activation(graph, in) && liveness.defined_at(in) < begin &&
          !seen[static_cast<std::size_t>(in)]) {
        seen[static_cast<std::size_t>(in)] = 1;
        stage.inputs.push_back(cut_tensor(graph, in));
      }
  for (int node : stage.nodes)
    for (int out : graph.nodes[static_cast<std::size_t>(node)].outputs)
      if (is_activation(graph, out) && liveness.last_read_at(out) >= end)
        stage.outputs.push_back(cut_tensor(graph, out));
  if (begin > 0) {
    double bytes = 0;
    for (std::size_t v = 0; v < graph.values.size(); ++v) {
      const auto [first, last] = liveness.live_cuts(static_cast<int>(v));
      if (first <= begin && begin <= last) {
        stage.live_in.push_back(cut_tensor(graph, static_cast<int>(v)));
        bytes += static_cast<double>(stage.live_in.back().bytes);
      }
    }
    stage.transfer_in_ms = transfer_ms(bytes, gbps);
  }
  return stage;
}

}  // namespace

Partition partition_graph(const Graph& graph, const std::vector<double>& node_cost_ms,
                          const PartitionOptions& options) {
  const int n = static_cast<int>(graph.nodes.size());
  if (n == 0) throw GraphError("partition: graph '" + graph.name + "' has no nodes to partition");
  if (static_cast<int>(node_cost_ms.size()) != n)
    throw GraphError("partition: " + std::to_string(node_cost_ms.size()) + " node costs given for " +
                     std::to_string(n) + " nodes");
  if (options.stages < 1)
    throw GraphError("partition: stages must be >= 1, got " + std::to_string(options.stages));
  if (options.stages > n)
    throw GraphError("partition: " + std::to_string(options.stages) +
                     " stages asked for, but the graph has only " + std::to_string(n) +
                     " nodes (every stage needs at least one)");
  if (!(options.copy_bandwidth_gbps > 0) || !std::isfinite(options.copy_bandwidth_gbps))
    throw GraphError("partition: copy bandwidth must be a positive number of GB/s");
  for (std::size_t i = 0; i < node_cost_ms.size(); ++i)
    if (!std::isfinite(node_cost_ms[i]) || node_cost_ms[i] < 0)
      throw GraphError("partition: cost of " + graph.nodes[i].where() + " is " +
                       std::to_string(node_cost_ms[i]) + " ms, not a finite non-negative number");
  const std::vector<int> pins = pinned_nodes(graph, options.pinned_after, options.stages);
  for (const std::vector<int>& group : options.kept_together)
    for (int node : group)
      if (node < 0 || node >= n)
        throw GraphError("partition: a group kept together names node " + std::to_string(node) + ", the graph has " +
                         std::to_string(n));

  Partition best;
  bool have_best = false;
  double best_cut_bytes = 0;
  for (const NodeOrder& order : orders_to_try(graph, options.orders)) {
    const Liveness liveness(graph, order.nodes);
    std::vector<double> cost;
    for (int node : order.nodes) cost.push_back(node_cost_ms[static_cast<std::size_t>(node)]);
    const std::vector<double> live = live_bytes_at_cuts(graph, order.nodes);
    std::vector<double> entry;
    for (double bytes : live) entry.push_back(transfer_ms(bytes, options.copy_bandwidth_gbps));
    std::vector<int> cuts;
    for (int node : pins) {
      const int cut = liveness.position_of_node(node) + 1;
      if (cut >= n)
        throw GraphError("partition: cannot pin a cut after " +
                         graph.nodes[static_cast<std::size_t>(node)].where() +
                         ": it is the last node, nothing would follow the cut");
      cuts.push_back(cut);
    }
    std::vector<int> forbidden;  // positions strictly inside a group kept together
    for (const std::vector<int>& group : options.kept_together) {
      int first = n, last = -1;
      for (int node : group) {
        const int position = liveness.position_of_node(node);
        first = std::min(first, position);
        last = std::max(last, position);
      }
      for (int p = first + 1; p <= last; ++p) forbidden.push_back(p);
    }
    const ChainSplit split = split_chain(cost, entry, options.stages, cuts, forbidden);
    OrderResult tried{order.name, split.bottleneck, *std::max_element(live.begin(), live.end()), 0};
    for (std::size_t s = 1; s < split.stage_begin.size(); ++s)
      tried.cut_bytes += live[static_cast<std::size_t>(split.stage_begin[s])];
    best.orders_tried.push_back(tried);
    // Keep the smallest bottleneck; among equals, the fewest bytes crossing the cuts, then the earlier order.
    const bool better =
        !have_best || tried.bottleneck_ms < best.bottleneck_ms * (1 - 1e-12) ||
        (tried.bottleneck_ms <= best.bottleneck_ms * (1 + 1e-12) && tried.cut_bytes < best_cut_bytes);
    if (!better) continue;
    have_best = true;
    best_cut_bytes = tried.cut_bytes;
    best.order_name = order.name;
    best.order = order.nodes;
    best.bottleneck_ms = split.bottleneck;
    best.stages.clear();
    for (std::size_t s = 0; s < split.stage_begin.size(); ++s) {
      const int begin = split.stage_begin[s];
      const int end = s + 1 < split.stage_begin.size() ? split.stage_begin[s + 1] : n;
      best.stages.push_back(describe_stage(graph, order.nodes, liveness, node_cost_ms, begin, end,
                                           options.copy_bandwidth_gbps));
    }
  }

  best.copy_bandwidth_gbps = options.copy_bandwidth_gbps;
  double stage_sum = 0;
  best.bottleneck_ms = 0;
  for (const Stage& stage : best.stages) {
    stage_sum += stage.cost_ms();
    best.bottleneck_ms = std::max(best.bottleneck_ms, stage.cost_ms());
  }
  for (double c : node_cost_ms) {
    best.total_compute_ms += c;
    best.max_node_ms = std::max(best.max_node_ms, c);
  }
  best.mean_ms = best.total_compute_ms / options.stages;
  best.lower_bound_ms = std::max(best.mean_ms, best.max_node_ms);
  const double mean_stage = stage_sum / options.stages;
  best.balance = mean_stage > 0 ? best.bottleneck_ms / mean_stage : 1.0;
  best.gap = best.lower_bound_ms > 0 ? best.bottleneck_ms / best.lower_bound_ms - 1.0 : 0.0;
  return best;
}

}  // namespace conveyor
