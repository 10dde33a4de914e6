#pragma once
// Where the front ends' threads run. A model planned by `plan: auto` plans its front end as its first
// stage: the threads then run on the cores that plan gave it (its own, or shared with light stages, never a
// model's). Otherwise they run on the hardware threads no pinned pipeline stage owns (a model's intra-op
// team must not be preempted by request parsing), sharing them with the unpinned light stages; unpinned
// when the stages own every core.
#include <memory>
#include <vector>

#include "conveyor/runtime/topology.hpp"
#include "serve/served_model.hpp"

namespace conveyor::serve {

struct FrontEndPlacement {
  std::vector<int> cpus;  // empty: unpinned
  int workers = 0;        // the front-end workers the plans chose (the most of them); 0: none planned it
};

FrontEndPlacement place_front_end(const std::vector<std::shared_ptr<ServedModel>>& models,
                                  const Topology& machine);
// Pins the calling thread to `cpus`; nothing when empty or when the OS refuses (the thread stays unpinned).
void pin_front_end_thread(const std::vector<int>& cpus);

}  // namespace conveyor::serve
