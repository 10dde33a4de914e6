#include <cstdio>

#include "cli/bench_driver.hpp"
#include "cli/commands.hpp"
#include "cli/pipeline_file.hpp"

namespace conveyor::cli {
namespace {

struct BenchCommand {
  std::string pipeline;
  std::vector<std::string> inputs;
  std::string input_tensor = "bytes";
  BenchOptions bench;
};

void run(const BenchCommand& o) {
  const std::vector<Tensor> inputs = read_input_tensors(o.inputs);
  LoadedPipeline loaded = start_pipeline(o.pipeline);
  BenchContext context{loaded.config.name, "", 0};
  const LoadResult result = bench_pipeline(*loaded.pipeline, inputs, o.input_tensor, o.bench, context);
  loaded.pipeline->shutdown();
  if (o.bench.json)
    std::printf("%s\n", bench_report_json(context, result).dump(2).c_str());
  else
    std::printf("%s", format_bench_report(context, result).c_str());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchCommand>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure a pipeline: throughput, latency percentiles, per-stage table");
  cmd->add_option("pipeline", o->pipeline, "Pipeline file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-i,--input", o->inputs, "Input files or directories; requests cycle through them")->required();
  cmd->add_option("--input-tensor", o->input_tensor, "Tensor that receives each file's bytes")->capture_default_str();
  cmd->add_option("-n,--requests", o->bench.requests, "Measured requests")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", o->bench.warmup, "Requests run first and not measured")->capture_default_str();
  auto* concurrency = cmd->add_option("-c,--concurrency", o->bench.concurrency,
                                      "Closed loop: requests kept in flight (default 2 x workers)")
                          ->check(CLI::PositiveNumber);
  cmd->add_option("-r,--rate", o->bench.rate_rps, "Open loop: Poisson arrivals at this many requests/s")
      ->check(CLI::PositiveNumber)
      ->excludes(concurrency);
  cmd->add_flag("--json", o->bench.json, "Print one JSON object instead of the table");
  cmd->footer(
      "Examples:\n  conveyor bench examples/image_classify.yaml --input images/ --requests 1000 --concurrency 8\n"
      "  conveyor bench examples/image_classify.yaml --input images/ --rate 50 --json");
  cmd->callback([o] { run(*o); });
}

}  // namespace conveyor::cli
