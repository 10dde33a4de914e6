#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "conveyor/api/runtime.hpp"
#include "serve/served_model.hpp"

namespace conveyor::serve {

struct ModelStatus {
  std::string name;
  std::string version;  // empty when not loaded
  std::string state;    // READY or UNAVAILABLE (KServe repository index)
  std::string reason;   // why not ready
  std::filesystem::path file;
};

// The models a server serves: pipeline files, and repository directories holding one pipeline file
// (*.yaml, *.yml) per model, each a model named by its `name:`. Loading a model whose file changed starts
// the new pipeline beside the old one; the new one takes over once started, and requests in flight on the
// old one finish there. Loading and unloading block until done: call them off the front ends' threads.
class ModelRepository {
 public:
  // `start` is how each pipeline starts (a plan: auto one plans the server's front end with its stages).
  ModelRepository(Runtime& runtime, std::vector<std::filesystem::path> sources, RequestLimits limits,
                  StartOptions start = {});
  ~ModelRepository();

  // Starts every model of every source. Throws ConfigError, ResourceError, ... for the first that fails.
  void load_all();
  // (Re)loads one model from its file, found again in the sources (a new file in a directory is found).
  // Throws ServeError: kNotFound when no source holds it, kBadRequest when its file does not start.
  void load(const std::string& name);
  // Stops serving a model once its requests in flight finish. Throws ServeError(kNotFound).
  void unload(const std::string& name);
  // SIGHUP: re-reads every source; starts new and changed models, stops those whose file is gone. Returns
  // one line per model it changed or could not load.
  std::vector<std::string> reload();

  std::shared_ptr<ServedModel> find(const std::string& name) const;  // null: not loaded
  std::vector<std::shared_ptr<ServedModel>> models() const;
  std::vector<ModelStatus> index() const;

 private:
  struct Entry {
    std::filesystem::path file;
    std::string text;  // the file as loaded: reload restarts a model only when it changed
    int loads = 0;     // the version: how many times it was started
    std::string reason;
    std::shared_ptr<ServedModel> model;
  };
  struct Found {
    std::filesystem::path file;
    std::string text;
    PipelineConfig config;
  };
  std::map<std::string, Found> scan() const;  // every model the sources hold now, by name
  std::shared_ptr<ServedModel> start(const Found& found, int version) const;

  Runtime& runtime_;
  std::vector<std::filesystem::path> sources_;
  RequestLimits limits_;
  StartOptions start_;
  std::mutex control_;  // one load, unload or reload at a time
  mutable std::mutex entries_mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace conveyor::serve
