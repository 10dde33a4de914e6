#pragma once
#include <vector>

namespace conveyor {

// Pins the calling thread to `cores` (no-op when empty) and sets its OpenMP team size to `threads`.
// Throws std::system_error when the kernel refuses the affinity.
void pin_current_thread(const std::vector<int>& cores, int threads);

// Throws when OMP_PROC_BIND, OMP_PLACES or GOMP_CPU_AFFINITY are set: libgomp reads them when it is loaded
// and would re-bind every team thread globally, breaking per-worker pinning.
void check_openmp_environment();

}  // namespace conveyor
