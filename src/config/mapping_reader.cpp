#include "config/mapping_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "config/closest_name.hpp"
#include "config/yaml_value.hpp"
#include "conveyor/config/pipeline_config.hpp"

namespace conveyor::config_detail {
namespace {

std::string describe_number(double value) {
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

// "123" or "+123": digits only, so a float value for it means it did not fit in 64 bits.
bool is_positive_decimal_integer(const std::string& text) {
  const std::size_t start = !text.empty() && text[0] == '+' ? 1 : 0;
  return text.size() > start &&
         std::all_of(text.begin() + static_cast<std::ptrdiff_t>(start), text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

MappingReader::MappingReader(const YAML::Node& node, std::string file, std::string mapping_path, int line,
                             std::vector<std::string> allowed_keys)
    : file_(std::move(file)), path_(std::move(mapping_path)), line_(line) {
  if (!node.IsMap()) {
    throw ConfigError(file_, line_, path_, "expected a mapping of keys, got " + describe_node(node));
  }
  for (const auto& entry : node) {
    const YAML::Node key = entry.first;
    const int key_line = line_of(key) > 0 ? line_of(key) : line_;
    if (!key.IsScalar()) {
      throw ConfigError(file_, key_line, path_, "keys must be names, got " + describe_node(key));
    }
    const std::string name = key.Scalar();
    if (std::find(allowed_keys.begin(), allowed_keys.end(), name) == allowed_keys.end()) {
      const std::string guess = closest_name(name, allowed_keys);
      throw ConfigError(file_, key_line, path(name),
                        "unknown key" + (guess.empty() ? std::string() : " (did you mean '" + guess + "'?)") +
                            "; allowed here: " + join_names(allowed_keys));
    }
    if (auto [first, inserted] = entries_.emplace(name, Entry{entry.second, key_line}); !inserted) {
      throw ConfigError(file_, key_line, path(name),
                        "duplicate key (first at line " + std::to_string(first->second.line) + ")");
    }
  }
}

const YAML::Node& MappingReader::value(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) throw std::logic_error("MappingReader::value: no key " + key);
  return it->second.value;
}

int MappingReader::line(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? line_ : it->second.line;
}

std::map<std::string, int> MappingReader::key_lines() const {
  std::map<std::string, int> lines;
  for (const auto& [key, entry] : entries_) lines[key] = entry.line;
  return lines;
}

std::string MappingReader::path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void MappingReader::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(file_, line(key), path(key), message);
}

void MappingReader::require(const std::string& key) const {
  if (!has(key)) fail(key, "missing required key");
}

std::int64_t MappingReader::integer_at_least(const std::string& key, std::int64_t minimum,
                                             std::int64_t maximum) const {
  const YAML::Node& node = value(key);
  const std::string expected = "must be an integer >= " + std::to_string(minimum);
  const std::string too_large =
      maximum == std::numeric_limits<std::int64_t>::max()
          ? expected + ", got " + describe_node(node) + " (too large)"
          : "must be an integer <= " + std::to_string(maximum) + ", got " + describe_node(node);
  if (!node.IsScalar()) fail(key, expected + ", got " + describe_node(node));
  nlohmann::json parsed;
  try {
    parsed = scalar_value(node);
  } catch (const std::invalid_argument& error) {
    fail(key, error.what());
  }
  if (node.Tag() != "?" && node.Tag() != "tag:yaml.org,2002:int") {
    fail(key, expected + ", got " + describe_node(node));
  }
  // Integers beyond 64 bits parse as floats: still an integer, just too large.
  if ((parsed.is_number_unsigned() &&
       parsed.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) ||
      (parsed.is_number_float() && is_positive_decimal_integer(node.Scalar()))) {
    fail(key, too_large);
  }
  if (!parsed.is_number_integer() || parsed.get<std::int64_t>() < minimum) {
    fail(key, expected + ", got " + describe_node(node));
  }
  if (parsed.get<std::int64_t>() > maximum) fail(key, too_large);
  return parsed.get<std::int64_t>();
}

nlohmann::json MappingReader::scalar(const std::string& key) const {
  const YAML::Node& node = value(key);
  if (!node.IsScalar()) return nullptr;
  try {
    return scalar_value(node);
  } catch (const std::invalid_argument& error) {
    fail(key, error.what());
  }
}

double MappingReader::number_above(const std::string& key, double minimum) const {
  const nlohmann::json parsed = scalar(key);
  if (!parsed.is_number() || !std::isfinite(parsed.get<double>()) || !(parsed.get<double>() > minimum)) {
    fail(key, "must be a number > " + describe_number(minimum) + ", got " + describe_node(value(key)));
  }
  return parsed.get<double>();
}

double MappingReader::number_from(const std::string& key, double minimum, double maximum) const {
  const nlohmann::json parsed = scalar(key);
  if (!parsed.is_number() || !(parsed.get<double>() >= minimum) || !(parsed.get<double>() <= maximum)) {
    fail(key, "must be a number from " + describe_number(minimum) + " to " + describe_number(maximum) + ", got " +
                  describe_node(value(key)));
  }
  return parsed.get<double>();
}

bool MappingReader::boolean(const std::string& key) const {
  const nlohmann::json parsed = scalar(key);
  if (!parsed.is_boolean()) fail(key, "must be true or false, got " + describe_node(value(key)));
  return parsed.get<bool>();
}

std::string MappingReader::text(const std::string& key) const {
  const YAML::Node& node = value(key);
  if (!node.IsScalar() || node.Scalar().empty()) {
    fail(key, "must be a non-empty string, got " + describe_node(node));
  }
  return node.Scalar();
}

std::string MappingReader::choice(const std::string& key, const std::vector<std::string>& allowed) const {
  const YAML::Node& node = value(key);
  if (node.IsScalar() && std::find(allowed.begin(), allowed.end(), node.Scalar()) != allowed.end()) {
    return node.Scalar();
  }
  fail(key, "must be one of " + join_names(allowed) + ", got " + describe_node(node));
}

}  // namespace conveyor::config_detail
