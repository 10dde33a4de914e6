#pragma once
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/profile_store.hpp"
#include "conveyor/runtime/pipeline.hpp"

namespace conveyor {

// What a `run` or `bench` observed, kept for the profile store: each stage's per-item service times and
// every request's arrival time. add() is called from result callbacks, so it only copies a few numbers.
class RunHistory {
 public:
  RunHistory();

  void add(const Result& result);  // thread-safe; failed requests are skipped

  // Appends each stage's service times at the thread count it ran with (from `metrics`) and, when they are
  // demand, the arrival times to `store`. Returns a summary for stderr: a warning line for each stage (or
  // the arrivals) the store could not take, then one line of what was added.
  std::string save(const PipelineConfig& config, const PipelineMetrics& metrics, plan::ProfileStore& store,
                   const std::string& cpu_model, bool arrivals_are_demand);

 private:
  std::mutex mutex_;
  std::vector<std::vector<double>> service_s_;                        // per stage
  std::vector<std::map<int, std::vector<double>>> batch_s_;           // per stage: batch runs by size
  std::map<std::string, std::vector<std::vector<double>>> member_s_;  // per merged stage: per member
  std::vector<double> arrivals_unix_s_;
  Clock::time_point steady_origin_;
  double unix_origin_s_ = 0;
};

}  // namespace conveyor
