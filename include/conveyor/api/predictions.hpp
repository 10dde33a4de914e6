#pragma once
#include <string>
#include <vector>

namespace conveyor {

struct PredictedNumbers {
  double throughput_rps = 0;
  double p50_ms = 0, p99_ms = 0;  // infinite when the model calls the load unstable
};

// The share of a stage's worker time spent serving, as each model predicts it (0..1).
struct PredictedStage {
  std::string name;
  double analytic_utilization = 0;
  double simulated_utilization = 0;
};

// What the analytic model and the simulator predict for a configuration, from stored profiles.
struct Predictions {
  std::string workload;  // as the models saw it
  PredictedNumbers analytic;
  PredictedNumbers simulated;
  std::vector<PredictedStage> stages;  // in pipeline order
};

}  // namespace conveyor
