#include <fmt/format.h>

#include <cstdio>

#include "cli/bench_driver.hpp"
#include "cli/commands.hpp"
#include "cli/demo_assets.hpp"
#include "cli/pipeline_file.hpp"
#include "conveyor/runtime/fused_stage.hpp"

namespace conveyor::cli {
namespace {

struct DemoOptions {
  BenchOptions bench;
  int images = 32;
};

// The demo pipeline, laid out for `cores` cores: JPEG decode is the heaviest stage, so it gets the most.
std::string demo_pipeline_yaml(int cores) {
  const int preprocess = std::max(1, cores / 3);
  const int decode = std::max(1, cores - preprocess);
  return fmt::format(R"(name: demo-image-preprocess
max_in_flight: {in_flight}
ordering: in_order
stages:
  - name: decode
    op: image.decode
    workers: {decode}
    cores: 1
    share_cores: {share}
    args: {{input: bytes, output: image}}
  - name: preprocess
    op: image.preprocess
    workers: {preprocess}
    cores: 1
    share_cores: {share}
    args: {{input: image, output: pixels, size: [224, 224], resize: shorter_side_crop}}
)",
                     fmt::arg("in_flight", 4 * cores), fmt::arg("decode", decode),
                     fmt::arg("preprocess", preprocess), fmt::arg("share", cores < 2 ? "true" : "false"));
}

void run(DemoOptions o) {
  const int cores = Topology::detect().size();
  const auto image_dir = ensure_synthetic_images(cache_dir() / "demo" / "images", o.images, 640, 480);
  std::printf("demo: %d synthetic 640x480 JPEGs in %s\n", o.images, image_dir.string().c_str());
  const std::vector<Tensor> inputs = read_input_tensors({image_dir.string()});
  const PipelineConfig config = parse_pipeline_config(demo_pipeline_yaml(cores), "<demo>");

  // 1. Pipelined: every stage on its own cores at once.
  LoadedPipeline loaded = start_pipeline(config);
  BenchContext context{config.name, "", 0};
  const LoadResult pipelined = bench_pipeline(*loaded.pipeline, inputs, "bytes", o.bench, context);
  loaded.pipeline->shutdown();
  std::printf("\n%s", format_bench_report(context, pipelined).c_str());

  // 2. Baseline: the same requests one at a time, all stages in one worker with every core.
  StageSpec all = fuse_stages(build_stage_specs(config, builtin_operators()), "all-stages");
  all.cores.kind = CoreSpec::Kind::kCount;
  all.cores.per_worker = cores;
  std::vector<StageSpec> one;
  one.push_back(std::move(all));
  PipelineOptions sequential_options = config.options;
  sequential_options.name = "one-at-a-time";
  Pipeline sequential(sequential_options, std::move(one));
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
  CLI::App* cmd = app.add_subcommand("demo", "Generate demo images and benchmark the image pipeline on all cores");
  cmd->add_option("-n,--requests", o->bench.requests, "Measured requests")->capture_default_str();
  cmd->add_option("--warmup", o->bench.warmup, "Unmeasured requests first")->capture_default_str();
  cmd->add_option("--images", o->images, "Synthetic images to generate")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->footer("Example:\n  conveyor demo --requests 300");
  cmd->callback([o] { run(*o); });
}

}  // namespace conveyor::cli
