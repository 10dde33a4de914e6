#pragma once
// Automatic partitioning of a model graph into K contiguous pipeline stages of balanced cost.
//
// A partition is a topological order of the graph's nodes cut into K contiguous runs. Stage i costs
// T_i + transfer_in_i: the sum of its nodes' costs plus the time to copy every activation live across the cut
// in front of it (produced before the cut and read after it, or a graph output produced before it; constants
// excluded). The partition minimises the bottleneck max_i(T_i + transfer_in_i) exactly for the chosen order;
// several topological orders are tried (see candidate_orders) and the best kept.
#include <cstddef>
#include <string>
#include <vector>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// --- per-node cost
// ------------------------------------------------------------------------------------------

// Roofline-style estimate used until the executor measures nodes: a node takes
// max(flops / compute rate, bytes / memory bandwidth) + a fixed dispatch overhead.
struct AnalyticCostOptions {
  int threads = 1;
  double gemm_gflops_per_thread = 100;  // Conv, ConvTranspose, MatMul, Gemm (oneDNN reaches ~94% of FMA peak)
  double other_gflops_per_thread = 10;  // element-wise, pooling, normalisation, data movement
  double memory_gbps_per_thread = 15;   // bytes term; scales with threads up to memory_gbps_max
  double memory_gbps_max = 40;
  double parallel_efficiency = 0.9;  // speed-up on t threads = 1 + (t - 1) * efficiency
  double node_overhead_ms = 0.002;
};

// Cost in milliseconds of each node of `graph.nodes` (same indices). Throws GraphError on bad options.
std::vector<double> analytic_node_cost_ms(const Graph& graph, const AnalyticCostOptions& options = {});

// Measures memcpy bandwidth on this machine once (best of `repeats` copies of `bytes`), in GB/s of bytes
// copied.
double measure_copy_bandwidth_gbps(std::size_t bytes = std::size_t{64} << 20, int repeats = 5);

// --- the chain problem
// ----------------------------------------------------------------------------------------

struct ChainSplit {
  std::vector<int> stage_begin;  // first position of each stage: stage_begin[0] == 0, strictly increasing
  double bottleneck = 0;         // max over stages of (sum of cost + entry_cost at its first position)
  double transfer = 0;           // sum of entry_cost over the cuts
};

// Splits positions 0..n-1 into `stages` non-empty contiguous runs minimising the bottleneck, where a stage
// [b, e) costs sum(cost[b..e)) + (b > 0 ? entry_cost[b] : 0). `required_cuts` are positions in 1..n-1 where
// a stage must begin; `forbidden_cuts` positions where none may (unless required). Exact: dynamic programming
// over prefix sums, O(stages * n^2). Among the partitions reaching the smallest bottleneck it returns one with
// the smallest summed entry cost (a second pass). Throws GraphError when stages < 1, stages > n, entry_cost
// has the wrong size, a cut is out of range, the required cuts alone need more stages than given, or the
// cuts left allowed are too few for `stages`.
ChainSplit split_chain(const std::vector<double>& cost, const std::vector<double>& entry_cost, int stages,
                       const std::vector<int>& required_cuts = {}, const std::vector<int>& forbidden_cuts = {});

// --- topological orders -----------------------------------------------------------------------------------

struct NodeOrder {
  std::string name;        // "file", "dfs", "dfs-reversed", "min-live"
  std::vector<int> nodes;  // indices into graph.nodes, a topological order
};

// Topological orders worth trying, duplicates removed: the graph's own ("file"), depth-first post-orders from
// the outputs (which finish a residual or attention block before starting the next) visiting inputs first
// to last and last to first, and a greedy list schedule that always runs the ready node leaving the fewest
// live bytes.
std::vector<NodeOrder> candidate_orders(const Graph& graph);

// Bytes of runtime values live across each cut of `order`: result[c] for the cut in front of position c
// (c = 1..n-1); result[0] = 0. Size n (0 for an empty graph).
std::vector<double> live_bytes_at_cuts(const Graph& graph, const std::vector<int>& order);

// --- partitioning a graph ----------------------------------------------------------------------------------

struct PartitionOptions {
  int stages = 1;
  // Names of graph nodes a cut must fall right after (see graph_node_for in segment_export.hpp to name
  // nodes of the original ONNX file that optimisation fused away).
  std::vector<std::string> pinned_after;
  double copy_bandwidth_gbps = 10;  // turns live bytes at a cut into ms
  // Orders to try by name (see candidate_orders); empty = all.
  std::vector<std::string> orders;
  // Groups of node indices one stage must hold whole: no cut falls between a group's first and last node
  // (in the order tried). The engine's fused chains (engine/fused_chains.hpp), so that a cut never costs a
  // Conv its fused Add and Relu. A pinned cut still wins.
  std::vector<std::vector<int>> kept_together;
};

struct CutTensor {
  std::string name;
  int value = -1;  // id in graph.values
  std::size_t bytes = 0;
};

struct Stage {
  int begin = 0;  // positions [begin, end) in Partition::order
  int end = 0;
  std::vector<int> nodes;  // indices into graph.nodes, in execution order
  std::string first_node;
  std::string last_node;
  double compute_ms = 0;      // sum of its nodes' costs
  double transfer_in_ms = 0;  // copying live_in across the cut in front of it (0 for the first stage)
  double cost_ms() const { return compute_ms + transfer_in_ms; }
  std::vector<CutTensor> live_in;  // every activation live across the cut in front of it
  std::vector<CutTensor> inputs;   // runtime values its nodes read that it does not produce
  std::vector<CutTensor> outputs;  // values it produces that later stages read, and graph outputs
};

struct OrderResult {
  std::string name;
  double bottleneck_ms = 0;
  double peak_live_bytes = 0;  // largest live set at any cut of the order
  double cut_bytes = 0;        // live bytes summed over the cuts the partition chose
};

struct Partition {
  std::string order_name;  // the order kept
  std::vector<int> order;
  std::vector<Stage> stages;
  double copy_bandwidth_gbps = 0;
  double total_compute_ms = 0;  // sum of all node costs
  double mean_ms = 0;           // total_compute_ms / stages: no partition beats it
  double max_node_ms = 0;       // the costliest node: no partition beats it either
  double lower_bound_ms = 0;    // max(mean_ms, max_node_ms)
  double bottleneck_ms = 0;     // max over stages of cost_ms()
  double balance = 0;           // bottleneck / mean stage cost (transfers included); 1 = perfect
  double gap = 0;               // bottleneck / lower_bound - 1
  std::vector<OrderResult> orders_tried;
};

// Partitions `graph` (typed, as after load_onnx) into options.stages stages. `node_cost_ms` holds the cost
// of each node of graph.nodes (measured by the executor, or analytic_node_cost_ms). Throws GraphError when
// the cost vector does not match, stages < 1 or > number of nodes, a pinned node is unknown or last, or the
// pins need more stages than given.
Partition partition_graph(const Graph& graph, const std::vector<double>& node_cost_ms,
                          const PartitionOptions& options);

}  // namespace conveyor
