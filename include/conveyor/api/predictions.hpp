#pragma once
#include <string>

namespace conveyor {

struct PredictedNumbers {
  double throughput_rps = 0;
  double p50_ms = 0, p99_ms = 0;  // infinite when the model calls the load unstable
};

// What the analytic model and the simulator predict for a configuration, from stored profiles.
struct Predictions {
  std::string workload;  // as the models saw it
  PredictedNumbers analytic;
  PredictedNumbers simulated;
};

}  // namespace conveyor
