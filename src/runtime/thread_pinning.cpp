#include "thread_pinning.hpp"

#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

namespace conveyor {

void pin_current_thread(const std::vector<int>& cores, int threads) {
  if (!cores.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu : cores) CPU_SET(cpu, &set);
    if (const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set); rc != 0)
      throw std::system_error(rc, std::generic_category(), "pinning a worker thread");
  }
  omp_set_num_threads(threads);
}

void check_openmp_environment() {
  for (const char* name : {"OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0' || std::string(value) == "false") continue;
    throw std::runtime_error(std::string(name) + "=" + value +
                             " is set: OpenMP would re-bind worker threads across all cores and break "
                             "conveyor's per-stage pinning; unset it");
  }
}

}  // namespace conveyor
