#include "cli/stage_profiles.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "conveyor/runtime/topology.hpp"

namespace conveyor::cli {
namespace {

int parse_int(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw std::invalid_argument(what + ": '" + text + "' is not a number");
  return value;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

}  // namespace

plan::StageIdentity stage_identity(const PipelineConfig& config, const StageConfig& stage) {
  return {stage.op, stage.args, config.base_dir};
}

int configured_threads(const StageConfig& stage) {
  if (stage.threads > 0) return stage.threads;
  switch (stage.cores.kind) {
    case CoreSpec::Kind::kCount:
      return stage.cores.per_worker;
    case CoreSpec::Kind::kIds:
      return std::max<int>(1, static_cast<int>(stage.cores.ids.size()) / stage.workers);
    case CoreSpec::Kind::kUnpinned:
      return 1;
  }
  return 1;
}

std::string profile_command_hint(const PipelineConfig& config, const std::string& threads) {
  return fmt::format("conveyor profile {} --input FILES... --threads {}", config.file.string(), threads);
}

std::vector<plan::StageProfile> load_stage_profiles(const PipelineConfig& config,
                                                    const plan::ProfileStore& store,
                                                    const std::string& cpu_model) {
  std::vector<plan::StageProfile> profiles;
  std::vector<std::string> missing;
  for (const auto& stage : config.stages) {
    plan::StageProfile p;
    p.name = stage.name;
    for (const auto& entry : store.lookup_all_threads(stage_identity(config, stage), cpu_model))
      p.by_threads[entry.threads] = entry.service_time();
    if (!p.by_threads.count(1)) missing.push_back("'" + stage.name + "'");
    profiles.push_back(std::move(p));
  }
  if (!missing.empty())
    throw std::runtime_error(fmt::format(
        "no profile on this CPU ({}) for stage{} {} of '{}' (profiles in {}).\nMeasure them first:\n  {}",
        cpu_model, missing.size() > 1 ? "s" : "", fmt::join(missing, ", "), config.name, store.dir().string(),
        profile_command_hint(config, "1..N")));
  return profiles;
}

std::vector<int> parse_core_budget(const std::string& text) {
  if (text.empty()) throw std::invalid_argument("--cores: empty");
  const bool is_list = text.find_first_of(",-") != std::string::npos;
  if (!is_list) {
    const int n = parse_int(text, "--cores");
    if (n < 1) throw std::invalid_argument("--cores: needs at least 1 core");
    if (n > 4096)
      throw std::invalid_argument("--cores: " + text + " cores is more than the planner handles (4096)");
    const auto& machine = Topology::detect().cpus();
    if (n <= static_cast<int>(machine.size())) return {machine.begin(), machine.begin() + n};
    std::vector<int> ids(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) ids[static_cast<std::size_t>(i)] = i;
    return ids;
  }
  std::vector<int> ids;
  std::set<int> seen;
  for (const auto& part : split(text, ',')) {
    if (part.empty()) continue;  // "5," names the single core 5
    const auto dash = part.find('-');
    const int first = parse_int(part.substr(0, dash), "--cores");
    const int last = dash == std::string::npos ? first : parse_int(part.substr(dash + 1), "--cores");
    if (first < 0 || last < first) throw std::invalid_argument("--cores: bad range '" + part + "'");
    for (int id = first; id <= last; ++id) {
      if (!seen.insert(id).second)
        throw std::invalid_argument("--cores: core " + std::to_string(id) + " given twice");
      ids.push_back(id);
    }
  }
  if (ids.empty()) throw std::invalid_argument("--cores: no core ids in '" + text + "'");
  return ids;
}

std::vector<int> parse_thread_counts(const std::string& text) {
  std::set<int> counts;
  for (const auto& part : split(text, ',')) {
    if (part.empty()) continue;
    const auto dots = part.find("..");
    const int first = parse_int(part.substr(0, dots), "--threads");
    const int last = dots == std::string::npos ? first : parse_int(part.substr(dots + 2), "--threads");
    if (first < 1 || last < first)
      throw std::invalid_argument("--threads: bad range '" + part + "' (counts are >= 1)");
    for (int t = first; t <= last; ++t) counts.insert(t);
  }
  if (counts.empty()) throw std::invalid_argument("--threads: no thread counts in '" + text + "'");
  return {counts.begin(), counts.end()};
}

}  // namespace conveyor::cli
