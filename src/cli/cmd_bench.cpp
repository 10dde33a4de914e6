#include <cstdio>

#include "cli/bench_driver.hpp"
#include "cli/cli_runtime.hpp"
#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/input_checks.hpp"
#include "cli/inputs.hpp"
#include "cli/interrupt.hpp"
#include "cli/json_text.hpp"
#include "cli/option_checks.hpp"
#include "cli/pipeline_file.hpp"
#include "cli/remote_bench.hpp"
#include "cli/timeline_outputs.hpp"

namespace conveyor::cli {
namespace {

struct BenchCommand {
  std::string pipeline;
  std::string url;          // bench a running server instead of a pipeline file
  std::string metrics_url;
  bool input_tensor_given = false;
  std::vector<std::string> inputs;
  std::string input_tensor = "bytes";
  BenchOptions bench;
  TimelineOutputs timeline;
};

int run(const BenchCommand& o) {
  check_timeline_outputs(o.timeline);
  const InputSet set = collect_inputs(o.inputs, o.input_tensor);
  if (set.tensors && o.input_tensor_given)
    throw CLI::ValidationError("--input-tensor", "names the tensor of raw files; --input NAME=FILES names its own");
  std::vector<RequestTensors> requests;
  for (const auto& request : set.requests) requests.push_back(read_request(set, request, 0).tensors);
  Runtime& runtime = cli_runtime();
  StartOptions start;
  start.timeline_requests = o.timeline.timeline_requests();
  start.load.rate_rps = o.bench.rate_rps;
  start.generated_load = true;
  if (o.bench.concurrency > 0) start.load.concurrency = o.bench.concurrency;
  for (const auto& tensors : requests) {
    Sample sample;
    sample.tensors = tensors;
    start.profiling_inputs.push_back(std::move(sample));
  }
  const std::unique_ptr<RunningPipeline> running =
      runtime.start(load_pipeline_file(runtime, o.pipeline, "bench"), start);
  check_inputs(set, running->signature());
  const PipelineConfig& config = running->config();

  InterruptWatch interrupts;
  BenchOptions bench = o.bench;
  bench.on_result = [&running](const Result& result) { running->record(result); };
  bench.stop = &interrupts.level();
  BenchContext context{config.name, "", 0};
  context.auto_splits = config.auto_splits;
  const LoadResult result = bench_pipeline(running->pipeline(), requests, bench, context);
  running->pipeline().shutdown();

  // Predicted from the profiles stored before this run is added to them.
  std::optional<Predictions> predicted;
  try {
    predicted = runtime.predict(*running, result.pipeline, bench_workload(o.bench, config, result.pipeline));
    if (!predicted && !o.bench.json)
      std::fprintf(stderr, "no prediction: not every stage has a stored profile at the thread count it ran with\n");
  } catch (const std::exception& error) {
    if (!o.bench.json) std::fprintf(stderr, "no prediction: %s\n", error.what());
  }
  const std::string saved = running->save_history();
  if (!o.bench.json) std::fprintf(stderr, "%s\n", saved.c_str());  // --json: nothing but the JSON object
  write_timeline_outputs(*running, o.timeline, predicted, o.bench.json);

  if (o.bench.json) {
    nlohmann::json report = bench_report_json(context, result, predicted);
    if (result.stopped) {
      report["interrupted"] = interrupts.signal_name();
      report["requests_asked"] = o.bench.requests;
    }
    std::printf("%s\n", json_text(report, 2).c_str());
  } else {
    std::printf("%s", format_bench_report(context, result, predicted).c_str());
    if (result.stopped)
      std::printf("interrupted by %s: %llu of %llu measured requests done; the numbers above cover those\n",
                  interrupts.signal_name(), static_cast<unsigned long long>(result.requests),
                  static_cast<unsigned long long>(o.bench.requests));
  }
  if (result.stopped) return interrupts.exit_status();
  return result.errors > 0 ? kExitSomeFailed : kExitOk;  // numbers measured over failing requests are not the pipeline's
}

int run_remote(const BenchCommand& o) {
  for (const auto& value : o.inputs)
    if (is_named_input(value))
      throw CLI::ValidationError("--input", "NAME=FILES is for pipeline files; with --url each file is the model's "
                                            "first input (a .npy file as its tensor)");
  RemoteBenchOptions remote;
  remote.url = o.url;
  remote.metrics_url = o.metrics_url;
  remote.inputs = o.inputs;
  if (o.input_tensor_given) remote.input_tensor = o.input_tensor;
  remote.bench = o.bench;
  return run_remote_bench(remote);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchCommand>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure a pipeline: throughput, latency percentiles, per-stage table");
  auto* pipeline = cmd->add_option("pipeline", o->pipeline, "Pipeline file (YAML); or --url")->check(CLI::ExistingFile);
  auto* url = cmd->add_option("--url", o->url,
                              "Bench a running server instead: http://HOST:PORT/MODEL (KServe v2 REST, binary "
                              "tensors, keep-alive) or grpc://HOST:PORT/MODEL")
                  ->excludes(pipeline);
  cmd->add_option("--metrics-url", o->metrics_url,
                  "With --url: the server's /metrics for the stage table (default: the http:// URL's host and "
                  "port; none for grpc://)")
      ->needs(url);
  cmd->add_option("-i,--input", o->inputs,
                  "Input files or directories (each file's bytes one request), or NAME=DIR_OR_FILES "
                  "(repeatable): .npy tensors matched by file stem; requests cycle through them")
      ->required();
  cmd->add_option("--input-tensor", o->input_tensor,
                  "Tensor that receives each file's bytes (with --url: default the model's first input)")
      ->capture_default_str();
  cmd->add_option("-n,--requests", o->bench.requests, "Measured requests")
      ->capture_default_str()
      ->check(whole_number(1, kMaxRequests));
  cmd->add_option("--warmup", o->bench.warmup, "Requests run first and not measured")
      ->capture_default_str()
      ->check(whole_number(0, kMaxRequests));
  auto* concurrency = cmd->add_option("-c,--concurrency", o->bench.concurrency,
                                      "Closed loop: requests kept in flight (default 2 x workers; with --url "
                                      "the server's workers, from /metrics, else 4)")
                          ->check(whole_number(1, kMaxConcurrency));
  cmd->add_option("-r,--rate", o->bench.rate_rps, "Open loop: Poisson arrivals at this many requests/s")
      ->check(positive_number())
      ->excludes(concurrency);
  cmd->add_flag("--json", o->bench.json, "Print one JSON object instead of the table");
  add_trace_options(*cmd, o->timeline)->excludes(url);
  add_plot_option(*cmd, o->timeline)->excludes(url);
  cmd->footer(
      "Examples:\n  conveyor bench examples/image_classify.yaml --input images/ --requests 1000 "
      "--concurrency 8\n"
      "  conveyor bench examples/image_classify.yaml --input images/ --rate 50 --json\n"
      "  conveyor bench --url http://127.0.0.1:8000/image-classify --input images/ --concurrency 8\n"
      "With --url each file is sent as the model's first input (BYTES [1] for raw-bytes inputs, UINT8 [N], or a\n"
      ".npy file's tensor), encoded once; latency percentiles are exact; HTTP 429 / RESOURCE_EXHAUSTED count as\n"
      "rejected; the stage table comes from the server's /metrics before and after the measured requests.\n"
      "With stored profiles (conveyor profile) the report adds predicted vs measured numbers; with `plan: "
      "auto`\n"
      "in the file the planner picks each stage's workers/threads/cores. Every bench adds what it measured\n"
      "to the profile history. Ctrl-C (SIGINT) or SIGTERM stops the load and prints the report of what was\n"
      "measured, marked interrupted.");
  cmd->callback([o, cmd] {
    if (o->pipeline.empty() == o->url.empty())
      throw CLI::ValidationError("bench", "give exactly one of PIPELINE (a pipeline file) or --url (a running server)");
    o->input_tensor_given = cmd->count("--input-tensor") > 0;
    if (const int rc = o->url.empty() ? run(*o) : run_remote(*o); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace conveyor::cli
