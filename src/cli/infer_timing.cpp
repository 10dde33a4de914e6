#include "cli/infer_timing.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/cli_runtime.hpp"
#include "cli/json_text.hpp"
#include "cli/model_inputs.hpp"
#include "conveyor/graph/cost.hpp"
#include "conveyor/runtime/exact_latency.hpp"

namespace conveyor::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct NodeShare {
  std::string name, op;
  double ms = 0;
  std::size_t nodes = 1;  // of an op: how many nodes it sums
};

void print_node_shares(const std::vector<NodeShare>& nodes, const std::vector<NodeShare>& ops,
                       double total_ms, int runs) {
  constexpr std::size_t kShown = 15;
  std::printf(
      "\nnodes: median ms of %d profiled runs, %.2f ms in all (a fused chain's time is on its first node)\n",
      runs, total_ms);
  std::printf("  %6s %9s  %-18s %s\n", "share", "ms", "op", "node");
  double rest = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (i >= kShown) {
      rest += nodes[i].ms;
      continue;
    }
    std::printf("  %5.1f%% %9.3f  %-18s %s\n", 100 * nodes[i].ms / total_ms, nodes[i].ms, nodes[i].op.c_str(),
                nodes[i].name.c_str());
  }
  if (nodes.size() > kShown)
    std::printf("  %5.1f%% %9.3f  %zu more nodes\n", 100 * rest / total_ms, rest, nodes.size() - kShown);
  std::printf("\nby op:\n  %6s %9s  %-18s %s\n", "share", "ms", "op", "nodes");
  for (const auto& op : ops)
    std::printf("  %5.1f%% %9.3f  %-18s %zu\n", 100 * op.ms / total_ms, op.ms, op.op.c_str(), op.nodes);
}

}  // namespace

void time_runs(const TimingRequest& o, Graph graph, const ModelOptions& options) {
  const auto input_specs = specs_of(graph, graph.inputs);
  const bool synthetic = o.inputs.empty();
  const double gflops = graph_cost(graph).flops / 1e9;

  const auto compile_start = Clock::now();
  Model model = cli_runtime().compile_model(std::move(graph), options);
  const double compile_ms = ms_since(compile_start);
  const std::vector<Tensor> inputs =
      synthetic ? model.synthetic_inputs() : read_inputs(o.inputs, input_specs);

  for (int i = 0; i < o.warmup; ++i) model.run(inputs);
  std::vector<uint64_t> nanos;
  for (int i = 0; i < o.repeat; ++i) {
    const auto start = Clock::now();
    model.run(inputs);
    nanos.push_back(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()));
  }
  const LatencySummary times = exact_latency_summary(nanos);  // sorts nanos
  const double min_ms = static_cast<double>(nanos.front()) / 1e6;
  const double gflop_per_s = times.p50_ms > 0 ? gflops / (times.p50_ms / 1e3) : 0;

  std::vector<NodeShare> nodes, ops;
  double total_ms = 0;
  if (o.profile_nodes) {
    const std::vector<double> node_ms = model.profile_nodes(inputs, o.repeat);
    std::map<std::string, NodeShare> by_op;
    for (std::size_t n = 0; n < node_ms.size(); ++n) {
      const Node& node = model.graph().nodes[n];
      total_ms += node_ms[n];
      nodes.push_back({node.name, node.op_type, node_ms[n]});
      NodeShare& op = by_op.try_emplace(node.op_type, NodeShare{"", node.op_type, 0, 0}).first->second;
      op.ms += node_ms[n];
      ++op.nodes;
    }
    for (auto& [name, op] : by_op) ops.push_back(op);
    const auto slowest = [](const NodeShare& a, const NodeShare& b) { return a.ms > b.ms; };
    std::stable_sort(nodes.begin(), nodes.end(), slowest);
    std::stable_sort(ops.begin(), ops.end(), slowest);
  }

  const char* inputs_text =
      synthetic ? "synthetic inputs: floats in [-1, 1), other dtypes 0" : "the given inputs";
  if (o.json) {
    nlohmann::json j{{"model", o.model},
                     {"threads", model.threads()},
                     {"compile_ms", compile_ms},
                     {"inputs", synthetic ? "synthetic" : "given"},
                     {"warmup", o.warmup},
                     {"runs", o.repeat},
                     {"run_ms",
                      {{"min", min_ms},
                       {"median", times.p50_ms},
                       {"mean", times.mean_ms},
                       {"p90", times.p90_ms},
                       {"max", times.max_ms}}},
                     {"gflops", gflops},
                     {"gflop_per_s", gflop_per_s},
                     {"steps",
                      {{"total", model.stats().steps},
                       {"dnnl", model.stats().dnnl_steps},
                       {"reorders", model.stats().reorders},
                       {"reference", model.stats().reference_steps},
                       {"fused_chains", model.stats().fused_chains}}}};
    if (o.profile_nodes) {
      j["nodes"] = nlohmann::json::array();
      for (const auto& node : nodes)
        j["nodes"].push_back(
            {{"name", node.name}, {"op", node.op}, {"ms", node.ms}, {"share", node.ms / total_ms}});
      j["ops"] = nlohmann::json::array();
      for (const auto& op : ops)
        j["ops"].push_back({{"op", op.op}, {"ms", op.ms}, {"share", op.ms / total_ms}, {"nodes", op.nodes}});
    }
    std::printf("%s\n", json_text(j, 2).c_str());
    return;
  }
  std::printf("%s: %d thread%s, compile %.1f ms; %d runs after %d warm-up runs (%s)\n", o.model.c_str(),
              model.threads(), model.threads() > 1 ? "s" : "", compile_ms, o.repeat, o.warmup, inputs_text);
  std::printf("run ms   min %.3f  median %.3f  mean %.3f  p90 %.3f  max %.3f\n", min_ms, times.p50_ms,
              times.mean_ms, times.p90_ms, times.max_ms);
  std::printf("GFLOP/s  %.1f at the median (%.3f GFLOPs per run)\n", gflop_per_s, gflops);
  const EngineStats& stats = model.stats();
  std::printf(
      "kernels  %zu steps per run: %zu oneDNN primitives (%zu of them layout reorders), %zu reference; "
      "%zu fused chains\n",
      stats.steps, stats.dnnl_steps, stats.reorders, stats.reference_steps, stats.fused_chains);
  if (o.profile_nodes) print_node_shares(nodes, ops, total_ms, o.repeat);
}

}  // namespace conveyor::cli
