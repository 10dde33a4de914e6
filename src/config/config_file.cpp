#include "config/config_file.hpp"

#include <yaml-cpp/depthguard.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "config/yaml_value.hpp"
#include "conveyor/config/pipeline_config.hpp"

namespace conveyor::config_detail {

std::string read_config_file(const std::filesystem::path& file, const std::string& kind) {
  std::error_code error;
  if (!std::filesystem::exists(file, error)) throw ConfigError(file.string(), 0, "", kind + " not found");
  if (std::filesystem::is_directory(file, error))
    throw ConfigError(file.string(), 0, "", "is a directory, not a " + kind);
  if (!std::filesystem::is_regular_file(file, error))
    throw ConfigError(file.string(), 0, "", "is not a regular file (a device?), not a " + kind);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string(), 0, "", "cannot open the " + kind);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(file.string(), 0, "", "cannot read the " + kind);
  return text.str();
}

YAML::Node load_config_mapping(const std::string& text, const std::string& file, const std::string& kind,
                               const std::string& expected) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::DeepRecursion& error) {  // its message reads "bad file"
    throw ConfigError(file, error.mark.line < 0 ? 0 : error.mark.line + 1, "",
                      "invalid YAML: nested more than " + std::to_string(error.depth() - 1) + " levels deep");
  } catch (const YAML::Exception& error) {
    const int line = error.mark.is_null() || error.mark.line < 0 ? 0 : error.mark.line + 1;
    throw ConfigError(file, line, "", "invalid YAML: " + error.msg);
  }
  if (documents.empty() || documents[0].IsNull())
    throw ConfigError(file, 0, "", "the file is empty; expected " + expected);
  if (documents.size() > 1)
    throw ConfigError(file, line_of(documents[1]), "",
                      "holds more than one YAML document ('---'); a " + kind + " holds one");
  if (!documents[0].IsMap())
    throw ConfigError(file, line_of(documents[0]), "",
                      "expected " + expected + ", got " + describe_node(documents[0]));
  return documents[0];
}

ConfigOrigin config_origin(const std::filesystem::path& origin, const std::string& fallback_name) {
  ConfigOrigin o;
  o.path = origin.empty() ? std::filesystem::path("<string>") : origin;
  o.file = o.path.string();
  o.base_dir =
      std::filesystem::absolute(origin.has_parent_path() ? origin.parent_path() : std::filesystem::current_path());
  o.default_name = origin.empty() ? fallback_name : origin.stem().string();
  return o;
}

}  // namespace conveyor::config_detail
