#include <algorithm>
#include <cmath>

#include "conveyor/graph/cost.hpp"
#include "conveyor/graph/partition.hpp"

namespace conveyor {
namespace {

bool runs_as_gemm(const std::string& op) {
  return op == "Conv" || op == "ConvTranspose" || op == "MatMul" || op == "Gemm";
}

void require_positive(double value, const char* what) {
  if (!(value > 0) || !std::isfinite(value))
    throw GraphError(std::string("analytic cost: ") + what + " must be a positive number");
}

}  // namespace

std::vector<double> analytic_node_cost_ms(const Graph& graph, const AnalyticCostOptions& options) {
  if (options.threads < 1)
    throw GraphError("analytic cost: threads must be >= 1, got " + std::to_string(options.threads));
  require_positive(options.gemm_gflops_per_thread, "gemm_gflops_per_thread");
  require_positive(options.other_gflops_per_thread, "other_gflops_per_thread");
  require_positive(options.memory_gbps_per_thread, "memory_gbps_per_thread");
  require_positive(options.memory_gbps_max, "memory_gbps_max");
  if (!(options.parallel_efficiency >= 0 && options.parallel_efficiency <= 1))
    throw GraphError("analytic cost: parallel_efficiency must lie in [0, 1]");
  if (!(options.node_overhead_ms >= 0)) throw GraphError("analytic cost: node_overhead_ms must be >= 0");

  const double speedup = 1.0 + (options.threads - 1) * options.parallel_efficiency;
  const double bandwidth =
      std::min(options.memory_gbps_per_thread * options.threads, options.memory_gbps_max);
  std::vector<double> cost_ms;
  cost_ms.reserve(graph.nodes.size());
  for (const Node& node : graph.nodes) {
    const NodeCost work = node_cost(graph, node);
    const double gflops =
        (runs_as_gemm(node.op_type) ? options.gemm_gflops_per_thread : options.other_gflops_per_thread) *
        speedup;
    const double compute_ms = work.flops / (gflops * 1e6);
    const double memory_ms = work.bytes / (bandwidth * 1e6);
    cost_ms.push_back(std::max(compute_ms, memory_ms) + options.node_overhead_ms);
  }
  return cost_ms;
}

}  // namespace conveyor
