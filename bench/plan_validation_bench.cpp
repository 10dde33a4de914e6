// Validates the planner on this machine, for the image-classification demo pipeline (decode -> preprocess
// -> ResNet-50 -> softmax -> top-5) and a text pipeline (WordPiece -> BERT-style encoder with pooling and a
// classifier head -> softmax -> top-2). For each: profiles every stage here at 1..N threads, plans for this
// machine's cores, runs the plan and the alternatives for real in this process (same requests, same closed
// loop), and prints predicted vs measured and the plan's throughput over the best alternative. Then the
// simulator's table for larger machines from the same profiles.
// Usage: plan_validation_bench [--scale X]   (run from the repo root: it reads examples/data; X scales the
//        request counts, default 1)
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "bench_support.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/graph/zoo.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/plan/profile_stage.hpp"
#include "conveyor/runtime/load_generator.hpp"
#include "conveyor/runtime/pipeline.hpp"

namespace {

using namespace conveyor;
namespace fs = std::filesystem;

struct Case {
  std::string title;
  std::string yaml;
  std::string input_tensor;
  std::vector<Tensor> inputs;
  uint64_t requests = 100;
  // Hand-written layouts worth comparing with: name -> the specs laid out by hand.
  std::vector<std::pair<std::string, std::function<std::vector<StageSpec>(std::vector<StageSpec>)>>> by_hand;
};

StageSpec all_merged(const std::vector<StageSpec>& specs, int workers, int threads) {
  StageSpec all = merge_stages(specs, "all-stages");
  all.workers = workers;
  all.threads = threads;
  all.cores.kind = CoreSpec::Kind::kCount;
  all.cores.per_worker = threads;
  return all;
}

// The heavy stage `model` replicated once per core; every other stage shares those cores.
std::vector<StageSpec> model_replicas(std::vector<StageSpec> specs, const std::string& model, int cores) {
  for (auto& s : specs) {
    s.cores = CoreSpec{};
    s.cores.kind = CoreSpec::Kind::kCount;
    s.cores.per_worker = 1;
    s.threads = 1;
    if (s.name == model) {
      s.workers = cores;
    } else {
      s.cores.shared = true;
    }
  }
  return specs;
}

std::string describe(const plan::Plan& p) {
  std::vector<std::string> parts;
  for (const auto& s : p.stages)
    parts.push_back(fmt::format("{} {}x{}{}", s.name, s.workers, s.threads, s.share_cores ? " shared" : ""));
  return fmt::format("{}", fmt::join(parts, ", "));
}

LoadResult measure(const PipelineOptions& options, std::vector<StageSpec> specs, const Case& c, int concurrency) {
  Pipeline pipeline(options, std::move(specs));
  LoadSpec load;
  load.requests = c.requests;
  load.warmup = std::max<uint64_t>(4, c.requests / 10);
  load.concurrency = concurrency;
  const LoadResult result = run_load(pipeline, load, [&](uint64_t i) {
    Sample s;
    s.id = i;
    s.tensors[c.input_tensor] = c.inputs[i % c.inputs.size()];
    return s;
  });
  if (result.errors) std::printf("  (%llu errors: %s)\n", static_cast<unsigned long long>(result.errors), result.first_error.c_str());
  return result;
}

void validate(const Case& c) {
  const PipelineConfig config = parse_pipeline_config(c.yaml, fs::current_path() / "examples" / "bench.yaml");
  const std::vector<StageSpec> specs = build_stage_specs(config, builtin_operators());
  const Topology& machine = Topology::detect();
  const int cores = machine.core_count();
  std::printf("=== %s: %zu stages on %s\n\n", c.title.c_str(), specs.size(), machine.describe().c_str());

  // 1. Profiles: each stage at 1..cores threads, one request at a time, on the previous stage's outputs.
  std::vector<Sample> inputs;
  for (const auto& t : c.inputs) {
    Sample s;
    s.tensors[c.input_tensor] = t;
    inputs.push_back(std::move(s));
  }
  plan::ProfileRunOptions run;
  run.requests = std::max<uint64_t>(20, c.requests / 4);
  run.warmup = 3;
  const std::vector<plan::StageProfile> profiles = bench::profile_stages(specs, std::move(inputs), cores, run);

  // 2. The plan for this machine, and the alternatives, each run for real under the same closed loop.
  plan::PlanRequest request;
  request.stages = profiles;
  request.cores = machine.cpus();
  request.topology = &machine;
  request.max_in_flight = config.options.max_in_flight;
  request.queue_capacity = config.options.queue_capacity;
  const plan::Plan p = plan::make_plan(request);
  const int concurrency = p.workload.concurrency;
  std::printf("\nplan: %s\npredicted (simulated): %.1f req/s, p50 %.2f ms, p99 %.2f ms; closed loop, %d in flight\n\n",
              describe(p).c_str(), p.throughput_rps, p.p50_s * 1e3, p.p99_s * 1e3, concurrency);

  std::vector<std::pair<std::string, std::vector<StageSpec>>> layouts;
  layouts.emplace_back("planned", bench::planned_specs(specs, p));
  layouts.emplace_back(fmt::format("one worker, {} intra-op threads", cores),
                       std::vector<StageSpec>{all_merged(specs, 1, cores)});
  layouts.emplace_back(fmt::format("whole-pipeline replicas x{}", cores),
                       std::vector<StageSpec>{all_merged(specs, cores, 1)});
  for (const auto& [name, layout] : c.by_hand) layouts.emplace_back("by hand: " + name, layout(specs));

  std::printf("%-40s %10s %10s %10s %12s\n", "layout", "req/s", "p50 ms", "p99 ms", "plan / this");
  double planned_rps = 0, best_other = 0;
  std::string best_name;
  LoadResult planned;
  for (auto& [name, layout] : layouts) {
    const LoadResult r = measure(config.options, layout, c, concurrency);
    if (name == "planned") {
      planned = r;
      planned_rps = r.throughput_rps;
    } else if (r.throughput_rps > best_other) {
      best_other = r.throughput_rps;
      best_name = name;
    }
    std::printf("%-40s %10.1f %10.2f %10.2f %12.2f\n", name.c_str(), r.throughput_rps, r.latency.p50_ms,
                r.latency.p99_ms, planned_rps > 0 ? planned_rps / r.throughput_rps : 0.0);
  }
  std::printf("\nplanned / best alternative (%s): %.2f\n", best_name.c_str(), planned_rps / best_other);
  std::printf("measured / predicted: throughput %.2f, p50 %.2f, p99 %.2f\n\n",
              planned.throughput_rps / p.throughput_rps, planned.latency.p50_ms / (p.p50_s * 1e3),
              planned.latency.p99_ms / (p.p99_s * 1e3));

  // 3. Larger machines, from the same profiles (threads beyond those profiled here are not used).
  std::printf("%5s  %-60s %10s %10s %8s %6s\n", "cores", "plan (workers x threads)", "capacity", "sim req/s",
              "p99 ms", "/bound");
  for (int n : {2, 4, 8, 16, 64}) {
    plan::PlanRequest what_if = request;
    what_if.cores.clear();
    for (int i = 0; i < n; ++i) what_if.cores.push_back(i);
    what_if.max_in_flight = std::max<std::size_t>(request.max_in_flight, 4 * static_cast<std::size_t>(n));
    what_if.sim_requests = 10000;
    const plan::Plan w = plan::make_plan(what_if);
    std::printf("%5d  %-60s %10.1f %10.1f %8.2f %6.2f\n", n, describe(w).c_str(), w.capacity_rps, w.throughput_rps,
                w.p99_s * 1e3, w.ratio_to_bound);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  double scale = 1;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--scale") scale = std::max(0.05, std::atof(argv[i + 1]));
  const fs::path dir = fs::temp_directory_path() / "conveyor_plan_validation";
  fs::create_directories(dir);
  const fs::path resnet = dir / "resnet50.onnx", bert = dir / "bert.onnx";
  if (!fs::exists(resnet)) zoo::write("resnet50", {}, resnet.string());
  if (!fs::exists(bert)) zoo::write("bert", zoo::ZooOptions{.seq_len = 128, .vocab = 1000}, bert.string());
  const int cores = Topology::detect().core_count();

  Case image;
  image.title = "image classification (decode -> preprocess -> resnet50 -> softmax -> top5)";
  image.yaml = fmt::format(R"(name: image-classify-resnet50
max_in_flight: 32
stages:
  - {{name: decode, op: image.decode}}
  - {{name: preprocess, op: image.preprocess, args: {{size: [224, 224]}}}}
  - {{name: resnet50, op: onnx, args: {{path: "{}", inputs: {{input: pixels}}}}}}
  - {{name: softmax, op: post.softmax, args: {{input: logits}}}}
  - {{name: top5, op: post.topk, args: {{k: 5}}}}
)",
                           resnet.string());
  image.input_tensor = "bytes";
  image.inputs = bench::synthetic_jpegs(8);
  image.requests = static_cast<uint64_t>(120 * scale);
  image.by_hand.emplace_back("resnet50 replicas, the rest sharing (the demo)",
                             [cores](std::vector<StageSpec> s) { return model_replicas(std::move(s), "resnet50", cores); });

  Case text;
  text.title = "text classification (wordpiece -> bert encoder + head -> softmax -> top2)";
  text.yaml = fmt::format(R"(name: text-classify-bert
max_in_flight: 32
stages:
  - {{name: tokenize, op: text.wordpiece, args: {{input: bytes, vocab: data/vocab.txt, max_length: 128}}}}
  - {{name: encoder, op: onnx, args: {{path: "{}"}}}}
  - {{name: softmax, op: post.softmax, args: {{input: logits, output: probs}}}}
  - {{name: top2, op: post.topk, args: {{input: probs, k: 2}}}}
)",
                          bert.string());
  text.input_tensor = "bytes";
  for (const char* sentence :
       {"The film was a delight from start to finish, warm and very funny.",
        "I would not recommend this product: it broke after two days and support never answered.",
        "An ordinary afternoon in the city, with rain, traffic and a late train home."}) {
    const std::string s(sentence);
    text.inputs.push_back(Tensor::from<uint8_t>({static_cast<int64_t>(s.size())},
                                                std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size())));
  }
  text.requests = static_cast<uint64_t>(400 * scale);
  text.by_hand.emplace_back("encoder replicas, the rest sharing",
                            [cores](std::vector<StageSpec> s) { return model_replicas(std::move(s), "encoder", cores); });
  text.by_hand.emplace_back("tokenizer core 0, encoder core 1, post unpinned (examples/text_classify.yaml)",
                            [](std::vector<StageSpec> s) {
                              for (std::size_t i = 0; i < s.size(); ++i) {
                                s[i].threads = 1;
                                s[i].cores = CoreSpec{};
                                if (i < 2) {
                                  s[i].cores.kind = CoreSpec::Kind::kCount;
                                  s[i].cores.per_worker = 1;
                                } else {
                                  s[i].cores.kind = CoreSpec::Kind::kUnpinned;
                                }
                              }
                              return s;
                            });

  validate(image);
  validate(text);
  return 0;
}
