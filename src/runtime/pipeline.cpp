#include "conveyor/runtime/pipeline.hpp"

#include <algorithm>
#include <condition_variable>
#include <iterator>
#include <latch>
#include <mutex>
#include <system_error>
#include <thread>

#include "admission_tokens.hpp"
#include "bounded_queue.hpp"
#include "conveyor/runtime/promised_result.hpp"
#include "thread_pinning.hpp"

namespace conveyor {
namespace {

struct Request {
  Sample sample;
  uint64_t seq = 0;
  uint64_t sample_id = 0;  // a copy for cancel(), which must not read the sample while a stage writes it
  ResultCallback done;
  std::optional<RequestError> error;
  // Set by cancel() under the registry lock; a worker that sees it skips its stage, finish() decides.
  std::atomic<bool> cancelled{false};
  Request* prev = nullptr;  // in the registry of unfinished requests
  Request* next = nullptr;
};
using RequestPtr = std::unique_ptr<Request>;

uint64_t nanos_between(Clock::time_point from, Clock::time_point to) {
  return to > from
             ? static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count())
             : 0;
}

// A merged stage's member, as one worker ran it.
struct MemberStats {
  std::atomic<uint64_t> busy_ns{0};
  LatencyHistogram service;
};

// Written only by its worker (relaxed atomics so metrics readers may look at any time).
struct alignas(64) WorkerStats {
  std::atomic<uint64_t> items{0}, errors{0}, busy_ns{0};
  LatencyHistogram service, queue_wait;
  std::vector<std::unique_ptr<MemberStats>> members;  // one per member of a merged stage
  // A batching stage's worker: runs per batch size (index = size), time from taken to batch start.
  std::vector<std::atomic<uint64_t>> batches_by_size;
  LatencyHistogram batch_wait;
  std::atomic<uint64_t> batches_retried{0};
  mutable std::mutex failure_mutex;
  std::string last_batch_failure;  // guarded by failure_mutex

  WorkerStats(std::size_t member_count, const BatchSpec& batch)
      : batches_by_size(batch.batches() ? static_cast<std::size_t>(batch.max_size) + 1 : 0) {
    for (std::size_t m = 0; m < member_count; ++m) members.push_back(std::make_unique<MemberStats>());
  }

  void reset() {
    items = 0;
    errors = 0;
    busy_ns = 0;
    service.reset();
    queue_wait.reset();
    for (auto& member : members) {
      member->busy_ns = 0;
      member->service.reset();
    }
    for (auto& count : batches_by_size) count = 0;
    batch_wait.reset();
    batches_retried = 0;
    std::lock_guard lock(failure_mutex);
    last_batch_failure.clear();
  }

  void record_batch(std::size_t size) {
    if (size < batches_by_size.size()) batches_by_size[size].fetch_add(1, std::memory_order_relaxed);
  }

  // The member times a merged stage's operator left in the sample under the stage's name.
  void record_members(const Sample& sample, const std::string& stage) {
    if (members.empty()) return;
    const auto found = sample.member_seconds.find(stage);
    if (found == sample.member_seconds.end()) return;
    for (std::size_t m = 0; m < members.size() && m < found->second.size(); ++m) {
      const auto nanos = static_cast<uint64_t>(std::max(0.0, found->second[m]) * 1e9);
      members[m]->service.record(nanos);
      members[m]->busy_ns.fetch_add(nanos, std::memory_order_relaxed);
    }
  }
};

// A request's priority, and when it entered stage `index`'s queue (the first stage's: when it was submitted,
// so time spent waiting for admission counts towards aging too).
struct RequestPriority {
  std::size_t index = 0;
  int priority(const RequestPtr& request) const { return request->sample.priority; }
  Clock::time_point enqueued(const RequestPtr& request) const {
    return request->sample.stage_times[index].enqueued;
  }
};

struct Stage {
  StageSpec spec;
  std::vector<int> batch_sizes;  // spec.batch.run_sizes(): {1} when the stage does not batch
  std::vector<WorkerPlacement> placement;
  BoundedQueue<RequestPtr, RequestPriority> queue;
  std::vector<std::unique_ptr<WorkerStats>> stats;  // one per worker

  Stage(StageSpec s, std::vector<int> sizes, std::vector<WorkerPlacement> p, std::size_t index,
        std::size_t capacity, std::chrono::nanoseconds aging)
      : spec(std::move(s)),
        batch_sizes(std::move(sizes)),
        placement(std::move(p)),
        queue(capacity, PriorityOrder(aging), {index}) {
    for (std::size_t w = 0; w < placement.size(); ++w)
      stats.push_back(std::make_unique<WorkerStats>(spec.members.size(), spec.batch));
  }
};

// What a batch must agree on: the dtype and shape of each tensor the stage's operator reads.
using BatchKey = std::vector<std::pair<DType, Shape>>;

BatchKey batch_key(const Sample& sample, const OperatorSignature& signature) {
  BatchKey key;
  for (const auto& input : signature.inputs) {
    if (input.text) continue;
    const auto found = sample.tensors.find(input.name);
    if (found == sample.tensors.end())
      key.emplace_back(DType::kUInt8, Shape{-1});  // absent: batched only with others that lack it
    else
      key.emplace_back(found->second.dtype(), found->second.shape());
  }
  return key;
}

// The requests a worker holds, split into runs of equal BatchKey (in the order they were taken).
std::vector<std::vector<Request*>> batch_groups(const std::vector<Request*>& held,
                                                const OperatorSignature& signature) {
  std::vector<std::pair<BatchKey, std::vector<Request*>>> groups;
  for (Request* request : held) {
    BatchKey key = batch_key(request->sample, signature);
    auto group = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (group == groups.end())
      groups.emplace_back(std::move(key), std::vector<Request*>{request});
    else
      group->second.push_back(request);
  }
  std::vector<std::vector<Request*>> runs;
  for (auto& group : groups) runs.push_back(std::move(group.second));
  return runs;
}

}  // namespace

std::string RequestError::describe() const {
  return stage.empty() ? message : "stage '" + stage + "': " + message;
}

struct Pipeline::State {
  PipelineOptions options;
  std::vector<std::vector<WorkerPlacement>> placement;
  std::vector<std::unique_ptr<Stage>> stages;
  std::vector<std::thread> threads;

  // Admission: a token per request admitted and not yet handed to its callback.
  std::unique_ptr<AdmissionTokens> tokens;
  std::atomic<std::size_t> in_flight{0};    // admitted, not yet handed to its callback
  std::atomic<std::size_t> outstanding{0};  // admitted, callback not yet returned: what wait_idle() waits for
  std::mutex idle_mutex;
  std::condition_variable idle_cv;  // signalled only when `outstanding` reaches zero

  // Requests admitted and not yet finished (a doubly linked list through Request::prev/next), for cancel().
  std::mutex registry_mutex;
  Request* unfinished = nullptr;
  bool accepting = true;  // guarded by registry_mutex, so shutdown and admission agree on who got in
  uint64_t next_seq = 0;
  std::atomic<bool> cancelling{false};

  // Delivery: in-order pipelines park finished requests in a ring indexed by seq until their turn. One
  // thread at a time hands out the ready run, outside the lock, so other workers only park theirs.
  std::mutex deliver_mutex;
  std::vector<RequestPtr> reorder;
  uint64_t next_deliver = 0;
  bool delivering = false;
  std::vector<RequestPtr> ready_run;  // used by the delivering thread only

  std::mutex shutdown_mutex;
  bool shut_down = false;

  LatencyHistogram latency;
  std::atomic<uint64_t> completed{0}, failed{0};
  std::atomic<Clock::rep> metrics_start{Clock::now().time_since_epoch().count()};

  void worker_main(std::size_t s, std::size_t w, std::latch& started,
                   std::vector<std::string>& startup_errors, std::mutex& startup_mutex);
  // False when no token came within `wait` (nullopt: wait as long as it takes).
  bool admit(Sample sample, ResultCallback done, std::optional<std::chrono::nanoseconds> wait);
  void process(std::size_t s, std::size_t w, Operator& op, WorkerStats& stats, RequestPtr request);
  // A batching worker: takes a request, waits for more (BatchSpec), runs them in batches.
  void serve_batches(std::size_t s, std::size_t w, Operator& op, WorkerStats& stats);
  void process_batch(std::size_t s, Operator& op, WorkerStats& stats, std::span<Request* const> batch);
  // Sets request.error when it must not run in stage s (shutdown, cancelled, deadline passed at `now`).
  void check_runnable(const Stage& stage, Request& request, Clock::time_point now);
  void run_operator(const Stage& stage, Operator& op, WorkerStats& stats, Request& request);
  void pass_on(std::size_t s, RequestPtr request);  // to the next stage's queue, or finished
  void unregister(Request& request);
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
    op = stage.spec.factory(WorkerContext{stage.spec.name, static_cast<int>(w), where.hardware_threads,
                                          where.threads, stage.batch_sizes});
    if (!op) throw std::runtime_error("operator factory returned nothing");
  } catch (const std::exception& e) {
    std::lock_guard lock(startup_mutex);
    startup_errors.push_back("stage '" + stage.spec.name + "' worker " + std::to_string(w) + ": " + e.what());
  }
  const bool ok = op != nullptr;
  started.count_down();
  if (!ok) return;
  WorkerStats& stats = *stage.stats[w];
  if (stage.spec.batch.batches()) return serve_batches(s, w, *op, stats);
  while (auto request = stage.queue.pop()) process(s, w, *op, stats, std::move(*request));
}

void Pipeline::State::process(std::size_t s, std::size_t w, Operator& op, WorkerStats& stats,
                              RequestPtr request) {
  Stage& stage = *stages[s];
  StageTimes& times = request->sample.stage_times[s];
  const Clock::time_point start = Clock::now();
  times.taken = start;
  times.started = start;
  times.worker = static_cast<int>(w);
  stats.queue_wait.record(nanos_between(times.enqueued, start));
  if (!request->error) {
    check_runnable(stage, *request, start);
    if (!request->error) run_operator(stage, op, stats, *request);
    if (request->error) stats.errors.fetch_add(1, std::memory_order_relaxed);
  }
  times.finished = Clock::now();
  pass_on(s, std::move(request));
}

void Pipeline::State::check_runnable(const Stage& stage, Request& request, Clock::time_point now) {
  const auto& deadline = request.sample.deadline;
  if (cancelling.load(std::memory_order_relaxed)) {
    request.error = RequestError{RequestError::Kind::kCancelled, stage.spec.name, "cancelled by shutdown"};
  } else if (request.cancelled.load(std::memory_order_relaxed)) {
    request.error = RequestError{RequestError::Kind::kCancelled, stage.spec.name, "request cancelled"};
  } else if (deadline && now > *deadline) {
    const double late_ms = static_cast<double>(nanos_between(*deadline, now)) * 1e-6;
    request.error =
        RequestError{RequestError::Kind::kDeadline, stage.spec.name,
                     "deadline passed " + std::to_string(late_ms) + " ms before the stage could start"};
  }
}

void Pipeline::State::run_operator(const Stage& stage, Operator& op, WorkerStats& stats, Request& request) {
  const Clock::time_point start = Clock::now();
  try {
    op.process(request.sample);
  } catch (const std::invalid_argument& e) {
    request.error = RequestError{RequestError::Kind::kOperator, stage.spec.name, e.what(), true};
  } catch (const std::exception& e) {
    request.error = RequestError{RequestError::Kind::kOperator, stage.spec.name, e.what()};
  } catch (...) {
    request.error = RequestError{RequestError::Kind::kOperator, stage.spec.name, "unknown exception"};
  }
  const uint64_t service = nanos_between(start, Clock::now());
  stats.service.record(service);
  stats.busy_ns.fetch_add(service, std::memory_order_relaxed);
  stats.items.fetch_add(1, std::memory_order_relaxed);
  if (!request.error) stats.record_members(request.sample, stage.spec.name);
}

void Pipeline::State::pass_on(std::size_t s, RequestPtr request) {
  if (request->error || s + 1 == stages.size()) return finish(std::move(request));
  request->sample.stage_times[s + 1].enqueued = request->sample.stage_times[s].finished;
  if (!stages[s + 1]->queue.push(request)) {
    request->error = RequestError{RequestError::Kind::kCancelled, stages[s]->spec.name, "pipeline closed"};
    finish(std::move(request));
  }
}

void Pipeline::State::serve_batches(std::size_t s, std::size_t w, Operator& op, WorkerStats& stats) {
  Stage& stage = *stages[s];
  const auto max_size = static_cast<std::size_t>(stage.spec.batch.max_size);
  std::vector<RequestPtr> held;
  std::vector<Request*> runnable;
  Clock::duration last_run{};  // how long the last batch took, start to finish
  while (auto first = stage.queue.pop()) {
    held.push_back(std::move(*first));
    const Clock::time_point taken = Clock::now();
    // Waiting for more never outlasts max_delay, nor leaves the request with the earliest deadline less
    // time than this worker's last batch took to run (or a tenth of what it had left when taken).
    Clock::time_point wait_until = taken + stage.spec.batch.max_delay;
    const auto note_taken = [&](Request& request, Clock::time_point when) {
      StageTimes& times = request.sample.stage_times[s];
      times.taken = when;
      times.worker = static_cast<int>(w);
      stats.queue_wait.record(nanos_between(times.enqueued, when));
      if (const auto& deadline = request.sample.deadline)
        wait_until = std::min(wait_until, *deadline - std::max(last_run, (*deadline - when) / 10));
    };
    note_taken(*held.back(), taken);
    while (held.size() < max_size) {
      auto more = stage.queue.pop_until(wait_until);
      if (!more) break;
      held.push_back(std::move(*more));
      note_taken(*held.back(), Clock::now());
    }

    const Clock::time_point now = Clock::now();
    for (auto& request : held) {
      if (!request->error) check_runnable(stage, *request, now);
      if (request->error) {
        StageTimes& times = request->sample.stage_times[s];
        times.started = times.finished = now;
        stats.errors.fetch_add(1, std::memory_order_relaxed);
      } else {
        runnable.push_back(request.get());
      }
    }
    const Clock::time_point run_start = Clock::now();
    for (const auto& group : batch_groups(runnable, stage.spec.signature))
      for (std::size_t begin = 0; begin < group.size();) {
        const std::size_t left = group.size() - begin;
        const auto size = static_cast<std::size_t>(*std::prev(
            std::upper_bound(stage.batch_sizes.begin(), stage.batch_sizes.end(), static_cast<int>(left))));
        process_batch(s, op, stats, std::span<Request* const>(group).subspan(begin, size));
        begin += size;
      }
    if (!runnable.empty()) last_run = Clock::now() - run_start;
    for (auto& request : held) pass_on(s, std::move(request));
    held.clear();
    runnable.clear();
  }
}

void Pipeline::State::process_batch(std::size_t s, Operator& op, WorkerStats& stats,
                                    std::span<Request* const> batch) {
  Stage& stage = *stages[s];
  const Clock::time_point start = Clock::now();
  for (Request* request : batch)
    stats.batch_wait.record(nanos_between(request->sample.stage_times[s].taken, start));
  const auto run_alone = [&] {
    for (Request* request : batch) {
      StageTimes& times = request->sample.stage_times[s];
      times.started = Clock::now();
      run_operator(stage, op, stats, *request);
      times.finished = Clock::now();
      if (request->error) stats.errors.fetch_add(1, std::memory_order_relaxed);
      stats.record_batch(1);
    }
  };
  if (batch.size() == 1) return run_alone();

  std::vector<Sample*> samples;
  for (Request* request : batch) samples.push_back(&request->sample);
  bool ran = false;
  std::string failure;
  try {
    ran = op.process_batch(samples);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty()) {
    std::string ids;
    for (Request* request : batch) ids += (ids.empty() ? "" : ", ") + std::to_string(request->sample_id);
    stats.batches_retried.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(stats.failure_mutex);
    stats.last_batch_failure = "batch of " + std::to_string(batch.size()) + " (requests " + ids +
                               ") failed: " + failure + "; each run alone";
  }
  if (!ran || !failure.empty()) return run_alone();

  const Clock::time_point end = Clock::now();
  const uint64_t nanos = nanos_between(start, end);
  stats.busy_ns.fetch_add(nanos, std::memory_order_relaxed);
  stats.items.fetch_add(batch.size(), std::memory_order_relaxed);
  stats.record_batch(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    StageTimes& times = batch[i]->sample.stage_times[s];
    times.started = start;
    times.finished = end;
    times.batch = static_cast<int>(batch.size());
    times.batch_position = static_cast<int>(i);
    stats.service.record(nanos / batch.size());
    stats.record_members(batch[i]->sample, stage.spec.name);
  }
}

// Once out of the registry a request can no longer be cancelled; one that was keeps that promise even if
// its last stage already ran (or failed it): cancel() returned true, so it ends cancelled.
void Pipeline::State::unregister(Request& request) {
  std::lock_guard lock(registry_mutex);
  (request.prev ? request.prev->next : unfinished) = request.next;
  if (request.next) request.next->prev = request.prev;
  if (request.cancelled.load(std::memory_order_relaxed) &&
      !(request.error && request.error->kind == RequestError::Kind::kCancelled))
    request.error = RequestError{RequestError::Kind::kCancelled, "", "request cancelled"};
}

void Pipeline::State::finish(RequestPtr request) {
  unregister(*request);
  latency.record(nanos_between(request->sample.submitted, Clock::now()));
  (request->error ? failed : completed).fetch_add(1, std::memory_order_relaxed);
  if (options.ordering == Ordering::kCompletion) return deliver(std::move(request));
  std::unique_lock lock(deliver_mutex);
  reorder[request->seq % reorder.size()] = std::move(request);
  if (delivering) return;  // that thread hands this one out too, in its turn
  delivering = true;
  for (;;) {
    for (auto* slot = &reorder[next_deliver % reorder.size()]; *slot;
         slot = &reorder[next_deliver % reorder.size()]) {
      ready_run.push_back(std::move(*slot));
      ++next_deliver;
    }
    if (ready_run.empty()) break;
    lock.unlock();
    for (auto& ready : ready_run) deliver(std::move(ready));
    ready_run.clear();
    lock.lock();
  }
  delivering = false;
}

// The request's token goes back before its callback runs, so a client that submits again as soon as it has
// a result (closed-loop load, on_full: fail) never finds the pipeline full; `outstanding` keeps wait_idle()
// waiting until the callback has returned.
void Pipeline::State::deliver(RequestPtr request) {
  Result result{std::move(request->sample), std::move(request->error)};
  std::optional<ResultCallback> done(std::move(request->done));
  request.reset();
  in_flight.fetch_sub(1, std::memory_order_relaxed);
  tokens->release();
  try {
    (*done)(std::move(result));
  } catch (...) {
    // A throwing user callback must not take a pipeline thread down with it; the result was handed over.
  }
  done.reset();  // what the callback holds is released before wait_idle() can return
  if (outstanding.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    { std::lock_guard lock(idle_mutex); }  // a wait_idle() between its check and its wait sees the notify
    idle_cv.notify_all();
  }
}

void Pipeline::State::stop_workers() {
  for (auto& stage : stages) stage->queue.close();
  for (auto& t : threads)
    if (t.joinable()) t.join();
}

Pipeline::Pipeline(PipelineOptions options, std::vector<StageSpec> stages, const Topology& topology)
    : state_(std::make_unique<State>()) {
  if (stages.empty()) throw std::invalid_argument("pipeline '" + options.name + "' has no stages");
  if (options.max_in_flight == 0)
    throw std::invalid_argument("pipeline '" + options.name +
                                "' admits no requests: at least one request must be allowed in flight");
  if (options.priority_aging.count() < 0)
    throw std::invalid_argument("pipeline '" + options.name + "': priority_aging must not be negative, got " +
                                std::to_string(options.priority_aging.count()) + " ms");
  for (const auto& stage : stages)
    if (!stage.factory) throw std::invalid_argument("stage '" + stage.name + "' has no operator");
  auto placement = allocate_cores(stages, topology);

  State& st = *state_;
  st.options = std::move(options);
  st.placement = placement;
  st.tokens = std::make_unique<AdmissionTokens>(st.options.max_in_flight);
  st.reorder.resize(st.options.max_in_flight);
  // Past a century of aging every priority level outranks any wait; capped so it fits in nanoseconds.
  const std::chrono::nanoseconds aging =
      std::min(st.options.priority_aging, std::chrono::milliseconds(std::chrono::hours(24 * 365 * 100)));
  for (std::size_t s = 0; s < stages.size(); ++s) {
    std::size_t capacity = stages[s].queue_capacity ? stages[s].queue_capacity : st.options.queue_capacity;
    // Every request in the first queue holds a token, so it never holds more than max_in_flight: sized for
    // that, admission waits only for tokens and a request with a token never waits for room.
    if (s == 0) capacity = std::max(capacity, st.options.max_in_flight);
    std::vector<int> batch_sizes;
    try {
      batch_sizes = stages[s].batch.run_sizes();
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("stage '" + stages[s].name + "': " + e.what());
    }
    st.stages.push_back(std::make_unique<Stage>(std::move(stages[s]), std::move(batch_sizes), placement[s], s,
                                                capacity, aging));
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
          return "stage '" + st.stages[s]->spec.name + "': cannot start worker " + std::to_string(w) +
                 " of " + std::to_string(st.stages[s]->placement.size()) + ": " + e.what();
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

bool Pipeline::State::admit(Sample sample, ResultCallback done,
                            std::optional<std::chrono::nanoseconds> wait) {
  const auto closed = [&] { return PipelineClosedError("pipeline '" + options.name + "' is shut down"); };
  sample.stage_times.assign(stages.size(), StageTimes{});
  sample.submitted = Clock::now();
  sample.stage_times[0].enqueued = sample.submitted;
  switch (tokens->acquire(wait)) {
    case AdmissionTokens::Outcome::kClosed:
      throw closed();
    case AdmissionTokens::Outcome::kTimedOut:
      return false;
    case AdmissionTokens::Outcome::kAcquired:
      break;
  }
  auto request = std::make_unique<Request>();
  request->done = std::move(done);
  request->sample_id = sample.id;
  request->sample = std::move(sample);
  {
    std::lock_guard lock(registry_mutex);
    if (!accepting) {  // shutdown began after this thread got its token
      tokens->release();
      throw closed();
    }
    request->seq = next_seq++;
    request->next = unfinished;
    if (unfinished) unfinished->prev = request.get();
    unfinished = request.get();
    in_flight.fetch_add(1, std::memory_order_relaxed);
    outstanding.fetch_add(1, std::memory_order_relaxed);
  }
  // The queue has room for every token holder and stays open while one is outstanding (shutdown waits for
  // none before closing it), so this only fails if that invariant breaks; the request still gets its result.
  if (!stages.front()->queue.push(request)) {
    request->error = RequestError{RequestError::Kind::kCancelled, "", "pipeline closed"};
    finish(std::move(request));
  }
  return true;
}

void Pipeline::submit(Sample sample, ResultCallback on_done) {
  State& st = *state_;
  if (st.options.on_full == FullPolicy::kBlock) {
    st.admit(std::move(sample), std::move(on_done), std::nullopt);
    return;
  }
  if (!st.admit(std::move(sample), std::move(on_done), std::chrono::nanoseconds::zero()))
    throw PipelineFullError("pipeline '" + st.options.name + "' is full: all " +
                            std::to_string(st.options.max_in_flight) +
                            " admission tokens are held by requests in flight");
}

std::future<Result> Pipeline::submit(Sample sample) {
  auto [on_done, future] = promised_result();
  submit(std::move(sample), std::move(on_done));
  return std::move(future);
}

bool Pipeline::try_submit(Sample sample, ResultCallback on_done, std::chrono::milliseconds wait) {
  return state_->admit(std::move(sample), std::move(on_done),
                       std::max(wait, std::chrono::milliseconds::zero()));
}

std::optional<std::future<Result>> Pipeline::try_submit(Sample sample, std::chrono::milliseconds wait) {
  auto [on_done, future] = promised_result();
  if (!try_submit(std::move(sample), std::move(on_done), wait)) return std::nullopt;
  return std::move(future);
}

bool Pipeline::cancel(uint64_t sample_id) {
  State& st = *state_;
  std::lock_guard lock(st.registry_mutex);
  bool any = false;
  for (Request* r = st.unfinished; r; r = r->next)
    if (r->sample_id == sample_id && !r->cancelled.load(std::memory_order_relaxed)) {
      r->cancelled.store(true, std::memory_order_relaxed);
      any = true;
    }
  return any;
}

void Pipeline::wait_idle() {
  State& st = *state_;
  std::unique_lock lock(st.idle_mutex);
  st.idle_cv.wait(lock, [&] { return st.outstanding.load(std::memory_order_acquire) == 0; });
}

void Pipeline::shutdown(ShutdownMode mode) {
  State& st = *state_;
  std::lock_guard guard(st.shutdown_mutex);
  if (st.shut_down) return;
  {
    std::lock_guard lock(st.registry_mutex);
    st.accepting = false;
  }
  st.tokens->close();
  if (mode == ShutdownMode::kCancel) st.cancelling = true;
  for (auto& stage : st.stages) stage->queue.stop_waiting();  // batches forming run with what they hold
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
  m.in_flight = st.in_flight.load(std::memory_order_relaxed);
  m.throughput_rps =
      m.elapsed_seconds > 0 ? static_cast<double>(m.completed + m.failed) / m.elapsed_seconds : 0;
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
    for (std::size_t i = 0; i < stage->spec.members.size(); ++i) {
      MemberMetrics member;
      member.name = stage->spec.members[i];
      LatencyHistogram member_service;
      uint64_t member_busy_ns = 0;
      for (const auto& stats : stage->stats) {
        member_busy_ns += stats->members[i]->busy_ns.load(std::memory_order_relaxed);
        stats->members[i]->service.merge_into(member_service);
      }
      member.busy_seconds = static_cast<double>(member_busy_ns) * 1e-9;
      member.service = member_service.summary();
      sm.members.push_back(std::move(member));
    }
    if (stage->spec.batch.batches()) {
      sm.batches_by_size.assign(static_cast<std::size_t>(stage->spec.batch.max_size) + 1, 0);
      LatencyHistogram batch_wait;
      for (const auto& stats : stage->stats) {
        for (std::size_t size = 0; size < sm.batches_by_size.size(); ++size)
          sm.batches_by_size[size] += stats->batches_by_size[size].load(std::memory_order_relaxed);
        stats->batch_wait.merge_into(batch_wait);
        sm.batches_retried += stats->batches_retried.load(std::memory_order_relaxed);
        std::lock_guard lock(stats->failure_mutex);
        if (!stats->last_batch_failure.empty()) sm.last_batch_failure = stats->last_batch_failure;
      }
      sm.batch_wait = batch_wait.summary();
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

const PipelineOptions& Pipeline::options() const {
  return state_->options;
}
const std::vector<std::vector<WorkerPlacement>>& Pipeline::placement() const {
  return state_->placement;
}
std::size_t Pipeline::stage_count() const {
  return state_->stages.size();
}

}  // namespace conveyor
