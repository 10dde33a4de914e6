#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace conveyor::config_detail {

// Reads one YAML mapping of a config file strictly: keys must be distinct and among the allowed ones,
// and every typed read fails with a ConfigError naming the file, the key's line and its dotted path.
class MappingReader {
 public:
  // `path` names the mapping in errors ("" for the top level, "stages[1]"); `line` is its line.
  MappingReader(const YAML::Node& node, std::string file, std::string path, int line,
                std::vector<std::string> allowed_keys);

  bool has(const std::string& key) const { return entries_.count(key) != 0; }
  const YAML::Node& value(const std::string& key) const;
  int line(const std::string& key) const;          // the key's line (the mapping's line when absent)
  std::string path(const std::string& key) const;  // "stages[1].workers"
  int mapping_line() const { return line_; }
  std::map<std::string, int> key_lines() const;  // line of each key present
  const std::string& file() const { return file_; }

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  void require(const std::string& key) const;  // fails when the key is missing

  std::int64_t integer_at_least(const std::string& key, std::int64_t minimum,
                                std::int64_t maximum = std::numeric_limits<std::int64_t>::max()) const;
  double number_above(const std::string& key, double minimum) const;  // a finite number > minimum
  double number_from(const std::string& key, double minimum, double maximum) const;  // in [minimum, maximum]
  bool boolean(const std::string& key) const;
  std::string text(const std::string& key) const;  // a non-empty string
  std::string choice(const std::string& key, const std::vector<std::string>& allowed) const;

 private:
  // The key's scalar value under the YAML 1.2 core schema (null for a non-scalar); fails on a bad scalar.
  nlohmann::json scalar(const std::string& key) const;
  struct Entry {
    YAML::Node value;
    int line;
  };
  std::string file_;
  std::string path_;
  int line_;
  std::map<std::string, Entry> entries_;
};

}  // namespace conveyor::config_detail
