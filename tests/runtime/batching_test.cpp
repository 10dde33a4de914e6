// Dynamic batching (BatchSpec): how a stage's worker forms batches, and that every request still ends once,
// in its own result, whatever happens to the batch it ran in.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "conveyor/runtime/pipeline.hpp"
#include "runtime/gate.hpp"
#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using testing::Gate;
using testing::sample_with_value;
using testing::value_of;

// Doubles x into y, one sample or a batch at a time, and logs what each run held. A negative x is bad input:
// process() rejects it, process_batch() fails the whole batch. With `hold_first`, the first run waits at the
// gate, so that a test can queue requests behind it.
struct BatchLog {
  std::mutex mutex;
  std::vector<std::vector<uint64_t>> runs;  // sample ids of each run, in order
  std::vector<std::vector<Shape>> shapes;   // x's shape in each sample of each run
  Gate gate;
  bool hold_first = false;
  std::atomic<int> started{0};
};

class DoublingOperator final : public Operator {
 public:
  explicit DoublingOperator(BatchLog& log) : log_(log) {}

  void process(Sample& sample) override {
    Sample* one[] = {&sample};
    log_run(one);
    if (value_of(sample) < 0) throw std::invalid_argument("x is negative");
    double_x(sample);
  }

  bool process_batch(std::span<Sample* const> samples) override {
    log_run(samples);
    for (const Sample* sample : samples)
      if (value_of(*sample) < 0) throw std::runtime_error("a sample in the batch is negative");
    for (Sample* sample : samples) double_x(*sample);
    return true;
  }

 private:
  void log_run(std::span<Sample* const> samples) {
    const bool first = log_.started.fetch_add(1) == 0;
    {
      std::lock_guard lock(log_.mutex);
      std::vector<uint64_t> ids;
      std::vector<Shape> shapes;
      for (const Sample* sample : samples) {
        ids.push_back(sample->id);
        shapes.push_back(sample->at("x").shape());
      }
      log_.runs.push_back(std::move(ids));
      log_.shapes.push_back(std::move(shapes));
    }
    if (first && log_.hold_first) log_.gate.pass();
  }

  static void double_x(Sample& sample) {
    const Tensor& x = sample.at("x");
    Tensor y(x.dtype(), x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) y.data<float>()[i] = 2 * x.data<float>()[i];
    sample.tensors["y"] = std::move(y);
  }

  BatchLog& log_;
};

StageSpec batching_stage(BatchLog& log, int max_size, std::chrono::microseconds max_delay,
                         std::vector<int> sizes = {}) {
  StageSpec spec;
  spec.name = "double";
  spec.factory = [&log](const WorkerContext&) { return std::make_unique<DoublingOperator>(log); };
  spec.signature.inputs = {TensorSignature{.name = "x"}};
  spec.cores.kind = CoreSpec::Kind::kUnpinned;
  spec.batch = BatchSpec{max_size, max_delay, std::move(sizes)};
  return spec;
}

std::vector<StageSpec> one_stage(StageSpec spec) {
  std::vector<StageSpec> stages;
  stages.push_back(std::move(spec));
  return stages;
}

// Submits `first`, waits until the stage runs it (held at the gate), then submits `queued`, which wait in
// the queue; opening the gate lets the worker take them all at once.
std::vector<std::future<Result>> queue_behind_first(Pipeline& pipeline, BatchLog& log, Sample first,
                                                    std::vector<Sample> queued) {
  std::vector<std::future<Result>> futures;
  futures.push_back(pipeline.submit(std::move(first)));
  log.gate.wait_for_arrivals(1);
  for (auto& sample : queued) futures.push_back(pipeline.submit(std::move(sample)));
  log.gate.open();
  return futures;
}

std::vector<Sample> samples_from(uint64_t first_id, int count) {
  std::vector<Sample> samples;
  for (int i = 0; i < count; ++i)
    samples.push_back(
        sample_with_value(first_id + static_cast<uint64_t>(i), static_cast<float>(first_id + i)));
  return samples;
}

TEST(BatchSpec, DefaultSizesArePowersOfTwoUpToMaxSize) {
  EXPECT_EQ((BatchSpec{6, {}, {}}.run_sizes()), (std::vector<int>{1, 2, 4, 6}));
  EXPECT_EQ((BatchSpec{8, {}, {}}.run_sizes()), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ((BatchSpec{1, {}, {}}.run_sizes()), (std::vector<int>{1}));
  EXPECT_EQ((BatchSpec{8, {}, {1, 8}}.run_sizes()), (std::vector<int>{1, 8}));
}

TEST(BatchSpec, SizesThatCannotServeEveryRequestAreRefused) {
  EXPECT_THROW((BatchSpec{8, {}, {2, 8}}.run_sizes()), std::invalid_argument);  // no 1
  EXPECT_THROW((BatchSpec{8, {}, {1, 4}}.run_sizes()), std::invalid_argument);  // not up to max_size
  EXPECT_THROW((BatchSpec{8, {}, {1, 4, 2, 8}}.run_sizes()), std::invalid_argument);
  EXPECT_THROW((BatchSpec{0, {}, {}}.run_sizes()), std::invalid_argument);
  StageSpec spec;
  spec.name = "bad";
  spec.factory = make_operator([](Sample&) {});
  spec.cores.kind = CoreSpec::Kind::kUnpinned;
  spec.batch = BatchSpec{4, {}, {1, 3}};
  try {
    Pipeline pipeline({}, one_stage(std::move(spec)));
    FAIL() << "a pipeline started with batch sizes that end below max_size";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("stage 'bad'"), std::string::npos) << e.what();
  }
}

TEST(Batching, AWorkerWaitsForMoreUntilItHoldsMaxSize) {
  BatchLog log;
  Pipeline pipeline({}, one_stage(batching_stage(log, 4, std::chrono::hours(1))));
  std::vector<std::future<Result>> futures;
  for (auto& sample : samples_from(0, 8)) futures.push_back(pipeline.submit(std::move(sample)));
  for (std::size_t i = 0; i < futures.size(); ++i) {
    Result r = futures[i].get();
    ASSERT_TRUE(r.ok()) << r.error->describe();
    EXPECT_EQ(r.sample.id, i);
    EXPECT_EQ(value_of(r.sample, "y"), 2.0f * static_cast<float>(i));
    EXPECT_EQ(r.sample.stage_times[0].batch, 4);
    EXPECT_EQ(r.sample.stage_times[0].batch_position, static_cast<int>(i % 4));
  }
  std::lock_guard lock(log.mutex);
  EXPECT_EQ(log.runs, (std::vector<std::vector<uint64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  const StageMetrics m = pipeline.metrics().stages[0];
  ASSERT_EQ(m.batches_by_size.size(), 5u);
  EXPECT_EQ(m.batches_by_size[4], 2u);
  EXPECT_EQ(m.items, 8u);
  EXPECT_EQ(m.batch_wait.count, 8u);
}

TEST(Batching, WhatItHoldsRunsInTheLargestSizesItMayForm) {
  BatchLog log;
  log.hold_first = true;
  Pipeline pipeline({}, one_stage(batching_stage(log, 8, std::chrono::microseconds(0))));
  auto futures = queue_behind_first(pipeline, log, sample_with_value(100, 1), samples_from(0, 7));
  for (auto& future : futures) ASSERT_TRUE(future.get().ok());
  std::lock_guard lock(log.mutex);
  ASSERT_EQ(log.runs.size(), 4u);  // the held one alone, then 7 = 4 + 2 + 1
  EXPECT_EQ(log.runs[1], (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(log.runs[2], (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(log.runs[3], (std::vector<uint64_t>{6}));
}

TEST(Batching, ListedSizesAreTheOnlyOnesRun) {
  BatchLog log;
  log.hold_first = true;
  Pipeline pipeline({}, one_stage(batching_stage(log, 6, std::chrono::microseconds(0), {1, 3, 6})));
  auto futures = queue_behind_first(pipeline, log, sample_with_value(100, 1), samples_from(0, 5));
  for (auto& future : futures) ASSERT_TRUE(future.get().ok());
  std::lock_guard lock(log.mutex);
  std::vector<std::size_t> sizes;
  for (const auto& run : log.runs) sizes.push_back(run.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 3, 1, 1}));  // 5 = 3 + 1 + 1
}

TEST(Batching, RequestsOfDifferentShapesAreNeverBatchedTogether) {
  BatchLog log;
  log.hold_first = true;
  Pipeline pipeline({}, one_stage(batching_stage(log, 8, std::chrono::microseconds(0))));
  std::vector<Sample> queued;
  for (uint64_t i = 0; i < 6; ++i) {
    Sample s;
    s.id = i;
    const int64_t width = i % 2 == 0 ? 1 : 3;
    s.tensors["x"] = Tensor(DType::kFloat32, {width});
    queued.push_back(std::move(s));
  }
  auto futures = queue_behind_first(pipeline, log, sample_with_value(100, 1), std::move(queued));
  for (auto& future : futures) ASSERT_TRUE(future.get().ok());
  std::lock_guard lock(log.mutex);
  std::set<uint64_t> seen;
  for (std::size_t r = 1; r < log.runs.size(); ++r) {
    for (const auto& shape : log.shapes[r]) EXPECT_EQ(shape, log.shapes[r].front()) << "run " << r;
    seen.insert(log.runs[r].begin(), log.runs[r].end());
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_EQ(log.runs[1], (std::vector<uint64_t>{0, 2}));  // each shape: 3 = 2 + 1, in the order taken
}

TEST(Batching, ABadRequestFailsAloneAndTheRestOfItsBatchSucceeds) {
  BatchLog log;
  log.hold_first = true;
  Pipeline pipeline({}, one_stage(batching_stage(log, 4, std::chrono::microseconds(0))));
  std::vector<Sample> queued = samples_from(10, 4);
  queued[2].at("x").data<float>()[0] = -1;  // request 12
  auto futures = queue_behind_first(pipeline, log, sample_with_value(100, 1), std::move(queued));
  std::vector<Result> results;
  for (auto& future : futures) results.push_back(future.get());
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].sample.id == 12) {
      ASSERT_FALSE(results[i].ok());
      EXPECT_TRUE(results[i].error->invalid_input);
      EXPECT_NE(results[i].error->message.find("x is negative"), std::string::npos);
    } else {
      ASSERT_TRUE(results[i].ok()) << results[i].error->describe();
      EXPECT_EQ(value_of(results[i].sample, "y"), 2 * value_of(results[i].sample, "x"));
    }
  }
  const StageMetrics m = pipeline.metrics().stages[0];
  EXPECT_EQ(m.batches_retried, 1u);
  EXPECT_NE(m.last_batch_failure.find("requests 10, 11, 12, 13"), std::string::npos) << m.last_batch_failure;
  EXPECT_EQ(m.errors, 1u);
  EXPECT_EQ(m.items, 5u);  // the held one, then each of the failed batch's four alone
}

TEST(Batching, HigherPriorityRequestsAreBatchedFirst) {
  BatchLog log;
  log.hold_first = true;
  Pipeline pipeline({}, one_stage(batching_stage(log, 3, std::chrono::microseconds(0))));
  std::vector<Sample> queued = samples_from(0, 6);
  for (std::size_t i = 3; i < 6; ++i) queued[i].priority = 5;
  auto futures = queue_behind_first(pipeline, log, sample_with_value(100, 1), std::move(queued));
  for (auto& future : futures) ASSERT_TRUE(future.get().ok());
  std::lock_guard lock(log.mutex);
  ASSERT_EQ(log.runs.size(), 3u);
  EXPECT_EQ(log.runs[1], (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(log.runs[2], (std::vector<uint64_t>{0, 1, 2}));
}

TEST(Batching, ARequestWhoseDeadlinePassedInTheQueueFailsAlone) {
  BatchLog log;
  log.hold_first = true;
  Pipeline pipeline({}, one_stage(batching_stage(log, 4, std::chrono::microseconds(0))));
  std::vector<Sample> queued = samples_from(0, 3);
  queued[1].deadline = Clock::now();  // passed by the time the worker takes it
  auto futures = queue_behind_first(pipeline, log, sample_with_value(100, 1), std::move(queued));
  futures.erase(futures.begin());
  EXPECT_TRUE(futures[0].get().ok());
  const Result late = futures[1].get();
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error->kind, RequestError::Kind::kDeadline);
  EXPECT_TRUE(futures[2].get().ok());
  std::lock_guard lock(log.mutex);
  EXPECT_EQ(log.runs.back(), (std::vector<uint64_t>{0, 2}));
}

TEST(Batching, WaitingForABatchStopsInTimeForTheEarliestDeadline) {
  BatchLog log;
  Pipeline pipeline({}, one_stage(batching_stage(log, 8, std::chrono::hours(1))));
  Sample sample = sample_with_value(1, 1);
  sample.deadline = Clock::now() + std::chrono::milliseconds(300);
  const Result r = pipeline.submit(std::move(sample)).get();  // an hour's max_delay must not hold it
  ASSERT_TRUE(r.ok()) << r.error->describe();
  EXPECT_EQ(r.sample.stage_times[0].batch, 1);
}

TEST(Batching, AWorkerWaitsAtLeastMaxDelayForMore) {
  BatchLog log;
  Pipeline pipeline({}, one_stage(batching_stage(log, 8, std::chrono::milliseconds(30))));
  const Result r = pipeline.submit(sample_with_value(1, 1)).get();
  ASSERT_TRUE(r.ok());
  const StageTimes& t = r.sample.stage_times[0];
  EXPECT_GE(t.started - t.taken, std::chrono::milliseconds(30));
  EXPECT_GE(pipeline.metrics().stages[0].batch_wait.max_ms, 29.0);  // a histogram bucket's error below 30
}

TEST(Batching, ShutdownWhileABatchFormsLosesAndRepeatsNothing) {
  for (const ShutdownMode mode : {ShutdownMode::kDrain, ShutdownMode::kCancel}) {
    BatchLog log;
    Pipeline pipeline({}, one_stage(batching_stage(log, 8, std::chrono::hours(1))));
    std::mutex mutex;
    std::multiset<uint64_t> delivered;
    std::atomic<int> succeeded{0};
    for (auto& sample : samples_from(0, 3))
      pipeline.submit(std::move(sample), [&](Result&& r) {
        std::lock_guard lock(mutex);
        delivered.insert(r.sample.id);
        if (r.ok()) ++succeeded;
      });
    pipeline.shutdown(mode);  // the worker holds them, waiting an hour for five more
    EXPECT_EQ(delivered, (std::multiset<uint64_t>{0, 1, 2}));
    if (mode == ShutdownMode::kDrain) EXPECT_EQ(succeeded.load(), 3);
  }
}

TEST(Batching, AnOperatorThatDoesNotBatchRunsEachRequestAlone) {
  std::atomic<int> runs{0};
  StageSpec spec = testing::unpinned_stage("plain", [&](Sample& s) {
    ++runs;
    s.tensors["y"] = s.at("x").clone();
  });
  spec.batch = BatchSpec{4, std::chrono::hours(1), {}};
  Pipeline pipeline({}, one_stage(std::move(spec)));
  std::vector<std::future<Result>> futures;
  for (auto& sample : samples_from(0, 8)) futures.push_back(pipeline.submit(std::move(sample)));
  for (auto& future : futures) EXPECT_TRUE(future.get().ok());
  EXPECT_EQ(runs.load(), 8);
  EXPECT_EQ(pipeline.metrics().stages[0].batches_by_size[1], 8u);
}

}  // namespace
}  // namespace conveyor
