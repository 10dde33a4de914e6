#include "ops/op_args.hpp"

#include <cmath>
#include <stdexcept>

namespace conveyor::ops {

std::string json_excerpt(const OpArgs& value) {
  std::string text = value.to_json();
  constexpr std::size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

namespace {

std::string joined(const std::set<std::string>& keys) {
  std::string text;
  for (const auto& key : keys) text += (text.empty() ? "" : ", ") + key;
  return text;
}

}  // namespace

ArgReader::ArgReader(std::string op, const OpArgs& args, const OpBuildContext& context,
                     std::set<std::string> accepted)
    : op_(std::move(op)), args_(args), context_(context), accepted_(std::move(accepted)) {
  if (!args_.is_null() && !args_.is_mapping())
    throw OpArgError("",
                     op_ + ": args must be a mapping of names to values (got " + json_excerpt(args_) + ")");
  if (!args_.is_mapping()) return;
  for (const auto& key : args_.keys())
    if (!accepted_.count(key))
      throw OpArgError(key, op_ + ": unknown arg '" + key + "' (accepted: " + joined(accepted_) + ")",
                       {accepted_.begin(), accepted_.end()});
}

OpArgError ArgReader::error(const std::string& key, const std::string& what) const {
  return OpArgError(key, op_ + ": arg '" + key + "' " + what);
}

std::optional<OpArgs> ArgReader::find(const std::string& key) {
  if (!accepted_.count(key))  // the operator's own mistake, not the file's
    throw std::logic_error(op_ + " reads arg '" + key + "' without naming it among its accepted args");
  known_.insert(key);
  if (!args_.has(key)) return std::nullopt;
  return args_.at(key);
}

std::optional<OpArgs> ArgReader::raw(const std::string& key) {
  return find(key);
}

std::string ArgReader::string(const std::string& key, const std::string& fallback) {
  const auto value = find(key);
  if (!value) return fallback;
  if (!value->is_string()) throw error(key, "must be a string (got " + json_excerpt(*value) + ")");
  return value->as_string();
}

std::string ArgReader::required_string(const std::string& key) {
  if (!find(key)) throw error(key, "is required");
  return string(key, "");
}

std::string ArgReader::name(const std::string& key, const std::string& fallback) {
  std::string result = string(key, fallback);
  if (result.empty()) throw error(key, "must be a non-empty tensor name");
  return result;
}

int64_t ArgReader::integer(const std::string& key, int64_t fallback, int64_t min_value) {
  const auto value = find(key);
  if (!value) return fallback;
  if (!value->is_integer()) throw error(key, "must be an integer (got " + json_excerpt(*value) + ")");
  int64_t result = 0;
  try {
    result = value->as_int64();
  } catch (const std::out_of_range&) {
    throw error(key, "is too large");
  }
  if (result < min_value)
    throw error(key, "must be >= " + std::to_string(min_value) + " (got " + std::to_string(result) + ")");
  return result;
}

double ArgReader::number(const std::string& key, double fallback) {
  const auto value = find(key);
  if (!value) return fallback;
  if (!value->is_number()) throw error(key, "must be a number (got " + json_excerpt(*value) + ")");
  const double result = value->as_double();
  if (!std::isfinite(result)) throw error(key, "must be finite");
  return result;
}

double ArgReader::required_number(const std::string& key) {
  if (!find(key)) throw error(key, "is required");
  return number(key, 0.0);
}

bool ArgReader::boolean(const std::string& key, bool fallback) {
  const auto value = find(key);
  if (!value) return fallback;
  if (!value->is_bool()) throw error(key, "must be true or false (got " + json_excerpt(*value) + ")");
  return value->as_bool();
}

std::array<double, 3> ArgReader::number3(const std::string& key, std::array<double, 3> fallback) {
  const auto value = find(key);
  if (!value) return fallback;
  const auto bad = [&] {
    return error(key, "must be a list of 3 numbers (got " + json_excerpt(*value) + ")");
  };
  if (!value->is_list() || value->size() != 3) throw bad();
  std::array<double, 3> result{};
  for (std::size_t i = 0; i < 3; ++i) {
    if (!value->at(i).is_number()) throw bad();
    result[i] = value->at(i).as_double();
    if (!std::isfinite(result[i])) throw bad();
  }
  return result;
}

std::filesystem::path ArgReader::resolve_file(const std::string& key, const std::string& value) const {
  if (value.empty()) throw error(key, "must name a file (got an empty string)");
  std::filesystem::path path;
  try {
    path = resolve_arg_file(value, context_.base_dir);
  } catch (const std::runtime_error& e) {
    throw error(key, e.what());
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw error(key, "names '" + path.string() + "', which is not a readable file" +
                         (std::filesystem::exists(path, ec) ? "" : " (no such file)"));
  return path;
}

std::filesystem::path ArgReader::required_file(const std::string& key) {
  return resolve_file(key, required_string(key));
}

std::optional<std::filesystem::path> ArgReader::optional_file(const std::string& key) {
  const auto value = find(key);
  if (!value || value->is_null()) return std::nullopt;
  return resolve_file(key, string(key, ""));
}

void ArgReader::finish() const {
  if (!args_.is_mapping()) return;
  for (const auto& key : args_.keys()) {
    if (known_.count(key)) continue;
    throw OpArgError(
        key, op_ + ": arg '" + key + "' is accepted but was not read (accepted: " + joined(accepted_) + ")");
  }
}

}  // namespace conveyor::ops
