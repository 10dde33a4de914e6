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

namespace {

std::string not_a_pipeline_file_message(const std::vector<std::string>& pipeline_files) {
  std::string message = "is a deployment file (several pipelines), not a pipeline file";
  if (pipeline_files.empty()) return message;
  message += "; the pipeline files it names: ";
  for (std::size_t i = 0; i < pipeline_files.size(); ++i) message += (i ? ", " : "") + pipeline_files[i];
  return message;
}

}  // namespace

NotAPipelineFileError::NotAPipelineFileError(std::string file, std::vector<std::string> pipeline_files)
    : ConfigError(std::move(file), 0, "", not_a_pipeline_file_message(pipeline_files)),
      pipeline_files_(std::move(pipeline_files)) {}

}  // namespace conveyor
