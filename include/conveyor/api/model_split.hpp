#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "conveyor/graph/graph.hpp"
#include "conveyor/graph/partition.hpp"

namespace conveyor {

// Runtime::split_model: cutting one ONNX model into K balanced model segments, outside any pipeline.
struct ModelSplitOptions {
  int segments = 2;
  int threads = 1;                        // threads per segment the node costs assume
  std::vector<std::string> pinned_after;  // node names of the ONNX file a cut must fall right after
  std::vector<std::string> orders;        // node orders to try (graph/partition.hpp); empty: all
  double copy_bandwidth_gbps = 0;         // for cut transfers; 0: measured on this machine
  enum class Costs { kMeasured, kAnalytic };
  Costs costs = Costs::kMeasured;  // node costs: timed in the compiled executor, or a FLOP/byte estimate
  int cost_runs = 5;               // timed runs per measured node cost (median)
  bool export_segments = false;    // fill ModelSplit::segment_models
  int measure_runs = 0;            // > 0: compile each segment and time it over this many runs (median)
};

// A node named in pinned_after that the model cannot be cut after (unknown, or folded into a constant).
class PinError : public std::runtime_error {
 public:
  PinError(std::string pin, const std::string& why) : std::runtime_error(why), pin_(std::move(pin)) {}
  const std::string& pin() const { return pin_; }

 private:
  std::string pin_;
};

struct ModelSplit {
  Graph graph;  // the imported model (after the import optimisations)
  Partition partition;
  std::vector<std::string> segment_models;  // each segment as a standalone ONNX model (serialized)
  std::vector<double> measured_ms;          // each segment's measured time (measure_runs > 0)
};

}  // namespace conveyor
