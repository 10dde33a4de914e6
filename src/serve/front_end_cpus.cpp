#include "serve/front_end_cpus.hpp"

#include <pthread.h>
#include <sched.h>

#include <set>

namespace conveyor::serve {

std::vector<int> front_end_cpus(const std::vector<std::shared_ptr<ServedModel>>& models, const Topology& machine) {
  std::set<int> owned;
  for (const auto& model : models)
    for (const auto& stage : model->running().pipeline().placement())
      for (const auto& worker : stage)
        if (!worker.cores.empty()) owned.insert(worker.hardware_threads.begin(), worker.hardware_threads.end());
  std::vector<int> free;
  for (const int cpu : machine.cpus())
    if (!owned.count(cpu)) free.push_back(cpu);
  return free;
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
