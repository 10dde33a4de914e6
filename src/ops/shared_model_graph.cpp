#include "conveyor/ops/shared_model_graph.hpp"

#include <atomic>
#include <mutex>
#include <tuple>

#include "conveyor/graph/onnx_import.hpp"

namespace conveyor::ops {
namespace {

namespace fs = std::filesystem;

struct ModelKey {
  std::string path;  // absolute, normalised
  std::uintmax_t size = 0;
  fs::file_time_type modified;
  std::map<std::string, int64_t> dims;

  bool operator<(const ModelKey& other) const {
    return std::tie(path, size, modified, dims) <
           std::tie(other.path, other.size, other.modified, other.dims);
  }
};

// One model's import: its own lock, so importing one model does not hold up callers of another.
struct Slot {
  std::mutex mutex;
  std::weak_ptr<const Graph> graph;
};

std::mutex cache_mutex;
std::map<ModelKey, std::shared_ptr<Slot>> cache;
std::atomic<std::size_t> imports{0};

ModelKey key_of(const fs::path& path, const std::map<std::string, int64_t>& dims) {
  std::error_code error;
  ModelKey key;
  key.path = fs::weakly_canonical(fs::absolute(path, error), error).string();
  if (error) key.path = fs::absolute(path).lexically_normal().string();
  key.size = fs::file_size(path, error);
  if (!error) key.modified = fs::last_write_time(path, error);
  if (error) throw GraphError("cannot read '" + path.string() + "': " + error.message());
  key.dims = dims;
  return key;
}

std::shared_ptr<Slot> slot_for(const ModelKey& key) {
  std::lock_guard lock(cache_mutex);
  for (auto it = cache.begin(); it != cache.end();)  // forget imports nobody holds or waits for
    it = it->second.use_count() == 1 && it->second->graph.expired() ? cache.erase(it) : std::next(it);
  std::shared_ptr<Slot>& slot = cache[key];
  if (!slot) slot = std::make_shared<Slot>();
  return slot;
}

}  // namespace

std::shared_ptr<const Graph> shared_model_graph(const fs::path& path,
                                                const std::map<std::string, int64_t>& dims) {
  const std::shared_ptr<Slot> slot = slot_for(key_of(path, dims));
  std::lock_guard lock(slot->mutex);
  if (std::shared_ptr<const Graph> graph = slot->graph.lock()) return graph;
  ImportOptions options;
  options.dims = dims;
  auto graph = std::make_shared<const Graph>(load_onnx(path.string(), options));
  imports.fetch_add(1);
  slot->graph = graph;
  return graph;
}

std::size_t model_graph_imports() {
  return imports.load();
}

}  // namespace conveyor::ops
