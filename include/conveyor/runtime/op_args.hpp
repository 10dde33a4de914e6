#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace conveyor {

// An operator's arguments: a JSON-like value (null, bool, integer, number, string, list, mapping), as a
// pipeline file's `args:` gives them. Immutable and shared: copies and at() are cheap; set() copies the
// value first when another OpArgs shares it, so no copy ever sees another's change.
//
// Reading a value of the wrong kind throws std::invalid_argument; a missing key or index throws
// std::out_of_range. Both messages show the value.
class OpArgs {
 public:
  OpArgs();  // an empty mapping
  explicit OpArgs(std::nullptr_t);
  explicit OpArgs(bool value);
  explicit OpArgs(int value);
  explicit OpArgs(int64_t value);
  explicit OpArgs(double value);
  explicit OpArgs(const char* value);  // null for a null pointer
  explicit OpArgs(std::string value);
  explicit OpArgs(const std::vector<int64_t>& values);  // lists
  explicit OpArgs(const std::vector<double>& values);
  explicit OpArgs(const std::vector<std::string>& values);
  explicit OpArgs(const std::vector<OpArgs>& items);

  // Throws std::invalid_argument saying where (line, column) the text is bad.
  static OpArgs parse_json(std::string_view text);
  // Compact, mapping keys sorted: the same value always gives the same text (profile identity hashes it).
  // Bytes in strings that are not UTF-8 become U+FFFD.
  std::string to_json() const;

  bool is_null() const;
  bool is_bool() const;
  bool is_integer() const;  // a whole number written without a fraction or exponent
  bool is_number() const;   // an integer or not
  bool is_string() const;
  bool is_list() const;
  bool is_mapping() const;

  bool as_bool() const;
  int64_t as_int64() const;  // an integer; std::out_of_range when it does not fit int64_t
  std::optional<int64_t> int64_if_fits() const;  // an integer that fits int64_t, else none
  double as_double() const;  // any number
  const std::string& as_string() const;

  std::size_t size() const;  // items of a list, keys of a mapping
  OpArgs at(std::size_t index) const;
  OpArgs at(const std::string& key) const;
  bool has(const std::string& key) const;  // false for anything but a mapping
  std::vector<std::string> keys() const;   // sorted

  // Sets `key` of a mapping (a null value becomes a mapping); returns *this for chaining.
  OpArgs& set(const std::string& key, OpArgs value);
  OpArgs& set(const std::string& key, std::string value);
  OpArgs& set(const std::string& key, const char* value);
  OpArgs& set(const std::string& key, double value);
  OpArgs& set(const std::string& key, int64_t value);
  OpArgs& set(const std::string& key, int value);
  OpArgs& set(const std::string& key, bool value);
  OpArgs& set(const std::string& key, const std::vector<double>& values);
  OpArgs& set(const std::string& key, const std::vector<int64_t>& values);
  OpArgs& set(const std::string& key, const std::vector<std::string>& values);
  OpArgs& set(const std::string& key, const std::vector<OpArgs>& items);

  // Same kind and content; numbers compare by value (1 == 1.0).
  friend bool operator==(const OpArgs& a, const OpArgs& b);

  struct Access;  // the library's own access to the representation (src/runtime/op_args_json.hpp)

 private:
  explicit OpArgs(std::shared_ptr<const void> value) : value_(std::move(value)) {}

  // The sources' JSON value (src/runtime/op_args_json.hpp), kept behind void so that this header needs no
  // third-party one. at() returns an OpArgs pointing at an element of its owner's value, sharing ownership.
  std::shared_ptr<const void> value_;
};

// A file an argument names, as the operators open it: a leading "~/" is relative to $HOME (std::runtime_error
// when HOME is unset), another relative path to `base_dir` (the pipeline file's folder).
std::filesystem::path resolve_arg_file(const std::string& value, const std::filesystem::path& base_dir);

}  // namespace conveyor
