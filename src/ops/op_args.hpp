#pragma once
#include <array>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conveyor/ops/registry.hpp"

namespace conveyor::ops {

// Reads one operator's args with typed getters. The operator names every arg it takes up front: a key
// outside them fails at once, before any other arg is read (a misspelt `szie` is reported as itself, not
// as a missing `size`), as an OpArgError carrying the accepted keys. Getters may only ask for those keys.
// All errors are OpArgError(key, "<op>: arg '<key>' ...").
class ArgReader {
 public:
  ArgReader(std::string op, const OpArgs& args, const OpBuildContext& context,
            std::set<std::string> accepted);

  std::string string(const std::string& key, const std::string& fallback);
  std::string required_string(const std::string& key);
  // A tensor (or texts) name: a non-empty string.
  std::string name(const std::string& key, const std::string& fallback);
  int64_t integer(const std::string& key, int64_t fallback, int64_t min_value);
  double number(const std::string& key, double fallback);
  double required_number(const std::string& key);
  bool boolean(const std::string& key, bool fallback);
  std::array<double, 3> number3(const std::string& key, std::array<double, 3> fallback);
  // A file path resolved against the build context's base_dir (a leading ~/ is $HOME); the file must exist.
  std::filesystem::path required_file(const std::string& key);
  std::optional<std::filesystem::path> optional_file(const std::string& key);
  // The value as given (none when absent), for args with their own syntax; marks the key as known.
  std::optional<OpArgs> raw(const std::string& key);

  // Throws OpArgError for the first key that no getter asked for, listing the accepted keys (the
  // constructor already refused keys outside them; this catches an operator that forgot to read one).
  void finish() const;

  // An OpArgError for `key` with the "<op>: arg '<key>' " prefix.
  [[nodiscard]] OpArgError error(const std::string& key, const std::string& what) const;
  const std::string& op() const { return op_; }

 private:
  std::optional<OpArgs> find(const std::string& key);
  std::filesystem::path resolve_file(const std::string& key, const std::string& value) const;

  std::string op_;
  OpArgs args_;
  OpBuildContext context_;
  std::set<std::string> accepted_;
  std::set<std::string> known_;
};

// A value as JSON, shortened for error messages.
std::string json_excerpt(const OpArgs& value);

}  // namespace conveyor::ops
