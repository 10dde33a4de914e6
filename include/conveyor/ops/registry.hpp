#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conveyor/runtime/operator.hpp"

namespace conveyor {

using OpArgs = nlohmann::json;

// A bad operator argument: `key` names it (so the config layer can point at its line).
class OpArgError : public std::runtime_error {
 public:
  OpArgError(std::string key, const std::string& message)
      : std::runtime_error(message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

struct OpBuildContext {
  std::filesystem::path base_dir;  // relative paths in args (vocab, labels, models) resolve against it
};

// Validates args (throwing OpArgError) and returns the per-worker factory.
using OpBuilder = std::function<OperatorFactory(const OpArgs& args, const OpBuildContext& context)>;

class OperatorRegistry {
 public:
  void add(const std::string& name, std::string summary, OpBuilder builder);
  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  // Throws std::invalid_argument for an unknown name (listing the known ones), OpArgError for bad args.
  OperatorFactory build(const std::string& name, const OpArgs& args, const OpBuildContext& context) const;
  std::vector<std::pair<std::string, std::string>> list() const;  // name, summary

 private:
  struct Entry {
    std::string summary;
    OpBuilder builder;
  };
  std::map<std::string, Entry> entries_;
};

// The built-in operators (image.*, text.*, post.*, onnx once the executor exists).
const OperatorRegistry& builtin_operators();

}  // namespace conveyor
