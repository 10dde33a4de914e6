#include "serve/front_end_cpus.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <set>

#include "conveyor/api/runtime.hpp"

namespace conveyor::serve {

FrontEndPlacement place_front_end(const std::vector<std::shared_ptr<ServedModel>>& models,
                                  const Topology& machine) {
  FrontEndPlacement placement;
  std::set<int> planned, owned;
  for (const auto& model : models) {
    if (const auto& plan = model->running().plan())
      for (const auto& stage : plan->stages)
        if (std::find(stage.members.begin(), stage.members.end(), kFrontEndStage) != stage.members.end()) {
          const std::vector<int> cores = stage.cores();
          planned.insert(cores.begin(), cores.end());
          placement.workers = std::max(placement.workers, stage.workers);
        }
    for (const auto& stage : model->running().pipeline().placement())
      for (const auto& worker : stage)
        if (!worker.cores.empty())
          owned.insert(worker.hardware_threads.begin(), worker.hardware_threads.end());
  }
  if (!planned.empty()) {
    placement.cpus.assign(planned.begin(), planned.end());
    return placement;
  }
  for (const int cpu : machine.cpus())
    if (!owned.count(cpu)) placement.cpus.push_back(cpu);
  return placement;
}

void pin_front_end_thread(const std::vector<int>& cpus) {
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const int cpu : cpus)
    if (cpu >= 0 && cpu < CPU_SETSIZE) CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

}  // namespace conveyor::serve
