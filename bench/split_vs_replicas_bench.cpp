// resnet50 (zoo, 224x224) on 2 cores, three ways, in one process:
//   (a) split: 2         two segment stages, one worker on one core each (pipeline parallelism)
//   (b) replicas         the whole model, workers: 2, cores: 1 (data parallelism)
//   (c) one worker       the whole model on one worker with 2 threads (intra-op parallelism)
// Closed loop at concurrency 4 with one constant random input; prints throughput, p50/p99 latency and the
// measured balance of (a): the slowest segment stage's mean service time over the mean of the two.
// Usage: split_vs_replicas_bench [requests (default 40)] [warmup (default 4)]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "api/split_stages.hpp"
#include "conveyor/graph/zoo.hpp"
#include "conveyor/ops/registry.hpp"
#include "conveyor/runtime/load_generator.hpp"

namespace {

using namespace conveyor;
namespace fs = std::filesystem;

struct Variant {
  std::string label;
  std::string stage_yaml;  // the model stage's settings
};

struct Measured {
  LoadResult load;
  double balance = 0;  // slowest stage mean service / mean of the stages' means
};

Measured measure(const fs::path& model, const Variant& variant, const Tensor& input, uint64_t requests,
                 uint64_t warmup, const fs::path& cache) {
  const std::string yaml = "name: " + variant.label +
                           "\n"
                           "max_in_flight: 8\n"
                           "stages:\n"
                           "  - name: resnet50\n"
                           "    op: onnx\n" +
                           variant.stage_yaml + "    args: {path: " + model.string() + ", inputs: {input: pixels}}\n";
  SplitOptions split;
  split.cache_dir = cache;
  const PipelineConfig config = expand_splits(parse_pipeline_config(yaml, model.parent_path() / "bench.yaml"), split);
  Pipeline pipeline(config.options, build_stage_specs(config, builtin_operators()));
  LoadSpec load;
  load.requests = requests;
  load.warmup = warmup;
  load.concurrency = 4;
  Measured result;
  result.load = run_load(pipeline, load, [&](uint64_t i) {
    Sample sample;
    sample.id = i;
    sample.tensors["pixels"] = input;
    return sample;
  });
  pipeline.shutdown();
  double sum = 0, slowest = 0;
  for (const StageMetrics& s : result.load.pipeline.stages) {
    sum += s.service.mean_ms;
    slowest = std::max(slowest, s.service.mean_ms);
  }
  const auto stages = static_cast<double>(result.load.pipeline.stages.size());
  result.balance = sum > 0 ? slowest / (sum / stages) : 1.0;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const uint64_t requests = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 40;
    const uint64_t warmup = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 4;
    if (requests == 0) throw std::invalid_argument("requests must be >= 1");
    const fs::path dir = fs::temp_directory_path() / ("conveyor_split_bench_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path model = dir / "resnet50.onnx";
    zoo::write("resnet50", zoo::ZooOptions{.image_size = 224}, model.string());

    Tensor input(DType::kFloat32, Shape{1, 3, 224, 224});
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t i = 0; i < input.numel(); ++i) input.data<float>()[i] = normal(rng);

    const std::vector<Variant> variants = {
        {"a-split2", "    split: 2\n    workers: 1\n    cores: 1\n"},
        {"b-replicas2", "    workers: 2\n    cores: 1\n"},
        {"c-threads2", "    workers: 1\n    cores: 2\n"},
    };
    std::printf("resnet50 224x224, 2 cores (%s), closed loop concurrency 4, %llu requests after %llu warmup\n",
                Topology::detect().describe().c_str(), static_cast<unsigned long long>(requests),
                static_cast<unsigned long long>(warmup));
    std::printf("%-13s %10s %10s %10s %8s  stage service means ms\n", "variant", "req/s", "p50 ms", "p99 ms",
                "errors");
    std::vector<Measured> results;
    for (const Variant& v : variants) {
      const Measured m = measure(model, v, input, requests, warmup, dir / "segments");
      std::string stage_means;
      for (const StageMetrics& s : m.load.pipeline.stages) {
        char text[64];
        std::snprintf(text, sizeof text, "%s%s %.1f", stage_means.empty() ? "" : ", ", s.name.c_str(),
                      s.service.mean_ms);
        stage_means += text;
      }
      std::printf("%-13s %10.2f %10.1f %10.1f %8llu  %s\n", v.label.c_str(), m.load.throughput_rps,
                  m.load.latency.p50_ms, m.load.latency.p99_ms, static_cast<unsigned long long>(m.load.errors),
                  stage_means.c_str());
      if (m.load.errors) std::printf("  first error: %s\n", m.load.first_error.c_str());
      results.push_back(m);
    }
    const double split_rps = results[0].load.throughput_rps;
    std::printf("\nthroughput split/replicas %.3f, split/threads %.3f\n", split_rps / results[1].load.throughput_rps,
                split_rps / results[2].load.throughput_rps);
    std::printf("p50 latency split/replicas %.3f, split/threads %.3f\n",
                results[0].load.latency.p50_ms / results[1].load.latency.p50_ms,
                results[0].load.latency.p50_ms / results[2].load.latency.p50_ms);
    std::printf("measured balance of split: 2 (max/mean stage service) %.3f\n", results[0].balance);
    fs::remove_all(dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "split_vs_replicas_bench: %s\n", error.what());
    return 1;
  }
  return 0;
}
