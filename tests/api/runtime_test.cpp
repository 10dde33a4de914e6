// The Runtime facade: what every client (CLI, server, a user's program) calls. plan: auto and split: are
// honoured as the CLI honours them, histories land in the runtime's own profile store, and the running
// pipeline's admission calls record what they deliver.
#include "conveyor/api/runtime.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "conveyor/api/errors.hpp"
#include "conveyor/graph/zoo.hpp"
#include "conveyor/runtime/result_queue.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

class RuntimeFacade : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_runtime_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    RuntimeOptions options;
    options.profile_dir = dir_ / "profiles";
    options.segment_cache_dir = dir_ / "segments";
    options.on_note = [this](const std::string& note) { notes_.push_back(note); };
    runtime_ = std::make_unique<Runtime>(options);
  }
  void TearDown() override {
    runtime_.reset();
    fs::remove_all(dir_);
  }

  static Sample scores_sample(uint64_t id) {
    Sample s;
    s.id = id;
    s.tensors["logits"] = Tensor::from<float>({4}, std::vector<float>{1, 2, 3, static_cast<float>(id)});
    return s;
  }

  // softmax -> argmax on 4 logits: light stages every machine can run, unpinned unless `plan` says otherwise.
  PipelineConfig scores_pipeline(const std::string& plan) const {
    return runtime_->parse("name: scores\nplan: " + plan +
                               "\nstages:\n"
                               "  - name: softmax\n    op: post.softmax\n    cores: none\n"
                               "  - name: argmax\n    op: post.argmax\n    cores: none\n",
                           dir_ / "scores.yaml");
  }

  fs::path dir_;
  std::vector<std::string> notes_;
  std::unique_ptr<Runtime> runtime_;
};

TEST_F(RuntimeFacade, PlanWithoutProfilesNamesTheStagesThatNeedThem) {
  try {
    runtime_->plan(scores_pipeline("manual"));
    FAIL() << "planning without profiles must fail";
  } catch (const MissingProfilesError& error) {
    EXPECT_EQ(error.stages(), (std::vector<std::string>{"softmax", "argmax"}));
    EXPECT_EQ(error.pipeline_file(), (dir_ / "scores.yaml").string());
  }
}

TEST_F(RuntimeFacade, PlanAutoProfilesWhatIsMissingPlansAndRuns) {
  StartOptions start;
  for (uint64_t i = 0; i < 4; ++i) start.profiling_inputs.push_back(scores_sample(i));
  const std::unique_ptr<RunningPipeline> running = runtime_->start(scores_pipeline("auto"), start);
  ASSERT_TRUE(running->plan().has_value());
  EXPECT_GT(running->plan()->throughput_rps, 0);
  int profiled = 0;
  for (const auto& note : notes_) profiled += note.find("has no stored profile") != std::string::npos;
  EXPECT_EQ(profiled, 2) << "each stage is profiled once";
  // The plan's layout is what runs: every stage pinned to cores the plan chose.
  for (const StageConfig& stage : running->config().stages) EXPECT_EQ(stage.cores.kind, CoreSpec::Kind::kIds);

  const Result result = running->submit(scores_sample(9)).get();
  ASSERT_TRUE(result.ok()) << result.error->describe();
  EXPECT_EQ(result.sample.at("class").data<int64_t>()[0], 3);  // logit 9 is the largest
  // What plan: auto measured is stored: planning the same file now needs nothing more.
  EXPECT_NO_THROW(runtime_->plan(scores_pipeline("manual")));
}

TEST_F(RuntimeFacade, PlanAutoPlansAServersFrontEndAsTheFirstStage) {
  StartOptions start;
  for (uint64_t i = 0; i < 4; ++i) start.profiling_inputs.push_back(scores_sample(i));
  plan::StageProfile front_end;
  front_end.by_threads[1] = plan::ServiceTime::deterministic(50e-6);
  start.front_end = front_end;
  const std::unique_ptr<RunningPipeline> running = runtime_->start(scores_pipeline("auto"), start);
  ASSERT_TRUE(running->plan().has_value());
  const plan::StagePlan& first = running->plan()->stages.front();
  EXPECT_EQ(first.members.front(), kFrontEndStage);
  EXPECT_FALSE(first.cores().empty());
  // The pipeline runs its own stages only, laid out as planned.
  ASSERT_EQ(running->config().stages.size(), 2u);
  EXPECT_EQ(running->config().stages[0].name, "softmax");
  EXPECT_FALSE(running->config().stages[0].with_previous);
  EXPECT_TRUE(running->submit(scores_sample(1)).get().ok());

  // A stage may not take the front end's name.
  PipelineConfig clash = runtime_->parse(
      "name: clash\nplan: auto\nstages:\n  - name: front end\n    op: post.softmax\n    cores: none\n",
      dir_ / "clash.yaml");
  EXPECT_THROW(runtime_->start(clash, start), std::invalid_argument);
}

TEST_F(RuntimeFacade, HistoryOfARunLandsInTheRuntimesStore) {
  const std::unique_ptr<RunningPipeline> running = runtime_->start(scores_pipeline("manual"));
  for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(running->submit(scores_sample(i)).get().ok());
  running->pipeline().shutdown();
  const std::string summary = running->save_history();
  EXPECT_NE(summary.find("8 arrivals"), std::string::npos) << summary;
  const PipelineConfig config = runtime_->expand(scores_pipeline("manual"));
  const auto stored = runtime_->stored_profile(config, config.stages[0], 1);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->count(), 8u);
  EXPECT_EQ(runtime_->profiles().arrivals("scores").size(), 8u);
}

TEST_F(RuntimeFacade, SplitStagesRunAsSegmentsAndMatchTheWholeModel) {
  const fs::path model = dir_ / "tinycnn.onnx";
  zoo::write("tinycnn", zoo::ZooOptions{.seed = 3, .image_size = 32}, model.string());
  const auto yaml = [&](const std::string& split) {
    return runtime_->parse("stages:\n  - name: cnn\n    op: onnx\n    cores: none\n    threads: 1\n" + split +
                               "    args: {path: " + model.string() + "}\n",
                           dir_ / "cnn.yaml");
  };
  Sample input;
  input.tensors["input"] = Tensor(DType::kFloat32, {1, 3, 32, 32});
  for (int64_t i = 0; i < 3 * 32 * 32; ++i) input.tensors["input"].data<float>()[i] = std::sin(0.01f * i);

  const std::unique_ptr<RunningPipeline> whole = runtime_->start(yaml(""));
  const Result expected = whole->submit(input).get();
  ASSERT_TRUE(expected.ok()) << expected.error->describe();

  const std::unique_ptr<RunningPipeline> split = runtime_->start(yaml("    split: 2\n"));
  ASSERT_EQ(split->pipeline().stage_count(), 2u);
  EXPECT_EQ(split->config().stages[0].name, "cnn.0");
  EXPECT_EQ(split->config().stages[1].name, "cnn.1");
  const Result got = split->submit(input).get();
  ASSERT_TRUE(got.ok()) << got.error->describe();
  const Tensor& a = expected.sample.at("logits");
  const Tensor& b = got.sample.at("logits");
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.data<float>()[i], b.data<float>()[i]) << i;
}

TEST_F(RuntimeFacade, StartSaysWhichSegmentCountSplitAutoChose) {
  const fs::path model = dir_ / "tinycnn.onnx";
  zoo::write("tinycnn", zoo::ZooOptions{.seed = 3, .image_size = 32}, model.string());
  const PipelineConfig config = runtime_->parse(
      "stages:\n  - {name: cnn, op: onnx, cores: none, threads: 1, split: auto, args: {path: " +
          model.string() + "}}\n",
      dir_ / "cnn.yaml");
  const std::unique_ptr<RunningPipeline> running = runtime_->start(config);
  ASSERT_EQ(running->config().auto_splits.size(), 1u);
  const std::string& summary = running->config().auto_splits[0].summary;
  EXPECT_EQ(
      summary.rfind(
          "cnn: split: auto chose " + std::to_string(running->pipeline().stage_count()) + " segment", 0),
      0u)
      << summary;
  EXPECT_NE(std::find(notes_.begin(), notes_.end(), summary), notes_.end()) << "said at start-up";
}

TEST_F(RuntimeFacade, TrySubmitCancelAndAResultQueueRecordWhatTheyDeliver) {
  const std::unique_ptr<RunningPipeline> running = runtime_->start(scores_pipeline("manual"));
  ResultQueue queue;
  for (uint64_t i = 0; i < 5; ++i)
    ASSERT_TRUE(running->try_submit(scores_sample(i), queue.callback(), std::chrono::seconds(10)));
  std::set<uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    const std::optional<Result> result = queue.next(std::chrono::seconds(30));
    ASSERT_TRUE(result.has_value());
    EXPECT_TRUE(result->ok());
    ids.insert(result->sample.id);
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_FALSE(running->cancel(2)) << "a delivered request cannot be cancelled";
  running->pipeline().shutdown();
  EXPECT_NE(running->save_history().find("5 arrivals"), std::string::npos);
}

TEST_F(RuntimeFacade, UnpipelinedRunsEveryStageOnOneWorker) {
  const std::unique_ptr<RunningPipeline> baseline =
      runtime_->start_unpipelined(scores_pipeline("manual"), "all");
  EXPECT_EQ(baseline->pipeline().stage_count(), 1u);
  const Result result = baseline->submit(scores_sample(7)).get();
  ASSERT_TRUE(result.ok()) << result.error->describe();
  EXPECT_EQ(result.sample.at("class").data<int64_t>()[0], 3);
}

TEST_F(RuntimeFacade, LoadModelCompilesAndRunsOneModel) {
  const fs::path model = dir_ / "mlp.onnx";
  zoo::write("mlp", zoo::ZooOptions{.seed = 1}, model.string());
  ModelOptions options;
  options.threads = 1;
  Model loaded = runtime_->load_model(model, options);
  ASSERT_EQ(loaded.inputs().size(), 1u);
  std::map<std::string, Tensor> inputs{
      {loaded.inputs()[0].name, Tensor(loaded.inputs()[0].dtype, loaded.inputs()[0].shape)}};
  const auto outputs = loaded.run(inputs);
  ASSERT_EQ(outputs.size(), loaded.outputs().size());
  EXPECT_EQ(outputs.at(loaded.outputs()[0].name).shape(), loaded.outputs()[0].shape);
  EXPECT_EQ(loaded.threads(), 1);
}

TEST_F(RuntimeFacade, APipelineOutlivesTheRuntimeThatStartedIt) {
  std::unique_ptr<RunningPipeline> running = runtime_->start(scores_pipeline("manual"));
  runtime_.reset();
  ASSERT_TRUE(running->submit(scores_sample(1)).get().ok());
  running->pipeline().shutdown();
  EXPECT_NE(running->save_history().find("1 arrivals"), std::string::npos);
}

TEST(CoreBudget, WholeCoresThenNewIdsBeyondTheMachine) {
  const Topology smt = Topology::synthetic("package:1 core:2 pu:2");  // cores {0,1} and {2,3}
  EXPECT_EQ(core_budget(1, smt), (std::vector<int>{0, 1}));
  EXPECT_EQ(core_budget(2, smt), (std::vector<int>{0, 1, 2, 3}));
  const std::vector<int> what_if = core_budget(4, smt);  // two more cores than the machine has
  EXPECT_EQ(what_if, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(smt.cores_of(what_if).size(), 4u);
  EXPECT_THROW(core_budget(0, smt), std::invalid_argument);
}

TEST_F(RuntimeFacade, PlanAutoWithoutInputsNamesTheStagesWithoutProfiles) {
  EXPECT_THROW(runtime_->start(scores_pipeline("auto")), MissingProfilesError);
}

TEST_F(RuntimeFacade, UnpipelinedHistoryStoresEachStagesOwnTime) {
  const std::unique_ptr<RunningPipeline> baseline =
      runtime_->start_unpipelined(scores_pipeline("manual"), "all");
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(baseline->submit(scores_sample(i)).get().ok());
  baseline->pipeline().shutdown();
  EXPECT_NE(baseline->save_history().find("of 2 stage(s)"), std::string::npos);
  const PipelineConfig config = runtime_->expand(scores_pipeline("manual"));
  for (const StageConfig& stage : config.stages) {
    const int threads = runtime_->topology().thread_count();
    const auto stored = runtime_->stored_profile(config, stage, threads);
    ASSERT_TRUE(stored.has_value()) << stage.name;
    EXPECT_EQ(stored->count(), 3u) << stage.name;
  }
  EXPECT_NE(baseline->save_history().find("0 service times"), std::string::npos) << "saved once";
}

}  // namespace
}  // namespace conveyor
