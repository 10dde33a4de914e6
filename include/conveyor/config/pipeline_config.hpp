#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "conveyor/ops/registry.hpp"
#include "conveyor/runtime/op_args.hpp"
#include "conveyor/runtime/pipeline_spec.hpp"

namespace conveyor {

// An error in a pipeline file: names the file, the line (1-based; 0 when unknown) and the key.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string key, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& key() const { return key_; }

 private:
  std::string file_;
  int line_;
  std::string key_;
};

// A deployment file (several pipelines: deployment_config.hpp) given where a pipeline file is expected.
// `pipeline_files` are the pipeline files it names, relative to where the deployment file was named from
// ("examples/image_classify.yaml"), so that a client can suggest one.
class NotAPipelineFileError : public ConfigError {
 public:
  NotAPipelineFileError(std::string file, std::vector<std::string> pipeline_files);
  const std::vector<std::string>& pipeline_files() const { return pipeline_files_; }

 private:
  std::vector<std::string> pipeline_files_;
};

struct StageConfig {
  std::string name;
  std::string op;
  OpArgs args;  // an empty mapping when the stage gives none
  int workers = 1;
  CoreSpec cores;
  int threads = 0;
  std::size_t queue_capacity = 0;
  // `split:` of an onnx stage: cut the model into this many segment stages (kSplitAuto: let the planner
  // choose); empty = run the model whole. The api layer expands it (src/api/split_stages.hpp).
  std::optional<int> split;
  static constexpr int kSplitAuto = 0;
  BatchSpec batch;  // `batch:`; max_size 1 when the stage does not batch
  // `batch: auto`: the planner chooses the batch (batch.max_size is the most it may choose).
  bool batch_auto = false;
  // Merged with the stage before it: run by that stage's workers right after it (no queue between them).
  bool with_previous = false;
  int line = 0;                          // where the stage starts in the file
  std::map<std::string, int> key_lines;  // line of each key the stage sets (name, op, cores, ...)
  std::map<std::string, int> arg_lines;  // line of each key under args
};

// plan: manual keeps each stage's workers/cores/threads as written; auto lets the planner choose them.
enum class PlanMode { kManual, kAuto };

// What `split: auto` chose for one stage, recorded when the api layer cuts the model (a file as read has
// none), so that start-up and reports can say it.
struct AutoSplitChoice {
  std::string stage;  // the stage as the file names it
  int segments = 1;
  int max_segments = 1;               // the most the cores left for the stage allowed
  std::vector<double> bottleneck_ms;  // the model's bottleneck at 1, 2, ... segments, as far as it looked
  double floor_ms = 0;                // the slowest other stage's time per item (0: not known)
  // "resnet50: split: auto chose 3 segments (bottleneck 41.2 ms → 15.1 ms; 4 would gain < 5%)"
  std::string summary;
};

struct PipelineConfig {
  std::string name;
  PlanMode plan = PlanMode::kManual;
  std::filesystem::path file;      // the YAML file ("<string>" when parsed from text)
  std::filesystem::path base_dir;  // relative paths resolve against it
  PipelineOptions options;
  std::vector<StageConfig> stages;
  std::vector<AutoSplitChoice> auto_splits;  // filled by expanding the split stages
};

// Reads and validates a pipeline file (format: see src/config/pipeline_config.cpp). Throws ConfigError;
// NotAPipelineFileError for a deployment file.
PipelineConfig load_pipeline_config(const std::filesystem::path& file);
// The same for YAML text; `origin` names it in errors, gives the default name (its stem) and the base
// directory (its parent; the current directory when it has none).
PipelineConfig parse_pipeline_config(const std::string& yaml_text, const std::filesystem::path& origin);

// Builds every stage's operator factory (and signature) from the registry. Bad op names and args become ConfigErrors
// pointing at the line of the stage or argument.
std::vector<StageSpec> build_stage_specs(const PipelineConfig& config, const OperatorRegistry& registry);

}  // namespace conveyor
