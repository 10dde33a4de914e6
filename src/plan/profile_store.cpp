#include "conveyor/plan/profile_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "profile_file.hpp"

namespace conveyor::plan {
namespace fs = std::filesystem;
namespace {

struct Fnv1a {
  uint64_t hash = 1469598103934665603ull;
  void add(const void* data, std::size_t n) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  }
  void add(const std::string& s) {
    add(s.data(), s.size());
    add("\0", 1);  // separator: ("ab","c") and ("a","bc") differ
  }
  std::string hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(15 - i)] = digits[(hash >> (4 * i)) & 0xf];
    return out;
  }
};

std::string file_content_hash(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ProfileStoreError("cannot read '" + file.string() + "' to identify the stage");
  Fnv1a h;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0)
    h.add(buffer, static_cast<std::size_t>(in.gcount()));
  return h.hex();
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ProfileStoreError("cannot read profile file '" + file.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Write to a temporary file and rename, so a reader never sees half a file.
void write_atomically(const fs::path& file, const std::string& text) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) throw ProfileStoreError("cannot create '" + file.parent_path().string() + "': " + ec.message());
  const fs::path tmp = file.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!(out << text)) throw ProfileStoreError("cannot write profile file '" + tmp.string() + "'");
  }
  fs::rename(tmp, file, ec);
  if (ec) throw ProfileStoreError("cannot replace '" + file.string() + "': " + ec.message());
}

ProfileEntry read_profile_file(const fs::path& file) {
  return parse_profile(read_text(file), file);
}

// A stage's key from its stage hash: the hash and the thread count, hashed.
std::string key_of(const std::string& stage_hash, int threads) {
  if (threads < 1 || threads > ProfileStore::kMaxThreads)
    throw std::invalid_argument("stage key: threads must be from 1 to " +
                                std::to_string(ProfileStore::kMaxThreads));
  Fnv1a h;
  h.add(stage_hash);
  h.add(std::to_string(threads));
  return h.hex();
}

// A pipeline's name as a file name. Names that are already safe and short map to themselves (the files of
// earlier runs stay found); any other gets a hash of the exact name, so "a/b" and "a_b" do not share a
// file and a 5000-character name does not exceed the file system's limit.
std::string safe_file_name(const std::string& name) {
  constexpr std::size_t kMaxLength = 100;
  std::string out;
  for (char c : name)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (out.empty() || out[0] == '.') out = "_" + out;
  if (out == name && out.size() <= kMaxLength) return out;
  Fnv1a h;
  h.add(name);
  return out.substr(0, kMaxLength) + "-" + h.hex();
}

// Oldest batches go first; a single oversized batch keeps an even stride of its samples.
void trim(ProfileEntry& e) {
  auto total = [&] {
    std::size_t n = 0;
    for (const auto& b : e.batches) n += b.samples.size();
    return n;
  };
  while (e.batches.size() > 1 && total() > ProfileStore::kMaxSamplesPerEntry)
    e.batches.erase(e.batches.begin());
  if (!e.batches.empty() && e.batches.front().samples.size() > ProfileStore::kMaxSamplesPerEntry) {
    auto& s = e.batches.front().samples;
    std::vector<double> kept;
    const double stride = static_cast<double>(s.size()) / ProfileStore::kMaxSamplesPerEntry;
    for (std::size_t i = 0; i < ProfileStore::kMaxSamplesPerEntry; ++i)
      kept.push_back(s[static_cast<std::size_t>(static_cast<double>(i) * stride)]);
    s = std::move(kept);
  }
}

}  // namespace

const std::vector<std::string>& file_argument_keys() {
  static const std::vector<std::string> keys{"path", "model", "vocab", "labels"};
  return keys;
}

std::string stage_hash(const StageIdentity& identity, const std::string& cpu_model) {
  Fnv1a h;
  h.add(identity.op);
  // Canonical (keys sorted) and the text stored profiles were keyed with: it must never change.
  h.add(identity.args.to_json());
  for (const auto& key : file_argument_keys()) {
    if (!identity.args.has(key) || !identity.args.at(key).is_string()) continue;
    const fs::path file = resolve_arg_file(identity.args.at(key).as_string(), identity.base_dir);
    h.add(key);
    h.add(file_content_hash(file));
  }
  h.add(cpu_model);
  return h.hex();
}

StageIdentity batch_identity(const StageIdentity& identity, int batch) {
  if (batch < 2) throw std::invalid_argument("batch_identity: batch must be >= 2, got " + std::to_string(batch));
  StageIdentity batched = identity;
  batched.args = OpArgs(identity.args).set(kBatchArgument, int64_t{batch});
  return batched;
}

std::string stage_key(const StageIdentity& identity, int threads, const std::string& cpu_model) {
  return key_of(stage_hash(identity, cpu_model), threads);
}

uint64_t ProfileEntry::count() const {
  uint64_t n = 0;
  for (const auto& b : batches) n += b.samples.size();
  return n;
}

double ProfileEntry::mean() const {
  return count() ? service_time().mean : 0;
}

int64_t ProfileEntry::updated() const {
  return batches.empty() ? 0 : batches.back().unix_time;
}

ServiceTime ProfileEntry::service_time() const {
  std::vector<double> all;
  for (const auto& b : batches) all.insert(all.end(), b.samples.begin(), b.samples.end());
  if (all.empty()) throw ProfileStoreError("profile '" + key + "' (" + op + ") holds no samples");
  return ServiceTime::from_samples(std::move(all));
}

ProfileStore::ProfileStore(fs::path dir) : dir_(std::move(dir)) {}

fs::path ProfileStore::default_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return fs::path(xdg) / "conveyor" / "profiles";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "conveyor" / "profiles";
  return fs::path("/tmp/conveyor/profiles");
}

int64_t ProfileStore::now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

fs::path ProfileStore::entry_path(const std::string& key) const {
  return dir_ / (key + ".json");
}

fs::path ProfileStore::arrivals_path(const std::string& pipeline_name) const {
  return dir_ / "arrivals" / (safe_file_name(pipeline_name) + ".jsonl");
}

ProfileEntry ProfileStore::record(const StageIdentity& identity, const std::string& stage_name, int threads,
                                  const std::vector<double>& samples, const std::string& cpu_model,
                                  int64_t unix_time) {
  if (samples.empty())
    throw std::invalid_argument("profile of stage '" + stage_name + "': no samples to record");
  if (unix_time < 0) throw std::invalid_argument("profile of stage '" + stage_name + "': a time before 1970");
  ServiceTime::from_samples(samples);  // validates
  const std::string key = stage_key(identity, threads, cpu_model);
  ProfileEntry e;
  if (auto existing = lookup(identity, threads, cpu_model)) {
    e = std::move(*existing);
  } else {
    e.key = key;
    e.stage_hash = stage_hash(identity, cpu_model);
    e.op = identity.op;
    e.args = identity.args;
    e.threads = threads;
    e.cpu_model = cpu_model;
  }
  e.stage_name = stage_name;
  e.batches.push_back({unix_time, samples});
  trim(e);
  if (!(e.mean() > 0))  // the file would not be read back: nothing to plan with
    throw std::invalid_argument("profile of stage '" + stage_name + "': every sample is 0 s");
  write_atomically(entry_path(key),
                   profile_json(e).dump(1, ' ', false, nlohmann::json::error_handler_t::replace));
  return e;
}

std::optional<ProfileEntry> ProfileStore::lookup(const StageIdentity& identity, int threads,
                                                 const std::string& cpu_model) const {
  return read_if_same(stage_key(identity, threads, cpu_model), identity, threads, cpu_model);
}

std::optional<ProfileEntry> ProfileStore::read_if_same(const std::string& key, const StageIdentity& identity,
                                                       int threads, const std::string& cpu_model) const {
  const fs::path file = entry_path(key);
  if (!fs::exists(file)) return std::nullopt;
  ProfileEntry e = read_profile_file(file);
  // A hash collision must not mix in another CPU's (or stage's) timings.
  if (e.cpu_model != cpu_model || e.op != identity.op || e.threads != threads) return std::nullopt;
  return e;
}

// The stage's files are those named by its keys at each thread count: only those are read, so a corrupt
// profile of another stage does not get in the way.
std::vector<ProfileEntry> ProfileStore::lookup_all_threads(const StageIdentity& identity,
                                                           const std::string& cpu_model) const {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(dir_, ec)) names.insert(item.path().filename().string());
  const std::string hash = stage_hash(identity, cpu_model);
  std::vector<ProfileEntry> found;
  for (int threads = 1; threads <= kMaxThreads; ++threads) {
    const std::string key = key_of(hash, threads);
    if (!names.count(key + ".json")) continue;
    if (auto e = read_if_same(key, identity, threads, cpu_model)) found.push_back(std::move(*e));
  }
  return found;
}

std::vector<ProfileEntry> ProfileStore::entries(std::vector<std::string>* unreadable) const {
  std::vector<ProfileEntry> all;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return all;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    if (!item.is_regular_file() || item.path().extension() != ".json") continue;
    try {
      all.push_back(read_profile_file(item.path()));
    } catch (const ProfileStoreError& error) {
      if (unreadable) unreadable->push_back(error.what());
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::tie(a.cpu_model, a.op, a.stage_name, a.stage_hash, a.threads) <
           std::tie(b.cpu_model, b.op, b.stage_name, b.stage_hash, b.threads);
  });
  return all;
}

std::size_t ProfileStore::age_out(std::chrono::seconds max_age, int64_t now,
                                  std::vector<std::string>* unreadable) {
  const int64_t oldest = now - max_age.count();
  std::size_t dropped = 0;
  for (auto& e : entries(unreadable)) {
    const std::size_t before = e.batches.size();
    std::erase_if(e.batches, [&](const ProfileBatch& b) { return b.unix_time < oldest; });
    dropped += before - e.batches.size();
    if (e.batches.empty())
      fs::remove(entry_path(e.key));
    else if (e.batches.size() != before)
      write_atomically(entry_path(e.key),
                       profile_json(e).dump(1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  std::error_code ec;
  if (fs::is_directory(dir_ / "arrivals", ec))
    for (const auto& item : fs::directory_iterator(dir_ / "arrivals", ec)) {
      if (item.path().extension() != ".jsonl") continue;
      std::istringstream in(read_text(item.path()));
      std::string line, kept;
      for (std::string l; std::getline(in, l);) {
        if (l.empty()) continue;
        nlohmann::json j = nlohmann::json::parse(l, nullptr, false);
        if (j.is_discarded() || !j.contains("t")) continue;
        std::vector<double> t = j["t"].get<std::vector<double>>();
        std::erase_if(t, [&](double s) { return s < static_cast<double>(oldest); });
        if (!t.empty()) kept += nlohmann::json{{"t", t}}.dump() + "\n";
      }
      if (kept.empty())
        fs::remove(item.path());
      else
        write_atomically(item.path(), kept);
    }
  return dropped;
}

void ProfileStore::record_arrivals(const std::string& pipeline_name,
                                   const std::vector<double>& unix_seconds) {
  if (unix_seconds.empty()) return;
  const fs::path file = arrivals_path(pipeline_name);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) throw ProfileStoreError("cannot create '" + file.parent_path().string() + "': " + ec.message());
  std::ofstream out(file, std::ios::app);
  if (!(out << nlohmann::json{{"t", unix_seconds}}.dump() << '\n'))
    throw ProfileStoreError("cannot append to '" + file.string() + "'");
}

std::vector<double> ProfileStore::arrivals(const std::string& pipeline_name) const {
  const fs::path file = arrivals_path(pipeline_name);
  if (!fs::exists(file)) return {};
  std::istringstream in(read_text(file));
  std::vector<double> all;
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.empty()) continue;
    try {
      for (double t : nlohmann::json::parse(line).at("t").get<std::vector<double>>()) all.push_back(t);
    } catch (const std::exception& e) {
      throw ProfileStoreError("arrival history '" + file.string() + "' line " + std::to_string(line_number) +
                              " is corrupt: " + e.what());
    }
  }
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace conveyor::plan
