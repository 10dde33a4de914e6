#pragma once
#include <vector>

namespace conveyor {

// Pins the calling thread to `cores` (no-op when empty) and sets its OpenMP team size to `threads`.
// Throws std::system_error when the kernel refuses the affinity.
void pin_current_thread(const std::vector<int>& cores, int threads);

}  // namespace conveyor
