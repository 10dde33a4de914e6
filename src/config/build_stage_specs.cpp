#include "config/closest_name.hpp"
#include "conveyor/config/pipeline_config.hpp"

namespace conveyor {
namespace {

int line_or(const std::map<std::string, int>& lines, const std::string& key, int fallback) {
  auto it = lines.find(key);
  return it == lines.end() || it->second <= 0 ? fallback : it->second;
}

// The top-level arg an OpArgError key refers to: "size" for "size[1]" or "mean.0".
std::string top_level_arg(const std::string& key) {
  return key.substr(0, key.find_first_of(".["));
}

[[noreturn]] void fail_unknown_op(const PipelineConfig& config, const StageConfig& stage, std::size_t index,
                                  const OperatorRegistry& registry) {
  std::vector<std::string> known;
  for (const auto& [name, summary] : registry.list()) known.push_back(name);
  const std::string guess = config_detail::closest_name(stage.op, known);
  throw ConfigError(config.file.string(), line_or(stage.key_lines, "op", stage.line),
                    "stages[" + std::to_string(index) + "].op",
                    "unknown op '" + stage.op + "'" +
                        (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                        "; known ops: " + (known.empty() ? "none" : config_detail::join_names(known)));
}

// An arg the operator does not take, with the one most like it.
[[noreturn]] void fail_unknown_arg(const PipelineConfig& config, const StageConfig& stage, std::size_t index,
                                   const OpArgError& error) {
  const std::string guess = config_detail::closest_name(error.key(), error.accepted());
  throw ConfigError(config.file.string(),
                    line_or(stage.arg_lines, error.key(), line_or(stage.key_lines, "args", stage.line)),
                    "stages[" + std::to_string(index) + "].args." + error.key(),
                    "stage '" + stage.name + "': " + stage.op + " has no arg '" + error.key() + "'" +
                        (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                        "; it accepts: " + config_detail::join_names(error.accepted()));
}

}  // namespace

std::vector<StageSpec> build_stage_specs(const PipelineConfig& config, const OperatorRegistry& registry) {
  const std::string file = config.file.string();
  std::vector<StageSpec> specs;
  for (std::size_t i = 0; i < config.stages.size(); ++i) {
    const StageConfig& stage = config.stages[i];
    const std::string path = "stages[" + std::to_string(i) + "]";
    if (stage.split) {
      throw ConfigError(file, line_or(stage.key_lines, "split", stage.line), path + ".split",
                        "stage '" + stage.name +
                            "' is split into segment stages; they must be made (expand_splits "
                            "in the api layer) before its operators are built");
    }
    if (!registry.has(stage.op)) fail_unknown_op(config, stage, i, registry);
    const int args_line = line_or(stage.key_lines, "args", stage.line);
    StageSpec spec;
    try {
      BuiltOperator built =
          registry.build(stage.op, stage.args, OpBuildContext{config.base_dir, stage.batch.run_sizes()});
      spec.factory = std::move(built.factory);
      spec.signature = std::move(built.signature);
    } catch (const OpArgError& error) {
      if (error.key().empty()) throw ConfigError(file, args_line, path + ".args", error.what());
      if (error.unknown_key()) fail_unknown_arg(config, stage, i, error);
      // A key the file does not set (a missing required arg) points at the stage.
      const int line = line_or(stage.arg_lines, top_level_arg(error.key()), stage.line);
      throw ConfigError(file, line, path + ".args." + error.key(), error.what());
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception& error) {
      throw ConfigError(file, args_line, path + ".args",
                        "op '" + stage.op + "' could not be built: " + std::string(error.what()));
    }
    if (!spec.factory) {
      throw ConfigError(file, line_or(stage.key_lines, "op", stage.line), path + ".op",
                        "op '" + stage.op + "' returned no operator factory");
    }
    spec.name = stage.name;
    spec.workers = stage.workers;
    spec.cores = stage.cores;
    spec.threads = stage.threads;
    spec.queue_capacity = stage.queue_capacity;
    spec.batch = stage.batch;
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace conveyor
