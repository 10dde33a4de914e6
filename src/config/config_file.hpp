#pragma once
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>

namespace conveyor::config_detail {

// Reading a config file (pipeline or deployment; `kind` names it in errors: "pipeline file"). Every failure
// is a ConfigError naming the file.

// The whole file as text: missing, a directory or unreadable are errors.
std::string read_config_file(const std::filesystem::path& file, const std::string& kind);

// The single YAML document of `text`, which must be a mapping; `expected` says what it should hold
// ("a mapping with at least 'stages'"). Invalid YAML, an empty text or several documents are errors.
YAML::Node load_config_mapping(const std::string& text, const std::string& file, const std::string& kind,
                               const std::string& expected);

// Where a config's text came from: `origin`, or "<string>" when it has none.
struct ConfigOrigin {
  std::string file;                // for errors
  std::filesystem::path path;      // the file, or "<string>"
  std::filesystem::path base_dir;  // relative paths resolve against it: the file's directory, else the current one
  std::string default_name;        // the file's stem, or `fallback_name` without a file
};
ConfigOrigin config_origin(const std::filesystem::path& origin, const std::string& fallback_name);

}  // namespace conveyor::config_detail
