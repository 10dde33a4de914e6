#include "serve/stage_scrape.hpp"

#include <cstdlib>
#include <map>
#include <optional>

#include "conveyor/api/runtime.hpp"

namespace conveyor::serve {
namespace {

struct Sample {
  std::string_view name;
  std::map<std::string, std::string, std::less<>> labels;
  double value = 0;
};

// One sample line: NAME{key="value",...} VALUE [TIMESTAMP]; nothing for comments and what does not parse.
std::optional<Sample> parse_line(std::string_view line) {
  if (line.empty() || line.front() == '#') return std::nullopt;
  Sample out;
  std::size_t at = line.find_first_of("{ ");
  if (at == std::string_view::npos) return std::nullopt;
  out.name = line.substr(0, at);
  if (line[at] == '{') {
    ++at;
    while (at < line.size() && line[at] != '}') {
      const auto eq = line.find('=', at);
      if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return std::nullopt;
      std::string key(line.substr(at, eq - at));
      std::string value;
      std::size_t i = eq + 2;
      for (; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          value += line[i] == 'n' ? '\n' : line[i];
        } else {
          value += line[i];
        }
      }
      if (i >= line.size()) return std::nullopt;
      out.labels.emplace(std::move(key), std::move(value));
      at = i + 1;
      if (at < line.size() && line[at] == ',') ++at;
    }
    if (at >= line.size()) return std::nullopt;
    ++at;
  }
  const std::string number(line.substr(at));
  char* end = nullptr;
  out.value = std::strtod(number.c_str(), &end);
  if (end == number.c_str()) return std::nullopt;
  return out;
}

}  // namespace

std::vector<StageCounters> scrape_stages(std::string_view text, const std::string& model) {
  std::vector<StageCounters> stages;
  StageCounters front_end{.name = kFrontEndStage};
  std::map<std::string, std::size_t, std::less<>> index;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const auto sample = parse_line(text.substr(start, end - start));
    start = end + 1;
    if (!sample) continue;
    if (sample->name.starts_with("conveyor_front_end_")) {
      const std::string_view name = sample->name.substr(19);
      if (name == "cpu_seconds_total")
        front_end.busy_seconds = front_end.service_seconds = sample->value;
      else if (name == "requests_total")
        front_end.items = front_end.service_count = sample->value;
      else if (name == "threads")
        front_end.workers = static_cast<int>(sample->value);
      continue;
    }
    if (!sample->name.starts_with("conveyor_stage_")) continue;
    const auto m = sample->labels.find("model");
    const auto s = sample->labels.find("stage");
    if (m == sample->labels.end() || m->second != model || s == sample->labels.end()) continue;
    auto [it, added] = index.try_emplace(s->second, stages.size());
    if (added) stages.push_back({.name = s->second});
    StageCounters& stage = stages[it->second];
    const std::string_view name = sample->name.substr(15);
    const double v = sample->value;
    if (name == "items_total")
      stage.items = v;
    else if (name == "errors_total")
      stage.errors = v;
    else if (name == "busy_seconds_total")
      stage.busy_seconds = v;
    else if (name == "workers")
      stage.workers = static_cast<int>(v);
    else if (name == "threads_per_worker")
      stage.threads_per_worker = static_cast<int>(v);
    else if (name == "service_seconds_sum")
      stage.service_seconds = v;
    else if (name == "service_seconds_count")
      stage.service_count = v;
    else if (name == "queue_seconds_sum")
      stage.queue_seconds = v;
    else if (name == "queue_seconds_count")
      stage.queue_count = v;
  }
  if (!stages.empty() && front_end.workers > 0) stages.insert(stages.begin(), std::move(front_end));
  return stages;
}

std::vector<StageMetrics> stage_metrics_between(const std::vector<StageCounters>& before,
                                                const std::vector<StageCounters>& after, double seconds) {
  if (before.size() != after.size() || after.empty()) return {};
  std::vector<StageMetrics> out;
  for (std::size_t i = 0; i < after.size(); ++i) {
    const StageCounters& a = before[i];
    const StageCounters& b = after[i];
    if (a.name != b.name || b.items < a.items || b.errors < a.errors || b.busy_seconds < a.busy_seconds ||
        b.service_count < a.service_count || b.queue_count < a.queue_count)
      return {};
    StageMetrics stage;
    stage.name = b.name;
    stage.workers = b.workers;
    stage.threads_per_worker = b.threads_per_worker;
    stage.items = static_cast<uint64_t>(b.items - a.items);
    stage.errors = static_cast<uint64_t>(b.errors - a.errors);
    stage.busy_seconds = b.busy_seconds - a.busy_seconds;
    stage.utilization = seconds > 0 && b.workers > 0 ? stage.busy_seconds / (seconds * b.workers) : 0;
    auto mean_ms = [](double sum, double count) { return count > 0 ? 1e3 * sum / count : 0.0; };
    stage.service.count = static_cast<uint64_t>(b.service_count - a.service_count);
    stage.service.sum_ms = 1e3 * (b.service_seconds - a.service_seconds);
    stage.service.mean_ms = mean_ms(b.service_seconds - a.service_seconds, b.service_count - a.service_count);
    stage.queue_wait.count = static_cast<uint64_t>(b.queue_count - a.queue_count);
    stage.queue_wait.sum_ms = 1e3 * (b.queue_seconds - a.queue_seconds);
    stage.queue_wait.mean_ms = mean_ms(b.queue_seconds - a.queue_seconds, b.queue_count - a.queue_count);
    out.push_back(std::move(stage));
  }
  return out;
}

}  // namespace conveyor::serve
