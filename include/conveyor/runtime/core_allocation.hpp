#pragma once
#include <stdexcept>
#include <vector>

#include "conveyor/runtime/pipeline_spec.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor {

// An impossible resource request: more cores than the machine has, a core that does not exist, two stages
// claiming the same core without `shared`.
class ResourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WorkerPlacement {
  std::vector<int> cores;  // empty: unpinned
  int threads = 1;
};

// For each stage, for each worker: the cores it is pinned to and its intra-op thread count.
// Stages with explicit ids are placed first, then counted stages take free cores in topology order, then
// shared stages take the least-used cores.
std::vector<std::vector<WorkerPlacement>> allocate_cores(const std::vector<StageSpec>& stages,
                                                         const Topology& topology);

}  // namespace conveyor
