#include "api/split_stages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "api/model_bytes.hpp"
#include "api/node_cost_cache.hpp"
#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/engine/fused_chains.hpp"
#include "conveyor/graph/partition.hpp"
#include "conveyor/ops/shared_model_graph.hpp"
#include "conveyor/plan/choose_split.hpp"
#include "conveyor/runtime/core_allocation.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

// Where a failing split stage's errors point.
struct StageSite {
  std::string file;
  std::string path;  // "stages[2]"
  const StageConfig& stage;

  int line_of(const std::string& key) const {
    auto it = stage.key_lines.find(key);
    return it == stage.key_lines.end() || it->second <= 0 ? stage.line : it->second;
  }
  int arg_line(const std::string& arg) const {
    auto it = stage.arg_lines.find(arg);
    return it == stage.arg_lines.end() || it->second <= 0 ? line_of("args") : it->second;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& message) const {
    throw ConfigError(file, line_of(key), path + "." + key, message);
  }
  [[noreturn]] void fail_arg(const std::string& arg, const std::string& message) const {
    throw ConfigError(file, arg_line(arg), path + ".args." + arg, message);
  }
};

std::uint64_t fnv1a(std::uint64_t hash, const std::string& bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string hex16(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

int cores_claimed(const StageConfig& stage, const Topology& topology) {
  if (stage.with_previous) return 0;  // merged: runs on the previous stage's cores
  return conveyor::cores_claimed(stage.workers, stage.cores, topology);
}

// Cores one segment stage needs: workers x cores per worker (an unpinned worker counts as one core).
int cores_per_segment(const StageConfig& stage) {
  const int per_worker = stage.cores.kind == CoreSpec::Kind::kCount ? stage.cores.per_worker : 1;
  return std::max(1, stage.workers * per_worker);
}

// Threads each worker runs the model on: `threads` in args, else threads_per_worker.
int cost_threads(const StageConfig& stage, const Topology& topology) {
  if (stage.args.has("threads"))
    if (const auto threads = stage.args.at("threads").int64_if_fits(); threads && *threads > 0)
      return static_cast<int>(std::min<int64_t>(*threads, EngineOptions::kMaxThreads));
  return threads_per_worker(stage, topology);
}

// Sample tensor name of model tensor `name`: graph inputs and outputs go through the stage's mappings.
std::string sample_name(const std::string& name, const OpArgs& input_map, const OpArgs& output_map) {
  for (const OpArgs* map : {&output_map, &input_map})
    if (map->has(name) && map->at(name).is_string()) return map->at(name).as_string();
  return name;
}

// The slowest stage other than `index` as a time per item over all its workers, 0 when none is known.
double slowest_other_stage_ms(const PipelineConfig& config, std::size_t index, const SplitOptions& options) {
  double slowest = 0;
  for (std::size_t i = 0; i < config.stages.size(); ++i)
    if (const auto it = options.stage_ms.find(config.stages[i].name);
        i != index && it != options.stage_ms.end())
      slowest = std::max(slowest, it->second);
  return slowest;
}

std::string ms_text(double ms) {
  return fmt::format("{:.{}f} ms", ms, ms < 10 ? 2 : 1);
}

// "resnet50: split: auto chose 3 segments (bottleneck 41.2 ms → 15.1 ms; 4 would gain < 5%)"
std::string describe_choice(const std::string& stage, const plan::SplitChoice& choice) {
  const int k = choice.segments;
  std::string why = "bottleneck " + ms_text(choice.bottleneck_ms.front());
  if (k > 1) why += " → " + ms_text(choice.bottleneck_ms[static_cast<std::size_t>(k - 1)]);
  const int gain_percent = static_cast<int>(std::lround(plan::kSplitMinGain * 100));
  switch (choice.stop) {
    case plan::SplitChoice::Stop::kSmallGain:
      why += fmt::format("; {} would gain < {}%", k + 1, gain_percent);
      break;
    case plan::SplitChoice::Stop::kLimit:
      why += fmt::format("; {} is the most the free cores allow", k);
      break;
    case plan::SplitChoice::Stop::kNoCut:
      why += fmt::format("; the model has no cut into {} that keeps fused nodes together", k + 1);
      break;
  }
  if (choice.floor_ms > 0 && choice.floor_ms >= choice.bottleneck_ms[static_cast<std::size_t>(k - 1)])
    why += "; the other stages set " + ms_text(choice.floor_ms);
  return fmt::format("{}: split: auto chose {} segment{} ({})", stage, k, k == 1 ? "" : "s", why);
}

std::vector<StageConfig> expand_stage(const PipelineConfig& config, std::size_t index,
                                      const SplitOptions& options, const fs::path& cache_dir,
                                      std::vector<AutoSplitChoice>& auto_splits) {
  const StageConfig& stage = config.stages[index];
  const StageSite site{config.file.string(), "stages[" + std::to_string(index) + "]", stage};
  if (!stage.args.has("path") || !stage.args.at("path").is_string() ||
      stage.args.at("path").as_string().empty())
    site.fail_arg("path", "a split onnx stage needs args.path, the model file to cut");
  const fs::path model_path = resolve_arg_file(stage.args.at("path").as_string(), config.base_dir);

  std::map<std::string, int64_t> dims;
  const Topology& topology = options.topology ? *options.topology : Topology::detect();
  // Bump the version when what shapes the node costs changes (the key names the cached costs).
  std::string hash_material =
      "segments-v2;threads=" + std::to_string(cost_threads(stage, topology)) + ";cpu=" + topology.cpu_model();
  if (stage.args.has("dims") && stage.args.at("dims").is_mapping()) {
    const OpArgs given = stage.args.at("dims");
    for (const auto& name : given.keys()) {
      const auto size = given.at(name).int64_if_fits();
      if (!size || *size < 1)
        site.fail_arg("dims", "'" + name + "' must be an integer >= 1, got " + given.at(name).to_json());
      dims[name] = *size;
      hash_material += ";" + name + "=" + std::to_string(*size);
    }
  }
  std::shared_ptr<const Graph> model;
  try {
    model = ops::shared_model_graph(model_path, dims);
  } catch (const std::exception& error) {
    site.fail_arg("path", std::string("cannot load the model to split it: ") + error.what());
  }
  const Graph& graph = *model;

  std::vector<double> node_cost_ms;
  if (options.costs == SplitOptions::Costs::kAnalytic) {
    AnalyticCostOptions cost;
    cost.threads = cost_threads(stage, topology);
    node_cost_ms = analytic_node_cost_ms(graph, cost);
  } else {
    std::string bytes;
    try {
      bytes = read_model_bytes(model_path);
    } catch (const std::exception& error) {
      site.fail_arg("path", std::string("cannot load the model to split it: ") + error.what());
    }
    const std::string key = hex16(fnv1a(fnv1a(14695981039346656037ull, bytes), hash_material));
    try {
      node_cost_ms = cached_node_cost_ms(graph, key, cost_threads(stage, topology), options.cost_runs, cache_dir);
    } catch (const std::exception& e) {
      site.fail_arg("path", std::string("cannot time the model's nodes to split it: ") + e.what());
    }
  }
  PartitionOptions partition_options;  // the default, fixed copy bandwidth keeps the cut deterministic
  partition_options.kept_together = fused_chains(graph);  // a cut never splits what the engine fuses
  int segments = *stage.split;
  if (segments == StageConfig::kSplitAuto) {
    int available = topology.core_count();
    for (std::size_t i = 0; i < config.stages.size(); ++i)
      if (i != index) available -= cores_claimed(config.stages[i], topology);
    const int max_segments = std::max(1, available / cores_per_segment(stage));
    // The segments' items are shared by the stage's workers; compare with the others per worker of it.
    const double floor_ms = slowest_other_stage_ms(config, index, options) * stage.workers;
    const plan::SplitChoice choice =
        plan::explain_auto_split(graph, node_cost_ms, max_segments, floor_ms, partition_options);
    segments = choice.segments;
    auto_splits.push_back(AutoSplitChoice{stage.name, choice.segments, choice.max_segments,
                                          choice.bottleneck_ms, choice.floor_ms,
                                          describe_choice(stage.name, choice)});
  }
  partition_options.stages = segments;
  Partition partition;
  try {
    partition = partition_graph(graph, node_cost_ms, partition_options);
  } catch (const GraphError& error) {
    site.fail("split", "cannot cut '" + model_path.filename().string() + "' into " +
                           std::to_string(segments) + " segments: " + error.what());
  }

  const OpArgs input_map = stage.args.has("inputs") ? stage.args.at("inputs") : OpArgs();
  const OpArgs output_map = stage.args.has("outputs") ? stage.args.at("outputs") : OpArgs();
  std::vector<StageConfig> expanded;
  for (std::size_t s = 0; s < partition.stages.size(); ++s) {
    StageConfig segment = stage;
    segment.split.reset();
    segment.with_previous = s == 0 && stage.with_previous;  // the segments themselves run one after another
    segment.name = stage.name + "." + std::to_string(s);
    OpArgs inputs, outputs;
    std::vector<std::string> input_bounds, output_bounds;
    for (const CutTensor& t : partition.stages[s].inputs) {
      inputs.set(t.name, sample_name(t.name, input_map, output_map));
      input_bounds.push_back(t.name);
    }
    for (const CutTensor& t : partition.stages[s].outputs) {
      outputs.set(t.name, sample_name(t.name, input_map, output_map));
      output_bounds.push_back(t.name);
    }
    segment.args.set("inputs", std::move(inputs));
    segment.args.set("outputs", std::move(outputs));
    segment.args.set("segment", OpArgs().set("inputs", input_bounds).set("outputs", output_bounds));
    expanded.push_back(std::move(segment));
  }
  return expanded;
}

}  // namespace

fs::path default_segment_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return fs::path(xdg) / "conveyor" / "segments";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "conveyor" / "segments";
  return "/tmp/conveyor/segments";
}

PipelineConfig expand_splits(const PipelineConfig& config, const SplitOptions& options) {
  const fs::path cache_dir = options.cache_dir.empty() ? default_segment_cache_dir() : options.cache_dir;
  PipelineConfig result = config;
  result.stages.clear();
  std::map<std::string, std::size_t> original_names;
  for (std::size_t i = 0; i < config.stages.size(); ++i) original_names.emplace(config.stages[i].name, i);
  for (std::size_t i = 0; i < config.stages.size(); ++i) {
    const StageConfig& stage = config.stages[i];
    if (!stage.split) {
      result.stages.push_back(stage);
      continue;
    }
    for (StageConfig& segment : expand_stage(config, i, options, cache_dir, result.auto_splits)) {
      if (const auto other = original_names.find(segment.name); other != original_names.end()) {
        const StageConfig& taken = config.stages[other->second];
        throw ConfigError(
            config.file.string(), stage.key_lines.count("name") ? stage.key_lines.at("name") : stage.line,
            "stages[" + std::to_string(i) + "].name",
            "splitting stage '" + stage.name + "' makes a stage named '" + segment.name + "', which stage " +
                std::to_string(other->second) + " (line " + std::to_string(taken.line) + ") already has");
      }
      result.stages.push_back(std::move(segment));
    }
  }
  return result;
}

}  // namespace conveyor
