#include "conveyor/runtime/result_queue.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace conveyor {

struct ResultQueue::State {
  mutable std::mutex mutex;
  std::condition_variable arrived;
  std::deque<Result> results;
  int waiters = 0;
  bool closed = false;

  void push(Result&& result) {
    std::unique_lock lock(mutex);
    results.push_back(std::move(result));
    const bool wake = waiters > 0;
    lock.unlock();
    if (wake) arrived.notify_one();
  }

  template <class Wait>
  std::optional<Result> pop(Wait&& wait) {
    std::unique_lock lock(mutex);
    if (results.empty() && !closed) {
      ++waiters;
      wait(lock, [&] { return !results.empty() || closed; });
      --waiters;
    }
    if (results.empty()) return std::nullopt;
    Result result = std::move(results.front());
    results.pop_front();
    return result;
  }
};

ResultQueue::ResultQueue() : state_(std::make_shared<State>()) {}

ResultCallback ResultQueue::callback() const {
  return [state = state_](Result&& result) { state->push(std::move(result)); };
}

std::optional<Result> ResultQueue::next(std::chrono::milliseconds timeout) {
  return state_->pop([&](std::unique_lock<std::mutex>& lock, const auto& ready) {
    if (timeout.count() > 0) state_->arrived.wait_for(lock, timeout, ready);
  });
}

std::optional<Result> ResultQueue::next() {
  return state_->pop(
      [&](std::unique_lock<std::mutex>& lock, const auto& ready) { state_->arrived.wait(lock, ready); });
}

void ResultQueue::close() {
  {
    std::lock_guard lock(state_->mutex);
    state_->closed = true;
  }
  state_->arrived.notify_all();
}

std::size_t ResultQueue::size() const {
  std::lock_guard lock(state_->mutex);
  return state_->results.size();
}

}  // namespace conveyor
