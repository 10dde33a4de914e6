#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "conveyor/plan/service_time.hpp"
#include "conveyor/runtime/op_args.hpp"

namespace conveyor::plan {

// A profile file that cannot be read or written: names the file and why.
class ProfileStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What makes a stage's timings comparable: the operator and its arguments, with the content of any file
// the arguments name (a model, a vocabulary), resolved against the pipeline file's directory.
struct StageIdentity {
  std::string op;
  OpArgs args;
  std::filesystem::path base_dir;
};

// The identity under which a batching stage's runs of `batch` requests at once are profiled (batch >= 2):
// the stage's, with "(batch)": batch among its arguments (no operator takes that key), so that each batch
// size has its own entries at each thread count; their samples are the time of one whole batch run.
StageIdentity batch_identity(const StageIdentity& identity, int batch);
inline constexpr const char* kBatchArgument = "(batch)";

// Argument keys whose value is a file whose content is part of a stage's identity.
const std::vector<std::string>& file_argument_keys();

// Stable hex hashes (FNV-1a 64). The stage hash covers identity + CPU model; the key adds the thread count
// (1..ProfileStore::kMaxThreads, else std::invalid_argument).
std::string stage_hash(const StageIdentity& identity, const std::string& cpu_model);
std::string stage_key(const StageIdentity& identity, int threads, const std::string& cpu_model);

// One measurement run: when, and the per-item service times it saw.
struct ProfileBatch {
  int64_t unix_time = 0;
  std::vector<double> samples;  // seconds
};

// Everything stored for one stage key: the stage's service-time history on one CPU model, one thread count.
struct ProfileEntry {
  std::string key;
  std::string stage_hash;
  std::string stage_name;  // as last recorded (informative only: identity is op + args)
  std::string op;
  OpArgs args;
  int threads = 1;
  std::string cpu_model;
  std::vector<ProfileBatch> batches;  // oldest first

  uint64_t count() const;
  double mean() const;
  int64_t updated() const;           // newest batch time
  ServiceTime service_time() const;  // over every kept sample
};

// On-disk history: one JSON file per stage key under `dir`, plus each pipeline's request-arrival times
// under `dir/arrivals/`. Entries never mix CPU models: the model is part of the key and checked on read.
// A file that cannot be read (corrupt, or from another format) is an error (ProfileStoreError naming the
// file and the field) only for the stage it belongs to: lookups for other stages never read it.
class ProfileStore {
 public:
  static constexpr std::size_t kMaxSamplesPerEntry = 4096;  // older batches are dropped beyond this
  static constexpr int kMaxThreads = 4096;                  // the most cores the planner handles

  explicit ProfileStore(std::filesystem::path dir = default_dir());
  // $XDG_CACHE_HOME/conveyor/profiles, else ~/.cache/conveyor/profiles, else /tmp/conveyor/profiles.
  static std::filesystem::path default_dir();
  const std::filesystem::path& dir() const { return dir_; }

  // Appends a batch of service times (seconds) for the stage at `threads` on `cpu_model`. Throws
  // std::invalid_argument for samples ServiceTime::from_samples rejects (or all 0), ProfileStoreError when
  // the stage's file cannot be read or written.
  ProfileEntry record(const StageIdentity& identity, const std::string& stage_name, int threads,
                      const std::vector<double>& samples, const std::string& cpu_model,
                      int64_t unix_time = now_unix());
  std::optional<ProfileEntry> lookup(const StageIdentity& identity, int threads,
                                     const std::string& cpu_model) const;
  // Every thread count profiled for the stage on `cpu_model`, ascending.
  std::vector<ProfileEntry> lookup_all_threads(const StageIdentity& identity,
                                               const std::string& cpu_model) const;
  // All CPU models, sorted by op, then threads. Files that cannot be read are left out, and their errors
  // appended to `unreadable` when it is given.
  std::vector<ProfileEntry> entries(std::vector<std::string>* unreadable = nullptr) const;

  // Drops batches (and arrival records) older than max_age; deletes entries left empty; leaves files that
  // cannot be read as they are (their errors go to `unreadable`). Returns how many batches were dropped.
  std::size_t age_out(std::chrono::seconds max_age, int64_t now = now_unix(),
                      std::vector<std::string>* unreadable = nullptr);

  // Request-arrival history of a pipeline: unix times in seconds, appended.
  void record_arrivals(const std::string& pipeline_name, const std::vector<double>& unix_seconds);
  std::vector<double> arrivals(const std::string& pipeline_name) const;  // sorted

  static int64_t now_unix();

 private:
  std::filesystem::path entry_path(const std::string& key) const;
  std::optional<ProfileEntry> read_if_same(const std::string& key, const StageIdentity& identity, int threads,
                                           const std::string& cpu_model) const;
  std::filesystem::path arrivals_path(const std::string& pipeline_name) const;
  std::filesystem::path dir_;
};

}  // namespace conveyor::plan
