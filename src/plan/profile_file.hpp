#pragma once
// One stage's profile file, <store>/<key>.json: a ProfileEntry as JSON, and the strict reading of it.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "conveyor/plan/profile_store.hpp"

namespace conveyor::plan {

nlohmann::json profile_json(const ProfileEntry& entry);

// The entry that `text`, read from `file`, holds. Every field is checked (type, range, the key matching
// the file's name, each sample a duration ServiceTime takes); the summary fields written for people
// (count, mean_ms, cv2, updated) are not read. Throws ProfileStoreError naming the file and the field:
// "profile file '<file>' is corrupt: batches[0].samples_ms[3]: must be ... (delete it to ...)".
ProfileEntry parse_profile(const std::string& text, const std::filesystem::path& file);

}  // namespace conveyor::plan
