#pragma once
// What the front end costs: the CPU time of its threads per request they answer (parsing, routing, encoding,
// the event loop itself), measured from the threads' own CPU clocks, so no handler needs timing code.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "serve/periodic_task.hpp"

namespace conveyor::serve {

class FrontEndMeter {
 public:
  // One sample per stretch of at least `window` holding at least `min_requests` requests: its CPU seconds
  // per request (the newest ProfileStore::kMaxSamplesPerEntry are kept). Sampling starts at once and ends
  // with stop() or the destructor.
  explicit FrontEndMeter(std::chrono::milliseconds window = std::chrono::milliseconds(250),
                         uint64_t min_requests = 10);
  ~FrontEndMeter();
  FrontEndMeter(const FrontEndMeter&) = delete;
  FrontEndMeter& operator=(const FrontEndMeter&) = delete;

  // A front-end thread counts from here until it leaves (its CPU time stays counted after).
  void join_this_thread();
  void leave_this_thread();
  void count_request() { requests_.fetch_add(1, std::memory_order_relaxed); }

  double cpu_seconds() const;  // of every front-end thread, since it joined
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  int threads() const;
  std::vector<double> samples() const;  // CPU seconds per request, one per stretch, oldest first
  void stop();                          // ends sampling (samples() keeps what was taken)

 private:
  struct Member {
    pthread_t thread;
    clockid_t clock;
    double joined_at;  // its CPU seconds when it joined
  };
  double cpu_seconds_locked() const;
  void sample();

  const uint64_t min_requests_;
  std::atomic<uint64_t> requests_{0};
  mutable std::mutex mutex_;
  std::vector<Member> members_;
  double left_seconds_ = 0;  // CPU seconds of threads that left
  double stretch_cpu_ = 0;   // where the stretch being sampled began
  uint64_t stretch_requests_ = 0;
  std::vector<double> samples_;
  std::unique_ptr<PeriodicTask> sampler_;  // last: started once the rest is ready
};

// Joins the calling front-end thread to `meter` and pins it to `cpus` (see pin_front_end_thread) for as long
// as it lives.
class FrontEndThread {
 public:
  FrontEndThread(FrontEndMeter& meter, const std::vector<int>& cpus);
  ~FrontEndThread() { meter_.leave_this_thread(); }
  FrontEndThread(const FrontEndThread&) = delete;
  FrontEndThread& operator=(const FrontEndThread&) = delete;

 private:
  FrontEndMeter& meter_;
};

}  // namespace conveyor::serve
