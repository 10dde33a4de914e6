#include <fmt/format.h>

#include <cstdio>

#include "cli/bench_driver.hpp"
#include "cli/commands.hpp"
#include "cli/demo_assets.hpp"
#include "cli/option_checks.hpp"
#include "cli/cli_runtime.hpp"

namespace conveyor::cli {
namespace {

struct DemoOptions {
  BenchOptions bench;
  int images = 32;
};

// The demo pipeline; `plan: auto` lets the planner lay it out on this machine's cores (the model dominates:
// ResNet-50 runs ~60 ms per image on a core, decode ~5 ms).
std::string demo_pipeline_yaml(int cores, const std::string& model, const std::string& labels) {
  return fmt::format(R"(name: demo-resnet50
plan: auto
max_in_flight: {in_flight}
ordering: in_order
stages:
  - name: decode
    op: image.decode
  - name: preprocess
    op: image.preprocess
    args: {{size: [224, 224], resize: shorter_side_crop}}
  - name: resnet50
    op: onnx
    args: {{path: "{model}", inputs: {{input: pixels}}}}
  - name: softmax
    op: post.softmax
    args: {{input: logits}}
  - name: top5
    op: post.topk
    args: {{k: 5, labels: "{labels}"}}
)",
                     fmt::arg("in_flight", 2 * cores + 2), fmt::arg("model", model), fmt::arg("labels", labels));
}

void run(DemoOptions o) {
  Runtime& runtime = cli_runtime();
  const int cores = runtime.topology().core_count();
  const auto demo_dir = cache_dir() / "demo";
  const auto image_dir = ensure_synthetic_images(demo_dir / "images", o.images, 640, 480);
  const auto model = ensure_zoo_model(demo_dir / "resnet50.onnx", "resnet50");
  const auto labels = ensure_labels(demo_dir / "labels.txt", 1000);
  std::printf("demo: %d synthetic 640x480 JPEGs and a seeded ResNet-50 in %s\n", o.images, demo_dir.string().c_str());
  std::fflush(stdout);  // before the planner's notes on stderr
  const std::vector<Tensor> inputs = read_input_tensors({image_dir.string()});
  const PipelineConfig config =
      runtime.parse(demo_pipeline_yaml(cores, model.string(), labels.string()), demo_dir / "demo.yaml");

  // 1. Pipelined, as the planner lays it out: every stage on its own cores at once. Stages with no stored
  // profile on this CPU are measured first.
  StartOptions start;
  for (const Tensor& tensor : inputs) {
    Sample sample;
    sample.tensors["bytes"] = tensor;
    start.profiling_inputs.push_back(std::move(sample));
  }
  const std::unique_ptr<RunningPipeline> running = runtime.start(config, start);
  BenchContext context{config.name, "", 0};
  const LoadResult pipelined = bench_pipeline(running->pipeline(), inputs, "bytes", o.bench, context);
  running->pipeline().shutdown();
  std::optional<Predictions> predicted;
  try {
    predicted = runtime.predict(*running, pipelined.pipeline,
                                bench_workload(o.bench, running->config(), pipelined.pipeline));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "no prediction: %s\n", error.what());
  }
  std::printf("\n%s", format_bench_report(context, pipelined, predicted).c_str());

  // 2. Baseline: the same requests one at a time, all stages in one worker with every core.
  const std::unique_ptr<RunningPipeline> unpipelined = runtime.start_unpipelined(config, "one-at-a-time");
  Pipeline& sequential = unpipelined->pipeline();
  BenchOptions one_at_a_time = o.bench;
  one_at_a_time.concurrency = 1;
  one_at_a_time.rate_rps.reset();
  BenchContext baseline_context{"one-at-a-time", "", 0};
  const LoadResult baseline = bench_pipeline(sequential, inputs, "bytes", one_at_a_time, baseline_context);
  sequential.shutdown();

  std::printf("\none request at a time, all %d cores on it: %.1f req/s, p50 %.2f ms\n", cores, baseline.throughput_rps,
              baseline.latency.p50_ms);
  std::printf("pipelined: %.1f req/s, p50 %.2f ms  ->  %.2fx the throughput\n", pipelined.throughput_rps,
              pipelined.latency.p50_ms, pipelined.throughput_rps / baseline.throughput_rps);
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Classify synthetic images with ResNet-50 through a pipeline the planner lays out on all cores, against one at a time");
  o->bench.requests = 100;
  o->bench.warmup = 10;
  cmd->add_option("-n,--requests", o->bench.requests, "Measured requests")
      ->capture_default_str()
      ->check(whole_number(1, kMaxRequests));
  cmd->add_option("--warmup", o->bench.warmup, "Unmeasured requests first")
      ->capture_default_str()
      ->check(whole_number(0, kMaxRequests));
  cmd->add_option("--images", o->images, "Synthetic images to generate")
      ->capture_default_str()
      ->check(whole_number(1, 10000));
  cmd->footer("Example:\n  conveyor demo --requests 300");
  cmd->callback([o] { run(*o); });
}

}  // namespace conveyor::cli
