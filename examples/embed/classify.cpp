// Embedding conveyor: an image classifier built in code and the same classifier from a YAML file, each
// run on a few synthetic JPEGs, with every result printed. Usage: classify WORK_DIR
// (the model, its labels and nothing else are written there).
#include <conveyor/conveyor.hpp>
#include <conveyor/graph/zoo.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;
using namespace conveyor;

namespace {

// A JPEG of `size` x `size` pixels: a colour gradient that differs per seed.
Tensor synthetic_jpeg(int seed, int size = 256) {
  cv::Mat image(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      image.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>((x + 40 * seed) % 256), static_cast<uchar>((y * seed) % 256),
                    static_cast<uchar>((x + y) / 2));
  std::vector<uchar> bytes;
  cv::imencode(".jpg", image, bytes);
  Tensor tensor(DType::kUInt8, {static_cast<int64_t>(bytes.size())});
  std::copy(bytes.begin(), bytes.end(), tensor.data<uint8_t>());
  return tensor;
}

StageConfig stage(std::string name, std::string op, OpArgs args, bool own_core = false) {
  StageConfig s;
  s.name = std::move(name);
  s.op = std::move(op);
  s.args = std::move(args);
  s.cores.shared = !own_core;  // the light stages share a core; the model owns its own
  return s;
}

void print_result(const char* pipeline, int request, const Result& result) {
  if (!result.ok()) {
    std::printf("%s request %d failed: %s\n", pipeline, request, result.error->describe().c_str());
    return;
  }
  const auto& labels = result.sample.texts.at("topk_labels");
  const Tensor& scores = result.sample.at("topk_scores");
  std::printf("%s request %d:", pipeline, request);
  for (std::size_t k = 0; k < labels.size(); ++k)
    std::printf("  %s %.3f", labels[k].c_str(), static_cast<double>(scores.data<float>()[k]));
  std::printf("\n");
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s WORK_DIR\n", argv[0]);
    return 2;
  }
  const fs::path work = argv[1];
  fs::create_directories(work);
  zoo::ZooOptions model_options;
  model_options.seed = 1;
  zoo::write("tinycnn", model_options, (work / "tinycnn.onnx").string());  // 10 classes, seeded weights
  std::ofstream(work / "labels.txt") << "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n";

  RuntimeOptions options;
  options.profile_dir = work / "profiles";  // this program's own profile history
  options.on_note = [](const std::string& note) { std::fprintf(stderr, "%s\n", note.c_str()); };
  Runtime runtime(options);
  std::printf("conveyor %s on %s\n", version(), runtime.topology().describe().c_str());

  std::vector<Sample> requests;
  for (int i = 0; i < 4; ++i) {
    Sample sample;
    sample.id = static_cast<uint64_t>(i);
    sample.tensors["bytes"] = synthetic_jpeg(i + 1);
    requests.push_back(std::move(sample));
  }

  // 1. In code: decode -> preprocess -> tinycnn -> softmax -> top-3, with callbacks.
  PipelineConfig in_code;
  in_code.name = "classify-in-code";
  in_code.base_dir = work;  // relative paths in args resolve here
  in_code.options.max_in_flight = 8;
  in_code.stages.push_back(stage("decode", "image.decode", OpArgs()));
  in_code.stages.push_back(
      stage("preprocess", "image.preprocess", OpArgs::parse_json(R"({"size": [224, 224]})")));
  in_code.stages.push_back(stage(
      "tinycnn", "onnx", OpArgs::parse_json(R"({"path": "tinycnn.onnx", "inputs": {"input": "pixels"}})"),
      /*own_core=*/true));
  in_code.stages.push_back(stage("softmax", "post.softmax", OpArgs().set("input", "logits")));
  in_code.stages.push_back(stage("top3", "post.topk", OpArgs().set("k", 3).set("labels", "labels.txt")));
  {
    const std::unique_ptr<RunningPipeline> running = runtime.start(in_code);
    for (std::size_t i = 0; i < requests.size(); ++i)
      running->submit(requests[i],
                      [i](Result&& result) { print_result("in code", static_cast<int>(i), result); });
    running->pipeline().wait_idle();
  }

  // 2. From YAML (plan: auto): the planner profiles the stages on these requests, then lays them out.
  StartOptions start;
  start.profiling_inputs = requests;
  const PipelineConfig from_yaml =
      runtime.parse(read_text(fs::path(EMBED_SOURCE_DIR) / "classify.yaml"), work / "classify.yaml");
  const std::unique_ptr<RunningPipeline> running = runtime.start(from_yaml, start);
  std::vector<std::future<Result>> futures;
  for (const Sample& request : requests) futures.push_back(running->submit(request));
  for (std::size_t i = 0; i < futures.size(); ++i)
    print_result("from yaml", static_cast<int>(i), futures[i].get());
  std::printf("%s\n", running->save_history().c_str());
  return 0;
} catch (const std::exception& error) {
  std::fprintf(stderr, "classify: %s\n", error.what());
  return 1;
}
