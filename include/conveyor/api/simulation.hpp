#pragma once
#include <cstdint>
#include <vector>

#include "conveyor/plan/performance_model.hpp"
#include "conveyor/plan/simulator.hpp"

namespace conveyor {

// A pipeline's predicted behaviour under a load, from the discrete-event simulator and the analytic model.
struct Simulation {
  std::vector<plan::ModelStage> stages;  // as simulated: each stage's workers, threads and service time
  std::vector<plan::SimBatch> batches;   // per stage: how it batches (max_size 1: one request at a time)
  std::vector<std::string> notes;        // what the simulation had to guess
  plan::Workload workload;
  plan::SimResult simulated;
  plan::Prediction analytic;
};

}  // namespace conveyor
