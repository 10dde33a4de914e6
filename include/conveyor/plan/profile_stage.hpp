#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "conveyor/runtime/pipeline_spec.hpp"
#include "conveyor/runtime/sample.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor::plan {

struct ProfileRunOptions {
  uint64_t requests = 200;  // measured items (inputs are cycled)
  uint64_t warmup = 10;     // run first, not measured
  bool pin = true;          // pin to `threads` hardware threads on whole cores (false: unpinned, for tests)
};

struct StageMeasurement {
  std::vector<double> service;  // seconds per measured item (time inside the operator)
  std::vector<Sample>
      outputs;  // the stage's output for each input, in input order (to profile the next stage)
  uint64_t errors = 0;
  std::string first_error;
};

// Measures one stage alone: runs it as a one-stage Pipeline with one worker on `threads` hardware threads
// (and that many intra-op threads), one request at a time so the times are pure service times. Throws when
// the stage fails on every input.
StageMeasurement profile_stage(const StageSpec& stage, int threads, const std::vector<Sample>& inputs,
                               const ProfileRunOptions& options = {},
                               const Topology& topology = Topology::detect());

// Measures one batching stage's runs of `batch` requests at once (batch >= 2), as the runtime forms them: a
// one-worker pipeline is handed `batch` requests together; each measured sample is one whole batch run.
StageMeasurement profile_stage_batches(const StageSpec& stage, int threads, int batch,
                                       const std::vector<Sample>& inputs, const ProfileRunOptions& options = {},
                                       const Topology& topology = Topology::detect());

}  // namespace conveyor::plan
