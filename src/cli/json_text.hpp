#pragma once
// JSON text for output files and --json reports. Strings from users (file names, stage names, tokenised
// text) need not be valid UTF-8; nlohmann::json throws on those by default, so invalid bytes are written
// as U+FFFD instead and the rest of the report survives.
#include <nlohmann/json.hpp>
#include <string>

namespace conveyor::cli {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace conveyor::cli
