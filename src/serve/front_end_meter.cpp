#include "serve/front_end_meter.hpp"

#include <time.h>

#include <algorithm>

#include "conveyor/plan/profile_store.hpp"
#include "serve/front_end_cpus.hpp"

namespace conveyor::serve {
namespace {

double clock_seconds(clockid_t clock) {
  timespec now{};
  if (clock_gettime(clock, &now) != 0) return 0;
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

}  // namespace

FrontEndMeter::FrontEndMeter(std::chrono::milliseconds window, uint64_t min_requests)
    : min_requests_(min_requests), sampler_(std::make_unique<PeriodicTask>(window, [this] { sample(); })) {}

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
  sampler_->stop();
}

void FrontEndMeter::sample() {
  std::lock_guard lock(mutex_);
  const double cpu = cpu_seconds_locked();
  const uint64_t requests = requests_.load(std::memory_order_relaxed);
  if (requests - stretch_requests_ < min_requests_) return;  // the stretch goes on
  if (cpu > stretch_cpu_) {
    if (samples_.size() == plan::ProfileStore::kMaxSamplesPerEntry) samples_.erase(samples_.begin());
    samples_.push_back((cpu - stretch_cpu_) / static_cast<double>(requests - stretch_requests_));
  }
  stretch_cpu_ = cpu;
  stretch_requests_ = requests;
}

FrontEndThread::FrontEndThread(FrontEndMeter& meter, const std::vector<int>& cpus) : meter_(meter) {
  pin_front_end_thread(cpus);
  meter_.join_this_thread();
}

}  // namespace conveyor::serve
