#include "conveyor/runtime/load_generator.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "conveyor/runtime/exact_latency.hpp"

namespace conveyor {
namespace {

struct Tally {
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t outstanding = 0, finished = 0, errors = 0, rejected = 0;
  std::set<uint64_t> in_flight;  // sample ids, kept only when the load may be stopped (to cancel them)
  std::string first_error, first_rejection;
  LatencyHistogram latency;
  std::vector<uint64_t> exact;  // every measured latency, up to kMaxExactLatencies
};

constexpr std::chrono::milliseconds kStopPoll{50};  // how soon a stop request is seen while waiting

int stop_level(const LoadSpec& spec) {
  return spec.stop ? spec.stop->load(std::memory_order_relaxed) : 0;
}

// Waits for every admitted request's callback; a stop level of 2 cancels what is still in flight.
void wait_for_outstanding(Pipeline& pipeline, const LoadSpec& spec, Tally& tally) {
  if (spec.stop) {
    bool cancelled = false;
    std::unique_lock lock(tally.mutex);
    while (!tally.cv.wait_for(lock, kStopPoll, [&] { return tally.outstanding == 0; })) {
      if (cancelled || stop_level(spec) < 2) continue;
      const std::set<uint64_t> ids = tally.in_flight;
      lock.unlock();
      for (const uint64_t id : ids) pipeline.cancel(id);
      cancelled = true;
      lock.lock();
    }
  }
  pipeline.wait_idle();
}

// Offers `count` requests; false when LoadSpec::stop ended it first.
bool drive(Pipeline& pipeline, const LoadSpec& spec, uint64_t first, uint64_t count, bool measured,
           const std::function<Sample(uint64_t)>& make_sample, Tally& tally) {
  std::mt19937_64 rng(spec.seed + first);
  std::exponential_distribution<double> gap(spec.rate_rps.value_or(1.0));
  Clock::time_point next_arrival = Clock::now();
  const uint64_t progress_every = std::max<uint64_t>(1, count / 200);
  bool complete = true;
  for (uint64_t i = 0; i < count; ++i) {
    if (stop_level(spec) > 0) {
      complete = false;
      break;
    }
    Clock::time_point scheduled;
    if (spec.rate_rps) {
      next_arrival += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap(rng)));
      while (Clock::now() < next_arrival && stop_level(spec) == 0)
        std::this_thread::sleep_until(spec.stop ? std::min(next_arrival, Clock::now() + kStopPoll)
                                                : next_arrival);
      if (stop_level(spec) > 0) {
        complete = false;
        break;
      }
      scheduled = next_arrival;
    } else {
      std::unique_lock lock(tally.mutex);
      const auto has_room = [&] {
        return tally.outstanding < static_cast<uint64_t>(std::max(1, spec.concurrency));
      };
      if (spec.stop) {
        while (!tally.cv.wait_for(lock, kStopPoll, has_room) && stop_level(spec) == 0) {
        }
        if (!has_room()) {
          complete = false;
          break;
        }
      } else {
        tally.cv.wait(lock, has_room);
      }
      scheduled = Clock::now();
    }
    {
      std::lock_guard lock(tally.mutex);
      ++tally.outstanding;
    }
    uint64_t id = 0;
    try {
      Sample sample = make_sample(first + i);
      id = sample.id;
      if (spec.stop) {
        std::lock_guard lock(tally.mutex);
        tally.in_flight.insert(id);
      }
      pipeline.submit(std::move(sample), [&tally, &spec, scheduled, measured, id](Result&& result) {
        const auto nanos =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - scheduled).count();
        if (measured) tally.latency.record(static_cast<uint64_t>(nanos));
        if (measured && spec.on_result) spec.on_result(result);
        {
          std::lock_guard lock(tally.mutex);
          if (measured && tally.exact.size() < kMaxExactLatencies)
            tally.exact.push_back(static_cast<uint64_t>(nanos));
          --tally.outstanding;
          ++tally.finished;
          if (spec.stop) tally.in_flight.erase(id);
          if (!result.ok() && tally.errors++ == 0) tally.first_error = result.error->describe();
        }
        tally.cv.notify_all();
      });
    } catch (const PipelineFullError& e) {  // on_full: fail refused it: count it, keep offering load
      std::lock_guard lock(tally.mutex);
      --tally.outstanding;
      if (spec.stop) tally.in_flight.erase(id);
      if (tally.rejected++ == 0) tally.first_rejection = e.what();
    } catch (...) {
      // The admitted requests' callbacks hold references to this tally: wait_idle() returns once every
      // callback has returned.
      {
        std::lock_guard lock(tally.mutex);
        --tally.outstanding;
        if (spec.stop) tally.in_flight.erase(id);  // (an id make_sample never returned is in no set)
      }
      pipeline.wait_idle();
      throw;
    }
    if (spec.on_progress && measured && (i + 1) % progress_every == 0) spec.on_progress(i + 1, count);
  }
  wait_for_outstanding(pipeline, spec, tally);
  return complete;
}

}  // namespace

LoadResult run_load(Pipeline& pipeline, const LoadSpec& spec,
                    const std::function<Sample(uint64_t)>& make_sample) {
  if (spec.rate_rps && *spec.rate_rps <= 0) throw std::invalid_argument("rate must be > 0 requests/s");
  if (!spec.rate_rps && spec.concurrency < 1) throw std::invalid_argument("concurrency must be >= 1");
  bool complete = true;
  if (spec.warmup) {
    Tally warm;
    complete = drive(pipeline, spec, 0, spec.warmup, false, make_sample, warm);
  }
  pipeline.reset_metrics();
  Tally tally;
  tally.exact.reserve(
      std::min<std::size_t>(spec.requests, kMaxExactLatencies));  // no regrowth under the lock
  const Clock::time_point start = Clock::now();
  if (complete) complete = drive(pipeline, spec, spec.warmup, spec.requests, true, make_sample, tally);
  LoadResult result;
  result.stopped = !complete;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.pipeline = pipeline.metrics();
  result.requests = tally.finished;
  result.errors = tally.errors;
  result.first_error = tally.first_error;
  result.rejected = tally.rejected;
  result.first_rejection = tally.first_rejection;
  result.throughput_rps = result.seconds > 0 ? static_cast<double>(tally.finished) / result.seconds : 0;
  result.exact_latency = tally.exact.size() == tally.finished;
  result.latency = result.exact_latency ? exact_latency_summary(tally.exact) : tally.latency.summary();
  if (spec.on_progress && complete) spec.on_progress(spec.requests, spec.requests);
  return result;
}

}  // namespace conveyor
