#include "conveyor/config/pipeline_config.hpp"

namespace conveyor {
namespace {

// "file:line: key: message", leaving out the parts that are unknown.
std::string format_config_error(const std::string& file, int line, const std::string& key,
                                const std::string& message) {
  std::string text;
  text.append(file.empty() ? "<string>" : file);
  if (line > 0) text.append(":").append(std::to_string(line));
  text.append(": ");
  if (!key.empty()) text.append(key).append(": ");
  text.append(message);
  return text;
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string key, const std::string& message)
    : std::runtime_error(format_config_error(file, line, key, message)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)) {}

}  // namespace conveyor
