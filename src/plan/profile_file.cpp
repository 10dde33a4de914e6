#include "profile_file.hpp"

#include <cstdint>
#include <limits>
#include <stdexcept>

#include "printable_text.hpp"
#include "runtime/op_args_json.hpp"

namespace conveyor::plan {
namespace {

using nlohmann::json;

constexpr int kFormat = 1;

// A field that is missing or holds a bad value: "batches[0].time: must be ...".
class BadField : public std::runtime_error {
 public:
  BadField(const std::string& field, const std::string& message)
      : std::runtime_error(field + ": " + message) {}
};

// A value quoted in a message. Containers are described, not dumped: dumping recurses, and a corrupt file
// nested 100 000 deep would overflow the stack.
std::string shown(const json& value) {
  const std::string n = std::to_string(value.size());
  if (value.is_array()) return "a list of " + n + (value.size() == 1 ? " value" : " values");
  if (value.is_object()) return "an object with " + n + (value.size() == 1 ? " key" : " keys");
  return printable(value.dump(), 40);
}

const json& member(const json& object, const std::string& key, const std::string& field) {
  const auto it = object.find(key);
  if (it == object.end()) throw BadField(field, "missing");
  return *it;
}

std::string text(const json& object, const std::string& key) {
  const json& value = member(object, key, key);
  if (!value.is_string() || value.get_ref<const std::string&>().empty())
    throw BadField(key, "must be a non-empty string, got " + shown(value));
  return value.get<std::string>();
}

int64_t integer(const json& value, const std::string& field, int64_t minimum, int64_t maximum) {
  const bool fits = value.is_number_integer() &&
                    !(value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(maximum));
  if (!fits || value.get<int64_t>() < minimum || value.get<int64_t>() > maximum)
    throw BadField(field, "must be an integer " +
                              (maximum == std::numeric_limits<int64_t>::max()
                                   ? ">= " + std::to_string(minimum)
                                   : "from " + std::to_string(minimum) + " to " + std::to_string(maximum)) +
                              ", got " + shown(value));
  return value.get<int64_t>();
}

ProfileBatch read_batch(const json& batch, const std::string& field) {
  if (!batch.is_object())
    throw BadField(field, "must be an object with time and samples_ms, got " + shown(batch));
  ProfileBatch out;
  out.unix_time = integer(member(batch, "time", field + ".time"), field + ".time", 0,
                          std::numeric_limits<int64_t>::max());
  const json& samples = member(batch, "samples_ms", field + ".samples_ms");
  if (!samples.is_array() || samples.empty())
    throw BadField(field + ".samples_ms",
                   "must be a non-empty list of durations in ms, got " + shown(samples));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const double seconds = samples[i].is_number() ? samples[i].get<double>() * 1e-3 : -1;
    if (!(seconds >= 0 && seconds <= ServiceTime::kMaxSeconds))
      throw BadField(field + ".samples_ms[" + std::to_string(i) + "]",
                     "must be a duration in ms from 0 to " +
                         std::to_string(static_cast<int64_t>(ServiceTime::kMaxSeconds * 1e3)) + ", got " +
                         shown(samples[i]));
    out.samples.push_back(seconds);
  }
  return out;
}

ProfileEntry read_entry(const json& j, const std::string& file_key) {
  ProfileEntry e;
  e.key = text(j, "key");
  if (e.key != file_key)
    throw BadField("key", "'" + e.key + "' is not the file's name '" + file_key + ".json'");
  e.stage_hash = text(j, "stage_hash");
  if (j.contains("stage_name")) {  // informative only
    if (!j["stage_name"].is_string())
      throw BadField("stage_name", "must be a string, got " + shown(j["stage_name"]));
    e.stage_name = j["stage_name"].get<std::string>();
  }
  e.op = text(j, "op");
  const json& args = member(j, "args", "args");
  if (!args.is_object()) throw BadField("args", "must be an object, got " + shown(args));
  e.args = op_args_of(args);
  e.threads =
      static_cast<int>(integer(member(j, "threads", "threads"), "threads", 1, ProfileStore::kMaxThreads));
  e.cpu_model = text(j, "cpu_model");
  const json& batches = member(j, "batches", "batches");
  if (!batches.is_array() || batches.empty())
    throw BadField("batches", "must be a non-empty list of measurement runs, got " + shown(batches));
  bool any_time = false;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    e.batches.push_back(read_batch(batches[b], "batches[" + std::to_string(b) + "]"));
    for (double s : e.batches.back().samples) any_time = any_time || s > 0;
  }
  if (!any_time) throw BadField("batches", "every sample is 0 ms: no service time to plan with");
  return e;
}

}  // namespace

nlohmann::json profile_json(const ProfileEntry& e) {
  json batches = json::array();
  for (const auto& b : e.batches) {
    std::vector<double> ms;
    ms.reserve(b.samples.size());
    for (double s : b.samples) ms.push_back(s * 1e3);
    batches.push_back({{"time", b.unix_time}, {"samples_ms", ms}});
  }
  const ServiceTime t = e.service_time();
  return {{"format", kFormat},
          {"key", e.key},
          {"stage_hash", e.stage_hash},
          {"stage_name", e.stage_name},
          {"op", e.op},
          {"args", json_of(e.args)},
          {"threads", e.threads},
          {"cpu_model", e.cpu_model},
          {"count", e.count()},
          {"mean_ms", t.mean * 1e3},
          {"cv2", t.cv2},
          {"updated", e.updated()},
          {"batches", batches}};
}

ProfileEntry parse_profile(const std::string& text, const std::filesystem::path& file) {
  const auto unusable = [&](const std::string& state, const std::string& why) {
    return ProfileStoreError("profile file '" + file.string() + "' is " + state + ": " + why +
                             " (delete it to start that profile over)");
  };
  // A profile nests four levels; anything much deeper is corrupt, and would overflow the stack wherever a
  // value is later dumped or compared recursively.
  constexpr int kMaxDepth = 32;
  bool too_deep = false;
  const json::parser_callback_t depth_check = [&](int depth, json::parse_event_t, json&) {
    too_deep = too_deep || depth > kMaxDepth;
    return !too_deep;
  };
  json j;
  try {
    j = json::parse(text, depth_check);
  } catch (const json::parse_error& error) {
    const std::string what = error.what();  // "[json.exception.parse_error.101] parse error at line ..."
    throw unusable("corrupt", "not valid JSON: " + printable(what.substr(what.find(']') + 2), 200));
  }
  if (too_deep) throw unusable("corrupt", "values nested more than " + std::to_string(kMaxDepth) + " deep");
  if (!j.is_object()) throw unusable("corrupt", "it holds " + shown(j) + ", not a JSON object");
  if (!j.contains("format")) throw unusable("corrupt", "format: missing");
  if (j["format"] != kFormat)
    throw unusable("not usable", "format: " + shown(j["format"]) + " is not the format this version reads (" +
                                     std::to_string(kFormat) + ")");
  try {
    return read_entry(j, file.stem().string());
  } catch (const BadField& error) {
    throw unusable("corrupt", error.what());
  }
}

}  // namespace conveyor::plan
