#pragma once
// What a pipeline's requests did over time (each stage's enqueue, start and finish, and the worker that
// served it), kept for a trace or a plot, and the series derived from it.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "conveyor/runtime/pipeline.hpp"
#include "conveyor/runtime/sample.hpp"

namespace conveyor {

struct TimelineStage {
  std::string name;
  int workers = 1;
};

struct TimelineRequest {
  uint64_t id = 0;     // the sample's id
  std::string source;  // the sample's input, when it has one
  Clock::time_point submitted{};
  std::vector<StageTimes> stages;  // as the runtime filled them; a stage it never reached has worker -1
  std::string error;               // RequestError::describe(); empty when it succeeded
  bool ok() const { return error.empty(); }
  bool served(std::size_t stage) const { return stage < stages.size() && stages[stage].worker >= 0; }
  // The last stage that served it (it failed there, or finished there), or -1 when none did.
  int last_served() const;
};

struct Timeline {
  std::string pipeline;
  std::vector<TimelineStage> stages;
  std::vector<TimelineRequest> requests;  // in the order their results arrived
  std::size_t max_requests = 0;           // what the recorder kept at most
  uint64_t dropped = 0;                   // results that came after `max_requests` were kept

  Clock::time_point origin() const;  // the earliest submit kept (the clock's epoch when none)
  double span_seconds() const;       // from origin() to the last finish kept
};

// A step function: `value` from `seconds` (since the timeline's origin) until the next point.
struct TimelinePoint {
  double seconds = 0;
  int value = 0;
};

// Requests waiting in stage `stage`'s queue: +1 when one entered it, -1 when a worker took it. Only
// requests a worker took count, so the series ends at 0.
std::vector<TimelinePoint> queue_depth_series(const Timeline& timeline, std::size_t stage);
// Requests between their submit and the end of the last stage that served them.
std::vector<TimelinePoint> in_flight_series(const Timeline& timeline);
// The fraction of stage `stage`'s worker time spent serving, in each of `bins` equal intervals from the
// origin to `span_s`.
std::vector<double> busy_fractions(const Timeline& timeline, std::size_t stage, std::size_t bins,
                                   double span_s);
// The time-weighted mean of a step function in each of `bins` equal intervals from 0 to `span_s` (the
// value before its first point is 0).
std::vector<double> mean_over_bins(const std::vector<TimelinePoint>& series, std::size_t bins, double span_s);
// Requests that finished (with or without an error) in each of `bins` equal intervals up to `span_s`.
std::vector<uint64_t> finished_counts(const Timeline& timeline, std::size_t bins, double span_s);
// Each successful request's submit to its last stage's finish, in milliseconds, sorted.
std::vector<double> latencies_ms(const Timeline& timeline);

// Collects results into a Timeline, the first `max_requests` of them (memory stays bounded on a long run;
// the rest are counted as dropped). record() is called from result callbacks: thread-safe, and it copies
// only times and a few strings.
class TimelineRecorder {
 public:
  static constexpr std::size_t kDefaultMaxRequests = 10000;

  TimelineRecorder(std::string pipeline, std::vector<TimelineStage> stages,
                   std::size_t max_requests = kDefaultMaxRequests);
  // The pipeline's name, stage names and worker counts.
  explicit TimelineRecorder(const Pipeline& pipeline, std::size_t max_requests = kDefaultMaxRequests);

  void record(const Result& result);
  Timeline timeline() const;  // a copy of what was kept so far

 private:
  mutable std::mutex mutex_;
  Timeline timeline_;
};

}  // namespace conveyor
