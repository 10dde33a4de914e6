#include "conveyor/serve/remote_bench.hpp"

#include <numeric>

#include "serve/http_get.hpp"
#include "serve/kserve_client.hpp"
#include "serve/remote_load.hpp"
#include "serve/request_tensor.hpp"
#include "serve/stage_scrape.hpp"

namespace conveyor::serve {
namespace {

constexpr int kDefaultConcurrency = 4;  // when the server's /metrics does not say how many workers it has

const TensorMetadata& chosen_input(const ModelMetadata& metadata, const std::optional<std::string>& name) {
  std::string names;
  for (const auto& input : metadata.inputs) names += (names.empty() ? "'" : ", '") + input.name + "'";
  if (metadata.inputs.empty()) throw std::runtime_error("model '" + metadata.name + "' lists no inputs");
  if (!name) {
    if (metadata.inputs.size() > 1)
      throw std::runtime_error("model '" + metadata.name + "' takes " + std::to_string(metadata.inputs.size()) +
                               " inputs (" + names + "); bench --url sends one per request");
    return metadata.inputs.front();
  }
  for (const auto& input : metadata.inputs)
    if (input.name == *name) return input;
  throw std::runtime_error("model '" + metadata.name + "' has no input '" + *name + "'; its inputs: " + names);
}

// Reads one model's stages from a server's /metrics; says why through `on_note` when it cannot, once.
class StageScraper {
 public:
  StageScraper(std::optional<HttpUrl> url, std::string model, std::function<void(const std::string&)> on_note)
      : url_(std::move(url)), model_(std::move(model)), on_note_(std::move(on_note)) {}

  std::vector<StageCounters> scrape() {
    if (!url_) return {};
    try {
      const auto answer = http_get(url_->host, url_->port, url_->target, std::chrono::seconds(30));
      if (answer.status != 200) throw std::runtime_error("HTTP " + std::to_string(answer.status));
      auto stages = scrape_stages(answer.body, model_);
      if (stages.empty()) throw std::runtime_error("no conveyor_stage_* series of model '" + model_ + "'");
      return stages;
    } catch (const std::exception& e) {
      note("no stage table: " + url_->host + ":" + std::to_string(url_->port) + url_->target + ": " + e.what());
      url_.reset();
      return {};
    }
  }

  void note(const std::string& line) const {
    if (on_note_) on_note_(line);
  }

 private:
  std::optional<HttpUrl> url_;
  std::string model_;
  std::function<void(const std::string&)> on_note_;
};

}  // namespace

RemoteBench bench_remote(const RemoteBenchRequest& request) {
  const KServeUrl url = parse_kserve_url(request.url);
  std::optional<HttpUrl> metrics_url;
  if (!request.metrics_url.empty())
    metrics_url = parse_metrics_url(request.metrics_url);
  else if (url.protocol == Protocol::kHttp)
    metrics_url = HttpUrl{url.host, url.port, "/metrics"};

  const std::unique_ptr<KServeClient> client = make_kserve_client(url);
  const ModelMetadata metadata = client->metadata();
  const TensorMetadata& input = chosen_input(metadata, request.input_tensor);
  std::vector<PreparedHandle> prepared;  // one per input, encoded once
  for (const auto& given : request.inputs)
    prepared.push_back(client->prepare({request_tensor(input, given.bytes, given.origin)}));

  StageScraper scraper(metrics_url, metadata.name, request.on_note);
  std::vector<StageCounters> before = scraper.scrape();
  LoadSpec load = request.load;
  const int workers = std::accumulate(before.begin(), before.end(), 0,
                                      [](int sum, const StageCounters& s) { return sum + s.workers; });
  if (load.concurrency <= 0) load.concurrency = workers > 0 ? 2 * workers : kDefaultConcurrency;

  RemoteBench bench;
  bench.model = metadata.name;
  bench.url = url.text;
  bench.client = client->describe();
  bench.concurrency = load.concurrency;
  Clock::time_point measured_from;
  bench.result = run_remote_load(*client, prepared, load, [&] {
    before = scraper.scrape();
    measured_from = Clock::now();
  });
  const std::vector<StageCounters> after = before.empty() ? before : scraper.scrape();
  const double seconds = std::chrono::duration<double>(Clock::now() - measured_from).count();
  bench.result.pipeline.stages = stage_metrics_between(before, after, seconds);
  if (bench.result.pipeline.stages.empty() && !before.empty())
    scraper.note("no stage table: the server's stages changed during the run (a reload?)");
  return bench;
}

}  // namespace conveyor::serve
