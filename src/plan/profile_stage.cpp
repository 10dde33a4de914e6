#include "conveyor/plan/profile_stage.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <stdexcept>

#include "conveyor/runtime/pipeline.hpp"

namespace conveyor::plan {

namespace {

// The stage with one worker on `threads` hardware threads (and that many intra-op threads), placed as the
// planner places a worker of that many threads.
StageSpec alone_on(const StageSpec& stage, int threads, const ProfileRunOptions& options,
                   const Topology& topology) {
  if (threads < 1) throw std::invalid_argument("profile of stage '" + stage.name + "': threads must be >= 1");
  if (options.pin && threads > topology.thread_count())
    throw std::invalid_argument(
        "profile of stage '" + stage.name + "': " + std::to_string(threads) +
        " threads asked, the machine has " + std::to_string(topology.thread_count()) +
        (topology.thread_count() == topology.core_count() ? " cores" : " hardware threads"));
  StageSpec alone = stage;
  alone.workers = 1;
  alone.threads = threads;
  alone.batch = BatchSpec{};
  alone.cores = CoreSpec{};
  alone.cores.smt = stage.cores.smt;
  if (options.pin) {
    alone.cores.kind = CoreSpec::Kind::kCount;
    // On the fewest whole cores that hold them (one thread per core with smt off).
    const int per_core = alone.cores.smt ? topology.threads_per_core() : 1;
    alone.cores.per_worker = (threads + per_core - 1) / per_core;
  } else {
    alone.cores.kind = CoreSpec::Kind::kUnpinned;
  }
  return alone;
}

}  // namespace

StageMeasurement profile_stage_batches(const StageSpec& stage, int threads, int batch,
                                       const std::vector<Sample>& inputs, const ProfileRunOptions& options,
                                       const Topology& topology) {
  if (inputs.empty()) throw std::invalid_argument("profile of stage '" + stage.name + "': no inputs");
  if (batch < 2) throw std::invalid_argument("profile of stage '" + stage.name + "': batch must be >= 2");
  StageSpec alone = alone_on(stage, threads, options, topology);
  // Every batch's requests are submitted together: the worker has them all well before this delay.
  alone.batch = BatchSpec{batch, std::chrono::seconds(10), {1, batch}};
  PipelineOptions pipeline_options;
  pipeline_options.name = "profile-" + stage.name + "-batch-" + std::to_string(batch);
  pipeline_options.max_in_flight = static_cast<std::size_t>(batch);
  pipeline_options.queue_capacity = static_cast<std::size_t>(batch);
  std::vector<StageSpec> stages;
  stages.push_back(std::move(alone));
  Pipeline pipeline(pipeline_options, std::move(stages), topology);

  // About as many requests as one at a time would measure, in batches (and never fewer than 10 batches).
  const auto size = static_cast<uint64_t>(batch);
  const uint64_t warmup = std::max<uint64_t>(2, options.warmup / size);
  const uint64_t runs = std::max<uint64_t>(10, options.requests / size);
  StageMeasurement m;
  std::size_t next = 0;
  for (uint64_t run = 0; run < warmup + runs; ++run) {
    std::vector<std::future<Result>> futures;
    for (uint64_t k = 0; k < size; ++k) {
      Sample sample = inputs[next++ % inputs.size()];
      sample.id = run * size + k;
      futures.push_back(pipeline.submit(std::move(sample)));
    }
    for (auto& future : futures) {
      const Result result = future.get();
      if (!result.ok()) {
        if (m.errors++ == 0) m.first_error = result.error->describe();
        continue;
      }
      const StageTimes& times = result.sample.stage_times.at(0);
      if (run >= warmup && times.batch == batch && times.batch_position == 0)
        m.service.push_back(std::chrono::duration<double>(times.finished - times.started).count());
    }
  }
  pipeline.shutdown();
  if (m.service.empty())
    throw std::runtime_error(
        "profile of stage '" + stage.name + "': no batch of " + std::to_string(batch) + " ran" +
        (m.first_error.empty() ? " (the operator runs each request alone)" : " (" + m.first_error + ")"));
  return m;
}

StageMeasurement profile_stage(const StageSpec& stage, int threads, const std::vector<Sample>& inputs,
                               const ProfileRunOptions& options, const Topology& topology) {
  if (inputs.empty()) throw std::invalid_argument("profile of stage '" + stage.name + "': no inputs");
  StageSpec alone = alone_on(stage, threads, options, topology);
  PipelineOptions pipeline_options;
  pipeline_options.name = "profile-" + stage.name;
  pipeline_options.max_in_flight = 1;
  std::vector<StageSpec> stages;
  stages.push_back(std::move(alone));
  Pipeline pipeline(pipeline_options, std::move(stages), topology);

  StageMeasurement m;
  m.outputs.resize(inputs.size());
  std::vector<bool> have_output(inputs.size(), false);
  const uint64_t total = options.warmup + options.requests;
  for (uint64_t i = 0; i < total; ++i) {
    const std::size_t which = i % inputs.size();
    Sample sample = inputs[which];
    sample.id = i;
    Result result = pipeline.submit(std::move(sample)).get();
    if (!result.ok()) {
      if (m.errors++ == 0) m.first_error = result.error->describe();
      continue;
    }
    const StageTimes& times = result.sample.stage_times.at(0);
    if (i >= options.warmup)
      m.service.push_back(std::chrono::duration<double>(times.finished - times.started).count());
    if (!have_output[which]) {
      have_output[which] = true;
      result.sample.stage_times.clear();
      m.outputs[which] = std::move(result.sample);
    }
  }
  pipeline.shutdown();
  if (m.service.empty())
    throw std::runtime_error("profile of stage '" + stage.name + "': every request failed (" + m.first_error +
                             ")");
  // Inputs the stage failed on have no output; the next stage is profiled on the ones that worked.
  std::vector<Sample> outputs;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (have_output[i]) outputs.push_back(std::move(m.outputs[i]));
  m.outputs = std::move(outputs);
  return m;
}

}  // namespace conveyor::plan
