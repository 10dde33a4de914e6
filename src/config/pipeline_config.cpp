// The pipeline file: YAML describing a pipeline's stages and how they get cores.
//
//   name: image-classify     # optional; defaults to the file's stem
//   max_in_flight: 32        # optional, 1..1048576: requests admitted and not yet delivered (default 64)
//   queue_capacity: 8        # optional, 1..1048576: default input-queue capacity of every stage (default 16)
//   ordering: in_order       # optional: in_order (results in submit order) | completion (as they finish)
//   on_full: block           # optional: block | fail — what submit does when max_in_flight is reached
//   priority_aging_ms: 100   # optional, 0..86400000: stage queues serve higher Sample::priority first; a
//                            #   request gains a level per this many ms it waits (default 100; 0: FIFO)
//   plan: manual             # optional: manual (stages as written) | auto (run/bench take each stage's
//                            #   workers/threads/cores from the planner and stored profiles)
//   smt: on                  # optional: on (a worker runs on every hardware thread of its cores) | off
//                            #   (on one per core); either way stages own whole physical cores
//   stages:                  # required, a non-empty list, in data-flow order
//     - name: decode         # required, unique among the stages
//       op: image.decode     # required, an operator registry name (`conveyor ops` lists them)
//       workers: 1           # optional, 1..4096: replicas of the stage (default 1)
//       cores: 1             # optional (default 1), one of:
//                            #   N         physical cores each worker owns (1..4096)
//                            #   [0, 1]    the stage's hardware-thread (cpu) ids, split evenly among its
//                            #             workers (the count must be a multiple of workers); naming one
//                            #             thread of a core gives the worker the whole core
//                            #   none      unpinned: the OS schedules the workers
//       share_cores: false   # optional: may use cores other stages own (default false: stages' core-id
//                            #   lists must not overlap)
//       threads: 1           # optional, 1..1024: intra-op threads per worker (default: the hardware
//                            #   threads of its cores, one per core with smt: off)
//       queue_capacity: 4    # optional, 1..1048576: this stage's input queue (default: the pipeline's)
//       args: {...}          # optional mapping, the operator's arguments (the operator checks them)
//       split: 2             # optional, op onnx only: K >= 1 or auto — run the model as K segment stages
//                            #   "<name>.0".."<name>.K-1", each with this stage's workers/cores/threads
//                            #   (expanded by the api layer: src/api/split_stages.hpp)
//       batch: auto          # optional, with plan: auto: the planner chooses max_size (up to 8), sizes
//                            #   and max_delay from measured batch times, or no batching; or, as written:
//       batch:               # optional: dynamic batching — a worker that takes a request waits up to
//         max_size: 8        #   max_delay_ms for more, up to max_size (2..4096), and runs them as one
//         max_delay_ms: 2    #   batch (0..60000, default 0: only what is already queued); sizes:
//         sizes: [1, 4, 8]   #   optional, the batch sizes it may run (ascending, 1 first, max_size last;
//                            #   default 1, 2, 4, ... max_size); requests with different shapes never mix
//       with_previous: true  # optional: merged with the stage before it — run by that stage's workers
//                            #   right after it, with no queue between them (then workers, cores,
//                            #   share_cores, threads, queue_capacity, split and batch are the run's first
//                            #   stage's, and setting them here is an error)
//
// The format is strict: an unknown or duplicate key anywhere outside `args` is an error, as is a value of
// the wrong type or range; every error names the file, the line and the key ("stages[1].workers").
// Values under `args` follow the YAML 1.2 core schema: 12 is an integer, 1.5 a float, true a bool,
// "12" (quoted) a string; yes/no/on/off are strings. Relative paths in args resolve against the file's
// directory.
#include "conveyor/config/pipeline_config.hpp"

#include <climits>
#include <map>

#include "config/config_file.hpp"
#include "config/mapping_reader.hpp"
#include "config/yaml_value.hpp"
#include "conveyor/ops/thread_limit.hpp"
#include "runtime/op_args_json.hpp"

namespace conveyor {
namespace {

using config_detail::describe_node;
using config_detail::line_of;
using config_detail::MappingReader;

const std::vector<std::string> kPipelineKeys = {"name",    "max_in_flight", "queue_capacity",    "ordering",
                                                "on_full", "stages",        "priority_aging_ms", "plan",
                                                "smt"};
const std::vector<std::string> kStageKeys = {"name",        "op",   "workers", "cores",
                                             "threads",     "share_cores", "queue_capacity",
                                             "args",        "split", "with_previous", "batch"};

// Upper bounds, far above what a machine runs and low enough that what they make is small: max_in_flight
// and queue capacities are slots allocated up front; every worker is an OS thread; 4096 is the most cores
// the planner and the deployment file handle.
constexpr int kMaxSlots = 1 << 20;
constexpr int kMaxWorkers = 4096;
constexpr int kMaxCoresPerWorker = 4096;
constexpr int kMaxAgingMs = 24 * 3600 * 1000;  // a day: longer is strict priority in practice

int int_in_range(const MappingReader& reader, const std::string& key, int minimum, int maximum) {
  return static_cast<int>(reader.integer_at_least(key, minimum, maximum));
}

// `cores:` without regard to workers (checked by the caller once both are known).
CoreSpec read_cores(const MappingReader& stage) {
  const std::string key = "cores";
  const YAML::Node& node = stage.value(key);
  const std::string expected =
      "must be a number of cores per worker (>= 1), a list of core ids like [0, 1], or none";
  CoreSpec cores;
  if (node.IsScalar() && node.Scalar() == "none") {
    cores.kind = CoreSpec::Kind::kUnpinned;
    return cores;
  }
  if (node.IsScalar()) {
    nlohmann::json value;
    try {
      value = config_detail::scalar_value(node);
    } catch (const std::invalid_argument& error) {
      stage.fail(key, error.what());
    }
    if (!value.is_number_integer() || node.Tag() != "?")
      stage.fail(key, expected + ", got " + describe_node(node));
    cores.kind = CoreSpec::Kind::kCount;
    cores.per_worker = int_in_range(stage, key, 1, kMaxCoresPerWorker);
    return cores;
  }
  if (!node.IsSequence()) stage.fail(key, expected + ", got " + describe_node(node));
  if (node.size() == 0) stage.fail(key, "the list of core ids is empty");
  cores.kind = CoreSpec::Kind::kIds;
  std::map<int, int> line_of_id;
  std::size_t index = 0;
  for (const auto& item : node) {
    const std::string item_path = stage.path(key) + "[" + std::to_string(index++) + "]";
    const int item_line = line_of(item) > 0 ? line_of(item) : stage.line(key);
    nlohmann::json value;
    try {
      if (item.IsScalar()) value = config_detail::scalar_value(item);
    } catch (const std::invalid_argument& error) {
      throw ConfigError(stage.file(), item_line, item_path, error.what());
    }
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0 || value.get<std::int64_t>() > INT_MAX) {
      throw ConfigError(stage.file(), item_line, item_path,
                        "a core id must be an integer >= 0, got " + describe_node(item));
    }
    const int id = value.get<int>();
    if (auto [first, inserted] = line_of_id.emplace(id, item_line); !inserted) {
      throw ConfigError(stage.file(), item_line, item_path,
                        "core " + std::to_string(id) + " is listed twice (first at line " +
                            std::to_string(first->second) + ")");
    }
    cores.ids.push_back(id);
  }
  return cores;
}

// `split:` — K >= 1 or auto; only an onnx stage can be cut into segments.
int read_split(const MappingReader& stage, const StageConfig& config) {
  if (config.op != "onnx") {
    stage.fail("split", "only an 'onnx' stage can be split into segment stages; this stage's op is '" +
                            config.op + "'");
  }
  if (config.cores.kind == CoreSpec::Kind::kIds && !config.cores.shared) {
    stage.fail("split",
               "a split stage takes cores as a count per worker (cores: N), not a list of core "
               "ids: every segment stage gets the same cores setting");
  }
  const YAML::Node& node = stage.value("split");
  if (node.IsScalar() && node.Scalar() == "auto") return StageConfig::kSplitAuto;
  nlohmann::json value;
  try {
    if (node.IsScalar()) value = config_detail::scalar_value(node);
  } catch (const std::invalid_argument&) {
  }
  if (!value.is_number_integer() || node.Tag() != "?")
    stage.fail("split", "must be a number of segments (>= 1) or auto, got " + describe_node(node));
  return int_in_range(stage, "split", 1, INT_MAX);
}

// The most `batch: auto` lets the planner choose.
constexpr int kAutoBatchMaxSize = 8;

BatchSpec read_batch(const MappingReader& stage, bool& chosen_by_planner) {
  const YAML::Node& node = stage.value("batch");
  if (node.IsScalar() && node.Scalar() == "auto" && node.Tag() == "?") {
    chosen_by_planner = true;
    return BatchSpec{kAutoBatchMaxSize, {}, {}};
  }
  if (!node.IsMap())
    stage.fail("batch", "must be auto or a mapping such as {max_size: 8, max_delay_ms: 2}, got " +
                            describe_node(node));
  MappingReader batch(node, stage.file(), stage.path("batch"), stage.line("batch"),
                      {"max_size", "max_delay_ms", "sizes"});
  batch.require("max_size");
  BatchSpec spec;
  spec.max_size = static_cast<int>(batch.integer_at_least("max_size", 2, 4096));
  if (batch.has("max_delay_ms")) {
    const double delay_ms = batch.number_from("max_delay_ms", 0, 60000);
    spec.max_delay = std::chrono::microseconds(static_cast<int64_t>(delay_ms * 1000.0 + 0.5));
  }
  if (batch.has("sizes")) {
    const YAML::Node& sizes = batch.value("sizes");
    if (!sizes.IsSequence() || sizes.size() == 0)
      batch.fail("sizes", "must be a list of batch sizes such as [1, 4, 8], got " + describe_node(sizes));
    for (const auto& size : sizes) {
      int value = 0;
      if (!size.IsScalar() || !YAML::convert<int>::decode(size, value) || value < 1)
        batch.fail("sizes", "holds " + describe_node(size) + ", not a batch size >= 1");
      spec.sizes.push_back(value);
    }
  }
  try {
    spec.run_sizes();
  } catch (const std::invalid_argument& e) {
    batch.fail(batch.has("sizes") ? "sizes" : "max_size", e.what());
  }
  return spec;
}

StageConfig read_stage(const YAML::Node& node, const std::string& file, std::size_t index) {
  const std::string path = "stages[" + std::to_string(index) + "]";
  const int stage_line = line_of(node);
  MappingReader stage(node, file, path, stage_line, kStageKeys);
  StageConfig config;
  config.line = stage_line;
  stage.require("name");
  stage.require("op");
  config.name = stage.text("name");
  config.op = stage.text("op");
  config.key_lines = stage.key_lines();
  if (stage.has("workers")) config.workers = int_in_range(stage, "workers", 1, kMaxWorkers);
  if (stage.has("cores")) config.cores = read_cores(stage);
  if (stage.has("share_cores")) config.cores.shared = stage.boolean("share_cores");
  if (stage.has("threads")) config.threads = int_in_range(stage, "threads", 1, kMaxOpThreads);
  if (stage.has("queue_capacity"))
    config.queue_capacity = static_cast<std::size_t>(int_in_range(stage, "queue_capacity", 1, kMaxSlots));
  if (config.cores.kind == CoreSpec::Kind::kIds && config.cores.ids.size() % config.workers != 0) {
    stage.fail("cores", std::to_string(config.cores.ids.size()) + " core ids cannot be split evenly among " +
                            std::to_string(config.workers) +
                            " workers (the count must be a multiple of workers)");
  }
  if (stage.has("split")) config.split = read_split(stage, config);
  if (stage.has("batch")) config.batch = read_batch(stage, config.batch_auto);
  if (stage.has("with_previous")) {
    config.with_previous = stage.boolean("with_previous");
    if (config.with_previous && index == 0)
      stage.fail("with_previous", "the first stage has no previous stage to run with");
    if (config.with_previous)
      for (const char* key : {"workers", "cores", "share_cores", "threads", "queue_capacity", "split", "batch"})
        if (stage.has(key))
          stage.fail(key, std::string("a stage merged with the previous one (with_previous: true) runs on that "
                                      "stage's workers; set ") + key + " there");
  }
  if (stage.has("args")) {
    const YAML::Node& args = stage.value("args");
    if (!args.IsNull() && !args.IsMap()) {
      stage.fail("args", "must be a mapping of operator arguments, got " + describe_node(args));
    }
    if (args.IsMap()) {
      config.args =
          op_args_of(config_detail::yaml_to_json(args, file, stage.path("args"), stage.line("args")));
      for (const auto& entry : args) {
        const int key_line = line_of(entry.first);
        config.arg_lines[entry.first.Scalar()] = key_line > 0 ? key_line : stage.line("args");
      }
    }
  }
  return config;
}

// Stages own disjoint cores unless one of them opts into sharing.
void check_core_ids_disjoint(const std::vector<StageConfig>& stages, const std::string& file) {
  std::map<int, std::size_t> owner;  // core id -> index of the first unshared stage listing it
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const StageConfig& stage = stages[i];
    if (stage.cores.kind != CoreSpec::Kind::kIds || stage.cores.shared) continue;
    for (int id : stage.cores.ids) {
      auto [first, inserted] = owner.emplace(id, i);
      if (!inserted) {
        const StageConfig& other = stages[first->second];
        throw ConfigError(file, stage.key_lines.at("cores"), "stages[" + std::to_string(i) + "].cores",
                          "core " + std::to_string(id) + " is also listed by stage '" + other.name +
                              "' (line " + std::to_string(other.key_lines.at("cores")) +
                              "); stages own disjoint cores unless one sets share_cores: true");
      }
    }
  }
}

// A deployment file's top level (a `pipelines:` list and no `stages:`) where a pipeline was expected.
[[noreturn]] void fail_deployment_file(const YAML::Node& root, const config_detail::ConfigOrigin& where) {
  std::vector<std::string> files;
  const YAML::Node& pipelines = root["pipelines"];
  if (pipelines.IsSequence())
    for (const auto& entry : pipelines)
      if (entry.IsMap() && entry["pipeline"].IsScalar()) {
        const std::filesystem::path named = entry["pipeline"].Scalar();
        const std::filesystem::path parent = where.path.parent_path();
        files.push_back(named.is_absolute() || parent.empty() ? named.string()
                                                              : (parent / named).lexically_normal().string());
      }
  throw NotAPipelineFileError(where.file, std::move(files));
}

}  // namespace

PipelineConfig parse_pipeline_config(const std::string& yaml_text, const std::filesystem::path& origin) {
  const config_detail::ConfigOrigin where = config_detail::config_origin(origin, "pipeline");
  const std::string& file = where.file;
  const YAML::Node root = config_detail::load_config_mapping(
      yaml_text, file, "pipeline file", "a mapping of pipeline settings with at least 'stages'");
  if (root["pipelines"].IsDefined() && !root["stages"].IsDefined()) fail_deployment_file(root, where);
  MappingReader top(root, file, "", line_of(root), kPipelineKeys);

  PipelineConfig config;
  config.file = where.path;
  config.base_dir = where.base_dir;
  config.name = top.has("name") ? top.text("name") : where.default_name;
  PipelineOptions& options = config.options;
  options.name = config.name;
  if (top.has("max_in_flight"))
    options.max_in_flight = static_cast<std::size_t>(int_in_range(top, "max_in_flight", 1, kMaxSlots));
  if (top.has("queue_capacity"))
    options.queue_capacity = static_cast<std::size_t>(int_in_range(top, "queue_capacity", 1, kMaxSlots));
  if (top.has("ordering")) {
    options.ordering = top.choice("ordering", {"in_order", "completion"}) == "in_order"
                           ? Ordering::kInOrder
                           : Ordering::kCompletion;
  }
  if (top.has("on_full")) {
    options.on_full =
        top.choice("on_full", {"block", "fail"}) == "block" ? FullPolicy::kBlock : FullPolicy::kFail;
  }
  if (top.has("priority_aging_ms"))
    options.priority_aging =
        std::chrono::milliseconds(int_in_range(top, "priority_aging_ms", 0, kMaxAgingMs));

  if (top.has("plan")) {
    config.plan = top.choice("plan", {"manual", "auto"}) == "auto" ? PlanMode::kAuto : PlanMode::kManual;
  }

  top.require("stages");
  const YAML::Node& stages = top.value("stages");
  if (!stages.IsSequence()) top.fail("stages", "must be a list of stages, got " + describe_node(stages));
  if (stages.size() == 0) top.fail("stages", "needs at least one stage");
  std::map<std::string, int> line_of_name;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    StageConfig stage = read_stage(stages[i], file, i);
    const int name_line = stage.key_lines.at("name");
    if (auto [first, inserted] = line_of_name.emplace(stage.name, name_line); !inserted) {
      throw ConfigError(
          file, name_line, "stages[" + std::to_string(i) + "].name",
          "duplicate stage name '" + stage.name + "' (first at line " + std::to_string(first->second) + ")");
    }
    config.stages.push_back(std::move(stage));
  }
  check_core_ids_disjoint(config.stages, file);
  for (std::size_t i = 0; i < config.stages.size(); ++i)
    if (config.stages[i].batch_auto && config.plan != PlanMode::kAuto)
      throw ConfigError(file, config.stages[i].key_lines.at("batch"), "stages[" + std::to_string(i) + "].batch",
                        "batch: auto is chosen by the planner: set plan: auto, or give max_size (and "
                        "max_delay_ms) yourself");
  if (top.has("smt") && top.choice("smt", {"on", "off"}) == "off")
    for (auto& stage : config.stages) stage.cores.smt = false;
  return config;
}

PipelineConfig load_pipeline_config(const std::filesystem::path& file) {
  return parse_pipeline_config(config_detail::read_config_file(file, "pipeline file"), file);
}

}  // namespace conveyor
