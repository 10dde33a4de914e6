#include "thread_pinning.hpp"

#include <omp.h>
#include <pthread.h>
#include <sched.h>

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

}  // namespace conveyor
