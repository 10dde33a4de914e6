#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace conveyor {

// Bounded multi-producer multi-consumer FIFO over a ring buffer. Blocking push/pop with close(): after
// close, push fails and pop drains what is left, then returns nullopt. Condition variables are only
// signalled when someone waits, so an uncontended hand-off costs one lock/unlock pair.
template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : slots_(capacity == 0 ? 1 : capacity) {}

  // Blocks while full. Returns false (dropping nothing: `item` is left untouched) when closed.
  bool push(T& item) {
    std::unique_lock lock(mutex_);
    if (count_ == slots_.size()) {
      ++push_waiters_;
      not_full_.wait(lock, [&] { return count_ < slots_.size() || closed_; });
      --push_waiters_;
    }
    if (closed_) return false;
    put(item);
    const bool wake = pop_waiters_ > 0;
    lock.unlock();
    if (wake) not_empty_.notify_one();
    return true;
  }

  bool try_push(T& item) {
    std::unique_lock lock(mutex_);
    if (closed_ || count_ == slots_.size()) return false;
    put(item);
    const bool wake = pop_waiters_ > 0;
    lock.unlock();
    if (wake) not_empty_.notify_one();
    return true;
  }

  // Blocks while empty and open. Polls briefly first: an item that arrives within the poll window costs
  // the producer no wake-up call and the consumer no sleep.
  std::optional<T> pop() {
    for (int i = 0; i < kPollRounds && size_.load(std::memory_order_relaxed) == 0; ++i) {
      if (i < kPauseRounds)
        pause();
      else
        std::this_thread::yield();
    }
    std::unique_lock lock(mutex_);
    if (count_ == 0 && !closed_) {
      ++pop_waiters_;
      not_empty_.wait(lock, [&] { return count_ > 0 || closed_; });
      --pop_waiters_;
    }
    if (count_ == 0) return std::nullopt;
    T item = std::move(slots_[head_]);
    head_ = (head_ + 1) % slots_.size();
    --count_;
    size_.store(count_, std::memory_order_relaxed);
    const bool wake = push_waiters_ > 0;
    lock.unlock();
    if (wake) not_full_.notify_one();
    return item;
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  std::size_t size() const { return size_.load(std::memory_order_relaxed); }
  std::size_t capacity() const { return slots_.size(); }

 private:
  static constexpr int kPauseRounds = 200;  // a few microseconds of busy polling
  static constexpr int kPollRounds = 240;   // then yield: lets other runnable threads on this core go first

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  void put(T& item) {
    slots_[(head_ + count_) % slots_.size()] = std::move(item);
    ++count_;
    size_.store(count_, std::memory_order_relaxed);
  }

  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::vector<T> slots_;
  std::size_t head_ = 0, count_ = 0;
  int push_waiters_ = 0, pop_waiters_ = 0;
  bool closed_ = false;
  std::atomic<std::size_t> size_{0};  // for metrics readers, without the lock
};

}  // namespace conveyor
