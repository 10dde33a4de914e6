#include "cli/pipeline_file.hpp"

#include <stdexcept>

namespace conveyor::cli {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// What `command` can do instead with a deployment file naming `pipelines`.
std::string deployment_hint(const std::string& command, const std::string& file,
                            const std::vector<std::string>& pipelines) {
  const std::string plan = "conveyor plan " + file;
  if (pipelines.empty()) return command + " takes one pipeline file; use '" + plan + "' for a deployment";
  if (command == "profile")
    return "profile takes one pipeline file: profile each of those it names (" + joined(pipelines) +
           "), then plan the deployment with '" + plan + "'";
  if (command == "simulate")
    return "simulate takes one pipeline file, e.g. one of those it names: " + joined(pipelines) + "; '" +
           plan + "' divides the cores among them and simulates each on its share";
  return command + " takes one pipeline file, e.g. one of those it names: " + joined(pipelines) +
         "; or use '" + plan + "' for a deployment";
}

}  // namespace

PipelineConfig load_pipeline_file(const Runtime& runtime, const std::string& file,
                                  const std::string& command) {
  try {
    return runtime.load(file);
  } catch (const NotAPipelineFileError& error) {
    throw std::invalid_argument("'" + file + "' is a deployment file (several pipelines); " +
                                deployment_hint(command, file, error.pipeline_files()));
  }
}

}  // namespace conveyor::cli
