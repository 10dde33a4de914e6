#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "conveyor/runtime/core_allocation.hpp"
#include "conveyor/runtime/metrics.hpp"
#include "conveyor/runtime/pipeline_spec.hpp"
#include "conveyor/runtime/sample.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor {

// Why a request failed. `stage` is empty when it failed before reaching any stage.
struct RequestError {
  enum class Kind { kOperator, kDeadline, kCancelled };
  Kind kind = Kind::kOperator;
  std::string stage;
  std::string message;
  bool invalid_input = false;  // kOperator: the operator rejected its input (threw std::invalid_argument)
  std::string describe() const;  // "stage 'decode': not a JPEG/PNG image"
};

// What every admitted request ends in: exactly one of these, delivered once.
struct Result {
  Sample sample;
  std::optional<RequestError> error;
  bool ok() const { return !error.has_value(); }
};

using ResultCallback = std::function<void(Result&&)>;

// submit() with FullPolicy::kFail when max_in_flight requests are admitted (try_submit reports it instead).
class PipelineFullError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// submit() after shutdown began.
class PipelineClosedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ShutdownMode { kDrain, kCancel };

// A running pipeline: each stage's workers are threads pinned to their own cores, connected by bounded
// queues; a token per admitted request caps what is in flight. Construction starts every worker and
// creates its operator inside it; a failing operator factory or an impossible core request throws here.
class Pipeline {
 public:
  Pipeline(PipelineOptions options, std::vector<StageSpec> stages, const Topology& topology = Topology::detect());
  ~Pipeline();  // shutdown(kDrain)
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Admits a request. Blocks for a token (FullPolicy::kBlock) or throws PipelineFullError (kFail);
  // throws PipelineClosedError after shutdown. The callback runs on a pipeline thread, once; in-order
  // pipelines call callbacks in submit order, one at a time, so keep them short. The request's token is
  // free by the time its callback runs: a client that keeps at most max_in_flight requests outstanding is
  // never refused (nor kept waiting for a token).
  void submit(Sample sample, ResultCallback on_done);
  std::future<Result> submit(Sample sample);

  // Admits a request if a token frees up within `wait` (zero: only if one is free now), whatever the
  // FullPolicy; otherwise returns false / nullopt, and the sample is dropped. Never blocks longer than
  // `wait`. Throws PipelineClosedError after shutdown, as submit does.
  bool try_submit(Sample sample, ResultCallback on_done, std::chrono::milliseconds wait = {});
  std::optional<std::future<Result>> try_submit(Sample sample, std::chrono::milliseconds wait = {});

  // Cancels every admitted request whose Sample::id is `sample_id` and that has not finished its last
  // stage; the id is the client's (the tag a ResultQueue hands back): give requests distinct ids to cancel
  // one alone. A stage already running it finishes that item; it is then delivered once, with a kCancelled
  // error, when it reaches its next stage, without running that or any later stage (in-order pipelines
  // deliver it in its turn, so later requests wait for none of its remaining work). One cancelled during
  // its last stage ends kCancelled too. Returns false when no such request was in flight (finished,
  // unknown, or already cancelled).
  bool cancel(uint64_t sample_id);

  // Stops admission; kDrain finishes what is in flight, kCancel fails it with a "cancelled" error without
  // running further stages. Joins every worker. Idempotent.
  void shutdown(ShutdownMode mode = ShutdownMode::kDrain);

  // Blocks until nothing is in flight and every callback has returned.
  void wait_idle();

  PipelineMetrics metrics() const;
  void reset_metrics();

  const PipelineOptions& options() const;
  const std::vector<std::vector<WorkerPlacement>>& placement() const;
  std::size_t stage_count() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace conveyor
