// `split:` on onnx stages: expansion into segment stages cut from one shared import in memory, and results
// bitwise equal to the whole model run through the same pipeline.
#include "api/split_stages.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "config/config_test_support.hpp"
#include "conveyor/engine/fused_chains.hpp"
#include "conveyor/graph/extract_segment.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/graph/partition.hpp"
#include "conveyor/graph/zoo.hpp"
#include "conveyor/ops/registry.hpp"
#include "conveyor/ops/shared_model_graph.hpp"
#include "conveyor/plan/choose_split.hpp"
#include "conveyor/runtime/pipeline.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;
using test::line_containing;

class SplitStage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_split_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    options_.cache_dir = dir_ / "cache";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes the zoo model at image size 64 once per test and returns its path.
  fs::path model(const std::string& name) {
    const fs::path path = dir_ / (name + ".onnx");
    if (!fs::exists(path)) zoo::write(name, zoo::ZooOptions{.image_size = 64}, path.string());
    return path;
  }

  // One onnx stage on `model`, reading sample tensor "pixels" and writing "scores".
  std::string pipeline_yaml(const fs::path& model_path, const std::string& split_line) {
    const Graph graph = load_onnx(model_path.string());
    input_name_ = graph.value(graph.inputs.at(0)).name;
    output_name_ = graph.value(graph.outputs.at(0)).name;
    return "stages:\n"
           "  - name: model\n"
           "    op: onnx\n"
           "    cores: none\n"
           "    threads: 1\n" +
           split_line +
           "    args:\n"
           "      path: " +
           model_path.string() +
           "\n"
           "      inputs: {" +
           input_name_ +
           ": pixels}\n"
           "      outputs: {" +
           output_name_ + ": scores}\n";
  }

  PipelineConfig parse(const std::string& yaml) {
    return parse_pipeline_config(yaml, dir_ / "pipeline.yaml");
  }

  // Runs `config` (expanded) on `input` as tensor "pixels" and returns tensor "scores".
  Tensor run(const PipelineConfig& config, const Tensor& input) {
    const PipelineConfig expanded = expand_splits(config, options_);
    Pipeline pipeline(expanded.options, build_stage_specs(expanded, builtin_operators()));
    Sample sample;
    sample.tensors["pixels"] = input;
    Result result = pipeline.submit(std::move(sample)).get();
    pipeline.shutdown();
    if (!result.ok()) {
      ADD_FAILURE() << result.error->describe();
      return Tensor();
    }
    return result.sample.at("scores");
  }

  static Tensor random_image(int size) {
    Tensor t(DType::kFloat32, Shape{1, 3, size, size});
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = normal(rng);
    return t;
  }

  fs::path dir_;
  SplitOptions options_;
  std::string input_name_, output_name_;
};

// The model tensors bounding a segment stage, as its `segment` arg names them.
std::pair<std::vector<std::string>, std::vector<std::string>> bounds(const StageConfig& stage) {
  const auto strings = [](const OpArgs& list) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < list.size(); ++i) out.push_back(list.at(i).as_string());
    return out;
  };
  const OpArgs segment = stage.args.at("segment");
  return {strings(segment.at("inputs")), strings(segment.at("outputs"))};
}

TEST_F(SplitStage, ExpandsIntoNamedSegmentStagesWithTheStageSettingsOnTheSameModel) {
  const fs::path path = model("tinycnn");
  const std::string yaml =
      "stages:\n"
      "  - name: model\n"
      "    op: onnx\n"
      "    workers: 2\n"
      "    cores: 1\n"
      "    threads: 1\n"
      "    queue_capacity: 3\n"
      "    split: 3\n"
      "    args: {path: " +
      path.string() +
      "}\n"
      "  - name: after\n"
      "    op: onnx\n"
      "    cores: none\n"
      "    args: {path: " +
      path.string() + "}\n";
  const PipelineConfig expanded = expand_splits(parse(yaml), options_);
  ASSERT_EQ(expanded.stages.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    const StageConfig& s = expanded.stages[static_cast<std::size_t>(i)];
    EXPECT_EQ(s.name, "model." + std::to_string(i));
    EXPECT_EQ(s.op, "onnx");
    EXPECT_EQ(s.workers, 2);
    EXPECT_EQ(s.cores.kind, CoreSpec::Kind::kCount);
    EXPECT_EQ(s.cores.per_worker, 1);
    EXPECT_EQ(s.threads, 1);
    EXPECT_EQ(s.queue_capacity, 3u);
    EXPECT_FALSE(s.split.has_value());
    EXPECT_EQ(s.args.at("path").as_string(), path.string());  // the model itself, no segment file
    ASSERT_TRUE(s.args.has("segment")) << s.args.to_json();
    const auto [inputs, outputs] = bounds(s);
    EXPECT_FALSE(inputs.empty());
    EXPECT_FALSE(outputs.empty());
    for (const std::string& name : inputs) EXPECT_TRUE(s.args.at("inputs").has(name)) << name;
    for (const std::string& name : outputs) EXPECT_TRUE(s.args.at("outputs").has(name)) << name;
  }
  EXPECT_EQ(expanded.stages[3].name, "after");
  EXPECT_FALSE(expanded.stages[3].split.has_value());
  // The cut tensors leaving one segment are what the next reads.
  const OpArgs first_outputs = expanded.stages[0].args.at("outputs");
  for (const auto& model_name : first_outputs.keys())
    EXPECT_EQ(model_name, first_outputs.at(model_name).as_string());
  // One segment's outputs are the next one's inputs.
  EXPECT_EQ(bounds(expanded.stages[0]).second, bounds(expanded.stages[1]).first);
  // A second expansion cuts the same places.
  const PipelineConfig again = expand_splits(parse(yaml), options_);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(again.stages[i].args, expanded.stages[i].args) << i;
  // Each segment's operator builds.
  EXPECT_NO_THROW(build_stage_specs(expanded, builtin_operators()));
}

TEST_F(SplitStage, WritesNoModelFileIntoTheCache) {
  const PipelineConfig expanded =
      expand_splits(parse(pipeline_yaml(model("tinycnn"), "    split: 3\n")), options_);
  ASSERT_EQ(expanded.stages.size(), 3u);
  ASSERT_TRUE(fs::exists(options_.cache_dir));  // the measured node costs are kept there
  for (const auto& entry : fs::recursive_directory_iterator(options_.cache_dir))
    EXPECT_NE(entry.path().extension(), ".onnx") << entry.path();
}

TEST_F(SplitStage, SegmentStagesOfOneModelShareOneImportedGraph) {
  const fs::path path = model("tinycnn");
  PipelineConfig config = parse(pipeline_yaml(path, "    workers: 2\n    split: 2\n"));
  const PipelineConfig expanded = expand_splits(config, options_);
  ASSERT_EQ(expanded.stages.size(), 2u);
  const std::size_t before = ops::model_graph_imports();
  std::vector<StageSpec> specs = build_stage_specs(expanded, builtin_operators());
  EXPECT_EQ(ops::model_graph_imports(), before + 1) << "both segment stages import the model once";
  // What the stages hold is the cache's graph: asking again imports nothing and gives the same object.
  const auto shared = ops::shared_model_graph(path, {});
  EXPECT_EQ(shared, ops::shared_model_graph(path, {}));
  EXPECT_EQ(ops::model_graph_imports(), before + 1);
  // Every worker compiles its own segment from it, and still nothing is imported again.
  for (const StageSpec& spec : specs)
    for (int w = 0; w < 2; ++w) EXPECT_NE(spec.factory(WorkerContext{}), nullptr);
  EXPECT_EQ(ops::model_graph_imports(), before + 1);
  // A file changed since is imported again.
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::hours(1));
  EXPECT_NE(ops::shared_model_graph(path, {}), shared);
  EXPECT_EQ(ops::model_graph_imports(), before + 2);
}

TEST_F(SplitStage, MoreSegmentsThanNodesIsAnErrorAtTheSplitLine) {
  const std::string yaml = pipeline_yaml(model("tinycnn"), "    split: 100000\n");
  try {
    expand_splits(parse(yaml), options_);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.line(), line_containing(yaml, "split:"));
    EXPECT_EQ(error.key(), "stages[0].split");
  }
}

TEST_F(SplitStage, AMissingModelIsAnErrorAtThePathLine) {
  const std::string yaml =
      "stages:\n"
      "  - name: model\n"
      "    op: onnx\n"
      "    split: 2\n"
      "    args:\n"
      "      path: no_such_model.onnx\n";
  try {
    expand_splits(parse(yaml), options_);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.line(), line_containing(yaml, "path:"));
    EXPECT_EQ(error.key(), "stages[0].args.path");
  }
}

TEST_F(SplitStage, AGeneratedNameTakenByAnotherStageIsAnError) {
  const fs::path path = model("tinycnn");
  const std::string yaml =
      "stages:\n"
      "  - {name: m, op: onnx, cores: none, split: 2, args: {path: " +
      path.string() +
      "}}\n"
      "  - {name: m.1, op: onnx, cores: none, args: {path: " +
      path.string() + "}}\n";
  EXPECT_THROW(expand_splits(parse(yaml), options_), ConfigError);
}

TEST_F(SplitStage, AutoPicksACountWithinTheCoresLeft) {
  const fs::path path = model("resnet18");
  const std::string yaml =
      "stages:\n"
      "  - {name: m, op: onnx, cores: 1, split: auto, args: {path: " +
      path.string() +
      "}}\n"
      "  - {name: other, op: onnx, cores: 2, args: {path: " +
      path.string() + "}}\n";
  const Topology eight = Topology::from_cpus({0, 1, 2, 3, 4, 5, 6, 7});
  options_.topology = &eight;
  const PipelineConfig expanded = expand_splits(parse(yaml), options_);
  const std::size_t segments = expanded.stages.size() - 1;
  EXPECT_GE(segments, 1u);
  EXPECT_LE(segments, 6u);  // 8 cores, 2 claimed by 'other', one per segment
  const Topology two = Topology::from_cpus({0, 1});
  options_.topology = &two;  // nothing left beyond 'other': one segment
  EXPECT_EQ(expand_splits(parse(yaml), options_).stages.size(), 2u);
}

TEST_F(SplitStage, AutoCutsNoFinerThanTheSlowestOtherStage) {
  const Graph graph = load_onnx(model("resnet18").string());
  const std::vector<double> cost = analytic_node_cost_ms(graph);
  PartitionOptions whole;
  const double one_stage_ms = partition_graph(graph, cost, whole).bottleneck_ms;
  EXPECT_EQ(plan::choose_auto_split(graph, cost, 8, 2 * one_stage_ms), 1);  // the rest is slower already
  EXPECT_EQ(plan::choose_auto_split(graph, cost, 8, 0), plan::choose_auto_split(graph, cost, 8));
  // A floor between the 1- and 2-segment bottlenecks: the second segment helps, a third cannot.
  whole.stages = 2;
  const double two_stage_ms = partition_graph(graph, cost, whole).bottleneck_ms;
  ASSERT_LT(two_stage_ms, 0.95 * one_stage_ms);
  EXPECT_EQ(plan::choose_auto_split(graph, cost, 8, two_stage_ms * 1.01), 2);

  // Through a pipeline file: the other stage's known time per item sets the floor.
  const std::string yaml =
      "stages:\n"
      "  - {name: m, op: onnx, cores: 1, split: auto, args: {path: " +
      model("resnet18").string() +
      "}}\n"
      "  - {name: slow, op: post.softmax, cores: 1}\n";
  const Topology eight = Topology::from_cpus({0, 1, 2, 3, 4, 5, 6, 7});
  options_.topology = &eight;
  options_.costs = SplitOptions::Costs::kAnalytic;
  options_.stage_ms["slow"] = 2 * one_stage_ms;
  EXPECT_EQ(expand_splits(parse(yaml), options_).stages.size(), 2u);  // one segment + slow
}

TEST_F(SplitStage, AutoRecordsWhichCountItChoseAndWhy) {
  const std::string yaml =
      "stages:\n"
      "  - {name: m, op: onnx, cores: 1, split: auto, args: {path: " +
      model("resnet18").string() + "}}\n";
  const Topology eight = Topology::from_cpus({0, 1, 2, 3, 4, 5, 6, 7});
  options_.topology = &eight;
  options_.costs = SplitOptions::Costs::kAnalytic;
  const PipelineConfig expanded = expand_splits(parse(yaml), options_);
  ASSERT_EQ(expanded.auto_splits.size(), 1u);
  const AutoSplitChoice& choice = expanded.auto_splits[0];
  EXPECT_EQ(choice.stage, "m");
  EXPECT_EQ(static_cast<std::size_t>(choice.segments), expanded.stages.size());
  EXPECT_EQ(choice.max_segments, 8);
  ASSERT_GE(choice.bottleneck_ms.size(), static_cast<std::size_t>(choice.segments));
  const std::string chose = "m: split: auto chose " + std::to_string(choice.segments) + " segment";
  EXPECT_EQ(choice.summary.rfind(chose, 0), 0u) << choice.summary;
  EXPECT_NE(choice.summary.find(fmt::format("bottleneck {:.{}f} ms", choice.bottleneck_ms.front(), choice.bottleneck_ms.front() < 10 ? 2 : 1)),
            std::string::npos)
      << choice.summary;

  // A fixed count chooses nothing.
  EXPECT_TRUE(
      expand_splits(parse(pipeline_yaml(model("tinycnn"), "    split: 2\n")), options_).auto_splits.empty());
}

TEST_F(SplitStage, OnlyTheFirstSegmentJoinsTheStageBefore) {
  // A plan may merge a split stage with the stage before it (apply_plan sets with_previous after parsing):
  // the first segment runs with that stage, the others stay stages of their own.
  PipelineConfig config =
      parse("stages:\n  - {name: pre, op: post.softmax, cores: none}\n" +
            pipeline_yaml(model("tinycnn"), "    split: 3\n").substr(std::string("stages:\n").size()));
  config.stages[1].with_previous = true;
  const PipelineConfig expanded = expand_splits(config, options_);
  ASSERT_EQ(expanded.stages.size(), 4u);
  EXPECT_TRUE(expanded.stages[1].with_previous);
  EXPECT_FALSE(expanded.stages[2].with_previous);
  EXPECT_FALSE(expanded.stages[3].with_previous);
}

TEST_F(SplitStage, MeasuredNodeCostsAreKeptAndReused) {
  const fs::path path = model("tinycnn");
  const std::string yaml = pipeline_yaml(path, "    split: 2\n");
  expand_splits(parse(yaml), options_);
  fs::path costs_file;
  for (const auto& entry : fs::directory_iterator(options_.cache_dir))
    if (entry.path().string().ends_with("-costs.json")) costs_file = entry.path();
  ASSERT_FALSE(costs_file.empty()) << "no measured costs kept in " << options_.cache_dir;
  const Graph graph = load_onnx(path.string());
  nlohmann::json stored = nlohmann::json::parse(std::ifstream(costs_file));
  ASSERT_EQ(stored["node_cost_ms"].size(), graph.nodes.size());
  for (const auto& ms : stored["node_cost_ms"]) EXPECT_GE(ms.get<double>(), 0.0);

  // Costs that put all the work in the first node: the kept file is what the cut follows, right after the
  // chain the engine fuses the first node into (a cut never splits one).
  std::vector<double> skewed(graph.nodes.size(), 0.001);
  skewed[0] = 1000;
  stored["node_cost_ms"] = skewed;
  std::ofstream(costs_file) << stored.dump();
  const PipelineConfig expanded = expand_splits(parse(yaml), options_);
  ASSERT_EQ(expanded.stages.size(), 2u);
  const auto [inputs, outputs] = bounds(expanded.stages[0]);
  std::size_t first_chain = 1;
  for (const auto& chain : fused_chains(graph))
    if (chain.front() == 0) first_chain = chain.size();
  EXPECT_GT(first_chain, 1u) << "tinycnn starts with a Conv and its Relu";
  EXPECT_EQ(extract_segment(graph, inputs, outputs).nodes.size(), first_chain);
}

void expect_bitwise_equal(const Tensor& split, const Tensor& whole, const std::string& what) {
  ASSERT_EQ(split.dtype(), whole.dtype()) << what;
  ASSERT_EQ(split.shape(), whole.shape()) << what;
  ASSERT_GT(whole.nbytes(), 0u);
  EXPECT_EQ(std::memcmp(split.data<float>(), whole.data<float>(), whole.nbytes()), 0) << what;
}

TEST_F(SplitStage, SegmentStagesGiveBitwiseTheWholeModelsResult) {
  for (const std::string name : {"tinycnn", "resnet18"}) {
    const fs::path path = model(name);
    const Tensor input = random_image(64);
    const Tensor whole = run(parse(pipeline_yaml(path, "")), input);
    for (int k : {1, 2, 3}) {
      const PipelineConfig config = parse(pipeline_yaml(path, "    split: " + std::to_string(k) + "\n"));
      ASSERT_EQ(expand_splits(config, options_).stages.size(), static_cast<std::size_t>(k));
      expect_bitwise_equal(run(config, input), whole, name + " split " + std::to_string(k));
    }
  }
}

}  // namespace
}  // namespace conveyor
