#pragma once
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/runtime/pipeline.hpp"
#include "conveyor/runtime/timeline.hpp"

namespace conveyor {

// A pipeline file as Runtime::start started it: the running Pipeline, the config it runs (split stages
// expanded, the plan applied) and what it has observed for the profile history. It keeps what it uses of
// the Runtime that started it (topology, profile store) alive: the Runtime may be destroyed first.
class RunningPipeline {
 public:
  ~RunningPipeline();  // drains what is in flight
  RunningPipeline(const RunningPipeline&) = delete;
  RunningPipeline& operator=(const RunningPipeline&) = delete;

  Pipeline& pipeline();
  const Pipeline& pipeline() const;
  const PipelineConfig& config() const;
  const std::optional<plan::Plan>& plan() const;  // plan: auto's choice
  // What a request gives (the inputs no stage writes) and what the last stage writes, as the operators
  // say; a server's model metadata.
  const OperatorSignature& signature() const;
  // Every tensor or text some stage writes, in stage order (what a client may ask a result for); empty
  // when a stage's operator does not say what it reads and writes.
  const std::optional<std::vector<TensorSignature>>& stage_outputs() const;

  // Pipeline::submit / try_submit, with each result recorded for the history before `on_done` (or the
  // future, or a ResultQueue's callback) sees it.
  void submit(Sample sample, ResultCallback on_done);
  std::future<Result> submit(Sample sample);
  bool try_submit(Sample sample, ResultCallback on_done, std::chrono::milliseconds wait = {});
  std::optional<std::future<Result>> try_submit(Sample sample, std::chrono::milliseconds wait = {});
  bool cancel(uint64_t sample_id);  // Pipeline::cancel
  // Records a result of a request submitted through pipeline() directly (a load generator's), for the
  // history and the timeline. Thread-safe.
  void record(const Result& result);
  // What the recorded requests did over time (StartOptions::timeline_requests of them at most); nothing
  // when the pipeline was started without keeping one.
  std::optional<Timeline> timeline() const;

  // Appends what was recorded (each stage's service times at the thread count it ran with, the requests'
  // arrival times) to the runtime's profile store, and forgets it: a later call adds only what came after.
  // Returns a summary: a warning line for each stage the store could not take, then one line of what was
  // added.
  std::string save_history();

  struct State;
  explicit RunningPipeline(std::unique_ptr<State> state);

 private:
  ResultCallback recording(ResultCallback on_done);  // on_done, after adding the result to the history
  std::unique_ptr<State> state_;
};

}  // namespace conveyor
