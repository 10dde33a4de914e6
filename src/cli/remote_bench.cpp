#include "cli/remote_bench.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>

#include "cli/inputs.hpp"
#include "cli/json_text.hpp"
#include "cli/progress_bar.hpp"
#include "conveyor/serve/remote_bench.hpp"

namespace conveyor::cli {
namespace {

std::string file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot read input '" + file.string() + "'");
  std::string bytes(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw std::runtime_error("cannot read input '" + file.string() + "'");
  return bytes;
}

}  // namespace

int run_remote_bench(const RemoteBenchOptions& o) {
  serve::RemoteBenchRequest request;
  request.url = o.url;
  request.metrics_url = o.metrics_url;
  for (const auto& file : expand_inputs(o.inputs)) request.inputs.push_back({file.string(), file_bytes(file)});
  request.input_tensor = o.input_tensor;
  request.load.requests = o.bench.requests;
  request.load.warmup = o.bench.warmup;
  request.load.rate_rps = o.bench.rate_rps;
  request.load.concurrency = o.bench.concurrency;  // 0: the server's workers decide
  if (!o.bench.json) request.on_note = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  ProgressBar progress("bench");
  if (o.bench.progress)
    request.load.on_progress = [&](uint64_t done, uint64_t total) { progress.update(done, total); };
  const serve::RemoteBench bench = serve::bench_remote(request);
  progress.finish();

  BenchContext context;
  context.pipeline = bench.model;
  context.warmup = request.load.warmup;
  context.url = bench.url;
  context.client = bench.client;
  context.load = request.load.rate_rps ? fmt::format("open loop, Poisson arrivals at {:g} req/s", *request.load.rate_rps)
                                       : fmt::format("closed loop, concurrency {}", bench.concurrency);
  if (o.bench.json)
    std::printf("%s\n", json_text(bench_report_json(context, bench.result), 2).c_str());
  else
    std::printf("%s", format_bench_report(context, bench.result).c_str());
  return bench.result.errors > 0 ? 3 : 0;
}

}  // namespace conveyor::cli
