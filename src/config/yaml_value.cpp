#include "config/yaml_value.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <stdexcept>

#include "conveyor/config/pipeline_config.hpp"

namespace conveyor::config_detail {
namespace {

const std::string kTagPrefix = "tag:yaml.org,2002:";

bool is_core_null(const std::string& text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

std::optional<bool> core_bool(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::optional<nlohmann::json> core_integer(const std::string& text) {
  static const std::regex decimal("[-+]?[0-9]+");
  static const std::regex hex("0x[0-9a-fA-F]+");
  static const std::regex octal("0o[0-7]+");
  int base = 10;
  std::string digits = text;
  if (std::regex_match(text, hex)) {
    base = 16;
    digits = text.substr(2);
  } else if (std::regex_match(text, octal)) {
    base = 8;
    digits = text.substr(2);
  } else if (!std::regex_match(text, decimal)) {
    return std::nullopt;
  }
  if (!digits.empty() && digits[0] == '+') digits.erase(0, 1);
  const char* begin = digits.data();
  const char* end = digits.data() + digits.size();
  std::int64_t signed_value = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, signed_value, base); ec == std::errc() && ptr == end) {
    return nlohmann::json(signed_value);
  }
  std::uint64_t unsigned_value = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, unsigned_value, base); ec == std::errc() && ptr == end) {
    return nlohmann::json(unsigned_value);
  }
  // Beyond 64 bits: keep the magnitude as a float.
  double approximate = 0;
  for (char c : digits) {
    if (c == '-') continue;
    const int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
    approximate = approximate * base + digit;
  }
  return nlohmann::json(digits[0] == '-' ? -approximate : approximate);
}

std::optional<double> core_float(const std::string& text) {
  static const std::regex number("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  static const std::regex infinity("[-+]?\\.(inf|Inf|INF)");
  static const std::regex not_a_number("\\.(nan|NaN|NAN)");
  if (std::regex_match(text, infinity)) {
    return text[0] == '-' ? -std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::infinity();
  }
  if (std::regex_match(text, not_a_number)) return std::numeric_limits<double>::quiet_NaN();
  if (!std::regex_match(text, number)) return std::nullopt;
  const std::string digits = text[0] == '+' ? text.substr(1) : text;
  double value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ptr != digits.data() + digits.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    return digits[0] == '-' ? -std::numeric_limits<double>::infinity()
                            : std::numeric_limits<double>::infinity();
  }
  return value;
}

nlohmann::json plain_scalar_value(const std::string& text) {
  if (is_core_null(text)) return nullptr;
  if (auto flag = core_bool(text)) return *flag;
  if (auto integer = core_integer(text)) return *integer;
  if (auto real = core_float(text)) return *real;
  return text;
}

}  // namespace

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() || mark.line < 0 ? 0 : mark.line + 1;
}

nlohmann::json scalar_value(const YAML::Node& scalar) {
  if (scalar.IsNull()) return nullptr;
  const std::string& text = scalar.Scalar();
  const std::string& tag = scalar.Tag();
  if (tag == "?") return plain_scalar_value(text);
  if (tag == "!" || tag == kTagPrefix + "str") return text;
  if (tag == kTagPrefix + "null") {
    if (!is_core_null(text)) throw std::invalid_argument("'" + text + "' is not a null (tagged !!null)");
    return nullptr;
  }
  if (tag == kTagPrefix + "bool") {
    if (auto flag = core_bool(text)) return *flag;
    throw std::invalid_argument("'" + text + "' is not true or false (tagged !!bool)");
  }
  if (tag == kTagPrefix + "int") {
    if (auto integer = core_integer(text)) return *integer;
    throw std::invalid_argument("'" + text + "' is not an integer (tagged !!int)");
  }
  if (tag == kTagPrefix + "float") {
    if (auto integer = core_integer(text)) return integer->get<double>();
    if (auto real = core_float(text)) return *real;
    throw std::invalid_argument("'" + text + "' is not a number (tagged !!float)");
  }
  throw std::invalid_argument("unsupported tag '" + tag +
                              "' (supported: !!str, !!int, !!float, !!bool, !!null)");
}

std::string describe_node(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "an empty value";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.Tag() == "?") return "'" + node.Scalar() + "'";
  return "the quoted string '" + node.Scalar() + "'";
}

namespace {

// Thrown when a conversion has used up its budget of values; yaml_to_json turns it into a ConfigError.
struct TooManyValues {};

nlohmann::json convert(const YAML::Node& node, const std::string& file, const std::string& path,
                       std::size_t& budget) {
  // An alias is the node it names, so a few lines of nested aliases can expand to billions of values:
  // count every value as it is converted and stop at the budget.
  if (budget == 0) throw TooManyValues{};
  --budget;
  const std::string& tag = node.Tag();
  if (node.IsSequence() || node.IsMap()) {
    const bool plain_tag =
        tag.empty() || tag == "?" || tag == "!" || tag == kTagPrefix + "seq" || tag == kTagPrefix + "map";
    if (!plain_tag) throw ConfigError(file, line_of(node), path, "unsupported tag '" + tag + "'");
  }
  if (node.IsSequence()) {
    nlohmann::json array = nlohmann::json::array();
    std::size_t index = 0;
    for (const auto& item : node) {
      array.push_back(convert(item, file, path + "[" + std::to_string(index++) + "]", budget));
    }
    return array;
  }
  if (node.IsMap()) {
    nlohmann::json object = nlohmann::json::object();
    std::map<std::string, int> key_lines;
    for (const auto& entry : node) {
      const YAML::Node key = entry.first;
      if (!key.IsScalar()) {
        throw ConfigError(file, line_of(key), path,
                          "mapping keys must be strings, got " + describe_node(key));
      }
      const std::string name = key.Scalar();
      const std::string child_path = path + "." + name;
      if (auto [first, inserted] = key_lines.emplace(name, line_of(key)); !inserted) {
        throw ConfigError(file, line_of(key), child_path,
                          "duplicate key (first at line " + std::to_string(first->second) + ")");
      }
      object[name] = convert(entry.second, file, child_path, budget);
    }
    return object;
  }
  try {
    return scalar_value(node);
  } catch (const std::invalid_argument& error) {
    throw ConfigError(file, line_of(node), path, error.what());
  }
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node, const std::string& file, const std::string& path,
                            int line, std::size_t max_values) {
  std::size_t budget = max_values;
  try {
    return convert(node, file, path, budget);
  } catch (const TooManyValues&) {
    throw ConfigError(
        file, line, path,
        "too large (more than " + std::to_string(max_values) + " values after expanding aliases)");
  }
}

}  // namespace conveyor::config_detail
