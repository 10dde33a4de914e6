// Batching through the Runtime facade: profiles per batch size, batch: auto planned and applied, the history
// of batched runs, and a model that cannot batch said so.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "conveyor/api/runtime.hpp"
#include "conveyor/graph/zoo.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

class RuntimeBatching : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_batching_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    zoo::write("mlp", zoo::ZooOptions{.seed = 2, .dynamic_batch = true},
               (dir_ / "mlp_dynamic.onnx").string());
    zoo::write("mlp", zoo::ZooOptions{.seed = 2}, (dir_ / "mlp_fixed.onnx").string());
    RuntimeOptions options;
    options.profile_dir = dir_ / "profiles";
    options.on_note = [this](const std::string& note) { notes_.push_back(note); };
    runtime_ = std::make_unique<Runtime>(options);
  }
  void TearDown() override {
    runtime_.reset();
    fs::remove_all(dir_);
  }

  // The model (unpinned, so any machine runs it) with `batch` as its stage's batch: line.
  PipelineConfig pipeline(const std::string& model, const std::string& batch,
                          const std::string& plan = "manual") {
    return runtime_->parse("name: mlp\nplan: " + plan + "\nstages:\n  - name: model\n    op: onnx\n" +
                               (plan == "manual" ? "    cores: none\n" : "") + "    batch: " + batch +
                               "\n    args: {path: " + model + "}\n",
                           dir_ / "mlp.yaml");
  }

  static Sample input(uint64_t id) {
    std::mt19937 rng(static_cast<unsigned>(id));
    std::normal_distribution<float> normal;
    Sample sample;
    sample.id = id;
    Tensor x(DType::kFloat32, {1, 64});
    for (float& v : x.values<float>()) v = normal(rng);
    sample.tensors["input"] = std::move(x);
    return sample;
  }

  bool noted(const std::string& text) const {
    for (const auto& note : notes_)
      if (note.find(text) != std::string::npos) return true;
    return false;
  }

  fs::path dir_;
  std::vector<std::string> notes_;
  std::unique_ptr<Runtime> runtime_;
};

TEST_F(RuntimeBatching, ProfileMeasuresEveryBatchSizeTheStageRuns) {
  const PipelineConfig config = pipeline("mlp_dynamic.onnx", "{max_size: 4}");
  ProfileOptions options;
  options.threads = {1};
  options.run.requests = 40;
  options.run.pin = false;
  const auto runs = runtime_->profile(config, {input(0), input(1)}, options);
  std::vector<int> batches;
  for (const auto& run : runs) batches.push_back(run.batch);
  EXPECT_EQ(batches, (std::vector<int>{1, 2, 4}));
  for (const auto& run : runs) EXPECT_GT(run.measurement.service.size(), 0u) << "batch " << run.batch;
  // Each size is its own profile: planning sees them all.
  const plan::Plan plan = runtime_->plan(config);
  EXPECT_EQ(plan.stages[0].batch.max_size, 4);
}

TEST_F(RuntimeBatching, PlanAutoWithBatchAutoStartsWithTheBatchItChose) {
  StartOptions start;
  for (uint64_t i = 0; i < 4; ++i) start.profiling_inputs.push_back(input(i));
  start.load.concurrency = 32;
  const auto running = runtime_->start(pipeline("mlp_dynamic.onnx", "auto", "auto"), start);
  ASSERT_TRUE(running->plan().has_value());
  const BatchSpec chosen = running->plan()->stages.front().batch;
  EXPECT_EQ(running->config().stages[0].batch.max_size, chosen.max_size);
  bool explained = false;
  for (const auto& note : running->plan()->notes)
    explained = explained || note.find("batch: auto chose") != std::string::npos;
  EXPECT_TRUE(explained);
  // Whatever it chose, every request gets its own answer.
  std::vector<std::future<Result>> futures;
  for (uint64_t i = 0; i < 16; ++i) futures.push_back(running->submit(input(i)));
  for (auto& future : futures) {
    const Result r = future.get();
    ASSERT_TRUE(r.ok()) << r.error->describe();
    EXPECT_EQ(r.sample.at("logits").shape(), (Shape{1, 10}));
  }
}

TEST_F(RuntimeBatching, BatchedRunsAreKeptInTheHistoryByBatchSize) {
  const PipelineConfig config = pipeline("mlp_dynamic.onnx", "{max_size: 4, max_delay_ms: 1000}");
  const auto running = runtime_->start(config);
  std::vector<std::future<Result>> futures;
  for (uint64_t i = 0; i < 8; ++i) futures.push_back(running->submit(input(i)));
  for (auto& future : futures) ASSERT_TRUE(future.get().ok());
  running->pipeline().shutdown();
  EXPECT_EQ(running->pipeline().metrics().stages[0].batches_by_size[4], 2u);
  const std::string summary = running->save_history();
  EXPECT_NE(summary.find("2 batch runs"), std::string::npos) << summary;
  const PipelineConfig expanded = runtime_->expand(config);
  EXPECT_FALSE(runtime_->stored_profile(expanded, expanded.stages[0], 1).has_value())
      << "a request run in a batch is not a one-request service time";
  const auto batches = runtime_->profiles().lookup(
      plan::batch_identity({"onnx", expanded.stages[0].args, expanded.base_dir}, 4), 1,
      runtime_->topology().cpu_model());
  ASSERT_TRUE(batches.has_value());
  EXPECT_EQ(batches->count(), 2u);
}

TEST_F(RuntimeBatching, AModelWithAFixedBatchRunsUnbatchedAndSaysWhy) {
  const auto running = runtime_->start(pipeline("mlp_fixed.onnx", "{max_size: 4, max_delay_ms: 1000}"));
  EXPECT_TRUE(noted("stage 'model': not batched: the model's input 'input' has a fixed batch of 1"))
      << notes_.size();
  EXPECT_TRUE(running->submit(input(1)).get().ok());  // no hour-long wait for company: it does not batch
  EXPECT_TRUE(running->pipeline().metrics().stages[0].batches_by_size.empty());
}

TEST_F(RuntimeBatching, SimulateRunsTheStageInBatchesWithTheirStoredTimes) {
  const PipelineConfig config = runtime_->expand(pipeline("mlp_dynamic.onnx", "{max_size: 4, max_delay_ms: 1}"));
  const plan::StageIdentity identity{"onnx", config.stages[0].args, config.base_dir};
  const std::string cpu = runtime_->topology().cpu_model();
  runtime_->profiles().record(identity, "model", 1, std::vector<double>(50, 1e-3), cpu);
  SimulationOptions options;
  options.load.rate_rps = 1500;  // beyond one request at a time (1000/s); within batches of 4 (3333/s)
  options.requests = 4000;

  // Sizes 2 and 4 not yet measured: taken as that many single requests, and said so.
  const Simulation guessed = runtime_->simulate(config, options);
  ASSERT_EQ(guessed.notes.size(), 1u);
  EXPECT_NE(guessed.notes[0].find("batches of 2, 4 never measured at 1 thread"), std::string::npos)
      << guessed.notes[0];
  EXPECT_LT(guessed.simulated.throughput_rps, 1100);

  runtime_->profiles().record(plan::batch_identity(identity, 2), "model", 1, std::vector<double>(20, 1.1e-3),
                              cpu);
  runtime_->profiles().record(plan::batch_identity(identity, 4), "model", 1, std::vector<double>(20, 1.2e-3),
                              cpu);
  const Simulation measured = runtime_->simulate(config, options);
  EXPECT_TRUE(measured.notes.empty());
  ASSERT_EQ(measured.batches.size(), 1u);
  EXPECT_EQ(measured.batches[0].max_size, 4);
  EXPECT_NEAR(measured.simulated.throughput_rps, 1500, 100);
  EXPECT_GT(measured.simulated.stages[0].requests_per_run, 1.5);
  EXPECT_LE(measured.simulated.stages[0].requests_per_run, 4.0);
}

}  // namespace
}  // namespace conveyor
