#include "serve/front_end_meter.hpp"

#include <time.h>

#include <algorithm>

#include "serve/front_end_cpus.hpp"

namespace conveyor::serve {
namespace {

constexpr std::size_t kMaxSamples = 4096;  // as many as a stored profile keeps

double clock_seconds(clockid_t clock) {
  timespec now{};
  if (clock_gettime(clock, &now) != 0) return 0;
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

}  // namespace

FrontEndMeter::FrontEndMeter(std::chrono::milliseconds window, uint64_t min_requests)
    : window_(window), min_requests_(min_requests), sampler_([this] { sample_until_stopped(); }) {}

FrontEndMeter::~FrontEndMeter() {
  stop();
}

void FrontEndMeter::join_this_thread() {
  clockid_t clock{};
  if (pthread_getcpuclockid(pthread_self(), &clock) != 0) return;  // not measurable: left out
  std::lock_guard lock(mutex_);
  members_.push_back({pthread_self(), clock, clock_seconds(clock)});
}

void FrontEndMeter::leave_this_thread() {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(members_.begin(), members_.end(),
                         [](const Member& m) { return pthread_equal(m.thread, pthread_self()); });
  if (it == members_.end()) return;
  left_seconds_ += clock_seconds(it->clock) - it->joined_at;
  members_.erase(it);
}

double FrontEndMeter::cpu_seconds_locked() const {
  double total = left_seconds_;
  for (const Member& m : members_) total += clock_seconds(m.clock) - m.joined_at;
  return total;
}

double FrontEndMeter::cpu_seconds() const {
  std::lock_guard lock(mutex_);
  return cpu_seconds_locked();
}

int FrontEndMeter::threads() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(members_.size());
}

std::vector<double> FrontEndMeter::samples() const {
  std::lock_guard lock(mutex_);
  return samples_;
}

void FrontEndMeter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  stopping_.notify_all();
  sampler_.join();
}

void FrontEndMeter::sample_until_stopped() {
  std::unique_lock lock(mutex_);
  double cpu = cpu_seconds_locked();
  uint64_t requests = requests_.load(std::memory_order_relaxed);
  while (!stopping_.wait_for(lock, window_, [this] { return stopped_; })) {
    const double cpu_now = cpu_seconds_locked();
    const uint64_t requests_now = requests_.load(std::memory_order_relaxed);
    if (requests_now - requests < min_requests_) continue;  // the window goes on
    if (cpu_now > cpu && samples_.size() < kMaxSamples)
      samples_.push_back((cpu_now - cpu) / static_cast<double>(requests_now - requests));
    cpu = cpu_now;
    requests = requests_now;
  }
}

FrontEndThread::FrontEndThread(FrontEndMeter& meter, const std::vector<int>& cpus) : meter_(meter) {
  pin_front_end_thread(cpus);
  meter_.join_this_thread();
}

}  // namespace conveyor::serve
