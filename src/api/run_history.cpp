#include "api/run_history.hpp"

#include <fmt/format.h>

#include "api/stage_profiles.hpp"
#include "conveyor/config/stage_runs.hpp"

namespace conveyor {

RunHistory::RunHistory()
    : steady_origin_(Clock::now()),
      unix_origin_s_(
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()) {}

void RunHistory::add(const Result& result) {
  if (!result.ok()) return;
  const auto& times = result.sample.stage_times;
  const double arrival =
      unix_origin_s_ + std::chrono::duration<double>(result.sample.submitted - steady_origin_).count();
  std::lock_guard lock(mutex_);
  arrivals_unix_s_.push_back(arrival);
  if (service_s_.size() < times.size()) service_s_.resize(times.size());  // one per stage as it runs
  // A request that ran in a batch of several took the batch's time: kept once per batch, by its size.
  if (batch_s_.size() < times.size()) batch_s_.resize(times.size());
  for (std::size_t s = 0; s < times.size(); ++s) {
    if (!(times[s].finished > times[s].started)) continue;
    const double seconds = std::chrono::duration<double>(times[s].finished - times[s].started).count();
    if (times[s].batch == 1)
      service_s_[s].push_back(seconds);
    else if (times[s].batch_position == 0)
      batch_s_[s][times[s].batch].push_back(seconds);
  }
  for (const auto& [stage, seconds] : result.sample.member_seconds) {
    auto& members = member_s_[stage];
    if (members.size() < seconds.size()) members.resize(seconds.size());
    for (std::size_t m = 0; m < seconds.size(); ++m) members[m].push_back(seconds[m]);
  }
}

std::string RunHistory::save(const PipelineConfig& config, const PipelineMetrics& metrics,
                             plan::ProfileStore& store, const std::string& cpu_model,
                             bool arrivals_are_demand) {
  std::lock_guard lock(mutex_);
  std::size_t recorded = 0, samples = 0;
  // A stage whose profile cannot be updated (a corrupt file, say) is skipped with a warning; the other
  // stages and the arrivals are still recorded.
  std::string warnings;
  const auto warn = [&](const std::string& what, const std::exception& error) {
    warnings += fmt::format("warning: {} not added to the profile history: {}\n", what, error.what());
  };
  const auto runs = stage_runs(config);
  for (std::size_t s = 0; s < service_s_.size() && s < runs.size(); ++s) {
    const int threads = s < metrics.stages.size() ? std::max(1, metrics.stages[s].threads_per_worker) : 1;
    // A merged run: each member's own times, as its operator recorded them.
    std::vector<const std::vector<double>*> times{&service_s_[s]};
    if (runs[s].size() > 1) {
      const auto members =
          s < metrics.stages.size() ? member_s_.find(metrics.stages[s].name) : member_s_.end();
      if (members == member_s_.end() || members->second.size() != runs[s].size()) continue;
      times.clear();
      for (const auto& member : members->second) times.push_back(&member);
    }
    for (std::size_t m = 0; m < runs[s].size(); ++m) {
      if (times[m]->empty()) continue;
      const StageConfig& stage = config.stages[runs[s][m]];
      try {
        store.record(stage_identity(config, stage), stage.name, threads, *times[m], cpu_model);
        ++recorded;
        samples += times[m]->size();
      } catch (const std::exception& error) {
        warn(fmt::format("stage '{}':", stage.name), error);
      }
    }
  }
  std::size_t batch_runs = 0;
  for (std::size_t s = 0; s < batch_s_.size() && s < runs.size(); ++s) {
    if (runs[s].size() != 1) continue;  // a merged run does not batch
    const StageConfig& stage = config.stages[runs[s][0]];
    const int threads = s < metrics.stages.size() ? std::max(1, metrics.stages[s].threads_per_worker) : 1;
    for (const auto& [size, seconds] : batch_s_[s]) try {
        store.record(plan::batch_identity(stage_identity(config, stage), size), stage.name, threads, seconds,
                     cpu_model);
        batch_runs += seconds.size();
      } catch (const std::exception& error) {
        warn(fmt::format("stage '{}' (batches of {}):", stage.name, size), error);
      }
  }
  std::size_t arrivals = 0;
  try {
    if (arrivals_are_demand) store.record_arrivals(config.name, arrivals_unix_s_);
    arrivals = arrivals_unix_s_.size();
  } catch (const std::exception& error) {
    warn("the arrival times were", error);
  }
  service_s_.clear();  // saved (or refused): a later save adds only what came after
  batch_s_.clear();
  member_s_.clear();
  arrivals_unix_s_.clear();
  const std::string batches = batch_runs ? fmt::format(" and {} batch runs", batch_runs) : "";
  if (!arrivals_are_demand)
    return warnings + fmt::format(
                          "history: {} service times of {} stage(s){} added to {} ({} generated arrivals: "
                          "not demand, not kept)",
                          samples, recorded, batches, store.dir().string(), arrivals);
  return warnings + fmt::format("history: {} service times of {} stage(s){} and {} arrivals added to {}",
                                samples, recorded, batches, arrivals, store.dir().string());
}

}  // namespace conveyor
