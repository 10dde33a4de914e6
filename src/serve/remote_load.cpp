#include "serve/remote_load.hpp"

#include <condition_variable>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "conveyor/runtime/exact_latency.hpp"

namespace conveyor::serve {
namespace {

// One phase (warmup or measured) of a load: what was sent and how each reply ended.
class Phase {
 public:
  Phase(KServeClient& client, const std::vector<PreparedHandle>& requests, const LoadSpec& spec,
        uint64_t first, uint64_t count, bool measured)
      : client_(client), requests_(requests), spec_(spec), first_(first), count_(count), measured_(measured) {
    if (measured) nanos_.reserve(count);
  }

  void run() {
    start_ = last_answer_ = Clock::now();
    if (count_ == 0) return;
    if (spec_.rate_rps) {
      std::mt19937_64 rng(spec_.seed + first_);
      std::exponential_distribution<double> gap(*spec_.rate_rps);
      Clock::time_point next_arrival = start_;
      for (uint64_t i = 0; i < count_; ++i) {
        next_arrival += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap(rng)));
        std::this_thread::sleep_until(next_arrival);
        send(i, next_arrival);
        if (measured_) report_progress(false);
      }
    } else {
      const uint64_t initial =
          std::min<uint64_t>(count_, static_cast<uint64_t>(std::max(1, spec_.concurrency)));
      {
        std::lock_guard lock(mutex_);
        sent_ = initial;
      }
      for (uint64_t i = 0; i < initial; ++i) send(i, Clock::now());
    }
    std::unique_lock lock(mutex_);
    while (answered_ < count_) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (measured_ && spec_.on_progress) {
        lock.unlock();
        report_progress(true);
        lock.lock();
      }
    }
  }

  LoadResult result() {
    LoadResult out;
    out.seconds = std::chrono::duration<double>(last_answer_ - start_).count();
    out.rejected = rejected_;
    out.requests = answered_ - rejected_;
    out.errors = errors_;
    out.first_error = first_error_;
    out.first_rejection = first_rejection_;
    out.throughput_rps = out.seconds > 0 ? static_cast<double>(out.requests) / out.seconds : 0;
    out.latency = exact_latency_summary(nanos_);
    return out;
  }

 private:
  void send(uint64_t i, Clock::time_point scheduled) {
    client_.infer(requests_[(first_ + i) % requests_.size()],
                  [this, scheduled](ClientReply&& reply) { answered(scheduled, std::move(reply)); });
  }

  // On the client's thread.
  void answered(Clock::time_point scheduled, ClientReply&& reply) {
    const Clock::time_point now = Clock::now();
    uint64_t next = 0;
    bool send_next = false;
    {
      std::lock_guard lock(mutex_);
      if (reply.kind == ClientReply::Kind::kRejected) {
        if (rejected_++ == 0) first_rejection_ = std::move(reply.message);
      } else {
        if (measured_)
          nanos_.push_back(static_cast<uint64_t>(
              std::chrono::duration_cast<std::chrono::nanoseconds>(now - scheduled).count()));
        if (reply.kind == ClientReply::Kind::kError && errors_++ == 0)
          first_error_ = std::move(reply.message);
      }
      last_answer_ = now;
      ++answered_;
      if (!spec_.rate_rps && sent_ < count_) {
        next = sent_++;
        send_next = true;
      }
      // Notified under the lock: once run() sees the last answer, this phase may be gone.
      if (answered_ == count_) cv_.notify_all();
    }
    if (send_next) send(next, Clock::now());
  }

  void report_progress(bool waiting) {
    if (!spec_.on_progress) return;
    uint64_t done = 0;
    {
      std::lock_guard lock(mutex_);
      done = answered_;
    }
    const Clock::time_point now = Clock::now();
    if (!waiting && now - last_progress_ < std::chrono::milliseconds(100)) return;
    last_progress_ = now;
    spec_.on_progress(done, count_);
  }

  KServeClient& client_;
  const std::vector<PreparedHandle>& requests_;
  const LoadSpec& spec_;
  const uint64_t first_, count_;
  const bool measured_;
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t sent_ = 0, answered_ = 0, errors_ = 0, rejected_ = 0;
  std::vector<uint64_t> nanos_;
  std::string first_error_, first_rejection_;
  Clock::time_point start_, last_answer_, last_progress_{};
};

}  // namespace

LoadResult run_remote_load(KServeClient& client, const std::vector<PreparedHandle>& requests,
                           const LoadSpec& spec, const std::function<void()>& after_warmup) {
  if (requests.empty()) throw std::invalid_argument("the load needs at least one request");
  if (spec.rate_rps && !(*spec.rate_rps > 0)) throw std::invalid_argument("rate must be > 0 requests/s");
  if (!spec.rate_rps && spec.concurrency < 1) throw std::invalid_argument("concurrency must be >= 1");
  if (spec.warmup) {
    Phase warmup(client, requests, spec, 0, spec.warmup, false);
    warmup.run();
  }
  if (after_warmup) after_warmup();
  Phase measured(client, requests, spec, spec.warmup, spec.requests, true);
  measured.run();
  LoadResult result = measured.result();
  if (spec.on_progress) spec.on_progress(spec.requests, spec.requests);
  return result;
}

}  // namespace conveyor::serve
