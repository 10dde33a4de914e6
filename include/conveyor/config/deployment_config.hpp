#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/config/pipeline_config.hpp"

namespace conveyor {

// One pipeline of a deployment file, with its pipeline file already loaded.
struct DeploymentPipelineConfig {
  PipelineConfig pipeline;
  int priority = 0;  // higher = more important
  std::optional<double> slo_p99_ms;
  std::optional<double> rate_rps;                 // expected load
  std::optional<std::filesystem::path> arrivals;  // CSV of arrival times, resolved against the file
  int line = 0;                                   // where the entry starts
  std::map<std::string, int> key_lines;
};

// Several pipelines sharing one machine: which ones, how important, what load (format: see
// src/config/deployment_config.cpp). The planner divides the cores among them (plan/deployment.hpp).
struct DeploymentConfig {
  std::string name;
  std::filesystem::path file;
  std::filesystem::path base_dir;
  // The core budget, when the file sets one: either the first `core_count` cores of the machine or these
  // ids (exactly one is set).
  int core_count = 0;
  std::vector<int> core_ids;
  int cores_line = 0;
  std::vector<DeploymentPipelineConfig> pipelines;
};

// Reads and validates a deployment file and the pipeline files it names. Throws ConfigError.
DeploymentConfig load_deployment_config(const std::filesystem::path& file);
DeploymentConfig parse_deployment_config(const std::string& yaml_text, const std::filesystem::path& origin);

// Whether the YAML text is a deployment file (a top-level mapping with a `pipelines` key) rather than a
// pipeline file. Invalid YAML is neither: false.
bool is_deployment_yaml(const std::string& yaml_text);
bool is_deployment_file(const std::filesystem::path& file);

}  // namespace conveyor
