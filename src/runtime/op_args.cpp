#include "conveyor/runtime/op_args.hpp"

#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "runtime/op_args_json.hpp"

namespace conveyor {
namespace {

using nlohmann::json;
using Access = OpArgs::Access;

// A value for messages: its JSON, shortened.
std::string shown(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr std::size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

std::invalid_argument wrong_kind(const char* what, const json& value, const char* wanted) {
  return std::invalid_argument(std::string("OpArgs::") + what + ": " + shown(value) + " is not " + wanted);
}

}  // namespace

OpArgs::OpArgs() : OpArgs(Access::make(json::object())) {}
OpArgs::OpArgs(std::nullptr_t) : OpArgs(Access::make(nullptr)) {}
OpArgs::OpArgs(bool value) : OpArgs(Access::make(value)) {}
OpArgs::OpArgs(int value) : OpArgs(Access::make(value)) {}
OpArgs::OpArgs(int64_t value) : OpArgs(Access::make(value)) {}
OpArgs::OpArgs(double value) : OpArgs(Access::make(value)) {}
OpArgs::OpArgs(const char* value)
    : OpArgs(value ? Access::make(std::string(value)) : Access::make(nullptr)) {}
OpArgs::OpArgs(std::string value) : OpArgs(Access::make(std::move(value))) {}
OpArgs::OpArgs(const std::vector<int64_t>& values) : OpArgs(Access::make(values)) {}
OpArgs::OpArgs(const std::vector<double>& values) : OpArgs(Access::make(values)) {}
OpArgs::OpArgs(const std::vector<std::string>& values) : OpArgs(Access::make(values)) {}

OpArgs::OpArgs(const std::vector<OpArgs>& items) : OpArgs(Access::make(json::array())) {
  json& list = Access::writable(*this);
  for (const auto& item : items) list.push_back(Access::json(item));
}

OpArgs OpArgs::parse_json(std::string_view text) {
  try {
    return Access::make(json::parse(text));
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 3: ..."; drop the tag.
    std::string message = e.what();
    if (const auto end = message.find("] ");
        message.starts_with("[json.exception.") && end != std::string::npos)
      message = message.substr(end + 2);
    throw std::invalid_argument("operator args are not valid JSON: " + message);
  }
}

std::string OpArgs::to_json() const {
  return Access::json(*this).dump(-1, ' ', false, json::error_handler_t::replace);
}

bool OpArgs::is_null() const {
  return Access::json(*this).is_null();
}
bool OpArgs::is_bool() const {
  return Access::json(*this).is_boolean();
}
bool OpArgs::is_integer() const {
  return Access::json(*this).is_number_integer();
}
bool OpArgs::is_number() const {
  return Access::json(*this).is_number();
}
bool OpArgs::is_string() const {
  return Access::json(*this).is_string();
}
bool OpArgs::is_list() const {
  return Access::json(*this).is_array();
}
bool OpArgs::is_mapping() const {
  return Access::json(*this).is_object();
}

bool OpArgs::as_bool() const {
  const json& value = Access::json(*this);
  if (!value.is_boolean()) throw wrong_kind("as_bool", value, "true or false");
  return value.get<bool>();
}

int64_t OpArgs::as_int64() const {
  const json& value = Access::json(*this);
  if (!value.is_number_integer()) throw wrong_kind("as_int64", value, "an integer");
  if (value.is_number_unsigned() &&
      value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw std::out_of_range("OpArgs::as_int64: " + shown(value) + " does not fit a 64-bit signed integer");
  return value.get<int64_t>();
}

std::optional<int64_t> OpArgs::int64_if_fits() const {
  const json& value = Access::json(*this);
  if (!value.is_number_integer()) return std::nullopt;
  if (value.is_number_unsigned() &&
      value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return std::nullopt;
  return value.get<int64_t>();
}

double OpArgs::as_double() const {
  const json& value = Access::json(*this);
  if (!value.is_number()) throw wrong_kind("as_double", value, "a number");
  return value.get<double>();
}

const std::string& OpArgs::as_string() const {
  const json& value = Access::json(*this);
  if (!value.is_string()) throw wrong_kind("as_string", value, "a string");
  return value.get_ref<const std::string&>();
}

std::size_t OpArgs::size() const {
  const json& value = Access::json(*this);
  if (!value.is_array() && !value.is_object()) throw wrong_kind("size", value, "a list or a mapping");
  return value.size();
}

OpArgs OpArgs::at(std::size_t index) const {
  const json& value = Access::json(*this);
  if (!value.is_array()) throw wrong_kind("at", value, "a list");
  if (index >= value.size())
    throw std::out_of_range("OpArgs::at: index " + std::to_string(index) + " is past the end of " +
                            shown(value) + " (" + std::to_string(value.size()) + " items)");
  return Access::alias(*this, value[index]);
}

OpArgs OpArgs::at(const std::string& key) const {
  const json& value = Access::json(*this);
  if (!value.is_object()) throw wrong_kind("at", value, "a mapping");
  const auto it = value.find(key);
  if (it == value.end()) throw std::out_of_range("OpArgs::at: no key '" + key + "' in " + shown(value));
  return Access::alias(*this, *it);
}

bool OpArgs::has(const std::string& key) const {
  const json& value = Access::json(*this);
  return value.is_object() && value.contains(key);
}

std::vector<std::string> OpArgs::keys() const {
  const json& value = Access::json(*this);
  if (!value.is_object()) throw wrong_kind("keys", value, "a mapping");
  std::vector<std::string> keys;
  keys.reserve(value.size());
  for (const auto& item : value.items()) keys.push_back(item.key());
  return keys;
}

OpArgs& OpArgs::set(const std::string& key, OpArgs value) {
  if (!is_mapping() && !is_null()) throw wrong_kind("set", Access::json(*this), "a mapping");
  // Copied before writing: `value` may share this value (a.set("k", a)).
  json element = Access::json(value);
  Access::writable(*this)[key] = std::move(element);
  return *this;
}

OpArgs& OpArgs::set(const std::string& key, std::string value) {
  return set(key, OpArgs(std::move(value)));
}
OpArgs& OpArgs::set(const std::string& key, const char* value) {
  return set(key, OpArgs(value));
}
OpArgs& OpArgs::set(const std::string& key, double value) {
  return set(key, OpArgs(value));
}
OpArgs& OpArgs::set(const std::string& key, int64_t value) {
  return set(key, OpArgs(value));
}
OpArgs& OpArgs::set(const std::string& key, int value) {
  return set(key, OpArgs(value));
}
OpArgs& OpArgs::set(const std::string& key, bool value) {
  return set(key, OpArgs(value));
}
OpArgs& OpArgs::set(const std::string& key, const std::vector<double>& values) {
  return set(key, OpArgs(values));
}
OpArgs& OpArgs::set(const std::string& key, const std::vector<int64_t>& values) {
  return set(key, OpArgs(values));
}
OpArgs& OpArgs::set(const std::string& key, const std::vector<std::string>& values) {
  return set(key, OpArgs(values));
}
OpArgs& OpArgs::set(const std::string& key, const std::vector<OpArgs>& items) {
  return set(key, OpArgs(items));
}

bool operator==(const OpArgs& a, const OpArgs& b) {
  return OpArgs::Access::json(a) == OpArgs::Access::json(b);
}

std::filesystem::path resolve_arg_file(const std::string& value, const std::filesystem::path& base_dir) {
  std::filesystem::path path(value);
  if (value == "~" || value.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (!home || !*home) throw std::runtime_error("'" + value + "': HOME is not set, so '~' cannot be expanded");
    return std::filesystem::path(home) / value.substr(value.size() > 1 ? 2 : 1);
  }
  if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
  return path;
}

}  // namespace conveyor
