#include "conveyor/runtime/pipeline.hpp"

#include <condition_variable>
#include <latch>
#include <mutex>
#include <system_error>
#include <thread>

#include "bounded_queue.hpp"
#include "thread_pinning.hpp"

namespace conveyor {
namespace {

struct Request {
  Sample sample;
  uint64_t seq = 0;
  ResultCallback done;
  std::optional<RequestError> error;
};
using RequestPtr = std::unique_ptr<Request>;

uint64_t nanos_between(Clock::time_point from, Clock::time_point to) {
  return to > from ? static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count())
                   : 0;
}

// Written only by its worker (relaxed atomics so metrics readers may look at any time).
struct alignas(64) WorkerStats {
  std::atomic<uint64_t> items{0}, errors{0}, busy_ns{0};
  LatencyHistogram service, queue_wait;

  void reset() {
    items = 0;
    errors = 0;
    busy_ns = 0;
    service.reset();
    queue_wait.reset();
  }
};

struct Stage {
  StageSpec spec;
  std::vector<WorkerPlacement> placement;
  BoundedQueue<RequestPtr> queue;
  std::vector<std::unique_ptr<WorkerStats>> stats;  // one per worker

  Stage(StageSpec s, std::vector<WorkerPlacement> p, std::size_t capacity)
      : spec(std::move(s)), placement(std::move(p)), queue(capacity) {
    for (std::size_t w = 0; w < placement.size(); ++w) stats.push_back(std::make_unique<WorkerStats>());
  }
};

}  // namespace

std::string RequestError::describe() const {
  return stage.empty() ? message : "stage '" + stage + "': " + message;
}

struct Pipeline::State {
  PipelineOptions options;
  std::vector<std::vector<WorkerPlacement>> placement;
  std::vector<std::unique_ptr<Stage>> stages;
  std::vector<std::thread> threads;

  // Admission: tokens for requests in flight.
  mutable std::mutex admit_mutex;
  std::condition_variable admit_cv;
  std::size_t in_flight = 0;
  std::size_t delivering = 0;  // results handed back whose callbacks are still running
  bool accepting = true;
  uint64_t next_seq = 0;
  std::atomic<bool> cancelling{false};

  // Delivery: in-order pipelines park finished requests in a ring indexed by seq until their turn.
  std::mutex deliver_mutex;
  std::vector<RequestPtr> reorder;
  uint64_t next_deliver = 0;

  std::mutex shutdown_mutex;
  bool shut_down = false;

  LatencyHistogram latency;
  std::atomic<uint64_t> completed{0}, failed{0};
  std::atomic<Clock::rep> metrics_start{Clock::now().time_since_epoch().count()};

  void worker_main(std::size_t s, std::size_t w, std::latch& started, std::vector<std::string>& startup_errors,
                   std::mutex& startup_mutex);
  void process(std::size_t s, Operator& op, WorkerStats& stats, RequestPtr request);
  void finish(RequestPtr request);
  void deliver(RequestPtr request);
  void stop_workers();
};

void Pipeline::State::worker_main(std::size_t s, std::size_t w, std::latch& started,
                                  std::vector<std::string>& startup_errors, std::mutex& startup_mutex) {
  Stage& stage = *stages[s];
  const WorkerPlacement& where = stage.placement[w];
  std::unique_ptr<Operator> op;
  try {
    pin_current_thread(where.hardware_threads, where.threads);
    op = stage.spec.factory(
        WorkerContext{stage.spec.name, static_cast<int>(w), where.hardware_threads, where.threads});
    if (!op) throw std::runtime_error("operator factory returned nothing");
  } catch (const std::exception& e) {
    std::lock_guard lock(startup_mutex);
    startup_errors.push_back("stage '" + stage.spec.name + "' worker " + std::to_string(w) + ": " + e.what());
  }
  const bool ok = op != nullptr;
  started.count_down();
  if (!ok) return;
  WorkerStats& stats = *stage.stats[w];
  while (auto request = stage.queue.pop()) process(s, *op, stats, std::move(*request));
}

void Pipeline::State::process(std::size_t s, Operator& op, WorkerStats& stats, RequestPtr request) {
  Stage& stage = *stages[s];
  StageTimes& times = request->sample.stage_times[s];
  const Clock::time_point start = Clock::now();
  times.started = start;
  stats.queue_wait.record(nanos_between(times.enqueued, start));

  if (!request->error) {
    const auto& deadline = request->sample.deadline;
    if (cancelling.load(std::memory_order_relaxed)) {
      request->error = RequestError{RequestError::Kind::kCancelled, stage.spec.name, "cancelled by shutdown"};
    } else if (deadline && start > *deadline) {
      const double late_ms = static_cast<double>(nanos_between(*deadline, start)) * 1e-6;
      request->error = RequestError{RequestError::Kind::kDeadline, stage.spec.name,
                                    "deadline passed " + std::to_string(late_ms) + " ms before the stage could start"};
    } else {
      try {
        op.process(request->sample);
      } catch (const std::exception& e) {
        request->error = RequestError{RequestError::Kind::kOperator, stage.spec.name, e.what()};
      } catch (...) {
        request->error = RequestError{RequestError::Kind::kOperator, stage.spec.name, "unknown exception"};
      }
      const uint64_t service = nanos_between(start, Clock::now());
      stats.service.record(service);
      stats.busy_ns.fetch_add(service, std::memory_order_relaxed);
      stats.items.fetch_add(1, std::memory_order_relaxed);
    }
    if (request->error) stats.errors.fetch_add(1, std::memory_order_relaxed);
  }
  times.finished = Clock::now();

  if (request->error || s + 1 == stages.size()) return finish(std::move(request));
  request->sample.stage_times[s + 1].enqueued = times.finished;
  if (!stages[s + 1]->queue.push(request)) {
    request->error = RequestError{RequestError::Kind::kCancelled, stage.spec.name, "pipeline closed"};
    finish(std::move(request));
  }
}

void Pipeline::State::finish(RequestPtr request) {
  latency.record(nanos_between(request->sample.submitted, Clock::now()));
  (request->error ? failed : completed).fetch_add(1, std::memory_order_relaxed);
  if (options.ordering == Ordering::kCompletion) return deliver(std::move(request));
  std::lock_guard lock(deliver_mutex);
  reorder[request->seq % reorder.size()] = std::move(request);
  for (auto* slot = &reorder[next_deliver % reorder.size()]; *slot; slot = &reorder[next_deliver % reorder.size()]) {
    deliver(std::move(*slot));
    ++next_deliver;
  }
}

// The request's token goes back before its callback runs, so a client that submits again as soon as it has
// a result (closed-loop load, on_full: fail) never finds the pipeline full; `delivering` keeps wait_idle()
// waiting until the callback has returned.
void Pipeline::State::deliver(RequestPtr request) {
  Result result{std::move(request->sample), std::move(request->error)};
  const ResultCallback done = std::move(request->done);
  request.reset();
  {
    std::lock_guard lock(admit_mutex);
    --in_flight;
    ++delivering;
  }
  admit_cv.notify_all();
  try {
    done(std::move(result));
  } catch (...) {
    // A throwing user callback must not take a pipeline thread down with it; the result was handed over.
  }
  bool idle = false;  // only wait_idle() waits for this: no notify per item otherwise
  {
    std::lock_guard lock(admit_mutex);
    idle = --delivering == 0 && in_flight == 0;
  }
  if (idle) admit_cv.notify_all();
}

void Pipeline::State::stop_workers() {
  for (auto& stage : stages) stage->queue.close();
  for (auto& t : threads)
    if (t.joinable()) t.join();
}

Pipeline::Pipeline(PipelineOptions options, std::vector<StageSpec> stages, const Topology& topology)
    : state_(std::make_unique<State>()) {
  if (stages.empty()) throw std::invalid_argument("pipeline '" + options.name + "' has no stages");
  if (options.max_in_flight == 0) throw std::invalid_argument("max_in_flight must be >= 1");
  for (const auto& stage : stages)
    if (!stage.factory) throw std::invalid_argument("stage '" + stage.name + "' has no operator");
  auto placement = allocate_cores(stages, topology);

  State& st = *state_;
  st.options = std::move(options);
  st.placement = placement;
  st.reorder.resize(st.options.max_in_flight);
  for (std::size_t s = 0; s < stages.size(); ++s) {
    const std::size_t capacity = stages[s].queue_capacity ? stages[s].queue_capacity : st.options.queue_capacity;
    st.stages.push_back(std::make_unique<Stage>(std::move(stages[s]), placement[s], capacity));
  }

  std::size_t workers = 0;
  for (const auto& stage : st.stages) workers += stage->placement.size();
  std::latch started(static_cast<std::ptrdiff_t>(workers));
  std::vector<std::string> startup_errors;
  std::mutex startup_mutex;
  // The OS may refuse a thread (a limit on threads or memory): the workers already started are stopped and
  // joined, never left running (a joinable std::thread destroyed would terminate the process).
  const std::string thread_error = [&]() -> std::string {
    for (std::size_t s = 0; s < st.stages.size(); ++s)
      for (std::size_t w = 0; w < st.stages[s]->placement.size(); ++w) {
        try {
          st.threads.emplace_back([&st, s, w, &started, &startup_errors, &startup_mutex] {
            st.worker_main(s, w, started, startup_errors, startup_mutex);
          });
        } catch (const std::system_error& e) {
          return "stage '" + st.stages[s]->spec.name + "': cannot start worker " + std::to_string(w) + " of " +
                 std::to_string(st.stages[s]->placement.size()) + ": " + e.what();
        }
      }
    return "";
  }();
  if (!thread_error.empty()) {
    started.count_down(static_cast<std::ptrdiff_t>(workers - st.threads.size()));
    std::lock_guard lock(startup_mutex);
    startup_errors.push_back(thread_error);
  }
  started.wait();
  if (!startup_errors.empty()) {
    st.stop_workers();
    std::string message = "pipeline '" + st.options.name + "' failed to start:";
    for (const auto& e : startup_errors) message += "\n  " + e;
    throw std::runtime_error(message);
  }
  st.metrics_start = Clock::now().time_since_epoch().count();
}

Pipeline::~Pipeline() {
  try {
    shutdown(ShutdownMode::kDrain);
  } catch (...) {
  }
}

void Pipeline::submit(Sample sample, ResultCallback on_done) {
  State& st = *state_;
  auto request = std::make_unique<Request>();
  request->done = std::move(on_done);
  sample.stage_times.assign(st.stages.size(), StageTimes{});
  sample.submitted = Clock::now();
  sample.stage_times[0].enqueued = sample.submitted;
  request->sample = std::move(sample);

  BoundedQueue<RequestPtr>& first = st.stages.front()->queue;
  std::unique_lock lock(st.admit_mutex);
  if (!st.accepting) throw PipelineClosedError("pipeline '" + st.options.name + "' is shut down");
  if (st.options.on_full == FullPolicy::kFail) {
    request->seq = st.next_seq;
    if (st.in_flight >= st.options.max_in_flight || !first.try_push(request))
      throw PipelineFullError("pipeline '" + st.options.name + "' is full (" + std::to_string(st.in_flight) +
                              " requests in flight, max_in_flight " + std::to_string(st.options.max_in_flight) + ")");
    ++st.next_seq;
    ++st.in_flight;
    return;
  }
  st.admit_cv.wait(lock, [&] { return st.in_flight < st.options.max_in_flight || !st.accepting; });
  if (!st.accepting) throw PipelineClosedError("pipeline '" + st.options.name + "' is shut down");
  request->seq = st.next_seq++;
  ++st.in_flight;
  lock.unlock();
  // The queue stays open while a token is held (shutdown waits for in_flight == 0 before closing), so this
  // only fails if that invariant breaks; the request still gets its one result.
  if (!first.push(request)) {
    request->error = RequestError{RequestError::Kind::kCancelled, "", "pipeline closed"};
    st.finish(std::move(request));
  }
}

std::future<Result> Pipeline::submit(Sample sample) {
  auto promise = std::make_shared<std::promise<Result>>();
  std::future<Result> future = promise->get_future();
  submit(std::move(sample), [promise](Result&& result) { promise->set_value(std::move(result)); });
  return future;
}

void Pipeline::wait_idle() {
  State& st = *state_;
  std::unique_lock lock(st.admit_mutex);
  st.admit_cv.wait(lock, [&] { return st.in_flight == 0 && st.delivering == 0; });
}

void Pipeline::shutdown(ShutdownMode mode) {
  State& st = *state_;
  std::lock_guard guard(st.shutdown_mutex);
  if (st.shut_down) return;
  {
    std::lock_guard lock(st.admit_mutex);
    st.accepting = false;
  }
  st.admit_cv.notify_all();
  if (mode == ShutdownMode::kCancel) st.cancelling = true;
  wait_idle();
  st.stop_workers();
  st.shut_down = true;
}

PipelineMetrics Pipeline::metrics() const {
  const State& st = *state_;
  PipelineMetrics m;
  const Clock::time_point start{Clock::duration{st.metrics_start.load()}};
  m.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  m.completed = st.completed.load(std::memory_order_relaxed);
  m.failed = st.failed.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(st.admit_mutex);
    m.in_flight = st.in_flight;
  }
  m.throughput_rps = m.elapsed_seconds > 0 ? static_cast<double>(m.completed + m.failed) / m.elapsed_seconds : 0;
  m.latency = st.latency.summary();
  for (const auto& stage : st.stages) {
    StageMetrics sm;
    sm.name = stage->spec.name;
    sm.workers = static_cast<int>(stage->placement.size());
    sm.threads_per_worker = stage->placement.front().threads;
    for (const auto& p : stage->placement) {
      sm.cores.insert(sm.cores.end(), p.cores.begin(), p.cores.end());
      sm.hardware_threads.insert(sm.hardware_threads.end(), p.hardware_threads.begin(),
                                 p.hardware_threads.end());
    }
    LatencyHistogram service, queue_wait;
    uint64_t busy_ns = 0;
    for (const auto& stats : stage->stats) {
      sm.items += stats->items.load(std::memory_order_relaxed);
      sm.errors += stats->errors.load(std::memory_order_relaxed);
      busy_ns += stats->busy_ns.load(std::memory_order_relaxed);
      stats->service.merge_into(service);
      stats->queue_wait.merge_into(queue_wait);
    }
    sm.busy_seconds = static_cast<double>(busy_ns) * 1e-9;
    sm.utilization = m.elapsed_seconds > 0 ? sm.busy_seconds / (m.elapsed_seconds * sm.workers) : 0;
    sm.service = service.summary();
    sm.queue_wait = queue_wait.summary();
    sm.queue_depth = stage->queue.size();
    sm.queue_capacity = stage->queue.capacity();
    m.stages.push_back(std::move(sm));
  }
  return m;
}

void Pipeline::reset_metrics() {
  State& st = *state_;
  for (auto& stage : st.stages)
    for (auto& stats : stage->stats) stats->reset();
  st.latency.reset();
  st.completed = 0;
  st.failed = 0;
  st.metrics_start = Clock::now().time_since_epoch().count();
}

const PipelineOptions& Pipeline::options() const { return state_->options; }
const std::vector<std::vector<WorkerPlacement>>& Pipeline::placement() const { return state_->placement; }
std::size_t Pipeline::stage_count() const { return state_->stages.size(); }

}  // namespace conveyor
