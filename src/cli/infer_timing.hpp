#pragma once
// conveyor infer --repeat: a model's run times (min, median, mean, p90, max, GFLOP/s, its compiled steps)
// and, with --profile-nodes, each node's and each operator's share of a run.
#include <string>
#include <vector>

#include "conveyor/api/model.hpp"
#include "conveyor/graph/graph.hpp"

namespace conveyor::cli {

struct TimingRequest {
  std::string model;                // the file, as named
  std::vector<std::string> inputs;  // --input values; none: synthetic inputs
  int repeat = 1;
  int warmup = 5;
  bool profile_nodes = false;
  bool json = false;
};

// Compiles `graph` with `options` and prints what `request` asks.
void time_runs(const TimingRequest& request, Graph graph, const ModelOptions& options);

}  // namespace conveyor::cli
