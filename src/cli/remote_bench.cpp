#include "cli/remote_bench.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <numeric>

#include "cli/inputs.hpp"
#include "cli/json_text.hpp"
#include "cli/progress_bar.hpp"
#include "serve/http_get.hpp"
#include "serve/kserve_client.hpp"
#include "serve/remote_load.hpp"
#include "serve/request_tensor.hpp"
#include "serve/stage_scrape.hpp"

namespace conveyor::cli {
namespace {

constexpr int kDefaultConcurrency = 4;  // when the server's /metrics does not say how many workers it has

std::string file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot read input '" + file.string() + "'");
  std::string bytes(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw std::runtime_error("cannot read input '" + file.string() + "'");
  return bytes;
}

const serve::TensorMetadata& chosen_input(const serve::ModelMetadata& metadata,
                                          const std::optional<std::string>& name) {
  std::string names;
  for (const auto& input : metadata.inputs) names += (names.empty() ? "'" : ", '") + input.name + "'";
  if (metadata.inputs.empty()) throw std::runtime_error("model '" + metadata.name + "' lists no inputs");
  if (!name) {
    if (metadata.inputs.size() > 1)
      throw std::runtime_error("model '" + metadata.name + "' takes " +
                               std::to_string(metadata.inputs.size()) + " inputs (" + names +
                               "); bench --url sends one per request");
    return metadata.inputs.front();
  }
  for (const auto& input : metadata.inputs)
    if (input.name == *name) return input;
  throw std::runtime_error("model '" + metadata.name + "' has no input '" + *name +
                           "'; its inputs: " + names);
}

// Reads one model's stages from a server's /metrics; says why on stderr (not with --json) when it cannot.
class StageScraper {
 public:
  StageScraper(std::optional<serve::HttpUrl> url, std::string model, bool quiet)
      : url_(std::move(url)), model_(std::move(model)), quiet_(quiet) {}

  std::vector<serve::StageCounters> scrape() {
    if (!url_) return {};
    try {
      const auto answer = serve::http_get(url_->host, url_->port, url_->target, std::chrono::seconds(30));
      if (answer.status != 200) throw std::runtime_error("HTTP " + std::to_string(answer.status));
      auto stages = serve::scrape_stages(answer.body, model_);
      if (stages.empty()) throw std::runtime_error("no conveyor_stage_* series of model '" + model_ + "'");
      return stages;
    } catch (const std::exception& e) {
      if (!quiet_)
        std::fprintf(stderr, "no stage table: %s%s: %s\n", url_->host.c_str(),
                     (":" + std::to_string(url_->port) + url_->target).c_str(), e.what());
      url_.reset();  // once is enough
      return {};
    }
  }

 private:
  std::optional<serve::HttpUrl> url_;
  std::string model_;
  bool quiet_;
};

}  // namespace

int run_remote_bench(const RemoteBenchOptions& o) {
  const serve::KServeUrl url = serve::parse_kserve_url(o.url);
  std::optional<serve::HttpUrl> metrics_url;
  if (!o.metrics_url.empty())
    metrics_url = serve::parse_metrics_url(o.metrics_url);
  else if (url.protocol == serve::Protocol::kHttp)
    metrics_url = serve::HttpUrl{url.host, url.port, "/metrics"};

  const std::unique_ptr<serve::KServeClient> client = serve::make_kserve_client(url);
  const serve::ModelMetadata metadata = client->metadata();
  const serve::TensorMetadata& input = chosen_input(metadata, o.input_tensor);
  std::vector<serve::PreparedHandle> requests;  // one per input file, encoded once
  for (const auto& file : expand_inputs(o.inputs))
    requests.push_back(client->prepare({serve::request_tensor(input, file_bytes(file), file.string())}));

  StageScraper scraper(metrics_url, metadata.name, o.bench.json);
  std::vector<serve::StageCounters> before = scraper.scrape();
  LoadSpec load;
  load.requests = o.bench.requests;
  load.warmup = o.bench.warmup;
  load.rate_rps = o.bench.rate_rps;
  const int workers = std::accumulate(before.begin(), before.end(), 0,
                                      [](int sum, const serve::StageCounters& s) { return sum + s.workers; });
  load.concurrency = o.bench.concurrency > 0 ? o.bench.concurrency
                     : workers > 0           ? 2 * workers
                                             : kDefaultConcurrency;
  BenchContext context;
  context.pipeline = metadata.name;
  context.warmup = load.warmup;
  context.url = url.text;
  context.client = client->describe();
  context.load = load.rate_rps ? fmt::format("open loop, Poisson arrivals at {:g} req/s", *load.rate_rps)
                               : fmt::format("closed loop, concurrency {}", load.concurrency);

  ProgressBar progress("bench");
  if (o.bench.progress)
    load.on_progress = [&](uint64_t done, uint64_t total) { progress.update(done, total); };
  Clock::time_point measured_from;
  LoadResult result = serve::run_remote_load(*client, requests, load, [&] {
    before = scraper.scrape();
    measured_from = Clock::now();
  });
  const std::vector<serve::StageCounters> after = before.empty() ? before : scraper.scrape();
  const double seconds = std::chrono::duration<double>(Clock::now() - measured_from).count();
  progress.finish();
  result.pipeline.stages = serve::stage_metrics_between(before, after, seconds);
  if (result.pipeline.stages.empty() && !before.empty() && !o.bench.json)
    std::fprintf(stderr, "no stage table: the server's stages changed during the run (a reload?)\n");

  if (o.bench.json)
    std::printf("%s\n", json_text(bench_report_json(context, result), 2).c_str());
  else
    std::printf("%s", format_bench_report(context, result).c_str());
  return result.errors > 0 ? 3 : 0;
}

}  // namespace conveyor::cli
