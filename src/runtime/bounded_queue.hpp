#pragma once
#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "priority_order.hpp"

namespace conveyor {

// The default: items carry no priority and the queue is a plain FIFO.
struct NoPriority {};

// What a priority queue reads from an item while it is queued (it must not change meanwhile):
//   int priority(const T&) const  — higher is more urgent;
//   PriorityOrder::TimePoint enqueued(const T&) const  — when the item entered this queue.
template <typename Traits, typename T>
concept QueuePriority = requires(const Traits& traits, const T& item) {
  { traits.priority(item) } -> std::convertible_to<int>;
  { traits.enqueued(item) } -> std::convertible_to<PriorityOrder::TimePoint>;
};

// Bounded multi-producer multi-consumer queue over a ring buffer. Blocking push/pop with close(): after
// close, push fails and pop drains what is left, then returns nullopt. Condition variables are only
// signalled when someone waits, so an uncontended hand-off costs one lock/unlock pair.
//
// With QueuePriority traits, pop takes the item PriorityOrder ranks first. Each item's rank is computed
// once, at push, into a slot beside it; while every queued item has the same priority (the usual case,
// tracked by a count of items unlike the first one queued) pop stays O(1) FIFO, otherwise it scans the
// queue (short: tens of slots) and closes the gap it leaves. Nothing is allocated after construction.
template <typename T, typename Traits = NoPriority>
class BoundedQueue {
  static constexpr bool kPrioritised = QueuePriority<Traits, T>;

 public:
  explicit BoundedQueue(std::size_t capacity, PriorityOrder order = {}, Traits traits = {})
      : slots_(capacity == 0 ? 1 : capacity), order_(order), traits_(std::move(traits)) {
    if constexpr (kPrioritised) keys_.resize(slots_.size());
  }

  // Blocks while full. Returns false (dropping nothing: `item` is left untouched) when closed.
  bool push(T& item) {
    const Key key = key_of(item);
    std::unique_lock lock(mutex_);
    if (count_ == slots_.size()) {
      ++push_waiters_;
      not_full_.wait(lock, [&] { return count_ < slots_.size() || closed_; });
      --push_waiters_;
    }
    if (closed_) return false;
    put(item, key);
    const bool wake = pop_waiters_ > 0;
    lock.unlock();
    if (wake) not_empty_.notify_one();
    return true;
  }

  bool try_push(T& item) {
    const Key key = key_of(item);
    std::unique_lock lock(mutex_);
    if (closed_ || count_ == slots_.size()) return false;
    put(item, key);
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
    return pop_locked(lock);
  }

  // As pop(), but gives up at `until` (at once when it has passed, or after stop_waiting()): nullopt when
  // nothing came by then.
  std::optional<T> pop_until(std::chrono::steady_clock::time_point until) {
    std::unique_lock lock(mutex_);
    if (count_ == 0 && !closed_ && !stop_waiting_) {
      ++pop_waiters_;
      not_empty_.wait_until(lock, until, [&] { return count_ > 0 || closed_ || stop_waiting_; });
      --pop_waiters_;
    }
    return pop_locked(lock);
  }

  // From now on pop_until() does not wait (pop() still does): for a shutdown, where no more is coming.
  void stop_waiting() {
    {
      std::lock_guard lock(mutex_);
      stop_waiting_ = true;
    }
    not_empty_.notify_all();
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

  struct PriorityKey {
    PriorityOrder::Rank rank = 0;
    int priority = 0;
  };
  struct NoKey {};
  using Key = std::conditional_t<kPrioritised, PriorityKey, NoKey>;

  std::optional<T> pop_locked(std::unique_lock<std::mutex>& lock) {
    if (count_ == 0) return std::nullopt;
    T item = take();
    head_ = (head_ + 1) % slots_.size();
    --count_;
    size_.store(count_, std::memory_order_relaxed);
    const bool wake = push_waiters_ > 0;
    lock.unlock();
    if (wake) not_full_.notify_one();
    return item;
  }

  std::size_t at(std::size_t i) const {
    return (head_ + i) % slots_.size();
  }

  // Read outside the lock: the pushing thread still owns the item.
  Key key_of(const T& item) const {
    if constexpr (kPrioritised) {
      if (order_.fifo()) return {};  // priorities ignored: every item alike
      const int priority = traits_.priority(item);
      return {order_.rank(priority, traits_.enqueued(item)), priority};
    } else {
      return {};
    }
  }

  void put(T& item, const Key& key) {
    const std::size_t slot = at(count_);
    slots_[slot] = std::move(item);
    if constexpr (kPrioritised) {
      keys_[slot] = key;
      if (count_ == 0)
        base_priority_ = key.priority;
      else if (key.priority != base_priority_)
        ++unlike_base_;
    }
    ++count_;
    size_.store(count_, std::memory_order_relaxed);
  }

  // Moves the item to serve out of its slot and leaves the head slot to be released by the caller.
  T take() {
    if constexpr (kPrioritised) {
      if (unlike_base_ > 0) {
        const std::size_t chosen =
            PriorityOrder::pick(count_, [&](std::size_t i) { return keys_[at(i)].rank; });
        if (keys_[at(chosen)].priority != base_priority_) --unlike_base_;
        T item = std::move(slots_[at(chosen)]);
        for (std::size_t i = chosen; i > 0; --i) {  // the older items move up one, keeping their order
          slots_[at(i)] = std::move(slots_[at(i - 1)]);
          keys_[at(i)] = keys_[at(i - 1)];
        }
        return item;
      }
    }
    return std::move(slots_[head_]);
  }

  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::vector<T> slots_;
  PriorityOrder order_;
  [[no_unique_address]] Traits traits_;
  std::vector<Key> keys_;        // beside slots_, prioritised queues only
  int base_priority_ = 0;        // the priority of the item queued first since the queue was last empty
  std::size_t unlike_base_ = 0;  // queued items whose priority differs from base_priority_
  std::size_t head_ = 0, count_ = 0;
  int push_waiters_ = 0, pop_waiters_ = 0;
  bool closed_ = false;
  bool stop_waiting_ = false;
  std::atomic<std::size_t> size_{0};  // for metrics readers, without the lock
};

}  // namespace conveyor
