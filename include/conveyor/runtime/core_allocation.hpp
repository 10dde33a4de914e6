#pragma once
#include <stdexcept>
#include <vector>

#include "conveyor/runtime/pipeline_spec.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor {

// An impossible resource request: more cores than the machine has, a core that does not exist, two stages
// claiming the same physical core (or SMT siblings of one) without `shared`.
class ResourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WorkerPlacement {
  std::vector<int> cores;             // the physical cores it owns, by id (PhysicalCore::id); empty: unpinned
  std::vector<int> hardware_threads;  // the OS ids it is pinned to: every thread of its cores, or one each
  int threads = 1;                    // intra-op threads: the stage's `threads`, else threads_per_worker
};

// For each stage, for each worker: the cores it owns, the hardware threads it is pinned to and its
// intra-op thread count. Stages with explicit ids are placed first, then counted stages take free physical
// cores in topology order, then shared stages take the least-used cores.
std::vector<std::vector<WorkerPlacement>> allocate_cores(const std::vector<StageSpec>& stages,
                                                         const Topology& topology);

// The one definition of a stage's intra-op threads per worker: `threads` when set (> 0); else the
// hardware threads of a worker's cores (one per core with smt off): per_worker x threads per core for a
// count, the cores of the first worker's ids for a list (an id not in `topology` counts as one core of one
// thread, for what-ifs), 1 unpinned. allocate_cores gives every worker this count.
int threads_per_worker(int workers, const CoreSpec& cores, int threads, const Topology& topology);
// The physical cores a stage owns: workers x per_worker, or the distinct cores its ids name (an id not in
// `topology` counts as one); 0 for a shared or unpinned stage.
int cores_claimed(int workers, const CoreSpec& cores, const Topology& topology);

// The same for anything with a stage's `workers`, `cores` and `threads` (StageSpec, StageConfig).
template <class Stage>
int threads_per_worker(const Stage& stage, const Topology& topology) {
  return threads_per_worker(stage.workers, stage.cores, stage.threads, topology);
}
template <class Stage>
int cores_claimed(const Stage& stage, const Topology& topology) {
  return cores_claimed(stage.workers, stage.cores, topology);
}

}  // namespace conveyor
