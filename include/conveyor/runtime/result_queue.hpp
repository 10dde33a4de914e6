#pragma once
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "conveyor/runtime/pipeline.hpp"

namespace conveyor {

// Finished requests for a client that waits for many at once without a callback per request, like a gRPC
// completion queue: submit each request with `queue.callback()`, tag it with Sample::id, and pop results
// (with any pipeline thread's or several pipelines') from one or more threads. Results wait here until
// popped: a client that stops popping keeps them all. Copies share one queue.
class ResultQueue {
 public:
  ResultQueue();

  // A callback for submit() / try_submit() that puts the request's result here; it holds the queue alive.
  ResultCallback callback() const;

  // The oldest result not yet popped, waiting at most `timeout` for one (zero: not at all); nullopt when
  // none came in time, or none is left after close().
  std::optional<Result> next(std::chrono::milliseconds timeout);
  std::optional<Result> next();  // waits as long as it takes, or until close()

  // Wakes every next() waiting: from now on next() returns what is left without waiting, then nullopt.
  // Results arriving later still land here.
  void close();

  std::size_t size() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace conveyor
