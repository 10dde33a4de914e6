#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/engine/node_timing.hpp"
#include "conveyor/graph/graph.hpp"

namespace conveyor {

struct ModelOptions {
  int threads = 0;                      // intra-op threads; 0: every core of the runtime's topology
  std::map<std::string, int64_t> dims;  // symbolic input dimension -> size (the others are 1)
};

// One ONNX model, imported (after the import optimisations) and compiled for `threads` on the thread that
// loaded it: run it from that thread (or one with the same OpenMP budget), one run at a time.
class Model {
 public:
  Model(Graph graph, CompiledModel compiled) : graph_(std::move(graph)), compiled_(std::move(compiled)) {}

  const Graph& graph() const { return graph_; }
  const std::vector<TensorSpec>& inputs() const { return compiled_.inputs(); }
  const std::vector<TensorSpec>& outputs() const { return compiled_.outputs(); }
  int threads() const { return compiled_.threads(); }
  const EngineStats& stats() const { return compiled_.stats(); }

  // Inputs by name; dtypes and shapes must match inputs() exactly. Outputs are fresh tensors.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs) {
    return compiled_.run(inputs);
  }
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) { return compiled_.run(inputs); }

  // Inputs for timing when no real data is at hand, in the order of inputs(): floats in [-1, 1), other
  // dtypes 0 (valid indices, ids and masks).
  std::vector<Tensor> synthetic_inputs() const { return conveyor::synthetic_inputs(graph_); }
  // Per node of graph(): the median ms over `runs` timed runs of the kernels compiled for it
  // (CompiledModel::profile_nodes: a fused chain's time is on its first node).
  std::vector<double> profile_nodes(const std::vector<Tensor>& inputs, int runs) {
    return compiled_.profile_nodes(inputs, runs);
  }

 private:
  Graph graph_;
  CompiledModel compiled_;
};

}  // namespace conveyor
