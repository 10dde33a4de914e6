#include "conveyor/runtime/timeline.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace conveyor {
namespace {

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

struct Step {
  Clock::time_point at;
  int delta;
};

// The running sum of `steps`, one point per distinct time.
std::vector<TimelinePoint> running_sum(const Timeline& timeline, std::vector<Step> steps) {
  const Clock::time_point origin = timeline.origin();
  std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.at < b.at; });
  std::vector<TimelinePoint> points;
  int value = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    value += steps[i].delta;
    if (i + 1 < steps.size() && steps[i + 1].at == steps[i].at) continue;
    points.push_back({seconds_between(origin, steps[i].at), value});
  }
  return points;
}

// The bin of [0, span_s) that time `seconds` falls in, clamped to the last.
std::size_t bin_of(double seconds, std::size_t bins, double span_s) {
  if (seconds <= 0 || span_s <= 0) return 0;
  return std::min(bins - 1, static_cast<std::size_t>(seconds / span_s * static_cast<double>(bins)));
}

void check_bins(std::size_t bins) {
  if (bins == 0) throw std::invalid_argument("a timeline series needs at least one bin");
}

}  // namespace

int TimelineRequest::last_served() const {
  for (std::size_t s = stages.size(); s-- > 0;)
    if (stages[s].worker >= 0) return static_cast<int>(s);
  return -1;
}

Clock::time_point Timeline::origin() const {
  if (requests.empty()) return Clock::time_point{};
  Clock::time_point first = requests.front().submitted;
  for (const auto& r : requests) first = std::min(first, r.submitted);
  return first;
}

double Timeline::span_seconds() const {
  const Clock::time_point first = origin();
  Clock::time_point last = first;
  for (const auto& r : requests)
    if (const int s = r.last_served(); s >= 0)
      last = std::max(last, r.stages[static_cast<std::size_t>(s)].finished);
  return seconds_between(first, last);
}

std::vector<TimelinePoint> queue_depth_series(const Timeline& timeline, std::size_t stage) {
  std::vector<Step> steps;
  for (const auto& r : timeline.requests)
    if (r.served(stage)) {
      steps.push_back({r.stages[stage].enqueued, +1});
      steps.push_back({r.stages[stage].started, -1});
    }
  return running_sum(timeline, std::move(steps));
}

std::vector<TimelinePoint> in_flight_series(const Timeline& timeline) {
  std::vector<Step> steps;
  for (const auto& r : timeline.requests)
    if (const int s = r.last_served(); s >= 0) {
      steps.push_back({r.submitted, +1});
      steps.push_back({r.stages[static_cast<std::size_t>(s)].finished, -1});
    }
  return running_sum(timeline, std::move(steps));
}

std::vector<double> busy_fractions(const Timeline& timeline, std::size_t stage, std::size_t bins,
                                   double span_s) {
  check_bins(bins);
  std::vector<double> busy(bins, 0.0);
  if (!(span_s > 0) || stage >= timeline.stages.size()) return busy;
  const Clock::time_point origin = timeline.origin();
  const double width = span_s / static_cast<double>(bins);
  for (const auto& r : timeline.requests) {
    if (!r.served(stage)) continue;
    const double from = seconds_between(origin, r.stages[stage].started);
    const double to = seconds_between(origin, r.stages[stage].finished);
    // The part of [from, to] inside each bin it crosses.
    for (std::size_t b = bin_of(from, bins, span_s); b < bins; ++b) {
      const double lo = static_cast<double>(b) * width, hi = lo + width;
      if (lo >= to) break;
      busy[b] += std::max(0.0, std::min(to, hi) - std::max(from, lo));
    }
  }
  const double capacity = width * std::max(1, timeline.stages[stage].workers);
  for (double& b : busy) b = std::min(1.0, b / capacity);
  return busy;
}

std::vector<double> mean_over_bins(const std::vector<TimelinePoint>& series, std::size_t bins,
                                   double span_s) {
  check_bins(bins);
  std::vector<double> mean(bins, 0.0);
  if (!(span_s > 0)) return mean;
  const double width = span_s / static_cast<double>(bins);
  // Each step holds its value from its point to the next one (the last: to the end of the span).
  for (std::size_t i = 0; i < series.size(); ++i) {
    const double from = std::max(0.0, series[i].seconds);
    const double to = i + 1 < series.size() ? std::min(span_s, series[i + 1].seconds) : span_s;
    if (to <= from || series[i].value == 0) continue;
    for (std::size_t b = bin_of(from, bins, span_s); b < bins; ++b) {
      const double lo = static_cast<double>(b) * width, hi = lo + width;
      if (lo >= to) break;
      mean[b] += series[i].value * std::max(0.0, std::min(to, hi) - std::max(from, lo));
    }
  }
  for (double& m : mean) m /= width;
  return mean;
}

std::vector<uint64_t> finished_counts(const Timeline& timeline, std::size_t bins, double span_s) {
  check_bins(bins);
  std::vector<uint64_t> counts(bins, 0);
  const Clock::time_point origin = timeline.origin();
  for (const auto& r : timeline.requests)
    if (const int s = r.last_served(); s >= 0)
      ++counts[bin_of(seconds_between(origin, r.stages[static_cast<std::size_t>(s)].finished), bins, span_s)];
  return counts;
}

std::vector<double> latencies_ms(const Timeline& timeline) {
  std::vector<double> ms;
  for (const auto& r : timeline.requests)
    if (r.ok() && !r.stages.empty() && r.served(r.stages.size() - 1))
      ms.push_back(std::chrono::duration<double, std::milli>(r.stages.back().finished - r.submitted).count());
  std::sort(ms.begin(), ms.end());
  return ms;
}

TimelineRecorder::TimelineRecorder(std::string pipeline, std::vector<TimelineStage> stages,
                                   std::size_t max_requests) {
  timeline_.pipeline = std::move(pipeline);
  timeline_.stages = std::move(stages);
  timeline_.max_requests = max_requests;
}

namespace {
std::vector<TimelineStage> stages_of(const Pipeline& pipeline) {
  std::vector<TimelineStage> stages;
  for (const auto& s : pipeline.metrics().stages) stages.push_back({s.name, s.workers});
  return stages;
}
}  // namespace

TimelineRecorder::TimelineRecorder(const Pipeline& pipeline, std::size_t max_requests)
    : TimelineRecorder(pipeline.options().name, stages_of(pipeline), max_requests) {}

void TimelineRecorder::record(const Result& result) {
  std::lock_guard lock(mutex_);
  if (timeline_.requests.size() >= timeline_.max_requests) {
    ++timeline_.dropped;
    return;
  }
  TimelineRequest r;
  r.id = result.sample.id;
  r.source = result.sample.source;
  r.submitted = result.sample.submitted;
  r.stages = result.sample.stage_times;
  r.stages.resize(
      timeline_.stages.size());  // a result that skipped the runtime (none there) reached no stage
  if (result.error) {
    r.error = result.error->describe();
    if (r.error.empty()) r.error = "failed";  // an error without words is still a failure
  }
  timeline_.requests.push_back(std::move(r));
}

Timeline TimelineRecorder::timeline() const {
  std::lock_guard lock(mutex_);
  return timeline_;
}

}  // namespace conveyor
