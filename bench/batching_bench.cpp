// Dynamic batching, planned: text pipelines (WordPiece -> BERT-style encoder with a dynamic batch -> softmax
// -> top-2) at seq 32 and seq 128, and optionally the ResNet-50 image pipeline, open loop at rates from 20%
// of the best unbatched plan's capacity to beyond it. At each rate, in this process, from one profile store
// (every stage measured here at 1..N threads and each batch size 2, 4, 8):
//   - the best plan without batching (plan: auto), run for real;
//   - the plan with batch: auto (the planner chooses batch size and delay, or none), run for real;
// and prints measured throughput and p99, measured/predicted, and the ratios batched / unbatched. Then the
// ceiling the measured per-batch-size times imply (cores x the best requests per second of one batch size)
// against the most the batched plans sustained.
// Usage: batching_bench [--scale X] [--resnet50] [--case text-seq32|text-seq128|resnet50]   (from the repo root: it reads examples/data)
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench_support.hpp"
#include "conveyor/api/runtime.hpp"
#include "conveyor/graph/zoo.hpp"
#include "conveyor/runtime/load_generator.hpp"

namespace {

using namespace conveyor;
namespace fs = std::filesystem;

struct Case {
  std::string title;
  std::string yaml;  // with "BATCH" where the model stage's batch line goes
  std::vector<Tensor> inputs;
  std::string input_tensor;
  uint64_t requests = 400;
};

std::vector<Tensor> texts() {
  const char* reviews[] = {"a quiet film that stays with you",
                           "loud, long and not much else",
                           "the best thing I have seen this year, and I have seen a lot of films",
                           "dull"};
  std::vector<Tensor> out;
  for (const char* text : reviews)
    out.push_back(Tensor::from<uint8_t>({static_cast<int64_t>(std::strlen(text))},
                                        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text), std::strlen(text))));
  return out;
}

std::string text_yaml(const fs::path& model, int seq) {
  const fs::path data = fs::absolute("examples/data");
  return fmt::format(
      "name: text-seq{}\nplan: auto\nmax_in_flight: 64\nstages:\n"
      "  - name: tokenize\n    op: text.wordpiece\n    args: {{input: bytes, vocab: {}, max_length: {}}}\n"
      "  - name: encoder\n    op: onnx\nBATCH    args: {{path: {}}}\n"
      "  - name: softmax\n    op: post.softmax\n    args: {{input: logits, output: probs}}\n"
      "  - name: top2\n    op: post.topk\n    args: {{input: probs, k: 2, labels: {}}}\n",
      seq, (data / "vocab.txt").string(), seq, model.string(), (data / "text_labels.txt").string());
}

std::string image_yaml(const fs::path& model) {
  const fs::path data = fs::absolute("examples/data");
  return fmt::format(
      "name: resnet50\nplan: auto\nmax_in_flight: 32\nstages:\n"
      "  - name: decode\n    op: image.decode\n    args: {{input: bytes, output: image}}\n"
      "  - name: preprocess\n    op: image.preprocess\n    args: {{input: image, output: input, size: 224}}\n"
      "  - name: model\n    op: onnx\nBATCH    args: {{path: {}}}\n"
      "  - name: softmax\n    op: post.softmax\n    args: {{input: logits, output: probs}}\n"
      "  - name: top5\n    op: post.topk\n    args: {{input: probs, k: 5, labels: {}}}\n",
      model.string(), (data / "labels.txt").string());
}

PipelineConfig config_of(Runtime& runtime, const Case& c, const std::string& batch_line, const fs::path& dir) {
  std::string yaml = c.yaml;
  yaml.replace(yaml.find("BATCH"), 5, batch_line);
  return runtime.parse(yaml, dir / (c.title + ".yaml"));
}

struct Measured {
  LoadResult load;
  plan::Plan plan;
  std::string batch;
};

Measured run_at(Runtime& runtime, const PipelineConfig& config, const Case& c, double rate) {
  StartOptions start;
  start.load.rate_rps = rate;
  start.generated_load = true;
  const auto running = runtime.start(config, start);
  LoadSpec load;
  load.requests = c.requests;
  load.warmup = c.requests / 10;
  load.rate_rps = rate;
  Measured m{run_load(running->pipeline(), load,
                      [&](uint64_t i) {
                        Sample s;
                        s.id = i;
                        s.tensors[c.input_tensor] = c.inputs[i % c.inputs.size()];
                        return s;
                      }),
             *running->plan(), "none"};
  for (const auto& stage : m.plan.stages)
    if (stage.batch.batches())
      m.batch = fmt::format("{} up to {}, {:.2g} ms", stage.name, stage.batch.max_size,
                            std::chrono::duration<double, std::milli>(stage.batch.max_delay).count());
  return m;
}

// The most requests per second one worker of the model stage reaches at any measured batch size, times the
// cores: what batching could give if nothing else cost anything.
double ceiling(const Runtime& runtime, const PipelineConfig& config, const std::string& model_stage) {
  const PipelineConfig expanded = runtime.expand(config);
  const StageConfig& stage = *std::find_if(expanded.stages.begin(), expanded.stages.end(),
                                           [&](const StageConfig& s) { return s.name == model_stage; });
  const plan::StageIdentity identity{stage.op, stage.args, expanded.base_dir};
  const std::string cpu = runtime.topology().cpu_model();
  double best = 0;
  for (const auto& entry : runtime.profiles().lookup_all_threads(identity, cpu))
    best = std::max(best, static_cast<double>(runtime.topology().core_count()) / entry.threads / entry.mean());
  for (const int size : {2, 4, 8})
    for (const auto& entry : runtime.profiles().lookup_all_threads(plan::batch_identity(identity, size), cpu))
      best = std::max(best, size * static_cast<double>(runtime.topology().core_count()) / entry.threads / entry.mean());
  return best;
}

void run_case(const Case& c, const fs::path& dir) {
  RuntimeOptions options;
  options.profile_dir = dir / ("profiles-" + c.title);
  Runtime runtime(options);
  const PipelineConfig unbatched = config_of(runtime, c, "", dir);
  const PipelineConfig batched = config_of(runtime, c, "    batch: auto\n", dir);
  std::vector<Sample> inputs;
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    Sample s;
    s.id = i;
    s.tensors[c.input_tensor] = c.inputs[i];
    inputs.push_back(std::move(s));
  }
  ProfileOptions profile;
  profile.run.requests = 80;
  runtime.profile(batched, inputs, profile);  // the same stages, each batch size too

  PlanOptions closed;
  const double capacity = runtime.plan(unbatched, closed).capacity_rps;
  const std::string model_stage = c.title.rfind("resnet", 0) == 0 ? "model" : "encoder";
  const double limit = ceiling(runtime, batched, model_stage);
  std::printf("\n== %s on %s: best unbatched capacity %.1f req/s (planned); ceiling from per-batch-size times %.1f "
              "req/s\n",
              c.title.c_str(), runtime.topology().describe().c_str(), capacity, limit);
  std::printf("%6s %8s | %-22s %9s %8s %7s %7s | %-26s %9s %8s %7s %7s | %6s %7s\n", "load", "req/s", "unbatched plan",
              "meas r/s", "p99 ms", "m/p r/s", "m/p p99", "batch: auto", "meas r/s", "p99 ms", "m/p r/s", "m/p p99",
              "r/s x", "p99 x");
  double best_sustained = 0;
  for (const double load : {0.2, 0.5, 0.8, 1.0, 1.2, 1.5}) {
    const double rate = load * capacity;
    const Measured a = run_at(runtime, unbatched, c, rate);
    const Measured b = run_at(runtime, batched, c, rate);
    const auto ratio = [](double measured, double predicted) { return predicted > 0 ? measured / predicted : 0.0; };
    if (b.load.throughput_rps >= 0.97 * rate) best_sustained = std::max(best_sustained, b.load.throughput_rps);
    std::printf("%5.0f%% %8.1f | %-22s %9.1f %8.2f %7.2f %7.2f | %-26s %9.1f %8.2f %7.2f %7.2f | %6.2f %7.2f\n",
                load * 100, rate, "as planned", a.load.throughput_rps, a.load.latency.p99_ms,
                ratio(a.load.throughput_rps, a.plan.throughput_rps), ratio(a.load.latency.p99_ms, a.plan.p99_s * 1e3),
                b.batch.c_str(), b.load.throughput_rps, b.load.latency.p99_ms,
                ratio(b.load.throughput_rps, b.plan.throughput_rps), ratio(b.load.latency.p99_ms, b.plan.p99_s * 1e3),
                ratio(b.load.throughput_rps, a.load.throughput_rps), ratio(b.load.latency.p99_ms, a.load.latency.p99_ms));
  }
  std::printf("most the batched plans sustained (>= 97%% of the offered rate): %.1f req/s = %.2f of the ceiling, %.2f "
              "x the unbatched capacity\n",
              best_sustained, limit > 0 ? best_sustained / limit : 0.0, capacity > 0 ? best_sustained / capacity : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  double scale = 1;
  bool resnet = false;
  std::string only;  // one case by title
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--scale") == 0 && i + 1 < argc) scale = std::atof(argv[++i]);
    if (std::strcmp(argv[i], "--resnet50") == 0) resnet = true;
    if (std::strcmp(argv[i], "--case") == 0 && i + 1 < argc) only = argv[++i];
  }
  resnet = resnet || only == "resnet50";
  const fs::path dir = fs::temp_directory_path() / ("conveyor_batching_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::printf("percentiles are the runtime's histogram (0.8%% relative error); ratios m/p: measured / predicted\n");
  std::vector<Case> cases;
  for (const int seq : {32, 128}) {
    const fs::path model = dir / fmt::format("bert_seq{}.onnx", seq);
    zoo::write("bert", zoo::ZooOptions{.seed = 1, .dynamic_batch = true, .seq_len = seq}, model.string());
    cases.push_back({fmt::format("text-seq{}", seq), text_yaml(model, seq), texts(), "bytes",
                     static_cast<uint64_t>(600 * scale)});
  }
  if (resnet) {
    const fs::path model = dir / "resnet50.onnx";
    zoo::write("resnet50", zoo::ZooOptions{.seed = 1, .dynamic_batch = true}, model.string());
    cases.push_back({"resnet50", image_yaml(model), bench::synthetic_jpegs(4), "bytes", static_cast<uint64_t>(60 * scale)});
  }
  for (const Case& c : cases)
    if (only.empty() || c.title == only) run_case(c, dir);
  fs::remove_all(dir);
  return 0;
}
