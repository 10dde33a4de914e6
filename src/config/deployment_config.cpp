// The deployment file: several pipelines sharing one machine, for `conveyor plan`.
//
//   deployment: edge-box          # optional name; defaults to the file's stem
//   cores: 0-15                   # optional core budget (default: the machine's; --cores overrides):
//                                 #   N            the machine's first N cores
//                                 #   "0-7,12"     core ids as a list of ranges
//                                 #   [0, 1, 2]    core ids
//   pipelines:                    # required, a non-empty list
//     - pipeline: image_classify.yaml   # required: a pipeline file, relative to this file
//       priority: 2                     # optional integer >= 0, higher = more important (default 0)
//       slo_p99_ms: 50                  # optional: p99 latency the pipeline must meet, > 0
//       rate_rps: 100                   # optional: expected load in requests/s, > 0 (else the rate
//                                       #   recorded in the profile store by run/bench)
//       arrivals: image_arrivals.csv    # optional: CSV of arrival times (unix seconds, one a line) for
//                                       #   the forecast strategy (else the profile store's history)
//
// Strict like pipeline files: unknown or duplicate keys, wrong types and ranges are errors naming the file,
// the line and the key ("pipelines[1].rate_rps"). Two entries may not name pipelines with the same name.
#include "conveyor/config/deployment_config.hpp"

#include <climits>
#include <set>

#include "config/config_file.hpp"
#include "config/mapping_reader.hpp"
#include "config/yaml_value.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor {
namespace {

using config_detail::describe_node;
using config_detail::line_of;
using config_detail::MappingReader;

const std::vector<std::string> kDeploymentKeys = {"deployment", "cores", "pipelines"};
const std::vector<std::string> kEntryKeys = {"pipeline", "priority", "slo_p99_ms", "rate_rps", "arrivals"};
const std::string kExpected = "a mapping with 'pipelines' (a list of pipeline files with their load)";

void read_cores(const MappingReader& top, DeploymentConfig& config) {
  const YAML::Node& node = top.value("cores");
  const auto fail = [&](const std::string& message) { top.fail("cores", message); };
  const std::string expected = "must be a number of cores, a list of ranges like \"0-7,12\" or [0, 1, 2]";
  config.cores_line = top.line("cores");
  if (node.IsScalar()) {
    nlohmann::json value;
    try {
      value = config_detail::scalar_value(node);
    } catch (const std::invalid_argument& error) {
      fail(error.what());
    }
    if (value.is_number_integer()) {
      config.core_count = static_cast<int>(top.integer_at_least("cores", 1, 4096));
      return;
    }
    if (!value.is_string()) fail(expected + ", got " + describe_node(node));
    try {
      config.core_ids = parse_cpu_list(value.get<std::string>());
    } catch (const std::invalid_argument& error) {
      fail(error.what());
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      nlohmann::json value;
      try {
        if (item.IsScalar()) value = config_detail::scalar_value(item);
      } catch (const std::invalid_argument&) {
      }
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0 || value.get<std::int64_t>() > INT_MAX)
        fail("a core id must be an integer >= 0, got " + describe_node(item));
      config.core_ids.push_back(value.get<int>());
    }
    if (config.core_ids.empty()) fail("the list of core ids is empty");
  } else {
    fail(expected + ", got " + describe_node(node));
  }
  std::set<int> seen;
  for (int id : config.core_ids)
    if (!seen.insert(id).second) fail("core " + std::to_string(id) + " is listed twice");
}

// A path relative to the deployment file that must be a regular file.
std::filesystem::path existing_path(const MappingReader& entry, const std::string& key,
                                    const std::filesystem::path& base_dir, const std::string& kind) {
  const std::filesystem::path path = base_dir / entry.text(key);
  std::error_code error;
  if (!std::filesystem::exists(path, error))
    entry.fail(key, kind + " '" + entry.text(key) + "' not found (looked for " + path.string() + ")");
  if (!std::filesystem::is_regular_file(path, error))
    entry.fail(key, kind + " '" + entry.text(key) + "' is " +
                        (std::filesystem::is_directory(path, error) ? "a directory" : "not a regular file") +
                        " (" + path.string() + ")");
  return path;
}

DeploymentPipelineConfig read_entry(const YAML::Node& node, const std::string& file,
                                    const std::filesystem::path& base_dir, std::size_t index) {
  const int entry_line = line_of(node);
  MappingReader entry(node, file, "pipelines[" + std::to_string(index) + "]", entry_line, kEntryKeys);
  entry.require("pipeline");
  DeploymentPipelineConfig config;
  config.line = entry_line;
  config.key_lines = entry.key_lines();
  config.pipeline = load_pipeline_config(existing_path(entry, "pipeline", base_dir, "pipeline file"));
  if (entry.has("priority"))
    config.priority = static_cast<int>(entry.integer_at_least("priority", 0, INT_MAX));
  if (entry.has("slo_p99_ms")) config.slo_p99_ms = entry.number_above("slo_p99_ms", 0);
  if (entry.has("rate_rps")) config.rate_rps = entry.number_above("rate_rps", 0);
  if (entry.has("arrivals")) config.arrivals = existing_path(entry, "arrivals", base_dir, "arrivals file");
  return config;
}

}  // namespace

DeploymentConfig parse_deployment_config(const std::string& yaml_text, const std::filesystem::path& origin) {
  const config_detail::ConfigOrigin where = config_detail::config_origin(origin, "deployment");
  const std::string& file = where.file;
  const YAML::Node root = config_detail::load_config_mapping(yaml_text, file, "deployment file", kExpected);
  MappingReader top(root, file, "", line_of(root), kDeploymentKeys);

  DeploymentConfig config;
  config.file = where.path;
  config.base_dir = where.base_dir;
  config.name = top.has("deployment") ? top.text("deployment") : where.default_name;
  if (top.has("cores")) read_cores(top, config);

  top.require("pipelines");
  const YAML::Node& pipelines = top.value("pipelines");
  if (!pipelines.IsSequence())
    top.fail("pipelines",
             "must be a list of pipelines (- pipeline: FILE.yaml), got " + describe_node(pipelines));
  if (pipelines.size() == 0) top.fail("pipelines", "needs at least one pipeline");
  std::map<std::string, int> line_of_name;
  for (std::size_t i = 0; i < pipelines.size(); ++i) {
    DeploymentPipelineConfig entry = read_entry(pipelines[i], file, config.base_dir, i);
    const int line = entry.key_lines.at("pipeline");
    if (auto [first, inserted] = line_of_name.emplace(entry.pipeline.name, line); !inserted)
      throw ConfigError(file, line, "pipelines[" + std::to_string(i) + "].pipeline",
                        "a second pipeline named '" + entry.pipeline.name + "' (first at line " +
                            std::to_string(first->second) +
                            "); pipelines in a deployment need distinct names");
    config.pipelines.push_back(std::move(entry));
  }
  return config;
}

DeploymentConfig load_deployment_config(const std::filesystem::path& file) {
  return parse_deployment_config(config_detail::read_config_file(file, "deployment file"), file);
}

bool is_deployment_yaml(const std::string& yaml_text) {
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    return root.IsMap() && root["pipelines"].IsDefined();
  } catch (const YAML::Exception&) {
    return false;
  }
}

bool is_deployment_file(const std::filesystem::path& file) {
  try {
    return is_deployment_yaml(config_detail::read_config_file(file, "file"));
  } catch (const ConfigError&) {
    return false;
  }
}

}  // namespace conveyor
