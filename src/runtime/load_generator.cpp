#include "conveyor/runtime/load_generator.hpp"

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

namespace conveyor {
namespace {

struct Tally {
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t outstanding = 0, finished = 0, errors = 0, rejected = 0;
  std::string first_error, first_rejection;
  LatencyHistogram latency;
};

void drive(Pipeline& pipeline, const LoadSpec& spec, uint64_t first, uint64_t count, bool measured,
           const std::function<Sample(uint64_t)>& make_sample, Tally& tally) {
  std::mt19937_64 rng(spec.seed + first);
  std::exponential_distribution<double> gap(spec.rate_rps.value_or(1.0));
  Clock::time_point next_arrival = Clock::now();
  const uint64_t progress_every = std::max<uint64_t>(1, count / 200);
  for (uint64_t i = 0; i < count; ++i) {
    Clock::time_point scheduled;
    if (spec.rate_rps) {
      next_arrival += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap(rng)));
      std::this_thread::sleep_until(next_arrival);
      scheduled = next_arrival;
    } else {
      std::unique_lock lock(tally.mutex);
      tally.cv.wait(lock, [&] { return tally.outstanding < static_cast<uint64_t>(std::max(1, spec.concurrency)); });
      scheduled = Clock::now();
    }
    {
      std::lock_guard lock(tally.mutex);
      ++tally.outstanding;
    }
    try {
      pipeline.submit(make_sample(first + i), [&tally, &spec, scheduled, measured](Result&& result) {
        const auto nanos =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - scheduled).count();
        if (measured) tally.latency.record(static_cast<uint64_t>(nanos));
        if (measured && spec.on_result) spec.on_result(result);
        {
          std::lock_guard lock(tally.mutex);
          --tally.outstanding;
          ++tally.finished;
          if (!result.ok() && tally.errors++ == 0) tally.first_error = result.error->describe();
        }
        tally.cv.notify_all();
      });
    } catch (const PipelineFullError& e) {  // on_full: fail refused it: count it, keep offering load
      std::lock_guard lock(tally.mutex);
      --tally.outstanding;
      if (tally.rejected++ == 0) tally.first_rejection = e.what();
    } catch (...) {
      // The admitted requests' callbacks hold references to this tally: wait_idle() returns once every
      // callback has returned.
      {
        std::lock_guard lock(tally.mutex);
        --tally.outstanding;
      }
      pipeline.wait_idle();
      throw;
    }
    if (spec.on_progress && measured && (i + 1) % progress_every == 0) spec.on_progress(i + 1, count);
  }
  pipeline.wait_idle();
}

}  // namespace

LoadResult run_load(Pipeline& pipeline, const LoadSpec& spec, const std::function<Sample(uint64_t)>& make_sample) {
  if (spec.rate_rps && *spec.rate_rps <= 0) throw std::invalid_argument("rate must be > 0 requests/s");
  if (!spec.rate_rps && spec.concurrency < 1) throw std::invalid_argument("concurrency must be >= 1");
  if (spec.warmup) {
    Tally warm;
    drive(pipeline, spec, 0, spec.warmup, false, make_sample, warm);
  }
  pipeline.reset_metrics();
  Tally tally;
  const Clock::time_point start = Clock::now();
  drive(pipeline, spec, spec.warmup, spec.requests, true, make_sample, tally);
  LoadResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.pipeline = pipeline.metrics();
  result.requests = tally.finished;
  result.errors = tally.errors;
  result.first_error = tally.first_error;
  result.rejected = tally.rejected;
  result.first_rejection = tally.first_rejection;
  result.throughput_rps = result.seconds > 0 ? static_cast<double>(tally.finished) / result.seconds : 0;
  result.latency = tally.latency.summary();
  if (spec.on_progress) spec.on_progress(spec.requests, spec.requests);
  return result;
}

}  // namespace conveyor
