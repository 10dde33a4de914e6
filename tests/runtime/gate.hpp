#pragma once
#include <condition_variable>
#include <mutex>

namespace conveyor::testing {

// Holds stage operators until opened, and tells a test how many have reached it: a way to keep requests
// in flight, or a stage busy, without sleeping for a guessed time.
class Gate {
 public:
  // Called by an operator: counts it as arrived, then blocks until open().
  void pass() {
    std::unique_lock lock(mutex_);
    ++arrived_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  void wait_for_arrivals(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return arrived_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  bool open_ = false;
};

}  // namespace conveyor::testing
