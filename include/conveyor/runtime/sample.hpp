#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/tensor/tensor.hpp"

namespace conveyor {

using Clock = std::chrono::steady_clock;

// When a sample entered a stage's queue, started and finished service there, and which of the stage's
// workers (0-based) served it; -1 while no worker has taken it (a stage it never reached). A sample run in a
// batch shares the batch's start and finish, and says the batch's size and its place in it.
struct StageTimes {
  Clock::time_point enqueued{};
  Clock::time_point started{};
  Clock::time_point finished{};
  int worker = -1;
  Clock::time_point taken{};  // a worker took it from the queue (a batching worker may then wait for more)
  int batch = 1;
  int batch_position = 0;
};

// One request as it flows through a pipeline: named tensors plus request metadata.
// Raw inputs (file bytes, UTF-8 text) travel as 1-D uint8 tensors; string results (labels) as `texts`.
struct Sample {
  uint64_t id = 0;
  int priority = 0;
  std::optional<Clock::time_point> deadline;
  std::string source;  // where the input came from (a file path), for reports
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::vector<std::string>> texts;
  std::vector<StageTimes> stage_times;  // one entry per stage, filled by the runtime
  // Stages that run several operators in turn (merge_stages): each operator's seconds, by the stage's name.
  std::map<std::string, std::vector<double>> member_seconds;
  Clock::time_point submitted{};

  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  // The named tensor, or an error naming it and listing what the sample holds.
  const Tensor& at(const std::string& name) const;
  Tensor& at(const std::string& name);
};

}  // namespace conveyor
