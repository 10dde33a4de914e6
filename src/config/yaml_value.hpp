#pragma once
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace conveyor::config_detail {

// 1-based line of a node, 0 when yaml-cpp has no position for it (e.g. a node that is not in the file).
int line_of(const YAML::Node& node);

// The value of a scalar under the YAML 1.2 core schema: plain scalars that spell null, true/false, an
// integer (decimal, 0x, 0o) or a float (incl. .inf, .nan) become those; quoted and block scalars stay
// strings; the standard tags !!str !!int !!float !!bool !!null are honoured. Throws std::invalid_argument
// for other tags or a tagged value that does not fit its tag.
nlohmann::json scalar_value(const YAML::Node& scalar);

// How a node reads in an error message: 'two', the quoted string '2', a list, a mapping, an empty value.
std::string describe_node(const YAML::Node& node);

// Most values one yaml_to_json call converts, counting every scalar, list and mapping once per use: aliases
// are expanded, and this bounds what a few lines of nested aliases can make it build.
constexpr std::size_t kMaxYamlValues = 100000;

// Converts a YAML node to JSON: scalars as scalar_value, sequences and mappings recursively. `file` and
// `path` (e.g. "stages[1].args") name the node in errors: duplicate or non-string keys, unsupported tags,
// and more than `max_values` values in all (reported at `line`, the line of the key that holds the node).
nlohmann::json yaml_to_json(const YAML::Node& node, const std::string& file, const std::string& path,
                            int line, std::size_t max_values = kMaxYamlValues);

}  // namespace conveyor::config_detail
