#pragma once
// Where the front ends' threads run: on the hardware threads no pinned pipeline stage owns (stages own their
// cores; a model's intra-op team must not be preempted by request parsing), sharing them with the unpinned
// light stages; unpinned when the stages own every core.
#include <memory>
#include <vector>

#include "conveyor/runtime/topology.hpp"
#include "serve/served_model.hpp"

namespace conveyor::serve {

std::vector<int> front_end_cpus(const std::vector<std::shared_ptr<ServedModel>>& models, const Topology& machine);
// Pins the calling thread to `cpus`; nothing when empty or when the OS refuses (the thread stays unpinned).
void pin_front_end_thread(const std::vector<int>& cpus);

}  // namespace conveyor::serve
