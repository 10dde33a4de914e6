// End-to-end tests of `conveyor infer` and of the text classification example pipeline: zoo models written
// by the binary, inputs written as .npy here, outputs checked against the engine in-process and OpenCV DNN.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <numeric>
#include <set>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "cli/run_command.hpp"
#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/cost.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/graph/supported_ops.hpp"
#include "graph/zoo/zoo_model.hpp"
#include "conveyor/tensor/npy.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

using Output = testing::CommandOutput;

// stdout and stderr together
Output run_conveyor(const std::string& args) {
  return testing::run_command(std::string(CONVEYOR_BINARY) + " " + args + " 2>&1");
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

constexpr int kImageSize = 32;

class Infer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_infer_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // tinycnn written by the binary: input float32 [1, 3, 32, 32] -> logits float32 [1, 10].
  std::string write_tinycnn() {
    const std::string model = path("tinycnn.onnx");
    const Output out = run_conveyor("zoo tinycnn -o " + model + " --seed 7 --image-size " + std::to_string(kImageSize));
    EXPECT_EQ(out.status, 0) << out.text;
    return model;
  }

  static Tensor random_image(uint64_t seed, int size = kImageSize, DType dtype = DType::kFloat32) {
    cv::Mat values(1, 3 * size * size, CV_32F);
    cv::RNG(seed).fill(values, cv::RNG::NORMAL, 0.0, 1.0);
    Tensor image(dtype, {1, 3, size, size});
    for (int i = 0; i < values.cols; ++i) {
      if (dtype == DType::kFloat32)
        image.data<float>()[i] = values.at<float>(0, i);
      else
        image.data<double>()[i] = values.at<float>(0, i);
    }
    return image;
  }

  std::string write_input(const std::string& name, const Tensor& tensor) {
    write_npy(path(name), tensor);
    return path(name);
  }

  fs::path dir_;
};

std::vector<float> opencv_logits(const std::string& model, const Tensor& image) {
  cv::dnn::Net net = cv::dnn::readNetFromONNX(model);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  std::vector<int> dims(image.shape().begin(), image.shape().end());
  const cv::Mat blob(dims, CV_32F, const_cast<float*>(image.data<float>()));
  net.setInput(blob.clone());
  const cv::Mat result = net.forward();
  return std::vector<float>(result.ptr<float>(), result.ptr<float>() + result.total());
}

TEST_F(Infer, WritesOutputsThatMatchTheEngineInProcessAndOpenCvDnn) {
  const std::string model = write_tinycnn();
  const Tensor image = random_image(11);
  const std::string input = write_input("x.npy", image);
  const Output out =
      run_conveyor("infer " + model + " --input input=" + input + " --output " + path("out") + " --threads 1");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_TRUE(contains(out.text, "logits")) << out.text;
  EXPECT_TRUE(contains(out.text, "float32[1, 10]")) << out.text;

  const Tensor logits = read_npy(path("out/logits.npy"));
  ASSERT_EQ(logits.dtype(), DType::kFloat32);
  ASSERT_EQ(logits.shape(), (Shape{1, 10}));

  CompiledModel engine = CompiledModel::compile(load_onnx(model), {1});
  const Tensor expected = engine.run(std::map<std::string, Tensor>{{"input", image}}).at("logits");
  const std::vector<float> oracle = opencv_logits(model, image);
  ASSERT_EQ(oracle.size(), 10u);
  float largest = 0;
  for (float v : oracle) largest = std::max(largest, std::abs(v));
  ASSERT_GT(largest, 0.0f);
  for (int i = 0; i < 10; ++i) {
    EXPECT_NEAR(logits.data<float>()[i], expected.data<float>()[i], 1e-5f) << "class " << i;
    EXPECT_NEAR(logits.data<float>()[i], oracle[static_cast<std::size_t>(i)], 1e-3f * largest) << "class " << i;
  }
}

TEST_F(Infer, JsonDescribesTheOutputsAndAOneInputModelTakesABareFile) {
  const std::string model = path("mlp.onnx");
  ASSERT_EQ(run_conveyor("zoo mlp -o " + model).status, 0);
  Tensor features(DType::kFloat32, {1, 64});
  for (int i = 0; i < 64; ++i) features.data<float>()[i] = std::sin(0.3f * static_cast<float>(i));
  const std::string input = write_input("features.npy", features);

  const Output out = run_conveyor("infer " + model + " --input " + input + " --output " + path("o") + " --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  EXPECT_GE(j["threads"].get<int>(), 1);
  EXPECT_GE(j["run_ms"].get<double>(), 0.0);
  ASSERT_EQ(j["outputs"].size(), 1u);
  EXPECT_EQ(j["outputs"][0]["name"], "logits");
  EXPECT_EQ(j["outputs"][0]["dtype"], "float32");
  EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json({1, 10}));
  const Tensor written = read_npy(j["outputs"][0]["file"].get<std::string>());

  CompiledModel engine = CompiledModel::compile(load_onnx(model), {1});
  const Tensor expected = engine.run(std::map<std::string, Tensor>{{"input", features}}).at("logits");
  ASSERT_EQ(written.shape(), expected.shape());
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(written.data<float>()[i], expected.data<float>()[i], 1e-4f);
}

TEST_F(Infer, OutputNamesWithSlashesAndColonsBecomePlainFileNames) {
  onnx::ModelProto proto = zoo::build("mlp");
  const std::string odd = "head/logits:0";
  for (auto& node : *proto.mutable_graph()->mutable_node())
    for (auto& name : *node.mutable_output())
      if (name == "logits") name = odd;
  proto.mutable_graph()->mutable_output(0)->set_name(odd);
  const std::string model = path("odd.onnx");
  std::ofstream(model, std::ios::binary) << proto.SerializeAsString();
  const std::string input = write_input("in.npy", Tensor(DType::kFloat32, {1, 64}));

  const Output out = run_conveyor("infer " + model + " --input input=" + input + " --output " + path("out"));
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_TRUE(contains(out.text, odd)) << out.text;
  EXPECT_TRUE(fs::exists(path("out/head_logits_0.npy"))) << out.text;
  EXPECT_EQ(read_npy(path("out/head_logits_0.npy")).shape(), (Shape{1, 10}));
  EXPECT_FALSE(fs::exists(path("out/head"))) << "the '/' must not create a folder";
}

TEST_F(Infer, InfoListsInputsOutputsOpsAndTheGraphCost) {
  const std::string model = write_tinycnn();
  const Output out = run_conveyor("infer " + model + " --info --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  ASSERT_EQ(j["inputs"].size(), 1u);
  EXPECT_EQ(j["inputs"][0]["name"], "input");
  EXPECT_EQ(j["inputs"][0]["dtype"], "float32");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json({1, 3, kImageSize, kImageSize}));
  ASSERT_EQ(j["outputs"].size(), 1u);
  EXPECT_EQ(j["outputs"][0]["name"], "logits");
  EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json({1, 10}));

  std::map<std::string, int> ops;
  int counted = 0, previous = INT32_MAX;
  for (const auto& entry : j["ops"]) {
    const int count = entry["count"].get<int>();
    EXPECT_LE(count, previous) << "ops are sorted by count, most first";
    previous = count;
    ops[entry["op"].get<std::string>()] = count;
    counted += count;
  }
  EXPECT_EQ(ops["Conv"], 2);  // the architecture has two convolutions
  EXPECT_EQ(ops["MaxPool"], 1);
  EXPECT_EQ(ops["Gemm"], 1);
  EXPECT_EQ(counted, j["nodes"].get<int>());

  const Graph graph = load_onnx(model);
  EXPECT_EQ(j["nodes"].get<std::size_t>(), graph.nodes.size());
  const double gflops = graph_cost(graph).flops / 1e9;
  ASSERT_GT(gflops, 0.0);
  EXPECT_NEAR(j["gflops"].get<double>(), gflops, 1e-9);

  const Output text = run_conveyor("infer " + model + " --info");
  ASSERT_EQ(text.status, 0) << text.text;
  EXPECT_TRUE(contains(text.text, "float32[1, 3, 32, 32]")) << text.text;
  EXPECT_TRUE(contains(text.text, "Conv x2")) << text.text;
  EXPECT_TRUE(contains(text.text, "GFLOPs")) << text.text;
}

TEST_F(Infer, BadInputsFailWithMessagesThatNameTheProblem) {
  const std::string model = write_tinycnn();
  const std::string good = write_input("good.npy", random_image(1));
  const std::string run = "infer " + model + " --threads 1 ";

  std::ofstream(path("garbage.npy"), std::ios::binary) << "this is not a numpy file";
  Output out = run_conveyor(run + "--input input=" + path("garbage.npy"));
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "garbage.npy")) << out.text;

  out = run_conveyor(run + "--input pixels=" + good);
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "no input 'pixels'")) << out.text;
  EXPECT_TRUE(contains(out.text, "input float32[1, 3, 32, 32]")) << out.text;  // the model's inputs listed

  out = run_conveyor(run);
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "missing input 'input' (float32[1, 3, 32, 32])")) << out.text;

  out = run_conveyor(run + "--input input=" + write_input("f64.npy", random_image(2, kImageSize, DType::kFloat64)));
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "expects float32[1, 3, 32, 32]")) << out.text;
  EXPECT_TRUE(contains(out.text, "float64[1, 3, 32, 32]")) << out.text;

  out = run_conveyor(run + "--input input=" + write_input("small.npy", random_image(3, 16)));
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "expects float32[1, 3, 32, 32]")) << out.text;
  EXPECT_TRUE(contains(out.text, "float32[1, 3, 16, 16]")) << out.text;

  out = run_conveyor(run + "--input input=" + path("absent.npy"));
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "absent.npy")) << out.text;

  out = run_conveyor(run + "--input input=" + good + " --dim batch=zero");
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "--dim")) << out.text;
}

TEST_F(Infer, RepeatTimesRunsAndProfileNodesSharesTheirTime) {
  const std::string model = write_tinycnn();
  const Output out = run_conveyor("infer " + model + " --threads 1 --repeat 7 --warmup 2 --profile-nodes --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  EXPECT_EQ(j["runs"], 7);
  EXPECT_EQ(j["warmup"], 2);
  EXPECT_EQ(j["inputs"], "synthetic");
  const auto& ms = j["run_ms"];
  EXPECT_GT(ms["min"].get<double>(), 0.0);
  EXPECT_LE(ms["min"].get<double>(), ms["median"].get<double>());
  EXPECT_LE(ms["median"].get<double>(), ms["p90"].get<double>());
  EXPECT_LE(ms["p90"].get<double>(), ms["max"].get<double>());
  EXPECT_LE(ms["mean"].get<double>(), ms["max"].get<double>());
  EXPECT_NEAR(j["gflop_per_s"].get<double>(), j["gflops"].get<double>() / (ms["median"].get<double>() / 1e3), 1e-6);

  const Graph graph = load_onnx(model);
  ASSERT_EQ(j["nodes"].size(), graph.nodes.size());  // every node, slowest first, shares adding up to 1
  double share = 0, previous = 1e9;
  for (const auto& node : j["nodes"]) {
    EXPECT_LE(node["ms"].get<double>(), previous);
    previous = node["ms"].get<double>();
    share += node["share"].get<double>();
  }
  EXPECT_NEAR(share, 1.0, 1e-9);
  EXPECT_EQ(j["nodes"][0]["op"], "Conv") << "tinycnn's time is in its convolutions";
  std::map<std::string, int> op_nodes;
  for (const auto& op : j["ops"]) op_nodes[op["op"].get<std::string>()] = op["nodes"].get<int>();
  EXPECT_EQ(op_nodes["Conv"], 2);

  const Output text = run_conveyor("infer " + model + " --threads 1 --repeat 3 --input " +
                                   write_input("x.npy", random_image(4)));
  ASSERT_EQ(text.status, 0) << text.text;
  EXPECT_TRUE(contains(text.text, "3 runs after 5 warm-up runs (the given inputs)")) << text.text;
  EXPECT_TRUE(contains(text.text, "median")) << text.text;
  EXPECT_TRUE(contains(text.text, "GFLOP/s")) << text.text;

  EXPECT_EQ(run_conveyor("infer " + model + " --profile-nodes").status, 2) << "needs --repeat";
}

TEST_F(Infer, ListOpsPrintsTheImportersOperatorsAndTheirAttributes) {
  const Output out = run_conveyor("infer --list-ops --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto j = nlohmann::json::parse(out.text);
  std::map<std::string, std::string> attributes;
  for (const auto& op : j["ops"]) attributes[op["op"].get<std::string>()] = op["attributes"].get<std::string>();
  EXPECT_EQ(attributes.size(), supported_onnx_ops().size());
  EXPECT_TRUE(contains(attributes["Conv"], "group")) << attributes["Conv"];
  EXPECT_TRUE(contains(attributes["Gemm"], "transB")) << attributes["Gemm"];
  const Output text = run_conveyor("infer --list-ops");
  EXPECT_TRUE(contains(text.text, "MaxPool")) << text.text;
  EXPECT_EQ(run_conveyor("infer").status, 2) << "a model is required without --list-ops";
}

TEST_F(Infer, SymbolicDimensionsAreShownByNameAndSuggestedAsDim) {
  const std::string model = path("mlp.onnx");
  ASSERT_EQ(run_conveyor("zoo mlp --batch dynamic -o " + model).status, 0);
  Output out = run_conveyor("infer " + model + " --info");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_TRUE(contains(out.text, "float32[batch, 64]")) << out.text;
  EXPECT_TRUE(contains(out.text, "--dim")) << out.text;
  const auto j = nlohmann::json::parse(run_conveyor("infer " + model + " --info --json").text);
  EXPECT_EQ(j["symbolic_dims"], nlohmann::json({"batch"}));
  EXPECT_EQ(j["inputs"][0]["dim_names"], nlohmann::json({"batch", nullptr}));

  Tensor four(DType::kFloat32, {4, 64});
  const std::string input = write_input("four.npy", four);
  out = run_conveyor("infer " + model + " --input " + input);
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "expects float32[batch=1, 64]")) << out.text;
  EXPECT_TRUE(contains(out.text, "pass --dim batch=4")) << out.text;
  out = run_conveyor("infer " + model + " --input " + input + " --dim batch=4");
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_TRUE(contains(out.text, "float32[4, 10]")) << out.text;
}

// examples/text_classify.yaml with a small zoo BERT next to a copy of it: probabilities and the top 2.
TEST_F(Infer, TextClassifyExampleTurnsTextIntoTwoRankedClasses) {
  const fs::path examples = fs::path(CONVEYOR_SOURCE_DIR) / "examples";
  fs::create_directories(dir_ / "data");
  fs::copy_file(examples / "text_classify.yaml", dir_ / "text_classify.yaml");
  fs::copy_file(examples / "data" / "vocab.txt", dir_ / "data" / "vocab.txt");
  fs::copy_file(examples / "data" / "text_labels.txt", dir_ / "data" / "text_labels.txt");
  const std::string pipeline = path("text_classify.yaml");
  std::ofstream(path("review.txt")) << "The movie was surprisingly good, and the actors were great!\n";
  // The example keeps its model under ~/.cache/conveyor/models: here, HOME is the test's folder.
  const std::string home = "HOME=" + dir_.string() + " ";
  const std::string model = path(".cache/conveyor/models/bert.onnx");
  auto run_at_home = [&](const std::string& args) {
    return testing::run_command(home + CONVEYOR_BINARY + " " + args + " 2>&1");
  };

  Output out = run_at_home("run " + pipeline + " --input " + path("review.txt") + " --output " + path("r.jsonl"));
  EXPECT_EQ(out.status, 1) << out.text;  // no model yet
  EXPECT_TRUE(contains(out.text, model)) << out.text;

  out = run_conveyor("zoo bert -o " + model + " --layers 1 --hidden 64 --heads 2 --seq-len 128 --vocab 1000 --seed 5");
  ASSERT_EQ(out.status, 0) << out.text;
  out = run_conveyor("infer " + model + " --info --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const auto info = nlohmann::json::parse(out.text);
  std::set<std::string> model_inputs;
  for (const auto& input : info["inputs"]) {
    model_inputs.insert(input["name"].get<std::string>());
    EXPECT_EQ(input["dtype"], "int64");
    EXPECT_EQ(input["shape"], nlohmann::json({1, 128}));
  }
  EXPECT_EQ(model_inputs, (std::set<std::string>{"input_ids", "attention_mask", "token_type_ids"}));

  // A line holds the last stage's outputs unless --outputs names earlier ones too.
  out = run_at_home("run " + pipeline + " --input " + path("review.txt") + " --output " + path("r.jsonl") +
                     " --outputs input_ids,probs,topk_indices,topk_scores,topk_labels");
  ASSERT_EQ(out.status, 0) << out.text;
  std::ifstream in(path("r.jsonl"));
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto result = nlohmann::json::parse(line);
  ASSERT_TRUE(result["ok"].get<bool>()) << line;
  const auto& outputs = result["outputs"];
  EXPECT_EQ(outputs["input_ids"]["shape"], nlohmann::json({1, 128}));
  EXPECT_EQ(outputs["input_ids"]["data"][0], 2);  // [CLS] is id 2 in the example vocabulary
  ASSERT_EQ(outputs["probs"]["shape"], nlohmann::json({1, 2}));
  const auto probs = outputs["probs"]["data"].get<std::vector<float>>();
  EXPECT_NEAR(probs[0] + probs[1], 1.0f, 1e-5f);
  const auto indices = outputs["topk_indices"]["data"].get<std::vector<int64_t>>();
  const auto scores = outputs["topk_scores"]["data"].get<std::vector<float>>();
  ASSERT_EQ(indices.size(), 2u);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_EQ(std::set<int64_t>(indices.begin(), indices.end()), (std::set<int64_t>{0, 1}));
  EXPECT_GE(scores[0], scores[1]);
  EXPECT_FLOAT_EQ(scores[0], probs[static_cast<std::size_t>(indices[0])]);
  const auto labels = result["texts"]["topk_labels"].get<std::vector<std::string>>();
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0], indices[0] == 0 ? "negative" : "positive");
  EXPECT_EQ(labels[1], indices[1] == 0 ? "negative" : "positive");
}

}  // namespace
}  // namespace conveyor
