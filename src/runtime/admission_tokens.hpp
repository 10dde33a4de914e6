#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>

namespace conveyor {

// A counting semaphore of admission tokens that can be closed: close() wakes every waiter and makes
// acquire fail from then on, which std::counting_semaphore cannot do. release() signals only when someone
// waits, so a token handed back with nobody blocked costs one lock/unlock pair and no wake-up call.
class AdmissionTokens {
 public:
  enum class Outcome { kAcquired, kTimedOut, kClosed };

  explicit AdmissionTokens(std::size_t count) : available_(count) {}

  // Waits at most `wait` for a token (nullopt: as long as it takes; zero: not at all).
  Outcome acquire(std::optional<std::chrono::nanoseconds> wait) {
    std::unique_lock lock(mutex_);
    if (available_ == 0 && !closed_ && (!wait || wait->count() > 0)) {
      ++waiters_;
      const auto ready = [&] { return available_ > 0 || closed_; };
      if (wait)
        token_freed_.wait_for(lock, *wait, ready);
      else
        token_freed_.wait(lock, ready);
      --waiters_;
    }
    if (closed_) return Outcome::kClosed;
    if (available_ == 0) return Outcome::kTimedOut;
    --available_;
    return Outcome::kAcquired;
  }

  void release() {
    std::unique_lock lock(mutex_);
    ++available_;
    const bool wake = waiters_ > 0;
    lock.unlock();
    if (wake) token_freed_.notify_one();
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    token_freed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable token_freed_;
  std::size_t available_;
  int waiters_ = 0;
  bool closed_ = false;
};

}  // namespace conveyor
